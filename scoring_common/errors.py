"""The two kinds of failure a program can report.

A :class:`ParticipantError` is the participant's to fix: the program prints one line
on stderr (no traceback) and exits with code 1. An :class:`InternalError` is the
organisers' problem (bad reference data, a bug): the traceback is allowed and the exit
code is 2.

Messages quote the participant's values through :func:`quote`, which cuts long ones, and
a whole message is capped at :data:`MAX_MESSAGE_CHARS`.
"""

from __future__ import annotations

EXIT_PARTICIPANT_ERROR = 1
EXIT_INTERNAL_ERROR = 2

#: How many offending ids a message lists before it says "and N more".
MAX_LISTED_IDS = 5
#: Most characters of a participant's value a message quotes (longer ones end in "...").
MAX_QUOTED_CHARS = 60
#: Most characters of a whole message (longer ones lose their middle).
MAX_MESSAGE_CHARS = 500


class ParticipantError(Exception):
    """A problem with the submission, explained in one line.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it.
    file : str, optional
        Name of the participant's file the problem is in.
    line : int, optional
        1-based line number in ``file``.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file} line {self.line}"
            where += ": "
        return _shorten_middle(" ".join(f"{where}{self.message}".split()), MAX_MESSAGE_CHARS)


class InternalError(Exception):
    """A fault on the organisers' side: reference data, bundle or program."""


def list_ids(ids: "list[str] | tuple[str, ...]", limit: int = MAX_LISTED_IDS) -> str:
    """Quote the first ``limit`` ids and say how many more there are.

    >>> list_ids(["a", "b", "c"], limit=2)
    "'a', 'b' and 1 more"
    """
    shown = ", ".join(quote(i) for i in ids[:limit])
    rest = len(ids) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def quote(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """Quote a participant's value for a message, cut to ``limit`` characters.

    >>> quote("x" * 100, limit=5)
    "'xxxxx...' (100 characters)"
    """
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '...'!r} ({len(text)} characters)"


def _shorten_middle(text: str, limit: int) -> str:
    """Cut the middle out of ``text`` so that it fits ``limit``, keeping where (start) and fix (end)."""
    if len(text) <= limit:
        return text
    kept = limit - len(" ... ")
    head = kept * 3 // 5
    return f"{text[:head]} ... {text[head - kept:]}"
