"""Every number of the campaign report, as one JSON-ready dictionary.

Runs are ranked by the primary metric (the leaderboard's sorting; ties by run id,
competition ranking 1, 2, 2, 4). Against the baseline run (the best inducer) each run
gets its gain with a percentile bootstrap interval over items, and two paired tests; runs
adjacent in the ranking are tested too. Each family of tests (against the baseline,
adjacent runs, adjacent teams) is Holm-corrected per test. A new rank group starts where
the randomisation test between adjacent runs is significant after Holm's correction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bundlekit.report import stats
from bundlekit.report.campaign import COST_KEYS, Campaign, Run
from bundlekit.report.per_item import ItemScores, PerItemError, aligned

#: Fact-sheet answers shown as "inducers used": those whose question key names inducers.
INDUCER_ANSWER_WORD = "inducer"


@dataclass(frozen=True)
class Settings:
    """The knobs of the statistics, all stated in the report."""

    resamples: int = stats.DEFAULT_RESAMPLES
    permutations: int = stats.DEFAULT_PERMUTATIONS
    seed: int = stats.DEFAULT_SEED
    alpha: float = stats.DEFAULT_ALPHA
    level: float = 0.95


def ranked(runs: list[Run], key: str, descending: bool) -> list[Run]:
    """Runs best first by ``key``; equal values keep id order."""
    return sorted(runs, key=lambda run: (-run.scores[key] if descending else run.scores[key], run.id))


def competition_ranks(values: list[float]) -> list[int]:
    """Ranks 1, 2, 2, 4 of values already in ranking order (equal values share the better rank)."""
    ranks: list[int] = []
    for position, value in enumerate(values):
        ranks.append(ranks[-1] if position and value == values[position - 1] else position + 1)
    return ranks


def pareto_front(points: list[tuple[float, float]], descending: bool) -> list[bool]:
    """Which (quality, time) points no other point dominates (better or equal on both, better on one)."""
    def better_or_equal(a: float, b: float) -> bool:
        return a >= b if descending else a <= b

    front = []
    for i, (quality, time) in enumerate(points):
        dominated = any(
            better_or_equal(q, quality) and t <= time and (q != quality or t != time)
            for j, (q, t) in enumerate(points) if j != i
        )
        front.append(not dominated)
    return front


def _paired(a: ItemScores, b: ItemScores, key: str, settings: Settings) -> dict[str, Any]:
    b = aligned(b, a.item_ids)
    differences = stats.paired_differences(a.contributions(key), b.contributions(key))
    randomisation = stats.sign_flip_test(differences, settings.permutations, settings.seed)
    wilcoxon = stats.wilcoxon_test(differences)
    return {"n_items": randomisation.n_items,
            "mean_difference": randomisation.statistic,
            "randomisation": {"p": randomisation.p_value, "method": randomisation.method},
            "wilcoxon": {"p": wilcoxon.p_value, "statistic": wilcoxon.statistic, "method": wilcoxon.method}}


def _holm_family(entries: list[dict[str, Any] | None], alpha: float) -> None:
    """Add ``p_holm`` and ``significant`` to every test of a family (entries None are untested)."""
    for test in ("randomisation", "wilcoxon"):
        tested = [entry for entry in entries if entry is not None]
        adjusted = stats.holm([entry[test]["p"] for entry in tested])
        for entry, p_holm in zip(tested, adjusted):
            entry[test]["p_holm"] = p_holm
            entry[test]["significant"] = bool(p_holm < alpha)


def _try_paired(a: Run, b: Run, key: str, settings: Settings, notes: list[str]) -> dict[str, Any] | None:
    if a.per_item is None or b.per_item is None or not a.per_item.has_metric(key):
        return None
    try:
        return _paired(a.per_item, b.per_item, key, settings)
    except PerItemError as exc:
        notes.append(f"{a.id} vs {b.id}: {exc}")
        return None


def _adjacent(runs: list[Run], key: str, settings: Settings, notes: list[str]) -> list[dict[str, Any] | None]:
    tests = [_try_paired(runs[i], runs[i + 1], key, settings, notes) for i in range(len(runs) - 1)]
    _holm_family(tests, settings.alpha)
    return tests


def _groups(tests: list[dict[str, Any] | None]) -> list[int]:
    return stats.rank_groups([bool(t and t["randomisation"]["significant"]) for t in tests])


def _gain(run: Run, baseline: Run, key: str, indices: np.ndarray | None, settings: Settings,
          baseline_replicates: dict[tuple[str, ...], np.ndarray]) -> dict[str, Any] | None:
    """The gain and its interval; ``baseline_replicates`` caches the baseline's resampled metric per item order."""
    if run.per_item is None or baseline.per_item is None or not run.per_item.has_metric(key):
        return None
    base = aligned(baseline.per_item, run.per_item.item_ids)
    run_value, base_value = run.per_item.metric(key), base.metric(key)
    point = float(stats.gain_replicates(np.array([run_value]), np.array([base_value]))[0])
    if indices is None:
        return {"gain_pct": point, "low": math.nan, "high": math.nan}
    if run.per_item.is_correlation:
        run_rep = stats.statistic_replicates(lambda rows: run.per_item.metric(key, rows), indices)
    else:
        run_rep = stats.mean_replicates(run.per_item.columns[key], indices)
    if base.item_ids not in baseline_replicates:
        baseline_replicates[base.item_ids] = (
            stats.statistic_replicates(lambda rows: base.metric(key, rows), indices) if base.is_correlation
            else stats.mean_replicates(base.columns[key], indices))
    base_rep = baseline_replicates[base.item_ids]
    low, high = stats.percentile_interval(stats.gain_replicates(run_rep, base_rep), settings.level)
    return {"gain_pct": point, "low": low, "high": high}


def inducers_used(run: Run) -> str:
    """The run's fact-sheet answers to questions whose key names inducers, joined by ``; ``."""
    answers = [f"{value}" for key, value in sorted(run.fact_sheet.items()) if INDUCER_ANSWER_WORD in key.lower()]
    return "; ".join(answers)


def analyse(campaign: Campaign, phase: str | None, baseline: Run | None, settings: Settings) -> dict[str, Any]:
    """The report's numbers for the runs of ``phase`` (all runs when None)."""
    key = campaign.primary_metric
    descending = campaign.sorting(key) != "asc"
    notes: list[str] = []
    runs = [run for run in campaign.runs if phase is None or run.phase == phase]
    if baseline is not None and baseline not in runs:
        runs.append(baseline)
    order = ranked(runs, key, descending)
    ranks = competition_ranks([run.scores[key] for run in order])
    metrics = [c["key"] for c in campaign.columns if any(c["key"] in run.scores for run in order)]
    metrics += sorted({k for run in order for k in run.scores} - set(metrics))

    for run in order:
        if run.per_item is None:
            notes.append(f"{run.id}: no per-item scores ({run.per_item_problem}); no interval or test for it")
    n_items = None
    reference = next((run for run in order if run.per_item is not None), None)
    indices = None
    if reference is not None and settings.resamples > 0:
        indices = stats.bootstrap_indices(len(reference.per_item.item_ids), settings.resamples, settings.seed)
        n_items = len(reference.per_item.item_ids)

    versus_baseline: list[dict[str, Any] | None] = []
    gains: list[dict[str, Any] | None] = []
    baseline_replicates: dict[tuple[str, ...], np.ndarray] = {}
    for run in order:
        if baseline is None or run is baseline:
            versus_baseline.append(None)
            gains.append(None)
            continue
        versus_baseline.append(_try_paired(run, baseline, key, settings, notes))
        try:
            gains.append(_gain(run, baseline, key, indices, settings, baseline_replicates))
        except PerItemError as exc:
            notes.append(f"{run.id}: {exc}")
            gains.append(None)
    _holm_family(versus_baseline, settings.alpha)
    adjacent = _adjacent(order, key, settings, notes)
    groups = _groups(adjacent)

    timed = [run for run in order if "time_s" in run.scores]
    front = dict(zip((run.id for run in timed),
                     pareto_front([(run.scores[key], run.scores["time_s"]) for run in timed], descending)))

    rows = []
    for position, run in enumerate(order):
        rows.append({
            "id": run.id, "team": run.team, "phase": run.phase, "date": run.date,
            "rank": ranks[position], "rank_group": groups[position],
            "is_baseline": run is baseline,
            "scores": {k: run.scores[k] for k in metrics if k in run.scores},
            "costs": {k: run.scores[k] for k in COST_KEYS if k in run.scores},
            "inducers_used": inducers_used(run),
            "gain": gains[position],
            "vs_baseline": versus_baseline[position],
            "vs_next": adjacent[position] if position < len(adjacent) else None,
            "pareto": front.get(run.id),
            "per_item": run.per_item is not None,
        })

    best_of_team: dict[str, Run] = {}
    for run in order:
        if run is not baseline:
            best_of_team.setdefault(run.team, run)
    team_runs = list(best_of_team.values())
    team_ranks = competition_ranks([run.scores[key] for run in team_runs])
    team_adjacent = _adjacent(team_runs, key, settings, notes)
    team_groups = _groups(team_adjacent)
    row_of = {row["id"]: row for row in rows}
    teams = [{"team": run.team, "run": run.id, "rank": team_ranks[i], "rank_group": team_groups[i],
              "n_runs": sum(1 for r in order if r.team == run.team and r is not baseline),
              "vs_next": team_adjacent[i] if i < len(team_adjacent) else None,
              **{k: row_of[run.id][k] for k in ("scores", "costs", "inducers_used", "gain", "vs_baseline", "pareto")}}
             for i, run in enumerate(team_runs)]

    with_items = [run for run in order if run.per_item is not None and run.per_item.has_metric(key)]
    correlation = bool(with_items) and with_items[0].per_item.is_correlation
    distributions = [{"id": run.id, "values": [float(v) for v in run.per_item.contributions(key) if v == v]}
                     for run in with_items]

    return {
        "title": campaign.title,
        "phase": phase,
        "layout": campaign.layout,
        "primary_metric": key,
        "primary_sorting": "desc" if descending else "asc",
        "metrics": [{"key": k, "title": campaign.title_of(k), "sorting": campaign.sorting(k)} for k in metrics],
        "n_items": n_items,
        "baseline": None if baseline is None else {"id": baseline.id, "team": baseline.team},
        "settings": {"bootstrap_resamples": settings.resamples, "permutations": settings.permutations,
                     "seed": settings.seed, "alpha": settings.alpha, "interval_level": settings.level,
                     "interval": "percentile bootstrap over items",
                     "randomisation": "paired sign-flip test of the mean per-item difference, two-sided",
                     "wilcoxon": "scipy.stats.wilcoxon, two-sided, zero differences dropped",
                     "correction": "Holm, per family (vs baseline, adjacent runs, adjacent teams) and per test",
                     "rank_groups": "a new group starts where the Holm-corrected randomisation test "
                                    "between adjacent runs is significant"},
        "teams": teams,
        "runs": rows,
        "notes": notes,
        "distributions": distributions,
        "distribution_label": f"contribution to {campaign.title_of(key)} (mean = the metric)" if correlation
                              else campaign.title_of(key),
    }
