"""Assembling the campaign report: the analysis turned into tables, figures and files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bundlekit.report import plots
from bundlekit.report.analysis import Settings, analyse
from bundlekit.report.campaign import COST_KEYS, load_campaign
from bundlekit.report.render import Document, Figure, Table, number, p_value, write_document

COST_TITLES = {"time_s": "Time (s)", "cpu_s": "CPU (s)", "memory_mib": "Memory (MiB)"}
COST_DECIMALS = {"time_s": 2, "cpu_s": 2, "memory_mib": 0}
GAIN_KEY = "gain_pct"


def write_report(args: argparse.Namespace) -> list[Path]:
    """Load the campaign, pick phase and baseline, analyse, write every format; return the files."""
    from bundlekit.report import ReportError, choose_baseline, choose_phase  # noqa: PLC0415

    bundle_info = None
    keys: list[bytes] = []
    if args.bundle is not None:
        from bundlekit import inducers  # noqa: PLC0415
        from bundlekit.sealed import bundle_keys  # noqa: PLC0415

        try:
            bundle_info = inducers.open_bundle(args.bundle, args.task, args.bundles_dir)
            keys = bundle_keys(args.bundle)
        except (inducers.InducerError, ValueError, OSError) as exc:
            raise ReportError(f"--bundle {args.bundle}: {exc}") from None
    campaign = load_campaign(args.campaign, keys)
    if bundle_info is not None:
        bundle_info.apply_to(campaign)
    phase = choose_phase(campaign, args.phase)
    if args.baseline:
        baseline = choose_baseline(campaign, phase, args.baseline)
    elif bundle_info is not None:
        try:
            baseline = bundle_info.best_inducer_run(phase or args.phase or "Test", campaign.primary_metric)
        except inducers.InducerError as exc:
            raise ReportError(f"--bundle {args.bundle}: {exc}") from None
    else:
        baseline = choose_baseline(campaign, phase, None)
    if not [run for run in campaign.runs if phase is None or run.phase == phase]:
        raise ReportError(f"{args.campaign}: no finished run to report")
    settings = Settings(resamples=args.resamples, permutations=args.permutations, seed=args.seed, alpha=args.alpha)
    data = analyse(campaign, phase, baseline, settings)
    if data["phase"] is None and bundle_info is not None:  # local runs: the phase they were scored in
        data["phase"] = args.phase or "Test"
    document, csv_tables = build_document(data)
    out = args.out or Path(args.campaign) / "report"
    return write_document(document, data, out, "report", csv_tables)


def _metric_keys(data: dict[str, Any]) -> list[dict[str, str]]:
    """Quality metrics shown in the tables: no cost key, no leaderboard gain when the report computes it."""
    return [m for m in data["metrics"] if m["key"] not in COST_KEYS
            and not (m["key"] == GAIN_KEY and data["baseline"] is not None)]


def _gain_cell(gain: dict[str, Any] | None) -> str:
    if gain is None:
        return "–"
    interval = "" if gain["low"] != gain["low"] else f" [{number(gain['low'], 1)}, {number(gain['high'], 1)}]"
    return f"{number(gain['gain_pct'], 2)}{interval}"


def _test_cell(test: dict[str, Any] | None, which: str) -> str:
    if test is None:
        return "–"
    return p_value(test[which].get("p_holm"))


def build_document(data: dict[str, Any]) -> tuple[Document, dict[str, tuple[list[str], list[list[Any]]]]]:
    """The display tables and figures of the analysis, and the raw CSV tables."""
    metrics = _metric_keys(data)
    settings = data["settings"]
    costs = [k for k in COST_KEYS if any(k in row["costs"] for row in data["runs"])]
    baseline = data["baseline"]
    base_name = baseline["id"] if baseline else "none"
    phase = f" ({data['phase']} phase)" if data["phase"] else ""
    document = Document(title=f"{data['title']}: campaign report{phase}")
    document.paragraphs.append(
        f"{len(data['runs'])} runs of {len(data['teams'])} teams, ranked by {_title(data, data['primary_metric'])} "
        f"({'higher' if data['primary_sorting'] == 'desc' else 'lower'} is better), over "
        f"{data['n_items'] if data['n_items'] is not None else 'an unknown number of'} items. "
        f"Best inducer (the baseline of gains and tests): {base_name}.")
    document.paragraphs.append(
        f"Gain intervals: {int(settings['interval_level'] * 100)} % percentile bootstrap over items, "
        f"{settings['bootstrap_resamples']} resamples, seed {settings['seed']}. Tests (two-sided, paired over items): "
        f"randomisation test with {settings['permutations']} random sign flips of the per-item differences "
        f"(exact enumeration for 2^n at most that number), seed {settings['seed']}, and Wilcoxon's signed-rank test; "
        f"p-values Holm-corrected per family; alpha = {settings['alpha']}. Runs share a rank group until the "
        f"randomisation test between adjacent runs is significant.")

    metric_header = [m["title"] for m in metrics]
    team_rows = []
    for team in data["teams"]:
        team_rows.append([str(team["rank"]), str(team["rank_group"]), team["team"], team["run"],
                          *[number(team["scores"].get(m["key"])) for m in metrics],
                          _gain_cell(team["gain"]), _test_cell(team["vs_baseline"], "randomisation"),
                          _test_cell(team["vs_baseline"], "wilcoxon"),
                          *[number(team["costs"].get(k), COST_DECIMALS[k]) for k in costs],
                          team["inducers_used"] or "–"])
    document.parts.append(Table(
        "Best run of each team",
        ["Rank", "Group", "Team", "Run", *metric_header, "Gain over best inducer (%) [95 % CI]",
         "p vs best inducer (rand., Holm)", "p vs best inducer (Wilcoxon, Holm)",
         *[COST_TITLES[k] for k in costs], "Inducers used"],
        team_rows, label="teams",
        note="Group: teams in one group are not significantly different from their neighbour in the ranking "
             "(randomisation test between adjacent teams, Holm). Inducers used: the fact-sheet answer."))

    run_rows = []
    for row in data["runs"]:
        name = f"{row['id']} (baseline)" if row["is_baseline"] else row["id"]
        run_rows.append([str(row["rank"]), str(row["rank_group"]), name, row["team"],
                         *[number(row["scores"].get(m["key"])) for m in metrics],
                         _gain_cell(row["gain"]), _test_cell(row["vs_baseline"], "randomisation"),
                         _test_cell(row["vs_baseline"], "wilcoxon"), _test_cell(row["vs_next"], "randomisation"),
                         _test_cell(row["vs_next"], "wilcoxon"),
                         *[number(row["costs"].get(k), COST_DECIMALS[k]) for k in costs],
                         "yes" if row["pareto"] else ("no" if row["pareto"] is False else "–")])
    document.parts.append(Table(
        "All runs",
        ["Rank", "Group", "Run", "Team", *metric_header, "Gain over best inducer (%) [95 % CI]",
         "p vs best inducer (rand.)", "p vs best inducer (Wilcoxon)", "p vs next run (rand.)",
         "p vs next run (Wilcoxon)", *[COST_TITLES[k] for k in costs], "Pareto"],
        run_rows, label="runs",
        note="p-values Holm-corrected; 'next run' is the run ranked just below. Pareto: no run is both at least "
             "as good and at least as fast (execution time)."))
    if data["notes"]:
        document.parts.append(Table("Notes", ["note"], [[note] for note in data["notes"]]))

    _figures(document, data)
    return document, _csv_tables(data, metrics)


def _title(data: dict[str, Any], key: str) -> str:
    return next((m["title"] for m in data["metrics"] if m["key"] == key), key)


def _figures(document: Document, data: dict[str, Any]) -> None:
    key = data["primary_metric"]
    title = _title(data, key)
    timed = [row for row in data["runs"] if "time_s" in row["costs"]]
    if timed:
        document.parts.append(Figure(
            f"{title} against execution time",
            plots.quality_vs_time([row["id"] for row in timed], [row["scores"][key] for row in timed],
                                  [row["costs"]["time_s"] for row in timed], [bool(row["pareto"]) for row in timed],
                                  title, data["primary_sorting"] == "desc"),
            "Each run's primary metric against its execution time (code submissions only); the dashed line joins "
            "the Pareto front."))
    gained = [row for row in data["runs"] if row["gain"] is not None]
    if gained:
        document.parts.append(Figure(
            "Gain over the best inducer",
            plots.intervals([row["id"] for row in gained], [row["gain"]["gain_pct"] for row in gained],
                            [row["gain"]["low"] for row in gained], [row["gain"]["high"] for row in gained],
                            "Gain over the best inducer (%), 95 % bootstrap interval", "gain (%)"),
            "Red dot: the gain; blue bar: its bootstrap interval over items. A bar crossing 0 means the run is not "
            "clearly better than the best inducer."))
    distributions = data.get("distributions") or []
    if distributions:
        document.parts.append(Figure(
            f"Per-item {title}",
            plots.distributions([d["id"] for d in distributions], [d["values"] for d in distributions],
                                f"Per-item {data['distribution_label']}", data["distribution_label"]),
            "Box: quartiles and median; whiskers: minimum and maximum; red dot: mean over items."))


def _csv_tables(data: dict[str, Any], metrics: list[dict[str, str]]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    keys = [m["key"] for m in metrics]
    tests = [(where, which) for where in ("vs_baseline", "vs_next") for which in ("randomisation", "wilcoxon")]
    test_header = [f"{which}_{where}_{kind}" for where, which in tests for kind in ("p", "p_holm")]

    def test_cells(row: dict[str, Any]) -> list[Any]:
        cells: list[Any] = []
        for where, which in tests:
            test = row.get(where)
            cells += [None, None] if test is None else [test[which]["p"], test[which].get("p_holm")]
        return cells

    def gain_cells(row: dict[str, Any]) -> list[Any]:
        gain = row["gain"]
        return [None, None, None] if gain is None else [gain["gain_pct"], gain["low"], gain["high"]]

    cost_keys = list(COST_KEYS)
    run_header = ["rank", "rank_group", "run", "team", *keys, "gain_pct_vs_baseline", "gain_low", "gain_high",
                  *test_header, *cost_keys, "pareto", "is_baseline", "inducers_used"]
    runs = [[row["rank"], row["rank_group"], row["id"], row["team"], *[row["scores"].get(k) for k in keys],
             *gain_cells(row), *test_cells(row), *[row["costs"].get(k) for k in cost_keys],
             row["pareto"], row["is_baseline"], row["inducers_used"]] for row in data["runs"]]
    team_header = ["rank", "rank_group", "team", "run", *keys, "gain_pct_vs_baseline", "gain_low", "gain_high",
                   *test_header, *cost_keys, "inducers_used"]
    teams = [[row["rank"], row["rank_group"], row["team"], row["run"], *[row["scores"].get(k) for k in keys],
              *gain_cells(row), *test_cells(row), *[row["costs"].get(k) for k in cost_keys], row["inducers_used"]]
             for row in data["teams"]]
    return {"teams": (team_header, teams), "runs": (run_header, runs)}

