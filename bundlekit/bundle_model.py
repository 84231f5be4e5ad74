"""One model of a competition bundle: ``competition.yaml`` read once, as build, check and run see it.

:func:`load_yaml` is the one reader of the file's text (bounded by :mod:`bundlekit.safe_yaml`,
keys given twice noted); :func:`read_document` turns its failures into one-line
:class:`BundleError` messages; :meth:`Competition.from_document` gives the phases, their
tasks (programs and data) and the first leaderboard's columns of a well-formed document.
The checker reads the same document to report every problem of a malformed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bundlekit import safe_yaml

#: The bundle's declaration, at the root of its folder or zip.
COMPETITION_YAML = "competition.yaml"
#: A phase's ``execution_time_limit`` when it gives none (the platform's default), in seconds.
DEFAULT_TIME_LIMIT = 600.0
#: Most files a bundle zip may hold to be unpacked (bundles hold more files than submissions).
BUNDLE_MAX_FILES = 200_000


class BundleError(ValueError):
    """The bundle, the options or the engine do not allow any run (one-line message)."""


@dataclass(frozen=True)
class Column:
    """A leaderboard column; a computed one is filled by the platform, not the scorer."""

    key: str
    title: str
    index: int
    sorting: str
    precision: int
    hidden: bool
    computation: str | None
    computation_indexes: tuple[int, ...]


@dataclass(frozen=True)
class Task:
    """One task of the bundle; program and data are folders or zips of the bundle (resolved paths)."""

    index: int
    name: str
    scoring_program: Path
    ingestion_program: Path | None
    input_data: Path | None
    reference_data: Path | None
    ingestion_only_during_scoring: bool


@dataclass(frozen=True)
class Phase:
    name: str
    execution_time_limit: float
    tasks: tuple[Task, ...]


#: How a task's resource (bundle-relative text, and what it is for messages) becomes a path.
Resolver = Callable[[str, str], Path]


@dataclass(frozen=True)
class Competition:
    """What build, check and run need of a competition.yaml: image, phases, tasks, first leaderboard.

    Attributes
    ----------
    document : dict
        The whole document, as loaded.
    docker_image : str or None
        The pinned image of every program.
    phases : list of Phase
        In the document's order, each with its tasks.
    columns : list of Column
        The first leaderboard's columns, by index.
    check_only_phases : frozenset of str
        Phases of a participant kit scored against test ids only (verdict shown, scores never).
    """

    document: dict[str, Any]
    docker_image: str | None
    phases: list[Phase]
    columns: list[Column]
    check_only_phases: frozenset[str]

    @classmethod
    def from_document(cls, data: dict[str, Any], resolve: Resolver | None = None) -> "Competition":
        """The model of a loaded document; ``resolve`` maps each task resource to a path (default: as written).

        Raises
        ------
        BundleError
            Naming the first key that keeps any run from happening, with its fix.
        """
        try:
            return cls._read(data, resolve or (lambda relative, what: Path(relative)))
        except BundleError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as error:  # a value of the wrong kind
            raise BundleError(f"competition.yaml: a value of the wrong kind ({type(error).__name__}: "
                              f"{' '.join(str(error).split())[:120]}): bundlekit check BUNDLE names it") from None

    @classmethod
    def _read(cls, data: dict[str, Any], resolve: Resolver) -> "Competition":
        tasks = {}
        for entry in data.get("tasks") or []:
            task = _read_task(entry, resolve)
            tasks[task.index] = task
        phases: list[Phase] = []
        for number, entry in enumerate(data.get("phases") or [], start=1):
            name = str(entry.get("name", f"phase {number}"))
            indexes = entry.get("tasks") or []
            unknown = [i for i in indexes if i not in tasks]
            if unknown or not indexes:
                raise BundleError(
                    f"competition.yaml: phase {name!r} lists tasks {indexes}, but the tasks "
                    f"are {sorted(tasks)}: list existing task indexes"
                )
            limit = entry.get("execution_time_limit", DEFAULT_TIME_LIMIT)
            if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 < limit < math.inf:
                raise BundleError(f"competition.yaml: phases[{number - 1}].execution_time_limit is {limit!r}, not a "
                                  "number of seconds: write e.g. execution_time_limit: 600")
            phases.append(Phase(name, float(limit), tuple(tasks[i] for i in indexes)))
        if not phases:
            raise BundleError("competition.yaml: no phase")
        boards = data.get("leaderboards") or []
        if not boards or not boards[0].get("columns"):
            raise BundleError("competition.yaml: no leaderboard with columns")
        columns = sorted((_read_column(number, entry) for number, entry in enumerate(boards[0]["columns"])),
                         key=lambda column: column.index)
        return cls(document=data, docker_image=data.get("docker_image"), phases=phases, columns=columns,
                   check_only_phases=frozenset(data.get("x-check-only-phases") or ()))

    def phase(self, name: str | None) -> Phase:
        """The phase called ``name`` (case-insensitive); ``None`` when there is one phase."""
        names = ", ".join(repr(p.name) for p in self.phases)
        if name is None:
            if len(self.phases) == 1:
                return self.phases[0]
            raise BundleError(f"the bundle has several phases ({names}): choose one with --phase")
        for phase in self.phases:
            if phase.name.casefold() == name.casefold():
                return phase
        raise BundleError(f"no phase {name!r} in the bundle: the phases are {names}")


def _read_task(entry: dict[str, Any], resolve: Resolver) -> Task:
    if "index" not in entry or "scoring_program" not in entry:
        raise BundleError(f"competition.yaml: task {entry.get('name', '?')!r} needs an index and a scoring_program")
    index = int(entry["index"])

    def resource(key: str) -> Path | None:
        value = entry.get(key)
        return None if value in (None, "") else resolve(str(value), f"task {index} {key}")

    return Task(
        index=index,
        name=str(entry.get("name", f"task {index}")),
        scoring_program=resource("scoring_program"),
        ingestion_program=resource("ingestion_program"),
        input_data=resource("input_data"),
        reference_data=resource("reference_data"),
        ingestion_only_during_scoring=bool(entry.get("ingestion_only_during_scoring", False)),
    )


def _read_column(number: int, entry: dict[str, Any]) -> Column:
    return Column(
        key=str(entry["key"]),
        title=str(entry.get("title", entry["key"])),
        index=int(entry.get("index", number)),
        sorting=str(entry.get("sorting", "desc")),
        precision=int(entry.get("precision", 2)),
        hidden=bool(entry.get("hidden", False)),
        computation=entry.get("computation"),
        computation_indexes=tuple(int(i) for i in entry.get("computation_indexes") or ()),
    )


def select_task(phase: Phase, task: int | None) -> Task:
    """The phase's task with index ``task``; ``None`` when the phase has one task."""
    indexes = [t.index for t in phase.tasks]
    if task is None:
        if len(phase.tasks) == 1:
            return phase.tasks[0]
        raise BundleError(f"phase {phase.name!r} has tasks {indexes}: choose one with --task")
    for candidate in phase.tasks:
        if candidate.index == task:
            return candidate
    raise BundleError(f"phase {phase.name!r} has no task {task}: its tasks are {indexes}")


def load_yaml(text: str, duplicates: list[tuple[str, int, int]] | None = None) -> Any:
    """The document of a competition.yaml text (safe loading, size and depth bounded).

    Keys given twice in one mapping (the last one wins, as on the platform) are appended to
    ``duplicates`` as (key, first line, second line).

    Raises
    ------
    safe_yaml.YamlLimitError, yaml.YAMLError
        When the text nests too deep, expands too much or is not YAML.
    """
    import yaml  # noqa: PLC0415

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when present: 3 times faster
        """Safe loading that also notes keys given twice in one mapping (the last one wins)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            if duplicates is not None:
                lines: dict[str, int] = {}
                for key_node, _ in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                        line = key_node.start_mark.line + 1
                        if key_node.value in lines:
                            duplicates.append((key_node.value, lines[key_node.value], line))
                        lines.setdefault(key_node.value, line)
            return super().construct_mapping(node, deep=deep)

    return safe_yaml.load(text, Loader)


def read_document(data: bytes) -> dict[str, Any]:
    """The mapping of a competition.yaml's bytes, or a one-line :class:`BundleError`."""
    import yaml  # noqa: PLC0415

    try:
        document = load_yaml(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BundleError(f"competition.yaml: not UTF-8 text (byte {error.start}): save it as UTF-8") from None
    except safe_yaml.YamlLimitError as error:
        raise BundleError(f"competition.yaml line {error.line}: {error}: simplify it (bundlekit check "
                          "lists every problem)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise BundleError(f"competition.yaml{where}: not valid YAML: fix the syntax") from None
    if not isinstance(document, dict):
        raise BundleError("competition.yaml: not a mapping of keys")
    return document
