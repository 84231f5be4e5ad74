"""The organiser's pre-launch check: `bundlekit smoke COMPETITION BUNDLE.zip`.

Submits every baseline solution of the bundle (its ``solutions`` in competition.yaml) to
a phase that runs exactly the solution's tasks, waits for the scores, and compares the
scores the platform posts with the build's ``baselines.json`` (``BUNDLE.baselines.json``
beside the zip, or ``--baselines``). Prints one row per submission and score; exits 1 on
any difference, on a failed submission or on a missing score. Cost columns (``time_s``,
``cpu_s``, ``memory_mib``) are measured, shown, and never compared. Phase dates are not
checked: smoke is made to run before the launch. The submissions count against the
organiser's own daily quota of each phase; several phases running the same tasks share
the load.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bundlekit.bundle_model import COMPETITION_YAML, read_document
from bundlekit.platform.client import Platform, PlatformError, end_progress, find_phase, progress_printer
from bundlekit.platform.common import (
    COST_KEYS, add_competition_argument, add_timeout_argument, differs, fmt, guarded, quality_keys, table,
)

#: How the build names its solution zips: baselines as results of one split, and as code.
SOLUTION_PATH = re.compile(r"solutions/(?P<name>.+?)-(?:results-(?P<split>[\w-]+)|code)\.zip")
#: The build's splits, in the order of the task indexes it gives them.
SPLITS = ("dev", "test")


@dataclass
class Planned:
    """One baseline submission: which solution, to which phase, expecting which scores."""

    solution: str
    path: str
    phase: dict
    split: str
    expected: dict[str, float]
    submission_id: int | None = None


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_competition_argument(parser)
    add_timeout_argument(parser)
    parser.add_argument("bundle", type=Path, metavar="BUNDLE.zip", help="the bundle the competition was published from")
    parser.add_argument("--baselines", type=Path, metavar="FILE",
                        help="the build's baselines (default: BUNDLE.baselines.json beside the zip)")
    parser.add_argument("--only", choices=("results", "code"),
                        help="submit only the baselines as results, or only as code (default: both)")


def plan(bundle: Path, baselines: dict, competition: dict, only: str | None = None) -> list[Planned]:
    """Every (solution, phase) pair to submit, with the scores baselines.json expects."""
    with zipfile.ZipFile(bundle) as archive:
        document = read_document(archive.read(COMPETITION_YAML))
    phases_by_tasks: dict[tuple[int, ...], list[dict]] = {}
    for phase in document.get("phases") or []:
        phases_by_tasks.setdefault(tuple(sorted(phase["tasks"])), []).append(find_phase(competition, phase["name"]))
    planned = []
    for solution in document.get("solutions") or []:
        match = SOLUTION_PATH.fullmatch(solution["path"])
        if match is None or match["name"] not in baselines.get("solutions", {}):
            raise PlatformError(f"{bundle.name}: solution {solution['path']!r} is not one the build made "
                                "(solutions/<name>-results-<split>.zip or -code.zip named in baselines.json)")
        if only and (only == "code") != (match["split"] is None):
            continue
        for task in sorted(solution["tasks"]):
            split = SPLITS[task]
            if match["split"] not in (None, split):
                raise PlatformError(f"{bundle.name}: solution {solution['path']!r} runs task {task} ({split})")
            candidates = phases_by_tasks.get((task,))
            if not candidates:
                continue
            expected = baselines["solutions"][match["name"]][split]
            planned.append(Planned(match["name"], solution["path"], candidates[0], split, expected))
    _spread(planned, phases_by_tasks)
    return planned


def _spread(planned: list[Planned], phases_by_tasks: dict[tuple[int, ...], list[dict]]) -> None:
    """Share the submissions among the phases running the same tasks, within each phase's daily quota."""
    used: dict[int, int] = {}
    for item in planned:
        candidates = phases_by_tasks[(SPLITS.index(item.split),)]
        for phase in candidates:
            limit = phase.get("max_submissions_per_day") or float("inf")
            if used.get(phase["id"], 0) < limit:
                item.phase = phase
                break
        else:
            names = ", ".join(repr(p["name"]) for p in candidates)
            raise PlatformError(f"the {item.split} baselines need more submissions than phases {names} allow in a "
                                "day; raise max_submissions_per_day for the smoke test, or run it over two days")
        used[item.phase["id"]] = used.get(item.phase["id"], 0) + 1


def run_command(args: argparse.Namespace) -> int:
    def body(platform: Platform) -> int:
        baselines_path = args.baselines or args.bundle.with_name(args.bundle.name.removesuffix(".zip") + ".baselines.json")
        if not baselines_path.is_file():
            raise PlatformError(f"{baselines_path}: no such file; give the build's baselines with --baselines FILE")
        if not zipfile.is_zipfile(args.bundle):
            raise PlatformError(f"{args.bundle}: not a bundle zip")
        baselines = json.loads(baselines_path.read_text(encoding="utf-8"))
        competition = platform.competition(args.competition)
        planned = plan(args.bundle, baselines, competition, args.only)
        started = time.monotonic()
        with zipfile.ZipFile(args.bundle) as archive, tempfile.TemporaryDirectory(prefix="bundlekit-smoke-") as scratch:
            for item in planned:
                path = Path(scratch) / Path(item.path).name
                path.write_bytes(archive.read(item.path))
                item.submission_id = platform.submit(item.phase, path)
        print(f"submitted {len(planned)} baseline submission(s) to competition {competition['id']}", file=sys.stderr)
        show = progress_printer()
        try:
            results = platform.wait([item.submission_id for item in planned], progress=show, timeout_s=args.timeout)
        finally:
            end_progress(show)
        rows, failures = [], 0
        for item in planned:
            result = results[item.submission_id]
            label = [item.solution, Path(item.path).stem.removeprefix(item.solution + "-"), item.phase["name"],
                     str(item.submission_id)]
            if result.status != "Finished":
                failures += 1
                rows.append(label + ["-", "-", "-", f"{result.status}: {result.details or 'no reason given'}"])
                continue
            for key in quality_keys(item.expected, result.scores):
                expected, actual = item.expected.get(key), result.scores.get(key)
                bad = differs(expected, actual)
                failures += bad
                rows.append(label + [key, fmt(expected), fmt(actual), "DIFFERENT" if bad else "same"])
            for key in sorted(COST_KEYS & set(result.scores)):
                rows.append(label + [key, "-", fmt(result.scores[key]), "measured"])
        print(table(["baseline", "as", "phase", "submission", "score", "baselines.json", "platform", ""], rows))
        verdict = "every baseline scores as in baselines.json" if not failures else f"{failures} difference(s) or failure(s)"
        print(f"{len(planned)} submission(s) in {time.monotonic() - started:.0f} s: {verdict}", file=sys.stderr)
        return 1 if failures else 0

    return guarded("smoke", body)

