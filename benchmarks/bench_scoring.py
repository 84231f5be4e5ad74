"""Benchmark of the three scoring programs against the reference implementations.

For each task and scale the script writes seeded synthetic reference data and a valid run
into a temporary folder (real size: fusion-int 609 keyframes in 25 videos, fusion-div
35 queries x 50 ranked photos over pools of ~300 judged photos, fusion-cap 1500 images
with ~5 concepts each over a vocabulary of 8000; every count but the vocabulary is
multiplied by the scale), then times, as the median of ``--repeat`` runs:

- our process: ``python score.py INPUT OUTPUT`` as a subprocess, wall time, everything
  included (interpreter start, imports, reading, scoring, scores.json and the HTML report);
- ``evaluate()``: the task's ``evaluate(ref_dir, run_path)`` called in a fresh child
  process, timed inside it (the reading and scoring part of the above);
- the reference implementation, in this process (its imports not timed): pytrec_eval for
  fusion-int, the per-image scikit-learn loop of the old ImageCLEF concept-detection
  evaluator for fusion-cap; fusion-div has none.

The table goes to stdout, progress to stderr. Usage::

    python benchmarks/bench_scoring.py [--repeat N] [--scales 1,10,100] [--tasks int,div,cap] [--markdown]
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
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEED = 2024
#: A reference loop stops once it has run this long and its time is extrapolated linearly.
REFERENCE_BUDGET_S = 60.0
#: Cross-checked scores must agree to this absolute tolerance.
SCORE_TOLERANCE = 1e-9
#: Concepts of the fusion-cap vocabulary, at every scale.
VOCABULARY_SIZE = 8000


@dataclass(frozen=True)
class Workload:
    """One task's synthetic data at one scale: ``input_dir/ref`` and the run in ``input_dir/res``."""

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
    generate: Callable[[Path, float, np.random.Generator], int]
    reference_name: str
    reference: Reference | None
    note: str


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


# --------------------------------------------------------------------------- data


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_baseline(ref_dir: Path, primary: str) -> None:
    baseline = {"best_inducer": "inducer_01", "primary_metric": primary, "scores": {primary: 0.25}}
    (ref_dir / "baseline.json").write_text(json.dumps(baseline), encoding="utf-8")


def generate_int(input_dir: Path, scale: float, rng: np.random.Generator) -> int:
    """fusion-int: 609 x scale keyframes in 25 x scale videos, ~10 % interesting; a run scoring each."""
    n_videos = max(1, round(25 * scale))
    n_keyframes = max(n_videos * 8, round(609 * scale))
    sizes = 8 + rng.multinomial(n_keyframes - 8 * n_videos, np.full(n_videos, 1.0 / n_videos))
    video = np.repeat(np.arange(n_videos), sizes)
    frame = np.arange(n_keyframes) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    label = (rng.random(n_keyframes) < 0.1).astype(np.int64)
    value = rng.random(n_keyframes)
    score = label + rng.standard_normal(n_keyframes)
    keys = [f"video_{v},video_{v}_{f}.jpg" for v, f in zip(video.tolist(), frame.tolist())]
    _write(input_dir / "ref" / "groundtruth.csv",
           ["video_id,image_id,label,value"]
           + [f"{k},{lab},{val:.6f}" for k, lab, val in zip(keys, label.tolist(), value.tolist())])
    _write_baseline(input_dir / "ref", "map_at_10")
    order = rng.permutation(n_keyframes).tolist()
    _write(input_dir / "res" / "run.csv",
           ["video_id,image_id,score"] + [f"{keys[i]},{score[i]:.6f}" for i in order])
    return n_keyframes


def generate_div(input_dir: Path, scale: float, rng: np.random.Generator) -> int:
    """fusion-div: 35 x scale queries, pools of 250-350 judged photos, 10-25 clusters; a 50-photo run per query."""
    n_queries, run_length = max(1, round(35 * scale)), 50
    pool_sizes = rng.integers(250, 351, size=n_queries)
    query = np.repeat(np.arange(n_queries), pool_sizes)
    n_judged = query.size
    photo = 3_000_000_000 + np.cumsum(rng.integers(1, 1000, size=n_judged))
    rel = rng.choice(np.array([1, 0, -1]), size=n_judged, p=[0.65, 0.33, 0.02])
    n_clusters = rng.integers(10, 26, size=n_queries)
    cluster = 1 + (rng.random(n_judged) * n_clusters[query]).astype(np.int64)
    query_ids = [str(q + 1) for q in range(n_queries)]
    rows = list(zip((query_ids[q] for q in query.tolist()), photo.tolist(), rel.tolist(), cluster.tolist()))
    ref = input_dir / "ref"
    _write(ref / "rGT.csv", ["query_id,photo_id,rel"] + [f"{q},{p},{r}" for q, p, r, _ in rows])
    _write(ref / "dGT.csv", ["query_id,photo_id,cluster_id"] + [f"{q},{p},{c}" for q, p, r, c in rows if r == 1])
    _write_baseline(ref, "f1_at_20")

    # The run: per query the 50 photos of highest key (relevant ones favoured), the last one unjudged.
    key = rng.standard_normal(n_judged) + 0.5 * (rel == 1)
    order = np.lexsort((-key, query))
    starts = np.cumsum(pool_sizes) - pool_sizes
    position = np.arange(n_judged) - np.repeat(starts, pool_sizes)
    chosen = order[position < run_length]
    ranked_photo = photo[chosen]
    ranked_query = query[chosen]
    rank = np.tile(np.arange(run_length), n_queries)
    ranked_photo[rank == run_length - 1] = 4_000_000_000 + np.arange(n_queries)
    lines = [f"{query_ids[q]} 0 {p} {r} {s:.6f} bench"
             for q, p, r, s in zip(ranked_query.tolist(), ranked_photo.tolist(), rank.tolist(), key[chosen].tolist())]
    _write(input_dir / "res" / "run.txt", lines)
    return len(lines)


def generate_cap(input_dir: Path, scale: float, rng: np.random.Generator) -> int:
    """fusion-cap: 1500 x scale images, ~5 concepts each drawn from a Zipf law over 8000 concepts; a run.

    The vocabulary does not grow with the scale: a concept-detection task keeps a few
    thousand concepts however many images it has.
    """
    n_images = max(1, round(1500 * scale))
    codes = 1_000_000 + rng.choice(9_000_000, VOCABULARY_SIZE, replace=False)
    vocabulary = [f"C{code:07d}" for code in codes.tolist()]
    cdf = np.cumsum(1.0 / (np.arange(VOCABULARY_SIZE) + 2.0))
    cdf /= cdf[-1]

    def draw(counts: np.ndarray) -> list[list[str]]:
        """Per image, ``counts[i]`` distinct concepts drawn from the Zipf law, sorted."""
        width = int(counts.max(initial=0)) * 2 + 1
        sets = []
        for first in range(0, counts.size, 8192):  # in chunks, to bound the memory at large scales
            chunk = counts[first:first + 8192].tolist()
            draws = np.searchsorted(cdf, rng.random((len(chunk), width))).tolist()
            sets.extend(sorted(vocabulary[c] for c in list(dict.fromkeys(row))[:k]) for row, k in zip(draws, chunk))
        return sets

    truth_counts = np.minimum(1 + rng.poisson(4.0, size=n_images), 20)
    truth_counts[rng.random(n_images) < 0.015] = 0
    truth = draw(truth_counts)
    false = draw(rng.poisson(1.5, size=n_images))
    empty_run = rng.random(n_images) < 0.02
    image_ids = [f"ImageCLEFmedical_Caption_2023_test_{number:06d}" for number in range(1, n_images + 1)]
    run_lines = []
    for i, (image_id, concepts) in enumerate(zip(image_ids, truth)):
        kept = [c for c, keep in zip(concepts, rng.random(len(concepts)) < 0.6) if keep]
        predicted = [] if empty_run[i] else sorted(set(kept).union(false[i]))
        run_lines.append(f"{image_id}|{';'.join(predicted)}")
    top = 150
    sampled = rng.choice(np.arange(top, 3000), size=50, replace=False).tolist()
    ref = input_dir / "ref"
    _write(ref / "groundtruth.csv", ["ID\tCUIs"] + [f"{i}\t{';'.join(c)}" for i, c in zip(image_ids, truth)])
    _write(ref / "secondary_concepts.txt", sorted(vocabulary[c] for c in list(range(top)) + sampled))
    _write_baseline(ref, "f1")
    _write(input_dir / "res" / "run.csv", run_lines)
    return n_images


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


TASKS: dict[str, TaskBenchmark] = {
    "int": TaskBenchmark(
        "int", "fusion-int", "keyframes", generate_int, "pytrec_eval", pytrec_eval_reference,
        "reference = pytrec_eval in-process: csv reading into qrels/run dicts + RelevanceEvaluator"
        "({map_cut_10, map}) + evaluate + means; no import, no validation, no report"),
    "div": TaskBenchmark(
        "div", "fusion-div", "ranked photos", generate_div, "none", None,
        "no external tool to compare with: our process only"),
    "cap": TaskBenchmark(
        "cap", "fusion-cap", "images", generate_cap, "sklearn loop", sklearn_loop_reference,
        "reference = the old evaluator's per-image loop in-process: csv reading and checks, then per image and "
        "for both F1s MultiLabelBinarizer + f1_score(average='binary'); no import"),
}


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


def time_process(task: TaskBenchmark, workload: Workload, output_dir: Path) -> float:
    """Wall time of ``python score.py INPUT OUTPUT`` in a child process."""
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.mkdir(parents=True)
    score_py = _score_py(task)
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, str(score_py), str(workload.input_dir), str(output_dir)],
                               capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{task.bundle} score.py exited with {completed.returncode}: {completed.stderr.strip()}")
    return seconds


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
    rng = np.random.default_rng([SEED, list(TASKS).index(task.key), round(scale * 1000)])
    n_items = task.generate(input_dir, scale, rng)
    run_path = next((input_dir / "res").iterdir())
    workload = Workload(input_dir, run_path, n_items)
    output_dir = input_dir.parent / "output"
    log(f"{task.bundle} x{scale:g}: {n_items} {task.item}; our process x{repeat}")
    process_s = statistics.median(time_process(task, workload, output_dir) for _ in range(repeat))
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
    return Result(task, scale, n_items, process_s, evaluate_s, reference_s, sample, check)


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
              "speed-up (process)", "speed-up (in-process)", "process us/item", "evaluate() us/item"]
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
                     f"{1e6 * result.evaluate_s / result.n_items:.1f}"])
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement; the median is shown")
    parser.add_argument("--scales", default="1,10,100", help="comma-separated size multipliers (1 = real size)")
    parser.add_argument("--tasks", default="int,div,cap", help=f"comma-separated tasks among {','.join(TASKS)}")
    parser.add_argument("--markdown", action="store_true", help="print the table in markdown")
    args = parser.parse_args(argv)
    try:
        args.scales = [float(s) for s in args.scales.split(",")]
    except ValueError:
        parser.error(f"--scales {args.scales!r}: expected numbers separated by commas, e.g. 1,10,100")
    if any(not math.isfinite(s) or s <= 0 for s in args.scales):
        parser.error("--scales: every scale must be a positive number")
    args.tasks = [t.strip() for t in args.tasks.split(",")]
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        parser.error(f"--tasks: unknown task(s) {', '.join(unknown)}; choose among {','.join(TASKS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; 0 on success, 1 if a cross-check failed."""
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as work_dir:
        for key in args.tasks:
            for scale in args.scales:
                results.append(benchmark(TASKS[key], scale, args.repeat, Path(work_dir), log))
    header, rows, notes = table_rows(results)
    print(f"Machine: {machine_description()}")
    print(f"Median of {args.repeat} run(s). Speed-up = reference time / our time: our whole process "
          "(the reference does not start an interpreter), or our evaluate() in-process (like for like).\n")
    print(format_table(header, rows, args.markdown))
    print()
    for note in notes + growth_notes(results):
        print(f"- {note}".replace("- * ", "- \\* ", 1) if args.markdown else note)
    return 1 if any(r.cross_check.startswith("MISMATCH") for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
