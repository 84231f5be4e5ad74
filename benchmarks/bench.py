"""The kit's speed in one command (``make bench``): scoring at scale, the cost columns' spread,
the runner's overhead and the demo's duration.

    python benchmarks/bench.py [--markdown] [--tune] [--parts scoring,cost,overhead,demo]
        [--scales 1,10,100] [--repeat 5] [--reruns 5] [--jobs 2] [--tasks int,div,cap,mem]

Parts (each prints its table with the machine's load average before and after it, as the
figures of a busy machine mean little):

- scoring: ``benchmarks/bench_scoring.py`` (time and peak memory per item of every task's
  scoring program, data from the task's own generator at each scale);
- cost: every code baseline of every task run once to warm up (not counted) and at once
  ``--reruns`` times alone (one after the other), then ``--reruns`` times in one batch
  (``bundlekit run --jobs N``, all the task's code baselines at once), in Docker on the Test phase; the spread of each cost column
  (``(max - min) / median``) over the reruns;
- overhead: the runner's own time per run, in Docker: the run's wall time in the runner
  minus the wall time of its programs (the ``[measure]`` lines of the image's entrypoint),
  for result and code submissions; from the runs of the cost part (without it, ``--reruns``
  runs of each task's best inducer as code) plus ``--reruns`` runs of each task's best-inducer
  results;
- demo: the wall time of ``bundlekit demo`` (four bundles built, 48 runs in Docker).

The last table holds every measured figure against its target (the constants below): met or not.

``--tune`` (``make bench`` passes it) turns a virtual machine's free page reporting off while
the benchmark runs and restores it after, as ``pyperf system tune`` steadies a CPU's clock:
with it on, memory a process frees goes back to the hypervisor, and the next process pays a
host page fault for each page it touches again, more or less depending on what ran before.
The "Machine:" line says what the benchmark found and did.

Cost, overhead and demo need a Docker engine and the kit's image; without them they are skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_scoring  # noqa: E402

from bundlekit import DEFAULT_IMAGE  # noqa: E402
from bundlekit.build import BuildOptions, build_task  # noqa: E402

PARTS = ("scoring", "cost", "overhead", "demo")
#: The cost columns (contract C4) and, for an ingestion that does not publish them yet, timing.json's names.
COST_COLUMNS = {"time_s": "wall_s", "cpu_s": "cpu_s", "memory_mib": "peak_memory_mib"}
MEASURE_WALL = re.compile(r"^\[measure\] exit=\S+ wall=([\d.]+)s", re.MULTILINE)
#: The targets (issue "cost columns and speed at scale"), checked by the summary table.
FLAT_PER_ITEM = 1.5  # evaluate() time per item at the largest scale / at the smallest
DIV_PROCESS_S = 1.5  # fusion-div's whole scoring process at 100x
MEMORY_PER_INPUT = 10.0  # the scorer's peak memory beyond its smallest run's, per byte of input
SPREAD_ALONE, SPREAD_BATCH = 0.10, 0.20  # (max - min) / median of a cost column over reruns
#: Below this, a spread is the column's 1 ms rounding and the scheduler's jitter: not counted against a target.
SPREAD_FLOOR_S = 0.005
OVERHEAD_S = 1.0  # the runner's own time per run
DEMO_S = 150.0  # bundlekit demo
#: A virtual machine's free page reporting (virtio-balloon feature 5): the guest hands the memory
#: its processes free back to the hypervisor, and the next process to touch it pays a host page
#: fault for each page. Blocks of this order and above are reported; 11 is above the largest
#: (10), so none is.
PAGE_REPORTING_ORDER = Path("/sys/module/page_reporting/parameters/page_reporting_order")
BALLOON_FEATURES = Path("/sys/bus/virtio/drivers/virtio_balloon")
NO_REPORTING_ORDER = 11


@dataclass(frozen=True)
class Target:
    """One measured figure against its goal."""

    what: str
    goal: str
    measured: str
    met: bool


@dataclass
class TimedRun:
    """One run through the runner: its cost columns, its wall time and its programs' own."""

    kind: str  # "code" or "results"
    costs: dict[str, float]
    wall_s: float
    programs_s: float

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.programs_s


def _free_page_reporting() -> bool:
    """Whether a balloon device of this machine reports free pages, at an order the kernel reports."""
    reporting = any(len(bits := features.read_text().strip()) > 5 and bits[5] == "1"
                    for features in BALLOON_FEATURES.glob("virtio*/features"))
    return reporting and PAGE_REPORTING_ORDER.is_file() and int(PAGE_REPORTING_ORDER.read_text()) < NO_REPORTING_ORDER


@contextlib.contextmanager
def tuned_memory(tune: bool, log: Callable[[str], None]) -> Iterator[str]:
    """With ``tune``, free page reporting off while the benchmark runs, restored after; yields the state."""
    if not _free_page_reporting():
        yield "no free page reporting"
        return
    was = PAGE_REPORTING_ORDER.read_text().strip()
    if not tune:
        yield f"free page reporting on (order {was}; --tune turns it off)"
        return
    try:
        PAGE_REPORTING_ORDER.write_text(str(NO_REPORTING_ORDER))
    except OSError as exc:
        yield f"free page reporting on (order {was}; --tune could not turn it off: {exc.strerror})"
        return
    log(f"[tune] free page reporting off (page_reporting_order {was} -> {NO_REPORTING_ORDER}) until the end")
    on_sigterm = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # restored on it too
    try:
        yield f"free page reporting off while it ran (--tune; order {was} before and after)"
    finally:
        PAGE_REPORTING_ORDER.write_text(was)
        signal.signal(signal.SIGTERM, on_sigterm)
        log(f"[tune] free page reporting restored (page_reporting_order {was})")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def _costs(result) -> dict[str, float]:
    found = {}
    for column, timing_key in COST_COLUMNS.items():
        value = result.scores.get(column, result.times.get(timing_key))
        if value is not None:
            found[column] = float(value)
    return found


def _programs_s(run_dir: Path) -> float:
    return sum(float(wall) for log in run_dir.glob("*.stderr.log") for wall in MEASURE_WALL.findall(log.read_text()))


def _timed(bundle: Path, submissions: list[Path], kind: str, work: Path, jobs: int) -> list[TimedRun]:
    """Run ``submissions`` in one batch of ``jobs`` (one alone when there is one)."""
    from bundlekit.run import run_many  # noqa: PLC0415

    start = time.monotonic()
    results = run_many(bundle, submissions, "Test", use_docker=True, output_dir=work, jobs=jobs)
    wall = time.monotonic() - start
    runs = []
    for result in results:
        if result.status != "finished":
            raise RuntimeError(f"{result.submission}: {result.reason}")
        runs.append(TimedRun(kind, _costs(result), wall / len(results), _programs_s(Path(result.logs_dir))))
    return runs


def _spread(values: list[float]) -> str:
    median = statistics.median(values)
    return f"{100 * (max(values) - min(values)) / median:.1f} %" if median else "-"


def _spread_met(values: list[float], share: float) -> bool:
    return max(values) - min(values) <= max(share * statistics.median(values), SPREAD_FLOOR_S)


def scoring_targets(results: list) -> list[Target]:
    """Flat time per item, fusion-div's process at its largest scale, memory per input byte."""
    targets = []
    for task in dict.fromkeys(r.task for r in results):
        mine = sorted((r for r in results if r.task is task), key=lambda r: r.scale)
        small, large = mine[0], mine[-1]
        if large.scale == small.scale:
            continue
        growth = (large.evaluate_s / large.n_items) / (small.evaluate_s / small.n_items)
        targets.append(Target(f"{task.bundle}: evaluate() time per item, x{small.scale:g} -> x{large.scale:g}",
                              f"grows at most x{FLAT_PER_ITEM:g}", f"x{growth:.2f}", growth <= FLAT_PER_ITEM))
        per_input = (large.peak_mib - small.peak_mib) / max(large.input_mib - small.input_mib, 1e-9)
        targets.append(Target(f"{task.bundle}: peak memory beyond x{small.scale:g}'s, per MiB of input at x{large.scale:g}",
                              f"at most {MEMORY_PER_INPUT:g} MiB", f"{per_input:.1f} MiB",
                              per_input <= MEMORY_PER_INPUT))
        if task.bundle == "fusion-div" and large.scale >= 100:
            targets.append(Target(f"fusion-div: whole scoring process at x{large.scale:g}",
                                  f"at most {DIV_PROCESS_S:g} s", f"{large.process_s:.2f} s",
                                  large.process_s <= DIV_PROCESS_S))
    return targets


def cost_part(bundles: dict[str, Path], reruns: int, jobs: int, work: Path, log
              ) -> tuple[list[list[str]], list[TimedRun], list[Target]]:
    """Rows of the cost table, the runs made alone (for the overhead) and the spread targets of time_s."""
    rows, alone_runs, targets = [], [], []
    for task, bundle in bundles.items():
        codes = sorted((bundle / "solutions").glob("*-code.zip"))
        # Each code runs once, not counted, right before its reruns alone: the page cache then
        # holds the image, the bundle and the libraries it imports, and the memory its process
        # touches was touched a moment ago, as on a worker that has run a submission before.
        alone_by_code = {}
        for code in codes:
            log(f"[cost] {task}: {code.stem} once to warm up (not counted), then x{reruns} alone")
            _timed(bundle, [code], "code", work / f"{task}-{code.stem}-warm-up", 1)
            alone_by_code[code] = [run for rerun in range(reruns)
                                   for run in _timed(bundle, [code], "code", work / f"{task}-{code.stem}-{rerun}", 1)]
            alone_runs += alone_by_code[code]
        batch_runs = []
        if jobs > 1:
            log(f"[cost] {task}: {len(codes)} code baselines x{reruns} in one batch of {jobs} jobs")
            batch_runs = _timed(bundle, [code for code in codes for _ in range(reruns)], "code",
                                work / f"{task}-batch", jobs)
        for number, code in enumerate(codes):
            alone = alone_by_code[code]
            batch = batch_runs[number * reruns:(number + 1) * reruns]
            for mode, runs in (("alone", alone), (f"batch of {len(codes) * reruns}, --jobs {jobs}", batch)):
                if not runs:
                    continue
                share = SPREAD_ALONE if mode == "alone" else SPREAD_BATCH
                times = [run.costs["time_s"] for run in runs if "time_s" in run.costs]
                if times:
                    met = _spread_met(times, share)
                    every = "" if met else f"; runs, in order: {', '.join(f'{t:g}' for t in times)} s"
                    targets.append(Target(f"{task} {code.stem.removesuffix('-code')}: time_s spread, {mode}",
                                          f"at most {100 * share:g} % (or {1000 * SPREAD_FLOOR_S:g} ms)",
                                          f"{_spread(times)} ({1000 * (max(times) - min(times)):.0f} ms{every})",
                                          met))
                cells = []
                for column in COST_COLUMNS:
                    values = [run.costs[column] for run in runs if column in run.costs]
                    cells += [f"{statistics.median(values):.3f}", _spread(values)] if values else ["-", "-"]
                rows.append([task, code.stem.removesuffix("-code"), mode, *cells])
    return rows, alone_runs, targets


def overhead_part(bundles: dict[str, Path], reruns: int, code_runs: list[TimedRun], work: Path, log
                  ) -> tuple[list[list[str]], list[Target]]:
    runs = list(code_runs)
    for task, bundle in bundles.items():
        kinds = {"results": "best-inducer-results-test.zip"}
        if not code_runs:  # the cost part did not run: the best inducer as code too
            kinds["code"] = "best-inducer-code.zip"
        for kind, name in kinds.items():
            log(f"[overhead] {task}: {name} x{reruns} alone")
            runs += [run for rerun in range(reruns)
                     for run in _timed(bundle, [bundle / "solutions" / name], kind,
                                       work / f"{task}-{kind}-{rerun}", 1)]
    rows, targets = [], []
    for kind in ("results", "code"):
        mine = [run for run in runs if run.kind == kind]
        if mine:
            overheads = [run.overhead_s for run in mine]
            median = statistics.median(overheads)
            targets.append(Target(f"runner overhead per {kind} submission (median of {len(mine)})",
                                  f"under {OVERHEAD_S:g} s", f"{median:.2f} s", median < OVERHEAD_S))
            rows.append([f"{kind} submission", str(len(mine)), f"{statistics.median([r.wall_s for r in mine]):.2f}",
                         f"{statistics.median([r.programs_s for r in mine]):.2f}",
                         f"{statistics.median(overheads):.2f}", f"{max(overheads):.2f}"])
    return rows, targets


def demo_part(work: Path, log) -> float:
    log("[demo] bundlekit demo")
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "bundlekit", "demo", "--out", str(work / "demo")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated parts among {','.join(PARTS)}")
    parser.add_argument("--scales", default="1,10,100", help="scoring: size multipliers (1 = real size)")
    parser.add_argument("--repeat", type=int, default=5, help="scoring: timed runs per measurement (median shown)")
    parser.add_argument("--reruns", type=int, default=5, help="cost and overhead: reruns of each submission")
    parser.add_argument("--jobs", type=int, default=2, help="cost: parallel runs in the batch (default %(default)s)")
    parser.add_argument("--tasks", default=",".join(bench_scoring.TASKS),
                        help=f"comma-separated tasks among {','.join(bench_scoring.TASKS)}")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument("--tune", action="store_true",
                        help="turn a virtual machine's free page reporting off while it runs (root; restored after)")
    args = parser.parse_args(argv)
    args.parts = [part.strip() for part in args.parts.split(",")]
    unknown = [part for part in args.parts if part not in PARTS]
    if unknown:
        parser.error(f"--parts: unknown part(s) {', '.join(unknown)}; choose among {','.join(PARTS)}")
    if args.reruns < 2 or args.jobs < 1:
        parser.error("--reruns must be at least 2 and --jobs at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def table(header: list[str], rows: list[list[str]]) -> None:
        print(bench_scoring.format_table(header, rows, args.markdown))
        print()

    with tuned_memory(args.tune, log) as memory_state:
        print(f"Machine: {bench_scoring.machine_description()}; {memory_state}\n")
        return measure_parts(args, log, table)


def measure_parts(args: argparse.Namespace, log: Callable[[str], None], table: Callable) -> int:
    """Every part of ``args.parts``, then the targets' table; the scoring part's status."""
    status = 0
    targets: list[Target] = []
    if "scoring" in args.parts:
        print(f"## Scoring (load before: {load()})\n")
        scoring_args = bench_scoring.parse_args(["--scales", args.scales, "--repeat", str(args.repeat),
                                                 "--tasks", args.tasks])
        results = bench_scoring.measure(scoring_args)
        status = bench_scoring.report(results, args.repeat, args.markdown)
        targets += scoring_targets(results)
        print(f"\nLoad after: {load()}\n")
    docker_parts = [part for part in ("cost", "overhead", "demo") if part in args.parts]
    from bundlekit.run import docker_available, image_available  # noqa: PLC0415

    if docker_parts and (not docker_available() or not image_available(DEFAULT_IMAGE)):
        print(f"(skipped {', '.join(docker_parts)}: no Docker engine, or no image {DEFAULT_IMAGE}: bundlekit image)")
        docker_parts = []
    if docker_parts:
        targets += docker_parts_run(args, docker_parts, log, table)
    if targets:
        print(f"## Targets ({sum(t.met for t in targets)} of {len(targets)} met)\n")
        table(["figure", "target", "measured", "met"],
              [[t.what, t.goal, t.measured, "yes" if t.met else "**no**" if args.markdown else "NO"] for t in targets])
    return status


def docker_parts_run(args: argparse.Namespace, docker_parts: list[str], log, table) -> list[Target]:
    """The parts that run in Docker, on bundles built for them; their targets."""
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        work = Path(scratch)
        bundles = {}
        if {"cost", "overhead"} & set(docker_parts):
            for key in args.tasks.split(","):
                task = bench_scoring.TASKS[key].bundle
                log(f"building {task}")
                options = BuildOptions(bundles_dir=bench_scoring.REPO / "bundles", out=work / "dist",
                                       progress=lambda _: None)
                bundles[task] = build_task(task, options).bundle_dir
        code_runs: list[TimedRun] = []
        if "cost" in args.parts:
            print(f"## Cost columns over {args.reruns} reruns, Test phase, in Docker (load before: {load()})\n")
            rows, code_runs, spread_targets = cost_part(bundles, args.reruns, args.jobs, work / "cost", log)
            targets += spread_targets
            header = ["task", "code baseline", "runs"]
            for column in COST_COLUMNS:
                header += [f"{column} median", f"{column} spread"]
            table(header, rows)
            print(f"Load after: {load()}\n")
        if "overhead" in args.parts:
            print(f"## Runner overhead per run, in Docker (load before: {load()})\n")
            rows, overhead_targets = overhead_part(bundles, args.reruns, code_runs, work / "overhead", log)
            targets += overhead_targets
            table(["runs", "count", "run wall (s)", "its programs (s)", "overhead median (s)", "overhead max (s)"], rows)
            print(f"Load after: {load()}\n")
        if "demo" in args.parts:
            print(f"## make demo (load before: {load()})\n")
            seconds = demo_part(work, log)
            print(f"bundlekit demo: {seconds:.0f} s ({seconds / 60:.1f} min) for four bundles and 48 runs in Docker\n")
            print(f"Load after: {load()}\n")
            targets.append(Target("bundlekit demo (make demo without the virtualenv)", f"under {DEMO_S:g} s",
                                  f"{seconds:.0f} s", seconds < DEMO_S))
    return targets


if __name__ == "__main__":
    raise SystemExit(main())
