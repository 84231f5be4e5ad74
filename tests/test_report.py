"""bundlekit report: every statistic against an independent computation, both campaign layouts, all outputs."""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bundlekit import BUNDLES_DIR
from bundlekit.build import load_module, module_name
from bundlekit.cli import main
from bundlekit.report import stats
from bundlekit.report.per_item import PER_ITEM_FILE, ItemScores, read_per_item
from scoring_common.per_item import PerItemScores
from scoring_common.metrics.regression import pearson, spearman

sys.path.insert(0, str(Path(__file__).parent))
import per_item_shim  # noqa: E402


# --------------------------------------------------------------------------- statistics, cross-checked


def brute_force_sign_flip(differences: list[float]) -> float:
    """Exact two-sided p-value by listing every sign vector with itertools."""
    observed = abs(sum(differences) / len(differences))
    count = 0
    for signs in itertools.product((1, -1), repeat=len(differences)):
        if abs(sum(s * d for s, d in zip(signs, differences)) / len(differences)) >= observed - 1e-12:
            count += 1
    return count / 2 ** len(differences)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_sign_flip_matches_enumeration(seed):
    rng = random.Random(seed)
    differences = [rng.uniform(-1, 1) + 0.3 for _ in range(9)]
    result = stats.sign_flip_test(np.array(differences), n_permutations=10000)
    assert result.method.startswith("exact")
    assert result.p_value == pytest.approx(brute_force_sign_flip(differences), abs=1e-12)


def test_random_sign_flip_is_seeded_and_close_to_exact():
    rng = np.random.default_rng(5)
    differences = rng.normal(0.2, 1.0, size=14)
    exact = brute_force_sign_flip(differences.tolist())
    first = stats.sign_flip_test(differences, n_permutations=4000, seed=11)
    again = stats.sign_flip_test(differences, n_permutations=4000, seed=11)
    assert first == again and first.method == "4000 random sign vectors, seed 11"
    # Monte Carlo error of a proportion from 4000 draws: at most 0.008 standard deviations.
    assert abs(first.p_value - exact) < 0.03


def test_sign_flip_without_difference_is_one():
    assert stats.sign_flip_test(np.zeros(30)).p_value == 1.0
    assert stats.wilcoxon_test(np.zeros(30)).p_value == 1.0


def hand_wilcoxon_exact(differences: list[float]) -> float:
    """Two-sided exact p of the signed-rank statistic min(W+, W-), no ties or zeros: all 2^n sign patterns."""
    n = len(differences)
    ranks = {abs(d): r for r, d in enumerate(sorted(differences, key=abs), start=1)}
    w_plus = sum(ranks[abs(d)] for d in differences if d > 0)
    total = n * (n + 1) // 2
    observed = min(w_plus, total - w_plus)
    count = 0
    for signs in itertools.product((0, 1), repeat=n):
        w = sum(r for r, s in zip(range(1, n + 1), signs) if s)
        if min(w, total - w) <= observed:
            count += 1
    return count / 2**n


def hand_wilcoxon_normal(differences: list[float]) -> float:
    """Normal approximation without continuity correction, average ranks and tie correction (zeros dropped)."""
    nonzero = [d for d in differences if d != 0]
    n = len(nonzero)
    ordered = sorted(abs(d) for d in nonzero)
    rank_of: dict[float, float] = {}
    for value in set(ordered):
        positions = [k + 1 for k, v in enumerate(ordered) if v == value]
        rank_of[value] = sum(positions) / len(positions)
    w_plus = sum(rank_of[abs(d)] for d in nonzero if d > 0)
    mean = n * (n + 1) / 4
    ties = sum(c**3 - c for c in (ordered.count(v) for v in set(ordered)))
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - ties / 48)
    z = (w_plus - mean) / sd
    return math.erfc(abs(z) / math.sqrt(2))


def test_wilcoxon_exact_small_sample_matches_enumeration():
    differences = [0.5, -1.25, 2.0, 3.5, -0.75, 1.5, 4.25, 2.75, -0.1, 1.1]
    assert stats.wilcoxon_test(np.array(differences)).p_value == pytest.approx(hand_wilcoxon_exact(differences))


def test_wilcoxon_with_ties_matches_the_normal_approximation():
    rng = np.random.default_rng(3)
    differences = np.round(rng.normal(0.1, 1, size=80), 1)  # rounding makes ties
    differences[:5] = 0.0
    assert stats.wilcoxon_test(differences).p_value == pytest.approx(hand_wilcoxon_normal(differences.tolist()), rel=1e-9)


def reference_holm(p_values: list[float]) -> list[float]:
    """Holm as textbooks write it: sort, multiply by m - k, cumulative max, cap at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    previous = 0.0
    for k, i in enumerate(order):
        previous = max(previous, min(1.0, (m - k) * p_values[i]))
        adjusted[i] = previous
    return adjusted


def test_holm_matches_reference_and_a_worked_example():
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    rng = random.Random(9)
    for _ in range(20):
        p_values = [rng.random() ** 3 for _ in range(rng.randint(1, 12))]
        assert stats.holm(p_values) == pytest.approx(reference_holm(p_values))
    assert math.isnan(stats.holm([0.01, math.nan])[1]) and stats.holm([0.01, math.nan])[0] == 0.01


def test_bootstrap_of_a_gain_matches_a_plain_loop():
    rng = np.random.default_rng(4)
    run, base = rng.uniform(0, 1, 25), rng.uniform(0, 0.8, 25)
    run[3] = base[3] = np.nan  # an item that does not count (fusion-cap's empty ground truth)
    indices = stats.bootstrap_indices(25, 500, seed=8)
    fast = stats.gain_replicates(stats.mean_replicates(run, indices), stats.mean_replicates(base, indices))
    loop = []
    for row in indices:
        r = [run[i] for i in row if not math.isnan(run[i])]
        b = [base[i] for i in row if not math.isnan(base[i])]
        loop.append(100 * (statistics.fmean(r) - statistics.fmean(b)) / statistics.fmean(b))
    assert fast == pytest.approx(loop)
    low, high = stats.percentile_interval(fast)
    ordered = sorted(loop)
    # numpy's linear percentile: position q (n - 1)
    position = 0.025 * (len(ordered) - 1)
    expected_low = ordered[int(position)] + (ordered[int(position) + 1] - ordered[int(position)]) * (position % 1)
    assert low == pytest.approx(expected_low) and high > low


def test_correlation_contributions_average_to_the_metric_and_match_scipy():
    rng = np.random.default_rng(2)
    truth = rng.normal(size=60)
    prediction = np.round(truth + rng.normal(size=60), 1)  # ties
    table = ItemScores(tuple(f"v{k}" for k in range(60)), {"prediction": prediction, "truth": truth})
    assert table.is_correlation
    assert table.contributions("spearman").mean() == pytest.approx(spearman(truth, prediction))
    assert table.contributions("spearman").mean() == pytest.approx(scipy_stats.spearmanr(truth, prediction).statistic)
    assert table.contributions("pearson").mean() == pytest.approx(scipy_stats.pearsonr(truth, prediction).statistic)
    indices = stats.bootstrap_indices(60, 50, seed=1)
    replicates = stats.statistic_replicates(lambda rows: table.metric("spearman", rows), indices)
    assert replicates == pytest.approx([scipy_stats.spearmanr(truth[r], prediction[r]).statistic for r in indices])


def test_mean_standard_error_and_rank_helpers():
    values = np.array([0.1, 0.5, np.nan, 0.9, 0.3])
    assert stats.mean_standard_error(values) == pytest.approx(statistics.stdev([0.1, 0.5, 0.9, 0.3]) / 2)
    assert stats.rank_groups([False, True, False, True]) == [1, 1, 2, 2, 3]
    from bundlekit.report.analysis import competition_ranks, pareto_front

    assert competition_ranks([0.9, 0.8, 0.8, 0.5]) == [1, 2, 2, 4]
    # (quality, time): the second is slower and worse, the third is worse but faster
    assert pareto_front([(0.9, 10.0), (0.8, 12.0), (0.7, 1.0)], descending=True) == [True, False, True]


def test_per_item_file_round_trip_and_errors(tmp_path):
    path = tmp_path / PER_ITEM_FILE
    path.write_text(PerItemScores(["b", "a"], {"f1": [math.nan, 0.1], "f1_secondary": [0.0, 1 / 3]}).render())
    assert path.read_text() == "item_id,f1,f1_secondary\na,0.1,0.3333333333333333\nb,,0.0\n"
    table = read_per_item(path)
    assert table.metric("f1") == 0.1 and table.metric("f1_secondary") == pytest.approx(1 / 6)
    path.write_text("item_id,f1\na,0.1\nb,nan\n")
    with pytest.raises(ValueError, match="line 3"):
        read_per_item(path)


# --------------------------------------------------------------------------- a campaign of made-up runs


def write_per_item(path: Path, item_ids: list[str], columns: dict[str, list[float]]) -> None:
    """A C1 file written by the scoring programs' own writer."""
    path.write_text(PerItemScores(item_ids, columns).render(), encoding="utf-8")


def write_results_campaign(root: Path, per_item: dict[str, list[float]], phase_of: dict[str, str]) -> None:
    """A C5 folder (what bundlekit results writes) with one mean metric ``map_at_10``."""
    competition = {"id": 1, "title": "Toy campaign", "url": "http://localhost/competitions/1",
                   "primary_metric": "map_at_10",
                   "columns": [{"key": "map_at_10", "title": "MAP@10", "sorting": "desc"},
                               {"key": "time_s", "title": "Execution time (s)", "sorting": "asc"}],
                   "phases": [{"id": 1, "name": "Development"}, {"id": 2, "name": "Test"}]}
    root.mkdir(parents=True)
    (root / "competition.json").write_text(json.dumps(competition))
    for number, (name, values) in enumerate(per_item.items(), start=1):
        folder = root / "submissions" / str(number)
        (folder / "scoring_output").mkdir(parents=True)
        team = name if name == "best-inducer" else name.split("-")[0]
        scores = {"map_at_10": statistics.fmean(values), "time_s": float(number)}
        (folder / "submission.json").write_text(json.dumps({
            "id": number, "phase": phase_of[name], "owner": team, "team": team, "date": "2027-04-02T10:00:00Z",
            "status": "Finished", "scores": scores, "fact_sheet_answers": {"n_inducers_used": f"{number + 1}"},
            "rerun_of": None}))
        write_per_item(folder / "scoring_output" / PER_ITEM_FILE, [f"video_{k}" for k in range(len(values))],
                       {"map_at_10": values})
        (folder / "scoring_output" / "scores.json").write_text(json.dumps(scores))


@pytest.fixture
def toy_campaign(tmp_path):
    rng = np.random.default_rng(12)
    base = rng.uniform(0, 0.6, 30)
    per_item = {
        "best-inducer": base.tolist(),
        "alpha-strong": np.clip(base + 0.25 + rng.normal(0, 0.05, 30), 0, 1).tolist(),
        "alpha-weak": np.clip(base + 0.01 + rng.normal(0, 0.05, 30), 0, 1).tolist(),
        "beta-same": np.clip(base + 0.24 + rng.normal(0, 0.05, 30), 0, 1).tolist(),
        "gamma-worse": np.clip(base - 0.2, 0, 1).tolist(),
        "delta-dev": base.tolist(),
    }
    phase_of = {name: "Development" if name == "delta-dev" else "Test" for name in per_item}
    write_results_campaign(tmp_path / "campaign", per_item, phase_of)
    return tmp_path / "campaign", per_item


def test_report_of_a_results_folder(toy_campaign, tmp_path, capsys):
    folder, per_item = toy_campaign
    out = tmp_path / "out"
    assert main(["report", str(folder), "--out", str(out), "--resamples", "400", "--permutations", "3000"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["report-runs.csv", "report-teams.csv", "report.html", "report.json", "report.md", "report.tex"]
    data = json.loads((out / "report.json").read_text())
    assert data["phase"] == "Test" and data["baseline"]["id"] == "1"  # best-inducer is submission 1
    runs = {row["id"]: row for row in data["runs"]}
    assert "6" not in runs  # the Development submission is another phase
    order = [row["id"] for row in data["runs"]]
    assert order == ["2", "4", "3", "1", "5"]  # by mean MAP@10, descending

    # Gain and interval, recomputed with a plain loop over the same resamples.
    indices = stats.bootstrap_indices(30, 400, data["settings"]["seed"])
    strong, base = np.array(per_item["alpha-strong"]), np.array(per_item["best-inducer"])
    assert runs["2"]["gain"]["gain_pct"] == pytest.approx(100 * (strong.mean() - base.mean()) / base.mean())
    loop = [100 * (strong[r].mean() - base[r].mean()) / base[r].mean() for r in indices]
    assert [runs["2"]["gain"]["low"], runs["2"]["gain"]["high"]] == pytest.approx(list(np.percentile(loop, [2.5, 97.5])))

    # Tests against the baseline, Holm over the four runs, Wilcoxon from scipy directly.
    raw = {rid: runs[rid]["vs_baseline"]["wilcoxon"]["p"] for rid in ("2", "3", "4", "5")}
    assert raw["2"] == pytest.approx(scipy_stats.wilcoxon(strong - base).pvalue)
    holm = reference_holm(list(raw.values()))
    assert [runs[rid]["vs_baseline"]["wilcoxon"]["p_holm"] for rid in raw] == pytest.approx(holm)
    assert runs["2"]["vs_baseline"]["randomisation"]["significant"] is True
    # alpha-strong and beta-same are indistinguishable, the others differ: three groups.
    assert [runs[r]["rank_group"] for r in order] == [1, 1, 2, 2, 3]
    assert runs["2"]["vs_next"]["randomisation"]["significant"] is False

    teams = {row["team"]: row for row in data["teams"]}
    assert teams["alpha"]["run"] == "2" and teams["alpha"]["n_runs"] == 2
    assert "best-inducer" not in teams  # the baseline is the reference, not a team
    assert teams["alpha"]["inducers_used"] == "3"

    markdown = (out / "report.md").read_text()
    assert "| Rank | Group | Team | Run | MAP@10 |" in markdown
    assert "400 resamples" in markdown and "3000 random sign flips" in markdown
    latex = (out / "report.tex").read_text()
    assert latex.count("\\toprule") == 2 and "\\bottomrule" in latex and "\\begin{tabular}" in latex
    with open(out / "report-runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["run"] for row in rows] == order
    assert float(rows[0]["map_at_10"]) == pytest.approx(strong.mean())
    html = (out / "report.html").read_text()
    assert html.count("<img src=\"data:image/svg+xml;base64,") == 3 and "<script" not in html


def test_report_is_deterministic(toy_campaign, tmp_path):
    folder, _ = toy_campaign
    outputs = []
    for name in ("one", "two"):
        main(["report", str(folder), "--out", str(tmp_path / name), "--resamples", "200", "--permutations", "500"])
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert outputs[0] == outputs[1]


def test_report_refuses_unknown_baseline_and_folder(toy_campaign, tmp_path, capsys):
    folder, _ = toy_campaign
    assert main(["report", str(folder), "--baseline", "nobody", "--out", str(tmp_path / "o")]) == 1
    assert "--baseline nobody: no finished run or team of that name in phase Test" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert "neither a results folder" in capsys.readouterr().err


def test_runs_without_per_item_scores_are_reported_with_a_note(toy_campaign, tmp_path):
    folder, _ = toy_campaign
    (folder / "submissions" / "5" / "scoring_output" / PER_ITEM_FILE).unlink()
    main(["report", str(folder), "--out", str(tmp_path / "o"), "--resamples", "100", "--permutations", "200"])
    data = json.loads((tmp_path / "o" / "report.json").read_text())
    row = next(r for r in data["runs"] if r["id"] == "5")
    assert row["gain"] is None and row["vs_baseline"] is None and row["scores"]["map_at_10"] > 0
    assert any(note.startswith("5: no per-item scores") for note in data["notes"])


# --------------------------------------------------------------------------- local runs of the real tasks


def _score_into(task: str, ref_dir: Path, run: Path, run_dir: Path, leaderboard: list[tuple[str, str]],
                timing: dict | None = None) -> dict:
    """Score ``run`` in-process like `bundlekit run` and lay out OUT/<run>/ as it does."""
    from scoring_common.program import score_submission

    scoring = load_module(BUNDLES_DIR / task / "scoring_program" / "score.py", module_name(task, "score"))
    input_dir, output = run_dir / "scoring-input", run_dir / "scoring" / "output"
    (input_dir / "res").mkdir(parents=True)
    output.mkdir(parents=True)
    (input_dir / "ref").symlink_to(ref_dir)
    (input_dir / "res" / run.name).write_bytes(run.read_bytes())
    scores = score_submission(scoring.TASK, input_dir, output)
    result = {"status": "finished", "scores": scores, "times": timing or {},
              "leaderboard": [[key, title, scores.get(key)] for key, title in leaderboard]}
    (run_dir / "result.json").write_text(json.dumps(result))
    return scores


def local_runs(tmp_path: Path, task: str, monkeypatch) -> tuple[Path, Path, dict[str, dict]]:
    """Stand-in data of ``task``; on its test split: every inducer and a few fusions, scored as local runs."""
    per_item_shim.install(monkeypatch)
    hooks = load_module(BUNDLES_DIR / task / "task.py", module_name(task, "task"))
    fusion_io = load_module(BUNDLES_DIR / task / "ingestion_program" / "fusion_io.py", module_name(task, "fusion_io"))
    data = tmp_path / "data"
    hooks.generate_data(data, progress=lambda message: None)
    # Published like a dev split (contract C2), so that the scorer writes the per-item CSV in clear.
    (data / "test" / "reference_data" / "split.json").write_text('{"split": "test", "public": true}')
    X = fusion_io.load_inducers(data / "test" / "input_data")
    predictions = dict(hooks.inducer_predictions(X))
    name = next(iter(predictions.values())).name
    ranks = X.rank(pct=True)
    predictions["fusers--rank-mean"] = ranks.mean(axis=1).rename(name)
    predictions["fusers--rank-mean-top5"] = ranks[X.columns[:5]].mean(axis=1).rename(name)
    predictions["zed--zscore"] = ((X - X.mean()) / X.std()).mean(axis=1).rename(name)
    board = [("map_at_10", "MAP@10"), ("map", "MAP"), ("gain_pct", "Gain"), ("time_s", "Time")] if task == "fusion-int" \
        else [("spearman", "Spearman"), ("pearson", "Pearson"), ("gain_pct", "Gain"), ("time_s", "Time")]
    runs = tmp_path / "runs"
    scores = {}
    for k, (run_name, prediction) in enumerate(sorted(predictions.items())):
        run = tmp_path / "scratch" / run_name / fusion_io.RUN_FILE_NAME
        run.parent.mkdir(parents=True)
        fusion_io.write_run(prediction, X, run)
        timing = {"wall_s": 1.0 + k, "cpu_s": 0.5 + k, "peak_memory_mib": 60.0 + k} if "--" in run_name else None
        scores[run_name] = _score_into(task, data / "test" / "reference_data", run, runs / run_name, board, timing)
    return data, runs, scores


@pytest.mark.parametrize("task", ["fusion-int", "fusion-mem"])
def test_report_of_local_runs_of_a_real_task(task, tmp_path, monkeypatch):
    data, runs, scores = local_runs(tmp_path, task, monkeypatch)
    best = max((name for name in scores if "--" not in name and name != "zed"),
               key=lambda name: scores[name]["map_at_10" if task == "fusion-int" else "spearman"])
    out = tmp_path / "report"
    assert main(["report", str(runs), "--baseline", best, "--out", str(out), "--resamples", "300",
                 "--permutations", "2000"]) == 0
    result = json.loads((out / "report.json").read_text())
    primary = result["primary_metric"]
    assert primary == ("map_at_10" if task == "fusion-int" else "spearman")
    rows = {row["id"]: row for row in result["runs"]}
    # The metric recomputed from the per-item file is the scoring program's.
    for name, row in rows.items():
        assert row["scores"][primary] == pytest.approx(scores[name][primary])
        if row["gain"] is not None:
            expected = 100 * (scores[name][primary] - scores[best][primary]) / scores[best][primary]
            assert row["gain"]["gain_pct"] == pytest.approx(expected, abs=1e-6)
    fused = rows["fusers--rank-mean"]
    assert fused["costs"] == {"time_s": 1.0 + sorted(scores).index("fusers--rank-mean"),
                              "cpu_s": 0.5 + sorted(scores).index("fusers--rank-mean"),
                              "memory_mib": 60.0 + sorted(scores).index("fusers--rank-mean")}
    assert fused["gain"]["low"] < fused["gain"]["gain_pct"] < fused["gain"]["high"]
    assert sum(1 for row in result["runs"] if row["pareto"]) >= 1
    assert {team["team"] for team in result["teams"]} >= {"fusers", "zed"}
    if task == "fusion-mem":
        # Correlation task: the bootstrap recomputes Spearman on resampled (prediction, truth) pairs.
        table = read_per_item(runs / "fusers--rank-mean" / "scoring" / "output" / PER_ITEM_FILE)
        base = read_per_item(runs / best / "scoring" / "output" / PER_ITEM_FILE)
        truth, a, b = table.columns["truth"], table.columns["prediction"], base.columns["prediction"]
        gains = [100 * (scipy_stats.spearmanr(truth[r], a[r]).statistic - scipy_stats.spearmanr(truth[r], b[r]).statistic)
                 / scipy_stats.spearmanr(truth[r], b[r]).statistic for r in stats.bootstrap_indices(len(truth), 300, 2023)]
        assert [fused["gain"]["low"], fused["gain"]["high"]] == pytest.approx(list(np.percentile(gains, [2.5, 97.5])))
    for path in runs.glob("*/scoring/output/" + PER_ITEM_FILE):
        per_item_shim.check_means(path, json.loads((path.parent / "scores.json").read_text()))


def test_a_rerun_stands_for_its_original(toy_campaign, tmp_path):
    folder, per_item = toy_campaign
    original = json.loads((folder / "submissions" / "5" / "submission.json").read_text())
    rerun = folder / "submissions" / "7"
    (rerun / "scoring_output").mkdir(parents=True)
    values = np.clip(np.array(per_item["gamma-worse"]) + 0.1, 0, 1)
    (rerun / "submission.json").write_text(json.dumps({
        **original, "id": 7, "date": "2027-04-03T10:00:00Z", "rerun_of": 5,
        "scores": {"map_at_10": float(values.mean()), "time_s": 1.0}}))
    write_per_item(rerun / "scoring_output" / PER_ITEM_FILE, [f"video_{k}" for k in range(30)], {"map_at_10": values})
    main(["report", str(folder), "--out", str(tmp_path / "o"), "--resamples", "50", "--permutations", "100"])
    ids = [row["id"] for row in json.loads((tmp_path / "o" / "report.json").read_text())["runs"]]
    assert "7" in ids and "5" not in ids


def test_every_plot_is_well_formed_svg():
    import xml.etree.ElementTree as ElementTree

    from bundlekit.report import plots

    labels = ["a<b", "run & co", "c"]
    svgs = [
        plots.quality_vs_time(labels, [0.3, 0.5, 0.4], [1.0, 5.0, 0.5], [False, True, True], "MAP@10"),
        plots.intervals(labels, [1.0, -2.0, math.nan], [0.0, -5.0, math.nan], [3.0, 1.0, math.nan], "gain", "%"),
        plots.distributions(labels, [[0.1, 0.5, 0.9], [0.2], []], "per item", "AP@10"),
        plots.heatmap(labels, [[1.0, 0.2, -0.5], [0.2, 1.0, math.nan], [-0.5, math.nan, 1.0]], "correlation"),
        plots.bars(labels, [0.4, 0.2, -0.1], "scores", "F1", [True, False, False]),
    ]
    for svg in svgs:
        root = ElementTree.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and float(root.get("width")) > 100


@pytest.mark.slow
def test_baselines_and_made_up_runs_through_bundlekit_run(tmp_path, monkeypatch, capsys):
    """Done-when: a built bundle, its baselines and a made-up run scored by `bundlekit run --json`, then the report."""
    import shutil
    import zipfile

    from bundlekit.build import BuildOptions, build_task

    per_item_shim.install(monkeypatch)
    built = build_task("fusion-mem", BuildOptions(out=tmp_path / "dist", progress=lambda message: None))
    subs = tmp_path / "subs"
    subs.mkdir()
    for path in sorted((built.bundle_dir / "solutions").glob("*-results-test.zip")):
        shutil.copy(path, subs / f"organisers--{path.name.removesuffix('-results-test.zip')}.zip")
    fusion_io = load_module(BUNDLES_DIR / "fusion-mem" / "ingestion_program" / "fusion_io.py",
                            module_name("fusion-mem", "fusion_io"))
    with zipfile.ZipFile(built.bundle_dir / "test_input_data.zip") as archive:
        archive.extractall(tmp_path / "input")
    X = fusion_io.load_inducers(next((tmp_path / "input").rglob("predict")))
    prediction = X.rank(pct=True)[list(X.columns[:3])].mean(axis=1).rename("score")
    fusion_io.write_run(prediction, X, tmp_path / "run.csv")
    with zipfile.ZipFile(subs / "madeup--rank-mean-3.zip", "w") as archive:
        archive.write(tmp_path / "run.csv", "run.csv")
    runs = tmp_path / "runs"
    assert main(["run", str(built.bundle_zip), *map(str, sorted(subs.iterdir())), "--phase", "Test", "--no-docker",
                 "--output", str(runs), "--json"]) == 0
    capsys.readouterr()
    with zipfile.ZipFile(built.bundle_dir / "test_reference_data.zip") as archive:
        archive.extractall(tmp_path / "reference")
    from bundlekit.report.per_item import read_scoring_output
    from scoring_common.seal import reference_key

    for run_dir in runs.iterdir():  # the test split is hidden: the scorer sealed its C1 file (C2)
        output = run_dir / "scoring" / "output"
        assert not (output / PER_ITEM_FILE).exists() and (output / "per_item_scores.sealed").is_file()
        written = read_scoring_output(output, [reference_key(tmp_path / "reference")])
        ids, columns = per_item_shim.per_item("fusion-mem", tmp_path / "reference",
                                              run_dir / "prediction" / "output" / "run.csv")
        assert list(written.item_ids) == ids
        assert written.columns["prediction"] == pytest.approx(columns["prediction"])
    assert main(["report", str(runs), "--out", str(tmp_path / "unopened")]) == 0
    unopened = json.loads((tmp_path / "unopened" / "report.json").read_text())
    assert any("sealed (hidden split): pass --bundle" in note for note in unopened["notes"])

    out = tmp_path / "report"
    assert main(["report", str(runs), "--bundle", str(built.bundle_zip), "--out", str(out)]) == 0
    data = json.loads((out / "report.json").read_text())
    assert data["baseline"]["id"] == built.best_inducers["test"]["best_inducer"]
    assert data["title"].startswith("ImageCLEFfusion") and data["primary_metric"] == "spearman"
    for row in data["runs"]:  # sealed files opened with the bundle; the gain is the leaderboard's
        assert row["per_item"] and (row["is_baseline"] or row["gain"] is not None)
        if row["gain"] is not None:
            assert row["gain"]["gain_pct"] == pytest.approx(row["scores"]["gain_pct"], abs=1e-6)
    assert {team["team"] for team in data["teams"]} == {"organisers", "madeup"}
    assert (out / "report.tex").read_text().count("\\toprule") == 2

    # The organisers' bundle gives the inducers of both splits; the best of each is the build's.
    assert main(["inducers", str(built.bundle_zip), "--out", str(tmp_path / "inducers")]) == 0
    analysed = json.loads((tmp_path / "inducers" / "inducers.json").read_text())["splits"]
    assert [split["split"] for split in analysed] == ["dev", "test"]
    for split in analysed:
        best = built.best_inducers[split["split"]]
        assert split["inducers"][0]["inducer"] == best["best_inducer"]
        assert split["inducers"][0]["scores"]["spearman"] == pytest.approx(best["scores"]["spearman"])


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="no pdflatex (texlive-latex-recommended)")
def test_latex_tables_compile(toy_campaign, tmp_path):
    import subprocess

    folder, _ = toy_campaign
    main(["report", str(folder), "--out", str(tmp_path / "o"), "--resamples", "50", "--permutations", "100"])
    paper = tmp_path / "o" / "paper.tex"
    paper.write_text("\\documentclass[twocolumn]{article}\\usepackage[utf8]{inputenc}\\usepackage[T1]{fontenc}"
                     "\\usepackage{booktabs}\\usepackage{graphicx}\\begin{document}\\input{report.tex}\\end{document}\n")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=paper.parent,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
