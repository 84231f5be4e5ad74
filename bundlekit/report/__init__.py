"""Write the campaign's evidence: overview tables, paired significance tests and plots.

CAMPAIGN is the folder `bundlekit results` writes (competition.json, submissions/) or a
folder of runs scored locally (`bundlekit run BUNDLE SUBMISSIONS --output DIR --json`).
Per team its best run by the primary metric, its rank and rank group, every metric, the
gain over the best inducer with a 95 % bootstrap interval over items, the execution
costs and the inducers used; every run in a second table; a randomisation test and a
Wilcoxon signed-rank test (Holm-corrected) against the best inducer and between runs
adjacent in the ranking. Per-item scores come from each run's per_item_scores.csv.

The best inducer is the run given by --baseline (run id or team), else the split's best
inducer scored from --bundle, else a run or team named best-inducer.

Outputs in --out: report.md, report.tex (booktabs), report.html (self-contained, with
plots), report.json (every number), report-teams.csv and report-runs.csv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bundlekit.project import add_bundles_dir_option
from bundlekit.report import stats
from bundlekit.report.campaign import Campaign, CampaignError, Run

DEFAULT_BASELINE_NAME = "best-inducer"


class ReportError(ValueError):
    """Options that cannot make a report (one-line message)."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: give a positive number")
    return value


def _level(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text}: give a number between 0 and 1")
    return value


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("campaign", type=Path, help="results folder (bundlekit results) or folder of local runs")
    parser.add_argument("--out", type=Path, help="output folder (default: CAMPAIGN/report)")
    parser.add_argument("--baseline", metavar="NAME",
                        help="run id or team standing for the best inducer (default: the split's best inducer "
                             "scored from --bundle, else a run or team named best-inducer)")
    parser.add_argument("--bundle", type=Path,
                        help="the organisers' bundle (folder or zip): leaderboard columns and fact sheet for local "
                             "runs, and the split's best inducer as the baseline")
    parser.add_argument("--task", help="task source of --bundle (name under bundles/ or folder with task.py; "
                                       "default: the bundle's name)")
    add_bundles_dir_option(parser)
    parser.add_argument("--phase", help="phase to report (default: Test if present, else the phase with most runs); "
                                        "for local runs, the phase they were run in (default Test)")
    parser.add_argument("--resamples", type=_positive, default=stats.DEFAULT_RESAMPLES,
                        help=f"bootstrap resamples (default {stats.DEFAULT_RESAMPLES})")
    parser.add_argument("--permutations", type=_positive, default=stats.DEFAULT_PERMUTATIONS,
                        help=f"sign vectors of the randomisation test (default {stats.DEFAULT_PERMUTATIONS})")
    parser.add_argument("--seed", type=int, default=stats.DEFAULT_SEED, help=f"random seed (default {stats.DEFAULT_SEED})")
    parser.add_argument("--alpha", type=_level, default=stats.DEFAULT_ALPHA,
                        help=f"significance level after Holm's correction (default {stats.DEFAULT_ALPHA})")


def choose_phase(campaign: Campaign, requested: str | None) -> str | None:
    """The phase to report: ``requested``, else Test, else the phase with most runs (None for local runs)."""
    present = [run.phase for run in campaign.runs if run.phase is not None]
    if campaign.layout == "local" or not present:
        return None
    if requested is not None:
        if requested not in present:
            raise ReportError(f"phase {requested!r} has no finished run; phases with runs: "
                              f"{', '.join(sorted(set(present)))}")
        return requested
    if "Test" in present:
        return "Test"
    return max(sorted(set(present)), key=present.count)


def choose_baseline(campaign: Campaign, phase: str | None, name: str | None) -> Run | None:
    """The run named ``name`` (id, else the best run of that team), else one named best-inducer."""
    runs = [run for run in campaign.runs if phase is None or run.phase == phase]
    descending = campaign.sorting(campaign.primary_metric) != "asc"
    for wanted in ([name] if name else [DEFAULT_BASELINE_NAME]):
        by_id = [run for run in runs if run.id == wanted]
        by_team = [run for run in runs if run.team == wanted]
        matches = by_id or by_team
        if matches:
            key = campaign.primary_metric
            return sorted(matches, key=lambda r: -r.scores[key] if descending else r.scores[key])[0]
    if name:
        raise ReportError(f"--baseline {name}: no finished run or team of that name"
                          + (f" in phase {phase}" if phase else ""))
    return None


def run_command(args: argparse.Namespace) -> int:
    from bundlekit.report.build import write_report  # noqa: PLC0415 - numpy and scipy only when run

    try:
        written = write_report(args)
    except (CampaignError, ReportError) as exc:
        print(f"bundlekit report: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
