"""`bundlekit realism`: the stand-in figures beside the real ones, and the README's baseline tables.

The full table (docs/realism.md) takes minutes to measure (fusion-cap's stacker); here the
fast tasks are measured and the committed document is checked for its shape and for the
fusion-int figures, which must fall in the real task's range.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bundlekit import BUNDLES_DIR, REPO_ROOT
from bundlekit.realism import FIGURES, REAL_FIGURES, measure, readme_baseline_tables, realism_table

DOC = REPO_ROOT / "docs" / "realism.md"


def test_every_task_has_real_figures_for_every_row():
    for task, figures in REAL_FIGURES.items():
        assert (BUNDLES_DIR / task / "task.py").is_file()
        assert set(figures) == set(FIGURES), task


def test_fusion_int_figures_are_in_the_real_range():
    figures = measure("fusion-int", "2023")
    assert set(figures) == set(FIGURES)
    chance = float(figures["chance"].split()[0])
    assert 0.03 < chance < 0.06  # real: near 0.04
    gains = dict(re.findall(r"([\w-]+) [\d.]+ \(([+-][\d.]+) %\)", figures["gain"]))
    assert float(gains["logistic-regression"]) > 80.0  # of the order of the real top team's +131.7 %
    assert -25.0 < float(gains["minmax-mean"]) < float(gains["logistic-regression"])


def test_fusion_mem_best_inducer_is_near_the_noise_ceiling():
    figures = measure("fusion-mem", "2023")
    best = float(re.search(r"best ([\d.]+)", figures["best inducer"]).group(1))
    ceiling = float(re.search(r"ceiling ([\d.]+)", figures["bound"]).group(1))
    assert 0.72 < ceiling < 0.78 and 0.62 < best < ceiling


def test_table_layout_for_one_task():
    text = realism_table(["fusion-mem"])
    assert "## fusion-mem" in text and "| figure | real task | stand-in 2023 |" in text
    assert all(f"| {figure} |" in text for figure in FIGURES)


def test_committed_document_covers_every_task_and_edition():
    text = DOC.read_text(encoding="utf-8")
    assert text.startswith("# Realism of the stand-in data")
    for task in REAL_FIGURES:
        assert f"## {task}" in text
    assert "| figure | real task | stand-in 2023 | stand-in 2022 |" in text  # fusion-int and fusion-div


def _fake_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "fusion-mem").mkdir(parents=True)
    (dist / "fusion-mem" / "competition.yaml").write_text(
        "leaderboards:\n- columns:\n"
        "  - {title: Spearman, key: spearman}\n  - {title: Gain (%), key: gain_pct}\n"
        "  - {title: Time (s), key: time_s}\n", encoding="utf-8")
    scores = {"best-inducer": {"test": {"spearman": 0.7, "gain_pct": 0.0}},
              "ridge": {"test": {"spearman": 0.73456, "gain_pct": 4.936}}}
    (dist / "fusion-mem.baselines.json").write_text(json.dumps(
        {"best_inducers": {"test": {"best_inducer": "inducer_07"}}, "solutions": scores}), encoding="utf-8")
    return dist


def test_readme_tables_are_rewritten_from_the_build(tmp_path):
    readme = ("intro\n\n`fusion-mem` (best inducer on test: `inducer_23`)\n\n<!-- baselines: fusion-mem -->\n"
              "| baseline | method | Spearman | Gain (%) |\n|---|---|---:|---:|\n"
              "| best-inducer | best single inducer (chosen on dev) | 0.1 | 0.00 |\n"
              "| old-baseline | gone | 0.2 | 3.00 |\n\nafter\n")
    text = readme_baseline_tables(readme, _fake_dist(tmp_path))
    assert text.split("\n") == [
        "intro", "", "`fusion-mem` (best inducer on test: `inducer_07`)", "", "<!-- baselines: fusion-mem -->",
        "| baseline | method | Spearman | Gain (%) |", "|---|---|---:|---:|",
        "| best-inducer | best single inducer (chosen on dev) | 0.7000 | 0.00 |",
        "| ridge | supervised fusion: ridge regression on the inducers' percentile ranks, trained on dev | 0.7346 | 4.94 |",
        "", "after", ""]


@pytest.mark.parametrize("task", sorted(REAL_FIGURES))
def test_readme_has_a_table_per_task(task):
    assert f"<!-- baselines: {task} -->" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
