"""Running a participant's fusion code: the shared part of every ingestion program.

An ingestion program is called as ``python3 ingest.py $input $output
$submission_program SECONDS``. ``$input`` holds ``train/`` (the dev split's inducers and
ground truth) and ``predict/`` (the inducers of the split being scored). The
participant's ``fusion.py`` defines ``class Fusion`` with ``fit(X, y)`` and
``predict(X)``; it runs in a child process under a time limit and the resource limits
of :mod:`scoring_common.sandbox`. The run and ``timing.json`` go to ``$output``; on
failure, the one-line reason goes to ``$output/prediction_error.txt``. A result-only
submission is passed through untouched.

Each task provides a ``fusion_io`` module beside its ``ingest.py`` with
``load_inducers(dir)``, ``load_truth(dir)``, ``check_prediction(prediction, X)``,
``write_run(prediction, X, path)``, ``item_ids(X)`` and ``RUN_FILE_NAME`` (optionally
``RESOURCE_LIMITS``). It is imported by path under a private name, so nothing in a
submission can stand in for it.

What the cost columns measure (``timing.json``; the scorer publishes the first three):

``time_s``
    Wall seconds from just before ``fusion.py`` is imported to the return of
    ``Fusion.predict``: the participant's import, ``Fusion()``, ``fit`` and ``predict``.
    The ingestion program timestamps both ends itself, from messages the child sends
    on a pipe; the start message is sent before any participant code runs, and the
    child waits for the ingestion's "go" (sent once the start is timestamped) before
    importing ``fusion.py``, so stopping the ingestion process cannot delay the start.
``cpu_s``
    CPU seconds (user + system) of the same span, the participant's processes included:
    the child's own usage between the two messages, plus every other process of the tree
    (reaped here, as a subreaper).
``memory_mib``
    Peak resident memory of the participant's process tree: the largest of the kernel's
    peak for one process (the child's own ``VmHWM``, not its ``ru_maxrss``, which counts
    the ingestion's memory inherited at exec) and the sampled sum over the tree. It
    includes the inducers the kit loads for the participant, the same for every
    submission of a split.
``overhead_wall_s``
    The rest of the child's life: interpreter start, the kit's imports and data
    loading, checking and writing the run. ``wall_s`` is the child's whole life.

Code in the child could forge the end message (never the start, nor the clock). So
that nothing is won by it, work after the end message beyond what the kit needed
to start and load the data (times one; not the scan of the submission's files, which a
large submission could stretch) is charged to ``time_s``, and ``cpu_s`` is never less
than the tree's CPU time minus the kit's share so bounded.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Sequence

from scoring_common import sandbox
from scoring_common.errors import EXIT_INTERNAL_ERROR, EXIT_PARTICIPANT_ERROR, InternalError, ParticipantError
from scoring_common.submission_checks import (  # noqa: F401 - CODE_SUBMISSION_METADATA re-exported
    CODE_SUBMISSION_METADATA,
    FUSION_FILE,
    METADATA_NAMES,
    check_metadata,
    check_no_embedded_ids,
    is_code_submission,
)

TIMING_FILE = "timing.json"
#: The one-line reason of a failed prediction step, for the scorer (contract C3).
ERROR_FILE = "prediction_error.txt"
#: Names only the ingestion program writes into the prediction output.
RESERVED_FILES = (TIMING_FILE, ERROR_FILE)
#: The child's report to the parent, in the scratch folder.
RESULT_FILE = "result.json"
#: The child's note, in the scratch folder, that fit has finished (its wall seconds), read on a time-out.
FIT_DONE_FILE = "fit_done.json"
#: The private module name the task's fusion_io is imported under.
TASK_MODULE = "_ingestion_task_fusion_io"
#: Files of a submission that are never copied as results.
SUBMISSION_METADATA = METADATA_NAMES
#: How often the process tree is sampled for its size and memory.
SAMPLE_EVERY_S = 0.1
#: The numeric libraries of the participant's process use one thread: the results (threaded
#: BLAS sums in another order) and the cost columns then do not depend on how many cores the
#: machine has, and the build, `bundlekit run` and the platform give the same scores.
SINGLE_THREADED_MATH = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}
#: Longest line the child may send on the measurement pipe.
MAX_MESSAGE_BYTES = 256
_RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def pass_through(submission_dir: Path, output_dir: Path) -> list[str]:
    """Copy a result-only submission into the prediction output, untouched.

    The worker's ``metadata`` file of a submission is not copied (the worker writes its
    own, and fails the run if a program already did).
    """
    copied = []
    for path in sorted(submission_dir.rglob("*")):
        relative = path.relative_to(submission_dir)
        if path.is_dir() or relative.as_posix() in SUBMISSION_METADATA:
            continue
        target = output_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(relative.as_posix())
    return copied


def load_task_module(program_dir: Path) -> ModuleType:
    """The task's ``fusion_io.py`` of ``program_dir``, imported by path under a private name."""
    path = program_dir / "fusion_io.py"
    spec = importlib.util.spec_from_file_location(TASK_MODULE, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise InternalError(f"the ingestion program has no {path.name}; the bundle is broken")
    module = importlib.util.module_from_spec(spec)
    sys.modules[TASK_MODULE] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class _Watch:
    """What the parent observes of the child, on its own clock."""

    spawned: float
    go_fd: int
    loaded: float | None = None
    start: float | None = None
    start_cpu: float | None = None
    end: float | None = None
    end_cpu: float | None = None
    exited: float | None = None
    peak_tree_bytes: int = 0
    child_pid: int = 0
    child_peak_bytes: int = 0  # the child's own VmHWM, read while it lives
    buffer: bytes = b""
    orphan_usage: list = field(default_factory=list)


def run_fusion(program_dir: Path, input_dir: Path, output_dir: Path, submission_dir: Path,
               time_limit_s: float) -> dict:
    """Run ``fusion.py`` of the submission in a bounded child process; write run and timing.

    Returns the timing record written to ``timing.json`` (last, once every process of
    the participant has ended). Raises :class:`ParticipantError` when the code fails,
    returns something invalid, breaks a limit or runs out of time. One call at a time
    per process: the calling process becomes a child subreaper for the duration and
    kills every descendant it did not have before the call.
    """
    if not (submission_dir / FUSION_FILE).is_file():
        raise ParticipantError(f"the code submission has no {FUSION_FILE} at the root of its zip; "
                               "put fusion.py (defining class Fusion) at the top level")
    limits = _task_limits(program_dir)
    was_subreaper = sandbox.set_child_subreaper(True)
    before = frozenset(sandbox.process_tree(os.getpid()))  # the host's own children stay untouched
    present = frozenset(p.name for p in output_dir.iterdir())
    read_fd, write_fd = os.pipe()  # child -> parent: "start", "end" (timestamped on arrival), "done"
    go_read_fd, go_fd = os.pipe()  # parent -> child: "go" once "start" is timestamped, "bye" after "done"
    try:
        with tempfile.TemporaryDirectory(prefix="fusion-") as scratch_name:
            scratch = Path(scratch_name)
            package_root = str(Path(__file__).resolve().parent.parent)
            command = [sys.executable, "-I", "-c",
                       "import sys; sys.path.insert(0, sys.argv[1]); "
                       "from scoring_common.ingestion import child_main; child_main(sys.argv[2:])",
                       package_root, str(program_dir), str(input_dir), str(submission_dir), str(scratch),
                       f"{write_fd},{go_read_fd}", json.dumps(limits.as_dict()), repr(float(time_limit_s))]
            env = dict(os.environ, PYTHONUNBUFFERED="1", **SINGLE_THREADED_MATH)
            watch = _Watch(spawned=time.monotonic(), go_fd=go_fd)
            process = subprocess.Popen(command, cwd=submission_dir, env=env, pass_fds=(write_fd, go_read_fd))
            watch.child_pid = process.pid
            for fd in (write_fd, go_read_fd):
                os.close(fd)
            write_fd = go_read_fd = -1
            try:
                outcome, usage = _watch_child(process, read_fd, watch, time_limit_s, limits, before)
            finally:  # on a time-out, a crash or SIGTERM: nothing of the participant's outlives this
                if process.returncode is None:
                    _kill(process.pid)
                    _, status, usage = os.wait4(process.pid, 0)
                    process.returncode = os.waitstatus_to_exitcode(status)
                watch.orphan_usage += sandbox.kill_descendants(before)
                strays = _remove_strays(output_dir, present)
            _raise_for(outcome, time_limit_s, limits, scratch / FIT_DONE_FILE)
            result = _read_result(scratch / RESULT_FILE, process.returncode, limits, time_limit_s,
                                  watch.child_peak_bytes or watch.peak_tree_bytes)
            if result.get("internal_error"):
                raise InternalError(result["internal_error"])
            if result.get("error"):
                raise ParticipantError(result["error"])
            run_name = _checked_run_name(scratch, result.get("run_file"))
            timing = _timing(watch, usage, run_name, time_limit_s)
            if strays:
                raise ParticipantError(
                    f"your fusion code wrote {strays[0]!r} into the prediction output folder, which only the "
                    "ingestion program writes; write temporary files under tempfile.gettempdir() instead"
                )
            shutil.move(scratch / run_name, output_dir / run_name)
    finally:
        for fd in (read_fd, go_fd, write_fd, go_read_fd):
            if fd >= 0:
                os.close(fd)
        sandbox.set_child_subreaper(was_subreaper)
    written = output_dir / f".{TIMING_FILE}.tmp"
    written.write_text(json.dumps(timing, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(written, output_dir / TIMING_FILE)  # replaces whatever stood there, link or file
    return timing


def _task_limits(program_dir: Path) -> sandbox.ResourceLimits:
    """The task's declared limits, read from fusion_io.py without importing it (no pandas here)."""
    path = program_dir / "fusion_io.py"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    match = re.search(r"^RESOURCE_LIMITS\s*=\s*(\{[^}]*\})", text, flags=re.MULTILINE)
    if not match:
        return sandbox.DEFAULT_LIMITS
    import ast  # noqa: PLC0415

    try:
        return sandbox.limits_from(ast.literal_eval(match.group(1)))
    except (ValueError, SyntaxError, TypeError) as exc:
        raise InternalError(f"fusion_io.RESOURCE_LIMITS of the ingestion program is invalid: {exc}") from None


def _watch_child(process: subprocess.Popen, read_fd: int, watch: _Watch, time_limit_s: float,
                 limits: sandbox.ResourceLimits, before: frozenset[int]) -> tuple[str, resource.struct_rusage | None]:
    """Follow the child until it exits; return ("exited" | "timeout" | "processes", usage)."""
    deadline = watch.spawned + time_limit_s
    next_sample = watch.spawned
    open_pipe = True
    while True:
        now = time.monotonic()
        if now >= next_sample:
            tree = [process.pid, *sandbox.process_tree(process.pid)]
            watch.peak_tree_bytes = max(watch.peak_tree_bytes, sandbox.resident_bytes(tree))
            watch.child_peak_bytes = max(watch.child_peak_bytes, sandbox.peak_resident_bytes(process.pid))
            if len(tree) > limits.processes:
                return "processes", None
            next_sample = now + SAMPLE_EVERY_S
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            watch.exited = time.monotonic()
            process.returncode = os.waitstatus_to_exitcode(status)
            if open_pipe:
                _read_messages(read_fd, watch, block=False)
            return "exited", usage
        if now >= deadline:
            return "timeout", None
        timeout = max(0.0, min(0.02, deadline - now, next_sample - now))
        if open_pipe:
            ready, _, _ = select.select([read_fd], [], [], timeout)
            if ready:
                open_pipe = _read_messages(read_fd, watch, block=True)
        else:
            time.sleep(timeout)


def _read_messages(read_fd: int, watch: _Watch, block: bool) -> bool:
    """Read what the child sent, timestamping each line on arrival; False at end of pipe."""
    if not block:
        os.set_blocking(read_fd, False)
    try:
        data = os.read(read_fd, 4096)
    except BlockingIOError:
        return True
    arrived = time.monotonic()
    if not data:
        return False
    watch.buffer = (watch.buffer + data)[-4 * MAX_MESSAGE_BYTES:]
    *lines, watch.buffer = watch.buffer.split(b"\n")
    for line in lines:
        event, _, cpu = line.decode("ascii", "replace").partition(" ")
        try:
            cpu_s = float(cpu)
        except ValueError:
            continue
        if event == "loaded" and watch.loaded is None and watch.start is None:
            watch.loaded = arrived
        elif event == "start" and watch.start is None:  # the first: sent before any participant code
            watch.start, watch.start_cpu = arrived, cpu_s
            os.write(watch.go_fd, b"go\n")  # the child waits for this: no code runs before the timestamp
        elif event == "end" and watch.start is not None:  # the last
            watch.end, watch.end_cpu = arrived, cpu_s
        elif event == "done":  # the child waits for "bye": its peak memory is read while it lives
            watch.child_peak_bytes = max(watch.child_peak_bytes, sandbox.peak_resident_bytes(watch.child_pid))
            try:
                os.write(watch.go_fd, b"bye\n")
            except OSError:
                pass
    return True


def _timing(watch: _Watch, usage: resource.struct_rusage, run_name: str, time_limit_s: float) -> dict:
    """The cost figures (see the module docstring), from what the parent observed."""
    if watch.start is None or watch.end is None or watch.exited is None:
        raise ParticipantError("your fusion code interfered with the ingestion program's measurement "
                               "(its report pipe was closed or written to); leave inherited file descriptors alone")
    child_cpu = usage.ru_utime + usage.ru_stime
    others_cpu = sum(u.ru_utime + u.ru_stime for u in watch.orphan_usage)
    # The kit's own start-up and data loading: not the scan of the submission, whose size the participant sets.
    kit_before_s = (watch.loaded if watch.loaded is not None else watch.start) - watch.spawned
    after_s = watch.exited - watch.end
    # Beyond what the kit needed before the start, time after the end message is the participant's.
    time_s = (watch.end - watch.start) + max(0.0, after_s - kit_before_s)
    reported_cpu = max(0.0, watch.end_cpu - watch.start_cpu)
    floor_cpu = child_cpu - watch.start_cpu - min(after_s, kit_before_s)
    cpu_s = max(reported_cpu, floor_cpu) + others_cpu
    # The child's ru_maxrss includes the ingestion's own memory, which exec inherits: its VmHWM
    # read while it lived is its own (ru_maxrss only if it was never read). Orphans forked by the
    # participant's code inherit the participant's memory, so theirs counts.
    own_peak = watch.child_peak_bytes or usage.ru_maxrss * 1024
    peak_single = max([own_peak, *(u.ru_maxrss * 1024 for u in watch.orphan_usage)])
    wall_s = watch.exited - watch.spawned
    return {
        "run_file": run_name,
        "time_s": round(time_s, 3),
        "cpu_s": round(max(0.0, cpu_s), 3),
        "memory_mib": round(max(peak_single, watch.peak_tree_bytes) / sandbox.MIB, 1),
        "wall_s": round(wall_s, 3),
        "overhead_wall_s": round(max(0.0, wall_s - time_s), 3),
        "time_limit_s": time_limit_s,
    }


def _raise_for(outcome: str, time_limit_s: float, limits: sandbox.ResourceLimits, fit_done: Path) -> None:
    if outcome == "timeout":
        raise ParticipantError(
            f"your fusion code did not finish within its time limit of {time_limit_s:g} s "
            f"(loading, fit and predict together): {_how_far(fit_done)}; make it faster or use fewer inducers"
        )
    if outcome == "processes":
        raise ParticipantError(
            f"your fusion code ran more than {limits.processes} processes at once (the process limit); "
            f"use at most {limits.processes - 1} worker processes (e.g. n_jobs)"
        )


def _how_far(fit_done: Path) -> str:
    """Which of fit and predict the time limit interrupted, with the measured time of fit."""
    try:
        fit_s = float(json.loads(fit_done.read_text(encoding="utf-8"))["fit_wall_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return "Fusion.fit (or the loading before it) was still running"
    return f"Fusion.fit took {fit_s:.1f} s, then Fusion.predict was still running"


def _checked_run_name(scratch: Path, run_name: object) -> str:
    reserved = (*RESERVED_FILES, *METADATA_NAMES)
    if not isinstance(run_name, str) or not _RUN_NAME.fullmatch(run_name) or run_name in reserved:
        raise ParticipantError("your fusion code interfered with the ingestion program's report; "
                               "do not write into the ingestion program's folders")
    path = scratch / run_name
    if path.is_symlink() or not path.is_file():
        raise ParticipantError("your fusion code removed or replaced the run the ingestion program wrote; "
                               "do not write into the ingestion program's folders")
    return run_name


def _remove_strays(output_dir: Path, present_before: frozenset[str]) -> list[str]:
    """Remove and return what appeared in the prediction output: only this program writes there."""
    strays = sorted(p.name for p in output_dir.iterdir() if p.name not in present_before)
    for name in strays:
        path = output_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return strays


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def locate_data_root(input_dir: Path) -> Path:
    """The folder holding ``train/`` and ``predict/``: the input itself, or one level down.

    Platforms differ in how they unpack data zips (some move the contents of a single
    top folder up, some keep it), so the program looks rather than assumes.
    """
    for candidate in (input_dir, *sorted(p for p in input_dir.iterdir() if p.is_dir())):
        if (candidate / "train").is_dir() and (candidate / "predict").is_dir():
            return candidate
    raise InternalError(f"the input data {input_dir} has no train/ and predict/ folders; the bundle is broken")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _read_result(result_path: Path, returncode: int, limits: sandbox.ResourceLimits, time_limit_s: float,
                 peak_bytes: int) -> dict:
    try:
        if result_path.stat().st_size <= 64 * 1024:
            result = json.loads(result_path.read_text(encoding="utf-8"))
            if isinstance(result, dict):
                return result
    except (OSError, ValueError, RecursionError):
        pass
    if returncode < 0:
        name = signal.Signals(-returncode).name
        reasons = {
            "SIGXCPU": f" (it used more than {limits.cpu_limit_s(time_limit_s)} s of CPU time, the CPU-time limit: "
                       f"{limits.cpu_cores} cores for the whole time limit; use fewer threads or less work)",
            "SIGXFSZ": f" (it wrote a file larger than the {limits.file_size_mib} MiB file-size limit)",
            # Nothing in the kit sends it: the kernel does when memory runs out, or the code itself did.
            "SIGKILL": f" (by the system when memory runs out, or by the code itself; its peak resident memory "
                       f"was {peak_bytes / sandbox.MIB:.0f} MiB: keep under the {limits.memory_gib:g} GiB "
                       "address-space limit and the machine's memory)",
        }
        return {"error": f"your fusion code was killed by {name}{reasons.get(name, '')}; "
                         "see the prediction log for its output"}
    return {"error": f"your fusion code exited with code {returncode} before finishing; "
                     "do not call sys.exit or os._exit in fusion.py"}


# ---------------------------------------------------------------------------------------
# The child: kit code first, then the participant's, measured between two pipe messages.
# ---------------------------------------------------------------------------------------

_cpu_clock = resource.getrusage  # bound before any participant code can replace it


def _cpu_now() -> float:
    own, children = _cpu_clock(resource.RUSAGE_SELF), _cpu_clock(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child_main(argv: Sequence[str]) -> None:
    """Body of the child process: load, check, fit, predict, check, write the run.

    Arguments: program dir, input dir, submission dir, scratch dir, "REPORT_FD,GO_FD",
    limits (JSON), time limit. Writes the run and a JSON result into the scratch dir, with
    either ``error`` (one participant-facing line) or the run's file name, then leaves
    with ``os._exit`` (no participant ``atexit`` or finaliser runs after the measure).
    """
    program_dir, input_dir, submission_dir, scratch = map(Path, argv[:4])
    (report_fd, go_fd), limits = map(int, argv[4].split(",")), sandbox.ResourceLimits(**json.loads(argv[5]))
    sandbox.apply_limits(limits, float(argv[6]))
    sys.path.insert(1, str(program_dir))  # the task's own helper modules, behind scoring_common
    result: dict
    started = False
    try:
        fusion_io = load_task_module(program_dir)
        X_train = fusion_io.load_inducers(input_dir / "train")
        y_train = fusion_io.load_truth(input_dir / "train")
        X_predict = fusion_io.load_inducers(input_dir / "predict")
        os.write(report_fd, f"loaded {_cpu_now()!r}\n".encode())  # the scan below grows with the submission
        check_no_embedded_ids(submission_dir, _item_ids(fusion_io, X_predict), _item_ids(fusion_io, X_train))
        os.write(report_fd, f"start {_cpu_now()!r}\n".encode())
        if os.read(go_fd, 3) != b"go\n":
            raise InternalError("the ingestion program did not acknowledge the start of the measure")
        started = True
        fusion_class = _load_fusion_class(submission_dir, limits)
        model = _call(fusion_class, "Fusion()", limits)
        print("Fusion.fit running", file=sys.stderr, flush=True)
        fit_started = time.perf_counter()
        _call(model.fit, "Fusion.fit", limits, X_train, y_train)
        fit_wall_s = time.perf_counter() - fit_started
        (scratch / FIT_DONE_FILE).write_text(json.dumps({"fit_wall_s": fit_wall_s}), encoding="utf-8")
        print(f"Fusion.fit took {fit_wall_s:.1f} s; Fusion.predict running", file=sys.stderr, flush=True)
        prediction = _call(model.predict, "Fusion.predict", limits, X_predict)
        try:
            os.write(report_fd, f"end {_cpu_now()!r}\n".encode())
        except OSError:
            raise ParticipantError(
                "your fusion code closed or replaced a file descriptor it did not open (the kit's own, e.g. with "
                "os.closerange), so the end of the measure could not be reported; close only the files your code "
                "opened") from None
        prediction = fusion_io.check_prediction(prediction, X_predict)
        fusion_io.write_run(prediction, X_predict, scratch / fusion_io.RUN_FILE_NAME)
        result = {"run_file": fusion_io.RUN_FILE_NAME}
    except ParticipantError as exc:
        result = {"error": str(exc)}
    except InternalError as exc:  # the organisers' data or loaders, not the participant's code
        result = {"internal_error": str(exc)}
    except MemoryError:
        result = {"error": _memory_message("the kit's data loading", limits)}
    except Exception as exc:  # noqa: BLE001 - the kit failed: on what the code returned, or on its own
        traceback.print_exc()
        what = f"{type(exc).__name__}: {exc}"
        result = ({"error": f"the kit could not check or write what Fusion.predict returned ({what}); "
                            "return the type the task's submission page describes"} if started
                  else {"internal_error": f"the kit failed before running fusion.py ({what})"})
    (scratch / RESULT_FILE).write_text(json.dumps(result), encoding="utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    try:  # alive until the ingestion has read this process's peak memory
        os.write(report_fd, b"done 0\n")
        os.read(go_fd, 4)
    except OSError:
        pass
    os._exit(0)


def _item_ids(fusion_io: ModuleType, X: object) -> list[str]:
    """The ids of the items a run lists: the task's ``item_ids(X)``, else the last level of X's index."""
    if hasattr(fusion_io, "item_ids"):
        return [str(i) for i in fusion_io.item_ids(X)]
    index = getattr(X, "index", None)
    if index is None or type(index).__name__ == "RangeIndex":
        return []
    return [str(i) for i in index.get_level_values(-1).unique()]


def _load_fusion_class(submission_dir: Path, limits: sandbox.ResourceLimits) -> type:
    path = submission_dir / FUSION_FILE
    if not path.is_file():
        raise ParticipantError(f"the code submission has no {FUSION_FILE} at the root of its zip; "
                               "put fusion.py (defining class Fusion) at the top level")
    sys.path.insert(0, str(submission_dir))  # the submission's own helper modules
    spec = importlib.util.spec_from_file_location("fusion", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fusion"] = module  # so that pickle and multiprocessing find its classes
    _call(spec.loader.exec_module, "importing fusion.py", limits, module)
    fusion_class = getattr(module, "Fusion", None)
    if not isinstance(fusion_class, type):
        raise ParticipantError("fusion.py defines no class Fusion; define `class Fusion` with fit(X, y) and predict(X)")
    for method in ("fit", "predict"):
        if not callable(getattr(fusion_class, method, None)):
            raise ParticipantError(f"class Fusion in fusion.py has no {method} method; "
                                   "define fit(self, X, y) and predict(self, X)")
    return fusion_class


def _call(function, what: str, limits: sandbox.ResourceLimits, *args):
    """Call participant code; turn any exception into one line naming where it came from."""
    try:
        return function(*args)
    except ParticipantError:
        raise
    except BaseException as exc:  # noqa: BLE001 - anything the participant's code raises
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()  # to the log, for the participant's own debugging
        where = _innermost_submission_frame(exc)
        if isinstance(exc, MemoryError):
            raise ParticipantError(_memory_message(what, limits) + where) from None
        hint = ""
        if isinstance(exc, OSError) and exc.errno == 27:  # EFBIG
            hint = f" (the file-size limit is {limits.file_size_mib} MiB)"
        raise ParticipantError(f"{what} raised {type(exc).__name__}: {exc}{hint}{where}; "
                               "the full traceback is in the prediction log") from None


def _memory_message(what: str, limits: sandbox.ResourceLimits) -> str:
    return (f"{what} raised MemoryError under the {limits.memory_gib:g} GiB address-space limit; use less memory "
            "(e.g. float32 arrays, fewer copies of X, fewer worker processes)")


def _innermost_submission_frame(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).name == FUSION_FILE]
    return f" (fusion.py line {frames[-1].lineno})" if frames else ""


# ---------------------------------------------------------------------------------------
# The program.
# ---------------------------------------------------------------------------------------

def main(program_file: str, argv: Sequence[str] | None = None) -> int:
    """Entry point of an ingestion program: ``ingest.py INPUT OUTPUT SUBMISSION SECONDS``.

    Exit codes: 0 done, 1 the participant's problem, 2 ours; on 1 and 2 the one-line
    reason is also written to ``OUTPUT/prediction_error.txt`` for the scorer.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 4:
        print("usage: ingest.py INPUT_DIR OUTPUT_DIR SUBMISSION_DIR TIME_LIMIT_SECONDS", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    input_dir, output_dir, submission_dir = (Path(a).resolve() for a in args[:3])
    program_dir = Path(program_file).resolve().parent
    # SIGTERM (a runner's time-out or cancel) unwinds through run_fusion, which kills the child.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        time_limit_s = float(args[3])
        output_dir.mkdir(parents=True, exist_ok=True)
        for name in RESERVED_FILES:
            if (submission_dir / name).exists() or (submission_dir / name).is_symlink():
                raise ParticipantError(f"the submission holds a file named {name}, which is reserved for the "
                                       "ingestion program; remove it from the zip")
        if not is_code_submission(submission_dir):
            copied = pass_through(submission_dir, output_dir)
            print(f"result submission: passed {len(copied)} file(s) through to scoring")
            return 0
        check_metadata(submission_dir)
        timing = run_fusion(program_dir, locate_data_root(input_dir), output_dir, submission_dir, time_limit_s)
    except ParticipantError as exc:
        return _fail(output_dir, "ERROR: ", str(exc), EXIT_PARTICIPANT_ERROR)
    except SystemExit:  # SIGTERM: the runner stopped the step
        _fail(output_dir, "ERROR: ", "the prediction step was stopped from outside (SIGTERM) before your code "
                                     "finished, probably at the phase's time limit; make your code faster", 0)
        raise
    except (InternalError, Exception):  # noqa: BLE001 - ours, not the participant's
        traceback.print_exc()
        return _fail(output_dir, "INTERNAL ERROR: ", "the ingestion program failed for a reason that is not your "
                                 "code's fault; please tell the organisers.", EXIT_INTERNAL_ERROR)
    print(f"fusion code finished: time {timing['time_s']} s (import, fit and predict), CPU {timing['cpu_s']} s, "
          f"peak memory {timing['memory_mib']} MiB; the kit's own start-up and loading took "
          f"{timing['overhead_wall_s']} s; run written to {timing['run_file']}")
    return 0


def _fail(output_dir: Path, prefix: str, reason: str, code: int) -> int:
    """Print the reason; leave it (without the prefix), alone, as ``prediction_error.txt`` (contract C3)."""
    print(prefix + reason, file=sys.stderr)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for name in RESERVED_FILES:
            (output_dir / name).unlink(missing_ok=True)
        (output_dir / ERROR_FILE).write_text(reason + "\n", encoding="utf-8")
    except OSError:
        pass
    return code
