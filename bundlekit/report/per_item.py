"""Per-item scores (``per_item_scores.csv``, contract C1) and the metrics recomputed from them.

Two kinds of file:

- *mean* tasks (fusion-int, fusion-div, fusion-cap): one column per metric key, the
  metric being the mean of its column over the non-empty cells;
- *correlation* tasks (fusion-mem, the regression template): columns ``prediction`` and
  ``truth``; the metrics are recomputed from them with ``scoring_common.metrics.regression``.

For paired tests every metric also has per-item *contributions* whose mean is the metric
(exactly for means, Pearson and Spearman; the mean squared error for RMSE), so that a
difference of two runs' metrics is the mean of per-item differences.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scoring_common.metrics import regression

PER_ITEM_FILE = "per_item_scores.csv"
#: What the scorer writes instead on a hidden split: the same CSV sealed with the split's reference key.
SEALED_PER_ITEM_FILE = "per_item_scores.sealed"
CORRELATION_COLUMNS = ("prediction", "truth")
#: Metrics of correlation tasks: functions ``f(y_true, y_pred)`` of scoring_common.
CORRELATION_METRICS = {"spearman": regression.spearman, "pearson": regression.pearson, "rmse": regression.rmse}


class PerItemError(ValueError):
    """A per-item file that cannot be read (one-line message naming the file)."""


@dataclass(frozen=True)
class ItemScores:
    """The per-item scores of one run.

    Attributes
    ----------
    item_ids : tuple of str
        Items in file order.
    columns : dict of str to numpy.ndarray
        One float array per column, NaN where the cell is empty.
    """

    item_ids: tuple[str, ...]
    columns: dict[str, np.ndarray]

    @property
    def is_correlation(self) -> bool:
        """Whether the file holds ``prediction,truth`` (metrics recomputed) rather than per-item metrics."""
        return set(self.columns) == set(CORRELATION_COLUMNS)

    def has_metric(self, key: str) -> bool:
        """Whether ``key`` can be recomputed from this file."""
        return key in CORRELATION_METRICS if self.is_correlation else key in self.columns

    def metric(self, key: str, indices: np.ndarray | None = None) -> float:
        """The metric ``key`` over the items at ``indices`` (all items by default, repeats allowed).

        Mean tasks: :math:`\\frac{1}{|P|}\\sum_{i \\in P} v_i` over the present cells P
        (NaN when none). Correlation tasks: ``CORRELATION_METRICS[key](truth, prediction)``.
        """
        if self.is_correlation:
            truth, prediction = self.columns["truth"], self.columns["prediction"]
            if indices is not None:
                truth, prediction = truth[indices], prediction[indices]
            return float(CORRELATION_METRICS[key](truth, prediction))
        values = self.columns[key] if indices is None else self.columns[key][indices]
        present = values[~np.isnan(values)]
        return float(present.mean()) if present.size else math.nan

    def contributions(self, key: str) -> np.ndarray:
        """Per-item values whose mean over the present items is the metric (MSE for ``rmse``).

        Pearson: :math:`z(t)_i \\, z(p)_i` with population-standardised truth and
        prediction (:math:`r = \\frac{1}{n}\\sum_i z(t)_i z(p)_i`); Spearman: the same on
        average ranks; RMSE: :math:`(p_i - t_i)^2`; mean tasks: the column itself.
        """
        if not self.is_correlation:
            return self.columns[key]
        truth, prediction = self.columns["truth"], self.columns["prediction"]
        if key == "rmse":
            return (prediction - truth) ** 2
        if key == "spearman":
            truth, prediction = regression.average_ranks(truth), regression.average_ranks(prediction)
        return _standardised(truth) * _standardised(prediction)


def _standardised(values: np.ndarray) -> np.ndarray:
    """``(v - mean) / std`` (population std); zeros for a constant vector (its correlation is 0)."""
    centred = values - values.mean()
    scale = math.sqrt(float(np.mean(centred**2)))
    return centred / scale if scale > 0 else np.zeros_like(centred)


def read_per_item(path: Path) -> ItemScores:
    """Read a ``per_item_scores.csv`` (C1): header ``item_id,<col>,...``, floats or empty cells.

    Raises
    ------
    PerItemError
        On a missing header, a row of the wrong width, a duplicate item or a cell that is
        neither empty nor a finite number.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        return parse_per_item(handle.read(), str(path))


def read_scoring_output(folder: Path, keys: list[bytes] = ()) -> ItemScores:
    """The per-item scores of a scoring output: its CSV, else its sealed file opened with one of ``keys``.

    Raises
    ------
    PerItemError
        When neither file is there, no key opens the sealed one, or the CSV is malformed.
    """
    from scoring_common.seal import SealError, unseal  # noqa: PLC0415

    if (folder / PER_ITEM_FILE).is_file():
        return read_per_item(folder / PER_ITEM_FILE)
    sealed = folder / SEALED_PER_ITEM_FILE
    if not sealed.is_file():
        raise PerItemError(f"no {PER_ITEM_FILE} in its scoring output")
    text = sealed.read_text(encoding="utf-8")
    for key in keys:
        try:
            return parse_per_item(unseal(text, key), str(sealed))
        except SealError:
            continue
    raise PerItemError(f"its per-item scores are sealed (hidden split): pass --bundle with the organisers' bundle"
                       if not keys else "its sealed per-item scores do not open with the bundle's reference data")


def parse_per_item(text: str, where: str) -> ItemScores:
    """Parse the text of a C1 file; ``where`` names it in messages."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or not rows[0] or rows[0][0] != "item_id" or len(rows[0]) < 2:
        raise PerItemError(f"{where}: the header must be item_id,<column>,... (contract C1)")
    header = rows[0][1:]
    item_ids: list[str] = []
    values = np.full((len(rows) - 1, len(header)), np.nan)
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header) + 1:
            raise PerItemError(f"{where} line {number}: {len(row)} cells, expected {len(header) + 1}")
        item_ids.append(row[0])
        for column, cell in enumerate(row[1:]):
            if cell == "":
                continue
            try:
                number_value = float(cell)
            except ValueError:
                number_value = math.nan
            if not math.isfinite(number_value):
                raise PerItemError(f"{where} line {number}: {cell!r} is not a finite number")
            values[number - 2, column] = number_value
    if len(set(item_ids)) != len(item_ids):
        raise PerItemError(f"{where}: an item appears twice")
    return ItemScores(tuple(item_ids), {name: values[:, k] for k, name in enumerate(header)})


def aligned(scores: ItemScores, item_ids: tuple[str, ...]) -> ItemScores:
    """``scores`` in the order of ``item_ids``; PerItemError if the items differ."""
    if scores.item_ids == item_ids:
        return scores
    position = {item: k for k, item in enumerate(scores.item_ids)}
    if set(position) != set(item_ids):
        raise PerItemError("the runs were scored on different items (another phase or split?)")
    order = np.array([position[item] for item in item_ids], dtype=np.int64)
    return ItemScores(item_ids, {name: values[order] for name, values in scores.columns.items()})
