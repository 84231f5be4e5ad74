"""Score every submission of a phase again: `bundlekit rerun COMPETITION --phase NAME`.

After a fix of the reference data or of the scoring program (published on the platform),
reruns each of the phase's submissions once (earlier reruns are not rerun again),
waits, and prints old and new scores side by side. Exit 1 when a rerun fails or, with
``--expect-same``, when a quality score changed (cost columns are measured, not compared).
Reruns do not join an ``Add_*`` leaderboard by themselves; ``bundlekit results`` records
each one's ``rerun_of``.
"""

from __future__ import annotations

import argparse
import sys
import time
from urllib.parse import urlsplit

from bundlekit.platform.client import (
    TERMINAL, Platform, as_submitted, end_progress, find_phase, progress_printer,
)
from bundlekit.platform.common import (
    COST_KEYS, add_competition_argument, add_timeout_argument, differs, fmt, guarded, quality_keys, table,
)
from bundlekit.platform.results import originals


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_competition_argument(parser)
    add_timeout_argument(parser)
    parser.add_argument("--phase", required=True, metavar="NAME", help="the phase whose submissions to rerun")
    parser.add_argument("--expect-same", action="store_true",
                        help="exit 1 when any quality score changed (a rerun that should reproduce the scores)")


def run_command(args: argparse.Namespace) -> int:
    def body(platform: Platform) -> int:
        phase = find_phase(platform.competition(args.competition), args.phase)
        submissions = [s for s in platform.submissions(phase["id"]) if not s.get("parent")]
        data_files = {}
        for submission in submissions:
            url = platform.details(submission["id"]).get("data_file")
            data_files[submission["id"]] = urlsplit(url).path if url else None
        rerun_of = originals(submissions, data_files)
        targets = [s for s in sorted(submissions, key=lambda s: s["id"])
                   if rerun_of[s["id"]] is None and s.get("status") in TERMINAL]
        skipped = sum(1 for s in submissions if rerun_of[s["id"]] is None and s.get("status") not in TERMINAL)
        if skipped:
            print(f"bundlekit rerun: {skipped} submission(s) still running in {phase['name']!r} are left out; "
                  "rerun again once they are over", file=sys.stderr)
        if not targets:
            print(f"bundlekit rerun: phase {phase['name']!r} has no finished submission to rerun", file=sys.stderr)
            return 0
        started = time.monotonic()
        new_ids = {s["id"]: platform.rerun(s["id"]) for s in targets}
        print(f"rerunning {len(targets)} submission(s) of {phase['name']!r}", file=sys.stderr)
        show = progress_printer()
        try:
            results = platform.wait(new_ids.values(), progress=show, timeout_s=args.timeout)
        finally:
            end_progress(show)
        rows, failed, changed = [], 0, 0
        for submission in targets:
            old, new = as_submitted(submission), results[new_ids[submission["id"]]]
            label = [str(old.id), str(submission.get("owner")), str(new.id)]
            if new.status != "Finished":
                failed += 1
                rows.append(label + ["-", "-", "-", f"{new.status}: {new.details or 'no reason given'}"])
                continue
            for key in quality_keys(old.scores, new.scores):
                moved = differs(old.scores.get(key), new.scores.get(key))
                changed += moved
                rows.append(label + [key, fmt(old.scores.get(key)), fmt(new.scores.get(key)),
                                     "CHANGED" if moved else "same"])
            for key in sorted(COST_KEYS & (set(old.scores) | set(new.scores))):
                rows.append(label + [key, fmt(old.scores.get(key)), fmt(new.scores.get(key)), "measured"])
        print(table(["submission", "owner", "rerun", "score", "old", "new", ""], rows))
        print(f"{len(targets)} rerun(s) in {time.monotonic() - started:.0f} s: {changed} score(s) changed, "
              f"{failed} failed", file=sys.stderr)
        return 1 if failed or (args.expect_same and changed) else 0

    return guarded("rerun", body)
