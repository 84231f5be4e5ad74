"""Submit a zip to a phase: `bundlekit submit COMPETITION SUB.zip --phase NAME [--wait]`.

Asks the platform whether the account may submit, uploads the zip, and prints the
submission's id; with ``--wait``, follows it to its scores (exit 1 when it fails).
A phase that has ended is refused here (the platform's API does not check dates).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bundlekit.platform.client import Platform, PlatformError, end_progress, find_phase, phase_closed, progress_printer
from bundlekit.platform.common import add_competition_argument, add_timeout_argument, fmt, guarded, table


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_competition_argument(parser)
    add_timeout_argument(parser)
    parser.add_argument("submission", type=Path, metavar="SUB.zip", help="a result or code submission zip")
    parser.add_argument("--phase", required=True, metavar="NAME", help="the phase, by name (e.g. Development)")
    parser.add_argument("--wait", action="store_true", help="follow the submission until its scores are posted")
    parser.add_argument("--answer", action="append", default=[], metavar="KEY=VALUE",
                        help="a fact-sheet answer (repeat it; give all of the fact sheet's keys)")


def parse_answers(pairs: list[str]) -> dict[str, str]:
    answers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PlatformError(f"--answer {pair!r}: write KEY=VALUE, KEY being a fact-sheet question's key")
        answers[key] = value
    return answers


def run_command(args: argparse.Namespace) -> int:
    def body(platform: Platform) -> int:
        answers = parse_answers(args.answer)
        competition = platform.competition(args.competition)
        phase = find_phase(competition, args.phase)
        ended = phase_closed(phase)
        if ended:
            open_phases = [p["name"] for p in competition.get("phases", []) if not phase_closed(p)]
            raise PlatformError(f"phase {phase['name']!r} closed on {ended}; submit to an open phase"
                                + (f" ({', '.join(open_phases)})" if open_phases else ""))
        submission_id = platform.submit(phase, args.submission, answers)
        print(f"submitted {args.submission.name} to {phase['name']!r}: submission {submission_id}", file=sys.stderr)
        print(submission_id)
        if not args.wait:
            return 0
        show = progress_printer()
        try:
            result = platform.wait([submission_id], progress=show, timeout_s=args.timeout)[submission_id]
        finally:
            end_progress(show)
        if result.status != "Finished":
            print(f"bundlekit submit: submission {submission_id} ended {result.status}: "
                  f"{result.details or 'no reason given'}; read its detailed results and logs on the platform",
                  file=sys.stderr)
            return 1
        print(table(["score", "value"], [[key, fmt(value)] for key, value in sorted(result.scores.items())]))
        return 0

    return guarded("submit", body)
