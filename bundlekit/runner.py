"""Run submissions against a built bundle the way the platform's compute worker does.

Prediction step: a submission without ``metadata``/``metadata.yaml`` at its root is
copied into the prediction output; one whose metadata has a ``command`` runs in its own
container; then, when the task has an ingestion program, it runs with the submission
mounted at /app/ingested_program (reference data is never mounted here). Scoring step:
the scoring program reads /app/input/ref and /app/input/res and writes /app/output.
After each step the worker's own ``metadata`` file is written into the step's output.

In Docker (the default when an engine is reachable) every program runs in its own
container of the bundle's image with every capability dropped, no-new-privileges, no
network, and memory and process limits. Without Docker (``--no-docker``) the same
commands run as local processes, with /app/... mapped to a folder of the run and a
minimal environment, but with no process, memory or network isolation: run only code you
trust. Each stream of a program is logged up to LOG_CAP_BYTES; the runner never follows
a symbolic link that a program left in a folder it reads back.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import errno
import functools
import json
import math
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Literal

from bundlekit import participant, safe_yaml, scheduling
from bundlekit.unpack import METADATA_NAMES, ArchiveError, inspect_submission, safe_extract
from scoring_common.check_submission import killing_signal, signal_name

DEFAULT_TIME_LIMIT = 600.0
DEFAULT_MEMORY = "4g"
DEFAULT_PIDS = 256
#: Label put on every container, so that leftovers can be found (`docker ps -a --filter label=bundlekit=1`).
CONTAINER_LABEL = "bundlekit"
#: A stopped labelled container is a leftover once stopped this long (before, its runner may still read it).
LEFTOVER_AGE_SECONDS = 60.0
#: Bytes kept of each stream (stdout, stderr) of each program; the rest is discarded.
LOG_CAP_BYTES = 10 * 1024**2
#: The line that ends a log cut at LOG_CAP_BYTES.
TRUNCATION_PREFIX = "[bundlekit] output truncated"
#: How long a log is waited for once its program has ended, in seconds.
LOG_JOIN_SECONDS = 10.0
#: Seconds a local program gets between SIGTERM and SIGKILL.
KILL_GRACE_SECONDS = 5.0
#: Largest scores or timing file read back from an output folder.
MAX_READ_BYTES = 1024**2
#: Longest reason taken from a program's stderr.
REASON_MAX_CHARS = 300
#: The prefix of the ingestion program's one-line reason on stderr.
ERROR_PREFIX = "ERROR: "
#: The platform's message when a step overruns its time limit.
TIME_LIMIT_MESSAGE = "Execution Time Limit exceeded"
#: Bounds for extracting a bundle zip (bundles hold more files than submissions).
BUNDLE_MAX_FILES = 200_000
#: How often a waiting run checks its deadline and the cancel flag, in seconds.
POLL_SECONDS = 1.0
#: Suffixes of a bare run file, recognised where a zip is expected.
RUN_SUFFIXES = (".csv", ".txt")
#: Score keys of a code submission's cost (time, CPU, memory): result submissions have none.
COST_KEYS = ("time_s", "cpu_s", "memory_mib")
#: What a finished run of a check-only phase (participant kit, test split) means.
CHECK_ONLY_NOTE = ("valid: checked against the test ids of the public data; the score is computed by the platform "
                   "(the test ground truth is hidden)")
#: Characters refused in a program's command: the platform runs it without a shell.
SHELL_SYNTAX = re.compile(r"[|&;<>()`$\\\"'*?]|^~|\s~")
PYTHON_NAMES = ("python", "python3")
#: What --no-docker does not give (RLIMIT_NPROC is not used: it counts every process of the user).
LOCAL_CAVEAT = "no process, memory or network isolation: run only code you trust"
#: The summary line the kit image's entrypoint (`measure`) prints last on stderr: not a reason.
ENTRYPOINT_SUMMARY = re.compile(r"^\[measure\] exit=-?\d+ ")
#: Longest run folder name made from a submission's file name.
RUN_NAME_MAX_CHARS = 100
#: Everything a run writes in its folder (a run refuses a folder that holds any, unless forced).
RUN_DIR_ENTRIES = (
    "submission", "programs", "work", "prediction", "scoring", "result.json",
    *(f"{step}.{stream}.log" for step in ("prediction", "prediction.submission", "scoring")
      for stream in ("stdout", "stderr")),
)


class BundleError(ValueError):
    """The bundle, the options or the engine do not allow any run (one-line message)."""


class _StepFailure(Exception):
    """Ends one submission's run as failed, with a one-line reason."""


@dataclass
class RunResult:
    """Outcome of one submission, as the platform would report it.

    Attributes
    ----------
    submission : str
        The submission zip.
    status : {"finished", "failed"}
        Platform status.
    reason : str or None
        Why it failed, in one line.
    scores : dict
        What the scoring program wrote, by key (empty when it exited non-zero).
    leaderboard : list of (key, title, value)
        The first leaderboard's row, computed columns filled as the platform does.
    times : dict
        ``prediction_s``, ``scoring_s`` and the numeric figures of ``timing.json``.
    logs_dir : str
        The run folder: step logs, prediction/output, scoring/output, result.json.
    detailed_results : str or None
        Path of the scoring step's HTML report, if any.
    warnings : list of str
        Things that worked here but deserve attention on the platform.
    prediction_exit_code, scoring_exit_code : int or None
        Exit codes of the steps' last program (None when it did not run).
    note : str or None
        What a finished run means when it is not a score (a participant kit's test check).
    """

    submission: str
    status: Literal["finished", "failed"]
    reason: str | None
    scores: dict[str, float]
    leaderboard: list[tuple[str, str, float | None]]
    times: dict[str, float]
    logs_dir: str
    detailed_results: str | None
    warnings: list[str] = field(default_factory=list)
    prediction_exit_code: int | None = None
    scoring_exit_code: int | None = None
    note: str | None = None


# --------------------------------------------------------------------------- bundle


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
    """One task of the bundle; program and data paths are dirs or zips in the bundle."""

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


class Bundle:
    """A built bundle (directory, or zip extracted to a temporary folder).

    Use as a context manager: temporary extractions are removed on exit.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._temp_dirs: list[Path] = []
        self._extracted: dict[Path, Path] = {}
        self._lock = threading.Lock()
        if self.path.is_file():
            self.root = self._extract(self.path, "bundle")
        elif self.path.is_dir():
            self.root = self.path.resolve()
        else:
            raise BundleError(f"{self.path}: no such bundle (give a bundle folder or zip)")
        if (self.root / participant.KIT_FILE).is_file() and not (self.root / "competition.yaml").exists():
            self.root = participant.kit_as_bundle(self.root, Path(tempfile.mkdtemp(prefix="bundlekit-kit-")))
            self._temp_dirs.append(self.root)
        yaml_path = self.root / "competition.yaml"
        if not yaml_path.is_file():
            raise BundleError(
                f"{self.path}: no competition.yaml at the bundle root "
                "(the platform needs it there, not inside a folder)"
            )
        self._read_yaml(yaml_path)

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for folder in self._temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        self._temp_dirs.clear()
        self._extracted.clear()

    def _extract(self, zip_path: Path, label: str) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=f"bundlekit-{label}-")).resolve()
        self._temp_dirs.append(folder)
        try:
            safe_extract(zip_path, folder, max_files=BUNDLE_MAX_FILES)
        except ArchiveError as error:
            raise BundleError(str(error)) from None
        return folder

    def _read_yaml(self, yaml_path: Path) -> None:
        import yaml

        try:
            data = safe_yaml.load(yaml_path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise BundleError(f"competition.yaml: not UTF-8 text (byte {error.start}): save it as UTF-8") from None
        except safe_yaml.YamlLimitError as error:
            raise BundleError(f"competition.yaml line {error.line}: {error}: simplify it (bundlekit check "
                              "lists every problem)") from None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise BundleError(f"competition.yaml{where}: not valid YAML: fix the syntax") from None
        if not isinstance(data, dict):
            raise BundleError("competition.yaml: not a mapping of keys")
        try:
            self._read_document(data)
        except BundleError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as error:  # a value of the wrong kind
            raise BundleError(f"competition.yaml: a value of the wrong kind ({type(error).__name__}: "
                              f"{' '.join(str(error).split())[:120]}): bundlekit check BUNDLE names it") from None

    def _read_document(self, data: dict[str, Any]) -> None:
        self.docker_image: str | None = data.get("docker_image")
        #: Phases of a participant kit scored against test ids only: verdict shown, scores never.
        self.check_only_phases: set[str] = set(data.get("x-check-only-phases") or ())
        tasks = {}
        for entry in data.get("tasks") or []:
            task = self._read_task(entry)
            tasks[task.index] = task
        self.phases: list[Phase] = []
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
            self.phases.append(Phase(name, float(limit), tuple(tasks[i] for i in indexes)))
        if not self.phases:
            raise BundleError("competition.yaml: no phase")
        boards = data.get("leaderboards") or []
        if not boards or not boards[0].get("columns"):
            raise BundleError("competition.yaml: no leaderboard with columns")
        self.columns: list[Column] = sorted(
            (self._read_column(number, entry) for number, entry in enumerate(boards[0]["columns"])),
            key=lambda column: column.index,
        )

    def _read_task(self, entry: dict[str, Any]) -> Task:
        if "index" not in entry or "scoring_program" not in entry:
            raise BundleError(f"competition.yaml: task {entry.get('name', '?')!r} needs an index and a scoring_program")
        index = int(entry["index"])

        def resource(key: str) -> Path | None:
            value = entry.get(key)
            return None if value in (None, "") else self._resolve(str(value), f"task {index} {key}")

        return Task(
            index=index,
            name=str(entry.get("name", f"task {index}")),
            scoring_program=resource("scoring_program"),
            ingestion_program=resource("ingestion_program"),
            input_data=resource("input_data"),
            reference_data=resource("reference_data"),
            ingestion_only_during_scoring=bool(entry.get("ingestion_only_during_scoring", False)),
        )

    @staticmethod
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

    def _resolve(self, relative: str, what: str) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise BundleError(f"competition.yaml: {what} {relative!r} points outside the bundle")
        if not (path.is_dir() or (path.is_file() and path.suffix == ".zip")):
            raise BundleError(f"competition.yaml: {what} {relative!r}: no such folder or .zip in the bundle")
        return path

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

    def materialize(self, path: Path) -> Path:
        """A folder with the contents of a bundle resource (a zip is extracted once)."""
        if path.is_dir():
            return path
        with self._lock:
            if path not in self._extracted:
                self._extracted[path] = self._extract(path, path.stem)
            return self._extracted[path]


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


# --------------------------------------------------------------------------- commands


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
        raise _StepFailure(
            f"{what}: the command {command!r} uses shell syntax ({match.group().strip()!r}); the "
            "platform runs it without a shell: write plain words separated by single spaces"
        )
    argv = shlex.split(expanded)
    if not argv:
        raise _StepFailure(f"{what}: the command is empty: write e.g. 'python3 $program/score.py $input $output'")
    return argv


# --------------------------------------------------------------------------- engines


@dataclass(frozen=True)
class Mount:
    host: Path
    read_only: bool


@dataclass
class _Outcome:
    exit_code: int | None
    elapsed: float
    timed_out: bool = False
    out_of_memory: bool = False


def parse_memory(text: str) -> int:
    """Bytes in a Docker-style size ("4g", "256m", "512k", "1000")."""
    match = re.fullmatch(r"(\d+)([bkmg]?)", text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"memory {text!r}: write a size like 4g, 512m or 256m")
    number, unit = match.groups()
    return int(number) * 1024 ** "bkmg".index(unit or "b")


def _at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number, at least 1")
    return number


def _memory_arg(text: str) -> str:
    try:
        parse_memory(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _copy_capped(chunks: Iterable[bytes], log: Path) -> bool:
    """Append ``chunks`` to ``log`` up to LOG_CAP_BYTES, then a truncation line; True when cut."""
    room = LOG_CAP_BYTES
    with open(log, "ab") as sink:
        for chunk in chunks:
            if len(chunk) > room:
                sink.write(chunk[:room])
                sink.write(f"\n{TRUNCATION_PREFIX} after {LOG_CAP_BYTES / 1024**2:g} MiB\n".encode())
                return True
            sink.write(chunk)
            room -= len(chunk)
    return False


def _pump(chunks: Iterable[bytes], log: Path, discard: Callable[[], None]) -> threading.Thread:
    """A started thread logging ``chunks`` (capped); ``discard`` disposes of the rest once cut."""
    def copy() -> None:
        try:
            if _copy_capped(chunks, log):
                discard()
        except (OSError, ValueError) as error:  # a broken stream ends its log, not the run
            with open(log, "ab") as sink:
                sink.write(f"\n[bundlekit] log stream broken: {type(error).__name__}: {error}\n".encode())

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


def _pipe_chunks(pipe: IO[bytes]) -> Iterator[bytes]:
    with pipe:
        yield from iter(functools.partial(pipe.read1, 64 * 1024), b"")


def _pump_pipe(pipe: IO[bytes], log: Path) -> threading.Thread:
    """Log a child's pipe; past the cap it is still read, so that the child never blocks."""
    chunks = _pipe_chunks(pipe)
    return _pump(chunks, log, lambda: collections.deque(chunks, maxlen=0))


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

    def prepare(self, mounts: dict[str, Mount], work_dir: Path, cpus: set[int] | None) -> "_LocalProgram":
        """A program to run later with ``mounts``, pinned to ``cpus`` (None: the starting thread's CPUs)."""
        return _LocalProgram(self, mounts, work_dir, cpus)

    def run(
        self, argv: list[str], mounts: dict[str, Mount], work_dir: Path,
        stdout_log: Path, stderr_log: Path, deadline: float, cancel: threading.Event,
        cpus: set[int] | None = None,
    ) -> _Outcome:
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
                local_argv, cwd=app_root / "program", env=_local_environment(_make_dir(work_dir / "home")),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, preexec_fn=limit_memory if limit or cpus else None,
            )
        except OSError as error:
            with open(stderr_log, "ab") as err:
                err.write(f"cannot start {local_argv[0]!r}: {error.strerror}\n".encode())
            return _Outcome(exit_code=127, elapsed=time.monotonic() - start)
        pumps = [_pump_pipe(process.stdout, stdout_log), _pump_pipe(process.stderr, stderr_log)]
        tree = _ProcessTree(process)
        try:
            timed_out = self._wait(tree, deadline, cancel)
            elapsed = time.monotonic() - start
        finally:  # the whole tree: the ingestion's children too, whatever their session
            tree.stop()
            for pump in pumps:
                pump.join(LOG_JOIN_SECONDS)
        out_of_memory = bool(limit) and not timed_out and process.returncode != 0 and _mentions_memory_error(stderr_log)
        return _Outcome(None if timed_out else process.returncode, elapsed, timed_out, out_of_memory)

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
            cancel: threading.Event) -> _Outcome:
        return self.engine.run(argv, self.mounts, self.work_dir, stdout_log, stderr_log, deadline, cancel, self.cpus)

    def close(self) -> None:
        """Nothing to release: the program's processes end with :meth:`run`."""


def _mentions_memory_error(stderr_log: Path) -> bool:
    return any(line.startswith("MemoryError") for line in _tail_lines(stderr_log, 20))


class DockerEngine:
    """Runs each program in its own locked-down container of the bundle's image.

    A program's container is created and started ahead (:meth:`prepare`, idle on
    ``sleep``) so that its start-up overlaps the previous step; :meth:`_Container.run`
    then runs the program in it with ``docker exec``, behind the image's entrypoint,
    exactly as ``docker run IMAGE COMMAND`` would, and the container is removed after.
    An image without ``sleep`` gets one container per program, started when it runs.
    """

    def __init__(self, image: str, memory: str, pids: int, network: bool):
        self.image = image
        self.memory = memory
        self.pids = pids
        self.network = network

    def prepare(self, mounts: dict[str, Mount], work_dir: Path, cpus: set[int] | None) -> "_Container":
        """A started, idle container with ``mounts``, pinned to ``cpus`` (None: any CPU)."""
        return _Container(self, mounts, cpus)

    def create_options(self, mounts: dict[str, Mount], cpus: set[int] | None) -> dict[str, Any]:
        import docker

        return dict(
            working_dir="/app/program",
            environment={"PYTHONUNBUFFERED": "1"},
            mounts=[
                docker.types.Mount(target, str(mount.host), type="bind", read_only=mount.read_only)
                for target, mount in sorted(mounts.items())
            ],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            network_mode=None if self.network else "none",
            mem_limit=self.memory,
            memswap_limit=self.memory,
            pids_limit=self.pids,
            cpuset_cpus=scheduling.cpuset(cpus),
            labels={CONTAINER_LABEL: "1"},
            detach=True,
        )


@functools.lru_cache(maxsize=1)
def _docker_client() -> Any:
    """One Docker client for the process (its connection pool serves every worker thread)."""
    import docker

    return docker.from_env(timeout=120, max_pool_size=32)


@functools.lru_cache(maxsize=None)
def _image_entrypoint(image: str) -> tuple[str, ...]:
    """The image's ENTRYPOINT, put before each program's command as ``docker run`` does."""
    return tuple(_docker_client().images.get(image).attrs["Config"].get("Entrypoint") or ())


#: What an idle container runs until its program is executed in it.
IDLE_ENTRYPOINT = ["sleep", "infinity"]
#: How often a running program's end is checked when its output streams stay open (seconds).
EXEC_POLL_SECONDS = 0.2


class _Container:
    """One program's container; see :class:`DockerEngine`."""

    def __init__(self, engine: DockerEngine, mounts: dict[str, Mount], cpus: set[int] | None):
        import docker

        self.engine = engine
        self.options = engine.create_options(mounts, cpus)
        self.container: Any = None
        self.created_at = time.time()
        try:
            self.container = _docker_client().containers.create(engine.image, entrypoint=IDLE_ENTRYPOINT, **self.options)
            self.container.start()
        except docker.errors.APIError:  # no sleep in the image: one container per program, at run time
            self.close()

    def close(self) -> None:
        """Kill what still runs in the container now; remove the container in the background."""
        import docker

        container, self.container = self.container, None
        if container is None:
            return
        try:
            container.kill()
        except docker.errors.APIError:  # not running (any more)
            pass
        _remove_in_background(container)

    def run(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
            cancel: threading.Event) -> _Outcome:
        try:
            if self.container is None:
                return self._run_once(argv, stdout_log, stderr_log, deadline, cancel)
            return self._exec(argv, stdout_log, stderr_log, deadline, cancel)
        finally:
            self.close()

    def _exec(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
              cancel: threading.Event) -> _Outcome:
        api = _docker_client().api
        command = [*_image_entrypoint(self.engine.image), *argv]
        exec_id = api.exec_create(self.container.id, command, workdir="/app/program")["Id"]
        start = time.monotonic()
        frames = api.exec_start(exec_id, stream=True, demux=True)
        pump = _pump_frames(frames, stdout_log, stderr_log)
        timed_out = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or cancel.is_set():
                timed_out = True
                break
            pump.join(max(0.01, min(EXEC_POLL_SECONDS, remaining)))
            state = api.exec_inspect(exec_id)
            if not state["Running"]:  # ended, even if a left-over child still holds its streams
                break
        elapsed = time.monotonic() - start
        exit_code = None if timed_out else api.exec_inspect(exec_id)["ExitCode"]
        # 137 is any SIGKILL (a program can kill its own parent): only the engine's word means memory.
        out_of_memory = exit_code not in (0, None) and self._killed_for_memory()
        self.close()  # kills whatever still runs, which ends the streams
        pump.join(LOG_JOIN_SECONDS)
        return _Outcome(exit_code, elapsed, timed_out, out_of_memory)

    def _killed_for_memory(self) -> bool:
        """Whether the kernel killed a process of the container for memory (a child, say).

        The container's OOMKilled flag is only set when its main process exits; the
        engine's "oom" events say it at once.
        """
        events = _docker_client().events(
            since=f"{self.created_at:.6f}", until=f"{time.time():.6f}", decode=True,
            filters={"container": self.container.id, "event": "oom"},
        )
        return any(True for _ in events)

    def _run_once(self, argv: list[str], stdout_log: Path, stderr_log: Path, deadline: float,
                  cancel: threading.Event) -> _Outcome:
        import docker
        import requests

        self.container = _docker_client().containers.create(self.engine.image, command=argv, **self.options)
        container = self.container
        start = time.monotonic()
        container.start()
        pumps = [
            _pump_stream(container.logs(stdout=True, stderr=False, stream=True, follow=True), stdout_log),
            _pump_stream(container.logs(stdout=False, stderr=True, stream=True, follow=True), stderr_log),
        ]
        exit_code, timed_out = None, False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or cancel.is_set():
                timed_out = True
                break
            try:
                exit_code = container.wait(timeout=max(0.1, min(POLL_SECONDS, remaining)))["StatusCode"]
                break
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                continue
        elapsed = time.monotonic() - start
        if timed_out:
            try:
                container.kill()
            except docker.errors.APIError:
                pass
        for pump in pumps:  # the streams end with the container
            pump.join(LOG_JOIN_SECONDS)
        container.reload()
        out_of_memory = not timed_out and bool(container.attrs["State"].get("OOMKilled"))
        return _Outcome(exit_code, elapsed, timed_out, out_of_memory)


#: Containers being removed in the background; waited for before the runner returns.
_REMOVALS: list[threading.Thread] = []
_REMOVALS_LOCK = threading.Lock()


def _remove_in_background(container: Any) -> None:
    import docker

    def remove() -> None:
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass

    thread = threading.Thread(target=remove, daemon=True)
    thread.start()
    with _REMOVALS_LOCK:
        _REMOVALS[:] = [*(t for t in _REMOVALS if t.is_alive()), thread]


def wait_for_removals() -> None:
    """Wait until every container closed so far is removed."""
    with _REMOVALS_LOCK:
        pending, _REMOVALS[:] = list(_REMOVALS), []
    for thread in pending:
        thread.join()


def _pump_frames(frames: Iterable[tuple[bytes | None, bytes | None]], stdout_log: Path,
                 stderr_log: Path) -> threading.Thread:
    """A started thread logging an exec's demultiplexed frames, each stream capped; the rest is read and dropped."""
    def copy() -> None:
        sinks = {0: _CappedLog(stdout_log), 1: _CappedLog(stderr_log)}
        try:
            for frame in frames:
                for number, chunk in enumerate(frame):
                    if chunk:
                        sinks[number].write(chunk)
        except (OSError, ValueError) as error:  # a broken stream ends its log, not the run
            sinks[1].write(f"\n[bundlekit] log stream broken: {type(error).__name__}: {error}\n".encode())
        finally:
            for sink in sinks.values():
                sink.close()

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


class _CappedLog:
    """An appended log file that keeps LOG_CAP_BYTES, then one truncation line."""

    def __init__(self, path: Path):
        self.sink = open(path, "ab")
        self.room = LOG_CAP_BYTES

    def write(self, chunk: bytes) -> None:
        if self.room < 0:
            return
        if len(chunk) > self.room:
            self.sink.write(chunk[:self.room])
            self.sink.write(f"\n{TRUNCATION_PREFIX} after {LOG_CAP_BYTES / 1024**2:g} MiB\n".encode())
            self.room = -1
            return
        self.sink.write(chunk)
        self.room -= len(chunk)

    def close(self) -> None:
        self.sink.close()


def _pump_stream(stream: Any, log: Path) -> threading.Thread:
    """Log a container's log stream; past the cap the stream is closed."""
    return _pump(stream, log, stream.close)


def remove_leftover_containers() -> int:
    """Remove the stopped containers of interrupted runs; return how many were removed.

    Running containers, and those stopped less than LEFTOVER_AGE_SECONDS ago, are kept:
    another runner may still be using them.
    """
    import docker

    client = docker.from_env(timeout=60)
    removed = 0
    try:
        stopped = client.containers.list(
            all=True, filters={"label": f"{CONTAINER_LABEL}=1", "status": ["created", "exited", "dead"]},
            ignore_removed=True,
        )
        for container in stopped:
            state = container.attrs["State"]
            last_change = max(_docker_time(container.attrs["Created"]), _docker_time(state["FinishedAt"]))
            if state.get("Running") or time.time() - last_change < LEFTOVER_AGE_SECONDS:
                continue
            try:
                container.remove()  # without force: never a container started meanwhile
                removed += 1
            except docker.errors.APIError:
                pass
    finally:
        client.close()
    return removed


def _docker_time(text: str) -> float:
    """Seconds since the epoch of a Docker timestamp ("2024-05-01T12:34:56.123456789Z", UTC)."""
    match = re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", text)
    return datetime.fromisoformat(match.group()).replace(tzinfo=timezone.utc).timestamp() if match else 0.0


def docker_available() -> bool:
    """Whether a Docker engine answers."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure (no socket, no permission, no SDK) means "no engine"
        return False


def image_available(image: str) -> bool:
    """Whether the Docker engine has ``image`` locally."""
    import docker

    client = docker.from_env(timeout=30)
    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False
    finally:
        client.close()


# --------------------------------------------------------------------------- one run


def _tail_lines(path: Path, count: int) -> list[str]:
    if not path.is_file():
        return []
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64 * 1024))
        text = handle.read().decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()][-count:]


def _messages(log: Path) -> list[str]:
    """The last lines of a program's stderr log, without the entrypoint's and the runner's own."""
    return [
        line for line in _tail_lines(log, 20)
        if not ENTRYPOINT_SUMMARY.match(line) and not line.startswith(TRUNCATION_PREFIX)
    ]


def _make_dir(path: Path) -> Path:
    """Create a folder with the platform's mode 0755; one that exists is left as it is."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o755)  # the platform's mounts are 0755
    return path


def _stage_program(source: Path, dest: Path) -> Path:
    """Copy a program without permission bits, as the platform's unzip loses them."""
    shutil.copytree(source, dest, copy_function=shutil.copyfile, dirs_exist_ok=True)
    return _make_dir(dest)


def _metadata_failure(step: str) -> _StepFailure:
    return _StepFailure(
        f"the {step} step left a file named 'metadata' in /app/output: the platform fails the "
        "submission (\"the output directory already contains a metadata file\"): "
        "never write a file with that name"
    )


def _check_output(output_dir: Path, step: str) -> None:
    """Fail on what a step's programs left in /app/output and the host must not touch.

    A ``metadata`` entry of any type (the platform fails the run), then any symbolic link
    or special file: the host would follow a link out of the folder.
    """
    if os.path.lexists(output_dir / "metadata"):
        raise _metadata_failure(step)
    for root, folders, files in os.walk(output_dir):
        for name in [*folders, *files]:
            mode = os.lstat(os.path.join(root, name)).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "a special file"
                where = Path(root, name).relative_to(output_dir).as_posix()
                raise _StepFailure(
                    f"the {step} step left {kind} '{where}' in /app/output: bundlekit refuses it (the "
                    "platform's worker would follow it on its own disk); write regular files only"
                )


def _write_worker_metadata(output_dir: Path, step: str, outcomes: dict[str, _Outcome]) -> None:
    """Write the worker's ``metadata``; the platform fails a run whose program wrote one."""
    import yaml

    program, ingestion = outcomes.get("program"), outcomes.get("ingestion")
    status = {
        "exitCode": program.exit_code if program else None,
        "elapsedTime": (program.elapsed if program else None) or (ingestion.elapsed if ingestion else None),
        "ingestionExitCode": ingestion.exit_code if ingestion else None,
        "ingestionElapsedTime": ingestion.elapsed if ingestion else None,
    }
    try:  # never through a link, never over an entry a program made
        fd = os.open(output_dir / "metadata", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        raise _metadata_failure(step) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(yaml.dump(status, default_flow_style=False))


def _read_output_file(path: Path) -> bytes | None:
    """A regular file's bytes, never through a symbolic link; None when there is no such file.

    Raises
    ------
    _StepFailure
        When the entry is a link or a special file, or above MAX_READ_BYTES.
    """
    not_regular = _StepFailure(
        f"{path.name} in /app/output is not a regular file (a link, folder or special file): write a regular file"
    )
    try:  # O_NONBLOCK: a FIFO must not hang the runner
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise not_regular from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise not_regular
        data = handle.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise _StepFailure(f"{path.name} in /app/output is larger than {MAX_READ_BYTES // 1024} KiB: write less")
    return data


def read_scores(output_dir: Path) -> dict[str, float]:
    """The scores the platform would read: scores.json, or else scores.txt as YAML."""
    import yaml

    json_data, txt_data = _read_output_file(output_dir / "scores.json"), _read_output_file(output_dir / "scores.txt")
    if json_data is not None:
        try:
            scores = json.loads(json_data.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            raise _StepFailure(f"scores.json is not valid JSON ({reason}): the platform fails the submission") from None
    elif txt_data is not None:
        try:
            scores = safe_yaml.load(txt_data.decode("utf-8"))
        except (yaml.YAMLError, safe_yaml.YamlLimitError, UnicodeDecodeError):
            raise _StepFailure("scores.txt is not valid YAML: write 'key: value' lines (with the space)") from None
    else:
        raise _StepFailure("Could not find scores file, did the scoring program output it? (no scores.json in /app/output)")
    if not isinstance(scores, dict):
        raise _StepFailure("the scores file is not a flat mapping {\"column_key\": number}")
    for key, value in sorted(scores.items(), key=lambda item: str(item[0])):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _StepFailure(f"score {key!r} is {value!r}: every score must be a finite number")
    return {str(key): float(value) for key, value in scores.items()}


def leaderboard_row(columns: list[Column], scores: dict[str, float]) -> list[tuple[str, str, float | None]]:
    """The first leaderboard's row; computed columns filled from the columns they name."""
    by_index = {column.index: column for column in columns}
    operations: dict[str, Callable[[list[float]], float]] = {
        "avg": lambda values: sum(values) / len(values), "sum": sum, "min": min, "max": max,
    }
    row = []
    for column in columns:
        if column.computation:
            values = [scores.get(by_index[i].key) for i in column.computation_indexes if i in by_index]
            operation = operations.get(str(column.computation).lower())
            complete = values and operation and all(v is not None for v in values)
            row.append((column.key, column.title, operation(values) if complete else None))
        else:
            row.append((column.key, column.title, scores.get(column.key)))
    return row


def check_score_keys(columns: list[Column], scores: dict[str, float]) -> list[str]:
    """Fail on keys the platform would drop silently; return the columns left empty.

    A column without a score is legitimate (the execution time of a result-only
    submission, say): the platform shows it empty.
    """
    expected = {column.key for column in columns if not column.computation}
    extra = sorted(set(scores) - expected)
    if extra:
        raise _StepFailure(
            f"the scoring program wrote keys that are not leaderboard columns: {', '.join(map(repr, extra))} "
            f"(the platform drops them silently); the column keys are {', '.join(map(repr, sorted(expected)))}"
        )
    return sorted(expected - set(scores))


@dataclass
class _Settings:
    use_docker: bool
    time_limit: float | None
    memory: str
    pids: int
    network: bool
    image: str | None
    keep: bool


class _SubmissionRun:
    """The two steps of one submission on one task, in ``run_dir``."""

    def __init__(
        self, bundle: Bundle, phase: Phase, task: Task, submission: Path, run_dir: Path,
        settings: _Settings, cancel: threading.Event,
    ):
        self.bundle, self.phase, self.task = bundle, phase, task
        self.submission = submission
        self.run_dir = run_dir
        self.settings = settings
        self.cancel = cancel
        self.limit = settings.time_limit if settings.time_limit is not None else phase.execution_time_limit
        if settings.use_docker:
            image = settings.image or bundle.docker_image
            self.engine: LocalEngine | DockerEngine = DockerEngine(image, settings.memory, settings.pids, settings.network)
        else:
            self.engine = LocalEngine(settings.memory)
        #: (program label, start, deadline) of the program running now, for the live feedback.
        self.current_step: tuple[str, float, float] | None = None
        self.result = RunResult(
            submission=str(submission), status="failed", reason=None, scores={}, leaderboard=[],
            times={}, logs_dir=str(run_dir), detailed_results=None,
        )
        #: Programs whose container is being started ahead, by label (see _prepare_ahead).
        self._ahead: dict[str, Future] = {}

    def run(self) -> RunResult:
        _make_dir(self.run_dir)
        try:
            for name in RUN_DIR_ENTRIES:  # what a previous run in the same folder left
                stale = self.run_dir / name
                if stale.is_dir() and not stale.is_symlink():
                    shutil.rmtree(stale)
                elif stale.exists() or stale.is_symlink():
                    stale.unlink()
            self._run()
            self.result.status = "finished"
        except _StepFailure as failure:
            self.result.reason = str(failure)
        except Exception as error:  # an engine or file-system fault must not stop the other runs
            self.result.reason = f"the run could not be carried out: {type(error).__name__}: {' '.join(str(error).split())}"
        finally:
            for ahead in self._ahead.values():  # started ahead for a step that never ran
                try:
                    ahead.result().close()
                except Exception:  # noqa: BLE001 - it failed to start: nothing to remove
                    pass
            if "scoring" in self._ahead:  # no trace of a scoring step that never ran
                shutil.rmtree(self.run_dir / "scoring", ignore_errors=True)
            if not self.settings.keep:
                for name in ("submission", "programs", "work"):
                    shutil.rmtree(self.run_dir / name, ignore_errors=True)
            (self.run_dir / "result.json").write_text(
                json.dumps(result_to_json(self.result), indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
        return self.result

    def _run(self) -> None:
        if self.task.ingestion_only_during_scoring:
            raise _StepFailure(
                f"task {self.task.index} sets ingestion_only_during_scoring, which deadlocks on the "
                "platform (its containers do not run concurrently): set it to false"
            )
        try:
            info = inspect_submission(self.submission)
            self.result.warnings.extend(info.warnings)
            submission_dir = _make_dir(self.run_dir / "submission")
            safe_extract(self.submission, submission_dir)
        except ArchiveError as error:
            raise _StepFailure(str(error)) from None
        # Every container of the run starts now, in the background: each step finds its own ready.
        cpus = scheduling.timed_cpus() if info.command else scheduling.untimed_cpus()
        submission_mounts, ingestion_mounts = self._prediction_mounts(submission_dir)
        if info.command:
            self._prepare_ahead("submission", submission_mounts, cpus)
        if ingestion_mounts:
            self._prepare_ahead("ingestion", ingestion_mounts, cpus)
        self._prepare_ahead("scoring", self._scoring_mounts(), scheduling.untimed_cpus())
        self._predict(submission_dir)
        self._score()

    def _prepare_ahead(self, label: str, mounts: dict[str, Mount], cpus: set[int] | None) -> None:
        """Start preparing the program ``label`` (its container) now, in the background.

        Its start-up then overlaps the work before it; :meth:`_execute` takes it over.
        """
        future: Future = Future()

        def prepare() -> None:
            try:
                future.set_result(self.engine.prepare(mounts, self.run_dir / "work" / label, cpus))
            except BaseException as error:  # noqa: BLE001 - handed over to whoever waits
                future.set_exception(error)

        threading.Thread(target=prepare, daemon=True).start()
        self._ahead[label] = future

    def _program_dir(self, source: Path, name: str) -> Path:
        return _stage_program(self.bundle.materialize(source), self.run_dir / "programs" / name)

    def _execute(
        self, label: str, argv: list[str], mounts: dict[str, Mount], log_prefix: str, deadline: float,
        cpus: set[int] | None,
    ) -> _Outcome:
        if self.cancel.is_set():
            raise _StepFailure("interrupted")
        stdout_log = self.run_dir / f"{log_prefix}.stdout.log"
        stderr_log = self.run_dir / f"{log_prefix}.stderr.log"
        ahead = self._ahead.pop(label, None)
        if ahead is not None:  # prepared with the same mounts
            program = ahead.result()
        else:
            program = self.engine.prepare(mounts, self.run_dir / "work" / label, cpus)
        self.current_step = (label, time.monotonic(), deadline)
        try:
            outcome = program.run(argv, stdout_log, stderr_log, deadline, self.cancel)
        finally:
            program.close()
        if self.cancel.is_set():
            raise _StepFailure("interrupted")
        return outcome

    def _check_limits(self, step: str, outcomes: dict[str, _Outcome], log_prefix: str) -> None:
        if any(outcome.out_of_memory for outcome in outcomes.values()):
            raise _StepFailure(
                f"out of memory: the {step} step went over the memory limit of {self.settings.memory} (--memory) "
                f"and was killed; use less memory (float32, fewer copies of X), see {log_prefix}.stderr.log"
            )
        if any(outcome.timed_out for outcome in outcomes.values()):
            raise _StepFailure(
                f"{TIME_LIMIT_MESSAGE}. Limit was {self.limit:g} seconds ({step} step): it was still running "
                f"{self._progress_of(log_prefix)}; make fit and predict faster (or raise --time-limit to measure it)"
            )

    def _progress_of(self, log_prefix: str) -> str:
        """How far a killed step got, from its last line on stderr or stdout."""
        lines = _messages(self.run_dir / f"{log_prefix}.stderr.log") or _messages(self.run_dir / f"{log_prefix}.stdout.log")
        return f"(its last message: {lines[-1][:REASON_MAX_CHARS]!r})" if lines else "(it printed nothing)"

    def _predict(self, submission_dir: Path) -> Path:
        """The prediction step; a code submission's (timed) waits for its turn and its CPU (see scheduling)."""
        metadata_name, command = read_metadata(submission_dir)
        if command is None:
            return self._predict_step(submission_dir, metadata_name, command, scheduling.untimed_cpus())
        with scheduling.TIMED_STEPS:
            return self._predict_step(submission_dir, metadata_name, command, scheduling.timed_cpus())

    def _predict_step(self, submission_dir: Path, metadata_name: str | None, command: str | None,
                      cpus: set[int] | None) -> Path:
        output = self.run_dir / "prediction" / "output"
        for log in ("prediction.stdout.log", "prediction.stderr.log"):
            (self.run_dir / log).touch()
        deadline = time.monotonic() + self.limit
        submission_mounts, ingestion_mounts = self._prediction_mounts(submission_dir)
        outcomes: dict[str, _Outcome] = {}
        if metadata_name is None:
            # Result submission (or code without metadata): copied as prediction output.
            shutil.copytree(submission_dir, output, dirs_exist_ok=True)
        elif command:
            argv = command_argv(command, f"submission {metadata_name}", "program", False)
            log_prefix = "prediction.submission" if self.task.ingestion_program else "prediction"
            outcomes["program"] = self._execute("submission", argv, submission_mounts, log_prefix, deadline, cpus)
            self._check_limits("prediction", outcomes, log_prefix)
        if ingestion_mounts:
            argv = self._program_argv(ingestion_mounts["/app/program"].host, "ingestion program", "ingestion", False)
            outcomes["ingestion"] = self._execute("ingestion", argv, ingestion_mounts, "prediction", deadline, cpus)
            self._check_limits("prediction", outcomes, "prediction")
        self.result.times["prediction_s"] = round(sum(o.elapsed for o in outcomes.values()), 3)
        last = outcomes.get("ingestion") or outcomes.get("program")
        if last is not None:
            self.result.prediction_exit_code = last.exit_code
        _check_output(output, "prediction")
        _write_worker_metadata(output, "prediction", outcomes)
        self._read_timing(output)
        return output

    def _program_argv(self, program_dir: Path, what: str, kind: Literal["ingestion", "program"], is_scoring: bool) -> list[str]:
        metadata_name, command = read_metadata(program_dir)
        if metadata_name is None:
            raise _StepFailure(
                f"{what}: no metadata.yaml or metadata at its root (platform: \"Program directory "
                "missing 'metadata.yaml/metadata'\"); zip the program's files, not their folder"
            )
        if not command:
            raise _StepFailure(f"{what}: {metadata_name} has no 'command' (platform: \"Program directory missing 'command' in metadata\")")
        return command_argv(command, f"{what} {metadata_name}", kind, is_scoring)

    def _read_timing(self, prediction_output: Path) -> None:
        try:  # the figures are informative: a broken file is the scorer's to report
            timing = json.loads(_read_output_file(prediction_output / "timing.json") or b"null")
        except (_StepFailure, ValueError, RecursionError):
            return
        if isinstance(timing, dict):
            for key, value in sorted(timing.items()):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.result.times[key] = float(value)

    def _score(self) -> None:
        for log in ("scoring.stdout.log", "scoring.stderr.log"):
            (self.run_dir / log).touch()
        output = self.run_dir / "scoring" / "output"
        mounts = self._scoring_mounts()
        argv = self._program_argv(mounts["/app/program"].host, "scoring program", "program", True)
        deadline = time.monotonic() + self.limit
        outcome = self._execute("scoring", argv, mounts, "scoring", deadline, scheduling.untimed_cpus())
        self._check_limits("scoring", {"program": outcome}, "scoring")
        self.result.times["scoring_s"] = round(outcome.elapsed, 3)
        self.result.scoring_exit_code = outcome.exit_code
        if outcome.exit_code != 0:
            messages = _messages(self.run_dir / "scoring.stderr.log")
            detail = messages[-1][:REASON_MAX_CHARS] if messages else "nothing on stderr, see scoring.stdout.log"
            raise _StepFailure(
                self._prediction_error() or f"the scoring program exited with code {outcome.exit_code}: {detail}"
            )
        _check_output(output, "scoring")
        self.result.detailed_results = self._detailed_results(output)
        scores = read_scores(output)
        _write_worker_metadata(output, "scoring", {"program": outcome})
        check_only = self.phase.name in self.bundle.check_only_phases
        if check_only:
            scores = {key: value for key, value in scores.items() if key in COST_KEYS}
            self.result.note = CHECK_ONLY_NOTE
        self.result.scores = dict(sorted(scores.items()))
        self.result.leaderboard = leaderboard_row(self.bundle.columns, scores)
        empty = [] if check_only else check_score_keys(self.bundle.columns, scores)
        if "wall_s" not in self.result.times:  # a result submission: no cost to show
            empty = [key for key in empty if key not in COST_KEYS]
        if empty:
            self.result.warnings.append(f"no score for the leaderboard column(s) {', '.join(map(repr, empty))}: "
                                        "the platform shows them empty")

    def _prediction_mounts(self, submission_dir: Path) -> tuple[dict[str, Mount], dict[str, Mount]]:
        """The mounts of the submission's own command and of the ingestion program (empty without one).

        Reference data is never mounted here. The first call stages the ingestion program.
        """
        output = _make_dir(self.run_dir / "prediction" / "output")
        input_mounts = {}
        if self.task.input_data:
            input_mounts["/app/input_data"] = Mount(self.bundle.materialize(self.task.input_data), True)
        submission = {"/app/program": Mount(submission_dir, True), "/app/output": Mount(output, False), **input_mounts}
        if not self.task.ingestion_program:
            return submission, {}
        program_dir = self.run_dir / "programs" / "ingestion"
        if not program_dir.is_dir():
            self._program_dir(self.task.ingestion_program, "ingestion")
        ingestion = {
            "/app/program": Mount(program_dir, True),
            "/app/output": Mount(output, False),
            "/app/ingested_program": Mount(submission_dir, True),
            **input_mounts,
        }
        return submission, ingestion

    def _scoring_mounts(self) -> dict[str, Mount]:
        """The scoring step's mounts (staged and created at the first call); no /app/input_data, as on the platform."""
        program_dir = self.run_dir / "programs" / "scoring"
        if not program_dir.is_dir():
            self._program_dir(self.task.scoring_program, "scoring")
        mounts = {
            "/app/program": Mount(program_dir, True),
            "/app/output": Mount(_make_dir(self.run_dir / "scoring" / "output"), False),
            "/app/shared": Mount(_make_dir(self.run_dir / "scoring" / "shared"), False),
            "/app/input/res": Mount(_make_dir(self.run_dir / "prediction" / "output"), False),
        }
        if self.task.reference_data:
            mounts["/app/input/ref"] = Mount(self.bundle.materialize(self.task.reference_data), True)
        return mounts

    def _prediction_error(self) -> str | None:
        """The ingestion program's own reason when the prediction step failed (its last ERROR line)."""
        if self.result.prediction_exit_code in (0, None):
            return None
        errors = [line for line in _messages(self.run_dir / "prediction.stderr.log") if line.startswith(ERROR_PREFIX)]
        if errors:
            return errors[-1].removeprefix(ERROR_PREFIX)[:REASON_MAX_CHARS]
        killed = killing_signal(self.result.prediction_exit_code, self.settings.use_docker)
        if killed is None:
            return None
        return (f"the prediction step was killed by signal {killed} ({signal_name(killed)}), not by a limit of "
                "bundlekit (no time or memory limit was reached): the submission's code ended it, e.g. by killing "
                "its parent process; see prediction.stderr.log")

    @staticmethod
    def _detailed_results(output: Path) -> str | None:
        default = output / "detailed_results.html"
        if default.is_file():
            return str(default)
        pages = sorted(output.glob("*.html"))  # the platform's fallback: any HTML page
        return str(pages[0]) if pages else None


# --------------------------------------------------------------------------- public API


def result_to_json(result: RunResult) -> dict[str, Any]:
    data = asdict(result)
    data["leaderboard"] = [list(entry) for entry in result.leaderboard]
    return data


def _settings(
    bundle: Bundle, use_docker: bool | None, time_limit: float | None, memory: str, pids: int,
    network: bool, image: str | None, keep: bool,
) -> _Settings:
    parse_memory(memory)
    if time_limit is not None and time_limit <= 0:
        raise BundleError(f"time limit {time_limit:g}: give a positive number of seconds")
    if pids < 1:
        raise BundleError(f"process limit {pids}: give at least 1 (Docker reads 0 or less as no limit)")
    if use_docker is None:
        use_docker = docker_available()
    elif use_docker and not docker_available():
        raise BundleError("no Docker engine answers: start it (dockerd) or use --no-docker")
    if use_docker:
        chosen = image or bundle.docker_image
        if not chosen:
            raise BundleError("competition.yaml has no docker_image: pin one (the platforms' defaults differ) or pass --image")
        if not image_available(chosen):
            _pull_exactly(chosen)
        removed = remove_leftover_containers()
        if removed:
            print(f"bundlekit run: removed {removed} stopped container(s) left by an interrupted run "
                  f"(label {CONTAINER_LABEL}=1)", file=sys.stderr)
    return _Settings(use_docker, time_limit, memory, pids, network, image, keep)


def run_folder_name(submission: Path) -> str:
    """A plain folder name for a submission's run: never '.', '..', empty, hidden or with a separator."""
    stem = re.sub(r"[^\w.-]+", "_", submission.stem).strip("._-")[:RUN_NAME_MAX_CHARS]
    return stem or "submission"


def _refuse_existing(run_dirs: list[Path], force: bool) -> None:
    """Refuse run folders that already hold what a run writes, unless ``force`` lets the runs replace it."""
    if force:
        return
    for run_dir in run_dirs:
        existing = [name + "/" * (run_dir / name).is_dir() for name in RUN_DIR_ENTRIES
                    if os.path.lexists(run_dir / name)]
        if existing:
            shown = ", ".join(existing[:3]) + (", ..." if len(existing) > 3 else "")
            raise BundleError(f"{run_dir} already holds {shown} (an earlier run?): give --output a fresh folder, "
                              "or add --force to replace them")


def _pull_exactly(image: str) -> None:
    """Pull exactly ``image`` (a digest reference gets those bytes or nothing), as the platform's worker does."""
    from bundlekit.registry import RegistryError, pull_image  # noqa: PLC0415

    print(f"bundlekit run: image {image} is not present locally: pulling it", file=sys.stderr)
    try:
        pull_image(image)
    except RegistryError as error:
        raise BundleError(f"{error}; or build it (bundlekit image), or pass --image") from None


def _run_dirs(output_dir: Path | None, submissions: list[Path]) -> list[Path]:
    parent = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="bundlekit-run-"))
    parent = _make_dir(parent.resolve())
    names: list[Path] = []
    used: set[str] = set()
    for submission in submissions:
        stem = run_folder_name(submission)
        name, number = stem, 1
        while name in used:
            number += 1
            name = f"{stem}-{number}"
        used.add(name)
        names.append(parent / name)
    return names


def run_submission(
    bundle: Path,
    submission: Path,
    phase: str | None,
    *,
    task: int | None = None,
    use_docker: bool | None = None,
    time_limit: float | None = None,
    memory: str = DEFAULT_MEMORY,
    pids: int = DEFAULT_PIDS,
    network: bool = False,
    image: str | None = None,
    output_dir: Path | None = None,
    keep: bool = False,
    force: bool = False,
) -> RunResult:
    """Run one submission zip through a bundle's phase, as the platform would.

    Parameters
    ----------
    bundle : Path
        Built bundle, folder or zip.
    submission : Path
        Submission zip.
    phase : str or None
        Phase name (case-insensitive); None when the bundle has one phase.
    task : int, optional
        Task index, required only when the phase has several tasks.
    use_docker : bool, optional
        None: Docker when an engine answers, local processes otherwise.
    time_limit : float, optional
        Seconds per step; default the phase's ``execution_time_limit``.
    memory, pids, network, image
        Container limits, network access and image (default the bundle's ``docker_image``).
    output_dir : Path, optional
        The run folder (default a new temporary folder).
    keep : bool
        Keep the staged submission and programs in the run folder.
    force : bool
        Replace what an earlier run left in the run folder (refused otherwise).

    Raises
    ------
    BundleError
        When the bundle, options or engine prevent any run.
    """
    return run_many(
        bundle, [submission], phase, task=task, use_docker=use_docker, time_limit=time_limit,
        memory=memory, pids=pids, network=network, image=image, output_dir=output_dir,
        keep=keep, single_run_dir=True, force=force,
    )[0]


def run_many(
    bundle: Path | Bundle,
    submissions: list[Path],
    phase: str | None,
    *,
    task: int | None = None,
    use_docker: bool | None = None,
    time_limit: float | None = None,
    memory: str = DEFAULT_MEMORY,
    pids: int = DEFAULT_PIDS,
    network: bool = False,
    image: str | None = None,
    output_dir: Path | None = None,
    keep: bool = False,
    jobs: int | None = None,
    progress: bool = False,
    single_run_dir: bool = False,
    force: bool = False,
) -> list[RunResult]:
    """Run several submissions in parallel; results in the order of ``submissions``.

    Same parameters as :func:`run_submission` (``bundle`` may also be an open
    :class:`Bundle`, whose extractions are then reused), plus ``jobs`` (parallel runs, default
    min(4, CPUs)), ``progress`` (a progress bar on stderr) and ``single_run_dir`` (use
    ``output_dir`` itself as the run folder of a single submission). Each submission
    gets a sub-folder of ``output_dir`` (default a new temporary folder).
    """
    with contextlib.nullcontext(bundle) if isinstance(bundle, Bundle) else Bundle(Path(bundle)) as loaded:
        return _run_loaded(
            loaded, submissions, phase, task=task, use_docker=use_docker, time_limit=time_limit,
            memory=memory, pids=pids, network=network, image=image, output_dir=output_dir,
            keep=keep, jobs=jobs, progress=progress, single_run_dir=single_run_dir, force=force,
        )


def _run_loaded(
    loaded: Bundle, submissions: list[Path], phase: str | None, *, task: int | None,
    use_docker: bool | None, time_limit: float | None, memory: str, pids: int, network: bool,
    image: str | None, output_dir: Path | None, keep: bool, jobs: int | None, progress: bool,
    single_run_dir: bool, force: bool = False,
) -> list[RunResult]:
    from tqdm import tqdm

    submissions = [Path(s) for s in submissions]
    if not submissions:
        raise BundleError("no submission to run")
    jobs = max(1, jobs or min(4, os.cpu_count() or 1))
    chosen_phase = loaded.phase(phase)
    chosen_task = select_task(chosen_phase, task)
    settings = _settings(loaded, use_docker, time_limit, memory, pids, network, image, keep)
    if single_run_dir and len(submissions) == 1:
        run_dirs = [Path(output_dir or tempfile.mkdtemp(prefix="bundlekit-run-")).resolve()]
    else:
        run_dirs = _run_dirs(output_dir, submissions)
    _refuse_existing(run_dirs, force)
    cancel = threading.Event()
    results: list[RunResult | None] = [None] * len(submissions)
    runs = [_SubmissionRun(loaded, chosen_phase, chosen_task, sub, run_dir, settings, cancel)
            for sub, run_dir in zip(submissions, run_dirs)]
    live = progress and len(runs) == 1 and sys.stderr.isatty()
    pool_options = {"initializer": scheduling.pin_current_thread, "initargs": (scheduling.untimed_cpus(),)}
    with ThreadPoolExecutor(max_workers=jobs, **pool_options) as pool, tqdm(
        total=len(submissions), unit="submission", file=sys.stderr,
        disable=not progress or len(submissions) < 2,
    ) as bar, _step_feedback(runs[0] if live else None):
        futures = {pool.submit(run.run): number for number, run in enumerate(runs)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
        except BaseException:
            cancel.set()  # running programs are killed within POLL_SECONDS
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            wait_for_removals()
    return [result for result in results if result is not None]


class _step_feedback:
    """On a terminal, one line kept up to date: the running step, its elapsed time and its limit."""

    def __init__(self, run: _SubmissionRun | None):
        self.run = run
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._show, daemon=True)

    def __enter__(self) -> "_step_feedback":
        if self.run is not None:
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.run is not None:
            self.done.set()
            self.thread.join()
            print("\r" + " " * 72 + "\r", end="", file=sys.stderr, flush=True)

    def _show(self) -> None:
        while not self.done.wait(POLL_SECONDS):
            if self.run.current_step is not None:
                label, start, deadline = self.run.current_step
                now = time.monotonic()
                print(f"\r{label}: {now - start:.0f} s (limit {deadline - start:.0f} s) ", end="",
                      file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- CLI


def collect_submissions(paths: list[Path], zip_runs: bool = False) -> list[Path]:
    """Expand folders into the zips they hold (sorted); keep zip paths as given.

    A bare run file (``.csv``, ``.txt``) is refused with the command that zips it, or,
    with ``zip_runs``, zipped beside itself (``run.csv`` -> ``run.zip``) and run.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_file() and path.suffix.lower() in RUN_SUFFIXES and not zipfile.is_zipfile(path):
            target = path.with_suffix(".zip")
            if not zip_runs:
                raise BundleError(f"{path} is a bare run file; the platform takes a zip holding it at its root: "
                                  f"python -m zipfile -c {target} {path} (or add --zip-runs)")
            with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.write(path, path.name)
            print(f"bundlekit run: wrote {target} (holding {path.name} at its root)", file=sys.stderr)
            found.append(target)
        elif path.is_dir():
            zips = sorted(p for p in path.iterdir() if p.suffix.lower() == ".zip" and p.is_file())
            if not zips:
                raise BundleError(f"{path}: no .zip file in this folder")
            found.extend(zips)
        elif path.is_file():
            found.append(path)
        else:
            raise BundleError(f"{path}: no such submission (give a zip or a folder of zips)")
    return found


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, help="built bundle, or participant kit: folder or zip")
    parser.add_argument("submissions", type=Path, nargs="+", metavar="SUBMISSION",
                        help="submission zip, or a folder of submission zips")
    parser.add_argument("--phase", help="phase name (case-insensitive); needed when the bundle has several")
    parser.add_argument("--task", type=int, help="task index, needed when the phase has several tasks")
    parser.add_argument("--no-docker", action="store_true",
                        help=f"run programs as local processes: {LOCAL_CAVEAT}")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS",
                        help="per-step limit (default: the phase's execution_time_limit)")
    parser.add_argument("--memory", type=_memory_arg, default=DEFAULT_MEMORY,
                        help=f"memory limit per program (default {DEFAULT_MEMORY})")
    parser.add_argument("--pids", type=_at_least_one, default=DEFAULT_PIDS,
                        help=f"process limit per container (default {DEFAULT_PIDS})")
    parser.add_argument("--network", action="store_true", help="give the containers network access")
    parser.add_argument("--image", help="Docker image (default: the bundle's docker_image)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--jobs", type=_at_least_one, default=min(4, os.cpu_count() or 1),
                        help="submissions run in parallel (default min(4, CPUs)); the prediction steps of "
                        "code submissions, which are timed, still run one at a time, each pinned to a CPU of its "
                        "own, so that their cost columns do not depend on --jobs")
    parser.add_argument("--keep", action="store_true",
                        help="keep the staged submission and programs in the run folder")
    parser.add_argument("--output", type=Path, metavar="DIR", help="run folder (default: a new temporary folder)")
    parser.add_argument("--zip-runs", action="store_true",
                        help="zip a bare run file (.csv, .txt) given as a submission beside it, then run the zip")
    parser.add_argument("--force", action="store_true",
                        help="replace what an earlier run left in the --output folder (refused otherwise)")


def _format_value(value: float | None, column: Column) -> str:
    return "-" if value is None else f"{value:.{column.precision}f}"


def _print_one(result: RunResult, columns: list[Column]) -> None:
    status = "finished" if result.status == "finished" else f"FAILED: {result.reason}"
    print(f"{result.submission}: {status}")
    shown = {column.key: column for column in columns if not column.hidden}
    cells = [f"{title} {_format_value(value, shown[key])}" for key, title, value in result.leaderboard if key in shown]
    if cells:
        print("  " + " | ".join(cells))
    times = ", ".join(f"{name.removesuffix('_s')} {result.times[name]:.1f} s"
                      for name in ("prediction_s", "scoring_s") if name in result.times)
    if times:
        print(f"  {times}")
    if result.note:
        print(f"  {result.note}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    print(f"  logs: {result.logs_dir}")
    if result.detailed_results:
        print(f"  detailed results: {result.detailed_results}")


def _sort_key(result: RunResult, column: Column | None) -> tuple[int, float]:
    if column is None or result.status != "finished":
        return (1, 0.0)
    value = dict((key, v) for key, _, v in result.leaderboard).get(column.key)
    if value is None:
        return (1, 0.0)
    return (0, -value if column.sorting != "asc" else value)


def _print_table(results: list[RunResult], columns: list[Column]) -> None:
    shown = [column for column in columns if not column.hidden]
    first = shown[0] if shown else None
    ordered = sorted(results, key=lambda r: _sort_key(r, first))
    header = ["#", "submission", *(column.title for column in shown), "status"]
    rows = []
    for rank, result in enumerate(ordered, start=1):
        values = dict((key, value) for key, _, value in result.leaderboard)
        status = "finished" if result.status == "finished" else f"FAILED: {result.reason}"
        rows.append([
            str(rank) if result.status == "finished" else "-", Path(result.submission).name,
            *(_format_value(values.get(column.key), column) for column in shown), status,
        ])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    for result in ordered:
        for warning in result.warnings:
            print(f"warning: {Path(result.submission).name}: {warning}")
    print(f"logs: {Path(ordered[0].logs_dir).parent}")


def _interrupt_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM interrupt like Ctrl-C, so that containers are removed; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)


def run_command(args: argparse.Namespace) -> int:
    restore_sigterm = _interrupt_on_sigterm()
    try:
        return _run_command(args)
    finally:
        restore_sigterm()


def _run_command(args: argparse.Namespace) -> int:
    try:
        submissions = collect_submissions(args.submissions, zip_runs=args.zip_runs)
        use_docker: bool | None = False if args.no_docker else None
        if use_docker is None and not docker_available():
            use_docker = False
            print("bundlekit run: no Docker engine answers: running programs as local processes "
                  f"({LOCAL_CAVEAT})", file=sys.stderr)
        elif use_docker is False:
            print(f"bundlekit run: --no-docker: running programs as local processes with {sys.executable} "
                  f"({LOCAL_CAVEAT})", file=sys.stderr)
        with Bundle(args.bundle) as bundle:
            columns = bundle.columns
            results = _run_loaded(
                bundle, submissions, args.phase, task=args.task, use_docker=use_docker,
                time_limit=args.time_limit, memory=args.memory, pids=args.pids, network=args.network,
                image=args.image, output_dir=args.output, keep=args.keep, jobs=args.jobs,
                progress=True, single_run_dir=len(submissions) == 1, force=args.force,
            )
    except (BundleError, ArchiveError) as error:
        print(f"bundlekit run: {error}", file=sys.stderr)
        if args.json:
            print(json.dumps({"status": "error", "reason": str(error)}, indent=2, sort_keys=True))
        return 2
    if args.json:
        payload: Any = [result_to_json(r) for r in results]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, sort_keys=True))
    elif len(results) == 1:
        _print_one(results[0], columns)
    else:
        _print_table(results, columns)
    return 0 if all(result.status == "finished" for result in results) else 1
