"""Tests of __TASK_NAME__'s metric: run them with `pytest bundles/__TASK_NAME__/tests`.

The kit's tests/test_task_tests.py runs every bundles/*/tests/ folder, so these run with
the repository's test suite too. The file name carries the task's name: pytest needs the
test files of different tasks to have different names.

TODO(organiser): when you write your metric in scoring_program/metric.py, replace the
golden values below by values you computed by hand (or with the benchmark's own tool),
replace reference_metric by an independent implementation of yours, and add the edge
cases of your metric (ties, empty groups, constant predictions...).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

TASK_DIR = Path(__file__).resolve().parents[1]


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_test_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


metric = load(TASK_DIR / "scoring_program" / "metric.py")
fusion_io = load(TASK_DIR / "ingestion_program" / "fusion_io.py")


def test_golden_values():
    # |0 - 0.5| + |1 - 1| + |2 - 1| = 1.5 over 3 items: MAE 0.5, score 1 / 1.5.
    scores = metric.task_metric(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 1.0]))
    assert scores["mae"] == pytest.approx(0.5)
    assert scores["score"] == pytest.approx(1 / 1.5)


def reference_metric(y_true: list[float], y_pred: list[float]) -> dict[str, float]:
    """The metric written again from its definition, as plainly as possible: a loop, no numpy.

    TODO(organiser): the project's standard is that every metric is cross-checked against
    an independent implementation: the benchmark's own tool when there is one (see the
    fusion tasks' tests against trec_eval), else a naive version like this one, written
    from the definition and not copied from metric.py.
    """
    total = 0.0
    for truth, predicted in zip(y_true, y_pred):
        total += abs(truth - predicted)
    mae = total / len(y_true)
    return {"score": 1.0 / (1.0 + mae), "mae": mae}


def test_metric_agrees_with_an_independent_implementation():
    rng = np.random.default_rng(2)
    for case in range(300):
        n = int(rng.integers(1, 60))
        truth = rng.normal(size=n) * 10 ** rng.uniform(-3, 3)
        predicted = truth + rng.normal(size=n) * rng.choice([0.0, 0.01, 1.0, 100.0])
        if case % 10 == 0:
            predicted = np.round(predicted, 1)  # ties and exact hits
        expected = reference_metric(truth.tolist(), predicted.tolist())
        scores = metric.task_metric(truth, predicted)
        assert set(scores) == set(expected), case
        for key, value in expected.items():
            assert scores[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (case, key)


def test_every_declared_metric_is_returned():
    """The leaderboard's columns are TASK.metrics (task.py), the primary first: the metric returns exactly those."""
    declared = [declared_metric.key for declared_metric in load(TASK_DIR / "task.py").TASK.metrics]
    assert set(metric.task_metric(np.zeros(3), np.ones(3))) == set(declared)
    assert metric.PRIMARY == declared[0]


def test_primary_is_positive_and_prefers_better_predictions():
    rng = np.random.default_rng(0)
    truth = rng.random(200)
    close, far = truth + 0.01 * rng.standard_normal(200), truth + 0.5 * rng.standard_normal(200)
    perfect, good, bad = (metric.task_metric(truth, p)[metric.PRIMARY] for p in (truth, close, far))
    assert perfect >= good > bad > 0


def test_fusion_io_computes_the_same_primary_metric():
    import pandas as pd

    rng = np.random.default_rng(1)
    index = pd.Index([f"item_{i}" for i in range(50)], name="item_id")
    y = pd.Series(rng.random(50), index=index)
    prediction = pd.Series(rng.random(50), index=index)
    expected = metric.task_metric(y.to_numpy(), prediction.to_numpy())[metric.PRIMARY]
    assert fusion_io.primary_metric(prediction, y) == pytest.approx(expected, rel=1e-12)
