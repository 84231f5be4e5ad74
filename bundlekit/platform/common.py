"""What the platform commands share: connecting, one-line failures, phases of a bundle, score tables."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from bundlekit.platform.client import Platform, PlatformError
from scoring_common.program import COST_KEYS as PROGRAM_COST_KEYS

#: Score keys that measure the run's cost (code submissions only): measured, never compared.
COST_KEYS = frozenset(PROGRAM_COST_KEYS)
#: Scores posted by the platform carry 10 decimals.
SCORE_TOLERANCE = 1e-9


def add_competition_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("competition", metavar="COMPETITION", help="the competition's id (publish prints it) or URL")


def add_timeout_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=1800, metavar="SECONDS",
                        help="give up waiting for the scores after this long (default %(default)g s)")


def guarded(command: str, body: Callable[[Platform], int]) -> int:
    """Run a command's body with a platform from the environment; a PlatformError is one line, exit 1."""
    try:
        return body(Platform.from_env())
    except PlatformError as error:
        print(f"bundlekit {command}: {error}", file=sys.stderr)
        return 1


def differs(expected: float | None, actual: float | None) -> bool:
    """Whether two quality scores disagree beyond the platform's 10-decimal rounding."""
    if expected is None or actual is None:
        return expected is not actual
    return abs(expected - actual) > SCORE_TOLERANCE + 1e-12 * abs(expected)


def quality_keys(*score_sets: dict[str, float]) -> list[str]:
    """Every compared score key (cost keys left out), sorted."""
    return sorted({key for scores in score_sets for key in scores} - COST_KEYS)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"
