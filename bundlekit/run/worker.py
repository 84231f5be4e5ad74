"""The compute worker's run of one submission: the prediction step, then the scoring step."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bundlekit import scheduling
from bundlekit.bundle_model import Phase, Task
from bundlekit.run.bundle import Bundle
from bundlekit.run.commands import command_argv, read_metadata
from bundlekit.run.docker_engine import DockerEngine
from bundlekit.run.engine import Mount, Outcome, make_dir
from bundlekit.run.local_engine import LocalEngine
from bundlekit.run.logs import last_messages
from bundlekit.run.result import RunResult, StepFailure, result_to_json
from bundlekit.run.scores import check_score_keys, leaderboard_row, read_output_file, read_scores
from bundlekit.unpack import ArchiveError, inspect_submission, safe_extract
from scoring_common.check_submission import COST_KEYS, ERROR_PREFIX, killing_signal, signal_name

#: Longest reason taken from a program's stderr.
REASON_MAX_CHARS = 300
#: The platform's message when a step overruns its time limit.
TIME_LIMIT_MESSAGE = "Execution Time Limit exceeded"
#: What a finished run of a check-only phase (participant kit, test split) means.
CHECK_ONLY_NOTE = ("valid: checked against the test ids of the public data; the score is computed by the platform "
                   "(the test ground truth is hidden)")
#: Everything a run writes in its folder (a run refuses a folder that holds any, unless forced).
RUN_DIR_ENTRIES = (
    "submission", "programs", "work", "prediction", "scoring", "result.json",
    *(f"{step}.{stream}.log" for step in ("prediction", "prediction.submission", "scoring")
      for stream in ("stdout", "stderr")),
)


def _stage_program(source: Path, dest: Path) -> Path:
    """Copy a program without permission bits, as the platform's unzip loses them."""
    shutil.copytree(source, dest, copy_function=shutil.copyfile, dirs_exist_ok=True)
    return make_dir(dest)


def _metadata_failure(step: str) -> StepFailure:
    return StepFailure(
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
                raise StepFailure(
                    f"the {step} step left {kind} '{where}' in /app/output: bundlekit refuses it (the "
                    "platform's worker would follow it on its own disk); write regular files only"
                )


def write_worker_metadata(output_dir: Path, step: str, outcomes: dict[str, Outcome]) -> None:
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


@dataclass
class Settings:
    """The options every run of one ``run`` shares (checked by :func:`bundlekit.run.session.make_settings`)."""

    use_docker: bool
    time_limit: float | None
    memory: str
    pids: int
    network: bool
    image: str | None
    keep: bool


class SubmissionRun:
    """The two steps of one submission on one task, in ``run_dir``."""

    def __init__(
        self, bundle: Bundle, phase: Phase, task: Task, submission: Path, run_dir: Path,
        settings: Settings, cancel: threading.Event,
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
        #: Programs that ended during the timed step: released once it is over (see _release_ended).
        self._ended: list = []
        self._timing = False

    def run(self) -> RunResult:
        make_dir(self.run_dir)
        try:
            for name in RUN_DIR_ENTRIES:  # what a previous run in the same folder left
                stale = self.run_dir / name
                if stale.is_dir() and not stale.is_symlink():
                    shutil.rmtree(stale)
                elif stale.exists() or stale.is_symlink():
                    stale.unlink()
            self._run()
            self.result.status = "finished"
        except StepFailure as failure:
            self.result.reason = str(failure)
        except Exception as error:  # an engine or file-system fault must not stop the other runs
            self.result.reason = f"the run could not be carried out: {type(error).__name__}: {' '.join(str(error).split())}"
        finally:
            self._timing = False
            self._release_ended()
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
            raise StepFailure(
                f"task {self.task.index} sets ingestion_only_during_scoring, which deadlocks on the "
                "platform (its containers do not run concurrently): set it to false"
            )
        try:
            info = inspect_submission(self.submission)
            self.result.warnings.extend(info.warnings)
            submission_dir = make_dir(self.run_dir / "submission")
            safe_extract(self.submission, submission_dir)
        except ArchiveError as error:
            raise StepFailure(str(error)) from None
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
    ) -> Outcome:
        if self.cancel.is_set():
            raise StepFailure("interrupted")
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
            self._ended.append(program)
            if not self._timing:
                self._release_ended()
        if self.cancel.is_set():
            raise StepFailure("interrupted")
        return outcome

    def _check_limits(self, step: str, outcomes: dict[str, Outcome], log_prefix: str) -> None:
        if any(outcome.out_of_memory for outcome in outcomes.values()):
            raise StepFailure(
                f"out of memory: the {step} step went over the memory limit of {self.settings.memory} (--memory) "
                f"and was killed; use less memory (float32, fewer copies of X), see {log_prefix}.stderr.log"
            )
        if any(outcome.timed_out for outcome in outcomes.values()):
            raise StepFailure(
                f"{TIME_LIMIT_MESSAGE}. Limit was {self.limit:g} seconds ({step} step): it was still running "
                f"{self._progress_of(log_prefix)}; make fit and predict faster (or raise --time-limit to measure it)"
            )

    def _progress_of(self, log_prefix: str) -> str:
        """How far a killed step got, from its last line on stderr or stdout."""
        lines = last_messages(self.run_dir / f"{log_prefix}.stderr.log") or last_messages(self.run_dir / f"{log_prefix}.stdout.log")
        return f"(its last message: {lines[-1][:REASON_MAX_CHARS]!r})" if lines else "(it printed nothing)"

    def _predict(self, submission_dir: Path) -> Path:
        """The prediction step; a code submission's (timed) waits for its turn and its CPU (see scheduling)."""
        metadata_name, command = read_metadata(submission_dir)
        if command is None:
            return self._predict_step(submission_dir, metadata_name, command, scheduling.untimed_cpus())
        with scheduling.TIMED_STEPS:
            self._timing = True
            try:
                return self._predict_step(submission_dir, metadata_name, command, scheduling.timed_cpus())
            finally:
                self._timing = False
                self._release_ended()

    def _release_ended(self) -> None:
        """Release the ended programs (their containers go in the background).

        During a timed step this waits for its end, so that no container teardown competes
        with the timed program (nothing of an ended program runs any more: see ``run``).
        """
        ended, self._ended = self._ended, []
        for program in ended:
            program.close()

    def _predict_step(self, submission_dir: Path, metadata_name: str | None, command: str | None,
                      cpus: set[int] | None) -> Path:
        output = self.run_dir / "prediction" / "output"
        for log in ("prediction.stdout.log", "prediction.stderr.log"):
            (self.run_dir / log).touch()
        deadline = time.monotonic() + self.limit
        submission_mounts, ingestion_mounts = self._prediction_mounts(submission_dir)
        outcomes: dict[str, Outcome] = {}
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
        write_worker_metadata(output, "prediction", outcomes)
        self._read_timing(output)
        return output

    def _program_argv(self, program_dir: Path, what: str, kind: Literal["ingestion", "program"], is_scoring: bool) -> list[str]:
        metadata_name, command = read_metadata(program_dir)
        if metadata_name is None:
            raise StepFailure(
                f"{what}: no metadata.yaml or metadata at its root (platform: \"Program directory "
                "missing 'metadata.yaml/metadata'\"); zip the program's files, not their folder"
            )
        if not command:
            raise StepFailure(f"{what}: {metadata_name} has no 'command' (platform: \"Program directory missing 'command' in metadata\")")
        return command_argv(command, f"{what} {metadata_name}", kind, is_scoring)

    def _read_timing(self, prediction_output: Path) -> None:
        try:  # the figures are informative: a broken file is the scorer's to report
            timing = json.loads(read_output_file(prediction_output / "timing.json") or b"null")
        except (StepFailure, ValueError, RecursionError):
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
            messages = last_messages(self.run_dir / "scoring.stderr.log")
            detail = messages[-1][:REASON_MAX_CHARS] if messages else "nothing on stderr, see scoring.stdout.log"
            raise StepFailure(
                self._prediction_error() or f"the scoring program exited with code {outcome.exit_code}: {detail}"
            )
        _check_output(output, "scoring")
        self.result.detailed_results = self._detailed_results(output)
        scores = read_scores(output)
        write_worker_metadata(output, "scoring", {"program": outcome})
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
        output = make_dir(self.run_dir / "prediction" / "output")
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
            "/app/output": Mount(make_dir(self.run_dir / "scoring" / "output"), False),
            "/app/shared": Mount(make_dir(self.run_dir / "scoring" / "shared"), False),
            "/app/input/res": Mount(make_dir(self.run_dir / "prediction" / "output"), False),
        }
        if self.task.reference_data:
            mounts["/app/input/ref"] = Mount(self.bundle.materialize(self.task.reference_data), True)
        return mounts

    def _prediction_error(self) -> str | None:
        """The ingestion program's own reason when the prediction step failed (its last ERROR line)."""
        if self.result.prediction_exit_code in (0, None):
            return None
        errors = [line for line in last_messages(self.run_dir / "prediction.stderr.log") if line.startswith(ERROR_PREFIX)]
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
