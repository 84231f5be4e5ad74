"""Readers of fusion-div files: the relevance and cluster ground truth, and TREC runs.

Reference data (organisers' files, problems are :class:`InternalError`):

- ``rGT.csv``: header ``query_id,photo_id,rel``, rel in {1, 0, -1} (-1 = "don't know");
- ``dGT.csv``: header ``query_id,photo_id,cluster_id``, one line per relevant photo.

Run (participant's file, problems are :class:`ParticipantError`): TREC lines
``query_id iter photo_id rank score run_id`` separated by whitespace. ``iter`` and
``run_id`` are ignored; a query's ranking is ordered by ``rank`` (0 = best, every query
starts at 0), not by line order. The TREC reader is generic: the word for the ranked
items ("photo") and the per-query limit are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from scoring_common.bytekeys import BadRow, KeyTable, encode_keys, fixed_width, key_codes, split_plain_csv
from scoring_common.errors import InternalError, ParticipantError, quote
from scoring_common.textio import iter_lines, read_lines
from scoring_common.validation import (
    NUMBER_CHARS,
    check_missing_count,
    check_run_size,
    check_unknown_ids,
    expect_field_count,
    is_number,
    parse_float,
)

RELEVANCE_FILE = "rGT.csv"
CLUSTERS_FILE = "dGT.csv"
RELEVANCE_HEADER = ("query_id", "photo_id", "rel")
CLUSTERS_HEADER = ("query_id", "photo_id", "cluster_id")
#: The most photos a run may rank for one query.
MAX_RANKED_PER_QUERY = 50
TREC_FIELDS = ("query_id", "iter", "photo_id", "rank", "score", "run_id")
_RELEVANCE_VALUES = frozenset({"1", "0", "-1"})
#: Ranks above this are refused (they could not be stored as 64-bit integers anyway).
_MAX_RANK = 10**9
#: Characters an item id and a run id may take in the size limit of a run.
ITEM_ID_CHARS = 64
RUN_ID_CHARS = 64


@dataclass(frozen=True)
class DiversityReference:
    """Relevance and cluster ground truth of one split.

    Attributes
    ----------
    query_ids : tuple of str
        The split's queries (those of ``rGT.csv``), in natural order; a query's code is
        its index here.
    judged : KeyTable
        The UTF-8 bytes ``query_id,photo_id`` of every judged photo; its rows index the
        two arrays below (:meth:`KeyTable.find` gives the row of a pair, -1 if unjudged).
    relevant : numpy.ndarray of bool
        Whether each judged photo is relevant (rel = 1).
    cluster : numpy.ndarray of int
        Cluster code of each judged photo (distinct over the whole split), -1 when not relevant.
    n_clusters : numpy.ndarray of int
        Number of distinct clusters of each query's relevant photos.
    """

    query_ids: tuple[str, ...]
    judged: KeyTable
    relevant: np.ndarray
    cluster: np.ndarray
    n_clusters: np.ndarray


@dataclass(frozen=True)
class RankedRun:
    """A validated TREC run, one entry per ranked item, sorted by query code then rank.

    Attributes
    ----------
    query : numpy.ndarray of int
        Query code (index in the split's ``query_ids``).
    position : numpy.ndarray of int
        0-based position in the query's ranking (0 = best), from the order of ``rank``.
    item_ids : list of str
        Ranked item (photo) ids.
    rank, score : numpy.ndarray
        The run's rank and score fields.
    line : numpy.ndarray of int
        Line number of each entry in the run file.
    n_ranked : numpy.ndarray of int
        Number of ranked items per query code.
    """

    query: np.ndarray
    position: np.ndarray
    item_ids: list[str]
    rank: np.ndarray
    score: np.ndarray
    line: np.ndarray
    n_ranked: np.ndarray


def natural_key(identifier: str) -> tuple[int, int, str]:
    """Sort key putting numeric ids in numeric order ("2" before "10"), then the others."""
    if identifier.isascii() and identifier.isdigit():
        return (0, int(identifier), identifier)
    return (1, 0, identifier)


# --------------------------------------------------------------------------- reference


def read_diversity_reference(ref_dir: Path, relevance_file: str = RELEVANCE_FILE,
                             clusters_file: str = CLUSTERS_FILE) -> DiversityReference:
    """Read and cross-check ``rGT.csv`` and ``dGT.csv`` of a split.

    The files' bytes are processed with numpy (:mod:`scoring_common.bytekeys`): no Python
    object per judged photo, so that a split of a million judgements reads in a fraction
    of a second.

    Raises
    ------
    InternalError
        On any malformed line, duplicate judgement, relevance outside {1, 0, -1}, a
        cluster line for a photo that is not relevant, or a relevant photo without a
        cluster. Messages name the file and line, never the reference values.
    """
    rel_path, cluster_path = ref_dir / relevance_file, ref_dir / clusters_file
    rel_lines, (buffer, starts, ends) = _read_reference_csv(rel_path, RELEVANCE_HEADER)
    if not rel_lines.size:
        raise InternalError(f"reference file {rel_path.name} has no judgements")
    relevant = _relevance(rel_path.name, rel_lines, buffer, starts[:, 2], ends[:, 2])
    query_ids, query = _query_codes(buffer, starts[:, 0], ends[:, 0])
    judged = KeyTable(fixed_width(buffer, starts[:, 0], ends[:, 1]))  # "query_id,photo_id"
    if judged.repeated.size:
        raise InternalError(f"reference file {rel_path.name} line {rel_lines[judged.repeated[0]]}: "
                            "the photo is judged twice for its query")

    cluster_lines, (cluster_buffer, cluster_starts, cluster_ends) = _read_reference_csv(cluster_path, CLUSTERS_HEADER)
    rows = judged.find(fixed_width(cluster_buffer, cluster_starts[:, 0], cluster_ends[:, 1]))
    not_relevant = (rows < 0) | ~relevant[rows]
    if not_relevant.any():
        line = cluster_lines[int(np.flatnonzero(not_relevant)[0])]
        raise InternalError(f"reference file {cluster_path.name} line {line}: the photo is not relevant "
                            f"in {rel_path.name}; {cluster_path.name} must list relevant photos only")
    if np.bincount(rows).max(initial=0) > 1:
        order = np.argsort(rows, kind="stable")
        again = order[1:][rows[order][1:] == rows[order][:-1]]
        raise InternalError(f"reference file {cluster_path.name} line {cluster_lines[again.min()]}: "
                            "the photo has a cluster on an earlier line")
    # A cluster is a (query, cluster id) pair: coded from the query's code and the cluster id's.
    cluster_id = key_codes(fixed_width(cluster_buffer, cluster_starts[:, 2], cluster_ends[:, 2]))
    span = int(cluster_id.max(initial=0)) + 1
    pairs, pair_code = np.unique(query[rows] * span + cluster_id, return_inverse=True)
    cluster = np.full(len(rel_lines), -1, dtype=np.int64)
    cluster[rows] = pair_code.reshape(-1)
    unclustered = int(np.count_nonzero(relevant & (cluster < 0)))
    if unclustered:
        raise InternalError(f"{unclustered} relevant photo(s) of {rel_path.name} have no cluster in "
                            f"{cluster_path.name}")
    n_clusters = np.bincount(pairs // span, minlength=len(query_ids))
    return DiversityReference(query_ids, judged, relevant, cluster, n_clusters)


def _read_reference_csv(path: Path, header: tuple[str, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Return the line numbers and the field spans (:func:`split_plain_csv`) of a headed reference CSV.

    Fields are stripped of surrounding whitespace. A file without blank lines, spaces,
    TABs or carriage returns (what the bundle build writes) is split as it is; any other
    file is read line by line, checked and written back plain first.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        raw = None  # read_lines below reports the problem
    if raw is not None:
        raw = raw.removeprefix(b"\xef\xbb\xbf")
        if b"\0" in raw:
            raise InternalError(f"reference file {path.name} holds a NUL byte")
        plain = not any(part in raw for part in (b" ", b"\t", b"\r", b"\n\n")) and not raw.startswith(b"\n")
        if plain and (raw.isascii() or _is_utf8(raw)):
            return _split(path, raw, header, None)
    lines = read_lines(path, participant=False)
    if not lines or tuple(field.strip() for field in lines[0][1].split(",")) != header:
        raise InternalError(f"reference file {path.name} must start with the header {','.join(header)}")
    rows = [[field.strip() for field in text.split(",")] for _, text in lines]
    for (number, _), row in zip(lines, rows):
        if len(row) != len(header) or not all(row):
            _raise_bad_line(path, number, header)
    plain_text = "\n".join(",".join(row) for row in rows).encode("utf-8")
    return _split(path, plain_text, header, np.array([number for number, _ in lines], dtype=np.int64))


def _split(path: Path, data: bytes, header: tuple[str, ...], numbers: np.ndarray | None
           ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Split plain CSV ``data``; ``numbers`` are the file's line numbers of its rows (None: row i is line i + 1)."""
    try:
        buffer, starts, ends = split_plain_csv(data, len(header))
    except BadRow as exc:
        if exc.row == 0:
            raise InternalError(f"reference file {path.name} must start with the header {','.join(header)}") from None
        _raise_bad_line(path, exc.row + 1 if numbers is None else int(numbers[exc.row]), header)
    if bytes(buffer[starts[0, 0]:ends[0, -1]]) != ",".join(header).encode():
        raise InternalError(f"reference file {path.name} must start with the header {','.join(header)}")
    lines = np.arange(1, len(starts) + 1, dtype=np.int64) if numbers is None else numbers
    return lines[1:], (buffer, starts[1:], ends[1:])


def _raise_bad_line(path: Path, line: int, header: tuple[str, ...]) -> None:
    raise InternalError(f"reference file {path.name} line {line}: expected {len(header)} "
                        f"non-empty comma-separated fields ({','.join(header)})")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _relevance(name: str, lines: np.ndarray, buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each judged photo is relevant (rel 1); raise on a rel other than 1, 0 or -1."""
    length = ends - starts
    first = buffer[starts]
    second = buffer[np.minimum(starts + 1, buffer.size - 1)]
    one = (length == 1) & (first == ord("1"))
    valid = one | ((length == 1) & (first == ord("0"))) | ((length == 2) & (first == ord("-")) & (second == ord("1")))
    if not valid.all():
        raise InternalError(f"reference file {name} line {lines[int(np.flatnonzero(~valid)[0])]}: rel must be 1, 0 or -1")
    return one


def _query_codes(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """The distinct query ids in natural order, and the query code of every row.

    Rows come in runs of one query (a file grouped by query has as many runs as queries):
    only the first row of each run is decoded.
    """
    words = fixed_width(buffer, starts, ends).view(np.uint64)  # compared a 64-bit word at a time
    run_starts = np.r_[0, np.flatnonzero((words[1:] != words[:-1]).any(axis=1)) + 1]
    run_ids = [bytes(buffer[starts[row]:ends[row]]).decode("utf-8") for row in run_starts.tolist()]
    ids = sorted(set(run_ids), key=natural_key)
    code = {query_id: position for position, query_id in enumerate(ids)}
    run_codes = np.fromiter(map(code.__getitem__, run_ids), dtype=np.int64, count=len(run_ids))
    return tuple(ids), np.repeat(run_codes, np.diff(np.r_[run_starts, len(words)]))


# --------------------------------------------------------------------------- run


def read_trec_run(path: Path, query_ids: Sequence[str], *, max_per_query: int = MAX_RANKED_PER_QUERY,
                  item: str = "photo") -> RankedRun:
    """Read and validate a TREC run ``query_id iter item_id rank score run_id``.

    The run is refused unread when it is more than
    :data:`~scoring_common.validation.RUN_SIZE_FACTOR` times the largest valid run
    (:func:`largest_trec_run_bytes`). A plain run (:func:`_plain_trec_fields`) is split in
    bulk; any other is read as a stream (a malformed line stops the reading there).

    Rules (each broken one is a :class:`ParticipantError` naming the file and line):
    exactly 6 whitespace-separated fields; no header; a known query; rank an integer >= 0,
    unique within a query, each query's smallest rank 0 (gaps are allowed); score a finite
    number that does not increase as rank grows; no item twice within a query; at most
    ``max_per_query`` items per query; every query of ``query_ids`` at least once.

    Parameters
    ----------
    path : Path
        The participant's run.
    query_ids : sequence of str
        The split's queries; the run's query codes index this sequence.
    max_per_query : int
        The most items a query may rank.
    item : str
        What is ranked, for the messages ("photo").
    """
    name = path.name
    check_run_size(path, largest_trec_run_bytes(query_ids, max_per_query),
                   what=f"at most {max_per_query} lines per query of the split")
    fields = _plain_trec_fields(path)
    if fields is None:  # not plain, or a problem: read line by line, which names it
        fields = _trec_fields(path, item)
    numbers, (queries, items, rank_text, score_text) = fields

    query_index = {query_id: code for code, query_id in enumerate(query_ids)}
    codes = np.fromiter(map(query_index.get, queries, repeat(-1)), dtype=np.int64, count=len(queries))
    if np.any(codes < 0):
        first_lines: dict[str, int] = {}
        for number, query_id in zip(numbers, queries):
            first_lines.setdefault(query_id, number)
        check_unknown_ids(queries, set(query_ids), what="query id", file=name, first_lines=first_lines)
    ranks = _parse_ranks(name, numbers, rank_text, item)
    scores = _parse_scores(name, numbers, score_text)
    line_numbers = np.array(numbers, dtype=np.int64)

    if len(set(zip(codes.tolist(), items))) != len(items):
        _raise_duplicate_item(name, numbers, queries, items, item)
    n_ranked = np.bincount(codes, minlength=len(query_ids))
    if n_ranked.max() > max_per_query:
        _raise_too_many(name, numbers, queries, max_per_query, item)

    order = np.lexsort((ranks, codes))
    codes, ranks, scores, line_numbers = codes[order], ranks[order], scores[order], line_numbers[order]
    same_query = codes[1:] == codes[:-1]
    starts = np.flatnonzero(np.r_[True, ~same_query])
    _check_first_ranks(name, starts, ranks, line_numbers, lambda entry: queries[order[entry]], item)
    _check_pairs(name, same_query & (ranks[1:] == ranks[:-1]), line_numbers, lambda a, b: (
        f"rank {ranks[b]} appears twice for query {quote(queries[order[b]])} (also on line {line_numbers[a]}); "
        f"give each {item} of a query its own rank"))
    _check_pairs(name, same_query & (scores[1:] > scores[:-1]), line_numbers, lambda a, b: (
        f"score {score_text[order[b]]} at rank {ranks[b]} is higher than score {score_text[order[a]]} at rank "
        f"{ranks[a]} (line {line_numbers[a]}) for query {quote(queries[order[b]])}; scores must not increase "
        "as rank grows (rank 0 is the best, with the highest score)"))
    check_missing_count(int(np.count_nonzero(n_ranked == 0)), len(query_ids), what="query id", file=name,
                        hint=f"rank at least one {item} for every query of the split")

    position = np.arange(len(codes)) - np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    return RankedRun(query=codes, position=position, item_ids=[items[i] for i in order.tolist()],
                     rank=ranks, score=scores, line=line_numbers, n_ranked=n_ranked)


#: Columns of the TREC fields kept: query_id, item_id, rank, score.
_KEPT_FIELDS = (0, 2, 3, 4)
#: Bytes a plain run holds: printable ASCII, space, TAB and LF.
_PLAIN_RUN_BYTES = bytes(range(32, 127)) + b"\t\n"
#: Longest line of a plain run (longer ones are read line by line, which bounds them).
_MAX_PLAIN_LINE_BYTES = 4096

#: The reading of a run: line numbers, and the query ids, item ids, ranks and scores as text.
TrecFields = tuple[list[int], tuple[list[str], list[str], list[str], list[str]]]


def _trec_fields(path: Path, item: str) -> TrecFields:
    """Read a TREC run line by line (:func:`~scoring_common.textio.iter_lines`), raising at the first bad line."""
    name = path.name
    numbers: list[int] = []
    rows: list[list[str]] = []
    n_fields = len(TREC_FIELDS)
    for number, text in iter_lines(path):
        row = text.split()
        if len(row) != n_fields:
            _raise_field_count(name, number, text, row)
        if not rows and _is_header(row[3], row[4]):
            raise ParticipantError("looks like a header line; a TREC run has no header, remove this line",
                                   file=name, line=number)
        numbers.append(number)
        rows.append(row)
    if not rows:
        raise ParticipantError(f"is empty; write one line per ranked {item}: {' '.join(TREC_FIELDS)}", file=name)
    return numbers, tuple(list(map(itemgetter(column), rows)) for column in _KEPT_FIELDS)


def _plain_trec_fields(path: Path) -> TrecFields | None:
    """:func:`_trec_fields` of a plain run, split in bulk; None for any other run.

    Plain: printable ASCII, spaces, TABs and LF line ends only, lines of at most
    :data:`_MAX_PLAIN_LINE_BYTES`, not empty, 6 fields on every non-blank line, no header.
    ``str.split`` then splits the whole text as it splits each line, and numpy checks the
    fields per line. Anything else (or a file that cannot be read) gives None: the caller
    reads the run line by line, which reports its problems.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if raw.translate(None, _PLAIN_RUN_BYTES):
        return None
    buffer = np.frombuffer(raw if raw.endswith(b"\n") else raw + b"\n", dtype=np.uint8)
    line_ends = np.flatnonzero(buffer == ord("\n"))
    if np.diff(line_ends, prepend=-1).max(initial=0) > _MAX_PLAIN_LINE_BYTES:
        return None
    separator = (buffer == ord(" ")) | (buffer == ord("\t")) | (buffer == ord("\n"))
    field_starts = np.flatnonzero(~separator & np.r_[True, separator[:-1]])
    n_fields = len(TREC_FIELDS)
    if not field_starts.size or field_starts.size % n_fields:
        return None
    field_line = np.searchsorted(line_ends, field_starts).reshape(-1, n_fields)
    line = field_line[:, 0]
    if (field_line != line[:, None]).any() or (line[1:] == line[:-1]).any():  # a line without exactly 6 fields
        return None
    tokens = raw.decode("ascii").split()
    if _is_header(tokens[3], tokens[4]):
        return None
    numbers = (field_line[:, 0] + 1).tolist()
    return numbers, tuple(tokens[column::n_fields] for column in _KEPT_FIELDS)


def judge_run(run: RankedRun, reference: DiversityReference, *, pool_file: str | None = None,
              run_file: str | None = None, item: str = "photo") -> tuple[np.ndarray, np.ndarray]:
    """Relevance and cluster code of every ranked item of ``run`` (read with ``reference.query_ids``).

    Items the ground truth does not judge are not relevant; rel -1 ("don't know") is not
    relevant either. The cluster code is -1 for items that are not relevant.

    With ``pool_file`` (the public file listing each query's pool), the judged items of a
    query are its pool and an item outside it is refused (a :class:`ParticipantError` at
    its line of ``run_file``) instead of scoring as not relevant: the pool is public, so
    the message may name the item.
    """
    keys = [f"{reference.query_ids[code]},{item_id}" for code, item_id in zip(run.query.tolist(), run.item_ids)]
    rows = reference.judged.find(encode_keys(keys)) if keys else np.zeros(0, dtype=np.int64)
    # A NUL byte would read as the keys' zero padding: an id holding one is never judged.
    if "\0" in "".join(run.item_ids):
        rows[np.fromiter(("\0" in item_id for item_id in run.item_ids), dtype=bool, count=rows.size)] = -1
    if pool_file is not None and (rows < 0).any():
        outside = np.flatnonzero(rows < 0)
        entry = int(outside[np.argmin(run.line[outside])])
        raise ParticipantError(
            f"{item} {quote(run.item_ids[entry])} is not in the pool of query "
            f"{quote(reference.query_ids[run.query[entry]])} ({pool_file}); rank only {item}s of the query's pool",
            file=run_file, line=int(run.line[entry]))
    # Row -1 picks the appended "unjudged" entry.
    relevant = np.append(reference.relevant, False)[rows]
    cluster = np.append(reference.cluster, -1)[rows]
    return relevant, cluster


def _is_header(rank_text: str, score_text: str) -> bool:
    """Whether a first line looks like column names: a rank field "rank", or rank and score not numbers."""
    return rank_text.lower() == "rank" or not (is_number(rank_text) or is_number(score_text))


def _check_first_ranks(name: str, first: np.ndarray, ranks: np.ndarray, line_numbers: np.ndarray,
                       query_of: Callable[[int], str], item: str) -> None:
    """Raise unless every query's smallest rank is 0; ``first`` holds each query's first entry (rank order).

    ``query_of(entry)`` gives the query id of an entry, for the message.
    """
    late = first[ranks[first] != 0]
    if late.size:
        entry = int(late[np.argmin(line_numbers[late])])
        raise ParticipantError(
            f"query {quote(query_of(entry))}: ranks start at {ranks[entry]}, but the first rank must be 0 "
            f"(rank 0 is the best {item}); renumber the ranks from 0", file=name, line=int(line_numbers[entry]))


#: Separators people use in place of whitespace, by name.
_NOT_TREC_SEPARATORS = ((",", "commas"), (";", "semicolons"), ("|", "'|' characters"))


def _raise_field_count(name: str, number: int, text: str, row: list[str]) -> None:
    layout = f"{' '.join(TREC_FIELDS)} separated by spaces or tabs; run_id has no spaces"
    if len(row) < len(TREC_FIELDS):
        for separator, separators in _NOT_TREC_SEPARATORS:
            if separator in text:
                raise ParticipantError(f"found {len(row)} fields, expected {len(TREC_FIELDS)} ({layout}); "
                                       f"{separators} do not separate fields in a TREC run", file=name, line=number)
    expect_field_count(row, (len(TREC_FIELDS),), layout=layout, file=name, line=number)


def largest_trec_run_bytes(query_ids: Sequence[str], max_per_query: int) -> int:
    """Bytes of the largest valid TREC run: ``max_per_query`` lines per query, every field at full width.

    Free-form fields count at :data:`ITEM_ID_CHARS` (item id) and :data:`RUN_ID_CHARS` (run id).
    """
    fixed = ITEM_ID_CHARS + len("Q0") + len(str(_MAX_RANK)) + NUMBER_CHARS + RUN_ID_CHARS + len("     \r\n")
    return max_per_query * (len("".join(query_ids).encode()) + len(query_ids) * fixed)


def _parse_ranks(name: str, numbers: list[int], rank_text: Sequence[str], item: str) -> np.ndarray:
    try:
        ranks = np.fromiter(map(int, rank_text), dtype=np.int64, count=len(rank_text))
        if ranks.min() >= 0 and ranks.max() <= _MAX_RANK:
            return ranks
    except (ValueError, OverflowError):
        pass
    for number, text in zip(numbers, rank_text):
        try:
            rank = int(text)
        except ValueError:
            raise ParticipantError(f"rank {quote(text)} is not an integer; the 4th field is the rank, "
                                   f"0 for the best {item} of the query", file=name, line=number) from None
        if rank < 0 or rank > _MAX_RANK:
            raise ParticipantError(f"rank {text} is out of range; ranks are integers from 0 (the best) "
                                   f"to {_MAX_RANK}", file=name, line=number)
    raise AssertionError("unreachable: a rank failed to parse but every line is valid")


def _parse_scores(name: str, numbers: list[int], score_text: Sequence[str]) -> np.ndarray:
    try:
        scores = np.fromiter(map(float, score_text), dtype=np.float64, count=len(score_text))
        finite = np.isfinite(scores)
        if finite.all():
            return scores
        bad = int(np.flatnonzero(~finite)[0])
        numbers, score_text = numbers[bad:], score_text[bad:]
    except ValueError:
        pass
    for number, text in zip(numbers, score_text):
        parse_float(text, what="score", file=name, line=number)
    raise AssertionError("unreachable: a score failed to parse but every line is valid")


def _raise_duplicate_item(name: str, numbers: list[int], queries: Sequence[str], items: Sequence[str],
                          item: str) -> None:
    first_line: dict[tuple[str, str], int] = {}
    for number, key in zip(numbers, zip(queries, items)):
        if key in first_line:
            raise ParticipantError(f"{item} {quote(key[1])} appears twice for query {quote(key[0])} (first on line "
                                   f"{first_line[key]}); rank each {item} at most once per query",
                                   file=name, line=number)
        first_line[key] = number


def _raise_too_many(name: str, numbers: list[int], queries: Sequence[str], limit: int, item: str) -> None:
    counts: dict[str, int] = {}
    for number, query_id in zip(numbers, queries):
        counts[query_id] = counts.get(query_id, 0) + 1
        if counts[query_id] > limit:
            raise ParticipantError(f"query {quote(query_id)} has more than {limit} {item}s (this line "
                                   f"is number {limit + 1}); keep at most the {limit} best-ranked {item}s per query",
                                   file=name, line=number)


def _check_pairs(name: str, broken: np.ndarray, line_numbers: np.ndarray, explain) -> None:
    """Raise for the broken pair of neighbours (a, a + 1) met first in the file, at the line of a + 1."""
    if not broken.any():
        return
    pairs = np.flatnonzero(broken)
    later = np.maximum(line_numbers[pairs], line_numbers[pairs + 1])
    first = int(pairs[np.argmin(later)])
    a, b = first, first + 1
    raise ParticipantError(explain(a, b), file=name, line=int(line_numbers[b]))
