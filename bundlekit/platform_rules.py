"""What the platform refuses at upload, and the one date reader of build, check and run.

Dates are ISO 8601 only: ``2027-01-15``, ``2027-01-15 12:00``, ``2027-01-15T12:00:00``,
with ``Z`` or an offset (``+02:00``), converted to UTC. Day-month orders such as
``1-1-2026`` or ``01/02/2026`` are ambiguous and refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

#: The longest file name the platform accepts for an uploaded zip (its first API call refuses longer ones).
MAX_UPLOAD_NAME_CHARS = 64
#: An e-mail address as the platform's form validator reads it: local part, @, a dotted domain.
EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_ISO_DATE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?)?"
)
#: How to write a date, for messages.
DATE_HINT = "write it in ISO 8601, in UTC: 2027-04-01, '2027-04-01 12:00' or 2027-04-01T12:00Z"


def parse_utc_date(value: Any) -> tuple[datetime, timedelta | None]:
    """(the instant in UTC, naive; the offset it was written with, or None).

    Accepts a ``datetime`` or ``date`` (as YAML gives them) and ISO 8601 text with a
    space or ``T`` between date and time, seconds optional, ``Z`` or ``+HH:MM`` optional.

    Raises
    ------
    ValueError
        One line saying why and how to write it.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        match = _ISO_DATE.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not an ISO 8601 date (year-month-day); {DATE_HINT}")
        text = match["date"] + (f"T{match['time']}" if match["time"] else "")
        zone = match["zone"]
        if zone:
            text += "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[-2:]}"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date (no such day or time); {DATE_HINT}") from None
    else:
        raise ValueError(f"{value!r} is not a date; {DATE_HINT}")
    offset = moment.utcoffset()
    if offset is None:
        return moment, None
    return moment.astimezone(timezone.utc).replace(tzinfo=None), offset


def email_problem(value: Any) -> str | None:
    """Why ``value`` is not an e-mail address the platform accepts, or None."""
    if isinstance(value, str) and EMAIL.fullmatch(value.strip()) and len(value) <= 254:
        return None
    return f"{value!r} is not an e-mail address (the platform refuses the upload: \"Enter a valid email address\")"


def upload_name_problem(name: str) -> str | None:
    """Why the platform refuses to upload a zip called ``name``, or None."""
    if len(name) <= MAX_UPLOAD_NAME_CHARS:
        return None
    return (f"the file name '{name}' is {len(name)} characters long; the platform refuses uploads whose "
            f"name is longer than {MAX_UPLOAD_NAME_CHARS}")
