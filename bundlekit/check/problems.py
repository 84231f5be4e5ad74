"""A problem of a bundle (rule id, yaml path, message, fix), the rule ids, and how problems are listed."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping

#: The id of every rule, ``family.name``: stable, so that builds and scripts can accept warnings by id.
RULES = frozenset({
    # the bundle and its yaml
    "bundle.unreadable", "bundle.not-found", "bundle.no-yaml", "bundle.yaml-in-folder", "bundle.name-too-long",
    "yaml.encoding", "yaml.syntax", "yaml.duplicate-key", "yaml.not-mapping", "yaml.too-complex",
    # the schema
    "yaml.required-key", "yaml.unknown-key", "yaml.enum", "yaml.too-long", "yaml.empty", "yaml.empty-list",
    "yaml.minimum", "yaml.type", "yaml.schema",
    # platforms, image, documents and files
    "platform.codabench-only", "platform.queue", "docker.missing", "docker.invalid", "docker.unpinned",
    "docker.no-digest",
    "pages.none", "content.todo", "content.placeholder", "yaml.email", "path.symlink", "image.not-an-image", "image.format", "image.webp", "image.damaged",
    "file.is-folder", "file.empty", "file.encoding", "path.outside", "path.platform-key", "path.not-found",
    # archives, programs, data
    "archive.empty", "archive.not-a-zip", "archive.damaged", "archive.unsafe", "archive.no-data",
    "program.wrapped", "program.no-metadata", "program.metadata-syntax", "program.no-command",
    "program.command-type", "command.shell", "command.quotes", "command.whitespace", "command.variable",
    "command.missing-script", "command.executable", "data.subfolders",
    # tasks, solutions, phases, leaderboards
    "task.duplicate-index", "task.ingestion-during-scoring", "task.dangling-reference",
    "solution.duplicate-index", "phase.duplicate-index", "phase.time-limit", "phase.end-before-start",
    "phase.auto-migrate-first", "phase.no-end", "phase.overlap", "phase.touch", "date.invalid", "date.offset",
    "leaderboard.orphaned", "leaderboard.no-primary", "column.duplicate-key", "column.duplicate-index",
    "column.computation", "fact-sheet.key",
    # leaks
    "leak.reference", "leak.public-reference", "leak.reference-is-input",
})

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem of a bundle: its rule, where it is in the yaml, what is wrong, how to fix it."""

    severity: Severity
    rule: str
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        label = "ERROR" if self.severity == "error" else "WARN"
        end = "" if self.fix.endswith((".", "?", "!")) else "."
        return f"{label:<7}[{self.rule}] {self.path}: {self.message}. Fix: {self.fix}{end}"


def set_apart(problems: list[Problem], accepted: Iterable[str]) -> tuple[list[Problem], list[Problem]]:
    """(shown, accepted): the warnings of an accepted rule are set apart; errors never are."""
    rules = set(accepted)
    shown = [p for p in problems if p.severity == "error" or p.rule not in rules]
    return shown, [p for p in problems if p.severity == "warning" and p.rule in rules]


def format_problems(problems: list[Problem], accepted: Mapping[str, str] | None = None, by: str = "the task") -> str:
    """One line per problem, one for the warnings ``accepted`` (rule -> reason) by ``by``, then the counts."""
    shown, hidden = set_apart(problems, accepted or {})
    errors = sum(p.severity == "error" for p in shown)
    warnings = len(shown) - errors
    lines = list(map(str, shown))
    if hidden:
        counts: dict[str, int] = {}
        for problem in hidden:
            counts[problem.rule] = counts.get(problem.rule, 0) + 1
        listed = "; ".join(f"{rule} x{count}" + (f" ({accepted[rule]})" if accepted[rule] else "")
                           for rule, count in counts.items())
        lines.append(f"{len(hidden)} warning{'s' * (len(hidden) != 1)} accepted by {by}: {listed}")
    lines.append(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return "\n".join(lines)


def sort_key(problem: Problem) -> tuple:
    numbered = tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", problem.path))
    return problem.severity != "error", numbered, problem.message


def join_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if not re.fullmatch(r"[A-Za-z_][\w-]*", key):
        return f"{parent}[{json.dumps(key)}]"
    return f"{parent}.{key}" if parent else key


def describe(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a mapping", type(None): "empty"}
    shown = json.dumps(value) if isinstance(value, (str, int, float, bool)) else None
    kind = kinds.get(type(value), type(value).__name__)
    return f"{shown} ({kind})" if shown is not None else kind


def suggest(word: str, choices: Any, cutoff: float = 0.6) -> str | None:
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices if c is not None], n=1, cutoff=cutoff)
    if not matches and isinstance(word, str):
        matches = [c for c in choices if isinstance(c, str) and c.lower() == word.lower()]
    return matches[0] if matches else None
