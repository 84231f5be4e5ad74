"""pandas helpers shared by the prediction types: split id tuples, organisers' CSV files, run lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError


class SplitIds(tuple):
    """The ids of a split kept in ``frame.attrs``: a tuple that pandas copies for free.

    pandas deep-copies ``attrs`` on every operation that builds a new frame; returning
    the same immutable tuple keeps slicing and ``groupby`` as fast as without attrs.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> "SplitIds":
        return self


def split_ids(frame: pd.DataFrame, key: str) -> SplitIds:
    """The split's ids that ``frame.attrs[key]`` holds (set by the loaders).

    Raises
    ------
    ParticipantError
        When the attrs were dropped (``X`` modified in place).
    """
    ids = frame.attrs.get(key)
    if ids is None:
        raise ParticipantError(f"X.attrs[{key!r}] is missing; do not modify X in place "
                               "(work on X.copy() or on derived frames)")
    return ids


class SharedStrings:
    """Equal strings of a split's files as one ``str`` object each, across every file read.

    A participant's ``groupby``, ``merge`` or ``isin`` over a column of ``X`` hashes each
    distinct object once (``str`` caches its hash) and compares equal ids by identity; a
    fresh object per row made every fusion-cap run 40 to 70 MiB larger.
    """

    def __init__(self) -> None:
        self._table: dict[str, str] = {}

    def distinct(self, values: list[str]) -> np.ndarray:
        """``values`` (distinct strings) as an object array of the shared objects."""
        shared = np.empty(len(values), dtype=object)
        shared[:] = [self._table.setdefault(value, value) for value in values]
        return shared

    def column(self, values: np.ndarray) -> np.ndarray:
        """``values`` (a 1-d object array of strings) with each string the shared object."""
        codes, uniques = pd.factorize(values)
        return self.distinct(uniques.tolist())[codes] if len(values) else values


def required_file(path: Path) -> Path:
    """``path`` if it is a file, else an InternalError naming the split folder's missing file."""
    if not path.is_file():
        raise InternalError(f"{path} not found; a split folder must hold {path.name}")
    return path


def checked_header(frame: pd.DataFrame, path: Path, required: list[str], exact: bool = False) -> pd.DataFrame:
    """``frame`` with stripped column names, which must start with ``required`` (be it, with ``exact``)."""
    columns = [str(c).strip() for c in frame.columns]
    if exact and columns != required:
        raise InternalError(f"{path} must have the header {','.join(required)}, found {','.join(columns)}")
    if columns[:len(required)] != required:
        raise InternalError(f"{path} must start with the header {','.join(required)}, "
                            f"found {','.join(columns[:len(required)])}")
    frame.columns = columns
    return frame


def write_lines(path: Path, lines: list[str]) -> None:
    """Write ``lines`` as a UTF-8 text file, each ended by a newline."""
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
