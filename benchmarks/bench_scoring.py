"""Benchmark of the four scoring programs, against the reference implementations where one exists.

For each task and scale the task's own generator writes its stand-in data at that many
times the real size (one inducer; see :func:`generate`), then the script times, as the
median of ``--repeat`` runs:

- our process: ``python score.py INPUT OUTPUT`` as a subprocess, wall time, everything
  included (interpreter start, imports, reading, scoring, scores.json and the HTML report),
  and its peak resident memory;
- ``evaluate()``: the task's ``evaluate(ref_dir, run_path)`` called in a fresh child
  process, timed inside it (the reading and scoring part of the above);
- the reference implementation, in this process (its imports not timed): pytrec_eval for
  fusion-int, the per-image scikit-learn loop of the old ImageCLEF concept-detection
  evaluator for fusion-cap; fusion-div and fusion-mem have none.

The table goes to stdout, progress to stderr. Usage::

    python benchmarks/bench_scoring.py [--repeat N] [--scales 1,10,100] [--tasks int,div,cap,mem] [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bundlekit.build import load_module, module_name

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tasks' modules import scoring_common from the source tree
SEED = 2024
#: A reference loop stops once it has run this long and its time is extrapolated linearly.
REFERENCE_BUDGET_S = 60.0
#: Cross-checked scores must agree to this absolute tolerance.
SCORE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Workload:
    """One task's generated data at one scale: ``input_dir/ref`` and the run in ``input_dir/res``."""

    input_dir: Path
    run_path: Path
    n_items: int

    @property
    def ref_dir(self) -> Path:
        return self.input_dir / "ref"


@dataclass(frozen=True)
class ReferenceRun:
    """One timed run of a reference implementation.

    ``seconds`` is extrapolated when the loop stopped after ``done`` of ``total`` items;
    ``scores`` (for the cross-check) is then empty.
    """

    seconds: float
    scores: dict[str, float]
    done: int
    total: int


#: A reference implementation: (reference folder, run file, items to process or None for
#: all within the time budget) -> one timed run.
Reference = Callable[[Path, Path, "int | None"], ReferenceRun]


@dataclass(frozen=True)
class TaskBenchmark:
    """How to generate one task's data and what to compare its scoring program with."""

    key: str
    bundle: str
    item: str
    primary: str
    reference_name: str = "none"
    reference: Reference | None = None
    note: str = "no external tool to compare with: our process only"


@dataclass(frozen=True)
class Result:
    """Medians of one task at one scale (seconds; reference None when there is none)."""

    task: TaskBenchmark
    scale: float
    n_items: int
    process_s: float
    evaluate_s: float
    reference_s: float | None
    reference_sample: tuple[int, int] | None
    cross_check: str
    peak_mib: float
    input_mib: float


# --------------------------------------------------------------------------- data


def generate(task: "TaskBenchmark", input_dir: Path, scale: float) -> Workload:
    """The task's own stand-in data at ``scale`` times the real size, scored as the platform scores it.

    The task's ``generate_data(size=scale, n_inducers=1)`` writes both splits; the test
    split's reference data becomes ``input_dir/ref`` (with a ``baseline.json``), and its
    one inducer's predictions, written by the task's own ``fusion_io.write_run``, the run
    in ``input_dir/res``. The items are the rows of that prediction.
    """
    source = REPO / "bundles" / task.bundle
    hooks = load_module(source / "task.py", module_name(task.bundle, "task"))
    fusion_io = load_module(source / "ingestion_program" / "fusion_io.py", module_name(task.bundle, "fusion_io"))
    data = input_dir.parent / "data"
    hooks.generate_data(data, seed=SEED, progress=lambda _: None, size=scale, n_inducers=1)
    shutil.copytree(data / "test" / "reference_data", input_dir / "ref")
    X = fusion_io.load_inducers(data / "test" / "input_data")
    name, prediction = next(iter(hooks.inducer_predictions(X)))
    run_path = input_dir / "res" / fusion_io.RUN_FILE_NAME
    run_path.parent.mkdir(parents=True)
    fusion_io.write_run(prediction, X, run_path)
    baseline = {"best_inducer": name, "primary_metric": task.primary, "scores": {task.primary: 0.25}}
    (input_dir / "ref" / "baseline.json").write_text(json.dumps(baseline), encoding="utf-8")
    shutil.rmtree(data)
    return Workload(input_dir, run_path, len(prediction))


# --------------------------------------------------------------------------- references


def pytrec_eval_reference(ref_dir: Path, run_path: Path, limit: int | None) -> ReferenceRun:
    """MAP@10 and MAP by trec_eval (pytrec_eval): the dicts built from the files, then evaluate.

    Timed: reading both files with :mod:`csv` into ``{video: {image: value}}`` dicts,
    building ``RelevanceEvaluator(qrels, {"map_cut_10", "map"})``, ``evaluate`` and the
    means over videos. Not timed: the import. No validation and no report.
    """
    import pytrec_eval  # noqa: PLC0415

    start = time.perf_counter()
    qrels: dict[str, dict[str, int]] = {}
    with open(ref_dir / "groundtruth.csv", newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        next(reader)
        for video_id, image_id, label, *_ in reader:
            qrels.setdefault(video_id, {})[image_id] = int(label)
    run: dict[str, dict[str, float]] = {}
    with open(run_path, newline="", encoding="utf-8") as file:
        for row in csv.reader(file):
            if row[0] != "video_id":
                run.setdefault(row[0], {})[row[1]] = float(row[-1])
    per_video = pytrec_eval.RelevanceEvaluator(qrels, {"map_cut_10", "map"}).evaluate(run)
    scores = {"map_at_10": sum(v["map_cut_10"] for v in per_video.values()) / len(qrels),
              "map": sum(v["map"] for v in per_video.values()) / len(qrels)}
    seconds = time.perf_counter() - start
    return ReferenceRun(seconds, scores, len(qrels), len(qrels))


def _read_old_groundtruth(path: Path) -> dict[str, tuple[str, ...]]:
    """The old evaluator's ground-truth reading: TAB-separated, ``;`` between concepts."""
    truth: dict[str, tuple[str, ...]] = {}
    with open(path, newline="", encoding="utf-8") as file:
        for row in csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row[0] != "ID":
                truth[row[0]] = tuple(c.strip() for c in row[1].split(";")) if len(row) > 1 and row[1] else ()
    return truth


def _read_old_run(path: Path, truth: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The old evaluator's run reading and checks (seen ids kept in a set, not a list)."""
    predictions: dict[str, tuple[str, ...]] = {}
    with open(path, newline="", encoding="utf-8") as file:
        for line_no, row in enumerate(csv.reader(file, delimiter="|", quoting=csv.QUOTE_NONE), start=1):
            if not 1 <= len(row) <= 2 or row[0] not in truth or row[0] in predictions:
                raise ValueError(f"line {line_no}: malformed line, unknown or repeated image id")
            concepts = tuple(c.strip() for c in row[1].split(";")) if len(row) > 1 and row[1] else ()
            if len(concepts) > 100 or len(set(concepts)) != len(concepts):
                raise ValueError(f"line {line_no}: too many or repeated concepts")
            predictions[row[0]] = concepts
    if len(predictions) != len(truth):
        raise ValueError("the run does not list every image")
    return predictions


def sklearn_loop_reference(ref_dir: Path, run_path: Path, limit: int | None) -> ReferenceRun:
    """The old ImageCLEF concept-detection evaluator: one scikit-learn F1 per image.

    Timed: reading the ground truth, the curated list and the run with :mod:`csv` and
    the old checks, then for every image and for both scores (all concepts, and both
    sets restricted to the curated list): ``MultiLabelBinarizer`` over the union of the
    two sets and ``f1_score(average="binary")``, images with an empty ground truth left
    out. Not timed: the imports. The loop stops after ``limit`` images, or when it has
    run for ``REFERENCE_BUDGET_S`` without a limit; its time is then extrapolated
    linearly to all images.
    """
    from sklearn.metrics import f1_score  # noqa: PLC0415
    from sklearn.preprocessing import MultiLabelBinarizer  # noqa: PLC0415

    def image_f1(truth: tuple[str, ...], predicted: tuple[str, ...]) -> float:
        classes = sorted(set(truth + predicted))
        y_true, y_pred = MultiLabelBinarizer(classes=classes).fit_transform([truth, predicted])
        return float(f1_score(y_true, y_pred, average="binary"))

    start = time.perf_counter()
    truth = _read_old_groundtruth(ref_dir / "groundtruth.csv")
    with open(ref_dir / "secondary_concepts.txt", encoding="utf-8") as file:
        curated = {line.strip().upper() for line in file if line.strip()}
    predictions = _read_old_run(run_path, truth)
    read_s = time.perf_counter() - start

    image_ids = list(predictions)
    total = len(image_ids) if limit is None else min(limit, len(image_ids))
    sums, counts = [0.0, 0.0], [0, 0]
    loop_start = time.perf_counter()
    done = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as the old evaluator: an empty prediction warns, F1 = 0
        for done, image_id in enumerate(image_ids[:total], start=1):
            predicted = tuple(c.upper() for c in predictions[image_id])
            expected = tuple(c.upper() for c in truth[image_id])
            for which, (g, p) in enumerate(((expected, predicted),
                                            (tuple(c for c in expected if c in curated),
                                             tuple(c for c in predicted if c in curated)))):
                if g:
                    sums[which] += image_f1(g, p)
                    counts[which] += 1
            if limit is None and done % 64 == 0 and time.perf_counter() - loop_start > REFERENCE_BUDGET_S:
                break
    loop_s = time.perf_counter() - loop_start
    n_images = len(image_ids)
    if done < n_images:
        return ReferenceRun(read_s + loop_s * n_images / done, {}, done, n_images)
    scores = {"f1": sums[0] / counts[0], "f1_secondary": sums[1] / counts[1]}
    return ReferenceRun(read_s + loop_s, scores, done, n_images)


TASKS: dict[str, TaskBenchmark] = {task.key: task for task in (
    TaskBenchmark(
        "int", "fusion-int", "keyframes", "map_at_10", "pytrec_eval", pytrec_eval_reference,
        "reference = pytrec_eval in-process: csv reading into qrels/run dicts + RelevanceEvaluator"
        "({map_cut_10, map}) + evaluate + means; no import, no validation, no report"),
    TaskBenchmark("div", "fusion-div", "ranked photos", "f1_at_20"),
    TaskBenchmark(
        "cap", "fusion-cap", "images", "f1", "sklearn loop", sklearn_loop_reference,
        "reference = the old evaluator's per-image loop in-process: csv reading and checks, then per image and "
        "for both F1s MultiLabelBinarizer + f1_score(average='binary'); no import"),
    TaskBenchmark("mem", "fusion-mem", "videos", "spearman"),
)}


# --------------------------------------------------------------------------- timing


#: Run in a fresh interpreter (so that the benchmark's own heap does not slow it down): import
#: score.py, time ``evaluate`` ``repeat`` times, print the times as JSON.
# The cyclic collector is paused, as scoring_common.program.main pauses it around scoring.
_TIME_EVALUATE = """
import gc, importlib.util, json, sys, time
from pathlib import Path
gc.disable()
score_py, ref_dir, run_path, repeat = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
spec = importlib.util.spec_from_file_location("score", score_py)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
times = []
for _ in range(repeat):
    start = time.perf_counter()
    module.evaluate(ref_dir, run_path)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def _score_py(task: TaskBenchmark) -> Path:
    return REPO / "bundles" / task.bundle / "scoring_program" / "score.py"


def time_evaluate(task: TaskBenchmark, workload: Workload, repeat: int) -> float:
    """Median time of ``evaluate(ref_dir, run_path)`` called ``repeat`` times in one fresh child process."""
    completed = subprocess.run(
        [sys.executable, "-c", _TIME_EVALUATE, str(_score_py(task)), str(workload.ref_dir), str(workload.run_path),
         str(repeat)], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{task.bundle} evaluate() failed: {completed.stderr.strip()}")
    return statistics.median(json.loads(completed.stdout))


#: Runs score.py as ``python score.py INPUT OUTPUT`` would, then writes the process's peak
#: resident memory (VmHWM, KiB) to the file argv[1]. getrusage cannot give it: a child keeps
#: the peak of the process it was forked from (here the benchmark, with its data) as its own.
_RUN_MEASURING_MEMORY = """
import runpy, sys
peak_file, sys.argv = sys.argv[1], sys.argv[2:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(peak_file, "w") as out:
        out.write(peak)
"""


def time_process(task: TaskBenchmark, workload: Workload, output_dir: Path) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of ``python score.py INPUT OUTPUT`` in a child process."""
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.mkdir(parents=True)
    peak_file = output_dir.parent / "peak_kib"
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", _RUN_MEASURING_MEMORY, str(peak_file), str(_score_py(task)),
                                str(workload.input_dir), str(output_dir)],
                               capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{task.bundle} score.py exited with {completed.returncode}: {completed.stderr.strip()}")
    return seconds, int(peak_file.read_text()) / 1024


def _cross_check(ours: dict[str, float], theirs: dict[str, float]) -> str:
    if not theirs:
        return "not checked (sampled)"
    differences = {key: abs(ours[key] - value) for key, value in theirs.items()}
    worst = max(differences, key=differences.get)
    if differences[worst] <= SCORE_TOLERANCE:
        return f"same scores ({', '.join(sorted(theirs))})"
    return f"MISMATCH on {worst}: ours {ours[worst]:.12f}, reference {theirs[worst]:.12f}"


def benchmark(task: TaskBenchmark, scale: float, repeat: int, work_dir: Path, log: Callable[[str], None]) -> Result:
    """Generate the task's data at ``scale`` and time our process, evaluate() and the reference."""
    input_dir = work_dir / f"{task.key}-x{scale:g}" / "input"
    log(f"{task.bundle} x{scale:g}: generating the data with the task's own generator")
    workload = generate(task, input_dir, scale)
    n_items, run_path = workload.n_items, workload.run_path
    output_dir = input_dir.parent / "output"
    input_mib = sum(path.stat().st_size for path in input_dir.rglob("*") if path.is_file()) / 1024**2
    log(f"{task.bundle} x{scale:g}: {n_items} {task.item}; our process x{repeat}")
    processes = [time_process(task, workload, output_dir) for _ in range(repeat)]
    process_s = statistics.median(seconds for seconds, _ in processes)
    peak_mib = max(peak for _, peak in processes)
    ours = json.loads((output_dir / "scores.json").read_text(encoding="utf-8"))
    evaluate_s = time_evaluate(task, workload, repeat)

    reference_s, sample, check = None, None, "no reference"
    if task.reference is not None:
        log(f"{task.bundle} x{scale:g}: {task.reference_name} x{repeat}")
        try:
            first = task.reference(workload.ref_dir, run_path, None)
        except ImportError as exc:
            check = f"reference not run ({exc.name} is not installed)"
        else:
            limit = first.done if first.done < first.total else None
            runs = [first] + [task.reference(workload.ref_dir, run_path, limit) for _ in range(repeat - 1)]
            reference_s = statistics.median(run.seconds for run in runs)
            sample = (first.done, first.total) if limit is not None else None
            check = _cross_check(ours, first.scores)
    shutil.rmtree(input_dir.parent, ignore_errors=True)
    return Result(task, scale, n_items, process_s, evaluate_s, reference_s, sample, check, peak_mib, input_mib)


# --------------------------------------------------------------------------- report


def machine_description() -> str:
    """CPU, cores, Python and library versions of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    for name in ("scikit-learn", "pytrec_eval-terrier"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return f"{cpu}, {os.cpu_count()} cores ({usable} usable), {platform.system()} {platform.release()}; " \
           + ", ".join(versions)


def table_rows(results: list[Result]) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and footnotes of the results table."""
    header = ["task", "size", "items", "our process (s)", "evaluate() (s)", "reference", "reference (s)",
              "speed-up (process)", "speed-up (in-process)", "process us/item", "evaluate() us/item",
              "peak memory (MiB)", "input (MiB)"]
    rows, notes = [], []
    for result in results:
        reference = "-" if result.reference_s is None else _seconds(result.reference_s)
        speedups = ["-", "-"] if result.reference_s is None else \
            [_ratio(result.reference_s / ours) for ours in (result.process_s, result.evaluate_s)]
        if result.reference_sample is not None:
            done, total = result.reference_sample
            reference += "*"
            notes.append(f"* {result.task.bundle} x{result.scale:g}: the reference loop ran on {done} of {total} "
                         f"images ({REFERENCE_BUDGET_S:.0f} s budget); its time is extrapolated linearly.")
        rows.append([result.task.bundle, f"{result.scale:g}x", f"{result.n_items:,} {result.task.item}",
                     _seconds(result.process_s), _seconds(result.evaluate_s), result.task.reference_name, reference,
                     *speedups, f"{1e6 * result.process_s / result.n_items:.1f}",
                     f"{1e6 * result.evaluate_s / result.n_items:.1f}", f"{result.peak_mib:.0f}",
                     f"{result.input_mib:.2f}"])
    for task in dict.fromkeys(r.task for r in results):
        checks = [f"x{r.scale:g}: {r.cross_check}" for r in sorted(results, key=lambda r: r.scale) if r.task is task]
        notes.append(f"{task.bundle}: {task.note}. Cross-check of scores.json: {'; '.join(checks)}.")
    return header, rows, notes


def _seconds(value: float) -> str:
    return f"{value:.4f}" if value < 0.1 else f"{value:.3f}"


def _ratio(value: float) -> str:
    return f"{value:.1f}x" if value >= 1 else f"{value:.2g}x"


def format_table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    """The rows as a markdown table or as aligned plain text."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(width) if i < 3 else cell.rjust(width) for i, (cell, width)
                       in enumerate(zip(line, widths))) for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def growth_notes(results: list[Result]) -> list[str]:
    """How the time grows between successive scales, against the growth of the size."""
    notes = []
    for task in dict.fromkeys(r.task for r in results):
        mine = sorted((r for r in results if r.task is task), key=lambda r: r.scale)
        for small, large in zip(mine, mine[1:]):
            size = large.n_items / small.n_items
            notes.append(f"{task.bundle} x{small.scale:g} -> x{large.scale:g}: size x{size:.1f}, "
                         f"process time x{large.process_s / small.process_s:.1f}, "
                         f"evaluate() time x{large.evaluate_s / small.evaluate_s:.1f}")
    return notes


def log(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def check_choices(parser: argparse.ArgumentParser, option: str, noun: str, chosen: list[str],
                  known: Iterable[str]) -> None:
    """Stop with the parser's usage error when ``chosen`` names anything not in ``known``."""
    known = list(known)
    unknown = [name for name in chosen if name not in known]
    if unknown:
        parser.error(f"{option}: unknown {noun}(s) {', '.join(unknown)}; choose among {','.join(known)}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement; the median is shown")
    parser.add_argument("--scales", default="1,10,100", help="comma-separated size multipliers (1 = real size)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated tasks among {','.join(TASKS)}")
    parser.add_argument("--markdown", action="store_true", help="print the table in markdown")
    args = parser.parse_args(argv)
    try:
        args.scales = [float(s) for s in args.scales.split(",")]
    except ValueError:
        parser.error(f"--scales {args.scales!r}: expected numbers separated by commas, e.g. 1,10,100")
    if any(not math.isfinite(s) or s <= 0 for s in args.scales):
        parser.error("--scales: every scale must be a positive number")
    args.tasks = [t.strip() for t in args.tasks.split(",")]
    check_choices(parser, "--tasks", "task", args.tasks, TASKS)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def measure(args: argparse.Namespace) -> list[Result]:
    """Benchmark every task of ``args`` at every scale."""
    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as work_dir:
        return [benchmark(TASKS[key], scale, args.repeat, Path(work_dir), log)
                for key in args.tasks for scale in args.scales]


def report(results: list[Result], repeat: int, markdown: bool) -> int:
    """Print the table and notes; 0, or 1 if a cross-check failed."""
    header, rows, notes = table_rows(results)
    print(f"Machine: {machine_description()}")
    print(f"Median of {repeat} run(s). Speed-up = reference time / our time: our whole process "
          "(the reference does not start an interpreter), or our evaluate() in-process (like for like).\n")
    print(format_table(header, rows, markdown))
    print()
    for note in notes + growth_notes(results):
        print(f"- {note}".replace("- * ", "- \\* ", 1) if markdown else note)
    return 1 if any(r.cross_check.startswith("MISMATCH") for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; 0 on success, 1 if a cross-check failed."""
    args = parse_args(argv)
    return report(measure(args), args.repeat, args.markdown)


if __name__ == "__main__":
    raise SystemExit(main())
