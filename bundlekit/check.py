"""Check a competition bundle: `bundlekit check BUNDLE` lists every problem, with a fix.

BUNDLE is a directory or a zip, ours or anyone's. Each problem names its place in
``competition.yaml`` as a dotted path (``phases[1].start``), says what is wrong and how
to fix it. Errors make the upload or the runs fail on Codabench or AI4MediaBench;
warnings are legal but likely mistakes or differences between the two platforms. The exit status is 1 when there are errors (or warnings,
with ``--strict``).

Every problem has a stable rule id (:data:`RULES`), shown in brackets. A task's build
acknowledges the warnings that are there by design (``ACCEPTED_WARNINGS`` in its
task.py), and ``--accept RULE[,RULE]`` does the same here: the accepted warnings are
counted in one summary line instead of listed. Accepting a rule never hides an error.

What a JSON Schema can say (keys, types, lengths, allowed values) is in
``bundlekit/schema/competition.schema.json``; the cross-checks (files, programs, dates,
references, leaks) are below. Archives inside the bundle are read in place, never
extracted.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
import uuid
import zipfile
import zlib
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path, PurePosixPath
from typing import IO, Any, Iterable, Iterator, Literal, Mapping, NamedTuple

from bundlekit import safe_yaml
from bundlekit.platform_rules import (
    DATE_HINT,
    MAX_UPLOAD_NAME_CHARS,
    email_problem,
    parse_utc_date,
    upload_name_problem,
)

SCHEMA_PATH = Path(__file__).with_name("schema") / "competition.schema.json"
#: Above this, a public Codabench queue cuts the phase's time limit anyway.
PUBLIC_QUEUE_TIME_LIMIT = 600
#: Placeholders the compute worker substitutes in a program's command.
COMMAND_PLACEHOLDERS = frozenset(
    {"input", "output", "program", "ingestion_program", "submission_program", "hidden", "predictions", "shared", "tmp"}
)
METADATA_NAMES = ("metadata.yaml", "metadata")
#: Keys that current Codabench reads and AI4MediaBench silently ignores.
CODABENCH_ONLY_KEYS = frozenset({
    "show_detailed_results_in_submission_panel", "show_detailed_results_in_leaderboard", "auto_run_submissions",
    "can_participants_make_submissions_public", "forum_enabled", "hide_prediction_output", "hide_score_output",
})
#: OS droppings that are not part of a bundle.
IGNORED_PARTS = frozenset({"__MACOSX", ".DS_Store"})
#: A nested zip larger than this is spooled to a temporary file instead of memory.
SPOOL_BYTES = 64 * 1024**2
BUNDLE_PATH = "<bundle>"
YAML_PATH = "competition.yaml"
#: What a freshly scaffolded task writes wherever the organiser still has to write the text.
TODO_MARKER = "TODO(organiser)"
#: A template placeholder left unrendered in a page (Jinja-like).
TEMPLATE_PLACEHOLDER = re.compile(r"\{\{[^{}\n]{0,200}\}\}|\{%[^{}\n]{0,200}%\}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: How reading a zip or its members fails: damaged, truncated, encrypted, unknown compression.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError)
#: Zip flag of an encrypted member.
ENCRYPTED_FLAG = 0x1

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


def check_bundle(path: Path) -> list[Problem]:
    """Every problem of the bundle at ``path`` (a directory or a zip), errors first, then by path."""
    problems: list[Problem] = []
    with ExitStack() as stack:
        root = _open_bundle(Path(path), problems, stack)
        document = _load_yaml(root, problems) if root is not None else None
        if document is not None:
            problems += _BundleChecker(root, document, stack).run()
    return sorted(set(problems), key=_sort_key)


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


def _sort_key(problem: Problem) -> tuple:
    numbered = tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", problem.path))
    return problem.severity != "error", numbered, problem.message


def _join(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if not re.fullmatch(r"[A-Za-z_][\w-]*", key):
        return f"{parent}[{json.dumps(key)}]"
    return f"{parent}.{key}" if parent else key


# --------------------------------------------------------------------------------------
# Reading folders and zips alike
# --------------------------------------------------------------------------------------

class _Tree:
    """The files of a folder, a zip, or a folder inside either, by posix path from its root.

    OS droppings (``__MACOSX/``, ``.DS_Store``) are left out.
    """

    def __init__(self, names: list[str]) -> None:
        self._names = sorted(n for n in names if not IGNORED_PARTS.intersection(n.split("/")))
        self._name_set = frozenset(self._names)

    def names(self) -> list[str]:
        return self._names

    def is_file(self, name: str) -> bool:
        return name in self._name_set

    def is_dir(self, name: str) -> bool:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def sub(self, folder: str) -> _Tree:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def crc(self, name: str) -> int:
        crc = 0
        with self.open(name) as stream:
            while chunk := stream.read(1024**2):
                crc = zlib.crc32(chunk, crc)
        return crc

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.open(name) as stream:
            while chunk := stream.read(1024**2):
                digest.update(chunk)
        return digest.hexdigest()


class _FolderTree(_Tree):
    """A folder's regular files; symbolic links are listed apart (``links``) and never followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        files, self.links = [], []
        for folder, subfolders, names in os.walk(root):
            for name in sorted([*subfolders, *names]):
                path = Path(folder, name)
                if path.is_symlink():
                    self.links.append(path.relative_to(root).as_posix())
                elif name in names and path.is_file():
                    files.append(path.relative_to(root).as_posix())
        super().__init__(files)

    def is_dir(self, name: str) -> bool:
        return (self.root / name).is_dir()

    def size(self, name: str) -> int:
        return (self.root / name).stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return os.fdopen(os.open(self.root / name, os.O_RDONLY | os.O_NOFOLLOW), "rb")

    def sub(self, folder: str) -> _Tree:
        return _FolderTree(self.root / folder)


class _ZipTree(_Tree):
    def __init__(self, archive: zipfile.ZipFile, prefix: str = "") -> None:
        self.archive = archive
        self.prefix = prefix
        members = [i for i in archive.infolist() if i.filename.startswith(prefix) and i.filename != prefix]
        self._infos = {i.filename[len(prefix):]: i for i in members if not i.is_dir()}
        super().__init__(list(self._infos))
        explicit = {i.filename[len(prefix):].rstrip("/") for i in members if i.is_dir()}
        self._folders = explicit | {str(p) for n in self._names for p in PurePosixPath(n).parents} - {"."}

    def is_dir(self, name: str) -> bool:
        return name.rstrip("/") in self._folders

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def open(self, name: str) -> IO[bytes]:
        return self.archive.open(self._infos[name])

    def crc(self, name: str) -> int:
        return self._infos[name].CRC

    def sub(self, folder: str) -> _Tree:
        return _ZipTree(self.archive, f"{self.prefix}{folder.rstrip('/')}/")


def _open_zip(tree: _Tree, name: str, stack: ExitStack) -> zipfile.ZipFile:
    """The zip ``name`` of ``tree`` opened in place (spooled when it sits inside a zip).

    Raises one of :data:`ZIP_ERRORS` when it is not a readable zip.
    """
    if isinstance(tree, _FolderTree):
        return stack.enter_context(zipfile.ZipFile(tree.root / name))
    spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))
    with tree.open(name) as source:
        shutil.copyfileobj(source, spool)
    spool.seek(0)
    return stack.enter_context(zipfile.ZipFile(spool))


def _damaged_member(archive: zipfile.ZipFile) -> tuple[str, str] | None:
    """The first member that cannot be read back and why (encrypted, bad CRC, broken data), or None.

    Reading a member to its end makes zipfile verify its CRC.
    """
    for info in archive.infolist():
        if info.flag_bits & ENCRYPTED_FLAG:
            return info.filename, "password-protected"
        try:
            with archive.open(info) as stream:
                while stream.read(1024**2):
                    pass
        except ZIP_ERRORS as exc:
            if isinstance(exc, NotImplementedError):
                return info.filename, f"compression method {info.compress_type} is not supported"
            return info.filename, "bad CRC-32" if "CRC" in str(exc) else "data damaged or cut short"
    return None


def _unsafe_reason(archive: zipfile.ZipFile, name: str) -> str | None:
    """Why ``bundlekit run`` refuses to unpack the zip (a '..' or absolute member, a link, a bomb), or None.

    Only the central directory is read: a bomb is found without inflating anything.
    """
    from bundlekit.runner import BUNDLE_MAX_FILES  # noqa: PLC0415
    from bundlekit.unpack import UnsafeArchiveError, check_members  # noqa: PLC0415

    if any(info.flag_bits & ENCRYPTED_FLAG for info in archive.infolist()):
        return None  # reported as damaged, with the platform's view of it
    try:
        check_members(archive, Path(name), max_files=BUNDLE_MAX_FILES)
    except UnsafeArchiveError as exc:
        return str(exc)
    return None


def _unsafe_problem(path: str, reason: str) -> Problem:
    return Problem("error", "archive.unsafe", path, f"{reason.rsplit(': ', 1)[0]}; the platform's unzip and "
                   "bundlekit run refuse it", reason.rsplit(': ', 1)[-1])


def _damaged_problem(path: str, what: str, damaged: tuple[str, str]) -> Problem:
    member, reason = damaged
    return Problem("error", "archive.damaged", path, f"{what} has a corrupt or encrypted member '{member}' ({reason}): "
                   "the platform cannot unzip it", "re-create the zip from the original files, without a password")


def _open_bundle(path: Path, problems: list[Problem], stack: ExitStack) -> _Tree | None:
    """The bundle's root (the folder that holds competition.yaml), or None with the reason."""
    if path.is_dir():
        tree: _Tree = _FolderTree(path)
        where = f"the folder {path}"
        for link in tree.links:
            problems.append(Problem("error", "path.symlink", BUNDLE_PATH, f"'{link}' is a symbolic link: the "
                                    "bundle would carry what it points to, outside the bundle (the checker does "
                                    "not follow it)", "replace the link by the file itself"))
    elif path.is_file():
        too_long = upload_name_problem(path.name)
        if too_long is not None:
            problems.append(Problem("error", "bundle.name-too-long", BUNDLE_PATH, too_long,
                                    f"rename the zip (at most {MAX_UPLOAD_NAME_CHARS} characters)"))
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
        except ZIP_ERRORS:
            problems.append(Problem("error", "bundle.unreadable", BUNDLE_PATH,
                                    f"{path} is neither a folder nor a readable zip",
                                    "upload a zip of the bundle's files (competition.yaml at its root)"))
            return None
        unsafe = _unsafe_reason(archive, path.name)
        if unsafe is not None:
            problems.append(_unsafe_problem(BUNDLE_PATH, unsafe))
            return None
        damaged = _damaged_member(archive)
        if damaged is not None:
            problems.append(_damaged_problem(BUNDLE_PATH, f"the zip {path.name}", damaged))
            return None
        tree = _ZipTree(archive)
        where = f"the zip {path.name}"
    else:
        problems.append(Problem("error", "bundle.not-found", BUNDLE_PATH, f"{path}: no such file or folder",
                                "give the bundle's zip or folder"))
        return None
    if tree.is_file(YAML_PATH):
        return tree
    nested = sorted((n for n in tree.names() if PurePosixPath(n).name == YAML_PATH), key=lambda n: (n.count("/"), n))
    if not nested:
        problems.append(Problem("error", "bundle.no-yaml", YAML_PATH, f"{where} has no competition.yaml",
                                "put competition.yaml at the root of the bundle"))
        return None
    folder = str(PurePosixPath(nested[0]).parent)
    if isinstance(tree, _ZipTree):
        fix = f"zip the contents of '{folder}/', not the folder itself (cd {folder} && zip -r ../bundle.zip .)"
        problems.append(Problem("error", "bundle.yaml-in-folder", YAML_PATH, f"competition.yaml is inside the folder "
                                f"'{folder}/', not at the root of the zip; the platform looks for it at the root and "
                                "rejects the upload", fix))
    else:
        problems.append(Problem("error", "bundle.yaml-in-folder", YAML_PATH, f"competition.yaml is in '{folder}/', not "
                                f"at the root of {where}", f"check (and zip) the folder {path / folder} instead"))
    return tree.sub(folder)


def _load_yaml(root: _Tree, problems: list[Problem]) -> dict | None:
    import yaml  # noqa: PLC0415

    duplicates: list[tuple[str, int, int]] = []

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when present: 3 times faster
        """Safe loading that also notes keys given twice in one mapping (the last one wins)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            lines: dict[str, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    line = key_node.start_mark.line + 1
                    if key_node.value in lines:
                        duplicates.append((key_node.value, lines[key_node.value], line))
                    lines.setdefault(key_node.value, line)
            return super().construct_mapping(node, deep=deep)

    try:
        text = root.read(YAML_PATH).decode("utf-8")
        document = safe_yaml.load(text, Loader)
    except UnicodeDecodeError as exc:
        problems.append(Problem("error", "yaml.encoding", YAML_PATH, f"not UTF-8 text (byte {exc.start})",
                                "save it as UTF-8"))
        return None
    except safe_yaml.YamlLimitError as exc:
        problems.append(Problem("error", "yaml.too-complex", YAML_PATH, f"line {exc.line}: {exc}; the platform's "
                                "reader would exhaust its memory or stack", "write the document without deep nesting "
                                "or aliases that repeat large parts"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem("error", "yaml.syntax", YAML_PATH, f"not valid YAML{where}: {reason}",
                                "correct the YAML syntax there (indentation, quotes, colons)"))
        return None
    for key, first, second in duplicates:
        problems.append(Problem("warning", "yaml.duplicate-key", YAML_PATH,
                                f"key '{key}' appears twice in one mapping (lines {first} and "
                                f"{second}); the platform keeps only the last one", "keep one of them"))
    if not isinstance(document, dict):
        problems.append(Problem("error", "yaml.not-mapping", YAML_PATH, "not a mapping of keys to values",
                                "start from a bundle template: version: 2, title: ..., tasks: ..."))
        return None
    return document


# --------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------

@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, validators  # noqa: PLC0415

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # YAML's 2.0 is a float: it is not the integer 2 (the platform compares "2.0" with "2").
    type_checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool))
    strict = validators.extend(Draft202012Validator, type_checker=type_checker)
    return strict(schema)


def _jsonable(value: Any) -> Any:
    """The document as JSON would hold it: dates as text, keys as strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


#: Example lines for the fix of a missing key.
_EXAMPLES = {
    "version": "version: 2", "title": "title: My challenge", "image": "image: logo.png",
    "terms": "terms: pages/terms.md", "tasks": "a list of tasks", "phases": "a list of phases",
    "leaderboards": "a leaderboard with its columns", "pages": "pages: [] (at least an empty list)",
    "index": "index: 0", "name": "name: ...", "scoring_program": "scoring_program: scoring_program.zip",
    "start": "start: 2024-01-01 00:00", "file": "file: pages/overview.md", "key": "key: main",
    "columns": "a list of columns", "path": "path: solutions/baseline.zip",
}
_MISSING_CONSEQUENCE = {
    "version": "the platform then reads the bundle as the old v1 format",
    "pages": "its absence crashes the platform's unpacker",
}


def _describe(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a mapping", type(None): "empty"}
    shown = json.dumps(value) if isinstance(value, (str, int, float, bool)) else None
    kind = kinds.get(type(value), type(value).__name__)
    return f"{shown} ({kind})" if shown is not None else kind


def _suggest(word: str, choices: Any, cutoff: float = 0.6) -> str | None:
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices if c is not None], n=1, cutoff=cutoff)
    if not matches and isinstance(word, str):
        matches = [c for c in choices if isinstance(c, str) and c.lower() == word.lower()]
    return matches[0] if matches else None


def _schema_problems(document: dict) -> Iterator[Problem]:
    for error in _validator().iter_errors(_jsonable(document)):
        yield from _from_schema_error(error)


def _from_schema_error(error: Any) -> Iterator[Problem]:
    path = ""
    for part in error.absolute_path:
        path = _join(path, part)
    value, schema, keyword = error.instance, error.schema, error.validator
    expected = schema.get("description")
    where = path or YAML_PATH
    if keyword == "required":
        for key in error.validator_value:
            if isinstance(value, dict) and key not in value:
                consequence = _MISSING_CONSEQUENCE.get(key, "the platform needs it")
                yield Problem("error", "yaml.required-key", _join(path, key),
                              f"required key '{key}' is missing: {consequence}",
                              f"add {_EXAMPLES.get(key, key + ': ...')}")
    elif keyword == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        severity = schema.get("x-unknown-keys", "warning")
        for key in sorted(set(value) - set(known)):
            hint = _suggest(key, known)
            consequence = schema.get("x-unknown-consequence") or (
                "the platform rejects the bundle" if severity == "error" else "the platform ignores it")
            fix = f"did you mean '{hint}'? rename it" if hint else f"remove it (known keys: {', '.join(known)})"
            yield Problem(severity, "yaml.unknown-key", _join(path, key), f"unknown key '{key}': {consequence}", fix)
    elif keyword == "enum":
        allowed = [c for c in error.validator_value if not isinstance(c, bool)]
        hint = _suggest(value, allowed) if isinstance(value, str) else None
        consequence = "; an invalid rule hangs the upload" if path.endswith("submission_rule") else ""
        yield Problem("error", "yaml.enum", where, f"{_describe(value)} is not allowed{consequence}",
                      (f"did you mean '{hint}'? " if hint else "")
                      + "use one of " + ", ".join(json.dumps(c) for c in error.validator_value if c is not None))
    elif keyword == "maxLength":
        yield Problem("error", "yaml.too-long", where,
                      f"is {len(value)} characters long; the platform stores at most {error.validator_value}",
                      f"shorten it to {error.validator_value} characters")
    elif keyword == "minLength":
        yield Problem("error", "yaml.empty", where, "is empty", "give it a value")
    elif keyword == "minItems":
        what = "a phase needs at least one task" if re.fullmatch(r"phases\[\d+\]\.tasks", path) else "the list is empty"
        yield Problem("error", "yaml.empty-list", where,
                      f"{what} (at least {error.validator_value} item needed)", "add one")
    elif keyword == "minimum":
        yield Problem("error", "yaml.minimum", where, f"{value} is below the minimum {error.validator_value}",
                      f"use a value of at least {error.validator_value}")
    elif keyword in ("type", "anyOf", "oneOf", "const"):
        wanted = expected or " or ".join(_TYPE_NAMES.get(t, t) for t in _as_list(schema.get("type", [])))
        fix = "write `version: 2` (the platform compares the version with the string '2')" if path == "version" \
            else f"write {wanted}"
        yield Problem("error", "yaml.type", where, f"is {_describe(value)}; expected {wanted}", fix)
    else:
        yield Problem("error", "yaml.schema", where,
                      error.message, "correct it (see bundlekit/schema/competition.schema.json)")


_TYPE_NAMES = {"string": "text", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "nothing"}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------
# Cross-checks
# --------------------------------------------------------------------------------------

def _items(value: Any) -> list[tuple[int, dict]]:
    """(position, item) of the mappings of a list; anything else was reported by the schema."""
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def _is_true(value: Any) -> bool:
    return value is True or value in ("true", "True")


def _normalise(value: str) -> str | None:
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
class _Archive:
    """A program or data set of the bundle: a zip or a folder, read as a tree."""

    yaml_path: str
    relative: str
    tree: _Tree


class _File(NamedTuple):
    """A file of a tree, and how messages show it."""

    tree: _Tree
    name: str
    shown: str


def _copied_as(original: str, copy: str) -> str:
    """Where a copy sits, for a message: nothing when it has the original's name."""
    if copy == original:
        return ""
    if copy.endswith("/" + original):
        return f", under {copy[:-len(original)]}"
    return f", as {copy}"


def _dateutil_reading(value: Any) -> datetime | None:
    """How the platform (dateutil, month first) reads a non-ISO date text, or None when it cannot."""
    from dateutil import parser  # noqa: PLC0415

    try:
        return parser.parse(value).replace(tzinfo=None) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        return None


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(yaml path, text) of every string of the document, in document order."""
    if isinstance(value, str):
        yield path or YAML_PATH, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(child, _join(path, str(key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _strings(child, _join(path, i))


def _png_damage(data: bytes) -> str | None:
    """What makes a PNG undecodable (a chunk cut short, a wrong CRC, no IEND), or None when its chunks hold."""
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        name = kind.decode("latin-1")
        end = position + 12 + length
        if position == len(PNG_SIGNATURE) and kind != b"IHDR":
            return f"its first chunk is {name!r}, not IHDR"
        if end > len(data):
            return f"chunk {name} is cut short"
        if zlib.crc32(data[position + 4:end - 4]) != struct.unpack(">I", data[end - 4:end])[0]:
            return f"chunk {name} has a wrong CRC"
        if kind == b"IEND":
            return None
        position = end
    return "it ends before its IEND chunk"


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


_SHELL_FEATURES = re.compile(r"&&|\|\||\$\(|\$\{|[|;<>&`*]")
_QUOTES = re.compile(r"['\"]")
_VARIABLE = re.compile(r"\$(\w*)")
_SCRIPT = re.compile(r"\.(py|R|r|sh|jl|js|m|pl|rb)$")
#: How a command names a file of its own program (the working directory is /app/program).
_OWN_FILE = re.compile(r"^(\$program/|\$ingestion_program/|/app/program/|\./)")
_DOCKER_REFERENCE = re.compile(
    r"(?:(?P<domain>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?)/)?"
    r"(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
)


def _image_kind(head: bytes) -> str | None:
    """The format of an image from its first bytes: PNG, JPEG, GIF, WEBP, SVG, BMP, or None."""
    for signature, kind in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in head.lower():
        return "SVG"
    return None


class _BundleChecker:
    def __init__(self, root: _Tree, document: dict, stack: ExitStack) -> None:
        self.root = root
        self.doc = document
        self.stack = stack
        self.problems: list[Problem] = []
        self._archives: dict[str, _Tree | None] = {}
        self._inspected: set[tuple[str, str]] = set()
        self._scanned: set[str] = set()

    def error(self, rule: str, path: str, message: str, fix: str) -> None:
        self.problems.append(Problem("error", rule, path, message, fix))

    def warning(self, rule: str, path: str, message: str, fix: str) -> None:
        self.problems.append(Problem("warning", rule, path, message, fix))

    def run(self) -> list[Problem]:
        self.problems += _schema_problems(self.doc)
        self.check_contact_email()
        self.check_platform_keys()
        self.check_docker_image()
        self.check_documents()
        task_indexes = self.check_tasks()
        self.check_solutions(task_indexes)
        final_tasks = self.check_phases(task_indexes)
        self.check_leaderboards()
        self.check_fact_sheet()
        self.check_leaks(final_tasks)
        return self.problems

    # --- competition ------------------------------------------------------------------

    def check_platform_keys(self) -> None:
        places = [("", self.doc)] + [(_join("phases", i), p) for i, p in _items(self.doc.get("phases"))]
        for parent, mapping in places:
            for key in sorted(CODABENCH_ONLY_KEYS.intersection(map(str, mapping))):
                self.warning("platform.codabench-only", _join(parent, key),
                             f"'{key}' is read by Codabench only; AI4MediaBench ignores it",
                             "keep it only if the bundle need not behave the same on AI4MediaBench")
        if self.doc.get("queue"):
            self.warning("platform.queue", "queue",
                         "'queue' names a queue of one platform instance; elsewhere the upload fails "
                         "('The specified Queue does not exist!')", "leave it out of bundles meant to be shared")

    def check_docker_image(self) -> None:
        image = self.doc.get("docker_image")
        if image is None:
            self.warning("docker.missing", "docker_image",
                         "no docker_image: Codabench then runs codalab/codalab-legacy:py37 and "
                         "AI4MediaBench its own py39 image, so the programs run differently on each",
                         "pin an image, e.g. docker_image: codalab/codalab-legacy:py39")
            return
        if not isinstance(image, str):
            return
        match = _DOCKER_REFERENCE.fullmatch(image)
        domain = match["domain"] if match else None
        if domain and not ("." in domain or ":" in domain or domain == "localhost") and domain != domain.lower():
            match = None  # not a registry host but the first part of the name, which must be lowercase
        if match is None:
            self.error("docker.invalid", "docker_image", f"'{image}' is not a valid image reference; pulling it fails",
                       "write name:tag in lowercase without spaces, e.g. codalab/codalab-legacy:py39")
        elif not match["digest"] and match["tag"] in (None, "latest"):
            name = image.removesuffix(":latest")
            self.error("docker.unpinned", "docker_image",
                       f"'{image}' is not pinned: {'' if match['tag'] else 'without a tag, '}docker "
                       "pulls 'latest', which moves, so runs change without notice",
                       f"pin a version tag or a digest, e.g. {name}:1.0 or {name}@sha256:...")
        elif not match["digest"]:
            name = image.rsplit(":", 1)[0]
            self.warning("docker.no-digest", "docker_image",
                         f"'{image}' is pinned by tag only: the workers pull it before every run, and a tag "
                         "can be pushed again, so they may run other bytes than the ones you tested",
                         f"push the image and pin its digest: `bundlekit image --push REPOSITORY` prints "
                         f"{name}@sha256:..., then `bundlekit build --image` that reference")

    def check_documents(self) -> None:
        self.check_yaml_placeholders()
        self.check_text_file("terms", self.doc.get("terms"))
        for i, page in _items(self.doc.get("pages")):
            self.check_text_file(_join(_join("pages", i), "file"), page.get("file"))
        if self.doc.get("pages", "absent") == []:
            self.warning("pages.none", "pages", "no pages: participants see no overview, data or evaluation "
                         "description", "list pages with a title and a markdown file")
        image = self.doc.get("image")
        data = self.read_file("image", image)
        if data is None:
            return
        kind = _image_kind(data[:512])
        accepted = "the platform's image field accepts PNG, JPEG and GIF (WEBP in recent versions only)"
        damage = _png_damage(data) if kind == "PNG" else None
        if kind is None:
            self.error("image.not-an-image", "image", f"'{image}' is not an image (no PNG, JPEG, GIF or WEBP "
                       "signature); the platform decodes the logo and rejects the bundle", "use a PNG or JPEG logo")
        elif kind in ("SVG", "BMP"):
            self.error("image.format", "image", f"'{image}' is {kind}; {accepted}", "convert the logo to PNG")
        elif kind == "WEBP":
            self.warning("image.webp", "image", f"'{image}' is WEBP; {accepted}", "convert the logo to PNG")
        elif damage is not None:
            self.error("image.damaged", "image", f"'{image}' is a damaged PNG ({damage}): the platform decodes the "
                       "image and would reject it", "export the logo again as PNG")

    def check_yaml_placeholders(self) -> None:
        """Titles, descriptions and every other text of the yaml that still hold the scaffold's marker."""
        places = [place for place, value in _strings(self.doc) if TODO_MARKER in value]
        if places:
            count = sum(value.count(TODO_MARKER) for _, value in _strings(self.doc))
            self.warning("content.todo", places[0], f"{TODO_MARKER} placeholder left in {YAML_PATH} {places[0]} "
                         f"({count} in the file)", "write the text before uploading")

    def check_placeholders(self, path: str, shown: str, text: str) -> None:
        """One warning per file that still holds the scaffold's marker, with its first line and count."""
        if shown in self._scanned or TODO_MARKER not in text:
            return
        self._scanned.add(shown)
        line = next(n for n, content in enumerate(text.splitlines(), start=1) if TODO_MARKER in content)
        self.warning("content.todo", path, f"{TODO_MARKER} placeholder left in {shown} line {line} "
                     f"({text.count(TODO_MARKER)} in the file)", "write the text before uploading")

    def read_file(self, path: str, value: Any) -> bytes | None:
        """The content of a single file named by the yaml, or None with the problem."""
        if not isinstance(value, str):
            return None
        relative = self.locate(path, value)
        if relative is None:
            return None
        if not self.root.is_file(relative):
            self.error("file.is-folder", path, f"'{value}' is a folder; a file is expected", "point to a file")
            return None
        content = self.root.read(relative)
        if not content:
            self.error("file.empty", path, f"'{value}' is empty; the platform rejects empty files", "give it content")
            return None
        return content

    def check_text_file(self, path: str, value: Any) -> None:
        content = self.read_file(path, value)
        if content is None:
            return
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            self.error("file.encoding", path, f"'{value}' is not UTF-8 text; the platform reads it as text",
                       "save it as UTF-8 (markdown or HTML)")
            return
        self.check_placeholders(path, _normalise(value) or value, text)
        self.check_template_leftovers(path, _normalise(value) or value, text)

    def check_template_leftovers(self, path: str, shown: str, text: str) -> None:
        """A page that still holds a ``{{ placeholder }}``: the platform shows it as is."""
        found = TEMPLATE_PLACEHOLDER.search(text)
        if found is None:
            return
        line = text.count("\n", 0, found.start()) + 1
        count = len(TEMPLATE_PLACEHOLDER.findall(text))
        self.error("content.placeholder", path, f"{shown} line {line} holds the unrendered placeholder "
                   f"'{found.group()[:60]}' ({count} in the file); the platform shows it as is",
                   "render the page (the kit's build does) or write the text in its place")

    def check_contact_email(self) -> None:
        value = self.doc.get("contact_email")
        if value is not None:
            problem = email_problem(value)
            if problem is not None:
                self.error("yaml.email", "contact_email", problem, "write the organisers' address, e.g. "
                           "fusion-organisers@example.org")

    def locate(self, path: str, value: str, *, platform_key_allowed: bool = False) -> str | None:
        """The bundle-relative path of a yaml value when it exists, else None with the problem."""
        relative = _normalise(value)
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
        hint = _suggest(relative, sorted(set(self.root.names()) | folders - {"."}), cutoff=0.85)
        self.error("path.not-found", path, f"'{value}' is not in the bundle",
                   f"did you mean '{hint}'?" if hint else "add it or correct the path")
        return None

    # --- archives (programs and data) -------------------------------------------------

    def archive(self, path: str, value: Any) -> _Archive | None:
        """A program or data set named by the yaml, as a tree; None with the problem (or when not checkable)."""
        if not isinstance(value, str):
            return None
        relative = self.locate(path, value, platform_key_allowed=True)
        if relative is None:
            return None
        if relative not in self._archives:
            self._archives[relative] = self._open_archive(path, value, relative)
        tree = self._archives[relative]
        return _Archive(path, relative, tree) if tree is not None else None

    def _open_archive(self, path: str, value: str, relative: str) -> _Tree | None:
        if self.root.is_file(relative):
            if self.root.size(relative) == 0:
                self.error("archive.empty", path, f"'{value}' is empty", "give it content")
                return None
            try:
                archive = _open_zip(self.root, relative, self.stack)
            except ZIP_ERRORS:
                self.not_a_zip(path, value, relative)
                return None
            unsafe = _unsafe_reason(archive, PurePosixPath(relative).name)
            if unsafe is not None:
                self.problems.append(_unsafe_problem(path, unsafe))
                return None
            damaged = _damaged_member(archive)
            if damaged is not None:
                self.problems.append(_damaged_problem(path, f"'{value}'", damaged))
                return None
            tree: _Tree = _ZipTree(archive)
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

    def first_look(self, archive: _Archive, role: str) -> bool:
        """True the first time an archive is inspected in a role: its problems are reported once."""
        seen = (archive.relative, role) in self._inspected
        self._inspected.add((archive.relative, role))
        return not seen

    def check_program(self, path: str, value: Any, role: str) -> None:
        """A scoring or ingestion program: metadata with a command at its root."""
        program = self.archive(path, value)
        if program is None or not self.first_look(program, role):
            return
        tree = program.tree
        metadata = next((n for n in METADATA_NAMES if tree.is_file(n)), None)
        if metadata is None:
            nested = sorted((n for n in tree.names() if PurePosixPath(n).name in METADATA_NAMES), key=lambda n: (n.count("/"), n))
            if nested:
                folder = str(PurePosixPath(nested[0]).parent)
                fix = (f"zip the contents of '{folder}/', not the folder "
                       f"(cd {folder} && zip -r ../{PurePosixPath(program.relative).name} .)"
                       if self.root.is_file(program.relative) else f"move the files of '{folder}/' up to the {role}'s root")
                self.error("program.wrapped", path,
                           f"the {role}'s files are inside the folder '{folder}/', so its metadata is not at "
                           "the root: AI4MediaBench fails every run ('Program directory missing metadata')", fix)
            else:
                self.error("program.no-metadata", path,
                           f"the {role} has no metadata.yaml (or metadata) at its root: the platform cannot "
                           "run it", "add metadata.yaml with a line such as `command: python3 $program/score.py $input $output`")
            return
        self.check_command(path, tree, metadata, role, required=True)

    def check_command(self, path: str, tree: _Tree, metadata: str, role: str, *, required: bool) -> None:
        import yaml  # noqa: PLC0415

        try:
            content = safe_yaml.load(tree.read(metadata).decode("utf-8", errors="replace"))
        except (yaml.YAMLError, safe_yaml.YamlLimitError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" (line {mark.line + 1})" if mark else f" (line {exc.line}: {exc})" if hasattr(exc, "line") else ""
            self.error("program.metadata-syntax", path,
                       f"the {role}'s {metadata} is not valid YAML{line}: the platform finds no command",
                       "write it as `command: ...`")
            return
        command = content.get("command") if isinstance(content, dict) else None
        if not command:
            what = "the platform cannot run it" if required else "the platform takes it for code and the run fails"
            self.error("program.no-command", path, f"the {role}'s {metadata} has no `command`: {what}",
                       "add a line such as `command: python3 $program/score.py $input $output`"
                       + ("" if required else ", or remove the metadata file from a result submission"))
            return
        if not isinstance(command, str):
            self.error("program.command-type", path,
                       f"the {role}'s command is {_describe(command)}, not one line of text",
                       "write the command as one line: `command: python3 $program/score.py $input $output`")
            return
        self.check_command_text(path, command, role, tree)

    def check_command_text(self, path: str, command: str, role: str, tree: _Tree) -> None:
        shown = command if len(command) <= 80 else command[:77] + "..."
        features = list(dict.fromkeys(_SHELL_FEATURES.findall(command)))
        if features:
            self.error("command.shell", path,
                       f"the {role}'s command `{shown}` uses {', '.join(repr(f) for f in features)}: the "
                       "platform runs it without a shell", "run one program with plain arguments; do redirections, "
                       "pipes and chaining inside the program")
        if _QUOTES.search(command):
            self.error("command.quotes", path,
                       f"the {role}'s command `{shown}` has quotes; AI4MediaBench splits it on spaces and "
                       "passes them on", "remove the quotes; no argument may contain a space")
        if command != command.strip() or "  " in command or re.search(r"[\t\r\n]", command.strip()):
            self.error("command.whitespace", path,
                       f"the {role}'s command `{shown}` has extra whitespace; AI4MediaBench splits it on single "
                       "spaces and passes empty arguments", "write the words separated by single spaces on one line")
        unknown = sorted({f"${name}" for name in _VARIABLE.findall(command) if name and name not in COMMAND_PLACEHOLDERS})
        if unknown:
            self.error("command.variable", path,
                       f"the {role}'s command `{shown}` uses {', '.join(unknown)}: only the placeholders "
                       f"${', $'.join(sorted(COMMAND_PLACEHOLDERS))} are substituted, nothing else is expanded",
                       "use those placeholders or write the value itself")
        words = command.split()
        for word in words:
            script = _OWN_FILE.sub("", word)
            if (script != word or ("/" not in word and "$" not in word)) and _SCRIPT.search(script) \
                    and not tree.is_file(script):
                self.error("command.missing-script", path,
                           f"the {role}'s command runs '{script}', which the {role} does not contain",
                           f"add {script} to the {role} or correct the command")
        if words and tree.is_file(_OWN_FILE.sub("", words[0])):
            self.error("command.executable", path,
                       f"the {role}'s command starts with its own file '{words[0]}': the platform loses "
                       "executable bits when it unzips programs, so the file cannot be executed",
                       f"call the interpreter explicitly, e.g. `python3 {words[0]}` or `bash {words[0]}`")

    def check_data(self, path: str, value: Any) -> None:
        """Input or reference data: unpacked for runs by the compute worker."""
        data = self.archive(path, value)
        if data is None or not self.first_look(data, "data"):
            return
        folders = sorted({n.split("/")[0] for n in data.tree.names() if "/" in n})
        if folders:
            self.warning("data.subfolders", path, f"the data has sub-folders ({', '.join(f + '/' for f in folders[:3])}"
                         f"{', ...' if len(folders) > 3 else ''}): current Codabench moves the contents of the first "
                         "folder of the zip to its root when it unpacks data for a run, AI4MediaBench does not, so the "
                         "programs see different layouts", "keep data files at the root of the zip, or make the "
                         "programs find their files wherever they are")

    # --- tasks, solutions, phases -----------------------------------------------------

    def unique_indexes(self, key: str, rule: str, consequence: str) -> set[int]:
        """The integer indexes of the items listed under ``key``; an error for each index given twice."""
        seen: dict[int, int] = {}
        item = key.removesuffix("s")
        for i, entry in _items(self.doc.get(key)):
            index = entry.get("index")
            if isinstance(index, int) and not isinstance(index, bool):
                if index in seen:
                    self.error(rule, _join(_join(key, i), "index"), f"{item} index {index} is also used by "
                               f"{key}[{seen[index]}]; {consequence}", f"give every {item} its own index")
                seen.setdefault(index, i)
        return set(seen)

    def check_tasks(self) -> set[int]:
        indexes = self.unique_indexes("tasks", "task.duplicate-index", "the platform rejects duplicate task indexes")
        for i, task in _items(self.doc.get("tasks")):
            path = _join("tasks", i)
            if "key" in task:
                continue  # a task already on the platform: its files are not read
            self.check_program(_join(path, "scoring_program"), task.get("scoring_program"), "scoring program")
            if "ingestion_program" in task:
                self.check_program(_join(path, "ingestion_program"), task["ingestion_program"], "ingestion program")
            for key in ("input_data", "reference_data"):
                if key in task:
                    self.check_data(_join(path, key), task[key])
            if _is_true(task.get("ingestion_only_during_scoring")):
                self.warning("task.ingestion-during-scoring", _join(path, "ingestion_only_during_scoring"),
                             "the worker runs the ingestion and the scoring programs one after the other, never "
                             "together: programs that wait for each other through /app/shared deadlock",
                             "run the ingestion in the prediction step")
        return indexes

    def check_solutions(self, task_indexes: set[int]) -> None:
        self.unique_indexes("solutions", "solution.duplicate-index", "the platform identifies solutions by their "
                            "index, so the two collide")
        for i, solution in _items(self.doc.get("solutions")):
            path = _join("solutions", i)
            self.check_task_references(path, solution.get("tasks"), task_indexes, "solution")
            if "key" in solution:
                continue
            archive = self.archive(_join(path, "path"), solution.get("path"))
            if archive is None or not self.first_look(archive, "solution"):
                continue
            metadata = next((n for n in METADATA_NAMES if archive.tree.is_file(n)), None)
            if metadata is not None:
                self.check_command(_join(path, "path"), archive.tree, metadata, "solution", required=False)

    def check_task_references(self, path: str, references: Any, task_indexes: set[int], owner: str) -> None:
        if not isinstance(references, list) or not isinstance(self.doc.get("tasks"), list):
            return  # no task list to refer to: the schema said so
        for j, reference in enumerate(references):
            if isinstance(reference, int) and not isinstance(reference, bool) and reference not in task_indexes:
                known = ", ".join(map(str, sorted(task_indexes))) or "none"
                self.error("task.dangling-reference", _join(_join(path, "tasks"), j),
                           f"the {owner} refers to task {reference}, which does not "
                           f"exist (task indexes: {known})", "use the index of a task listed under tasks")

    def check_phases(self, task_indexes: set[int]) -> set[int]:
        """Phase checks; returns the task indexes of the final phase."""
        phases = _items(self.doc.get("phases"))
        self.unique_indexes("phases", "phase.duplicate-index", "the platform orders phases by index, so the order "
                            "of the two is undefined")
        timeline: list[tuple[int, dict, datetime | None, datetime | None]] = []
        for i, phase in phases:
            path = _join("phases", i)
            self.check_task_references(path, phase.get("tasks"), task_indexes, "phase")
            limit = phase.get("execution_time_limit")
            if isinstance(limit, int) and limit > PUBLIC_QUEUE_TIME_LIMIT:
                self.warning("phase.time-limit", _join(path, "execution_time_limit"),
                             f"{limit} s is above the {PUBLIC_QUEUE_TIME_LIMIT} s "
                             "a public Codabench queue allows; there the limit is cut to it", "use at most 600 s or "
                             "run the competition on your own queue")
            if "public_data" in phase:
                self.archive(_join(path, "public_data"), phase["public_data"])
            if "starting_kit" in phase:
                self.check_starting_kit(_join(path, "starting_kit"), phase["starting_kit"])
            start = self.phase_date(path, phase, "start")
            end = self.phase_date(path, phase, "end")
            if start and end and end <= start:
                self.error("phase.end-before-start", _join(path, "end"),
                           f"phase {self.name(phase, i)} ends ({_show(end)}) before it starts "
                           f"({_show(start)})", "make the end later than the start")
            timeline.append((i, phase, start, end))
        # The platform orders phases by their `index` (0 when absent), keeping the yaml order otherwise.
        timeline.sort(key=lambda entry: entry[1]["index"] if isinstance(entry[1].get("index"), int) else 0)
        if timeline and _is_true(timeline[0][1].get("auto_migrate_to_this_phase")):
            first = timeline[0][0]
            self.error("phase.auto-migrate-first", _join(_join("phases", first), "auto_migrate_to_this_phase"),
                       "the first phase cannot receive migrated submissions; the platform rejects the bundle",
                       "remove it from the first phase")
        for (i, before, _, before_end), (j, after, after_start, _) in zip(timeline, timeline[1:]):
            if before.get("end") in (None, ""):
                self.error("phase.no-end", _join(_join("phases", i), "end"),
                           f"phase {self.name(before, i)} has no end but phase "
                           f"{self.name(after, j)} follows it", f"end {self.name(before, i)} before "
                           f"{self.name(after, j)} starts")
            elif before_end and after_start and after_start < before_end:
                self.error("phase.overlap", _join(_join("phases", j), "start"), f"phase {self.name(after, j)} starts "
                           f"({_show(after_start)}) before {self.name(before, i)} ends ({_show(before_end)}); "
                           "phases may not overlap", f"start {self.name(after, j)} after {_show(before_end)}")
            elif before_end and after_start and after_start == before_end:
                self.error("phase.touch", _join(_join("phases", j), "start"),
                           f"phase {self.name(after, j)} starts at the instant "
                           f"{self.name(before, i)} ends ({_show(before_end)}); the platform rejects it",
                           f"start {self.name(after, j)} one minute later ({_show(before_end + timedelta(minutes=1))})")
        if not timeline:
            return set(task_indexes)
        final_tasks = timeline[-1][1].get("tasks")
        return {t for t in final_tasks if isinstance(t, int)} if isinstance(final_tasks, list) else set(task_indexes)

    def check_starting_kit(self, path: str, value: Any) -> None:
        """The kit's READMEs must not hold the scaffold's placeholders."""
        kit = self.archive(path, value)
        if kit is None or not self.first_look(kit, "starting kit"):
            return
        for name in kit.tree.names():
            if PurePosixPath(name).name.lower().startswith("readme"):
                text = kit.tree.read(name).decode("utf-8", errors="replace")
                self.check_placeholders(path, f"{kit.relative}/{name}", text)

    @staticmethod
    def name(phase: dict, position: int) -> str:
        return f"'{phase['name']}'" if isinstance(phase.get("name"), str) else f"phases[{position}]"

    def phase_date(self, path: str, phase: dict, key: str) -> datetime | None:
        value = phase.get(key)
        if value in (None, ""):
            return None
        try:
            moment, offset = parse_utc_date(value)
        except (ValueError, OverflowError) as exc:
            reason, _, fix = str(exc).partition("; ")
            read = _dateutil_reading(value)
            if read is not None:
                reason += f": the platform reads it month first ({_show(read)}), many readers day first"
                fix = f"write {_show(read)} if that is the date meant"
            self.error("date.invalid", _join(path, key), reason, fix or DATE_HINT)
            return None
        if offset:  # the platform drops the offset: it reads the local time as UTC
            read = moment + offset
            self.warning("date.offset", _join(path, key),
                         f"the time zone offset of '{value}' is dropped, not converted: the "
                         f"platform reads {_show(read)} UTC", f"write the date in UTC ({_show(moment)})")
            return read
        return moment

    # --- leaderboards and fact sheet --------------------------------------------------

    def check_leaderboards(self) -> None:
        boards = _items(self.doc.get("leaderboards"))
        for i, board in boards[1:]:
            title = board.get("title", f"leaderboards[{i}]")
            self.warning("leaderboard.orphaned", _join("leaderboards", i),
                         f"every phase shows the first leaderboard only: '{title}' is "
                         "orphaned", "merge its columns into the first leaderboard")
        for i, board in boards:
            path = _join("leaderboards", i)
            columns = _items(board.get("columns"))
            keys: dict[str, int] = {}
            indexes: dict[int, int] = {}
            for j, column in columns:
                column_path = _join(_join(path, "columns"), j)
                key, index = column.get("key"), column.get("index")
                if isinstance(key, str):
                    if key in keys:
                        self.error("column.duplicate-key", _join(column_path, "key"),
                                   f"column key '{key}' is also used by columns[{keys[key]}]",
                                   "give every column its own key")
                    keys.setdefault(key, j)
                if isinstance(index, int) and not isinstance(index, bool):
                    if index in indexes:
                        self.error("column.duplicate-index", _join(column_path, "index"),
                                   f"column index {index} is also used by "
                                   f"columns[{indexes[index]}]", "give every column its own index")
                    indexes.setdefault(index, j)
            for j, column in columns:
                self.check_computed_column(_join(_join(path, "columns"), j), column, set(indexes))
            primary = board.get("primary_index", 0)
            if columns and isinstance(primary, int) and indexes and primary not in indexes:
                where = _join(path, "primary_index") if "primary_index" in board else _join(path, "columns")
                self.error("leaderboard.no-primary", where,
                           f"no column has index {primary}, the leaderboard's primary index"
                           f"{'' if 'primary_index' in board else ' (0 by default)'}: the leaderboard cannot be shown",
                           f"number the main column {primary} or set primary_index to one of {sorted(indexes)}")

    def check_computed_column(self, path: str, column: dict, indexes: set[int]) -> None:
        computation, sources = column.get("computation"), column.get("computation_indexes")
        if computation is not None and not sources:
            self.error("column.computation", _join(path, "computation_indexes"),
                       f"the column computes '{computation}' but lists no "
                       "computation_indexes", "list the indexes of the columns it combines")
            return
        if sources and computation is None:
            self.error("column.computation", _join(path, "computation"),
                       "the column lists computation_indexes but no computation",
                       "add computation: avg (or sum, min, max)")
            return
        if not sources:
            return
        if isinstance(sources, str):
            try:
                sources = [int(s) for s in sources.split(",")]
            except ValueError:
                self.error("column.computation", _join(path, "computation_indexes"),
                           f"'{sources}' is not a list of column indexes",
                           "write a list such as [1, 2]")
                return
        if not isinstance(sources, list):
            return
        own = column.get("index")
        for k, source in enumerate(sources):
            if not isinstance(source, int):
                continue
            if source == own:
                self.error("column.computation", _join(_join(path, "computation_indexes"), k),
                           "the column refers to itself",
                           "list other columns' indexes only")
            elif source not in indexes:
                self.error("column.computation", _join(_join(path, "computation_indexes"), k),
                           f"no column has index {source}",
                           f"use indexes of this leaderboard's columns ({', '.join(map(str, sorted(indexes)))})")

    def check_fact_sheet(self) -> None:
        sheet = self.doc.get("fact_sheet")
        if not isinstance(sheet, dict):
            return
        for key, question in sheet.items():
            if isinstance(question, dict) and "key" in question and question["key"] != key:
                self.error("fact-sheet.key", _join(_join("fact_sheet", str(key)), "key"),
                           f"the question's key '{question['key']}' "
                           f"differs from its name '{key}'; the platform rejects the bundle", f"write key: {key}")

    # --- leaks ------------------------------------------------------------------------

    def check_leaks(self, final_tasks: set[int]) -> None:
        """Reference files that participants can read: in input data, public data or a starting kit.

        A reference file is found by its content, in those archives and in the zips they hold
        (one level down); a reference zip is also found whole. Each leaked file is reported
        once, with every place it appears.
        """
        copies = self.exposed_files()
        references: list[tuple[_Archive, bool]] = []
        for i, task in _items(self.doc.get("tasks")):
            reference = self.quiet_archive(_join(_join("tasks", i), "reference_data"), task.get("reference_data"))
            if reference is None:
                continue
            own_input = _normalise(task["input_data"]) if isinstance(task.get("input_data"), str) else None
            if own_input == reference.relative:
                self.warning("leak.reference-is-input", reference.yaml_path, "the reference data is the task's input "
                             "data itself: code submissions can read it", "keep the answers out of the input data, "
                             "unless the scorer only needs the input (e.g. to verify a solution)")
            found = self.leaked(reference, copies, own_input)
            groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
            for shown, places in found.items():
                groups.setdefault(tuple(places), []).append(shown)
            final = not isinstance(task.get("index"), int) or task["index"] in final_tasks
            for names in groups.values():
                self.report_leak(reference, names, found[names[0]], final)
            if all(reference.relative != r.relative for r, _ in references):
                references.append((reference, final))
        self.check_copied_rows(references, copies)

    def check_copied_rows(self, references: list[tuple[_Archive, bool]],
                          copies: dict[tuple[int, int], list[tuple[_Archive, _File]]]) -> None:
        """Reference rows in a participant's file that is no exact copy: compressed, CRLF, BOM, re-separated.

        A file holding at least ``COPY_SHARE`` of a reference file's distinct rows (normalised,
        see :mod:`bundlekit.fingerprint`) is reported as a copy of it.
        """
        from bundlekit import fingerprint  # noqa: PLC0415

        originals = []  # (reference, final, file, its rows, its (size, crc))
        for reference, final in references:
            for name in reference.tree.names():
                rows = fingerprint.fingerprint(functools.partial(reference.tree.open, name))
                if len(rows) >= fingerprint.MIN_ROWS:
                    originals.append((reference, final, name, rows,
                                      (reference.tree.size(name), reference.tree.crc(name))))
        if not originals:
            return
        owners: dict[int, list[int]] = {}  # row hash -> the originals that hold it
        for number, (_, _, _, rows, _) in enumerate(originals):
            for row in rows:
                owners.setdefault(row, []).append(number)
        for key, places in copies.items():
            file = places[0][1]  # every place holds the same bytes
            matched: list[set[int]] = [set() for _ in originals]
            for row in fingerprint.row_hashes(functools.partial(file.tree.open, file.name)):
                for number in owners.get(row, ()):
                    matched[number].add(row)
            with file.tree.open(file.name) as stream:
                how = fingerprint.compression(stream.read(6))
            for found, (reference, final, name, rows, original_key) in zip(matched, originals):
                if key == original_key or len(found) < fingerprint.COPY_SHARE * len(rows):
                    continue  # an exact copy is reported above; a few common rows are no copy
                where = ", ".join(f"{a.yaml_path} ('{a.relative}', as {f.shown})" for a, f in places
                                  if a.relative != reference.relative)
                if not where:
                    continue
                message = (f"{len(found)} of the {len(rows)} rows of {name} of '{reference.relative}' are in "
                           f"{where}{f' ({how})' if how else ''}; participants can read the answers")
                if final:
                    self.error("leak.reference", reference.yaml_path, message,
                               "remove the copy of the reference rows from the participants' data")
                else:
                    self.warning("leak.public-reference", reference.yaml_path, message + " (the task is not in the "
                                 "final phase)", "remove it, unless this task's answers are public by design")

    def exposed_files(self) -> dict[tuple[int, int], list[tuple[_Archive, _File]]]:
        """The non-empty files participants can read, with those of the zips among them, by (size, CRC)."""
        places = [(_join(_join("tasks", i), "input_data"), task.get("input_data"))
                  for i, task in _items(self.doc.get("tasks"))]
        places += [(_join(_join("phases", i), key), phase.get(key))
                   for i, phase in _items(self.doc.get("phases")) for key in ("public_data", "starting_kit")]
        exposed: dict[str, _Archive] = {}
        for path, value in places:
            archive = self.quiet_archive(path, value)
            if archive is not None:
                exposed.setdefault(archive.relative, archive)
        copies: dict[tuple[int, int], list[tuple[_Archive, _File]]] = {}
        for archive in exposed.values():
            for file in self.files_within(archive.tree):
                size = file.tree.size(file.name)
                if size:
                    copies.setdefault((size, file.tree.crc(file.name)), []).append((archive, file))
        return copies

    def files_within(self, tree: _Tree) -> Iterator[_File]:
        """The files of ``tree``, then those of each readable zip among them."""
        for name in tree.names():
            yield _File(tree, name, name)
            if not name.lower().endswith(".zip"):
                continue
            try:
                inner = _open_zip(tree, name, self.stack)
            except ZIP_ERRORS:
                continue  # participants cannot unzip it either
            if _unsafe_reason(inner, name) is None and _damaged_member(inner) is None:
                inner_tree = _ZipTree(inner)
                yield from (_File(inner_tree, member, f"{name}/{member}") for member in inner_tree.names())

    def leaked(self, reference: _Archive, copies: dict[tuple[int, int], list[tuple[_Archive, _File]]],
               own_input: str | None) -> dict[str, dict[tuple[str, str], str]]:
        """Each reference file found among the participants' files: {(yaml path, archive): its name there}."""
        originals = [_File(reference.tree, name, name) for name in reference.tree.names()]
        if self.root.is_file(reference.relative):
            originals.append(_File(self.root, reference.relative, f"{PurePosixPath(reference.relative).name} itself"))
        found: dict[str, dict[tuple[str, str], str]] = {}
        for original in originals:
            size = original.tree.size(original.name)
            for archive, copy in copies.get((size, original.tree.crc(original.name)), []) if size else []:
                if archive.relative == reference.relative == own_input:
                    continue  # reported as the reference being the input data
                if copy.tree.sha256(copy.name) == original.tree.sha256(original.name):
                    found.setdefault(original.shown, {}).setdefault((archive.yaml_path, archive.relative), copy.shown)
        return found

    def report_leak(self, reference: _Archive, names: list[str], places: dict[tuple[str, str], str],
                    final: bool) -> None:
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        where = ", ".join(f"{yaml_path} ('{relative}'{_copied_as(names[0], shown)})"
                          for (yaml_path, relative), shown in places.items())
        message = (f"{listed} of '{reference.relative}' {'is' if len(names) == 1 else 'are'} also in {where}; "
                   "participants can read the answers")
        if final:
            self.error("leak.reference", reference.yaml_path, message,
                       "remove the reference files from the participants' data")
        else:
            self.warning("leak.public-reference", reference.yaml_path, message + " (the task is not in the final "
                         "phase)", "remove them, unless this task's answers are public by design (a development split)")

    def quiet_archive(self, path: str, value: Any) -> _Archive | None:
        """An archive already reported on (or fine): no new problem."""
        if not isinstance(value, str):
            return None
        relative = _normalise(value)
        tree = self._archives.get(relative) if relative is not None else None
        return _Archive(path, relative, tree) if tree is not None else None


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

def rule_list(text: str) -> list[str]:
    """``RULE[,RULE]`` as a list of known rule ids (an argparse type)."""
    rules = [rule.strip() for rule in text.split(",") if rule.strip()]
    unknown = [rule for rule in rules if rule not in RULES]
    if unknown:
        hints = [f"{rule} (did you mean {hint}?)" if (hint := _suggest(rule, sorted(RULES))) else rule
                 for rule in unknown]
        raise argparse.ArgumentTypeError(f"unknown rule id {', '.join(hints)}; the ids are the bracketed words "
                                         "of the checker's output")
    return rules


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, metavar="BUNDLE", help="the bundle: a zip or a folder")
    parser.add_argument("--json", action="store_true", help="print the problems as JSON")
    parser.add_argument("--strict", action="store_true", help="count warnings as errors in the exit status")
    parser.add_argument("--accept", type=rule_list, action="extend", default=[], metavar="RULE[,RULE]",
                        help="count the warnings of these rules in one line instead of listing them "
                             "(never errors; repeatable)")


def run_command(args: argparse.Namespace) -> int:
    problems = check_bundle(args.bundle)
    accepted = dict.fromkeys(args.accept, "")
    shown, hidden = set_apart(problems, accepted)
    errors = sum(p.severity == "error" for p in shown)
    if args.json:
        report = {"bundle": str(args.bundle), "errors": errors, "warnings": len(shown) - errors,
                  "problems": [asdict(p) for p in shown], "accepted": [asdict(p) for p in hidden]}
        print(json.dumps(report, indent=2))
    else:
        print(format_problems(problems, accepted, by="--accept"))
    failing = errors + (len(shown) - errors if args.strict else 0)
    return 1 if failing else 0
