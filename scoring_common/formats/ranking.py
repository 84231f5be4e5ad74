"""Strict readers for ranking tasks: documents grouped by query, one score per document.

Used by fusion-int (queries are videos, documents are keyframes). The reference is a
CSV ``<query_column>,<doc_column>,label[,...]``; a run is a CSV
``<query_column>,<doc_column>,score`` (optional header) or the legacy MediaEval layout
``<query_column>,<doc_column>,decision,score`` (decision 0 or 1, ignored). A document
is identified by its (query id, document id) pair; every document of the split must be
scored exactly once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

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
    separator_hint,
    split_csv_line,
)


@dataclass(frozen=True)
class RankingNames:
    """How a ranking task names its columns and items, in files and in messages."""

    query_column: str = "video_id"
    doc_column: str = "image_id"
    query: str = "video"
    doc: str = "keyframe"
    #: Where participants find every document of a split (said when some are missing).
    doc_list: str = "the split's inducers.csv"


INTERESTINGNESS = RankingNames()
_DECIMAL_COMMA_FIX = "write 0.5, not 0,5"


@dataclass(frozen=True)
class RankingReference:
    """Ground truth of one split: items (documents) with their query and relevance.

    Attributes
    ----------
    query_ids : list of str
        Query ids in ascending order; query code ``q`` is ``query_ids[q]``.
    doc_ids : list of str
        Document id of each item (the tie-breaking key of trec_eval).
    query : numpy.ndarray of int64
        Query code of each item.
    relevant : numpy.ndarray of bool
        Whether each item is relevant (label >= 1, trec_eval's relevance level).
    item_index : dict
        ``(query id, document id) -> item position``.
    """

    query_ids: list[str]
    doc_ids: list[str]
    query: np.ndarray
    relevant: np.ndarray
    item_index: dict[tuple[str, str], int]

    @property
    def n_relevant(self) -> np.ndarray:
        """Number of relevant items of each query (R_q)."""
        return np.bincount(self.query[self.relevant], minlength=len(self.query_ids))

    @property
    def n_items(self) -> np.ndarray:
        """Number of items of each query."""
        return np.bincount(self.query, minlength=len(self.query_ids))

    def largest_run_bytes(self) -> int:
        """Bytes of the largest valid run: every item once, in the legacy layout, numbers at full width."""
        query_bytes = np.array([len(query_id.encode()) for query_id in self.query_ids], dtype=np.int64)
        ids = int(query_bytes @ self.n_items) + len("".join(self.doc_ids).encode())
        return ids + len(self.doc_ids) * (len(",1,") + NUMBER_CHARS + len("\r\n"))


def read_ranking_reference(path: Path, names: RankingNames = INTERESTINGNESS) -> RankingReference:
    """Read the hidden ground truth ``<query_column>,<doc_column>,label[,...]`` (header required).

    Labels are non-negative integers; extra columns (such as ``value``) are ignored.
    Problems raise :class:`InternalError`: the file is the organisers'.
    """
    lines = read_lines(path, participant=False)
    expected = [names.query_column, names.doc_column, "label"]
    if not lines or [f.strip().lower() for f in lines[0][1].split(",")][:3] != expected:
        raise InternalError(f"reference file {path} must start with the header {','.join(expected)}[,...]")
    n_fields = lines[0][1].count(",") + 1
    query_of_item: list[str] = []
    doc_ids: list[str] = []
    labels: list[int] = []
    item_index: dict[tuple[str, str], int] = {}
    for line_no, text in lines[1:]:
        fields = text.split(",")
        if len(fields) != n_fields:
            raise InternalError(f"reference file {path} line {line_no}: {len(fields)} fields, expected {n_fields}")
        key = (fields[0].strip(), fields[1].strip())
        try:
            label = int(fields[2])
        except ValueError:
            label = -1
        if label < 0:
            raise InternalError(f"reference file {path} line {line_no}: label {fields[2]!r} is not an integer >= 0")
        if key in item_index:
            raise InternalError(f"reference file {path} line {line_no}: {names.doc} {key} appears twice")
        item_index[key] = len(doc_ids)
        query_of_item.append(key[0])
        doc_ids.append(key[1])
        labels.append(label)
    if not doc_ids:
        raise InternalError(f"reference file {path} has no {names.doc}")
    query_ids = sorted(set(query_of_item))
    code = {query_id: q for q, query_id in enumerate(query_ids)}
    return RankingReference(
        query_ids=query_ids,
        doc_ids=doc_ids,
        query=np.array([code[q] for q in query_of_item], dtype=np.int64),
        relevant=np.array(labels, dtype=np.int64) >= 1,
        item_index=item_index,
    )


def read_ranking_run(path: Path, reference: RankingReference, names: RankingNames = INTERESTINGNESS) -> np.ndarray:
    """Read a participant's run and return its score for every reference item, in item order.

    Accepted lines: ``query,doc,score`` or ``query,doc,decision,score`` (decision 0 or 1,
    ignored), comma-separated, fields optionally quoted as in CSV (``"0.32"``); the
    header, or else the first data line, fixes which of the two the whole file uses. The
    first line is a header when it has 3 or 4 fields, its last field is not a number and
    it is not a reference item; its column names (any case, any order) must then be the
    query and document columns, ``score`` and optionally ``decision``, and they say which
    field is which. The run is read as a stream and refused unread when it is more than
    :data:`~scoring_common.validation.RUN_SIZE_FACTOR` times the largest valid run.

    Raises
    ------
    ParticipantError
        Naming the file and line: a run too large, a malformed header, a line with
        another number of fields than the file's layout (a decimal comma is suggested
        when it has one more, the separator found when it has no comma), a decision other
        than 0/1, a score that is not a finite number, ids not in the split (queries
        first; swapped columns are pointed out), a document scored twice; then the count
        of documents the run lacks.
    """
    file = path.name
    check_run_size(path, reference.largest_run_bytes(), what=f"one line per {names.doc} of the split")
    lines = iter_lines(path)
    layout, first_data_line = _run_layout(next(lines, None), reference, names, file)
    n_fields = layout.n_fields
    query_field, doc_field, score_field, decision_field = layout.fields
    item_index = reference.item_index
    first_line = [0] * len(reference.doc_ids)
    items: list[int] = []
    scores: list[float] = []
    unknown: dict[tuple[str, str], int] = {}
    duplicate: tuple[int, int, tuple[str, str]] | None = None
    for line_no, text in chain(first_data_line, lines):
        fields = split_csv_line(text)
        if len(fields) != n_fields:
            _raise_field_count(fields, text, layout, names, file, line_no)
        query_id, doc_id, score_text = fields[query_field], fields[doc_field], fields[score_field]
        if decision_field is not None and fields[decision_field].strip() not in ("0", "1"):
            raise ParticipantError(
                f"decision {quote(fields[decision_field])} must be 0 or 1 (legacy layout {_layout(names, 4)}; "
                f"the decision is ignored, only the score counts){_decision_hint(layout)}", file=file, line=line_no)
        try:
            score = float(score_text)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            parse_float(score_text, what="score", file=file, line=line_no)
        key = (query_id.strip(), doc_id.strip())
        item = item_index.get(key)
        if item is None:
            unknown.setdefault(key, line_no)
        elif first_line[item]:
            if duplicate is None:
                duplicate = (line_no, first_line[item], key)
        else:
            first_line[item] = line_no
            items.append(item)
            scores.append(score)

    if unknown:
        _raise_unknown(unknown, reference, names, file)
    if duplicate is not None:
        line_no, first, key = duplicate
        raise ParticipantError(
            f"{names.doc} {quote(','.join(key))} appears twice (first on line {first}); "
            f"every {names.doc} must be scored exactly once", file=file, line=line_no)
    n_expected = len(reference.doc_ids)
    hint = f"score every {names.doc} of the split exactly once; the {names.doc} list is in {names.doc_list}"
    check_missing_count(n_expected - len(items), n_expected, what=names.doc, file=file, hint=hint)
    aligned = np.empty(n_expected, dtype=np.float64)
    aligned[np.array(items, dtype=np.int64)] = scores
    return aligned


def _layout(names: RankingNames, n_fields: int) -> str:
    """The columns of the 3-field layout or of the legacy 4-field one."""
    middle = "," if n_fields == 3 else ",decision,"
    return f"{names.query_column},{names.doc_column}{middle}score"


@dataclass(frozen=True)
class _RunLayout:
    """What a run's first line fixed: its number of fields (3 or 4), that line, whether it is a
    header, and the positions of the query, document, score and decision (None) fields."""

    n_fields: int
    line: int
    header: bool
    fields: tuple[int, int, int, int | None]

    def source(self) -> str:
        return f"as in the header on line {self.line}" if self.header else f"like line {self.line}"


#: Field positions of the two layouts without a header.
_PLAIN_FIELDS = {3: (0, 1, 2, None), 4: (0, 1, 3, 2)}


def _run_layout(first: tuple[int, str] | None, reference: RankingReference, names: RankingNames,
                file: str) -> tuple[_RunLayout, list[tuple[int, str]]]:
    """Return the run's layout and the first line again when it is data (empty when it is a header)."""
    if first is None:
        return _RunLayout(3, 0, False, _PLAIN_FIELDS[3]), []
    line_no, text = first
    fields = split_csv_line(text)
    header_like = (len(fields) in (3, 4) and not is_number(fields[-1])
                   and (fields[0].strip(), fields[1].strip()) not in reference.item_index)
    if not header_like:
        if len(fields) not in (3, 4):
            expect_field_count(fields, (3, 4), layout=f"comma-separated {_layout(names, 3)} or {_layout(names, 4)}",
                               file=file, line=line_no, hint=_separator_hint(fields, text))
        return _RunLayout(len(fields), line_no, False, _PLAIN_FIELDS[len(fields)]), [first]
    return _RunLayout(len(fields), line_no, True, _header_fields(fields, text, names, file, line_no)), []


def _header_fields(fields: list[str], text: str, names: RankingNames, file: str,
                   line: int) -> tuple[int, int, int, int | None]:
    """Positions of the query, document, score and decision columns named by a header."""
    found = [field.strip().lower() for field in fields]
    columns = [names.query_column.lower(), names.doc_column.lower(), "score", "decision"]
    unknown = [quote(field.strip()) for field, name in zip(fields, found) if name not in columns]
    missing = [column for column in columns[:3] if column not in found]
    if unknown or missing or len(set(found)) != len(found):
        if unknown:
            problem = f"unknown column {', '.join(unknown)}"
        elif missing:
            problem = f"no {' and no '.join(missing)} column"
        else:
            problem = "a column named twice"
        raise ParticipantError(
            f"the header must be {_layout(names, 3)} (or the legacy {_layout(names, 4)}), "
            f"found {quote(text.strip())} ({problem}; the columns are {', '.join(columns[:3])} and optionally "
            f"decision, in any order); correct it or remove the line", file=file, line=line)
    return (found.index(columns[0]), found.index(columns[1]), found.index("score"),
            found.index("decision") if "decision" in found else None)


def _separator_hint(fields: list[str], text: str) -> str:
    """Name the separator of a line that has no comma at all."""
    return separator_hint(text, ",") if len(fields) == 1 else ""


def _raise_field_count(fields: list[str], text: str, layout: _RunLayout, names: RankingNames, file: str,
                       line: int) -> None:
    found = len(fields)
    hint = _separator_hint(fields, text)
    if found == layout.n_fields + 1:
        hint = f"; a decimal comma is the likely cause: {_DECIMAL_COMMA_FIX}"
        if layout.header:
            hint += " (or make the header match the lines)"
    elif found == 3 and layout.n_fields == 4 and not layout.header:
        hint = f"; if line {layout.line} has a decimal comma, {_DECIMAL_COMMA_FIX}"
    raise ParticipantError(f"found {found} fields, expected {layout.n_fields} {layout.source()} "
                           f"({_layout(names, layout.n_fields)}){hint}", file=file, line=line)


def _decision_hint(layout: _RunLayout) -> str:
    """Without a header, a 3-field line with a decimal comma looks like the legacy layout."""
    return "" if layout.header else f"; if the score has a decimal comma, {_DECIMAL_COMMA_FIX}"


def _raise_unknown(unknown: dict[tuple[str, str], int], reference: RankingReference, names: RankingNames,
                   file: str) -> None:
    known_queries = set(reference.query_ids)
    query_lines: dict[str, int] = {}
    for (query_id, _), line_no in unknown.items():
        if query_id not in known_queries:
            query_lines.setdefault(query_id, line_no)
    if query_lines:
        first_query, _ = min(unknown, key=unknown.__getitem__)
        hint = ""
        if first_query.strip() in set(reference.doc_ids):
            hint = (f"; the columns look swapped: {quote(first_query)} is a {names.doc} id, not a {names.query} id "
                    f"(the columns are {_layout(names, 3)}, in this order unless a header names them)")
        check_unknown_ids(query_lines, known_queries, what=names.query, file=file, first_lines=query_lines,
                          hint=hint)
    doc_lines = {",".join(key): line_no for key, line_no in unknown.items()}
    # Every id here is already known to be outside the split, hence no known ids.
    check_unknown_ids(doc_lines, set(), what=names.doc, file=file, first_lines=doc_lines)
