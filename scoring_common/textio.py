"""Reading participants' text files: tolerant of encoding noise, strict on content.

Runs are read as a stream (:func:`iter_lines`), a chunk at a time: memory stays bounded by
the chunk and the longest line, whatever the file holds, and a reader that refuses line 1
stops there without reading on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from scoring_common.errors import InternalError, ParticipantError

#: Leading bytes of files that are not text runs, and how to fix the submission.
_NOT_TEXT = (
    (b"PK\x03\x04", "is a zip archive, not a text run; unzip it and submit the run file itself "
                    "(an Excel .xlsx file is a zip too: save it as CSV)"),
    (b"\x1f\x8b", "is a gzip archive, not a text run; decompress it and submit the run file itself"),
    (b"\xff\xfe", "is UTF-16 text, not UTF-8; save the file as UTF-8"),
    (b"\xfe\xff", "is UTF-16 text, not UTF-8; save the file as UTF-8"),
)
_BOM = b"\xef\xbb\xbf"
#: Bytes read at a time.
CHUNK_BYTES = 1 << 18
#: The longest line a participant's file may hold (a valid line is a few hundred bytes).
MAX_LINE_BYTES = 1 << 20


def iter_lines(path: Path, *, participant: bool = True, max_line_bytes: int = MAX_LINE_BYTES
               ) -> Iterator[tuple[int, str]]:
    """Yield the non-blank lines of a UTF-8 text file with their 1-based numbers, as a stream.

    A leading byte-order mark is tolerated; lines may end in LF, CRLF (Windows) or a lone
    CR (old Mac); trailing whitespace is stripped. At most one chunk
    (:data:`CHUNK_BYTES`) and one line are held in memory at a time.

    Parameters
    ----------
    path : Path
        The file to read.
    participant : bool
        Whether the file comes from the participant (errors are then
        :class:`ParticipantError`) or from the organisers (:class:`InternalError`).
    max_line_bytes : int
        Longest line accepted; a longer one is refused at its line number.
    """
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed by the with below, also when the caller stops early
    except OSError as exc:
        raise _unreadable(path, exc, participant) from exc
    with file:
        carry = b""
        number = 0  # lines completed before the current segment
        first = True
        while True:
            try:
                chunk = file.read(CHUNK_BYTES if not first else max(CHUNK_BYTES, 8))
            except OSError as exc:
                raise _unreadable(path, exc, participant) from exc
            if first:
                first = False
                if participant:
                    _refuse_non_text(chunk, path.name)
                if chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM):]
            eof = not chunk
            buffer = carry + chunk if carry else chunk
            end = len(buffer) if eof else _end_of_last_line(buffer)
            segment, carry = buffer[:end], buffer[end:]
            if len(carry) > max_line_bytes:
                line = number + _count_line_ends(segment) + 1
                message = (f"is longer than {max_line_bytes / (1 << 20):g} MiB; "
                           "a run has one short line per item, each ending in a line break")
                if participant:
                    raise ParticipantError(message, file=path.name, line=line)
                raise InternalError(f"reference file {path} line {line} {message}")
            text = _decode(segment, path, number, participant)
            lines = text.split("\n")
            if not eof:
                lines.pop()  # the segment ends with a line end: the last piece is empty
            for offset, line in enumerate(lines, start=number + 1):
                if line and not line.isspace():
                    yield offset, line.rstrip()
            number += len(lines)
            if eof:
                return


def read_lines(path: Path, *, participant: bool = True) -> list[tuple[int, str]]:
    """Return the non-blank lines of a UTF-8 text file with their 1-based numbers.

    The whole-file form of :func:`iter_lines` (same rules), for the organisers' reference
    files; participants' runs are read with :func:`iter_lines`.
    """
    return list(iter_lines(path, participant=participant))


def _end_of_last_line(buffer: bytes) -> int:
    """Position just after the last complete line end of ``buffer`` (0: none).

    A CR at the very end may be the first half of a CRLF split between two chunks: it
    waits for the next chunk.
    """
    end = max(buffer.rfind(b"\n"), buffer.rfind(b"\r")) + 1
    if end == len(buffer) and buffer.endswith(b"\r"):
        end = max(buffer.rfind(b"\n", 0, end - 1), buffer.rfind(b"\r", 0, end - 1)) + 1
    return end


def _count_line_ends(raw: bytes) -> int:
    return raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")


def _decode(segment: bytes, path: Path, lines_before: int, participant: bool) -> str:
    """Decode one segment of whole lines, with LF line ends; a bad byte is reported at its line."""
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = lines_before + _count_line_ends(segment[: exc.start]) + 1
        message = f"is not valid UTF-8 (byte 0x{segment[exc.start]:02x}); save the file as UTF-8"
        if participant:
            raise ParticipantError(message, file=path.name, line=line) from None
        raise InternalError(f"reference file {path} line {line} {message}") from exc
    return _unify_line_ends(text)


def _unreadable(path: Path, exc: OSError, participant: bool) -> Exception:
    if participant:
        return ParticipantError(f"cannot be read ({exc.strerror}); upload it again", file=path.name)
    return InternalError(f"reference file {path} cannot be read: {exc}")


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
