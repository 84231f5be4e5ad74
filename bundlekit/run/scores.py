"""What the worker reads back from the scoring step: the scores file, the leaderboard row."""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from pathlib import Path
from typing import Callable

from bundlekit import safe_yaml
from bundlekit.bundle_model import Column
from bundlekit.run.result import StepFailure

#: Largest scores or timing file read back from an output folder.
MAX_READ_BYTES = 1024**2


def read_output_file(path: Path) -> bytes | None:
    """A regular file's bytes, never through a symbolic link; None when there is no such file.

    Raises
    ------
    StepFailure
        When the entry is a link or a special file, or above MAX_READ_BYTES.
    """
    not_regular = StepFailure(
        f"{path.name} in /app/output is not a regular file (a link, folder or special file): write a regular file"
    )
    try:  # O_NONBLOCK: a FIFO must not hang the runner
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise not_regular from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise not_regular
        data = handle.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise StepFailure(f"{path.name} in /app/output is larger than {MAX_READ_BYTES // 1024} KiB: write less")
    return data


def read_scores(output_dir: Path) -> dict[str, float]:
    """The scores the platform would read: scores.json, or else scores.txt as YAML."""
    import yaml

    json_data, txt_data = read_output_file(output_dir / "scores.json"), read_output_file(output_dir / "scores.txt")
    if json_data is not None:
        try:
            scores = json.loads(json_data.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            raise StepFailure(f"scores.json is not valid JSON ({reason}): the platform fails the submission") from None
    elif txt_data is not None:
        try:
            scores = safe_yaml.load(txt_data.decode("utf-8"))
        except (yaml.YAMLError, safe_yaml.YamlLimitError, UnicodeDecodeError):
            raise StepFailure("scores.txt is not valid YAML: write 'key: value' lines (with the space)") from None
    else:
        raise StepFailure("Could not find scores file, did the scoring program output it? (no scores.json in /app/output)")
    if not isinstance(scores, dict):
        raise StepFailure("the scores file is not a flat mapping {\"column_key\": number}")
    for key, value in sorted(scores.items(), key=lambda item: str(item[0])):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise StepFailure(f"score {key!r} is {value!r}: every score must be a finite number")
    return {str(key): float(value) for key, value in scores.items()}


def leaderboard_row(columns: list[Column], scores: dict[str, float]) -> list[tuple[str, str, float | None]]:
    """The first leaderboard's row; computed columns filled from the columns they name."""
    by_index = {column.index: column for column in columns}
    operations: dict[str, Callable[[list[float]], float]] = {
        "avg": lambda values: sum(values) / len(values), "sum": sum, "min": min, "max": max,
    }
    row = []
    for column in columns:
        if column.computation:
            values = [scores.get(by_index[i].key) for i in column.computation_indexes if i in by_index]
            operation = operations.get(str(column.computation).lower())
            complete = values and operation and all(v is not None for v in values)
            row.append((column.key, column.title, operation(values) if complete else None))
        else:
            row.append((column.key, column.title, scores.get(column.key)))
    return row


def check_score_keys(columns: list[Column], scores: dict[str, float]) -> list[str]:
    """Fail on keys the platform would drop silently; return the columns left empty.

    A column without a score is legitimate (the execution time of a result-only
    submission, say): the platform shows it empty.
    """
    expected = {column.key for column in columns if not column.computation}
    extra = sorted(set(scores) - expected)
    if extra:
        raise StepFailure(
            f"the scoring program wrote keys that are not leaderboard columns: {', '.join(map(repr, extra))} "
            f"(the platform drops them silently); the column keys are {', '.join(map(repr, sorted(expected)))}"
        )
    return sorted(expected - set(scores))
