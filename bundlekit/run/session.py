"""Running submissions through a bundle's phase: options, run folders, parallel runs."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from bundlekit import scheduling
from bundlekit.bundle_model import BundleError, select_task
from bundlekit.run.bundle import Bundle
from bundlekit.run.docker_engine import (
    CONTAINER_LABEL,
    docker_available,
    image_available,
    remove_leftover_containers,
)
from bundlekit.run.engine import DEFAULT_MEMORY, DEFAULT_PIDS, POLL_SECONDS, make_dir, parse_memory
from bundlekit.run.result import RunResult
from bundlekit.run.worker import RUN_DIR_ENTRIES, Settings, SubmissionRun

#: Longest run folder name made from a submission's file name.
RUN_NAME_MAX_CHARS = 100


def make_settings(
    bundle: Bundle, use_docker: bool | None, time_limit: float | None, memory: str, pids: int,
    network: bool, image: str | None, keep: bool,
) -> Settings:
    """The options of every run, checked once: limits, the engine, the image (pulled when absent); leftovers removed.

    Raises
    ------
    BundleError
        When an option or the engine keeps any run from happening.
    """
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
    return Settings(use_docker, time_limit, memory, pids, network, image, keep)


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
    parent = make_dir(parent.resolve())
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


def run_submission(bundle: Path | Bundle, submission: Path, phase: str | None, **options: Any) -> RunResult:
    """Run one submission zip through a bundle's phase, as the platform would.

    ``options`` are those of :func:`run_many` but ``jobs`` and ``progress``; ``output_dir`` is
    the run folder itself (default a new temporary folder).
    """
    return run_many(bundle, [submission], phase, single_run_dir=True, **options)[0]


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
    """Run several submissions in parallel, as the platform would; results in the order of ``submissions``.

    Parameters
    ----------
    bundle : Path or Bundle
        Built bundle (folder or zip) or participant kit; an open :class:`Bundle` is reused
        (its extractions with it).
    submissions : list of Path
        Submission zips.
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
        Each submission gets a sub-folder of it (default a new temporary folder).
    keep : bool
        Keep the staged submission and programs in the run folder.
    jobs : int, optional
        Parallel runs, default min(4, CPUs).
    progress : bool
        A progress bar on stderr.
    single_run_dir : bool
        Use ``output_dir`` itself as the run folder of a single submission.
    force : bool
        Replace what an earlier run left in the run folder (refused otherwise).

    Raises
    ------
    BundleError
        When the bundle, options or engine prevent any run.
    """
    if not isinstance(bundle, Bundle):
        with Bundle(Path(bundle)) as loaded:
            return run_many(loaded, submissions, phase, task=task, use_docker=use_docker, time_limit=time_limit,
                            memory=memory, pids=pids, network=network, image=image, output_dir=output_dir, keep=keep,
                            jobs=jobs, progress=progress, single_run_dir=single_run_dir, force=force)
    from tqdm import tqdm

    submissions = [Path(s) for s in submissions]
    if not submissions:
        raise BundleError("no submission to run")
    jobs = max(1, jobs or min(4, os.cpu_count() or 1))
    chosen_phase = bundle.phase(phase)
    chosen_task = select_task(chosen_phase, task)
    settings = make_settings(bundle, use_docker, time_limit, memory, pids, network, image, keep)
    if single_run_dir and len(submissions) == 1:
        run_dirs = [Path(output_dir or tempfile.mkdtemp(prefix="bundlekit-run-")).resolve()]
    else:
        run_dirs = _run_dirs(output_dir, submissions)
    _refuse_existing(run_dirs, force)
    cancel = threading.Event()
    results: list[RunResult | None] = [None] * len(submissions)
    runs = [SubmissionRun(bundle, chosen_phase, chosen_task, sub, run_dir, settings, cancel)
            for sub, run_dir in zip(submissions, run_dirs)]
    live = progress and len(runs) == 1 and sys.stderr.isatty()
    pool_options = {"initializer": scheduling.pin_current_thread, "initargs": (scheduling.untimed_cpus(),)}
    with ThreadPoolExecutor(max_workers=jobs, **pool_options) as pool, tqdm(
        total=len(submissions), unit="submission", file=sys.stderr,
        disable=not progress or len(submissions) < 2,
    ) as bar, StepFeedback(runs[0] if live else None):
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
            for run in runs:  # this call's containers only: concurrent calls each wait for their own
                run.engine.wait_for_removals()
    return [result for result in results if result is not None]


class StepFeedback:
    """On a terminal, one line kept up to date: the running step, its elapsed time and its limit."""

    def __init__(self, run: SubmissionRun | None):
        self.run = run
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._show, daemon=True)

    def __enter__(self) -> "StepFeedback":
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
