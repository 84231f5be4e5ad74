"""What every group of rules shares: the document, the problems found, the files and archives the yaml names."""

from __future__ import annotations

import re
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Iterator, NamedTuple

from bundlekit.check.bundle_rules import YAML_PATH
from bundlekit.check.problems import Problem, join_path, suggest
from bundlekit.check.trees import (
    ZIP_ERRORS,
    Tree,
    ZipTree,
    damaged_member,
    damaged_problem,
    open_zip,
    unsafe_problem,
    unsafe_reason,
)


def items(value: Any) -> list[tuple[int, dict]]:
    """(position, item) of the mappings of a list; anything else was reported by the schema."""
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def is_true(value: Any) -> bool:
    return value is True or value in ("true", "True")


def normalise(value: str) -> str | None:
    """A yaml path as a path from the bundle root, or None when it leaves the bundle."""
    text = value.strip().replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    return None if ".." in parts or not parts else "/".join(parts)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass
class Archive:
    """A program or data set of the bundle: a zip or a folder, read as a tree."""

    yaml_path: str
    relative: str
    tree: Tree


class File(NamedTuple):
    """A file of a tree, and how messages show it."""

    tree: Tree
    name: str
    shown: str


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(yaml path, text) of every string of the document, in document order."""
    if isinstance(value, str):
        yield path or YAML_PATH, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from strings(child, join_path(path, str(key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from strings(child, join_path(path, i))


class CheckerBase:
    """The state of one check: the bundle's files, its document, the problems found, the archives opened."""

    def __init__(self, root: Tree, document: dict, stack: ExitStack) -> None:
        self.root = root
        self.doc = document
        self.stack = stack
        self.problems: list[Problem] = []
        self._archives: dict[str, Tree | None] = {}
        self._inspected: set[tuple[str, str]] = set()
        self._scanned: set[str] = set()

    def error(self, rule: str, path: str, message: str, fix: str) -> None:
        self.problems.append(Problem("error", rule, path, message, fix))

    def warning(self, rule: str, path: str, message: str, fix: str) -> None:
        self.problems.append(Problem("warning", rule, path, message, fix))

    def locate(self, path: str, value: str, *, platform_key_allowed: bool = False) -> str | None:
        """The bundle-relative path of a yaml value when it exists, else None with the problem."""
        relative = normalise(value)
        if relative is None:
            self.error("path.outside", path,
                       f"'{value}' points outside the bundle", "use a path relative to the bundle root")
            return None
        if any(relative == link or relative.startswith(link + "/") for link in getattr(self.root, "links", ())):
            return None  # reported as a symbolic link, never followed
        if self.root.is_file(relative) or self.root.is_dir(relative):
            return relative
        if platform_key_allowed and _is_uuid(value.strip()):
            self.warning("path.platform-key", path,
                         f"'{value}' is the key of a data set already on the platform; it cannot be checked "
                         "here and exists on one platform instance only", "ship the files in the bundle")
            return None
        folders = {str(parent) for name in self.root.names() for parent in PurePosixPath(name).parents}
        hint = suggest(relative, sorted(set(self.root.names()) | folders - {"."}), cutoff=0.85)
        self.error("path.not-found", path, f"'{value}' is not in the bundle",
                   f"did you mean '{hint}'?" if hint else "add it or correct the path")
        return None

    def archive(self, path: str, value: Any) -> Archive | None:
        """A program or data set named by the yaml, as a tree; None with the problem (or when not checkable)."""
        if not isinstance(value, str):
            return None
        relative = self.locate(path, value, platform_key_allowed=True)
        if relative is None:
            return None
        if relative not in self._archives:
            self._archives[relative] = self._open_archive(path, value, relative)
        tree = self._archives[relative]
        return Archive(path, relative, tree) if tree is not None else None

    def _open_archive(self, path: str, value: str, relative: str) -> Tree | None:
        if self.root.is_file(relative):
            if self.root.size(relative) == 0:
                self.error("archive.empty", path, f"'{value}' is empty", "give it content")
                return None
            try:
                archive = open_zip(self.root, relative, self.stack)
            except ZIP_ERRORS:
                self.not_a_zip(path, value, relative)
                return None
            unsafe = unsafe_reason(archive, PurePosixPath(relative).name)
            if unsafe is not None:
                self.problems.append(unsafe_problem(path, unsafe))
                return None
            damaged = damaged_member(archive)
            if damaged is not None:
                self.problems.append(damaged_problem(path, f"'{value}'", damaged))
                return None
            tree: Tree = ZipTree(archive)
        else:
            tree = self.root.sub(relative)
        if not tree.names() or all(tree.size(n) == 0 for n in tree.names()):
            self.error("archive.no-data", path, f"'{value}' holds no data", "add its files")
            return None
        return tree

    def not_a_zip(self, path: str, value: str, relative: str) -> None:
        with self.root.open(relative) as stream:
            head = stream.read(4)
        name = PurePosixPath(relative)
        if head.startswith(b"PK") or name.suffix.lower() == ".zip":
            folder = name.with_suffix("")
            self.error("archive.damaged", path, f"'{value}' is a damaged zip (truncated or corrupt): the platform "
                       "cannot unzip it", f"re-create it from its files (cd {folder} && zip -r ../{name.name} .)")
        else:
            self.error("archive.not-a-zip", path, f"'{value}' is a file but not a zip; the platform unzips programs "
                       "and data", f"zip it (zip {relative}.zip {relative}) or point to a folder holding it")

    def first_look(self, archive: Archive, role: str) -> bool:
        """True the first time an archive is inspected in a role: its problems are reported once."""
        seen = (archive.relative, role) in self._inspected
        self._inspected.add((archive.relative, role))
        return not seen

    def quiet_archive(self, path: str, value: Any) -> Archive | None:
        """An archive already reported on (or fine): no new problem."""
        if not isinstance(value, str):
            return None
        relative = normalise(value)
        tree = self._archives.get(relative) if relative is not None else None
        return Archive(path, relative, tree) if tree is not None else None
