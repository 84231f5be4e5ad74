"""The ``bundlekit run`` command line."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from bundlekit.bundle_model import BundleError
from bundlekit.run.bundle import Bundle
from bundlekit.run.docker_engine import docker_available
from bundlekit.run.engine import DEFAULT_MEMORY, DEFAULT_PIDS, parse_memory
from bundlekit.run.report import print_one, print_table
from bundlekit.run.result import result_to_json
from bundlekit.run.session import run_many
from bundlekit.unpack import ArchiveError
from scoring_common.check_submission import is_bare_run, zip_command, zip_run_file

#: What --no-docker does not give (RLIMIT_NPROC is not used: it counts every process of the user).
LOCAL_CAVEAT = "no process, memory or network isolation: run only code you trust"


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


def collect_submissions(paths: list[Path], zip_runs: bool = False) -> list[Path]:
    """Expand folders into the zips they hold (sorted); keep zip paths as given.

    A bare run file (``.csv``, ``.txt``) is refused with the command that zips it, or,
    with ``zip_runs``, zipped beside itself (``run.csv`` -> ``run.zip``) and run.
    """
    found: list[Path] = []
    for path in paths:
        if is_bare_run(path):
            if not zip_runs:
                raise BundleError(f"{path} is a bare run file; the platform takes a zip holding it at its root: "
                                  f"{zip_command(path.with_suffix('.zip'), [str(path)])} (or add --zip-runs)")
            target = zip_run_file(path)
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
            results = run_many(
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
        print_one(results[0], columns)
    else:
        print_table(results, columns)
    return 0 if all(result.status == "finished" for result in results) else 1
