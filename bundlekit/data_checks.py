"""Checks of a task's data across its two splits, for the tasks' ``validate_data`` hooks.

The scoring programs' readers check each file on its own; what they cannot see is how the
dev and test splits relate. Both must offer the same inducers in the same order (a fusion
fitted on dev is applied to test), and must not share items (the test split would leak
into training). Every check raises ValueError with a one-line message for the build.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

SPLITS = ("dev", "test")
#: How many offending names a message quotes.
SHOWN = 3


def split_dirs(data_dir: Path, part: str) -> dict[str, Path]:
    """``{split: data_dir/<split>/<part>}`` for ``part`` in input_data, reference_data."""
    return {split: data_dir / split / part for split in SPLITS}


def same_inducers(names: dict[str, list[str]]) -> None:
    """Require the dev and test splits to have the same inducers, in the same order."""
    dev, test = names["dev"], names["test"]
    if dev == test:
        return
    only_dev, only_test = _missing_from(dev, test), _missing_from(test, dev)
    if not only_dev and not only_test:
        raise ValueError("the dev and test splits list the same inducers in different orders; "
                         "keep one order, since a fusion fitted on dev is applied to test")
    raise ValueError(f"the dev and test splits must have the same inducers: only on dev {_shown(only_dev)}, "
                     f"only on test {_shown(only_test)}")


def disjoint(ids: dict[str, Iterable[str]], what: str) -> None:
    """Require the dev and test splits to share no ``what`` (id)."""
    shared = sorted(set(ids["dev"]) & set(ids["test"]))
    if shared:
        raise ValueError(f"{len(shared)} {what}(s) are in both the dev and the test split, e.g. {_shown(shared)}; "
                         "the splits must not share any")


def csv_header(path: Path, delimiter: str = ",") -> list[str]:
    """The first row of a CSV file (stripped fields), or [] for an empty file."""
    with _open(path) as handle:
        return [field.strip() for field in next(csv.reader(handle, delimiter=delimiter), [])]


def csv_column(path: Path, index: int, delimiter: str = ",") -> list[str]:
    """Field ``index`` of every row after the header (stripped); rows too short give ''."""
    with _open(path) as handle:
        rows = csv.reader(handle, delimiter=delimiter)
        next(rows, None)
        return [row[index].strip() if len(row) > index else "" for row in rows if row]


def file_stems(folder: Path, suffix: str) -> list[str]:
    """Sorted names, without ``suffix``, of the files of ``folder`` ending in ``suffix``."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is missing")
    return sorted(path.name[: -len(suffix)] for path in folder.iterdir() if path.name.endswith(suffix))


def _open(path: Path):
    if not path.is_file():
        raise ValueError(f"{path} is missing")
    return path.open(encoding="utf-8-sig", newline="")


def _missing_from(names: list[str], others: list[str]) -> list[str]:
    known = set(others)
    return [name for name in names if name not in known]


def _shown(names: list[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(repr(name) for name in names[:SHOWN])
    return f"{shown} and {len(names) - SHOWN} more" if len(names) > SHOWN else shown


def scaled(count: int, size: float) -> int:
    """A split's ``count`` items times a generator's ``size`` (benchmarks), at least one."""
    return max(1, round(count * size))

