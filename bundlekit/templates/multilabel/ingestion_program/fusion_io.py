"""The __TASK_NAME__ data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``items.txt`` (the split's item ids, one per line) and
``inducers/<name>.csv`` (lines ``item_id|LABEL;LABEL;...``), and for the dev split
``groundtruth.csv`` (header ``ID<TAB>labels``, lines ``item_id<TAB>LABEL;LABEL;...``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``, ``item_id``,
  ``label``, one row per label an inducer predicted for an item. ``X.attrs["items"]``
  lists every item id of the split, in ``items.txt`` order (:func:`split_items`).
- ``y = load_truth(folder)``: a long DataFrame with columns ``item_id``, ``label``;
  ``y.attrs["items"]`` lists every item of the ground truth, including those with no label.
- ``Fusion.predict(X)`` returns a Series indexed by item id (every item exactly once, any
  order) whose values are lists, tuples or sets of labels, or a long DataFrame with
  columns ``item_id``, ``label`` like ``y``.

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``item_id|LABEL;LABEL``) and :func:`primary_metric` computes the leaderboard's mean F1
for local validation. pandas and numpy only: this module runs in the platform's container.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.metrics.multilabel import set_f1

ITEMS_FILE = "items.txt"
INDUCERS_DIR = "inducers"
GROUNDTRUTH_FILE = "groundtruth.csv"
RUN_FILE_NAME = "run.csv"
COLUMNS = ["inducer", "item_id", "label"]
ITEM = "item"
PRIMARY_METRIC_TITLE = "F1"
#: Most labels a run may give one item (the scoring program's limit).
MAX_LABELS_PER_ITEM = 100
#: Characters a label cannot hold: they separate the fields of a run line.
_FORBIDDEN_IN_LABEL = frozenset(" \t,|;")


class ItemIds(tuple):
    """The item ids of a split: a tuple that pandas copies for free.

    pandas deep-copies ``attrs`` on every operation that builds a new frame; returning
    the same immutable tuple keeps slicing and ``groupby`` as fast as without attrs.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> "ItemIds":
        return self


def load_inducers(split_input_dir: Path) -> pd.DataFrame:
    """Read a split's ``items.txt`` and ``inducers/*.csv`` into a long ``inducer, item_id, label`` frame."""
    folder = Path(split_input_dir)
    items = _read_item_list(folder / ITEMS_FILE)
    known = set(items)
    files = sorted((folder / INDUCERS_DIR).glob("*.csv"))
    if not files:
        raise InternalError(f"{folder / INDUCERS_DIR} holds no <inducer>.csv file")
    rows: list[tuple[str, str, str]] = []
    for path in files:
        for number, item, labels in _read_label_lines(path):
            if item not in known:
                raise InternalError(f"{path} line {number}: {ITEM} {item!r} is not in {ITEMS_FILE}")
            rows.extend((path.stem, item, label) for label in labels)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["items"] = ItemIds(items)
    return frame


def load_truth(split_reference_dir: Path) -> pd.DataFrame:
    """Read a split's ``groundtruth.csv`` into a long ``item_id, label`` frame (``attrs["items"]``: every item)."""
    path = Path(split_reference_dir) / GROUNDTRUTH_FILE
    items: list[str] = []
    rows: list[tuple[str, str]] = []
    for _, item, labels in _read_label_lines(path, header=True):
        items.append(item)
        rows.extend((item, label) for label in labels)
    frame = pd.DataFrame(rows, columns=["item_id", "label"])
    frame.attrs["items"] = ItemIds(items)
    return frame


def split_items(frame: pd.DataFrame) -> ItemIds:
    """The item ids of the split ``frame`` (from :func:`load_inducers` or :func:`load_truth`) covers."""
    items = frame.attrs.get("items")
    if items is None:
        raise ParticipantError("X.attrs['items'] is missing; do not modify X in place "
                               "(work on X.copy() or on derived frames)")
    return items


def inducer_names(X: pd.DataFrame) -> list[str]:
    """The inducers of ``X``, sorted."""
    return sorted(str(name) for name in X["inducer"].unique())


def inducer_prediction(X: pd.DataFrame, name: str) -> pd.DataFrame:
    """One inducer's label sets as a prediction (a long ``item_id, label`` frame)."""
    return X.loc[X["inducer"] == name, ["item_id", "label"]]


def item_ids(X: pd.DataFrame) -> list[str]:
    """The item ids of the split (those a run lists); the ingestion refuses code that ships them in bulk."""
    return [str(item) for item in X.attrs["items"]]


def check_prediction(prediction: object, X: pd.DataFrame) -> pd.Series:
    """Check what ``Fusion.predict(X)`` returned and normalise it.

    Returns
    -------
    pandas.Series
        Named ``labels``, indexed by the split's item ids in ``items.txt`` order; each
        value a sorted tuple of distinct labels (stripped, upper case).

    Raises
    ------
    ParticipantError
        One line saying what is wrong with the prediction and how to fix it.
    """
    items = split_items(X)
    if isinstance(prediction, pd.DataFrame):
        prediction = _series_from_long(prediction, items)
    elif not isinstance(prediction, pd.Series):
        raise ParticipantError(
            f"Fusion.predict returned a {type(prediction).__name__}; return a pandas Series indexed by item_id "
            "whose values are lists of labels, or a DataFrame with columns item_id and label")
    index = prediction.index
    if index.nlevels != 1:
        raise ParticipantError(f"Fusion.predict returned a Series whose index has {index.nlevels} levels; "
                               "index it by item_id alone")
    if index.has_duplicates:
        repeated = [str(i) for i in index[index.duplicated()].unique()]
        raise ParticipantError(f"Fusion.predict returned {len(repeated)} {ITEM}(s) more than once, e.g. "
                               f"{list_ids(repeated)}; give each {ITEM} one value holding all its labels")
    expected = pd.Index(items)
    if not index.equals(expected):
        unknown = index.difference(expected, sort=False)
        if len(unknown):
            raise ParticipantError(f"Fusion.predict returned {len(unknown)} {ITEM}(s) that are not in the split, "
                                   f"e.g. {list_ids([str(i) for i in unknown])}; index by the ids of X.attrs['items']")
        missing = expected.difference(index, sort=False)
        if len(missing):
            raise ParticipantError(
                f"Fusion.predict left out {len(missing)} of the {len(items)} {ITEM}s, e.g. "
                f"{list_ids([str(i) for i in missing])}; give every {ITEM} of X.attrs['items'] a value "
                "(an empty list when you predict nothing)")
        prediction = prediction.reindex(expected)
    values = [_normalised_labels(item, value) for item, value in zip(items, prediction.tolist())]
    return pd.Series(values, index=pd.Index(items, name="item_id"), name="labels", dtype=object)


def write_run(prediction: object, X: pd.DataFrame, path: Path) -> None:
    """Write a prediction as a run: ``item_id|LABEL;LABEL`` per item, sorted by item id then label."""
    labels = check_prediction(prediction, X)
    lines = sorted(f"{item}|{';'.join(values)}" for item, values in labels.items())
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def primary_metric(prediction: object, y: pd.DataFrame) -> float:
    """Mean per-item F1 over the items of ``y`` with a non-empty ground truth: the leaderboard's metric.

    .. math:: F1 = \\frac{1}{|\\{i : G_i \\ne \\emptyset\\}|} \\sum_{i : G_i \\ne \\emptyset}
              \\frac{2 |G_i \\cap P_i|}{|G_i| + |P_i|}
    """
    items = split_items(y)
    predicted = check_prediction(prediction, y)
    truth = _series_from_long(y, items).map(lambda values: tuple({str(v).strip().upper() for v in values}))
    vocabulary: dict[str, int] = {}
    true_item, true_label = _pairs(truth, vocabulary)
    pred_item, pred_label = _pairs(predicted, vocabulary)
    scores = set_f1(true_item, true_label, pred_item, pred_label, len(items))
    return scores.mean(scores.f1)


def _pairs(labels: pd.Series, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(values) for values in labels), dtype=np.int64, count=len(labels))
    flat = [vocabulary.setdefault(label, len(vocabulary)) for values in labels for label in values]
    return np.repeat(np.arange(len(labels)), lengths), np.array(flat, dtype=np.int64)


def _series_from_long(frame: pd.DataFrame, items: tuple[str, ...]) -> pd.Series:
    """Group a long ``item_id, label`` frame into one list per item (empty for absent items)."""
    missing_columns = [c for c in ("item_id", "label") if c not in frame.columns]
    if missing_columns:
        raise ParticipantError(
            f"Fusion.predict returned a DataFrame without column(s) {', '.join(missing_columns)} "
            f"(it has {list_ids([str(c) for c in frame.columns])}); return columns item_id and label, "
            "or a Series of label lists indexed by item_id")
    grouped: dict[str, list] = {item: [] for item in items}
    unknown: set[str] = set()
    for item, label in zip(frame["item_id"].tolist(), frame["label"].tolist()):
        bucket = grouped.get(item)
        if bucket is None:
            unknown.add(str(item))
        else:
            bucket.append(label)
    if unknown:
        raise ParticipantError(f"Fusion.predict returned rows for {len(unknown)} {ITEM}(s) that are not in the "
                               f"split, e.g. {list_ids(sorted(unknown))}; use the ids of X.attrs['items']")
    return pd.Series(list(grouped.values()), index=pd.Index(list(grouped), name="item_id"), dtype=object)


def _normalised_labels(item: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ParticipantError(f"Fusion.predict gave {ITEM} {item!r} the value {repr(value)[:40]} "
                               f"({type(value).__name__}); give each {ITEM} a list, tuple or set of labels "
                               "(an empty list for none)")
    labels = set()
    for label in value:
        if not isinstance(label, str):
            raise ParticipantError(f"Fusion.predict gave {ITEM} {item!r} a label that is a {type(label).__name__} "
                                   f"({repr(label)[:40]}); labels are strings")
        text = label.strip().upper()
        if not text or _FORBIDDEN_IN_LABEL.intersection(text):
            raise ParticipantError(f"Fusion.predict gave {ITEM} {item!r} the label {label[:40]!r}; a label is a "
                                   "non-empty string without spaces, tabs, commas, '|' or ';'")
        labels.add(text)
    if len(labels) > MAX_LABELS_PER_ITEM:
        raise ParticipantError(f"Fusion.predict gave {ITEM} {item!r} {len(labels)} labels; "
                               f"give at most {MAX_LABELS_PER_ITEM} per {ITEM}")
    return tuple(sorted(labels))


def _read_item_list(path: Path) -> list[str]:
    if not path.is_file():
        raise InternalError(f"{path} not found; a split folder must hold {path.name}")
    items = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    if len(set(items)) != len(items):
        raise InternalError(f"{path}: an {ITEM} id is listed more than once")
    return items


def _read_label_lines(path: Path, header: bool = False) -> Iterable[tuple[int, str, list[str]]]:
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
            item, found, rest = line.partition(separator)
            if found:
                break
        item = item.strip()
        if header and not seen and item.lower() in ("id", "image_id"):
            header = False
            continue
        if item in seen:
            raise InternalError(f"{path} line {number}: {ITEM} {item!r} appears twice")
        seen.add(item)
        labels = (part.strip().upper() for part in rest.split(";"))
        yield number, item, list(dict.fromkeys(label for label in labels if label))
