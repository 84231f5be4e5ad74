"""Large reference files read with numpy: plain CSV fields as byte spans, exact lookups of byte keys.

A reference file of a million lines read into Python strings, tuples and dicts costs
seconds and hundreds of MiB; the same work on the file's bytes costs a few numpy passes.
:func:`split_plain_csv` finds the fields of a plain CSV (no quoting, LF line ends) as
``(start, end)`` byte spans; :func:`fixed_width` turns spans into zero-padded rows of a
``uint8`` matrix; :class:`KeyTable` looks such rows up exactly (hashed, sorted, then
compared byte for byte).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_NEWLINE, _COMMA = ord("\n"), ord(",")
#: The 64-bit word whose first n bytes (in memory order) are 0xff and the others 0, for n = 0..8.
_FIRST_BYTES_MASK = np.frombuffer(b"".join(bytes([255] * n + [0] * (8 - n)) for n in range(9)),
                                  dtype=np.uint64)
#: Odd 64-bit multiplier of the row hash (the golden ratio's).
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


class BadRow(ValueError):
    """A row with another number of fields than expected, or an empty field; ``row`` is its 0-based index."""

    def __init__(self, row: int):
        super().__init__(f"row {row}")
        self.row = row


def split_plain_csv(data: bytes, n_fields: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Field spans of a plain CSV: LF line ends, no blank line, commas only between fields.

    Returns
    -------
    buffer : numpy.ndarray of uint8
        ``data`` (with a final LF).
    starts, ends : numpy.ndarray of int64, shape (n_rows, n_fields)
        Byte span of every field of every row (the header is row 0).

    Raises
    ------
    BadRow
        For the first row with another number of fields, or an empty field.
    """
    if not data.endswith(b"\n"):
        data += b"\n"
    buffer = np.frombuffer(data, dtype=np.uint8)
    separators = np.flatnonzero((buffer == _COMMA) | (buffer == _NEWLINE))
    is_line_end = buffer[separators] == _NEWLINE
    n_rows = int(np.count_nonzero(is_line_end))
    expected = np.tile(np.arange(n_fields) == n_fields - 1, n_rows)
    if separators.size != expected.size or not np.array_equal(is_line_end, expected):
        row_of = np.cumsum(is_line_end) - is_line_end  # row of every separator
        commas_per_row = np.bincount(row_of[~is_line_end], minlength=n_rows)
        raise BadRow(int(np.flatnonzero(commas_per_row != n_fields - 1)[0]))
    ends = separators.reshape(n_rows, n_fields)
    starts = np.empty_like(ends)
    starts[0, 0] = 0
    starts[1:, 0] = ends[:-1, -1] + 1
    starts[:, 1:] = ends[:, :-1] + 1
    empty = np.flatnonzero((ends == starts).any(axis=1))
    if empty.size:
        raise BadRow(int(empty[0]))
    return buffer, starts, ends


def fixed_width(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The byte spans ``buffer[starts[i]:ends[i]]`` as zero-padded rows of a ``(n, 8k)`` uint8 matrix.

    Spans must hold no NUL byte (padding would make ``b"a"`` and ``b"a\\0"`` equal).
    """
    lengths = ends - starts
    width = max(8, -(-int(lengths.max(initial=0)) // 8) * 8)
    last = buffer.size - width  # the last start with a whole window in the buffer
    if last < 0:
        buffer, last = np.concatenate([buffer, np.zeros(-last, dtype=np.uint8)]), 0
    # Windows of the buffer itself (no padded copy of it); the few spans starting in the
    # last window read from a padded copy of that window.
    within = np.minimum(starts, last)
    rows = sliding_window_view(buffer, width)[within]
    near_end = np.flatnonzero(within != starts)
    if near_end.size:
        tail = np.concatenate([buffer[last:], np.zeros(width, dtype=np.uint8)])
        rows[near_end] = sliding_window_view(tail, width)[starts[near_end] - last]
    # Zero the bytes past each span a 64-bit word at a time: word j keeps its first
    # clip(length - 8j, 0, 8) bytes.
    kept_bytes = np.clip(lengths[:, None] - np.arange(0, width, 8), 0, 8)
    rows.view(np.uint64)[...] &= _FIRST_BYTES_MASK[kept_bytes]
    return rows


def encode_keys(texts: list[str]) -> np.ndarray:
    """Strings (without LF) as rows of a fixed-width uint8 matrix, UTF-8 encoded, comparable to :func:`fixed_width`'s."""
    data = ("\n".join(texts) + "\n").encode("utf-8")
    buffer = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buffer == _NEWLINE)
    return fixed_width(buffer, np.r_[0, ends[:-1] + 1], ends)


def same_width(keys: np.ndarray, width: int) -> np.ndarray:
    """``keys`` cut or zero-padded to ``width`` columns (cut keys are only compared after a width check)."""
    if keys.shape[1] >= width:
        return np.ascontiguousarray(keys[:, :width])
    return np.pad(keys, ((0, 0), (0, width - keys.shape[1])))


def _hash(keys: np.ndarray) -> np.ndarray:
    words = np.ascontiguousarray(keys).view(np.uint64)
    hashes = np.zeros(words.shape[0], dtype=np.uint64)
    for column in range(words.shape[1]):
        hashes = (hashes ^ words[:, column]) * _MULTIPLIER
        hashes ^= hashes >> np.uint64(29)
    return hashes


def key_codes(keys: np.ndarray) -> np.ndarray:
    """Compact codes ``0..k-1`` of fixed-width keys, equal for equal keys (exact)."""
    if keys.shape[1] == 8:  # one word: the key is its own exact hash
        inverse = np.unique(keys.view(np.uint64).reshape(-1), return_inverse=True)[1]
    else:
        inverse = np.unique(KeyTable(keys).codes, return_inverse=True)[1]
    return inverse.reshape(-1)


class KeyTable:
    """Exact lookup of fixed-width byte keys (the rows of a zero-padded uint8 matrix).

    Attributes
    ----------
    repeated : numpy.ndarray of int64
        Rows whose key appeared on an earlier row, ascending.
    codes : numpy.ndarray of int64
        Per row, a code shared by equal keys (the first row of the key).
    """

    def __init__(self, keys: np.ndarray):
        self.keys = keys
        hashes = _hash(keys)
        order = np.argsort(hashes)
        sorted_hashes = hashes[order]
        if not (sorted_hashes[1:] == sorted_hashes[:-1]).any():  # every key distinct: the usual reference
            self._sorted, self._order = sorted_hashes, order
            self.codes = np.arange(len(keys), dtype=np.int64)
            self.repeated = np.zeros(0, dtype=np.int64)
            return
        # Equal hashes: sort again, stably, and by the bytes too when two different keys share a hash.
        order = np.argsort(hashes, kind="stable")
        sorted_hashes = hashes[order]
        sorted_keys = keys[order]
        same = (sorted_keys[1:] == sorted_keys[:-1]).all(axis=1)
        if ((sorted_hashes[1:] == sorted_hashes[:-1]) & ~same).any():
            words = keys.view(">u8")  # big-endian words compare as the bytes do
            order = np.lexsort([*(words[:, c] for c in range(words.shape[1] - 1, -1, -1)), hashes])
            sorted_hashes, sorted_keys = hashes[order], keys[order]
            same = (sorted_keys[1:] == sorted_keys[:-1]).all(axis=1)
        self._sorted, self._order = sorted_hashes, order
        group_start = np.r_[0, np.flatnonzero(~same) + 1]
        first_row = np.repeat(order[group_start], np.diff(np.r_[group_start, len(order)]))
        self.codes = np.empty(len(order), dtype=np.int64)
        self.codes[order] = first_row
        self.repeated = np.sort(order[1:][same])

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key of ``keys`` in the table (the first one if repeated), -1 when absent."""
        width = self.keys.shape[1]
        too_wide = (keys[:, width:] != 0).any(axis=1) if keys.shape[1] > width else np.zeros(len(keys), bool)
        keys = same_width(keys, width)
        hashes = _hash(keys)
        # Searching in sorted order walks the table once (a random order would miss the caches).
        by_hash = np.argsort(hashes)
        position = np.empty(len(keys), dtype=np.int64)
        position[by_hash] = np.searchsorted(self._sorted, hashes[by_hash])
        found = np.full(len(keys), -1, dtype=np.int64)
        pending = np.flatnonzero(~too_wide)
        # Keys compared a 64-bit word at a time (the width is a multiple of 8).
        table_words, key_words = (np.ascontiguousarray(k).view(np.uint64) for k in (self.keys, keys))
        while pending.size:  # candidates of equal hash, one at a time (almost always exactly one)
            pending = pending[position[pending] < len(self._sorted)]
            pending = pending[self._sorted[position[pending]] == hashes[pending]]
            candidate = self._order[position[pending]]
            match = (table_words[candidate] == key_words[pending]).all(axis=1)
            found[pending[match]] = candidate[match]
            pending = pending[~match]
            position[pending] += 1
        return found


def distinct_spans(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each ASCII span ``buffer[starts[k]:ends[k]]`` as a code among the distinct spans.

    Returns the codes and the distinct spans as a ``str`` array, ``distinct[codes[k]]``
    being span ``k``; only the distinct spans become strings.
    """
    keys = fixed_width(buffer, starts, ends)
    # Equal spans, equal words (one-word keys are their own exact code).
    words = keys.view(np.uint64).reshape(-1) if keys.shape[1] == 8 else KeyTable(keys).codes
    _, first_row, codes = np.unique(words, return_index=True, return_inverse=True)
    width = keys.shape[1]
    # Zero-padded ASCII rows read as bytes strings (padding dropped), then as str.
    return codes.reshape(-1), keys[first_row].view(f"S{width}").reshape(-1).astype(f"U{width}")
