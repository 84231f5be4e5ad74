"""Checks shared by the run readers; every message names the offending value.

Messages only ever quote the participant's own ids and values. Reference ids that the
run lacks are counted, never listed.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Iterable

from scoring_common.errors import ParticipantError, list_ids, quote

#: A run larger than this many times the largest valid run of the split is refused unread.
RUN_SIZE_FACTOR = 8
#: Added to every size limit, so that a tiny split still accepts long ids and stray blank lines.
RUN_SIZE_SLACK_BYTES = 1 << 20
#: Characters a valid number may take in a run (``-0.12345678901234567e-300`` and more).
NUMBER_CHARS = 32
#: Separators people put in place of the expected one, by name, in the order they are looked for.
_SEPARATOR_NAMES = (("\t", "TAB"), (";", "';'"), ("|", "'|'"), (",", "','"), (" ", "space"))


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


def check_run_size(path: Path, largest_valid: int, *, what: str) -> None:
    """Refuse, before reading it, a run more than :data:`RUN_SIZE_FACTOR` times the largest valid one.

    Parameters
    ----------
    path : Path
        The participant's run.
    largest_valid : int
        Bytes of the largest valid run of the split (every item once, every field at its
        longest valid width), as the reader estimates it from the reference.
    what : str
        What the run holds, for the fix ("one line per keyframe of the split").
    """
    size = path.stat().st_size
    limit = RUN_SIZE_FACTOR * largest_valid + RUN_SIZE_SLACK_BYTES
    if size > limit:
        raise ParticipantError(
            f"is {_size(size)}, more than {RUN_SIZE_FACTOR} times the largest valid run of this split "
            f"({_size(largest_valid)}); a run holds {what}, nothing else", file=path.name)


def _size(n_bytes: int) -> str:
    """A file size for a message: ``812 bytes``, ``3.4 KiB``, ``19.0 MiB``."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    if n_bytes < 1 << 20:
        return f"{n_bytes / 1024:.1f} KiB"
    return f"{n_bytes / (1 << 20):.1f} MiB"


def split_csv_line(text: str) -> list[str]:
    """Split one comma-separated line as the :mod:`csv` module reads it (``"0.32"`` is ``0.32``).

    Lines without a double quote take the fast path, a plain split on commas.
    """
    if '"' not in text:
        return text.split(",")
    return next(csv.reader([text]), [""])


def separator_hint(text: str, expected: str) -> str:
    """Name the separator a line with too few fields seems to use instead of ``expected``.

    Returns ``""`` when the line holds none of the usual separators, else
    ``"; the line is separated by TAB, not ','"``-like text to append to a message.
    """
    for separator, name in _SEPARATOR_NAMES:
        if separator != expected and separator in text.strip():
            return f"; the fields seem separated by {name}, not {expected!r}: separate them with {expected!r}"
    return ""


def expect_field_count(fields: list[str], allowed: Iterable[int], *, layout: str, file: str, line: int,
                       hint: str = "") -> None:
    """Raise unless the line has one of the ``allowed`` numbers of fields; ``hint`` ends the message."""
    allowed = tuple(allowed)
    if len(fields) not in allowed:
        raise ParticipantError(
            f"found {len(fields)} fields, expected {' or '.join(map(str, allowed))} ({layout}){hint}",
            file=file, line=line,
        )


def check_unknown_ids(run_ids: Iterable[str], known_ids: set[str], *, what: str, file: str,
                      first_lines: dict[str, int], hint: str = "") -> None:
    """Raise if the run names ids the split does not have (the run's own ids are quoted); ``hint`` ends the message."""
    unknown = sorted(set(run_ids) - known_ids, key=lambda i: first_lines[i])
    if unknown:
        raise ParticipantError(
            f"{len(unknown)} {what}(s) not in this split, e.g. {list_ids(unknown)}; "
            f"score only the {what}s of the split you submit to (dev and test differ){hint}",
            file=file, line=first_lines[unknown[0]],
        )


def check_missing_count(n_missing: int, n_expected: int, *, what: str, file: str, hint: str) -> None:
    """Raise if the run lacks ``n_missing`` of the ``n_expected`` reference ids (counted, not listed)."""
    if n_missing:
        raise ParticipantError(
            f"{n_missing} of the {n_expected} {what}s of this split are missing from the run; {hint}",
            file=file,
        )
