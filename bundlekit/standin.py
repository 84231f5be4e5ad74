"""Helpers of the tasks' stand-in data generators (``generate_data`` in each task.py).

Generators write small deterministic data sets so that a bundle builds before the real
data exists: the same edition and seed give the same bytes ('\n' line ends, UTF-8).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    import numpy as np


def edition_preset(task: str, editions: Mapping, edition: str, note: str = "") -> Mapping:
    """The stand-in data preset of ``edition``, for a task's ``generate_data``.

    Raises
    ------
    ValueError
        ``unknown <task> edition '<edition>'<note>; editions: ...`` when ``editions`` lacks it.
    """
    if edition not in editions:
        raise ValueError(f"unknown {task} edition {edition!r}{note}; editions: {', '.join(sorted(editions))}")
    return editions[edition]


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` to ``path``, each ended by a newline (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a comma-separated file: ``header``, then one line per row (fields written as they are)."""
    write_lines(path, (",".join(fields) for fields in [header, *rows]))


def shuffled_roles(counts: Mapping[str, int], rng: "np.random.Generator") -> list[str]:
    """One role per inducer (``counts``: role -> how many), in an order drawn from ``rng`` (one permutation)."""
    roles = [role for role, count in counts.items() for _ in range(count)]
    return [roles[i] for i in rng.permutation(len(roles))]


def inducer_names(count: int) -> list[str]:
    """``inducer_01``, ``inducer_02``... for ``count`` inducers."""
    return [f"inducer_{number:02d}" for number in range(1, count + 1)]
