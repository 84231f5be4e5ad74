"""Build every bundle and run its baselines the way the platform would (`make demo`).

Each baseline solution of each bundle (as results on its split, and as code on both
splits) goes through the local runner: inside the kit's Docker image when an engine
answers (the image is built first if missing), as local processes otherwise. The
scores the runner gets must equal those the build computed in-process.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bundlekit import DEFAULT_IMAGE
from bundlekit.build import SPLITS, BuildError, BuildOptions, BuildResult, available_tasks, build_task
from bundlekit.project import add_bundles_dir_option, default_dist_dir, find_bundles_dir
from bundlekit.run import Bundle, RunResult, run_many
from scoring_common.program import COST_KEYS

PHASE_OF_SPLIT = {"dev": "Development", "test": "Test"}
#: Scores are compared to this many decimals (the runner reads them back from scores.json).
TOLERANCE = 1e-9


def solution_runs(bundle_dir: Path) -> list[tuple[Path, str, str]]:
    """(submission zip, split, phase) of every baseline: results on their split, code on both."""
    runs = []
    for zip_path in sorted((bundle_dir / "solutions").glob("*.zip")):
        stem = zip_path.stem
        for split in SPLITS:
            if stem.endswith(f"-results-{split}") or stem.endswith("-code"):
                runs.append((zip_path, split, PHASE_OF_SPLIT[split]))
    return runs


def baseline_name(zip_path: Path) -> str:
    stem = zip_path.stem
    return stem.rsplit("-results-", 1)[0] if "-results-" in stem else stem.removesuffix("-code")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tasks", nargs="*", metavar="TASK", help="tasks (default: all under bundles/)")
    parser.add_argument("--no-docker", action="store_true", help="run as local processes even if Docker is there")
    parser.add_argument("--out", type=Path, help="output folder (default: dist/ beside the task folder)")
    add_bundles_dir_option(parser)
    parser.add_argument("--jobs", type=int, default=2, help="submissions run in parallel (default %(default)s)")


def run_command(args: argparse.Namespace) -> int:
    from bundlekit.image import ImageError, ensure_image  # noqa: PLC0415
    from bundlekit.run import docker_available  # noqa: PLC0415

    use_docker = not args.no_docker and docker_available()
    if use_docker:
        try:
            ensure_image(DEFAULT_IMAGE)
        except ImageError as exc:
            print(f"demo: cannot build the image ({exc}); running as local processes", file=sys.stderr)
            use_docker = False
    where = f"in Docker ({DEFAULT_IMAGE})" if use_docker else "as local processes (no Docker engine answers)"
    bundles_dir = find_bundles_dir(args.bundles_dir)
    tasks = args.tasks or available_tasks(bundles_dir)
    if not tasks:
        print(f"demo: no task under {bundles_dir}; start one with `bundlekit new NAME --kind KIND`", file=sys.stderr)
        return 1
    out = (args.out or default_dist_dir(bundles_dir)).resolve()
    # Each task's runs start as soon as it is built, while the next one builds; all share one pool.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool, ExitStack() as bundles:
        submitted: list[tuple[str, BuildResult, list[tuple[Path, str, str, Future]]]] = []
        for task in tasks:
            try:
                built = build_task(task, BuildOptions(bundles_dir=bundles_dir, out=out))
            except BuildError as exc:
                print(f"demo: {exc}", file=sys.stderr)
                return 1
            bundle = bundles.enter_context(Bundle(built.bundle_zip))
            runs = sorted(solution_runs(built.bundle_dir), key=lambda run: list(PHASE_OF_SPLIT.values()).index(run[2]))
            print(f"[{task}] running {len(runs)} baseline submissions {where}", file=sys.stderr, flush=True)
            submitted.append((task, built, [
                (zip_path, split, phase, pool.submit(_run_one, bundle, zip_path, phase, use_docker))
                for zip_path, split, phase in runs
            ]))
        mismatches: list[str] = []
        total = 0
        for task, built, runs in submitted:
            titles: list[str] = []
            rows: list[list[str]] = []
            for zip_path, split, phase, future in runs:
                result = future.result()
                expected = built.baseline_scores[baseline_name(zip_path)][split]
                titles = titles or [title for _, title, _ in result.leaderboard]
                rows.append([zip_path.stem, phase, result.status]
                            + [f"{v:.4f}" if v is not None else "" for _, _, v in result.leaderboard])
                if result.status != "finished":
                    mismatches.append(f"{task} {zip_path.name} on {phase}: {result.reason}")
                    continue
                for key, value in result.scores.items():
                    if key not in COST_KEYS and abs(value - expected[key]) > TOLERANCE:
                        mismatches.append(f"{task} {zip_path.name} on {phase}: {key} {value} != in-process {expected[key]}")
            print(f"\n{task}")
            _print_table(["submission", "phase", "status", *titles], rows)
            total += len(rows)
    if mismatches:
        print("\n".join(["demo: the platform-like runs disagree with the build:", *mismatches]), file=sys.stderr)
        return 1
    print(f"\nAll {total} baseline runs finished {where} with the scores computed in-process.")
    return 0


def _run_one(bundle: Bundle, zip_path: Path, phase: str, use_docker: bool) -> RunResult:
    """One baseline run, in a new temporary folder, with the runner's defaults."""
    return run_many(bundle, [zip_path], phase, use_docker=use_docker, jobs=1)[0]


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    table = [header] + [row + [""] * (len(header) - len(row)) for row in rows]
    sizes = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(size) for cell, size in zip(row, sizes)).rstrip())
