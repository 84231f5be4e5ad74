"""Checks of a code submission made before any of its code runs.

Two things a code zip could use to look faster than it is:

- **Its own command.** The platform's worker treats a submission whose zip holds a
  top-level ``metadata.yaml`` or ``metadata`` as code and runs the ``command`` found there
  (``metadata.yaml`` first), parsed as YAML, in a container of its own before the
  ingestion program: unmeasured. Rather than parse YAML (a quoted key, a BOM, a flow
  mapping, a merge key, an escaped key, a ``? command`` key or a ``---`` marker all
  name a command to a YAML reader), :func:`check_metadata` accepts only the exact no-op
  lines the starting kit writes and refuses every other content.
- **Predictions shipped inside the code** (the predicted split's inducers are public, so
  a run can be computed offline and hidden in the zip). :func:`check_no_embedded_ids`
  refuses a submission whose files, decompressed, carry a large share of the predicted
  split's item ids.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import numpy as np

from scoring_common.errors import ParticipantError, quote

FUSION_FILE = "fusion.py"
#: Names under which the worker looks for a submission's command (the first one wins).
METADATA_NAMES = ("metadata.yaml", "metadata")
#: The only commands a code submission's metadata may give (they do nothing).
NO_OP_COMMANDS = ("python3 -c pass", "python -c pass")
#: The `metadata` of a code submission: its presence marks the zip as code for the platform,
#: and its command must exist (a metadata without one fails there) and do nothing.
CODE_SUBMISSION_METADATA = (
    f"command: {NO_OP_COMMANDS[0]}\n"
    "description: code submission; the ingestion program imports fusion.py and runs Fusion.fit and Fusion.predict\n"
)
#: One line of an accepted metadata, trailing whitespace removed: the no-op command, or a
#: description in plain words (letters first; no ``:`` or ``#``, nothing YAML reads specially).
_COMMAND_LINE = re.compile(r"command: (?P<command>python3? -c pass)")
_DESCRIPTION_LINE = re.compile(r"description: [A-Za-z][A-Za-z0-9 ,.;()_/+'-]*")
#: A metadata file larger than this is not one the kit writes.
MAX_METADATA_BYTES = 4096

#: Share of the predicted split's item ids that makes a submission a run in disguise.
EMBEDDED_IDS_SHARE = 0.2
#: Ids shorter than this are left out of the search (they occur anywhere by chance).
MIN_ID_CHARS = 5
#: Below this many searchable ids the check says nothing.
MIN_IDS_CHECKED = 10
#: Most bytes the search reads, decompressed archives included.
MAX_SCANNED_BYTES = 1 << 30
#: Deepest nesting of archives the search opens.
MAX_ARCHIVE_DEPTH = 4
_CHUNK_BYTES = 8 << 20
_PREFIX_BYTES = 8


def is_code_submission(submission_dir: Path) -> bool:
    """Whether the worker runs ``submission_dir`` as code (or the ingestion must run it).

    The worker takes any top-level ``metadata.yaml`` or ``metadata`` (file or not) as the
    mark of code; a ``fusion.py`` without one is still run here, measured.
    """
    return any(_exists(submission_dir / name) for name in (*METADATA_NAMES, FUSION_FILE))


def _exists(path: Path) -> bool:
    return path.is_symlink() or path.exists()


def check_metadata(submission_dir: Path) -> None:
    """Refuse a code submission whose metadata could make the worker run a command.

    Each of ``metadata.yaml`` and ``metadata``, when present, must be a regular ASCII
    file whose non-blank lines are exactly ``command: python3 -c pass`` (or ``python``)
    once and at most one ``description: <plain words>``, trailing whitespace allowed.
    """
    for name in METADATA_NAMES:
        path = submission_dir / name
        if not _exists(path):
            continue
        problem = _metadata_problem(path)
        if problem:
            raise ParticipantError(
                f"the submission's {name} could run a command of its own, which the platform runs unmeasured before "
                f"this program ({name} {problem}); use exactly `command: {NO_OP_COMMANDS[0]}` (make_submission.py "
                "--code writes it) and put the work in fusion.py"
            )


def _metadata_problem(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return "is not a plain file"
    if path.stat().st_size > MAX_METADATA_BYTES:
        return f"is larger than {MAX_METADATA_BYTES} bytes"
    raw = path.read_bytes()
    if not raw.isascii():
        return "holds bytes that are not ASCII (a byte-order mark?)"
    text = raw.replace(b"\r\n", b"\n").decode("ascii")
    if "\r" in text or any(ord(c) < 32 and c not in "\n\t" for c in text):
        return "holds control characters"
    lines = [line.rstrip(" \t") for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    commands = descriptions = 0
    for number, line in enumerate(lines, start=1):
        if _COMMAND_LINE.fullmatch(line):
            commands += 1
        elif _DESCRIPTION_LINE.fullmatch(line):
            descriptions += 1
        else:
            return f"line {number} is neither the no-op command nor a plain description"
    if commands != 1 or descriptions > 1:
        return "must give the command exactly once (and a description at most once)"
    return None


def check_no_embedded_ids(submission_dir: Path, predicted_ids: Iterable[str],
                          known_ids: Iterable[str] = ()) -> None:
    """Refuse a code submission that carries the predicted split's item ids in bulk.

    The ids searched are those of the predicted split that are not in ``known_ids`` (the
    training split's, which a fitted model may legitimately name), at least
    :data:`MIN_ID_CHARS` long. Every file of the submission is searched as raw bytes
    (so pickles and numpy files count), with NUL bytes removed (UTF-16/32 strings read
    as ASCII), and the members of zip, gzip, bz2 and xz archives are searched too.
    Refused when at least :data:`EMBEDDED_IDS_SHARE` of the ids are found.
    """
    known = set(known_ids)
    ids = sorted({i.encode("utf-8") for i in map(str, predicted_ids)
                  if i not in known and len(i) >= MIN_ID_CHARS and "\0" not in i})
    if len(ids) < MIN_IDS_CHECKED:
        return
    needed = max(1, int(np.ceil(EMBEDDED_IDS_SHARE * len(ids))))
    found: set[bytes] = set()
    for name, blob in _blobs(submission_dir, overlap=4 * max(map(len, ids))):
        found |= _ids_in(blob, ids, found)
        if len(found) >= needed:
            raise ParticipantError(
                f"the submission's file {quote(name)} holds at least {len(found)} of the {len(ids)} item ids of the "
                f"split being predicted (a run shipped as code, refused from {EMBEDDED_IDS_SHARE:.0%}); a code "
                "submission computes its predictions in Fusion.predict from the data the ingestion passes it, so "
                "remove that file (and any copy of the data), or submit a run as a result zip instead"
            )


def _ids_in(blob: bytes, ids: list[bytes], already: set[bytes]) -> set[bytes]:
    """The ids (not in ``already``) that occur in ``blob``.

    Vectorised: positions whose first byte, then first two bytes, start some id, then their 8-byte prefix
    looked up among the ids' prefixes, then the whole id searched for in the blob.
    """
    pending = [item for item in ids if item not in already]
    if not pending:
        return set()
    width = min(_PREFIX_BYTES, min(map(len, pending)))
    data = np.frombuffer(blob, dtype=np.uint8)
    count = len(data) - width + 1
    if count <= 0:
        return set()
    by_prefix: dict[int, list[bytes]] = {}
    heads = np.zeros(1 << 16, dtype=bool)
    for item in pending:
        by_prefix.setdefault(int.from_bytes(item[:width], "big"), []).append(item)
        heads[item[0] << 8 | item[1]] = True
    firsts = sorted({item[0] for item in pending})
    if len(firsts) <= 16:  # a few comparisons beat a table look-up per byte
        first_ok = data[:count] == firsts[0]
        for byte in firsts[1:]:
            first_ok |= data[:count] == byte
    else:
        first_ok = heads.reshape(256, 256).any(axis=1)[data[:count]]
    starts = np.flatnonzero(first_ok)
    starts = starts[heads[(data[starts].astype(np.uint16) << np.uint16(8)) | data[starts + 1]]]
    if not len(starts):
        return set()
    windows = np.zeros(len(starts), dtype=np.uint64)
    for offset in range(width):
        windows = (windows << np.uint64(8)) | data[starts + offset].astype(np.uint64)
    prefixes = np.array(sorted(by_prefix), dtype=np.uint64)
    slots = np.minimum(np.searchsorted(prefixes, windows), len(prefixes) - 1)
    hits = np.unique(windows[prefixes[slots] == windows])
    return {item for prefix in hits.tolist() for item in by_prefix[prefix] if item in blob}


def _blobs(submission_dir: Path, overlap: int) -> Iterator[tuple[str, bytes]]:
    """Every file of the submission as chunks of bytes, NUL bytes removed, archives opened."""
    budget = [MAX_SCANNED_BYTES]
    for path in sorted(submission_dir.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        name = path.relative_to(submission_dir).as_posix()
        with path.open("rb") as stream:
            yield from _stream_blobs(name, stream, overlap, budget, depth=0)


def _stream_blobs(name: str, stream: BinaryIO, overlap: int, budget: list[int],
                  depth: int) -> Iterator[tuple[str, bytes]]:
    """The stream's bytes in overlapping chunks, then, for an archive, its contents."""
    tail = b""
    try:
        while chunk := stream.read(_CHUNK_BYTES):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise ParticipantError(
                    f"the submission holds more than {MAX_SCANNED_BYTES >> 20} MiB of data once unpacked "
                    f"(at {quote(name)}); a code submission ships code and small fitted models, not data"
                )
            yield name, _without_nul(tail + chunk)
            tail = chunk[-overlap:]
        if depth >= MAX_ARCHIVE_DEPTH:
            return
        stream.seek(0)
        head = stream.read(6)
        stream.seek(0)
        if head[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(stream) as archive:
                for member in archive.infolist():
                    if not member.is_dir():
                        with archive.open(member) as inner:
                            yield from _stream_blobs(f"{name}:{member.filename}", inner, overlap, budget, depth + 1)
            return
        opener = _DECOMPRESSORS.get(head[:2]) or _DECOMPRESSORS.get(head[:3]) or _DECOMPRESSORS.get(head[:6])
        if opener is not None:
            with opener(stream) as inner:
                yield from _stream_blobs(name, inner, overlap, budget, depth + 1)
    except _UNREADABLE:
        return  # a corrupt or encrypted archive: what was readable has been searched


def _without_nul(chunk: bytes) -> bytes:
    """``chunk`` without its NUL bytes (UTF-16/32 text of ASCII ids becomes the ids themselves)."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    return data[data != 0].tobytes()


_DECOMPRESSORS = {
    b"\x1f\x8b": lambda stream: gzip.GzipFile(fileobj=stream),
    b"BZh": bz2.BZ2File,
    b"\xfd7zXZ\x00": lzma.LZMAFile,
}
_UNREADABLE = (OSError, EOFError, RuntimeError, NotImplementedError, ValueError, zipfile.BadZipFile,
               lzma.LZMAError, zlib.error)
