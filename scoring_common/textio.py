"""Reading participants' text files: tolerant of encoding noise, strict on content."""

from __future__ import annotations

from pathlib import Path
from scoring_common.errors import InternalError, ParticipantError

#: Leading bytes of files that are not text runs, and how to fix the submission.
_NOT_TEXT = (
    (b"PK\x03\x04", "is a zip archive, not a text run; unzip it and submit the run file itself "
                    "(an Excel .xlsx file is a zip too: save it as CSV)"),
    (b"\x1f\x8b", "is a gzip archive, not a text run; decompress it and submit the run file itself"),
    (b"\xff\xfe", "is UTF-16 text, not UTF-8; save the file as UTF-8"),
    (b"\xfe\xff", "is UTF-16 text, not UTF-8; save the file as UTF-8"),
)


def read_lines(path: Path, *, participant: bool = True) -> list[tuple[int, str]]:
    """Return the non-blank lines of a UTF-8 text file with their 1-based numbers.

    A leading byte-order mark is tolerated; lines may end in LF, CRLF (Windows) or a lone
    CR (old Mac); trailing whitespace is stripped.

    Parameters
    ----------
    path : Path
        The file to read.
    participant : bool
        Whether the file comes from the participant (errors are then
        :class:`ParticipantError`) or from the organisers (:class:`InternalError`).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        if participant:
            raise ParticipantError(f"cannot be read ({exc.strerror}); upload it again", file=path.name)
        raise InternalError(f"reference file {path} cannot be read: {exc}") from exc
    if participant:
        _refuse_non_text(raw, path.name)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _unify_line_ends(raw[: exc.start].decode("utf-8")).count("\n") + 1
        message = f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        if participant:
            raise ParticipantError(message, file=path.name, line=line)
        raise InternalError(f"reference file {path} line {line} {message}") from exc
    lines = _unify_line_ends(text).split("\n")
    return [(number, line.rstrip()) for number, line in enumerate(lines, start=1) if line.strip()]


def _refuse_non_text(raw: bytes, name: str) -> None:
    """Raise for an archive or UTF-16 file, recognised by its first bytes."""
    for signature, message in _NOT_TEXT:
        if raw.startswith(signature):
            raise ParticipantError(message, file=name)


def _unify_line_ends(text: str) -> str:
    """Turn CRLF and lone CR line ends into LF."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")
