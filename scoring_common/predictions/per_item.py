"""One prediction per item of ``inducers.csv``: scores ranked per query, values, class labels.

A split folder holds ``inducers.csv`` (``<item columns>,<inducer>,...``: one row per item,
one column per inducer) and, for the dev split, ``groundtruth.csv``
(``<item columns>,<truth column>[,...]``).

- ``load_inducers``: a DataFrame indexed by the item columns (a MultiIndex when there are
  several), one column per inducer (``columns.name == "inducer"``), rows in file order.
- ``load_truth``: a Series named like the truth column, indexed like ``X``.
- ``Fusion.predict(X)`` returns a Series indexed like ``X`` (any row order);
  ``check_prediction`` puts it in ``X``'s row order, ``write_run`` writes
  ``<item columns>,<target>`` in that order (floats as their shortest exact repr). The
  scoring side reads that run with ``scoring_common.formats.ranking`` (:class:`ItemScores`)
  or ``scoring_common.formats.tabular`` (:class:`ItemValues`, :class:`ItemClasses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.metrics.classification import accuracy, macro_f1
from scoring_common.metrics.ranking import mean_average_precision, tie_rank_from_ids
from scoring_common.predictions.frames import checked_header, required_file, write_lines

#: The default ``k`` of :meth:`ItemScores.mean_average_precision`: the type's own cutoff.
DECLARED_CUTOFF = object()


@dataclass(frozen=True)
class PerItem:
    """The shared part of the per-item types: loading, the index checks and writing.

    Parameters
    ----------
    item_columns : tuple of str
        The columns identifying an item (``("video_id", "image_id")``, ``("item_id",)``).
    target : str
        The run's value column, also the name of the checked prediction.
    item : str
        What an item is called in messages (``keyframe``, ``video``, ``item``).
    truth_column : str
        The ground truth's value column; default ``target``.
    inducers_file, groundtruth_file, run_file : str
        File names of the split folder and of the run.
    """

    item_columns: tuple[str, ...]
    target: str
    item: str = "item"
    truth_column: str = ""
    inducers_file: str = "inducers.csv"
    groundtruth_file: str = "groundtruth.csv"
    run_file: str = "run.csv"

    #: What the prediction holds, in messages: "a pandas Series of {_values} indexed like X".
    _values = "values"
    #: The variable of the ``pd.Series(..., index=X.index)`` example.
    _example = "values"
    #: One value, in the non-finite message: "{n} {_value}(s) that are NaN".
    _value = "value"
    #: The fix for missing rows: "{_verb} every row of X".
    _verb = "predict"
    #: dtype of the checked prediction (None: float64 from the checked values).
    _dtype = None

    #: The methods a task's fusion_io module exposes as its functions.
    FUNCTIONS = ("load_inducers", "load_truth", "inducer_names", "inducer_prediction", "check_prediction",
                 "write_run")

    def module_names(self) -> dict[str, object]:
        """What a task's ``fusion_io`` exposes: the type's functions (bound methods) and file and column names."""
        names: dict[str, object] = {name: getattr(self, name) for name in self.FUNCTIONS}
        names.update(INDUCERS_FILE=self.inducers_file, GROUNDTRUTH_FILE=self.groundtruth_file,
                     RUN_FILE_NAME=self.run_file, ITEM=self.item)
        if len(self.item_columns) == 1:
            names.update(ID_COLUMN=self.item_columns[0], TARGET_COLUMN=self.target)
        else:
            names.update(INDEX_NAMES=list(self.item_columns))
        return names

    @property
    def truth_name(self) -> str:
        """The ground truth's value column."""
        return self.truth_column or self.target

    @property
    def run_header(self) -> str:
        """The run's header line."""
        return ",".join((*self.item_columns, self.target))

    # ------------------------------------------------------------------ loading

    def load_inducers(self, split_input_dir: Path) -> pd.DataFrame:
        """Read a split's inducers file: indexed by the item columns, one column per inducer, in file order."""
        path = Path(split_input_dir) / self.inducers_file
        frame = self._read_table(path, list(self.item_columns))
        values = frame.drop(columns=list(self.item_columns))
        if values.shape[1] == 0:
            raise InternalError(f"{path} has no inducer column")
        values = self._inducer_values(values, path)
        values.index = self._index_of(frame)
        values.columns.name = "inducer"
        return values

    def load_truth(self, split_reference_dir: Path) -> pd.Series:
        """Read a split's ground truth: a Series named like the truth column, indexed like ``X``."""
        path = Path(split_reference_dir) / self.groundtruth_file
        frame = self._read_table(path, [*self.item_columns, self.truth_name])
        return pd.Series(self._truth_values(frame[self.truth_name], path), index=self._index_of(frame),
                         name=self.truth_name)

    def inducer_names(self, X: pd.DataFrame) -> list[str]:
        """The inducers of ``X``, in column order."""
        return [str(name) for name in X.columns]

    def inducer_prediction(self, X: pd.DataFrame, name: str) -> pd.Series:
        """One inducer's column as a prediction."""
        return X[name].rename(self.target)

    # ------------------------------------------------------------------ checking and writing

    def check_prediction(self, prediction: object, X: pd.DataFrame) -> pd.Series:
        """Check what ``Fusion.predict(X)`` returned and put it in ``X``'s row order.

        Returns
        -------
        pandas.Series
            Named like the target column, indexed exactly like ``X``.

        Raises
        ------
        ParticipantError
            One line saying what is wrong with the prediction and how to fix it.
        """
        if isinstance(prediction, pd.DataFrame):
            hint = " (select the column: frame['name'] or frame.squeeze('columns'))" if prediction.shape[1] == 1 else ""
            raise ParticipantError(f"Fusion.predict returned a DataFrame with {prediction.shape[1]} column(s); "
                                   f"return a pandas Series of {self._values} indexed like X{hint}")
        if not isinstance(prediction, pd.Series):
            raise ParticipantError(f"Fusion.predict returned a {type(prediction).__name__}; return a pandas Series "
                                   f"of {self._values} indexed like X, e.g. pd.Series({self._example}, index=X.index)")
        if not prediction.index.equals(X.index):
            prediction = prediction.reindex(self._checked_index(prediction.index, X.index))
        return pd.Series(self._checked_values(prediction, X.index), index=X.index, name=self.target,
                         dtype=self._dtype)

    def write_run(self, prediction: object, X: pd.DataFrame, path: Path) -> None:
        """Write a prediction as a run: the header, then ``X``'s rows in order (floats as their shortest repr)."""
        checked = self.check_prediction(prediction, X)
        index = checked.index
        columns = [[str(value) for value in index.get_level_values(level).tolist()] for level in range(index.nlevels)]
        columns.append(self._run_values(checked))
        write_lines(path, [self.run_header, *map(",".join, zip(*columns))])

    # ------------------------------------------------------------------ helpers

    def _index_of(self, frame: pd.DataFrame) -> pd.Index:
        if len(self.item_columns) == 1:
            return pd.Index(frame[self.item_columns[0]], name=self.item_columns[0])
        return pd.MultiIndex.from_frame(frame[list(self.item_columns)])

    def _read_table(self, path: Path, required: list[str]) -> pd.DataFrame:
        """Read an organisers' CSV whose first columns must be ``required``, ids kept as strings."""
        frame = pd.read_csv(required_file(path), dtype={name: str for name in self.item_columns},
                            skipinitialspace=True)
        frame = checked_header(frame, path, required)
        self._refuse_repeated_items(frame, path)
        return frame

    def _refuse_repeated_items(self, frame: pd.DataFrame, path: Path) -> None:
        repeated = frame.duplicated(list(self.item_columns))
        if repeated.any():
            first = frame.loc[repeated, list(self.item_columns)].iloc[0].tolist()
            shown = repr(first[0]) if len(first) == 1 else tuple(first)
            raise InternalError(f"{path}: {self.item} {shown} appears more than once")

    def _inducer_values(self, values: pd.DataFrame, path: Path) -> pd.DataFrame:
        try:
            return values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InternalError(f"{path}: an inducer column is not numeric ({exc})") from None

    def _truth_values(self, column: pd.Series, path: Path) -> np.ndarray:
        try:
            return column.astype(np.float64).to_numpy()
        except (TypeError, ValueError):
            raise InternalError(f"{path}: the {self.truth_name} column holds values that are not numbers") from None

    def _index_words(self) -> tuple[str, str]:
        """How the checks name X's index: (the fix for a wrong number of levels, the index in "keep X's ... index")."""
        if len(self.item_columns) == 1:
            return (f"index it by {self.item_columns[0]} like X, e.g. pd.Series({self._example}, index=X.index)",
                    self.item_columns[0])
        names = f"({', '.join(self.item_columns)})"
        return f"index it by X's {names} MultiIndex, e.g. pd.Series({self._example}, index=X.index)", names

    def _checked_index(self, index: pd.Index, expected: pd.Index) -> pd.Index:
        """Refuse an index that is not a permutation of ``expected``; return ``expected``."""
        fix_levels, index_name = self._index_words()
        if index.nlevels != expected.nlevels:
            levels = "level(s)" if expected.nlevels > 1 else "levels"
            raise ParticipantError(f"Fusion.predict returned a Series whose index has {index.nlevels} {levels}; "
                                   f"{fix_levels}")
        item = self.item
        if index.has_duplicates:
            repeated = [str(key) for key in index[index.duplicated()].unique()]
            raise ParticipantError(f"Fusion.predict returned {len(repeated)} {item}(s) more than once, e.g. "
                                   f"{list_ids(repeated)}; give every {item} of X exactly once")
        unknown = index.difference(expected, sort=False)
        if len(unknown):
            raise ParticipantError(f"Fusion.predict returned {len(unknown)} {item}(s) that are not in X, e.g. "
                                   f"{list_ids([str(key) for key in unknown])}; keep X's {index_name} index")
        missing = expected.difference(index, sort=False)
        if len(missing):
            raise ParticipantError(f"Fusion.predict left out {len(missing)} of the {len(expected)} {item}s of X, e.g. "
                                   f"{list_ids([str(key) for key in missing])}; {self._verb} every row of X")
        return expected

    def _checked_values(self, prediction: pd.Series, index: pd.Index) -> np.ndarray:
        """Finite float64 values, else a ParticipantError naming the items."""
        try:
            values = prediction.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise ParticipantError(f"Fusion.predict returned a Series of dtype {prediction.dtype} that does not "
                                   f"convert to numbers; return float {self._values}") from None
        bad = ~np.isfinite(values)
        if bad.any():
            keys = [str(key) for key in index[bad]]
            raise ParticipantError(f"Fusion.predict returned {int(bad.sum())} {self._value}(s) that are NaN or "
                                   f"infinite, e.g. for {list_ids(keys)}; return finite numbers (fill NaN, clip "
                                   "infinities)")
        return values

    def _run_values(self, checked: pd.Series) -> list[str]:
        return [repr(value) for value in checked.to_numpy().tolist()]

    def aligned(self, prediction: pd.Series, y: pd.Series) -> np.ndarray:
        """``prediction``'s values for the items of ``y``, in ``y``'s order (float64).

        Raises
        ------
        ValueError
            When the prediction lacks items of ``y`` or holds NaN.
        """
        aligned = prediction.reindex(y.index)
        if aligned.isna().any():
            raise ValueError(f"the prediction lacks {int(aligned.isna().sum())} {self.item}(s) of y, or holds NaN")
        return aligned.to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class ItemScores(PerItem):
    """A score per item, items grouped per query and ranked within it (higher first): MAP@k.

    ``item_columns`` are ``(query column, document column)``; the ground truth's
    ``truth_column`` holds 0/1 labels (int64). The run is read by
    ``scoring_common.formats.ranking.read_ranking_run``.
    """

    target: str = "score"
    truth_column: str = "label"
    #: Cutoff of the primary metric, MAP@k.
    cutoff: int = 10

    _values = "scores"
    _example = "scores"
    _value = "score"
    _verb = "score"
    FUNCTIONS = (*PerItem.FUNCTIONS, "mean_average_precision", "primary_metric")

    def module_names(self) -> dict[str, object]:
        """What a task's ``fusion_io`` exposes (see :meth:`PerItem.module_names`), and ``PRIMARY_CUTOFF``."""
        return {**super().module_names(), "PRIMARY_CUTOFF": self.cutoff}

    def _truth_values(self, column: pd.Series, path: Path) -> np.ndarray:
        try:
            return column.astype(np.int64).to_numpy()
        except (TypeError, ValueError):
            raise InternalError(f"{path}: the {self.truth_name} column holds values that are not integers") from None

    def mean_average_precision(self, prediction: pd.Series, y: pd.Series, k: object = DECLARED_CUTOFF) -> float:
        """MAP@k over the queries of ``y``, as the scoring program computes it.

        Each query ``q`` is ranked by score (ties: document id descending, as trec_eval), and

        .. math:: AP@k(q) = \\frac{1}{R_q} \\sum_{i \\le k} rel(i) \\, \\frac{\\#\\{relevant\\ in\\ top\\ i\\}}{i}

        with ``R_q`` the relevant items of query ``q`` (AP = 0 when there is none); MAP@k is
        the mean over the queries.

        Parameters
        ----------
        prediction : pandas.Series
            A score for every item of ``y`` (extra items are ignored).
        y : pandas.Series
            Labels as returned by :meth:`load_truth`.
        k : int or None
            The cutoff (default: :attr:`cutoff`); None for MAP without cutoff.
        """
        return self._map(prediction, y, self.cutoff if k is DECLARED_CUTOFF else k)

    def _map(self, prediction: pd.Series, y: pd.Series, k: int | None) -> float:
        scores = self.aligned(prediction, y)
        query = pd.factorize(y.index.get_level_values(0), sort=True)[0].astype(np.int64)
        relevant = y.to_numpy() >= 1
        n_relevant = np.bincount(query[relevant], minlength=query.max() + 1)
        tie_rank = tie_rank_from_ids(y.index.get_level_values(1).to_numpy())
        return mean_average_precision(query, scores, tie_rank, relevant, n_relevant, k)

    def primary_metric(self, prediction: pd.Series, y: pd.Series, k: object = DECLARED_CUTOFF) -> float:
        """The leaderboard's primary metric, MAP@k (:meth:`mean_average_precision`)."""
        return self.mean_average_precision(prediction, y, k)


@dataclass(frozen=True)
class ItemValues(PerItem):
    """A number per item (regression): inducers and truth are finite floats.

    The run is read by ``scoring_common.formats.tabular.read_tabular_run`` (regression).
    The primary metric is the task's own (``fusion_io.primary_metric``), computed on
    :meth:`aligned` values.
    """

    target: str = "value"

    def _inducer_values(self, values: pd.DataFrame, path: Path) -> pd.DataFrame:
        values = super()._inducer_values(values, path)
        if not np.isfinite(values.to_numpy()).all():
            raise InternalError(f"{path}: an inducer has an empty, NaN or infinite value")
        return values


@dataclass(frozen=True)
class ItemClasses(PerItem):
    """A class label per item: inducers, truth and prediction are labels of :attr:`classes`.

    The run is read by ``scoring_common.formats.tabular.read_tabular_run`` (classification),
    the labels coded by their position in :attr:`classes`.
    """

    target: str = "label"
    #: The task's classes, in the scoring program's order.
    classes: tuple[str, ...] = ()
    #: The primary metric: ``macro_f1`` or ``accuracy``.
    primary: str = "macro_f1"

    _values = "class labels"
    _example = "labels"
    _value = "label"
    _dtype = object
    FUNCTIONS = (*PerItem.FUNCTIONS, "macro_f1", "accuracy", "primary_metric")

    def module_names(self) -> dict[str, object]:
        """What a task's ``fusion_io`` exposes (see :meth:`PerItem.module_names`), and ``CLASSES``."""
        return {**super().module_names(), "CLASSES": self.classes}

    def _read_table(self, path: Path, required: list[str]) -> pd.DataFrame:
        """Read an organisers' CSV whose first columns must be ``required``, every value a stripped string."""
        frame = pd.read_csv(required_file(path), dtype=str, keep_default_na=False, skipinitialspace=True)
        frame = checked_header(frame, path, required)
        frame = frame.apply(lambda column: column.str.strip())
        self._refuse_repeated_items(frame, path)
        return frame

    def _unknown_labels(self, labels: list, path: Path) -> None:
        unknown = sorted(set(labels) - set(self.classes))
        if unknown:
            raise InternalError(f"{path}: label(s) {list_ids(unknown)} are not in CLASSES {list(self.classes)}")

    def _inducer_values(self, values: pd.DataFrame, path: Path) -> pd.DataFrame:
        self._unknown_labels(values.to_numpy().ravel().tolist(), path)
        return values

    def _truth_values(self, column: pd.Series, path: Path) -> np.ndarray:
        self._unknown_labels(column.tolist(), path)
        return column.to_numpy()

    def _checked_values(self, prediction: pd.Series, index: pd.Index) -> list:
        labels = prediction.tolist()
        known = set(self.classes)
        bad = [position for position, label in enumerate(labels) if not (isinstance(label, str) and label in known)]
        if bad:
            shown = repr(labels[bad[0]])[:40]
            raise ParticipantError(f"Fusion.predict returned {len(bad)} value(s) that are not class labels, e.g. "
                                   f"{shown} for {index[bad[0]]!r}; return one of "
                                   f"{list_ids(list(self.classes), limit=20)} per {self.item} (strings, written "
                                   "exactly)")
        return labels

    def _run_values(self, checked: pd.Series) -> list[str]:
        return checked.tolist()

    def class_codes(self, prediction: pd.Series, y: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """``(truth, predicted)`` as class codes (positions in :attr:`classes`) over the items of ``y``.

        Raises
        ------
        ValueError
            When the prediction lacks items of ``y`` or holds labels outside the classes.
        """
        code = {label: c for c, label in enumerate(self.classes)}
        aligned = prediction.reindex(y.index)
        if aligned.isna().any() or not set(aligned.tolist()) <= set(code):
            raise ValueError(f"the prediction lacks {self.item}s of y, or holds labels that are not in CLASSES")
        truth = np.array([code[label] for label in y.tolist()], dtype=np.int64)
        predicted = np.array([code[label] for label in aligned.tolist()], dtype=np.int64)
        return truth, predicted

    def macro_f1(self, prediction: pd.Series, y: pd.Series) -> float:
        """Macro F1 of ``prediction`` against ``y`` over the classes, as the scoring program computes it.

        .. math:: F1_{macro} = \\frac{1}{K} \\sum_{c} \\frac{2\\,TP_c}{2\\,TP_c + FP_c + FN_c}

        (a class with no true and no predicted item has F1 = 0).
        """
        truth, predicted = self.class_codes(prediction, y)
        return macro_f1(truth, predicted, labels=np.arange(len(self.classes)))

    def accuracy(self, prediction: pd.Series, y: pd.Series) -> float:
        """The share of the items of ``y`` whose class ``prediction`` gives right, as the scoring program computes it."""
        truth, predicted = self.class_codes(prediction, y)
        return accuracy(truth, predicted)

    def primary_metric(self, prediction: pd.Series, y: pd.Series) -> float:
        """The leaderboard's primary metric: :meth:`macro_f1` or :meth:`accuracy` (:attr:`primary`)."""
        return self.accuracy(prediction, y) if self.primary == "accuracy" else self.macro_f1(prediction, y)
