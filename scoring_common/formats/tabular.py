"""Strict readers for "one prediction per item" tasks: regression and classification.

The reference is a CSV ``<id_column>,<target_column>[,...]`` with a header, one row per
item of the split (extra columns are ignored). A run is a CSV ``<id_column>,<target_column>``
(header optional) giving every item of the split exactly once. The target is a finite
number (regression) or a class label (classification): labels are compared exactly,
after stripping surrounding whitespace, and coded by their position in the class list.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from scoring_common.errors import InternalError, ParticipantError, list_ids, quote
from scoring_common.textio import iter_lines
from scoring_common.validation import (
    NUMBER_CHARS,
    check_missing_count,
    check_run_size,
    check_unknown_ids,
    is_number,
    parse_float,
    separator_hint,
    split_csv_line,
)

TabularKind = Literal["regression", "classification"]
KINDS: tuple[TabularKind, ...] = ("regression", "classification")
#: How many class labels an unknown-label message lists before "and N more".
MAX_LISTED_CLASSES = 20


@dataclass(frozen=True)
class TabularNames:
    """How a tabular task names its columns and items, in files and in messages."""

    id_column: str = "item_id"
    target_column: str = "value"
    item: str = "item"
    #: Where participants find every item of a split (said when some are missing).
    item_list: str = "the split's inducers.csv"


DEFAULT_NAMES = TabularNames()


@dataclass(frozen=True)
class TabularReference:
    """Ground truth of one split: one target per item.

    Attributes
    ----------
    item_ids : list of str
        Item ids in file order; item ``i`` is ``item_ids[i]``.
    index : dict
        ``item id -> item position``.
    target : numpy.ndarray
        Float64 values (regression) or int64 class codes (classification), per item.
    classes : list of str or None
        Class labels, class code ``c`` being ``classes[c]``; None for regression.
    """

    item_ids: list[str]
    index: dict[str, int]
    target: np.ndarray
    classes: list[str] | None

    @property
    def kind(self) -> TabularKind:
        """``"classification"`` when the reference has classes, else ``"regression"``."""
        return "regression" if self.classes is None else "classification"

    def largest_run_bytes(self) -> int:
        """Bytes of the largest valid run: every item once, its value at full width."""
        value_chars = NUMBER_CHARS if self.classes is None else max(map(len, self.classes), default=0)
        return len("".join(self.item_ids).encode()) + len(self.item_ids) * (value_chars + len(",\r\n"))


def read_tabular_reference(path: Path, names: TabularNames, kind: TabularKind,
                           classes: Sequence[str] | None = None) -> TabularReference:
    """Read the hidden ground truth ``<id_column>,<target_column>[,...]`` (header required).

    Parameters
    ----------
    path : Path
        The reference file (``groundtruth.csv``).
    names : TabularNames
        Column names (matched in any case) and what items are called.
    kind : {"regression", "classification"}
        Whether targets are finite numbers or class labels.
    classes : sequence of str, optional
        Classification only: the task's class labels, in code order. Default: the
        distinct labels of the file, sorted. Passing the task's public class list keeps
        a class the split happens to lack a valid prediction, and keeps messages from
        telling which classes the hidden split holds.

    Raises
    ------
    InternalError
        On a missing header, a row with another number of fields than the header, an
        empty or repeated item id, a target that is not a finite number or not one of
        ``classes``, an empty file, or a malformed ``classes``.
    ValueError
        On an unknown ``kind``, or ``classes`` given for regression.
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} must be one of {', '.join(KINDS)}")
    if classes is not None and kind != "classification":
        raise ValueError(f"classes are only for classification, got kind {kind!r}")
    # A first pass raises what reading the whole file raises (encoding, line length), holding
    # no line; the second keeps only what the reference needs (a list of lines costs ~150 bytes each).
    for _ in iter_lines(path, participant=False):
        pass
    lines = iter_lines(path, participant=False)
    header = next(lines, None)
    expected = [names.id_column.lower(), names.target_column.lower()]
    if header is None or [field.strip().lower() for field in header[1].split(",")][:2] != expected:
        raise InternalError(
            f"reference file {path} must start with the header {names.id_column},{names.target_column}[,...]")
    n_fields = header[1].count(",") + 1
    regression = kind == "regression"
    item_ids: list[str] = []
    index: dict[str, int] = {}
    targets: list[str] = []  # classification: the labels
    values = array("d")  # regression: the values (NaN where not a number)
    line_numbers = array("q")
    for line_no, text in lines:
        fields = text.split(",")
        if len(fields) != n_fields:
            raise InternalError(f"reference file {path} line {line_no}: {len(fields)} fields, expected {n_fields}")
        item_id = fields[0].strip()
        if not item_id or item_id in index:
            raise InternalError(f"reference file {path} line {line_no}: {names.item} id {item_id!r} is empty "
                                "or appears twice")
        index[item_id] = len(item_ids)
        item_ids.append(item_id)
        line_numbers.append(line_no)
        if regression:
            values.append(_reference_value(fields[1].strip()))
        else:
            targets.append(fields[1].strip())
    if not item_ids:
        raise InternalError(f"reference file {path} has no {names.item}")
    if regression:
        return TabularReference(item_ids, index, _reference_values(path, line_numbers, values), None)
    class_list = sorted(set(targets)) if classes is None else _checked_classes(path, classes)
    code = {label: c for c, label in enumerate(class_list)}
    for line_no, label in zip(line_numbers, targets):
        if label not in code:
            raise InternalError(f"reference file {path} line {line_no}: label {label!r} is not a declared class")
    target = np.fromiter(map(code.__getitem__, targets), dtype=np.int64, count=len(targets))
    return TabularReference(item_ids, index, target, class_list)


def read_tabular_run(path: Path, reference: TabularReference, names: TabularNames) -> np.ndarray:
    """Read a participant's run and return its prediction for every reference item, in item order.

    Lines are ``<id_column>,<target_column>``, fields optionally quoted as in CSV. The
    first line is a header when it has 2 fields, its first is not an item of the split and
    its second is neither a valid value (not a number for regression, not a class label for
    classification) nor an item; its first field must then be the id column name (any
    case; the value column may have any name), or the header names the two columns in the
    other order (``<target_column>,<id_column>``), and the lines follow it. ``names`` must
    be those the reference was read with. The run is read as a stream and refused unread when it is
    more than :data:`~scoring_common.validation.RUN_SIZE_FACTOR` times the largest valid run.

    Returns
    -------
    numpy.ndarray
        Float64 values (regression) or int64 class codes of ``reference.classes``
        (classification), aligned with ``reference.item_ids``.

    Raises
    ------
    ParticipantError
        Naming the file and line: a malformed header, wrong number of fields (a decimal
        comma is suggested when it may be the cause), an empty id, a value that is
        not a finite number, a label that is not a class (the classes are listed), ids
        not in the split, an item given twice (both lines); then the count of items the
        run lacks.
    """
    file = path.name
    check_run_size(path, reference.largest_run_bytes(), what=f"one line per {names.item} of the split")
    lines = iter_lines(path)
    layout = f"comma-separated {names.id_column},{names.target_column}"
    class_code = None if reference.classes is None else {label: c for c, label in enumerate(reference.classes)}
    first = next(lines, None)
    id_field, value_field = 0, 1
    if first is not None:
        header = _header_fields(first, reference, names, class_code, file)
        if header is None:
            lines = chain([first], lines)
        else:
            id_field, value_field = header
    index = reference.index
    # Compact arrays: a list holds an 8-byte pointer and a 24- or 28-byte object per number.
    first_line = array("q", bytes(8 * len(reference.item_ids)))
    items = array("q")
    values = array("d" if class_code is None else "q")
    unknown: dict[str, int] = {}
    duplicate: tuple[int, int, str] | None = None
    for line_no, text in lines:
        fields = split_csv_line(text)
        if len(fields) != 2:
            _raise_field_count(fields, text, layout, class_code is None, file, line_no)
        item_id, value_text = fields[id_field].strip(), fields[value_field]
        if not item_id:
            raise ParticipantError(f"the {names.item} id is empty; write {names.id_column},{names.target_column}",
                                   file=file, line=line_no)
        if item_id not in index:
            _raise_for_decimal_comma(item_id, index, names, layout, file, line_no)
        if value_text.strip() in index and item_id not in index:
            raise ParticipantError(
                f"{quote(value_text.strip())} in the {names.target_column} column is a {names.item} id: the columns "
                f"look swapped; write {names.id_column},{names.target_column} (or name the columns in a header)",
                file=file, line=line_no)
        if class_code is None:
            value = _run_value(value_text, names, file, line_no)
        else:
            value = _run_label(value_text, class_code, reference.classes, file, line_no)
        item = index.get(item_id)
        if item is None:
            unknown.setdefault(item_id, line_no)
        elif first_line[item]:
            if duplicate is None:
                duplicate = (line_no, first_line[item], item_id)
        else:
            first_line[item] = line_no
            items.append(item)
            values.append(value)

    check_unknown_ids(unknown, set(), what=names.item, file=file, first_lines=unknown)
    if duplicate is not None:
        line_no, first, item_id = duplicate
        raise ParticipantError(
            f"{names.item} {quote(item_id)} appears twice (lines {first} and {line_no}); "
            f"give every {names.item} exactly one {names.target_column}", file=file, line=line_no)
    n_expected = len(reference.item_ids)
    hint = (f"give every {names.item} of the split exactly one {names.target_column}; "
            f"the {names.item} list is in {names.item_list}")
    check_missing_count(n_expected - len(items), n_expected, what=names.item, file=file, hint=hint)
    aligned = np.empty(n_expected, dtype=np.float64 if class_code is None else np.int64)
    if items:
        aligned[np.frombuffer(items, dtype=np.int64)] = np.frombuffer(values, dtype=aligned.dtype)
    return aligned


def _raise_for_decimal_comma(item_id: str, index: dict[str, int], names: TabularNames, layout: str,
                             file: str, line: int) -> None:
    """Name a line such as ``video1;0,5`` (a spreadsheet's ';' or TAB separator and decimal comma) for what it is."""
    for separator, name in ((";", "';'"), ("\t", "TAB")):
        if separator in item_id and item_id.split(separator)[0].strip() in index:
            raise ParticipantError(
                f"{quote(item_id)} is not a {names.item} id: the fields seem separated by {name}, with a decimal "
                f"comma in the {names.target_column}; write {layout}, with a decimal point (0.5, not 0,5)",
                file=file, line=line)


def _run_value(text: str, names: TabularNames, file: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        parse_float(text.strip(), what=names.target_column, file=file, line=line)  # raises, naming the value
    return value


def _run_label(text: str, class_code: dict[str, int], classes: list[str], file: str, line: int) -> int:
    label = text.strip()
    code = class_code.get(label)
    if code is None:
        raise ParticipantError(
            f"label {quote(label)} is not one of the {len(classes)} classes "
            f"({list_ids(classes, limit=MAX_LISTED_CLASSES)}); write one of these labels exactly (case matters)",
            file=file, line=line)
    return code


def _header_fields(line: tuple[int, str], reference: TabularReference, names: TabularNames,
                   class_code: dict[str, int] | None, file: str) -> tuple[int, int] | None:
    """Positions of the id and value columns if the first line is a header, else None.

    Raises if it looks like a header but does not name the two columns.
    """
    line_no, text = line
    fields = split_csv_line(text)
    if (len(fields) != 2 or fields[0].strip() in reference.index or _is_value(fields[1], class_code)
            or fields[1].strip() in reference.index):
        return None
    found = [field.strip().lower() for field in fields]
    if found == [names.target_column.lower(), names.id_column.lower()]:
        return 1, 0  # the columns named in the other order
    if found[0] != names.id_column.lower():
        raise ParticipantError(f"the header must be {names.id_column},{names.target_column}, found "
                               f"{quote(text.strip())}; correct it or remove the line", file=file, line=line_no)
    return 0, 1


def _is_value(text: str, class_code: dict[str, int] | None) -> bool:
    """Whether ``text`` is a valid prediction: a number (regression) or a class label."""
    if class_code is not None:
        return text.strip() in class_code
    return is_number(text)


def _raise_field_count(fields: list[str], text: str, layout: str, numeric: bool, file: str, line: int) -> None:
    """Raise for a line that has not 2 fields, suggesting a decimal comma when ``id,1,5`` may be one,
    naming the separator found when there is no comma."""
    hint = separator_hint(text, ",") if len(fields) == 1 else ""
    if numeric and len(fields) == 3 and fields[1].strip().lstrip("+-").isdigit() and fields[2].strip().isdigit():
        hint = "; a decimal comma is the likely cause: write 0.5, not 0,5"
    raise ParticipantError(f"found {len(fields)} fields, expected 2 ({layout}){hint}", file=file, line=line)


def _reference_value(text: str) -> float:
    """``float(text)``, NaN when ``text`` is not a number."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def _reference_values(path: Path, line_numbers: array, values: array) -> np.ndarray:
    """``values`` as an array; raise at the first line whose value is not a finite number."""
    result = np.frombuffer(values, dtype=np.float64).copy()
    bad = np.flatnonzero(~np.isfinite(result))
    if bad.size:
        position = int(bad[0])
        raise InternalError(f"reference file {path} line {line_numbers[position]}: value "
                            f"{_value_text(path, line_numbers[position])!r} is not a finite number")
    return result


def _value_text(path: Path, line_no: int) -> str:
    """The stripped second field of line ``line_no`` (read again: only for the message of a bad value)."""
    return next(text for number, text in iter_lines(path, participant=False) if number == line_no).split(",")[1].strip()


def _checked_classes(path: Path, classes: Sequence[str]) -> list[str]:
    class_list = list(classes)
    for label in class_list:
        if not isinstance(label, str) or not label or label != label.strip() or "," in label:
            raise InternalError(f"class {label!r} (for {path}) must be a non-empty string without surrounding "
                                "spaces or commas")
    if len(set(class_list)) != len(class_list):
        raise InternalError(f"the classes given for {path} hold a label twice: {class_list}")
    return class_list
