"""Finding the rows of a reference file in another file, whatever its compression or text form.

A file is read through gzip, bz2 or xz when its first bytes say so (a zip is opened by
the caller), decoded as UTF-8 or UTF-16 (by its byte-order mark), split into lines
(LF, CRLF or CR) and each line normalised: surrounding blanks, quotes and a BOM dropped,
every run of separators (comma, semicolon, tab, blank, bar) made one comma, lower-cased.
A file's fingerprint is the set of the hashes of its normalised non-empty lines.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import re
from typing import IO, Callable, Iterator

#: Most decompressed bytes read of one file (a bomb in public data is cut there).
MAX_SCAN_BYTES = 256 * 1024**2
#: A reference with fewer distinct rows is left to the exact-copy check (too few to tell a copy).
MIN_ROWS = 5
#: Share of a reference's distinct rows that makes another file a copy of it.
COPY_SHARE = 0.5
_MAGIC = ((b"\x1f\x8b", "gzip-compressed"), (b"BZh", "bzip2-compressed"), (b"\xfd7zXZ\x00", "xz-compressed"))
#: Quotes and BOMs dropped, every separator made a comma.
_TRANSLATION = str.maketrans({**dict.fromkeys("\ufeff\"'"), **dict.fromkeys(";|\t \v\f", ",")})
_COMMAS = re.compile(",,+")
_CHUNK = 1024**2


def compression(head: bytes) -> str | None:
    """How a file is compressed, from its first bytes: a word for messages, or None."""
    return next((word for magic, word in _MAGIC if head.startswith(magic)), None)


def _decompressed(stream: IO[bytes], how: str | None) -> IO[bytes]:
    if how == "gzip-compressed":
        return gzip.GzipFile(fileobj=stream)
    if how == "bzip2-compressed":
        return bz2.BZ2File(stream)
    if how == "xz-compressed":
        return lzma.LZMAFile(stream)
    return stream


def normalise(text: str) -> list[str]:
    """The rows of ``text`` as compared: no BOM, quotes or surrounding blanks, one comma between
    fields (for every run of separators), lower case; empty rows left out."""
    flat = _COMMAS.sub(",", text.translate(_TRANSLATION).lower())
    return [row for line in flat.splitlines() if (row := line.strip(","))]


def row_hashes(open_file: Callable[[], IO[bytes]]) -> Iterator[int]:
    """The hash of every normalised non-empty line of a file, read as the module says.

    Unreadable compressed data ends the lines quietly: what was read so far counts.
    """
    with open_file() as raw:
        head = raw.read(6)
    with open_file() as raw:
        stream = _decompressed(raw, compression(head))
        decoder = None
        pending = ""
        read = 0
        try:
            while read < MAX_SCAN_BYTES and (chunk := stream.read(_CHUNK)):
                read += len(chunk)
                if decoder is None:
                    encoding = "utf-16" if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8"
                    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
                text = pending + decoder.decode(chunk)
                cut = max(text.rfind("\n"), text.rfind("\r")) + 1  # the last line may go on in the next chunk
                text, pending = text[:cut], text[cut:]
                yield from map(hash, normalise(text))
        except (OSError, EOFError, lzma.LZMAError, ValueError):
            pass
        yield from map(hash, normalise(pending))


def fingerprint(open_file: Callable[[], IO[bytes]]) -> frozenset[int]:
    """The set of a file's row hashes."""
    return frozenset(row_hashes(open_file))
