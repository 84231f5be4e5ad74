"""Checks of a built bundle's scoring output (docs/scoring-output.md), shared by the task and template tests.

A built bundle's scoring program scores the best-inducer results of each split as the
platform runs it; then ``per_item_scores.csv`` must hold one row per item with the
documented columns, and the detailed results of the hidden split no per-item figure.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from scipy import stats

from scoring_common.seal import reference_key, unseal

#: Columns of the correlation tasks, from which the scores are recomputed.
CORRELATION_COLUMNS = ["prediction", "truth"]


def score_split(bundle_dir: Path, split: str, work: Path, solution: str = "best-inducer") -> tuple[Path, dict]:
    """Score ``solution``'s results on ``split`` with the bundle's own scoring program; return the output folder."""
    for name, target in ((f"{split}_reference_data.zip", work / "input" / "ref"),
                         (f"solutions/{solution}-results-{split}.zip", work / "input" / "res"),
                         ("scoring_program.zip", work / "program")):
        with zipfile.ZipFile(bundle_dir / name) as archive:
            archive.extractall(target)
    output = work / "output"
    completed = subprocess.run([sys.executable, str(work / "program" / "score.py"), str(work / "input"), str(output)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return output, json.loads((output / "scores.json").read_text(encoding="utf-8"))


def check_per_item_scores(output: Path, scores: dict[str, float]) -> list[dict[str, str]]:
    """Assert the C1 contract on ``output/per_item_scores.csv`` (or its sealed form, opened with the
    reference data beside ``output``); return its rows."""
    sealed = output / "per_item_scores.sealed"
    if sealed.is_file():
        text = unseal(sealed.read_text(encoding="utf-8"), reference_key(output.parent / "input" / "ref"))
    else:
        text = (output / "per_item_scores.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows, "per_item_scores.csv has no row"
    columns = list(rows[0])
    assert columns[0] == "item_id"
    ids = [row["item_id"] for row in rows]
    assert len(set(ids)) == len(ids)
    if columns[1:] == CORRELATION_COLUMNS:
        if "accuracy" in scores:  # classification: class labels
            agree = [row["prediction"] == row["truth"] for row in rows]
            assert scores["accuracy"] == _approx(sum(agree) / len(agree))
            return rows
        prediction = np.array([float(row["prediction"]) for row in rows])
        truth = np.array([float(row["truth"]) for row in rows])
        if "spearman" in scores:
            assert scores["spearman"] == _approx(stats.spearmanr(prediction, truth).statistic)
        if "pearson" in scores:
            assert scores["pearson"] == _approx(stats.pearsonr(prediction, truth).statistic)
        return rows
    assert set(columns[1:]) <= set(scores), (columns, sorted(scores))
    for column in columns[1:]:
        values = [float(row[column]) for row in rows if row[column] != ""]
        assert all(repr(value) == row[column] for value, row in zip(values, (r for r in rows if r[column] != "")))
        assert scores[column] == _approx(math.fsum(values) / len(values)), column
    return rows


def check_hidden_details(output: Path, rows: list[dict[str, str]], hidden_names: list[str]) -> None:
    """The detailed results of a hidden split name no item and none of ``hidden_names``."""
    details = (output / "detailed_results.html").read_text(encoding="utf-8")
    shown = [row["item_id"] for row in rows if f">{row['item_id']}<" in details]
    assert shown == [], f"the detailed results of a hidden split list items: {shown[:5]}"
    for name in hidden_names:
        assert name not in details
    assert "aggregate scores only" in details


def _approx(value: float):
    import pytest  # noqa: PLC0415

    return pytest.approx(value, abs=1e-9)
