"""Checks shared by the run readers; every message names the offending value.

Messages only ever quote the participant's own ids and values. Reference ids that the
run lacks are counted, never listed.
"""

from __future__ import annotations

import math
from typing import Iterable

from scoring_common.errors import ParticipantError, list_ids, quote


def is_number(text: str) -> bool:
    """Whether ``float`` reads ``text`` (a header's column name is not a number)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_float(text: str, *, what: str, file: str, line: int) -> float:
    """Parse a finite float, or raise a :class:`ParticipantError` naming ``text``."""
    try:
        value = float(text)
    except ValueError:
        raise ParticipantError(f"{what} {quote(text)} is not a number; write a decimal number such as 0.75",
                               file=file, line=line) from None
    if not math.isfinite(value):
        raise ParticipantError(f"{what} {quote(text)} is not a finite number; replace NaN or infinite values",
                               file=file, line=line)
    return value


def parse_int(text: str, *, what: str, file: str, line: int, minimum: int | None = None) -> int:
    """Parse an integer (at least ``minimum``), or raise a :class:`ParticipantError`."""
    try:
        value = int(text)
    except ValueError:
        raise ParticipantError(f"{what} {quote(text)} is not an integer", file=file, line=line) from None
    if minimum is not None and value < minimum:
        raise ParticipantError(f"{what} {value} is below {minimum}", file=file, line=line)
    return value


def expect_field_count(fields: list[str], allowed: Iterable[int], *, layout: str, file: str, line: int) -> None:
    """Raise unless the line has one of the ``allowed`` numbers of fields."""
    allowed = tuple(allowed)
    if len(fields) not in allowed:
        raise ParticipantError(
            f"found {len(fields)} fields, expected {' or '.join(map(str, allowed))} ({layout})",
            file=file, line=line,
        )


def check_unknown_ids(run_ids: Iterable[str], known_ids: set[str], *, what: str, file: str,
                      first_lines: dict[str, int]) -> None:
    """Raise if the run names ids the split does not have (the run's own ids are quoted)."""
    unknown = sorted(set(run_ids) - known_ids, key=lambda i: first_lines[i])
    if unknown:
        raise ParticipantError(
            f"{len(unknown)} {what}(s) not in this split, e.g. {list_ids(unknown)}; "
            f"score only the {what}s of the split you submit to (dev and test differ)",
            file=file, line=first_lines[unknown[0]],
        )


def check_missing_count(n_missing: int, n_expected: int, *, what: str, file: str, hint: str) -> None:
    """Raise if the run lacks ``n_missing`` of the ``n_expected`` reference ids (counted, not listed)."""
    if n_missing:
        raise ParticipantError(
            f"{n_missing} of the {n_expected} {what}s of this split are missing from the run; {hint}",
            file=file,
        )
