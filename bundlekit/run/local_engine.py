"""The local engine (``--no-docker``): programs as local processes, /app/... mapped to a folder of the run."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bundlekit.run.engine import POLL_SECONDS, Mount, Outcome, make_dir, parse_memory
from bundlekit.run.logs import LOG_JOIN_SECONDS, pump_pipe, tail_lines

#: Seconds a local program gets between SIGTERM and SIGKILL.
KILL_GRACE_SECONDS = 5.0
#: Commands run with the runner's own interpreter.
PYTHON_NAMES = ("python", "python3")


def _proc_table() -> dict[int, tuple[int, int]]:
    """Live processes, ``pid: (parent pid, session id)``, from /proc (empty without it)."""
    table = {}
    for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                text = handle.read()
        except OSError:
            continue
        state, parent, _, session = text[text.rindex(b")") + 2:].split()[:4]
        if state != b"Z":  # a zombie is dead already
            table[int(name)] = (int(parent), int(session))
    return table


class _ProcessTree:
    """A local program and every process it starts, in new sessions too (Linux /proc)."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.sessions = {process.pid}  # the program leads its own session (start_new_session)

    def members(self) -> set[int]:
        """Live descendants and members of the sessions seen so far (learning new ones)."""
        table = _proc_table()
        children: dict[int, list[int]] = collections.defaultdict(list)
        for pid, (parent, _) in table.items():
            children[parent].append(pid)
        while True:  # the program itself, while alive, is in its session
            found = {pid for pid, (_, session) in table.items() if session in self.sessions}
            stack = list(found)
            while stack:
                for child in children[stack.pop()]:
                    if child not in found:
                        found.add(child)
                        stack.append(child)
            new = {table[pid][1] for pid in found} - self.sessions
            if not new:
                return found
            self.sessions |= new

    def signal(self, signum: int) -> set[int]:
        """Send ``signum`` to every member; return them."""
        members = self.members()
        if self.process.returncode is None:  # not reaped: its group id is still its own
            try:  # the fallback without /proc
                os.killpg(self.process.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in members:
            try:
                os.kill(pid, signum)
            except (ProcessLookupError, PermissionError):
                pass
        return members

    def stop(self) -> None:
        """SIGTERM to all, KILL_GRACE_SECONDS to end, then SIGKILL; reap the program."""
        if self.signal(signal.SIGTERM):
            grace_end = time.monotonic() + KILL_GRACE_SECONDS
            while time.monotonic() < grace_end and self.members():
                time.sleep(0.1)
        self.signal(signal.SIGKILL)
        self.process.wait()


def _local_environment(home: Path) -> dict[str, str]:
    """A local program's whole environment: nothing of the organiser's but PATH."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # set by the platform
        "PYTHONDONTWRITEBYTECODE": "1",
    }


class LocalEngine:
    """Runs programs as local processes, /app/... mapped to a folder of the run."""

    def __init__(self, memory: str | None):
        self.memory_bytes = parse_memory(memory) if memory else None

    def wait_for_removals(self) -> None:
        """Nothing to wait for: a local program leaves nothing behind once run."""

    def prepare(self, mounts: dict[str, Mount], work_dir: Path, cpus: set[int] | None) -> "_LocalProgram":
        """A program to run later with ``mounts``, pinned to ``cpus`` (None: the starting thread's CPUs)."""
        return _LocalProgram(self, mounts, work_dir, cpus)

    def run(
        self, argv: list[str], mounts: dict[str, Mount], work_dir: Path,
        stdout_log: Path, stderr_log: Path, deadline: float, cancel: threading.Event,
        cpus: set[int] | None = None,
    ) -> Outcome:
        app_root = work_dir / "app"
        for container_path, mount in sorted(mounts.items()):
            link = app_root / Path(container_path).relative_to("/app")
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(mount.host, target_is_directory=True)
        local_argv = [arg.replace("/app/", f"{app_root}/") for arg in argv]
        if local_argv[0] in PYTHON_NAMES:
            local_argv[0] = sys.executable
        limit = self.memory_bytes
        import resource  # here, not in the forked child: no import there (import lock)

        def limit_memory() -> None:  # runs in the child, before exec
            if limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            if cpus:
                os.sched_setaffinity(0, cpus)

        start = time.monotonic()
        try:
            process = subprocess.Popen(
                local_argv, cwd=app_root / "program", env=_local_environment(make_dir(work_dir / "home")),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, preexec_fn=limit_memory if limit or cpus else None,
            )
        except OSError as error:
            with open(stderr_log, "ab") as err:
                err.write(f"cannot start {local_argv[0]!r}: {error.strerror}\n".encode())
            return Outcome(exit_code=127, elapsed=time.monotonic() - start)
        pumps = [pump_pipe(process.stdout, stdout_log), pump_pipe(process.stderr, stderr_log)]
        tree = _ProcessTree(process)
        try:
            timed_out = self._wait(tree, deadline, cancel)
            elapsed = time.monotonic() - start
        finally:  # the whole tree: the ingestion's children too, whatever their session
            tree.stop()
            for pump in pumps:
                pump.join(LOG_JOIN_SECONDS)
        out_of_memory = bool(limit) and not timed_out and process.returncode != 0 and _mentions_memory_error(stderr_log)
        return Outcome(None if timed_out else process.returncode, elapsed, timed_out, out_of_memory)

    @staticmethod
    def _wait(tree: _ProcessTree, deadline: float, cancel: threading.Event) -> bool:
        """Wait for the program to end; True when the deadline or a cancel came first."""
        while True:
            try:
                tree.process.wait(timeout=max(0.01, min(POLL_SECONDS, deadline - time.monotonic())))
                return False
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline or cancel.is_set():
                    return True
                tree.members()  # learn the sessions its children start


@dataclass
class _LocalProgram:
    """A local program prepared by :meth:`LocalEngine.prepare`; nothing runs before :meth:`run`."""

    engine: LocalEngine
    mounts: dict[str, Mount]
    work_dir: Path
    cpus: set[int] | None

    def run(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
            cancel: threading.Event) -> Outcome:
        return self.engine.run(argv, self.mounts, self.work_dir, stdout_log, stderr_log, deadline, cancel, self.cpus)

    def close(self) -> None:
        """Nothing to release: the program's processes end with :meth:`run`."""


def _mentions_memory_error(stderr_log: Path) -> bool:
    return any(line.startswith("MemoryError") for line in tail_lines(stderr_log, 20))
