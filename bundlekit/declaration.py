"""One declaration per task: what a task is, in one place, checked when it is loaded.

Each ``bundles/<task>/task.py`` (and each scaffold kind's ``task.py``) ends with::

    TASK = TaskDeclaration(name=..., title=..., kind=..., item_columns=..., metrics=(...), ...)

The build reads the task from there alone (:func:`load_declaration`) and refuses a
declaration that disagrees with the rest of the sources (:func:`check_scoring_primary`,
:func:`check_leaderboard`): the scoring program's primary key, the leaderboard's columns.
The kit declares its own score keys (:data:`KIT_KEYS`): the gain over the best inducer
and the cost columns of code submissions; a task declares only its metrics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Mapping

from scoring_common.program import COST_KEYS

#: Prediction types, one per kind of output (the scaffold kinds' names; ``custom`` uses ``regression``).
KINDS = ("classification", "multilabel", "ranking", "regression", "retrieval")
#: Score keys the kit writes itself (``scoring_common.program``): the gain, then the cost columns (contract C4).
GAIN_KEY = "gain_pct"
KIT_KEYS = (GAIN_KEY, *COST_KEYS)
SORTINGS = ("desc", "asc")
#: Names of task.py's single declaration.
DECLARATION_NAME = "TASK"
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class DeclarationError(ValueError):
    """A task declaration that is invalid or disagrees with the task's other sources (one line)."""


@dataclass(frozen=True)
class Metric:
    """One metric of the scoring program's ``scores.json``, shown as a leaderboard column.

    Parameters
    ----------
    key : str
        The scores.json key and the leaderboard column key (lower case, digits, ``_``).
    title : str
        The leaderboard column title.
    sorting : {"desc", "asc"}
        ``desc`` when higher is better.
    precision : int
        Decimals shown on the leaderboard.
    """

    key: str
    title: str
    sorting: str = "desc"
    precision: int = 4

    def problem(self) -> str | None:
        """Why this metric is invalid (one phrase), or None."""
        if not isinstance(self.key, str) or not _KEY.match(self.key):
            return f"key {self.key!r} is not a score key (lower case letters, digits and _, a letter first)"
        if self.key in KIT_KEYS:
            return f"key {self.key!r} is the kit's own ({', '.join(KIT_KEYS)}); declare only the task's metrics"
        if not isinstance(self.title, str) or not self.title.strip():
            return f"{self.key}: title must be a non-empty string"
        if self.sorting not in SORTINGS:
            return f"{self.key}: sorting {self.sorting!r} must be 'desc' (higher is better) or 'asc'"
        if isinstance(self.precision, bool) or not isinstance(self.precision, int) or not 0 <= self.precision <= 10:
            return f"{self.key}: precision {self.precision!r} must be an integer from 0 to 10"
        return None


@dataclass(frozen=True)
class TaskDeclaration:
    """Everything the kit needs to know about a task, declared once in its task.py.

    Parameters
    ----------
    name : str
        The task's folder name under ``bundles/`` (and its bundle's name).
    title : str
        A human title.
    kind : str
        The prediction type, one of :data:`KINDS`.
    item_columns : tuple of str
        The column names that identify an item in the data and runs (e.g. ``("video_id", "image_id")``).
    metrics : tuple of Metric
        The scoring program's metrics, the primary one first; the leaderboard shows them in
        this order, followed by the kit's keys (:data:`KIT_KEYS`).
    editions : mapping
        Stand-in data presets by edition name (sizes, inducer roles...).
    default_edition : str
        The edition built by default, a key of ``editions``.
    generate_data : callable
        ``generate_data(dest, edition=, seed=, progress=)`` writes ``dest/{dev,test}/{input_data,reference_data}/``.
    inducer_predictions : callable
        ``inducer_predictions(X)`` yields ``(name, prediction)`` for every inducer (the best-inducer baseline).
    input_files : tuple of str
        Globs under ``input_data/``: the only input files the build publishes.
    validate_data : callable, optional
        ``validate_data(data_dir)`` raises ``ValueError`` on data the splits disagree on.
    accepted_warnings : mapping of str to str
        Checker warnings raised by design: rule id -> why.
    classes : tuple of str, optional
        The classes, for the ``classification`` kind (and only for it).
    public_truth_files : tuple of str, optional
        The dev reference files participants get; default every one.
    write_check_reference : callable, optional
        ``write_check_reference(test_input_dir, dest)`` writes reference data for the participant
        kit's Test check from the public test input alone (made-up truth).
    """

    name: str
    title: str
    kind: str
    item_columns: tuple[str, ...]
    metrics: tuple[Metric, ...]
    editions: Mapping[str, Mapping[str, Any]]
    default_edition: str
    generate_data: Callable[..., None]
    inducer_predictions: Callable[[Any], Iterator[tuple[str, Any]]]
    input_files: tuple[str, ...]
    validate_data: Callable[[Path], None] | None = None
    accepted_warnings: Mapping[str, str] = field(default_factory=dict)
    classes: tuple[str, ...] | None = None
    public_truth_files: tuple[str, ...] | None = None
    write_check_reference: Callable[[Path, Path], None] | None = None

    def __post_init__(self) -> None:
        problem = _first_problem(self)
        if problem is not None:
            raise DeclarationError(problem)

    @property
    def primary(self) -> Metric:
        """The primary metric: the first declared."""
        return self.metrics[0]

    @property
    def score_keys(self) -> tuple[str, ...]:
        """Every key of a code submission's scores.json: the metrics', then the kit's."""
        return (*(metric.key for metric in self.metrics), *KIT_KEYS)


def _first_problem(task: TaskDeclaration) -> str | None:
    """The first invalid field of ``task``, as ``field: what is wrong``, or None."""
    for name, problem in _field_problems(task):
        if problem is not None:
            return f"{name}: {problem}"
    return None


def _field_problems(task: TaskDeclaration) -> Iterator[tuple[str, str | None]]:
    yield "name", None if _is_text(task.name) else "must be the task's folder name"
    yield "title", None if _is_text(task.title) else "must be a non-empty string"
    yield "kind", None if task.kind in KINDS else f"{task.kind!r} is not one of {', '.join(KINDS)}"
    yield "item_columns", _names_problem(task.item_columns, "column names", _COLUMN)
    yield "metrics", _metrics_problem(task.metrics)
    yield "editions", (None if isinstance(task.editions, Mapping) and task.editions
                       and all(_is_text(k) and isinstance(v, Mapping) for k, v in task.editions.items())
                       else "must map each edition name to its preset (a dict), at least one")
    yield "default_edition", (None if isinstance(task.editions, Mapping) and task.default_edition in task.editions
                              else f"{task.default_edition!r} is not one of the declared editions")
    for hook in ("generate_data", "inducer_predictions"):
        yield hook, None if callable(getattr(task, hook)) else "must be a function"
    for hook in ("validate_data", "write_check_reference"):
        yield hook, None if getattr(task, hook) is None or callable(getattr(task, hook)) else "must be a function or None"
    yield "input_files", _globs_problem(task.input_files)
    yield "accepted_warnings", (None if isinstance(task.accepted_warnings, Mapping)
                                and all(isinstance(k, str) and isinstance(v, str) for k, v in task.accepted_warnings.items())
                                else "must map checker rule ids to the reason (strings)")
    if task.kind == "classification":
        yield "classes", _names_problem(task.classes, "classes", None, at_least=2)
    else:
        yield "classes", None if task.classes is None else f"only the classification kind has classes, not {task.kind}"
    yield "public_truth_files", (None if task.public_truth_files is None
                                 else _globs_problem(task.public_truth_files, allow_empty=True))


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _names_problem(names: object, what: str, pattern: re.Pattern | None, at_least: int = 1) -> str | None:
    """Why ``names`` is not a tuple of at least ``at_least`` distinct ``what`` (plural), or None."""
    if not isinstance(names, tuple) or len(names) < at_least:
        return f"must be a tuple of at least {at_least} {what}"
    for name in names:
        if not _is_text(name) or (pattern is not None and not pattern.match(name)):
            return f"{name!r} is not one of the valid {what}"
    duplicates = sorted({name for name in names if names.count(name) > 1})
    return f"{', '.join(duplicates)} declared twice" if duplicates else None


def _metrics_problem(metrics: object) -> str | None:
    if not isinstance(metrics, tuple) or not metrics or not all(isinstance(m, Metric) for m in metrics):
        return "must be a tuple of Metric(key, title, sorting, precision), the primary first"
    for metric in metrics:
        problem = metric.problem()
        if problem is not None:
            return problem
    keys = [metric.key for metric in metrics]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    return f"{', '.join(duplicates)} declared twice" if duplicates else None


def _globs_problem(globs: object, allow_empty: bool = False) -> str | None:
    if not isinstance(globs, tuple) or not (globs or allow_empty):
        return "must be a tuple of paths under the split's folder (globs allowed), e.g. (\"inducers.csv\",)"
    for glob in globs:
        if not _is_text(glob) or glob.startswith("/") or "\\" in glob or ".." in glob.split("/"):
            return f"{glob!r} is not a relative path with / separators"
    return None


def load_declaration(module: ModuleType, path: Path, folder_name: str | None = None) -> TaskDeclaration:
    """The ``TASK`` of a loaded task.py, checked; ``folder_name`` must then be its name.

    Raises
    ------
    DeclarationError
        One line naming the file and the field: no ``TASK``, not a :class:`TaskDeclaration`,
        or a name other than the folder's.
    """
    task = getattr(module, DECLARATION_NAME, None)
    if task is None:
        raise DeclarationError(f"{path}: no {DECLARATION_NAME}; end the file with {DECLARATION_NAME} = "
                               "TaskDeclaration(...) (docs/new-task-guide.md)")
    if not isinstance(task, TaskDeclaration):
        raise DeclarationError(f"{path}: {DECLARATION_NAME} is a {type(task).__name__}, not a TaskDeclaration "
                               "(from bundlekit.declaration)")
    if folder_name is not None and task.name != folder_name:
        raise DeclarationError(f"{path}: {DECLARATION_NAME}.name {task.name!r} differs from the task's folder "
                               f"{folder_name!r}; make them equal")
    return task


def declared(path: Path, exc: DeclarationError) -> DeclarationError:
    """A field error raised while task.py was executed, with the file named."""
    return DeclarationError(f"{path}: {DECLARATION_NAME}.{exc}")


def check_scoring_primary(task: TaskDeclaration, scoring_primary: str, where: Path | str) -> None:
    """The scoring program's primary key must be the declared primary metric's."""
    if scoring_primary != task.primary.key:
        raise DeclarationError(f"{where}: the scoring program's primary metric is {scoring_primary!r}, the "
                               f"declared one (TASK.metrics[0]) {task.primary.key!r}; make them the same")


def check_item_columns(task: TaskDeclaration, inducers: Any, where: Path) -> None:
    """The inducers as ``fusion_io.load_inducers`` gives them must carry the declared item columns.

    ``inducers`` is a pandas object: the columns are looked for among its index levels and columns.
    """
    index_names = [name for name in getattr(getattr(inducers, "index", None), "names", []) if name]
    names = [*map(str, index_names), *map(str, getattr(inducers, "columns", []))]
    missing = [column for column in task.item_columns if column not in names]
    if missing:
        raise DeclarationError(f"{where}: load_inducers gives no {', '.join(missing)} (TASK.item_columns), only "
                               f"{', '.join(names[:8]) or 'no named column'}; make them the same")


def check_leaderboard(task: TaskDeclaration, columns: list[dict], where: Path) -> None:
    """The leaderboard's columns must be the declared metrics, in order, then the kit's keys.

    Each metric's column must carry its declared title, sorting and precision; a column
    whose key no metric declares, a missing column or another order is refused.
    """
    columns = [column for column in columns if "computation" not in column]
    keys = [column.get("key") for column in columns]
    unknown = [key for key in keys if key not in task.score_keys]
    if unknown:
        raise DeclarationError(f"{where}: leaderboard column key(s) {', '.join(map(str, unknown))} not declared; "
                               f"declare them in TASK.metrics (declared: {', '.join(task.score_keys)})")
    if keys[:1] != [task.primary.key]:
        raise DeclarationError(f"{where}: the leaderboard's first column is {keys[0] if keys else None!r}, the "
                               f"declared primary metric {task.primary.key!r}; put the primary metric first")
    if keys != list(task.score_keys):
        raise DeclarationError(f"{where}: leaderboard columns {', '.join(map(str, keys))} differ from the declared "
                               f"{', '.join(task.score_keys)} (TASK.metrics, then the kit's); list them in that order")
    by_key = {column["key"]: column for column in columns}
    for metric in task.metrics:
        column = by_key[metric.key]
        for name in ("title", "sorting", "precision"):
            if column.get(name) != getattr(metric, name):
                raise DeclarationError(f"{where}: leaderboard column {metric.key} has {name} {column.get(name)!r}, "
                                       f"the declared metric {getattr(metric, name)!r}; make them the same")


def field_names() -> tuple[str, ...]:
    """The declaration's field names, in order (for the documentation and the tests)."""
    return tuple(f.name for f in fields(TaskDeclaration))
