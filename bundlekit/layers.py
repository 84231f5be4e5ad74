"""A task's program files in layers: the kind's files are the default, the task overrides what it must.

The kit's templates (``bundlekit/templates/``) hold, for every kind of task, the files a
task of that kind builds from: ``common/`` what every task shares, ``<kind>/`` what the kind
adds or replaces. The build takes the programs, the starting kit and the baselines
(:data:`DERIVED_PARTS`) of a task from three layers, the most specific winning:

1. ``templates/common/``, then ``templates/<kind>/`` (``TASK.kind``), each file rendered
   with the markers of the kind's ``template.yaml`` and those the declaration gives
   (:func:`declaration_markers`: the task's name, title, classes, item columns);
2. the task's own folder ``bundles/<task>/``: a file there replaces the kind's file of the
   same path. ``solutions/`` is replaced as a whole: a task that has the folder ships its
   own baselines only (``best-inducer`` included), one without it the kind's.

So a task holds only its declaration (task.py), its pages, competition.yaml and logo,
and the files that are truly its own. ``bundlekit new`` keeps in the new task only the
template files that differ from these layers (``scaffold.own_files``), so that a scaffold
and a kit task of the same kind build from the same files. The leaderboard's columns are
derived too (:func:`leaderboard_columns`), from ``TASK.metrics``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from bundlekit.archive import iter_files

if TYPE_CHECKING:
    from bundlekit.declaration import TaskDeclaration

#: The task folders whose files the build takes from the kind unless the task has its own.
DERIVED_PARTS = ("ingestion_program", "scoring_program", "solutions", "starting_kit")
#: Replaced as a whole by a task folder of that name (the set of baselines is the task's choice).
WHOLE_PARTS = ("solutions",)


def part_of(relative: str) -> str:
    """The first folder of a posix path from the task root (``""`` for a file at the root)."""
    return relative.split("/", 1)[0] if "/" in relative else ""


def declaration_markers(name: str, title: str, kind: str, classes: tuple[str, ...] | None,
                        item_columns: tuple[str, ...]) -> dict[str, str]:
    """The scaffold markers a declaration determines: name, id, title, kind, classes and item columns.

    ``__ITEM_COLUMN__`` is the last item column (the item's own id), ``__QUERY_COLUMN__`` the
    first (the query of a two-column kind; the item column itself otherwise).
    """
    from bundlekit.scaffold import class_markers  # noqa: PLC0415

    markers = {"TASK_NAME": name, "TASK_ID": name.replace("-", "_"), "TASK_TITLE": title, "KIND": kind,
               "ITEM_COLUMN": item_columns[-1], "QUERY_COLUMN": item_columns[0]}
    if classes:
        markers.update(class_markers(classes))
    return markers


def render_markers(template_markers: dict[str, str], own: dict[str, str], where: str) -> dict[str, str]:
    """Every marker value of a kind: its template.yaml values (themselves rendered with ``own``), then ``own``."""
    from bundlekit.scaffold import render  # noqa: PLC0415

    return {**{key: render(value, own, f"{where} {key}") for key, value in template_markers.items()}, **own}


def kind_files(kind: str, markers: dict[str, str], parts: tuple[str, ...] | None = None) -> dict[str, str]:
    """The files of ``kind``'s template layers, rendered: relative path -> text.

    ``parts`` keeps only files under those top folders (default: every file).
    """
    from bundlekit.scaffold import load_template, render, template_files  # noqa: PLC0415

    files = {}
    for relative, path in template_files(load_template(kind)).items():
        where = f"{kind}:{relative}"
        rendered = render(relative, markers, where)
        if parts is None or part_of(rendered) in parts:
            files[rendered] = render(path.read_text(encoding="utf-8"), markers, where)
    return files


def derived_files(kind: str, own: dict[str, str]) -> dict[str, str]:
    """The files a task of ``kind`` gets from its kind (:data:`DERIVED_PARTS`): relative path -> text.

    ``own`` are the markers the task determines (:func:`declaration_markers`).
    """
    from bundlekit.scaffold import load_template  # noqa: PLC0415

    markers = render_markers(load_template(kind).markers, own, f"{kind}:template.yaml")
    return kind_files(kind, markers, DERIVED_PARTS)


def task_derived_files(task: TaskDeclaration) -> dict[str, str]:
    """:func:`derived_files` of a declared task; a kind without fusion_io.py gets one derived from ``task``.

    Raises
    ------
    DeclarationError
        When the kind has no fusion_io.py and the declaration does not say enough to derive one.
    """
    from bundlekit.fusion_io_derivation import FUSION_IO, derived_fusion_io  # noqa: PLC0415

    files = derived_files(task.kind, declaration_markers(task.name, task.title, task.kind, task.classes,
                                                         task.item_columns))
    if FUSION_IO not in files:
        files[FUSION_IO] = derived_fusion_io(task)
    return files


def layered_files(source: Path, task: TaskDeclaration) -> dict[str, Path | str]:
    """The task's derived parts, layered: relative path -> the task's own file (Path) or the kind's text."""
    own = {path.relative_to(source).as_posix(): path for part in DERIVED_PARTS if (source / part).is_dir()
           for path in iter_files(source / part)}
    owned_whole = {part for part in WHOLE_PARTS if (source / part).is_dir()}
    files: dict[str, Path | str] = {relative: text for relative, text in task_derived_files(task).items()
                                    if part_of(relative) not in owned_whole}
    files.update(own)
    return dict(sorted(files.items()))


def materialise(source: Path, task: TaskDeclaration, dest: Path) -> Path:
    """Write the task's layered program files into ``dest`` (the task's own files copied byte for byte)."""
    for relative, content in layered_files(source, task).items():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    return dest


def origin(source: Path, task: TaskDeclaration, relative: str) -> str:
    """Where a layered file comes from, for messages: the task's file, or the kind's template."""
    if (source / relative).is_file():
        return str(source / relative)
    return f"{relative} (from the {task.kind} kind's template, bundlekit/templates/)"


def own_or(source: Path, layered: Path, relative: str) -> Path:
    """The task's own file at ``relative`` if it has one, else the layered copy under ``layered``."""
    own = source / relative
    return own if own.is_file() else layered / relative


#: The leaderboard columns of the kit's own keys (``KIT_KEYS``), after the task's metrics.
KIT_COLUMNS = (
    {"title": "Gain over best inducer (%)", "key": "gain_pct", "sorting": "desc", "precision": 2},
    {"title": "Time: import+fit+predict (s)", "key": "time_s", "sorting": "asc", "precision": 2},
    {"title": "CPU: import+fit+predict (s)", "key": "cpu_s", "sorting": "asc", "precision": 2},
    {"title": "Peak resident memory (MiB)", "key": "memory_mib", "sorting": "asc", "precision": 0},
)


def leaderboard_columns(task: TaskDeclaration) -> list[dict]:
    """The leaderboard's columns: ``TASK.metrics`` in order, then the kit's (:data:`KIT_COLUMNS`), indexed from 0."""
    columns = [{"title": m.title, "key": m.key, "sorting": m.sorting, "precision": m.precision} for m in task.metrics]
    return [{"title": column["title"], "key": column["key"], "index": index, "sorting": column["sorting"],
             "precision": column["precision"]} for index, column in enumerate([*columns, *KIT_COLUMNS])]


#: Layered copies written for commands other than the build (task folder -> copy), removed at exit.
_COPIES: dict[Path, Path] = {}


def layered_copy(source: Path, task: TaskDeclaration) -> Path:
    """The task's layered program files (:func:`materialise`), written once per process in a temporary folder."""
    import atexit  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    key = source.resolve()
    if key not in _COPIES:
        folder = Path(tempfile.mkdtemp(prefix=f"bundlekit-{task.name}-"))
        atexit.register(shutil.rmtree, folder, True)
        _COPIES[key] = materialise(source, task, folder)
    return _COPIES[key]


def source_file(source: Path, task: TaskDeclaration, relative: str) -> Path:
    """The task's own file at ``relative``, else its kind's (from :func:`layered_copy`), to read or import."""
    return own_or(source, layered_copy(source, task), relative)
