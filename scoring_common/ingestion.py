"""Running a participant's fusion code: the shared part of every ingestion program.

An ingestion program is called as ``python3 ingest.py $input $output
$submission_program SECONDS``. ``$input`` holds ``train/`` (the dev split's inducers and
ground truth) and ``predict/`` (the inducers of the split being scored). The
participant's ``fusion.py`` defines ``class Fusion`` with ``fit(X, y)`` and
``predict(X)``; it runs in a child process under its own time limit (the platform's
alarm is not reliable), measured for wall time, CPU time and peak memory. The run and
``timing.json`` go to ``$output``. A result-only submission is passed through untouched.

Each task provides a ``fusion_io`` module beside its ``ingest.py`` with
``load_inducers(dir)``, ``load_truth(dir)``, ``check_prediction(prediction, X)``,
``write_run(prediction, X, path)`` and ``RUN_FILE_NAME``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Sequence

from scoring_common.errors import EXIT_INTERNAL_ERROR, EXIT_PARTICIPANT_ERROR, InternalError, ParticipantError

FUSION_FILE = "fusion.py"
TIMING_FILE = "timing.json"
#: The child's report to the parent, in the scratch folder.
RESULT_FILE = "result.json"
#: The child's note, in the scratch folder, that fit has finished (its wall seconds), read on a time-out.
FIT_DONE_FILE = "fit_done.json"
#: Files of a submission that are never copied as results.
SUBMISSION_METADATA = ("metadata", "metadata.yaml")
#: The only command a code submission's metadata may give. The platform runs that command
#: in a container of its own before this program, unmeasured, so any real work there
#: would escape the time limit and the execution-time column.
NO_OP_COMMANDS = ("python3 -c pass", "python -c pass")
#: The `metadata` of a code submission: its presence marks the zip as code for the platform,
#: and its command must exist (a metadata without one fails there) and do nothing.
CODE_SUBMISSION_METADATA = (
    f"command: {NO_OP_COMMANDS[0]}\n"
    "description: code submission; the ingestion program imports fusion.py and runs Fusion.fit and Fusion.predict\n"
)


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


def check_submission_command(submission_dir: Path) -> None:
    """Refuse a code submission whose metadata runs a command of its own (see NO_OP_COMMANDS)."""
    for name in SUBMISSION_METADATA:
        path = submission_dir / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            command = " ".join(value.strip().strip("'\"").split())
            if key.strip() == "command" and command not in NO_OP_COMMANDS:
                raise ParticipantError(
                    f"the submission's {name} runs its own command ({command[:60]!r}), which the platform runs "
                    f"unmeasured before this program; use `command: {NO_OP_COMMANDS[0]}` and put the work in "
                    "fusion.py (the starting kit's make_submission.py --code writes this metadata)"
                )


def run_fusion(program_dir: Path, input_dir: Path, output_dir: Path, submission_dir: Path,
               time_limit_s: float) -> dict:
    """Run ``fusion.py`` of the submission in a child process and write run and timing.

    Returns the timing record written to ``timing.json``. Raises
    :class:`ParticipantError` when the code fails, returns something invalid or runs
    out of time.
    """
    with tempfile.TemporaryDirectory(prefix="fusion-") as scratch_name:
        scratch = Path(scratch_name)
        command = [sys.executable, "-c", "from scoring_common.ingestion import child_main; child_main()",
                   str(input_dir), str(submission_dir), str(scratch)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(_import_roots(program_dir)), PYTHONUNBUFFERED="1")
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=submission_dir, env=env, start_new_session=True)
        try:
            waited = _wait_measured(process, time_limit_s)
        finally:  # on a time-out, a crash or SIGTERM: nothing of the participant's outlives us
            _kill_group(process.pid)
            if process.returncode is None:
                process.wait()
        if waited is None:
            raise ParticipantError(
                f"your fusion code did not finish within its time limit of {time_limit_s:g} s "
                f"(loading, fit and predict together): {_how_far(scratch / FIT_DONE_FILE)}; "
                "make it faster or use fewer inducers"
            )
        returncode, usage = waited
        wall_s = time.perf_counter() - started
        result = _read_result(scratch / RESULT_FILE, returncode)
        if result.get("internal_error"):
            raise InternalError(result["internal_error"])
        if result.get("error"):
            raise ParticipantError(result["error"])
        run_name = result["run_file"]
        shutil.move(scratch / run_name, output_dir / run_name)
    timing = {
        "run_file": run_name,
        "wall_s": round(wall_s, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_memory_mib": round(usage.ru_maxrss / 1024.0, 1),
        "fit_predict_wall_s": round(float(result["fit_predict_wall_s"]), 3),
        "time_limit_s": time_limit_s,
    }
    (output_dir / TIMING_FILE).write_text(json.dumps(timing, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return timing


def _how_far(fit_done: Path) -> str:
    """Which of fit and predict the time limit interrupted, with the measured time of fit."""
    try:
        fit_s = float(json.loads(fit_done.read_text(encoding="utf-8"))["fit_wall_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return "Fusion.fit (or the loading before it) was still running"
    return f"Fusion.fit took {fit_s:.1f} s, then Fusion.predict was still running"


def locate_data_root(input_dir: Path) -> Path:
    """The folder holding ``train/`` and ``predict/``: the input itself, or one level down.

    Platforms differ in how they unpack data zips (some move the contents of a single
    top folder up, some keep it), so the program looks rather than assumes.
    """
    for candidate in (input_dir, *sorted(p for p in input_dir.iterdir() if p.is_dir())):
        if (candidate / "train").is_dir() and (candidate / "predict").is_dir():
            return candidate
    raise InternalError(f"the input data {input_dir} has no train/ and predict/ folders; the bundle is broken")


def _import_roots(program_dir: Path) -> list[str]:
    """Folders the child needs on its path: the program and where scoring_common lives."""
    package_root = str(Path(__file__).resolve().parent.parent)
    return list(dict.fromkeys([str(program_dir), package_root]))


def _wait_measured(process: subprocess.Popen, time_limit_s: float) -> tuple[int, resource.struct_rusage] | None:
    """Wait for the child and return its exit code and its own resource usage.

    ``os.wait4`` gives the usage of this child (and its descendants) alone, unlike
    ``RUSAGE_CHILDREN``, which accumulates over every child the process ever had.
    Returns None, after killing the child's process group, when the time limit passes.
    """
    deadline = time.monotonic() + time_limit_s
    delay = 0.005
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage
        if time.monotonic() >= deadline:
            _kill_group(process.pid)
            os.wait4(process.pid, 0)
            process.returncode = -signal.SIGKILL
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _read_result(result_path: Path, returncode: int) -> dict:
    try:
        return json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (likely out of memory)" if name == "SIGKILL" else ""
        return {"error": f"your fusion code was killed by {name}{hint}; see the log above for its output"}
    return {"error": f"your fusion code exited with code {returncode} before finishing; "
                     "do not call sys.exit or os._exit in fusion.py"}


def child_main() -> None:
    """Body of the child process: load, fit, predict, check, write the run.

    Arguments: input dir, submission dir, scratch dir. Writes the run and a JSON result
    into the scratch dir, with either ``error`` (one participant-facing line) or the
    run's file name and the fit+predict wall time.
    """
    input_dir, submission_dir, scratch = map(Path, sys.argv[1:4])
    sys.path.insert(0, str(submission_dir))
    result: dict
    try:
        import fusion_io  # noqa: PLC0415 - the task's own module, beside ingest.py

        fusion_class = _load_fusion_class(submission_dir)
        X_train = fusion_io.load_inducers(input_dir / "train")
        y_train = fusion_io.load_truth(input_dir / "train")
        X_predict = fusion_io.load_inducers(input_dir / "predict")
        started = time.perf_counter()
        model = _call(fusion_class, "Fusion()")
        print("Fusion.fit running", file=sys.stderr, flush=True)
        _call(model.fit, "Fusion.fit", X_train, y_train)
        fit_wall_s = time.perf_counter() - started
        (scratch / FIT_DONE_FILE).write_text(json.dumps({"fit_wall_s": fit_wall_s}), encoding="utf-8")
        print(f"Fusion.fit took {fit_wall_s:.1f} s; Fusion.predict running", file=sys.stderr, flush=True)
        prediction = _call(model.predict, "Fusion.predict", X_predict)
        fit_predict_wall_s = time.perf_counter() - started
        prediction = fusion_io.check_prediction(prediction, X_predict)
        fusion_io.write_run(prediction, X_predict, scratch / fusion_io.RUN_FILE_NAME)
        result = {"run_file": fusion_io.RUN_FILE_NAME, "fit_predict_wall_s": fit_predict_wall_s}
    except ParticipantError as exc:
        result = {"error": str(exc)}
    except InternalError as exc:  # the organisers' data or loaders, not the participant's code
        result = {"internal_error": str(exc)}
    (scratch / RESULT_FILE).write_text(json.dumps(result), encoding="utf-8")


def _load_fusion_class(submission_dir: Path) -> type:
    if not (submission_dir / FUSION_FILE).is_file():
        raise ParticipantError(f"the code submission has no {FUSION_FILE} at the root of its zip; "
                               "put fusion.py (defining class Fusion) at the top level")
    module = _call(__import__, "importing fusion.py", "fusion")
    fusion_class = getattr(module, "Fusion", None)
    if not isinstance(fusion_class, type):
        raise ParticipantError("fusion.py defines no class Fusion; define `class Fusion` with fit(X, y) and predict(X)")
    for method in ("fit", "predict"):
        if not callable(getattr(fusion_class, method, None)):
            raise ParticipantError(f"class Fusion in fusion.py has no {method} method; "
                                   "define fit(self, X, y) and predict(self, X)")
    return fusion_class


def _call(function, what: str, *args):
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
        raise ParticipantError(f"{what} raised {type(exc).__name__}: {exc}{where}; "
                               "the full traceback is in the prediction log") from None


def _innermost_submission_frame(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).name == FUSION_FILE]
    return f" (fusion.py line {frames[-1].lineno})" if frames else ""


def main(program_file: str, argv: Sequence[str] | None = None) -> int:
    """Entry point of an ingestion program: ``ingest.py INPUT OUTPUT SUBMISSION SECONDS``."""
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
        if (submission_dir / TIMING_FILE).exists():
            raise ParticipantError(f"the submission holds a file named {TIMING_FILE}, which is reserved for the "
                                   "ingestion program's measurement of code submissions; remove it from the zip")
        if not (submission_dir / FUSION_FILE).is_file() and not (submission_dir / "metadata").is_file():
            copied = pass_through(submission_dir, output_dir)
            print(f"result submission: passed {len(copied)} file(s) through to scoring")
            return 0
        check_submission_command(submission_dir)
        timing = run_fusion(program_dir, locate_data_root(input_dir), output_dir, submission_dir, time_limit_s)
    except ParticipantError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_PARTICIPANT_ERROR
    except (InternalError, Exception):  # noqa: BLE001 - ours, not the participant's
        traceback.print_exc()
        print("INTERNAL ERROR: the ingestion program failed for a reason that is not your code's fault; "
              "please tell the organisers.", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    print(f"fusion code finished: wall {timing['wall_s']} s, CPU {timing['cpu_s']} s, "
          f"peak memory {timing['peak_memory_mib']} MiB; run written to {timing['run_file']}")
    return 0
