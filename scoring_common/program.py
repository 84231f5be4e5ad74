"""The Codabench program contract shared by every scoring program.

A scoring program is called as ``python3 score.py $input $output``. ``$input/ref``
holds the reference data (with ``split.json``, whether the split is public), ``$input/res``
the prediction output (the participant's run, and for a code submission ``timing.json``
and the worker's ``metadata``; ``prediction_error.txt`` when the prediction step failed).
The program writes ``$output/scores.json`` (atomically: on any failure no scores file
exists), ``$output/per_item_scores.csv`` (after a fully validated run only; sealed as
``per_item_scores.sealed`` on a hidden split) and ``$output/detailed_results.html``.
docs/scoring-output.md describes these files.
"""

from __future__ import annotations

import gc
import json
import math
import os
import stat
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from scoring_common.errors import (
    EXIT_INTERNAL_ERROR,
    EXIT_PARTICIPANT_ERROR,
    InternalError,
    ParticipantError,
    list_ids,
)
from scoring_common.metrics.gain import gain_pct
from scoring_common.per_item import PerItemScores
from scoring_common.seal import reference_key, seal
from scoring_common.report import Report, Table

SCORES_FILE = "scores.json"
DETAILS_FILE = "detailed_results.html"
PER_ITEM_FILE = "per_item_scores.csv"
#: The per-item scores of a hidden split, readable with its reference data only (scoring_common.seal).
SEALED_PER_ITEM_FILE = "per_item_scores.sealed"
TIMING_FILE = "timing.json"
BASELINE_FILE = "baseline.json"
#: Reference data file saying which split it is and whether participants may see it.
SPLIT_FILE = "split.json"
#: The ingestion program's one-line reason, in the prediction output, when it failed.
PREDICTION_ERROR_FILE = "prediction_error.txt"
#: Files of the prediction output that are never the run.
NOT_RUN_FILES = frozenset({"metadata", "metadata.yaml", TIMING_FILE, PREDICTION_ERROR_FILE})
#: Most bytes of prediction_error.txt read (the reason is one line).
MAX_REASON_BYTES = 4096
#: Said in the detailed results of a hidden split, in place of the per-item breakdown.
HIDDEN_SPLIT_NOTE = ("The ground truth of this split is hidden until the end of the campaign: these detailed "
                     "results show your run's aggregate scores only, with no per-item breakdown.")
#: Decimals kept in scores.json, so that the same run scores byte-identically everywhere.
SCORE_DECIMALS = 10


@dataclass
class Evaluation:
    """What a task's evaluation returns for one run.

    Attributes
    ----------
    scores : dict
        The task's metric values, keyed by leaderboard column key.
    primary : str
        Key of the primary metric, the one the gain over the best inducer uses.
    tables : list of Table
        Aggregates for the detailed results (means at other cutoffs...), shown on every split.
    item_tables : list of Table
        Breakdowns (per video, per query, per class, distributions over images), shown
        only on a public split: on a hidden one they would reveal its ground truth.
    per_item : PerItemScores, optional
        The per-item values behind the scores, written to ``per_item_scores.csv``.
    """

    scores: dict[str, float]
    primary: str
    tables: list[Table] = field(default_factory=list)
    item_tables: list[Table] = field(default_factory=list)
    per_item: PerItemScores | None = None


Evaluate = Callable[[Path, Path], Evaluation]


@dataclass(frozen=True)
class TaskScoring:
    """How one task scores a run: its title, accepted run files and evaluation."""

    title: str
    run_suffixes: Sequence[str]
    evaluate: Evaluate


def find_run(res_dir: Path, run_suffixes: Sequence[str], timing: dict | None = None) -> Path:
    """Locate the participant's run in the prediction output.

    The file ``timing`` (the checked ``timing.json``) names, if given; otherwise the
    single data file left after ignoring ``metadata``, ``metadata.yaml``, ``timing.json``,
    hidden files, ``__MACOSX/`` and Python sources (searched in sub-folders too).
    """
    if timing is not None:
        return res_dir / timing["run_file"]
    candidates = sorted(
        path
        for path in res_dir.rglob("*")
        if path.is_file() and not _ignored(path.relative_to(res_dir))
    )
    suffixes = " or ".join(run_suffixes)
    if not candidates:
        raise ParticipantError(
            f"the submission holds no run file; a result zip holds one {suffixes} run file at its root, "
            "a code zip holds fusion.py defining class Fusion"
        )
    runs = [path for path in candidates if path.suffix.lower() in run_suffixes]
    names = [str(path.relative_to(res_dir)) for path in candidates]
    if len(runs) == 1:
        return runs[0]
    archives = [name for name in names if name.lower().endswith(".zip")]
    if not runs and archives:
        raise ParticipantError(
            f"the submission holds a zip inside the zip ({list_ids(archives)}); "
            "zip the run file itself, not an archive of it"
        )
    if not runs:
        raise ParticipantError(
            f"the submission holds no {suffixes} run file (found {list_ids(names)}); "
            f"name the run with one of these extensions"
        )
    raise ParticipantError(
        f"the submission holds {len(runs)} possible run files ({list_ids([str(r.relative_to(res_dir)) for r in runs])}); "
        "submit a zip with exactly one run file"
    )


def _ignored(relative: Path) -> bool:
    parts = relative.parts
    if any(part.startswith(".") or part == "__MACOSX" or part == "__pycache__" for part in parts):
        return True
    return relative.name in NOT_RUN_FILES or relative.suffix in (".py", ".pyc")


#: The score keys of the cost of a code submission, from ``timing.json`` (contract C4).
COST_KEYS = ("time_s", "cpu_s", "memory_mib")
#: Largest ``timing.json`` read, bytes, and deepest nesting of brackets in it.
MAX_TIMING_BYTES = 16 * 1024
MAX_TIMING_DEPTH = 4


def read_timing(res_dir: Path) -> dict | None:
    """Return the ingestion program's measurement of the participant's code, if any.

    ``timing.json`` sits among files the participant controls (a result zip is copied
    into the prediction output), so it is checked before it is believed: at most
    :data:`MAX_TIMING_BYTES` and :data:`MAX_TIMING_DEPTH` levels of nesting (checked
    before parsing), a JSON object whose ``run_file`` names a file of the prediction
    output itself and whose :data:`COST_KEYS` are finite non-negative numbers, with
    ``time_s`` no more than the platform's own elapsed time of the prediction step
    (``ingestionElapsedTime`` in the worker's ``metadata``) when that is known. Anything
    else is a :class:`ParticipantError`.
    """
    path = res_dir / TIMING_FILE
    if not path.exists() and not path.is_symlink():
        return None
    timing = None
    if not path.is_symlink() and path.is_file() and path.stat().st_size <= MAX_TIMING_BYTES:
        text = path.read_bytes().decode("utf-8", errors="replace")
        if _bracket_depth(text) <= MAX_TIMING_DEPTH:
            try:
                timing = json.loads(text)
            except ValueError:
                timing = None
    problem = _timing_problem(res_dir, timing)
    if problem:
        raise ParticipantError(
            f"{TIMING_FILE} in the prediction output is not the ingestion program's measurement ({problem}); "
            f"{TIMING_FILE} is reserved for it: remove {TIMING_FILE} from your submission"
        )
    return timing


def cost_scores(timing: dict) -> dict[str, float]:
    """The cost columns of a code submission (:data:`COST_KEYS`) from its checked timing."""
    return {key: round(float(timing[key]), 3) for key in COST_KEYS}


def _bracket_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` in ``text`` (brackets inside strings count too: an upper bound)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _timing_problem(res_dir: Path, timing: object) -> str | None:
    if not isinstance(timing, dict):
        return "not a small JSON object"
    run_file = timing.get("run_file")
    if not isinstance(run_file, str) or run_file != Path(run_file).name or run_file.startswith(".") or "\\" in run_file:
        return "run_file must be the plain name of a file beside it"
    run = res_dir / run_file
    if run.is_symlink() or not run.is_file():
        return "the run_file it names is not in the prediction output"
    for key in COST_KEYS:
        value = timing.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            return f"{key} must be a non-negative number"
    elapsed = _platform_elapsed_s(res_dir)
    if elapsed is not None and timing["time_s"] > elapsed:
        return f"time_s {timing['time_s']:g} s is more than the {elapsed:g} s the platform measured for the whole step"
    return None


def _platform_elapsed_s(res_dir: Path) -> float | None:
    """``ingestionElapsedTime`` of the worker's ``metadata`` (YAML, one ``key: value`` a line), if given."""
    path = res_dir / "metadata"
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_TIMING_BYTES:
        return None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "ingestionElapsedTime":
            try:
                elapsed = float(value.strip())
            except ValueError:
                return None
            return elapsed if math.isfinite(elapsed) and elapsed >= 0 else None
    return None


def read_baseline(ref_dir: Path) -> dict | None:
    """Return the best inducer's scores stored with the reference data, if any."""
    path = ref_dir / BASELINE_FILE
    if not path.is_file():
        return None
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
        float(baseline["scores"][baseline["primary_metric"]])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InternalError(f"reference {BASELINE_FILE} is malformed: {exc!r}") from exc
    return baseline


def split_is_public(ref_dir: Path) -> bool:
    """Whether participants may see per-item figures of this split (``split.json``'s ``public``).

    A split without ``split.json`` is hidden: only the run's aggregate scores are shown.
    """
    path = ref_dir / SPLIT_FILE
    if not path.is_file():
        return False
    try:
        public = json.loads(path.read_text(encoding="utf-8"))["public"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InternalError(f"reference {SPLIT_FILE} is malformed: {exc!r}") from exc
    if not isinstance(public, bool):
        raise InternalError(f"reference {SPLIT_FILE}: public must be true or false, got {public!r}")
    return public


def prediction_error(res_dir: Path) -> str | None:
    """The ingestion program's reason for a failed prediction step (``prediction_error.txt``), if any.

    Only a regular file is read (a link is refused with the others by :func:`refuse_links`),
    and only its first non-blank line, cut to :data:`MAX_REASON_BYTES`.
    """
    path = res_dir / PREDICTION_ERROR_FILE
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        with open(path, "rb") as file:
            raw = file.read(MAX_REASON_BYTES)
    except OSError:
        return None
    lines = [line.strip() for line in raw.decode("utf-8", errors="replace").splitlines() if line.strip()]
    reason = lines[0].removeprefix("ERROR:").strip() if lines else ""
    if not reason:
        return ("the prediction step failed without giving a reason, so there is no run to score; "
                "read the prediction (ingestion) log of this submission")
    return f"the prediction step failed, so there is no run to score: {reason}"


def refuse_links(res_dir: Path) -> None:
    """Raise unless every entry of the prediction output is a regular file or a folder.

    A symbolic link (to the reference data, say), a FIFO or a device is never read,
    whatever names it: the check runs before anything of the prediction output is read.
    """
    for folder, subfolders, files in os.walk(res_dir):
        for name in sorted(subfolders + files):
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
                raise ParticipantError(
                    f"the prediction output holds {path.relative_to(res_dir).as_posix()!r}, which is {kind}; "
                    "submit regular files only (no links)")


def prediction_failure(res_dir: Path) -> str | None:
    """Explain a failed prediction step, from the worker's ``metadata`` file, if it failed."""
    path = res_dir / "metadata"
    if path.is_symlink() or not path.is_file():
        return None
    exit_code = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("exitCode", "ingestionExitCode") and value.strip() not in ("", "null", "None"):
            try:
                exit_code = int(float(value.strip()))
            except ValueError:
                continue
            if exit_code != 0:
                return (
                    f"the prediction step failed (exit code {exit_code}), so there is no run to score; "
                    "read the prediction (ingestion) log of this submission for the reason"
                )
    return None


def score_submission(task: TaskScoring, input_dir: Path, output_dir: Path) -> dict[str, float]:
    """Score the run in ``input_dir/res`` against ``input_dir/ref`` and write the outputs.

    Returns the scores written to ``scores.json``. Raises :class:`ParticipantError`
    or :class:`InternalError`; in both cases no scores file is left behind.
    """
    ref_dir, res_dir = input_dir / "ref", input_dir / "res"
    if not ref_dir.is_dir():
        raise InternalError(f"reference data folder {ref_dir} is missing")
    public = split_is_public(ref_dir)
    for failure in (prediction_error(res_dir), prediction_failure(res_dir)):
        if failure is not None:
            raise ParticipantError(failure)
    if not res_dir.is_dir():
        raise ParticipantError("the prediction output is missing; the submission produced no run")
    refuse_links(res_dir)
    timing = read_timing(res_dir)
    run = find_run(res_dir, task.run_suffixes, timing)
    evaluation = task.evaluate(ref_dir, run)
    scores = dict(evaluation.scores)
    baseline = read_baseline(ref_dir)
    notes = [f"Run file: {run.relative_to(res_dir)}"]
    if baseline is not None:
        best = float(baseline["scores"][baseline["primary_metric"]])
        scores["gain_pct"] = gain_pct(scores[evaluation.primary], best)
        if public:
            notes.append(f"Best single inducer on this split: {baseline['best_inducer']}.")
    if timing is not None:
        scores.update(cost_scores(timing))
    if not public:
        notes.append(HIDDEN_SPLIT_NOTE)

    for key, value in scores.items():
        if not math.isfinite(value):
            raise InternalError(f"metric {key} is not finite ({value}) for a validated run")
    if evaluation.per_item is not None:
        evaluation.per_item.check_means(evaluation.scores)
    report = Report(title=task.title, notes=notes)
    report.tables.append(_summary_table(scores, baseline if public else None))
    if timing is not None:
        report.tables.append(_timing_table(timing))
    report.tables.extend(evaluation.tables)
    if public:
        report.tables.extend(evaluation.item_tables)
    _write_atomic(output_dir / DETAILS_FILE, report.render())
    if evaluation.per_item is not None and public:
        _write_atomic(output_dir / PER_ITEM_FILE, evaluation.per_item.render())
    elif evaluation.per_item is not None:
        _write_atomic(output_dir / SEALED_PER_ITEM_FILE, seal(evaluation.per_item.render(), reference_key(ref_dir)))
    rounded = {key: round(float(value), SCORE_DECIMALS) for key, value in sorted(scores.items())}
    _write_atomic(output_dir / SCORES_FILE, json.dumps(rounded, indent=2, sort_keys=True) + "\n")
    return rounded


def _summary_table(scores: dict[str, float], baseline: dict | None) -> Table:
    """Every score, with the best inducer's beside it when given (public splits only)."""
    if baseline is None:
        return Table("Scores", ["metric", "submission"], [[key, value] for key, value in scores.items()])
    rows = [[key, value, baseline["scores"].get(key)] for key, value in scores.items()]
    return Table("Scores", ["metric", "submission", "best inducer"], rows)


def _timing_table(timing: dict) -> Table:
    rows = [
        ["time_s: import, Fusion(), fit and predict, wall (s)", timing.get("time_s")],
        ["cpu_s: the same, CPU user + system, all processes (s)", timing.get("cpu_s")],
        ["memory_mib: peak resident memory of the process tree (MiB)", timing.get("memory_mib")],
        ["not counted: interpreter start, the kit's loading and run writing (s)", timing.get("overhead_wall_s")],
        ["time limit (s)", timing.get("time_limit_s")],
    ]
    return Table("Execution of the fusion code", ["measure", "value"], rows,
                 note="Measured by the ingestion program on the process tree that runs the participant's code; "
                      "the time runs from just before fusion.py is imported to the return of Fusion.predict.")


def _without_cyclic_gc(function: Callable[..., dict], *args: object) -> dict:
    """Call ``function`` with the cyclic garbage collector paused.

    Scoring parses millions of small objects that form no cycles; the collector would only
    walk them again and again (a fifth of the time at 100x the real size).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return function(*args)
    finally:
        if enabled:
            gc.enable()


def _remove(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(task: TaskScoring, argv: Sequence[str] | None = None) -> int:
    """Entry point of a scoring program: ``score.py INPUT_DIR OUTPUT_DIR``.

    Exit codes: 0 scored, 1 participant error (one line on stderr), 2 internal fault.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: score.py INPUT_DIR OUTPUT_DIR (INPUT_DIR holds ref/ and res/)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    input_dir, output_dir = Path(args[0]), Path(args[1])
    output_dir.mkdir(parents=True, exist_ok=True)
    outputs = (output_dir / SCORES_FILE, output_dir / PER_ITEM_FILE, output_dir / SEALED_PER_ITEM_FILE)
    _remove(outputs)
    try:
        scores = _without_cyclic_gc(score_submission, task, input_dir, output_dir)
    except ParticipantError as exc:
        _remove(outputs)
        message = f"ERROR: {exc}"
        print(message, file=sys.stderr)
        _write_atomic(output_dir / DETAILS_FILE, Report(title=task.title, error=message).render())
        return EXIT_PARTICIPANT_ERROR
    except Exception:  # noqa: BLE001 - every other failure is ours, not the participant's
        _remove(outputs)
        traceback.print_exc()
        print(
            "INTERNAL ERROR: the scoring program failed for a reason that is not your submission's fault; "
            "the organisers have been given the details above, please tell them too.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR
    for key, value in scores.items():
        print(f"{key}: {value}")
    return 0

