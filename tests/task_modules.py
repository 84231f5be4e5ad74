"""Helpers of the per-task tests: importing a task's files by path, comparing generated folders."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_module(path: Path, name: str, fusion_io: ModuleType | None = None) -> ModuleType:
    """Import a file by path; ``import fusion_io`` inside it gets this task's module."""
    previous = sys.modules.get("fusion_io")
    if fusion_io is not None:
        sys.modules["fusion_io"] = fusion_io
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if fusion_io is not None:
            if previous is None:
                sys.modules.pop("fusion_io", None)
            else:
                sys.modules["fusion_io"] = previous
    return module


def load_task_files(bundle: Path) -> tuple[ModuleType, ModuleType, ModuleType]:
    """A task's task.py, ingestion_program/fusion_io.py and scoring_program/score.py, imported by path."""
    prefix = f"_test_{bundle.name.replace('-', '_')}"
    return (load_module(bundle / "task.py", f"{prefix}_task"),
            load_module(bundle / "ingestion_program" / "fusion_io.py", f"{prefix}_fusion_io"),
            load_module(bundle / "scoring_program" / "score.py", f"{prefix}_score"))


def files_of(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` by its relative POSIX path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
