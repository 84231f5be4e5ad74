"""A program's command as the worker reads it (metadata) and runs it (placeholders, no shell)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Literal

from bundlekit import safe_yaml
from bundlekit.run.result import StepFailure
from scoring_common.check_submission import METADATA_NAMES

#: Characters refused in a program's command: the platform runs it without a shell.
SHELL_SYNTAX = re.compile(r"[|&;<>()`$\\\"'*?]|^~|\s~")


def read_metadata(program_dir: Path) -> tuple[str | None, str | None]:
    """(metadata file name, its ``command``) at a program's root; Nones when absent.

    The platform looks for ``metadata.yaml`` first, then ``metadata``; an unreadable
    file counts as one without a command.
    """
    import yaml

    for name in METADATA_NAMES:
        path = program_dir / name
        if path.is_file():
            try:
                content = safe_yaml.load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, safe_yaml.YamlLimitError, UnicodeDecodeError):  # the platform's reader fails too
                return name, None
            command = content.get("command") if isinstance(content, dict) else None
            return name, (str(command) if command else None)
    return None, None


def substitute_placeholders(command: str, kind: Literal["ingestion", "program"], is_scoring: bool) -> str:
    """Replace the platform's placeholders, in the platform's order, by container paths."""
    replacements = [
        ("$input", "/app/input_data" if kind == "ingestion" else "/app/input"),
        ("$output", "/app/output"),
        ("$program", "/app/program"),
        ("$ingestion_program", "/app/program"),
        ("$hidden", "/app/input/ref"),
        ("$shared", "/app/shared"),
        ("$submission_program", "/app/ingested_program"),
        ("$tmp", "/app/output"),
        ("$predictions", "/app/input/res" if is_scoring else "/app/output"),
    ]
    for placeholder, value in replacements:
        command = command.replace(placeholder, value)
    return command


def command_argv(command: str, what: str, kind: Literal["ingestion", "program"], is_scoring: bool) -> list[str]:
    """Split a metadata command into argv, refusing shell syntax the platform would not run."""
    expanded = substitute_placeholders(command, kind, is_scoring)
    match = SHELL_SYNTAX.search(expanded)
    if match:
        raise StepFailure(
            f"{what}: the command {command!r} uses shell syntax ({match.group().strip()!r}); the "
            "platform runs it without a shell: write plain words separated by single spaces"
        )
    argv = shlex.split(expanded)
    if not argv:
        raise StepFailure(f"{what}: the command is empty: write e.g. 'python3 $program/score.py $input $output'")
    return argv
