"""Per-item scores: the values behind a run's aggregate scores, one row per item of the split.

Every scoring program writes them to ``per_item_scores.csv`` beside ``scores.json``
(docs/scoring-output.md): UTF-8, header ``item_id,<column>,...``, one row per item (video,
query, image...) in natural order (``video_2`` before ``video_10``), floats written with
``repr`` and an empty cell where the item does not count for that metric. Organisers use
them for paired significance tests and bootstrap intervals.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from itertools import chain
from typing import Iterator, Mapping, Sequence

import numpy as np

from scoring_common.errors import InternalError
from scoring_common.report import natural_order

#: The header of the first column, whatever the items are.
ITEM_COLUMN = "item_id"
#: Largest difference tolerated between a column's mean and the score of the same key.
MEAN_TOLERANCE = 1e-9


@dataclass(frozen=True)
class PerItemScores:
    """Per-item values of one run.

    Attributes
    ----------
    item_ids : sequence of str
        Every item of the split, in any order (rows are written in natural order).
    columns : mapping of str to sequence
        Column name -> one value per item, aligned with ``item_ids``: floats (NaN for an
        empty cell, an item that does not count) or strings (class labels).
    """

    item_ids: Sequence[str]
    columns: Mapping[str, Sequence | np.ndarray]

    def __post_init__(self) -> None:
        for name, values in self.columns.items():
            if len(values) != len(self.item_ids):
                raise InternalError(f"per-item column {name!r} has {len(values)} values for {len(self.item_ids)} items")

    def render(self) -> str:
        """The CSV text of ``per_item_scores.csv``."""
        # Written as UTF-8 bytes (a StringIO would hold 4 bytes per character), decoded once at the end.
        encoded = io.BytesIO()
        buffer = io.TextIOWrapper(encoded, encoding="utf-8", newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([ITEM_COLUMN, *self.columns])
        order = natural_order(list(self.item_ids))
        # Cells are made row by row as the writer asks for them: no column of strings is held.
        columns = [_cells(values, order) for values in self.columns.values()]
        writer.writerows(zip((self.item_ids[position] for position in order), *columns))
        buffer.flush()
        return encoded.getvalue().decode("utf-8")

    def check_means(self, scores: Mapping[str, float]) -> None:
        """Raise :class:`InternalError` unless every column named like a score averages to it.

        The mean is over the non-empty cells: :math:`\\bar{m} = \\frac{1}{|I_m|}\\sum_{i \\in I_m} m_i`.
        """
        for name, values in self.columns.items():
            if name not in scores:
                continue
            array = np.asarray(values, dtype=np.float64)
            counted = array[~np.isnan(array)]
            mean = float(counted.mean()) if counted.size else math.nan
            if not abs(mean - scores[name]) <= MEAN_TOLERANCE:
                raise InternalError(f"per-item column {name!r} averages {mean!r}, but the score is {scores[name]!r}")


#: Cells converted to Python floats at a time.
_BLOCK = 4096


def _cells(values: Sequence | np.ndarray, order: Sequence[int]) -> Iterator[str]:
    """Cell texts of one column in ``order``: ``repr`` of floats, empty for NaN, strings as they are."""
    if not isinstance(values, np.ndarray) and all(isinstance(value, str) for value in values):
        return (values[position] for position in order)
    floats = np.asarray(values, dtype=np.float64)[np.asarray(order, dtype=np.int64)]
    # Python floats made a block at a time; value != value: NaN.
    values = chain.from_iterable(floats[start:start + _BLOCK].tolist() for start in range(0, floats.size, _BLOCK))
    return ("" if value != value else repr(value) for value in values)
