"""bundlekit inducers: scores, correlations, pairs and oracle bounds against independent computations."""

from __future__ import annotations

import itertools
import json
import math
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bundlekit import inducers
from bundlekit import BUNDLES_DIR
from bundlekit.build import load_module, module_name
from bundlekit.cli import main

sys.path.insert(0, str(Path(__file__).parent))
import per_item_shim  # noqa: E402


@pytest.fixture
def shim(monkeypatch):
    per_item_shim.install(monkeypatch)


def generated(task: str, root: Path) -> Path:
    hooks = load_module(BUNDLES_DIR / task / "task.py", module_name(task, "task"))
    hooks.generate_data(root, progress=lambda message: None)
    return root


def direct_scores(task: str, data: Path, split: str) -> dict[str, dict[str, float]]:
    """Each inducer scored by the scoring program's evaluate() directly (no per-item file involved)."""
    code = inducers.resolve_task(Path(task), task)
    X = code.fusion_io.load_inducers(data / split / "input_data")
    scores = {}
    for name, prediction in code.hooks.inducer_predictions(X):
        run = data / f"{split}-{name}-{code.fusion_io.RUN_FILE_NAME}"
        code.fusion_io.write_run(prediction, X, run)
        scores[name] = code.scoring.evaluate(data / split / "reference_data", run).scores
    return scores


@pytest.fixture(scope="module")
def int_data(tmp_path_factory):
    return generated("fusion-int", tmp_path_factory.mktemp("int"))


def test_ranking_task_every_number(int_data, shim):
    code = inducers.resolve_task(int_data, "fusion-int")
    _, splits = inducers.open_splits(int_data, int_data)
    result = inducers.analyse_split(code, splits["test"], resamples=100, seed=1)
    expected = direct_scores("fusion-int", int_data, "test")
    rows = {row["inducer"]: row for row in result["inducers"]}
    assert set(rows) == set(expected)
    for name, scores in expected.items():
        for key, value in scores.items():
            assert rows[name]["scores"][key] == pytest.approx(value, abs=1e-9)
    best = max(expected, key=lambda name: (expected[name]["map_at_10"], -list(expected).index(name)))
    assert result["inducers"][0]["inducer"] == best == result["standard_error"]["best_inducer"]

    # Per-item AP@10 of every inducer, recomputed by the shim, for the independent checks.
    per_item = {}
    X = code.fusion_io.load_inducers(int_data / "test" / "input_data")
    for name, prediction in code.hooks.inducer_predictions(X):
        run = int_data / "check-run.csv"
        code.fusion_io.write_run(prediction, X, run)
        per_item[name] = per_item_shim.per_item("fusion-int", int_data / "test" / "reference_data", run)[1]["map_at_10"]
    n = len(per_item[best])
    assert result["n_items"] == n
    assert rows[best]["se_primary"] == pytest.approx(statistics.stdev(per_item[best]) / math.sqrt(n))
    names = result["correlation"]["names"]
    i, j = names.index(best), names.index(names[-1])
    assert result["correlation"]["matrix"][i][j] == pytest.approx(
        scipy_stats.spearmanr(per_item[best], per_item[names[-1]]).statistic)
    oracle = statistics.fmean(max(per_item[name][k] for name in per_item) for k in range(n))
    assert result["oracles"][0][result["primary_metric"]] == pytest.approx(oracle)
    top = result["pairs"][0]
    pair = statistics.fmean(max(a, b) for a, b in zip(per_item[top["a"]], per_item[top["b"]]))
    assert top["pair_oracle"] == pytest.approx(pair)
    assert top["oracle_gain"] == pytest.approx(pair - max(statistics.fmean(per_item[top["a"]]),
                                                          statistics.fmean(per_item[top["b"]])))
    assert all(p["pair_oracle"] <= top["pair_oracle"] for p in result["pairs"])
    raw = [scipy_stats.spearmanr(X[a], X[b]).statistic for k, a in enumerate(names) for b in names[k + 1:]]
    assert result["output_correlation"]["median"] == pytest.approx(statistics.median(raw))
    assert result["output_correlation"]["max"] == pytest.approx(max(raw))


def test_correlation_task_uses_predictions(tmp_path, shim):
    data = generated("fusion-mem", tmp_path / "mem")
    code = inducers.resolve_task(data, "fusion-mem")
    _, splits = inducers.open_splits(data, tmp_path)
    result = inducers.analyse_split(code, splits["dev"], resamples=200, seed=3)
    assert result["kind"] == "correlation" and result["primary_metric"] == "spearman"
    X = code.fusion_io.load_inducers(data / "dev" / "input_data")
    a, b = result["correlation"]["names"][:2]
    assert result["correlation"]["matrix"][0][1] == pytest.approx(scipy_stats.spearmanr(X[a], X[b]).statistic)
    expected = direct_scores("fusion-mem", data, "dev")
    assert result["inducers"][0]["scores"]["spearman"] == pytest.approx(expected[a]["spearman"])
    assert 0 < result["inducers"][0]["se_primary"] < 0.2
    assert result["oracles"] == []  # no per-item oracle for a correlation


def test_cli_writes_every_format_and_refuses_a_missing_reference(int_data, tmp_path, shim, capsys):
    out = tmp_path / "out"
    assert main(["inducers", str(int_data), "--task", "fusion-int", "--out", str(out), "--resamples", "50"]) == 0
    data = json.loads((out / "inducers.json").read_text())
    assert [s["split"] for s in data["splits"]] == ["dev", "test"]  # the organisers' data has the test reference
    assert {p.suffix for p in out.iterdir()} == {".md", ".tex", ".html", ".json", ".csv"}
    assert (out / "inducers.html").read_text().count("data:image/svg+xml;base64,") == 4
    public = tmp_path / "public"
    (public / "dev").mkdir(parents=True)
    (public / "test").mkdir()
    for path in (int_data / "dev").rglob("*.csv"):
        (public / "dev" / path.name).write_bytes(path.read_bytes())
    (public / "test" / "inducers.csv").write_bytes((int_data / "test" / "input_data" / "inducers.csv").read_bytes())
    assert main(["inducers", str(public), "--task", "fusion-int", "--split", "test", "--out", str(out)]) == 1
    assert "split test" in capsys.readouterr().err
    assert main(["inducers", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    assert "no task source" in capsys.readouterr().err


def first_inducers(code: inducers.TaskCode, monkeypatch, count: int = 3) -> None:
    """Score only the first inducers (the oracles use all of them anyway): a faster test."""
    every = code.hooks.inducer_predictions
    monkeypatch.setattr(code.hooks, "inducer_predictions", lambda X: itertools.islice(every(X), count))


def analysed_test_split(task: str, dest: Path, monkeypatch) -> tuple[dict, object, object]:
    """The analysis of the test split of a task's generated data (its first inducers), and that split's X and truth."""
    data = generated(task, dest)
    code = inducers.resolve_task(data, task)
    first_inducers(code, monkeypatch)
    _, splits = inducers.open_splits(data, dest.parent)
    result = inducers.analyse_split(code, splits["test"], resamples=10, seed=1)
    X = code.fusion_io.load_inducers(data / "test" / "input_data")
    truth = code.fusion_io.load_truth(data / "test" / "reference_data")
    return result, X, truth


@pytest.mark.slow
def test_caption_oracle_is_the_union_of_the_inducers_within_the_truth(tmp_path, shim, monkeypatch):
    result, X, truth = analysed_test_split("fusion-cap", tmp_path / "cap", monkeypatch)
    found = set(zip(X["image_id"], X["concept"]))
    sets: dict[str, set] = {}
    for image, concept in zip(truth["image_id"], truth["concept"]):
        sets.setdefault(image, set()).add(concept)
    f1 = [2 * len({c for c in g if (image, c) in found}) / (len({c for c in g if (image, c) in found}) + len(g))
          for image, g in sets.items() if g]
    union = next(o for o in result["oracles"] if o["oracle"].startswith("union"))
    assert union["f1"] == pytest.approx(statistics.fmean(f1))
    assert union["f1"] > result["oracles"][0]["f1"] > result["inducers"][0]["scores"]["f1"]


@pytest.mark.slow
def test_diversity_oracle_is_perfect_relevance(tmp_path, shim, monkeypatch):
    result, X, truth = analysed_test_split("fusion-div", tmp_path / "div", monkeypatch)
    # Independent: per query, the relevant photos of the pool by mean reciprocal rank, the top 20 of them.
    rr: dict[tuple[str, str], list[float]] = {}
    for query, photo, rank in zip(X["query_id"], X["photo_id"], X["rank"]):
        rr.setdefault((query, photo), []).append(1.0 / (rank + 1))
    cluster = {(q, p): c for q, p, r, c in zip(truth["query_id"], truth["photo_id"], truth["rel"], truth["cluster_id"])
               if r == 1}
    f1s = []
    for query in X.attrs["queries"]:
        pool = sorted(((statistics.fmean(v), p) for (q, p), v in rr.items() if q == query and (q, p) in cluster),
                      key=lambda item: (-item[0], item[1]))[:20]
        precision = len(pool) / 20
        n_clusters = len({c for (q, _), c in cluster.items() if q == query})
        recall = len({cluster[(query, p)] for _, p in pool}) / n_clusters if n_clusters else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    perfect = next(o for o in result["oracles"] if o["oracle"].startswith("perfect relevance"))
    assert perfect["f1_at_20"] == pytest.approx(statistics.fmean(f1s))
    assert np.isfinite(result["correlation"]["median"])
