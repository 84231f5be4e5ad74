"""The bundle itself: its folder or zip, its competition.yaml (read by the bundle model) and the schema."""

from __future__ import annotations

import json
import re
import zipfile
from contextlib import ExitStack
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from bundlekit import safe_yaml
from bundlekit.bundle_model import COMPETITION_YAML, load_yaml
from bundlekit.check.problems import Problem, describe, join_path, suggest
from bundlekit.check.trees import (
    ZIP_ERRORS,
    FolderTree,
    Tree,
    ZipTree,
    damaged_member,
    damaged_problem,
    unsafe_problem,
    unsafe_reason,
)
from bundlekit.platform_rules import MAX_UPLOAD_NAME_CHARS, upload_name_problem

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "competition.schema.json"
#: Where problems of the bundle as a whole (not of a yaml key) are reported.
BUNDLE_PATH = "<bundle>"
YAML_PATH = COMPETITION_YAML


def open_bundle(path: Path, problems: list[Problem], stack: ExitStack) -> Tree | None:
    """The bundle's root (the folder that holds competition.yaml), or None with the reason."""
    if path.is_dir():
        tree: Tree = FolderTree(path)
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
        unsafe = unsafe_reason(archive, path.name)
        if unsafe is not None:
            problems.append(unsafe_problem(BUNDLE_PATH, unsafe))
            return None
        damaged = damaged_member(archive)
        if damaged is not None:
            problems.append(damaged_problem(BUNDLE_PATH, f"the zip {path.name}", damaged))
            return None
        tree = ZipTree(archive)
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
    if isinstance(tree, ZipTree):
        fix = f"zip the contents of '{folder}/', not the folder itself (cd {folder} && zip -r ../bundle.zip .)"
        problems.append(Problem("error", "bundle.yaml-in-folder", YAML_PATH, f"competition.yaml is inside the folder "
                                f"'{folder}/', not at the root of the zip; the platform looks for it at the root and "
                                "rejects the upload", fix))
    else:
        problems.append(Problem("error", "bundle.yaml-in-folder", YAML_PATH, f"competition.yaml is in '{folder}/', not "
                                f"at the root of {where}", f"check (and zip) the folder {path / folder} instead"))
    return tree.sub(folder)


def load_document(root: Tree, problems: list[Problem]) -> dict | None:
    import yaml  # noqa: PLC0415

    duplicates: list[tuple[str, int, int]] = []
    try:
        text = root.read(YAML_PATH).decode("utf-8")
        document = load_yaml(text, duplicates)
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


def schema_problems(document: dict) -> Iterator[Problem]:
    for error in _validator().iter_errors(_jsonable(document)):
        yield from _from_schema_error(error)


def _from_schema_error(error: Any) -> Iterator[Problem]:
    path = ""
    for part in error.absolute_path:
        path = join_path(path, part)
    value, schema, keyword = error.instance, error.schema, error.validator
    expected = schema.get("description")
    where = path or YAML_PATH
    if keyword == "required":
        for key in error.validator_value:
            if isinstance(value, dict) and key not in value:
                consequence = _MISSING_CONSEQUENCE.get(key, "the platform needs it")
                yield Problem("error", "yaml.required-key", join_path(path, key),
                              f"required key '{key}' is missing: {consequence}",
                              f"add {_EXAMPLES.get(key, key + ': ...')}")
    elif keyword == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        severity = schema.get("x-unknown-keys", "warning")
        for key in sorted(set(value) - set(known)):
            hint = suggest(key, known)
            consequence = schema.get("x-unknown-consequence") or (
                "the platform rejects the bundle" if severity == "error" else "the platform ignores it")
            fix = f"did you mean '{hint}'? rename it" if hint else f"remove it (known keys: {', '.join(known)})"
            yield Problem(severity, "yaml.unknown-key", join_path(path, key), f"unknown key '{key}': {consequence}", fix)
    elif keyword == "enum":
        allowed = [c for c in error.validator_value if not isinstance(c, bool)]
        hint = suggest(value, allowed) if isinstance(value, str) else None
        consequence = "; an invalid rule hangs the upload" if path.endswith("submission_rule") else ""
        yield Problem("error", "yaml.enum", where, f"{describe(value)} is not allowed{consequence}",
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
        yield Problem("error", "yaml.type", where, f"is {describe(value)}; expected {wanted}", fix)
    else:
        yield Problem("error", "yaml.schema", where,
                      error.message, "correct it (see bundlekit/schema/competition.schema.json)")


_TYPE_NAMES = {"string": "text", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "nothing"}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
