"""A set of labels per item (concepts per image): the mean per-item F1.

A split folder holds the split's item list (one id per line) and ``inducers/<name>.csv``
(lines ``item_id|LABEL;LABEL;...``), and for the dev split ``groundtruth.csv`` (header
``ID<TAB>labels``, lines ``item_id<TAB>LABEL;LABEL;...``).

- ``load_inducers``: a long DataFrame ``inducer, <item column>, <label column>``, one row
  per label an inducer predicted for an item, rows sorted by inducer then in file order;
  ``X.attrs[<items key>]`` holds every item id of the split, in the item list's order.
- ``load_truth``: a long DataFrame ``<item column>, <label column>``; its attrs list every
  item of the ground truth, including those without a label.
- ``Fusion.predict(X)`` returns a Series indexed by item id (every item exactly once)
  whose values are lists, tuples or sets of labels, or a long DataFrame like ``y``;
  ``write_run`` writes ``item_id|LABEL;LABEL`` lines, read on the scoring side by
  ``scoring_common.formats.concepts``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.bytekeys import KeyTable, distinct_spans, encode_keys, fixed_width
from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.metrics.multilabel import set_f1
from scoring_common.predictions.frames import SharedStrings, SplitIds, required_file, split_ids, write_lines

#: Characters a label cannot hold: they separate the fields of a run line.
FORBIDDEN_IN_LABEL = frozenset(" \t,|;")
_FORBIDDEN = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_IN_LABEL))) + "]")


@dataclass(frozen=True)
class LabelSets:
    """Label sets per item (the ``multilabel`` kind).

    Parameters
    ----------
    item_column, label_column : str
        The columns of the long frames (``image_id``, ``concept``).
    item, label : str
        What an item and a label are called in messages (``image``, ``concept``).
    label_id : str
        A label in "a list, tuple or set of ..." (``concept ids``).
    label_example : str
        Said after "...s are strings" (`` like 'C0040405'``).
    items_key : str
        The ``attrs`` key of the split's item ids (``images``).
    items_file, inducers_dir, groundtruth_file, run_file : str
        File and folder names of the split folder and of the run.
    max_per_item : int
        Most labels a run may give one item (the scoring program's limit).
    series_name : str
        Name of the checked prediction (``concepts``).
    """

    item_column: str = "item_id"
    label_column: str = "label"
    item: str = "item"
    label: str = "label"
    label_id: str = "labels"
    label_example: str = ""
    items_key: str = "items"
    items_file: str = "items.txt"
    inducers_dir: str = "inducers"
    groundtruth_file: str = "groundtruth.csv"
    run_file: str = "run.csv"
    max_per_item: int = 100
    series_name: str = "labels"

    #: The methods a task's fusion_io module exposes as its functions.
    FUNCTIONS = ("load_inducers", "load_truth", "split_items", "inducer_names", "inducer_prediction", "item_ids",
                 "check_prediction", "write_run", "mean_f1", "primary_metric")

    def module_names(self) -> dict[str, object]:
        """What a task's ``fusion_io`` exposes: the type's functions (bound methods), file and column names."""
        names: dict[str, object] = {name: getattr(self, name) for name in self.FUNCTIONS}
        names.update(INDUCERS_DIR=self.inducers_dir, GROUNDTRUTH_FILE=self.groundtruth_file,
                     RUN_FILE_NAME=self.run_file, COLUMNS=self.columns, ITEM=self.item)
        return names

    @property
    def columns(self) -> list[str]:
        """The columns of ``X``."""
        return ["inducer", self.item_column, self.label_column]

    # ------------------------------------------------------------------ loading

    def load_inducers(self, split_input_dir: Path) -> pd.DataFrame:
        """Read a split's item list and ``inducers/*.csv`` into a long ``inducer, item, label`` frame.

        Returns
        -------
        pandas.DataFrame
            Rows sorted by inducer name, then in file order; ``attrs[items_key]`` holds the
            split's item ids, in the item list's order.
        """
        folder = Path(split_input_dir)
        items = self._read_item_list(folder / self.items_file)
        known = set(items)
        files = sorted((folder / self.inducers_dir).glob("*.csv"))
        if not files:
            raise InternalError(f"{folder / self.inducers_dir} holds no <inducer>.csv file")
        item_keys = KeyTable(encode_keys(items))
        strings = SharedStrings()
        strings.distinct(items)  # the item ids of every file are the item list's objects
        inducers, item_ids, labels = [], [], []
        for path in files:
            rows = _plain_label_rows(path, items, item_keys, strings)
            if rows is None:  # not plain, or a problem: read line by line, which names it
                rows = tuple(map(strings.column, self._label_rows(path, known)))
            inducers.append(np.repeat(_object_array([path.stem]), len(rows[0])))
            item_ids.append(rows[0])
            labels.append(rows[1])
        columns = [np.concatenate(values) for values in (inducers, item_ids, labels)]
        if columns[0].size:
            text = pd.Series(["text"]).dtype  # the dtype pandas infers for a list of strings
            columns = [pd.Series(values, dtype=text, copy=False) for values in columns]
        else:  # what pandas infers for empty lists
            columns = [[] for _ in columns]
        frame = pd.DataFrame(dict(zip(self.columns, columns)), columns=self.columns, copy=False)  # fresh columns
        frame.attrs[self.items_key] = SplitIds(items)
        return frame

    def load_truth(self, split_reference_dir: Path) -> pd.DataFrame:
        """Read a split's ground truth: a long ``item, label`` frame in file order; attrs: every item of the file."""
        path = Path(split_reference_dir) / self.groundtruth_file
        item_ids: list[str] = []
        labels: list[str] = []
        items: list[str] = []
        for _, item_id, line_labels in self._read_label_lines(path, header=True):
            items.append(item_id)
            item_ids.extend([item_id] * len(line_labels))
            labels.extend(line_labels)
        labels = SharedStrings().column(_object_array(labels)).tolist()  # one object per distinct label
        frame = pd.DataFrame({self.item_column: item_ids, self.label_column: labels},
                             columns=[self.item_column, self.label_column])
        frame.attrs[self.items_key] = SplitIds(items)
        return frame

    def split_items(self, frame: pd.DataFrame) -> SplitIds:
        """The item ids of the split ``frame`` (from :meth:`load_inducers` or :meth:`load_truth`) covers."""
        return split_ids(frame, self.items_key)

    def inducer_names(self, X: pd.DataFrame) -> list[str]:
        """The inducers of ``X``, sorted."""
        return sorted(str(name) for name in X["inducer"].unique())

    def inducer_prediction(self, X: pd.DataFrame, name: str) -> pd.DataFrame:
        """One inducer's label sets as a prediction (a long ``item, label`` frame)."""
        return X.loc[X["inducer"] == name, [self.item_column, self.label_column]]

    def item_ids(self, X: pd.DataFrame) -> list[str]:
        """The item ids of the split (those a run lists); the ingestion refuses code that ships them in bulk."""
        return [str(item) for item in X.attrs[self.items_key]]

    # ------------------------------------------------------------------ checking and writing

    def check_prediction(self, prediction: object, X: pd.DataFrame) -> pd.Series:
        """Check what ``Fusion.predict(X)`` returned and normalise it.

        Parameters
        ----------
        prediction : object
            A Series indexed by item id whose values are lists, tuples or sets of labels
            (every item of the split exactly once, any order), or a long DataFrame with the
            item and label columns (items without rows get no label).
        X : pandas.DataFrame
            The inducers the prediction was made from.

        Returns
        -------
        pandas.Series
            Named :attr:`series_name`, indexed by the split's item ids in the item list's
            order; each value a sorted tuple of distinct labels (stripped, upper case).

        Raises
        ------
        ParticipantError
            One line saying what is wrong with the prediction and how to fix it.
        """
        items = self.split_items(X)
        item, key = self.item, self.items_key
        if isinstance(prediction, pd.DataFrame):
            prediction = self._series_from_long(prediction, items)
        elif not isinstance(prediction, pd.Series):
            raise ParticipantError(
                f"Fusion.predict returned a {type(prediction).__name__}; return a pandas Series indexed by "
                f"{self.item_column} whose values are lists of {self.label}s, or a DataFrame with columns "
                f"{self.item_column} and {self.label_column}")
        index = prediction.index
        if index.nlevels != 1:
            raise ParticipantError(f"Fusion.predict returned a Series whose index has {index.nlevels} levels; "
                                   f"index it by {self.item_column} alone")
        if index.has_duplicates:
            repeated = [str(i) for i in index[index.duplicated()].unique()]
            raise ParticipantError(f"Fusion.predict returned {len(repeated)} {item}(s) more than once, e.g. "
                                   f"{list_ids(repeated)}; give each {item} one value holding all its {self.label}s")
        expected = pd.Index(items)
        if not index.equals(expected):
            unknown = index.difference(expected, sort=False)
            if len(unknown):
                raise ParticipantError(f"Fusion.predict returned {len(unknown)} {item}(s) that are not in the split, "
                                       f"e.g. {list_ids([str(i) for i in unknown])}; index by the ids of "
                                       f"X.attrs['{key}']")
            missing = expected.difference(index, sort=False)
            if len(missing):
                raise ParticipantError(
                    f"Fusion.predict left out {len(missing)} of the {len(items)} {item}s, e.g. "
                    f"{list_ids([str(i) for i in missing])}; give every {item} of X.attrs['{key}'] a value "
                    "(an empty list when you predict nothing)")
            prediction = prediction.reindex(expected)
        values = self._normalised(items, prediction.tolist())
        return pd.Series(values, index=pd.Index(items, name=self.item_column), name=self.series_name, dtype=object)

    def write_run(self, prediction: object, X: pd.DataFrame, path: Path) -> None:
        """Write a prediction as a run: ``item_id|LABEL;LABEL`` per item, sorted by item id then label."""
        labels = self.check_prediction(prediction, X)
        write_lines(path, sorted(f"{item}|{';'.join(values)}" for item, values in labels.items()))

    # ------------------------------------------------------------------ metrics

    def mean_f1(self, prediction: object, y: pd.DataFrame) -> float:
        """Mean per-item F1 over the items of ``y`` with a non-empty ground truth: the leaderboard's metric.

        .. math:: F1 = \\frac{1}{|\\{i : G_i \\ne \\emptyset\\}|} \\sum_{i : G_i \\ne \\emptyset}
                  \\frac{2 |G_i \\cap P_i|}{|G_i| + |P_i|}

        Parameters
        ----------
        prediction : pandas.Series or pandas.DataFrame
            As accepted by :meth:`check_prediction` for the items of ``y``.
        y : pandas.DataFrame
            Ground truth as returned by :meth:`load_truth`.
        """
        items = self.split_items(y)
        predicted = self.check_prediction(prediction, y)
        truth = self._series_from_long(y, items).map(lambda values: tuple({str(v).strip().upper() for v in values}))
        vocabulary: dict[str, int] = {}
        true_item, true_label = _pairs(truth, vocabulary)
        pred_item, pred_label = _pairs(predicted, vocabulary)
        scores = set_f1(true_item, true_label, pred_item, pred_label, len(items))
        return scores.mean(scores.f1)

    def primary_metric(self, prediction: object, y: pd.DataFrame) -> float:
        """The leaderboard's primary metric, the mean per-item F1 (:meth:`mean_f1`)."""
        return self.mean_f1(prediction, y)

    # ------------------------------------------------------------------ helpers

    def _series_from_long(self, frame: pd.DataFrame, items: tuple[str, ...]) -> pd.Series:
        """Group a long ``item, label`` frame into one list per item (empty for absent items)."""
        item_column, label_column = self.item_column, self.label_column
        missing_columns = [c for c in (item_column, label_column) if c not in frame.columns]
        if missing_columns:
            raise ParticipantError(
                f"Fusion.predict returned a DataFrame without column(s) {', '.join(missing_columns)} "
                f"(it has {list_ids([str(c) for c in frame.columns])}); return columns {item_column} and "
                f"{label_column}, or a Series of {self.label} lists indexed by {item_column}")
        grouped: dict[str, list] = {item: [] for item in items}
        unknown: set[str] = set()
        for item, label in zip(frame[item_column].tolist(), frame[label_column].tolist()):
            bucket = grouped.get(item)
            if bucket is None:
                unknown.add(str(item))
            else:
                bucket.append(label)
        if unknown:
            raise ParticipantError(f"Fusion.predict returned rows for {len(unknown)} {self.item}(s) that are not in "
                                   f"the split, e.g. {list_ids(sorted(unknown))}; use the ids of "
                                   f"X.attrs['{self.items_key}']")
        return pd.Series(list(grouped.values()), index=pd.Index(list(grouped), name=item_column), dtype=object)

    def _normalised(self, items: tuple[str, ...], values: list) -> list[tuple[str, ...]]:
        """Each item's labels as a sorted tuple of distinct stripped upper-case labels.

        Checked in bulk (one scan of every label for the forbidden characters); on any
        problem, item by item with :meth:`_normalised_labels`, whose message names the first.
        """
        if any(isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)) for value in values):
            return [self._normalised_labels(item_id, value) for item_id, value in zip(items, values)]
        flat = [label for value in values for label in value]
        if not all(type(label) is str for label in flat):
            return [self._normalised_labels(item_id, value) for item_id, value in zip(items, values)]
        texts = [label.strip().upper() for label in flat]
        joined = "\n".join(texts)
        if "" in texts or _FORBIDDEN.search(joined) is not None:
            return [self._normalised_labels(item_id, value) for item_id, value in zip(items, values)]
        normalised, start = [], 0
        for value in values:
            end = start + len(value)
            labels = tuple(sorted(set(texts[start:end])))
            if len(labels) > self.max_per_item:
                return [self._normalised_labels(item_id, value) for item_id, value in zip(items, values)]
            normalised.append(labels)
            start = end
        return normalised

    def _normalised_labels(self, item_id: str, value: object) -> tuple[str, ...]:
        item, label = self.item, self.label
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ParticipantError(f"Fusion.predict gave {item} {item_id!r} the value {repr(value)[:40]} "
                                   f"({type(value).__name__}); give each {item} a list, tuple or set of "
                                   f"{self.label_id} (an empty list for none)")
        labels = set()
        for entry in value:
            if not isinstance(entry, str):
                raise ParticipantError(f"Fusion.predict gave {item} {item_id!r} a {label} that is a "
                                       f"{type(entry).__name__} ({repr(entry)[:40]}); {label}s are strings"
                                       f"{self.label_example}")
            text = entry.strip().upper()
            if not text or FORBIDDEN_IN_LABEL.intersection(text):
                raise ParticipantError(f"Fusion.predict gave {item} {item_id!r} the {label} {entry[:40]!r}; "
                                       f"{_article(self.label_id)} is a non-empty string without spaces, tabs, "
                                       "commas, '|' or ';'")
            labels.add(text)
        if len(labels) > self.max_per_item:
            raise ParticipantError(f"Fusion.predict gave {item} {item_id!r} {len(labels)} {label}s; "
                                   f"give at most {self.max_per_item} per {item}")
        return tuple(sorted(labels))

    def _read_item_list(self, path: Path) -> list[str]:
        text = required_file(path).read_text(encoding="utf-8-sig")
        items = [line.strip() for line in text.splitlines() if line.strip()]
        if len(set(items)) != len(items):
            raise InternalError(f"{path}: an {self.item} id is listed more than once")
        return items

    def _label_rows(self, path: Path, known: set[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(item id, label)`` of every label of an inducer file, in file order, read line by line."""
        item_ids: list[str] = []
        labels: list[str] = []
        for number, item_id, line_labels in self._read_label_lines(path):
            if item_id not in known:
                raise InternalError(f"{path} line {number}: {self.item} {item_id!r} is not in {self.items_file}")
            item_ids.extend([item_id] * len(line_labels))
            labels.extend(line_labels)
        return _object_array(item_ids), _object_array(labels)

    def _read_label_lines(self, path: Path, header: bool = False) -> Iterable[tuple[int, str, list[str]]]:
        """Yield ``(line number, item id, labels)`` of an organisers' ``item_id|LABEL;LABEL`` file.

        The separator after the id is ``|``, a TAB or a comma (the first found, in that
        order); with ``header``, a first line whose first field is ``ID`` or ``image_id`` is skipped.
        """
        if not path.is_file():
            raise InternalError(f"{path} not found")
        seen: set[str] = set()
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if not line.strip():
                continue
            for separator in ("|", "\t", ","):
                item_id, found, rest = line.partition(separator)
                if found:
                    break
            item_id = item_id.strip()
            if header and not seen and item_id.lower() in ("id", "image_id"):
                header = False
                continue
            if item_id in seen:
                raise InternalError(f"{path} line {number}: {self.item} {item_id!r} appears twice")
            seen.add(item_id)
            labels = (part.strip().upper() for part in rest.split(";"))
            yield number, item_id, list(dict.fromkeys(label for label in labels if label))


#: Bytes a plain inducer file does not hold besides non-ASCII ones: NUL, whitespace but LF (str.isspace).
_NOT_PLAIN_BYTES = tuple(bytes([byte]) for byte in (0, 9, 11, 12, 13, 28, 29, 30, 31, 32))
#: Longest label a plain file holds (longer ones are read line by line, to bound the key matrix).
_MAX_PLAIN_LABEL_BYTES = 64


def _plain_label_rows(path: Path, items: list[str], item_keys: KeyTable,
                      strings: SharedStrings) -> tuple[np.ndarray, np.ndarray] | None:
    """``(item id, label)`` of every label of a plain inducer file, as :meth:`LabelSets._read_label_lines` reads it.

    Plain: ASCII (after an optional BOM), no NUL, no whitespace but LF line ends, ``|``
    on every non-blank line, every item id one of ``items`` (``item_keys`` is their
    :class:`KeyTable`) and listed once, labels of at most :data:`_MAX_PLAIN_LABEL_BYTES`.
    The file's bytes are split and upper-cased with numpy; only its distinct labels
    become strings, the objects ``strings`` shares across files; empty labels and repeats
    within a line are dropped. None for any other file (or one that cannot be read): the
    caller reads it line by line, which reports its problems.
    """
    if not items:
        return None
    try:
        raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError:
        return None
    if not raw.endswith(b"\n"):
        raw += b"\n"
    if not raw.isascii() or any(byte in raw for byte in _NOT_PLAIN_BYTES):
        return None
    buffer = np.frombuffer(raw, dtype=np.uint8)
    line_ends = np.flatnonzero(buffer == ord("\n"))
    line_starts = np.r_[0, line_ends[:-1] + 1]
    non_blank = line_ends > line_starts
    line_starts, line_ends = line_starts[non_blank], line_ends[non_blank]
    if not line_starts.size:
        return _object_array([]), _object_array([])
    pipes = np.flatnonzero(buffer == ord("|"))
    first_pipe = np.append(pipes, buffer.size)[np.searchsorted(pipes, line_starts)]
    if (first_pipe >= line_ends).any():
        return None
    item_rows = item_keys.find(fixed_width(buffer, line_starts, first_pipe))
    if (item_rows < 0).any() or np.bincount(item_rows).max() > 1:
        return None
    # Labels: from the first | of a line to its end, split on every ; after that |.
    semicolons = np.flatnonzero(buffer == ord(";"))
    semicolon_line = np.searchsorted(line_ends, semicolons)
    after_pipe = semicolons > first_pipe[semicolon_line]
    semicolons = semicolons[after_pipe]
    label_starts = np.sort(np.concatenate([first_pipe + 1, semicolons + 1]))
    label_ends = np.sort(np.concatenate([semicolons, line_ends]))
    lengths = label_ends - label_starts
    if lengths.max() > _MAX_PLAIN_LABEL_BYTES:
        return None
    labels_per_line = np.bincount(semicolon_line[after_pipe], minlength=line_ends.size) + 1
    label_line = np.repeat(np.arange(line_ends.size), labels_per_line)
    # bytes.upper is str.upper on ASCII text.
    codes, distinct = distinct_spans(np.frombuffer(raw.upper(), dtype=np.uint8), label_starts, label_ends)
    keep = np.zeros(codes.size, dtype=bool)
    keep[np.unique(label_line * distinct.size + codes, return_index=True)[1]] = True  # a label's first in its line
    keep &= lengths > 0
    labels = strings.distinct(distinct.tolist())
    return _object_array(items)[item_rows[label_line[keep]]], labels[codes[keep]]


def _object_array(values: list[str]) -> np.ndarray:
    """``values`` as a 1-d object array (``np.array`` of an empty list would be float)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _article(label_id: str) -> str:
    """``concept ids`` -> ``a concept id``, ``labels`` -> ``a label``."""
    return f"a {label_id[:-1]}" if label_id.endswith("s") else f"a {label_id}"


def _pairs(labels: pd.Series, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(item position, label code)`` of every label of ``labels``, codes from ``vocabulary`` (grown)."""
    lengths = np.fromiter((len(values) for values in labels), dtype=np.int64, count=len(labels))
    flat = [vocabulary.setdefault(label, len(vocabulary)) for values in labels for label in values]
    return np.repeat(np.arange(len(labels)), lengths), np.array(flat, dtype=np.int64)
