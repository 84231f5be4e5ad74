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
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from scoring_common.errors import InternalError, ParticipantError, quote
from scoring_common.textio import read_lines
from scoring_common.validation import (
    check_missing_count,
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


@dataclass(frozen=True)
class DiversityReference:
    """Relevance and cluster ground truth of one split.

    Attributes
    ----------
    query_ids : tuple of str
        The split's queries (those of ``rGT.csv``), in natural order; a query's code is
        its index here.
    judged : dict
        ``(query code, photo id) -> row`` of every judged photo, indexing the two arrays below.
    relevant : numpy.ndarray of bool
        Whether each judged photo is relevant (rel = 1).
    cluster : numpy.ndarray of int
        Cluster code of each judged photo (distinct over the whole split), -1 when not relevant.
    n_clusters : numpy.ndarray of int
        Number of distinct clusters of each query's relevant photos.
    """

    query_ids: tuple[str, ...]
    judged: dict[tuple[int, str], int]
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

    Raises
    ------
    InternalError
        On any malformed line, duplicate judgement, relevance outside {1, 0, -1}, a
        cluster line for a photo that is not relevant, or a relevant photo without a
        cluster. Messages name the file and line, never the reference values.
    """
    rel_path, cluster_path = ref_dir / relevance_file, ref_dir / clusters_file
    rel_lines, (rel_queries, rel_photos, rel_text) = _read_reference_csv(rel_path, RELEVANCE_HEADER)
    if not rel_queries:
        raise InternalError(f"reference file {rel_path.name} has no judgements")
    if not set(rel_text) <= _RELEVANCE_VALUES:
        bad = next(i for i, text in enumerate(rel_text) if text not in _RELEVANCE_VALUES)
        raise InternalError(f"reference file {rel_path.name} line {rel_lines[bad]}: rel must be 1, 0 or -1")
    query_ids = tuple(sorted(set(rel_queries), key=natural_key))
    query_index = {query_id: code for code, query_id in enumerate(query_ids)}
    rel_keys = list(zip(map(query_index.__getitem__, rel_queries), rel_photos))
    judged = dict(zip(rel_keys, range(len(rel_keys))))
    if len(judged) != len(rel_keys):
        _raise_repeated_key(rel_path.name, rel_lines, rel_keys, "the photo is judged twice for its query")
    relevant = np.fromiter(map("1".__eq__, rel_text), dtype=bool, count=len(rel_text))

    cluster_lines, (cluster_queries, cluster_photos, cluster_ids) = _read_reference_csv(cluster_path, CLUSTERS_HEADER)
    cluster_query = list(map(query_index.get, cluster_queries))
    rows = np.fromiter(map(judged.get, zip(cluster_query, cluster_photos), repeat(-1)), dtype=np.int64,
                       count=len(cluster_query))
    not_relevant = (rows < 0) | ~relevant[rows]
    if not_relevant.any():
        line = cluster_lines[int(np.flatnonzero(not_relevant)[0])]
        raise InternalError(f"reference file {cluster_path.name} line {line}: the photo is not relevant "
                            f"in {rel_path.name}; {cluster_path.name} must list relevant photos only")
    if rows.size and np.bincount(rows).max() > 1:
        _raise_repeated_key(cluster_path.name, cluster_lines, rows.tolist(), "the photo has a cluster on an earlier line")
    pairs = list(zip(cluster_query, cluster_ids))
    pair_codes = {pair: code for code, pair in enumerate(dict.fromkeys(pairs))}
    cluster = np.full(len(rel_keys), -1, dtype=np.int64)
    cluster[rows] = np.fromiter(map(pair_codes.__getitem__, pairs), dtype=np.int64, count=len(pairs))
    unclustered = int(np.count_nonzero(relevant & (cluster < 0)))
    if unclustered:
        raise InternalError(f"{unclustered} relevant photo(s) of {rel_path.name} have no cluster in "
                            f"{cluster_path.name}")
    pair_query = np.fromiter((code for code, _ in pair_codes), dtype=np.int64, count=len(pair_codes))
    n_clusters = np.bincount(pair_query, minlength=len(query_ids))
    return DiversityReference(query_ids, judged, relevant, cluster, n_clusters)


def _read_reference_csv(path: Path, header: tuple[str, ...]) -> tuple[Sequence[int], tuple[list[str], ...]]:
    """Return the line numbers and the columns of a headed, comma-separated reference file.

    Fields are stripped of surrounding whitespace. A file without blank lines, spaces or
    carriage returns (what the bundle build writes) takes a fast path with no per-line
    Python loop; any other file is read line by line.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = None  # read_lines below reports the problem
    if text is not None and not any(char in text for char in " \t\r"):
        lines = text.split("\n")
        if lines and not lines[-1]:
            lines.pop()
        width = len(header)
        if lines and "" not in lines and lines[0] == ",".join(header) \
                and set(map(methodcaller("count", ","), lines)) == {width - 1}:
            body = lines[1:]
            fields = ",".join(body).split(",") if body else []
            if "" not in fields:
                return range(2, len(body) + 2), tuple(fields[column::width] for column in range(width))
    lines_read = read_lines(path, participant=False)
    if not lines_read or tuple(field.strip() for field in lines_read[0][1].split(",")) != header:
        raise InternalError(f"reference file {path.name} must start with the header {','.join(header)}")
    numbers = [number for number, _ in lines_read[1:]]
    rows = [tuple(field.strip() for field in text.split(",")) for _, text in lines_read[1:]]
    for number, row in zip(numbers, rows):
        if len(row) != len(header) or not all(row):
            raise InternalError(f"reference file {path.name} line {number}: expected {len(header)} "
                                f"non-empty comma-separated fields ({','.join(header)})")
    columns = tuple(list(column) for column in zip(*rows)) if rows else tuple([] for _ in header)
    return numbers, columns


def _raise_repeated_key(name: str, lines: Sequence[int], keys: Sequence, problem: str) -> None:
    seen: set = set()
    for line, key in zip(lines, keys):
        if key in seen:
            raise InternalError(f"reference file {name} line {line}: {problem}")
        seen.add(key)


# --------------------------------------------------------------------------- run


def read_trec_run(path: Path, query_ids: Sequence[str], *, max_per_query: int = MAX_RANKED_PER_QUERY,
                  item: str = "photo") -> RankedRun:
    """Read and validate a TREC run ``query_id iter item_id rank score run_id``.

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
    lines = read_lines(path)
    if not lines:
        raise ParticipantError(f"is empty; write one line per ranked {item}: {' '.join(TREC_FIELDS)}", file=name)
    numbers = [number for number, _ in lines]
    rows = [text.split() for _, text in lines]
    if any(len(row) != len(TREC_FIELDS) for row in rows):
        _raise_field_count(name, lines, rows)
    queries, items, rank_text, score_text = (list(map(itemgetter(column), rows)) for column in (0, 2, 3, 4))
    if _is_header(rank_text[0], score_text[0]):
        raise ParticipantError("looks like a header line; a TREC run has no header, remove this line",
                               file=name, line=numbers[0])

    query_index = {query_id: code for code, query_id in enumerate(query_ids)}
    codes = np.array([query_index.get(query_id, -1) for query_id in queries], dtype=np.int64)
    if np.any(codes < 0):
        first_lines: dict[str, int] = {}
        for number, query_id in zip(numbers, queries):
            first_lines.setdefault(query_id, number)
        check_unknown_ids(queries, set(query_ids), what="query id", file=name, first_lines=first_lines)
    ranks = _parse_ranks(name, numbers, rank_text, item)
    scores = _parse_scores(name, numbers, score_text)
    line_numbers = np.array(numbers, dtype=np.int64)

    if len(set(zip(codes.tolist(), items))) != len(rows):
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
    keys = zip(run.query.tolist(), run.item_ids)
    rows = np.fromiter(map(reference.judged.get, keys, repeat(-1)), dtype=np.int64, count=len(run.item_ids))
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


def _raise_field_count(name: str, lines: list[tuple[int, str]], rows: list[list[str]]) -> None:
    index = next(i for i, row in enumerate(rows) if len(row) != len(TREC_FIELDS))
    number, text = lines[index]
    layout = f"{' '.join(TREC_FIELDS)} separated by spaces or tabs; run_id has no spaces"
    if "," in text and len(rows[index]) < len(TREC_FIELDS):
        raise ParticipantError(f"found {len(rows[index])} fields, expected {len(TREC_FIELDS)} ({layout}); "
                               "commas do not separate fields in a TREC run", file=name, line=number)
    expect_field_count(rows[index], (len(TREC_FIELDS),), layout=layout, file=name, line=number)


def _parse_ranks(name: str, numbers: list[int], rank_text: Sequence[str], item: str) -> np.ndarray:
    try:
        ranks = np.array([int(text) for text in rank_text], dtype=np.int64)
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
        scores = np.array([float(text) for text in score_text], dtype=np.float64)
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
