"""What both engines (Docker, local) share: mounts, a program's outcome, limits."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: Memory and process limits of each program (``--memory``, ``--pids``).
DEFAULT_MEMORY = "4g"
DEFAULT_PIDS = 256
#: How often a waiting run checks its deadline and the cancel flag, in seconds.
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Mount:
    """A host folder seen by a program under an /app/... path."""

    host: Path
    read_only: bool


@dataclass
class Outcome:
    """How a program ended: its exit code (None when killed at the deadline), its wall time, its limits."""

    exit_code: int | None
    elapsed: float
    timed_out: bool = False
    out_of_memory: bool = False


class Program(Protocol):
    """A program prepared by an engine: run once, then closed by its owner."""

    def run(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
            cancel: threading.Event) -> Outcome:
        """Run ``argv`` until it ends, ``deadline`` (monotonic) or ``cancel``; nothing of it runs after."""

    def close(self) -> None:
        """Release what the program held (its container, in the background)."""


def parse_memory(text: str) -> int:
    """Bytes in a Docker-style size ("4g", "256m", "512k", "1000")."""
    match = re.fullmatch(r"(\d+)([bkmg]?)", text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"memory {text!r}: write a size like 4g, 512m or 256m")
    number, unit = match.groups()
    return int(number) * 1024 ** "bkmg".index(unit or "b")


def make_dir(path: Path) -> Path:
    """Create a folder with the platform's mode 0755; one that exists is left as it is."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o755)  # the platform's mounts are 0755
    return path
