"""Build competition bundles: `bundlekit build [TASK ...]` (same as `python build_bundles.py`).

For each task under ``bundles/`` the build generates (or takes with ``--data``) the
data of the dev and test splits, computes the best single inducer of each split, copies
``scoring_common`` into every program, runs every baseline solution through the
ingestion and scoring programs, renders ``competition.yaml``, checks the result and
writes ``dist/<task>/`` and ``dist/<task>.zip``, byte-identical from build to build.
Everything is built in a scratch folder and moved to ``dist/`` only once the build and
the check succeeded; a failed build removes the task's previous outputs, so that no
stale or rejected bundle is left to upload.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from bundlekit import DEFAULT_IMAGE, layers, participant
from bundlekit.bundle_model import Competition, load_yaml
from bundlekit.project import SCORING_COMMON_DIR, add_bundles_dir_option, default_dist_dir, find_bundles_dir
from bundlekit.archive import ArchiveTooLarge, DeflateCache, iter_files, zip_directory
from bundlekit.check import TEMPLATE_PLACEHOLDER
from bundlekit.declaration import (DeclarationError, TaskDeclaration, check_item_columns, check_leaderboard,
                                   check_scoring_primary, declared, load_declaration)
from bundlekit.fusion_io_derivation import FUSION_IO
from bundlekit.platform_rules import email_problem, parse_utc_date, upload_name_problem
from scoring_common.ingestion import CODE_SUBMISSION_METADATA
from scoring_common.program import COST_KEYS

SPLITS = ("dev", "test")
#: The split whose ground truth participants get; every figure of the other stays out of the pages and kits.
PUBLIC_SPLIT = "dev"
DATE_FORMAT = "%Y-%m-%d %H:%M"
#: Share of the phase's time limit given to the participant's code (the rest is for
#: starting the containers, loading and scoring).
CODE_TIME_SHARE = 0.8
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
#: What a task's build writes into the output folder, by task name.
OUTPUTS = ("{task}", "{task}.zip", "{task}.baselines.json", "{task}-participant.zip")
#: How ``write_run`` (made for participants' predictions) names the culprit, and the inducer's wording.
PREDICT_WORDS = {"Fusion.predict returned": "the inducer has", "Fusion.predict gave": "the inducer gives",
                 "Fusion.predict left out": "the inducer leaves out", "Fusion.predict": "the inducer"}


class BuildError(Exception):
    """A problem with the task sources or the organiser's data, explained in one line."""


#: The ingestion program's entry point, the same for every task: the build adds it to each.
KIT_INGEST = Path(__file__).resolve().parent / "programs" / "ingest.py"


@dataclass
class BuildOptions:
    """Everything a build can be told; the defaults give the reference bundles."""

    edition: str | None = None
    seed: int = 2023
    data: Path | None = None
    docker_image: str = DEFAULT_IMAGE
    contact_email: str = "imageclef-fusion@example.org"
    dev_start: datetime = datetime(2027, 1, 15)
    test_start: datetime = datetime(2027, 4, 1)
    test_end: datetime = datetime(2027, 5, 1)
    bundles_dir: Path = field(default_factory=find_bundles_dir)
    out: Path = field(default_factory=lambda: default_dist_dir(find_bundles_dir()))
    check: bool = True
    progress: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr, flush=True))


@dataclass
class BuildResult:
    """What a build produced for one task."""

    task: str
    bundle_dir: Path
    bundle_zip: Path
    baseline_scores: dict[str, dict[str, dict[str, float]]]  # solution -> split -> scores
    best_inducers: dict[str, dict[str, Any]]  # split -> baseline.json content


def available_tasks(bundles_dir: Path | None = None) -> list[str]:
    """Names of the task sources under ``bundles_dir`` (default: the project's ``bundles/``)."""
    folder = bundles_dir or find_bundles_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "task.py").is_file())


def load_module(path: Path, name: str) -> ModuleType:
    """Import a Python file by path (task hooks, scoring or ingestion code)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def module_name(task: str, part: str) -> str:
    return f"_bundle_{task.replace('-', '_')}_{part}"


def load_task(source: Path, task: str) -> tuple[ModuleType, TaskDeclaration]:
    """The task.py of ``source`` and its checked ``TASK`` declaration, named ``task``.

    Raises
    ------
    BuildError
        One line naming task.py and the field, on an invalid or missing declaration.
    """
    path = source / "task.py"
    try:
        module = load_module(path, module_name(task, "task"))
        return module, load_declaration(module, path, task)
    except DeclarationError as exc:
        raise BuildError(str(exc) if str(exc).startswith(str(path)) else str(declared(path, exc))) from None


def build_task(task: str, options: BuildOptions) -> BuildResult:
    """Build one task's bundle into ``options.out``; on failure, remove its previous outputs there."""
    source = options.bundles_dir / task
    if not (source / "task.py").is_file():
        known = ", ".join(available_tasks(options.bundles_dir)) or "none, start one with `bundlekit new`"
        raise BuildError(f"no task named {task!r} in {options.bundles_dir}; tasks: {known}")
    try:
        with tempfile.TemporaryDirectory(prefix=f"build-{task}-") as scratch_name:
            result = _build(task, source, options, Path(scratch_name))
    except BaseException as exc:
        note = _remove_outputs(task, options.out)
        if isinstance(exc, BuildError):
            raise BuildError(f"{exc}{note}") from None
        if note:
            options.progress(f"[{task}] build failed{note}")
        raise
    bundle_zip = result.bundle_zip
    shown = bundle_zip.relative_to(Path.cwd()) if Path.cwd() in bundle_zip.parents else bundle_zip
    options.progress(f"[{task}] built {shown}")
    return result


def _build(task: str, source: Path, options: BuildOptions, scratch: Path) -> BuildResult:
    """Build and check the bundle in ``scratch``, then move it into ``options.out``."""
    say = options.progress
    _, hooks = load_task(source, task)
    yaml_doc = _render_yaml(source, options, hooks)
    _check_declared_leaderboard(hooks, yaml_doc, source)
    data, where = _prepare_data(task, hooks, options, scratch / "data")
    staged = scratch / "staged"
    code_time_limit = _code_time_limit(yaml_doc)
    # The programs, starting kit and baselines: the kind's files, overridden by the task's own.
    try:
        layered = layers.materialise(source, hooks, scratch / "source")
    except DeclarationError as exc:
        raise BuildError(f"task.py of {hooks.name}: {exc}") from None
    programs = _stage_programs(layered, staged, code_time_limit)
    # Imported from the task's own file, else the layered one (identical to the staged copies, without
    # scoring_common), so that scoring_common resolves to the kit's own package.
    scoring = load_module(layers.own_or(source, layered, "scoring_program/score.py"), module_name(task, "score"))
    # The task's fusion_io.py, its kind's, or (layers) the one derived from TASK.
    fusion_io = load_module(layers.own_or(source, layered, FUSION_IO), module_name(task, "fusion_io"))
    public_truth = _public_truth_files(hooks, data)
    inputs = _input_files(task, hooks, data, where, say)
    accepted = _accepted_warnings(source, hooks, public_truth)
    accepted.update(image_warnings_accepted(options.docker_image))
    scorer = layers.origin(source, hooks, "scoring_program/score.py")
    for split in SPLITS:
        _stage_input(data, split, staged, public_truth, inputs)
    _stage_public_data(data, staged, public_truth, inputs)
    # The baselines' fit and predict need the input data only: they run in worker processes
    # while this one scores the inducers; the baselines are scored once the references are staged.
    with _BaselineRuns(task, layered, staged, programs, code_time_limit, say) as baselines:
        best = {}
        for split in SPLITS:
            say(f"[{task}] {split}: scoring every inducer to find the best one")
            best[split] = _best_inducer(hooks, fusion_io, scoring, data, split, scratch / f"inducers-{split}", where)
            _check_declared_primary(hooks, best[split]["primary_metric"], scorer)
            _stage_reference(data, split, best[split], staged)
        solutions, baseline_scores = baselines.scored(scoring)
    _stage_starting_kit(layered, staged, programs)
    participant.stage_kit(staged / "starting_kit", hooks=hooks, public_data=staged / "public_data", public_truth=public_truth,
                          programs=programs, dev_reference=staged / "dev_reference_data",
                          description=participant.kit_description(task, yaml_doc, code_time_limit, best["dev"]))
    yaml_doc["solutions"] = solutions
    _check_leaderboard_keys(yaml_doc, baseline_scores)
    for name in (f"{task}.zip",):
        too_long = upload_name_problem(name)
        if too_long is not None:
            raise BuildError(f"{too_long}; give the task a shorter name (its folder under bundles/)")
    pages_vars = {"baseline_table": _baseline_table(baseline_scores, best, yaml_doc),
                  "edition": options.edition or hooks.default_edition,
                  "contact_email": options.contact_email}
    outputs = scratch / "out"
    _write_bundle(source, staged, outputs / task, yaml_doc, pages_vars)
    _zip(outputs / task, outputs / f"{task}.zip")
    shutil.copyfile(outputs / task / "starting_kit.zip", outputs / f"{task}-participant.zip")
    (outputs / f"{task}.baselines.json").write_text(
        json.dumps({"best_inducers": best, "solutions": baseline_scores}, indent=2, sort_keys=True) + "\n")
    _run_checker(task, outputs / f"{task}.zip", accepted, only_leaks=not options.check)
    _publish(task, outputs, options.out)
    return BuildResult(task, options.out / task, options.out / f"{task}.zip", baseline_scores, best)


def _publish(task: str, outputs: Path, out: Path) -> None:
    """Replace the task's previous outputs in ``out`` by the new ones."""
    _remove_outputs(task, out)
    out.mkdir(parents=True, exist_ok=True)
    for pattern in OUTPUTS:
        shutil.move(outputs / pattern.format(task=task), out / pattern.format(task=task))


def _remove_outputs(task: str, out: Path) -> str:
    """Delete what a previous build of ``task`` left in ``out``; say what, or nothing when there was none."""
    removed = []
    for pattern in OUTPUTS:
        target = out / pattern.format(task=task)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            continue
        removed.append(target.name + "/" * (pattern == "{task}"))
    if not removed:
        return ""
    return f"; removed the previous {', '.join(removed)} from {out}, so that no stale bundle can be uploaded"


def _prepare_data(task: str, hooks: TaskDeclaration, options: BuildOptions, dest: Path) -> tuple[Path, str]:
    """The data folder and how messages name it; checked by the task's ``validate_data`` hook, if any."""
    if options.data is not None:
        missing = [f"{split}/{part}" for split in SPLITS for part in ("input_data", "reference_data")
                   if not (options.data / split / part).is_dir()]
        if missing:
            raise BuildError(f"--data {options.data}: missing folder(s) {', '.join(missing)}; "
                             "lay the files out as DIR/{dev,test}/{input_data,reference_data}/ (docs/data.md)")
        data, where = options.data, f"--data {options.data}"
    else:
        edition = options.edition or hooks.default_edition
        options.progress(f"[{task}] generating stand-in data: edition {edition}, seed {options.seed}")
        try:
            hooks.generate_data(dest, edition=edition, seed=options.seed, progress=options.progress)
        except ValueError as exc:
            raise BuildError(f"[{task}] {exc}") from None
        data, where = dest, f"[{task}] stand-in data"
    validate = hooks.validate_data
    if validate is not None:
        try:
            validate(data)
        except (ValueError, OSError) as exc:
            raise BuildError(f"{where}: {_reason(exc, data)}") from None
    return data, where


def _reason(exc: BaseException, data: Path) -> str:
    """A reader's one-line message, with paths shown from the data folder."""
    text = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
    for prefix in {f"{data.resolve()}{os.sep}", f"{data}{os.sep}"}:
        text = re.sub(rf"(?<![\w.{re.escape(os.sep)}-]){re.escape(prefix)}", "", text)
    return text


def _render_yaml(source: Path, options: BuildOptions, declaration: TaskDeclaration) -> dict:
    """competition.yaml with the build's values; a first leaderboard without ``columns`` gets the declared ones."""
    problem = email_problem(options.contact_email)
    if problem is not None:
        raise BuildError(f"contact e-mail: {problem}")
    if not options.dev_start < options.test_start < options.test_end:
        raise BuildError("dates must satisfy --dev-start < --test-start < --test-end")
    one_minute = timedelta(minutes=1)
    values = {
        "docker_image": options.docker_image,
        "contact_email": options.contact_email,
        "dev_start": options.dev_start.strftime(DATE_FORMAT),
        "dev_end": (options.test_start - one_minute).strftime(DATE_FORMAT),
        "test_start": options.test_start.strftime(DATE_FORMAT),
        "test_end": options.test_end.strftime(DATE_FORMAT),
        "post_start": (options.test_end + one_minute).strftime(DATE_FORMAT),
    }
    text = (source / "competition.yaml").read_text(encoding="utf-8")
    unknown = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if unknown:
        raise BuildError(f"{source / 'competition.yaml'}: unknown placeholder(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(values))}")
    document = load_yaml(PLACEHOLDER.sub(lambda m: values[m.group(1)], text))
    boards = document.get("leaderboards") if isinstance(document, dict) else None
    if isinstance(boards, list) and boards and isinstance(boards[0], dict) and "columns" not in boards[0]:
        boards[0]["columns"] = layers.leaderboard_columns(declaration)
    return document


def _code_time_limit(yaml_doc: dict) -> int:
    shortest = min(phase.execution_time_limit for phase in Competition.from_document(yaml_doc).phases)
    return max(1, int(int(shortest) * CODE_TIME_SHARE))


def _stage_programs(source: Path, staged: Path, code_time_limit: int) -> dict[str, Path]:
    """Copy each program with its own copy of scoring_common; set the code time budget.

    The ingestion program's entry point is the kit's (``KIT_INGEST``) unless the task ships its own.
    """
    programs = {}
    for name in ("scoring_program", "ingestion_program"):
        target = staged / name
        _copy_tree(source / name, target)
        _copy_tree(SCORING_COMMON_DIR, target / "scoring_common")
        programs[name] = target
    if not (programs["ingestion_program"] / KIT_INGEST.name).is_file():
        shutil.copyfile(KIT_INGEST, programs["ingestion_program"] / KIT_INGEST.name)
    metadata = programs["ingestion_program"] / "metadata.yaml"
    command = metadata.read_text(encoding="utf-8").strip()
    words = command.split(" ")
    if words[-1].isdigit():
        words[-1] = str(code_time_limit)
    metadata.write_text(" ".join(words) + "\n", encoding="utf-8")
    return programs


def _copy_tree(source: Path, target: Path) -> None:
    for path in iter_files(source):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def _best_inducer(hooks: TaskDeclaration, fusion_io: ModuleType, scoring: ModuleType, data: Path, split: str,
                  scratch: Path, where: str) -> dict[str, Any]:
    """Score every inducer of a split with the task's own evaluation; keep the best.

    Any refusal of the readers stops the build with the split, the inducer (or the loading)
    and the reader's message; so does a best score of 0 or less, over which no gain exists.
    """
    from scoring_common.errors import InternalError, ParticipantError  # noqa: PLC0415

    scratch.mkdir(parents=True)
    what = "loading the inducers"
    best: dict[str, Any] | None = None
    try:
        X = fusion_io.load_inducers(data / split / "input_data")
        check_item_columns(hooks, X, Path(fusion_io.__file__))
        for name, prediction in hooks.inducer_predictions(X):
            what = f"inducer {name}"
            run = scratch / fusion_io.RUN_FILE_NAME
            fusion_io.write_run(prediction, X, run)
            evaluation = scoring.evaluate(data / split / "reference_data", run)
            score = evaluation.scores[evaluation.primary]
            if best is None or score > best["scores"][best["primary_metric"]]:
                best = {"best_inducer": name, "primary_metric": evaluation.primary,
                        "scores": dict(evaluation.scores)}
    except DeclarationError as exc:
        raise BuildError(str(exc)) from None
    except ParticipantError as exc:
        raise BuildError(f"{where}: {split} split, {what}: not a valid run: {_as_inducer(_reason(exc, data))}; "
                         "correct the inducer in the data") from None
    except (InternalError, ValueError, KeyError, OSError) as exc:
        raise BuildError(f"{where}: {split} split, {what}: {_reason(exc, data)}") from None
    if best is None:
        raise BuildError(f"{where}: {split} split: no inducer; give the split's input data at least one")
    primary = best["scores"][best["primary_metric"]]
    if not primary > 0:
        raise BuildError(f"{where}: {split} split: the best inducer, {best['best_inducer']}, scores {primary:g} "
                         f"({best['primary_metric']}), so the gain over it is undefined; check the split's "
                         "reference data (with no positive label at all, every inducer scores 0)")
    return best


def _as_inducer(message: str) -> str:
    """A ``write_run`` refusal, written for a participant's Fusion.predict, reworded for an inducer."""
    for words, replacement in PREDICT_WORDS.items():
        message = message.replace(words, replacement)
    return message.rsplit("; ", 1)[0]  # the participant's fix does not apply


def image_warnings_accepted(docker_image: str) -> dict[str, str]:
    """The image warning a build accepts: a tag-pinned image is fine for local runs, not for a platform."""
    from bundlekit.registry import is_pinned_by_digest  # noqa: PLC0415

    if is_pinned_by_digest(docker_image):
        return {}
    return {"docker.no-digest": "built with a tag, for local runs; to publish, build with --image "
                                "NAME@sha256:... from `bundlekit image --push`"}


def _accepted_warnings(source: Path, hooks: TaskDeclaration, public_truth: list[str]) -> dict[str, str]:
    """The checker warnings the task acknowledges: ``TASK.accepted_warnings``, rule id -> reason.

    Accepting ``leak.public-reference`` acknowledges the dev reference files the build
    publishes (``TASK.public_truth_files``): a task that publishes none may not accept it.
    """
    from bundlekit.check import RULES  # noqa: PLC0415

    accepted = dict(hooks.accepted_warnings)
    where = f"{source / 'task.py'}: TASK.accepted_warnings"
    unknown = sorted(set(accepted) - RULES)
    if unknown:
        raise BuildError(f"{where} names unknown rule(s) {', '.join(unknown)}; use the bracketed ids of the "
                         "checker's output")
    unexplained = sorted(rule for rule, reason in accepted.items() if not str(reason).strip())
    if unexplained:
        raise BuildError(f"{where}: {', '.join(unexplained)} without a reason; say why the warning is there by design")
    if "leak.public-reference" in accepted and not public_truth:
        raise BuildError(f"{where} accepts leak.public-reference, but public_truth_files publishes no dev reference "
                         "file; remove it, so that a leak is reported")
    return accepted


def _public_truth_files(hooks: TaskDeclaration, data: Path) -> list[str]:
    """The dev reference files participants get to train on (``TASK.public_truth_files``).

    By default every dev reference file; a task keeps some hidden (a curated concept
    list shared with the test split, say) by listing only the others.
    """
    reference = data / "dev" / "reference_data"
    names = hooks.public_truth_files
    if names is None:
        return [p.relative_to(reference).as_posix() for p in iter_files(reference)]
    missing = [name for name in names if not (reference / name).is_file()]
    if missing:
        raise BuildError(f"{reference}: missing {', '.join(missing)} (listed in TASK.public_truth_files)")
    return list(names)


def _input_files(task: str, hooks: TaskDeclaration, data: Path, where: str,
                 say: Callable[[str], None]) -> dict[str, list[str]]:
    """Each split's input files the task declares (``TASK.input_files``, globs); the others are not published.

    A glob's ``*`` stays within one folder. The files left out are named in one line.
    """
    patterns = hooks.input_files
    inputs, left_out = {}, []
    for split in SPLITS:
        folder = data / split / "input_data"
        names = [p.relative_to(folder).as_posix() for p in iter_files(folder)]
        inputs[split] = [name for name in names if any(_glob_match(name, pattern) for pattern in patterns)]
        left_out += [f"{split}/input_data/{name}" for name in names if name not in inputs[split]]
        if not inputs[split]:
            raise BuildError(f"{where}: {split}/input_data holds none of the task's input files "
                             f"({', '.join(patterns)}); lay the files out as docs/data.md shows")
    if left_out:
        shown = ", ".join(left_out[:3]) + (f" and {len(left_out) - 3} more" if len(left_out) > 3 else "")
        say(f"[{task}] not published (not an input file of the task: {', '.join(patterns)}): {shown}")
    return inputs


def _glob_match(name: str, pattern: str) -> bool:
    """Whether a posix path matches a glob whose ``*`` never crosses a folder."""
    parts, wanted = name.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted))


def _copy_files(source: Path, names: list[str], target: Path) -> None:
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)


def _stage_input(data: Path, split: str, staged: Path, public_truth: list[str], inputs: dict[str, list[str]]) -> None:
    """input_data: train/ (dev inducers and truth) and predict/ (this split's inducers).

    Both sit in one wrapping folder: current Codabench moves the contents of a data zip's
    first folder to its root when it unpacks it, AI4MediaBench does not; the ingestion
    program finds train/ and predict/ either way.
    """
    input_dir = staged / f"{split}_input_data" / "data"
    _copy_files(data / "dev" / "input_data", inputs["dev"], input_dir / "train")
    _copy_files(data / "dev" / "reference_data", public_truth, input_dir / "train")
    _copy_files(data / split / "input_data", inputs[split], input_dir / "predict")


def _stage_reference(data: Path, split: str, best: dict, staged: Path) -> None:
    """reference_data: the split's ground truth, its best inducer's scores and whether it is public."""
    reference = staged / f"{split}_reference_data"
    _copy_tree(data / split / "reference_data", reference)
    (reference / "baseline.json").write_text(json.dumps(best, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    # The scorer shows per-item figures of public splits only (the dev ground truth is public by design).
    split_info = {"split": split, "public": split == PUBLIC_SPLIT}
    (reference / "split.json").write_text(json.dumps(split_info, sort_keys=True) + "\n", encoding="utf-8")


def _stage_public_data(data: Path, staged: Path, public_truth: list[str], inputs: dict[str, list[str]]) -> None:
    """What participants download: dev inducers and truth, test inducers."""
    public = staged / "public_data"
    _copy_files(data / "dev" / "input_data", inputs["dev"], public / "dev")
    _copy_files(data / "dev" / "reference_data", public_truth, public / "dev")
    _copy_files(data / "test" / "input_data", inputs["test"], public / "test")


@dataclass(frozen=True)
class _BaselineRun:
    """One baseline's code run on one split, in its own work folder (``input/res`` gets the run)."""

    name: str
    split: str
    code_dir: Path
    input_dir: Path
    work: Path


class _BaselineRuns:
    """Every baseline run as code on both splits, in worker processes; shipped as code and as results.

    Entering stages the code and starts the runs, spread over the CPUs this process may use.
    The ingestion runs one fusion per process at a time (it kills whatever else its process
    started), so each worker is a process of its own (spawned: this process may have threads).
    :meth:`scored` waits for them and scores them; the first failure, in the order of the runs,
    stops the build. Leaving early (an error elsewhere) cancels the runs not yet started.
    """

    def __init__(self, task: str, source: Path, staged: Path, programs: dict[str, Path], code_time_limit: int,
                 say: Callable[[str], None]):
        self.staged = staged
        self.runs: list[_BaselineRun] = []
        for solution in sorted(p for p in (source / "solutions").iterdir() if (p / "fusion.py").is_file()):
            code_dir = staged / "solutions" / f"{solution.name}-code"
            _copy_tree(solution, code_dir)
            (code_dir / "metadata").write_text(CODE_SUBMISSION_METADATA, encoding="utf-8")
            for split in SPLITS:
                say(f"[{task}] baseline {solution.name}: fit on dev, predict {split}, score")
                work = staged.parent / "runs" / solution.name / split
                (work / "input" / "res").mkdir(parents=True)
                self.runs.append(_BaselineRun(solution.name, split, code_dir, staged / f"{split}_input_data", work))
        if not self.runs:
            raise BuildError(f"{source / 'solutions'}: no solution (a folder with fusion.py)")
        self.ingestion_program = programs["ingestion_program"]
        self.code_time_limit = code_time_limit

    def __enter__(self) -> "_BaselineRuns":
        import multiprocessing  # noqa: PLC0415
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        workers = max(1, min(len(self.runs), len(os.sched_getaffinity(0))))
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        self.futures = [self.pool.submit(_run_baseline, self.ingestion_program, run.input_dir,
                                         run.work / "input" / "res", run.code_dir, self.code_time_limit)
                        for run in self.runs]
        return self

    def __exit__(self, *_: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def scored(self, scoring: ModuleType) -> tuple[list[dict], dict]:
        """The solutions' yaml entries and every baseline's scores per split (the references staged)."""
        from scoring_common.errors import ParticipantError  # noqa: PLC0415
        from scoring_common.program import score_submission  # noqa: PLC0415

        entries: list[dict] = []
        scores: dict[str, dict[str, dict[str, float]]] = {}
        for run, future in zip(self.runs, self.futures):
            try:
                run_file = future.result()
            except ParticipantError as exc:
                raise BuildError(f"baseline {run.name} failed on {run.split}: {exc}") from None
            description = _docstring_summary(run.code_dir / "fusion.py")
            results_dir = self.staged / "solutions" / f"{run.name}-results-{run.split}"
            results_dir.mkdir(parents=True)
            shutil.copyfile(run.work / "input" / "res" / run_file, results_dir / run_file)
            shutil.copytree(self.staged / f"{run.split}_reference_data", run.work / "input" / "ref")
            (run.work / "out").mkdir()
            scores.setdefault(run.name, {})[run.split] = score_submission(scoring.TASK, run.work / "input",
                                                                          run.work / "out")
            entries.append({"name": f"{run.name} (results, {run.split})", "description": description,
                            "tasks": [SPLITS.index(run.split)],
                            "path": f"solutions/{run.name}-results-{run.split}.zip"})
            if run.split == SPLITS[-1]:
                entries.append({"name": f"{run.name} (code)", "description": description,
                                "tasks": list(range(len(SPLITS))), "path": f"solutions/{run.name}-code.zip"})
        for index, entry in enumerate(entries):
            entry["index"] = index
        order = ["index", "name", "description", "tasks", "path"]
        return [dict(sorted(entry.items(), key=lambda kv: order.index(kv[0]))) for entry in entries], scores


def _run_baseline(ingestion_program: Path, input_dir: Path, res: Path, code_dir: Path, code_time_limit: int) -> str:
    """Fit on dev and predict one split through the ingestion (in a worker process); the run file's name."""
    from scoring_common.ingestion import locate_data_root, run_fusion  # noqa: PLC0415

    return run_fusion(ingestion_program, locate_data_root(input_dir), res, code_dir, code_time_limit)["run_file"]


def _docstring_summary(path: Path) -> str:
    import ast  # noqa: PLC0415

    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or path.parent.name
    return " ".join(doc.strip().split("\n\n")[0].split())


def _stage_starting_kit(source: Path, staged: Path, programs: dict[str, Path]) -> None:
    kit = staged / "starting_kit"
    if not (source / "starting_kit").is_dir():
        raise BuildError(f"{source / 'starting_kit'} is missing; every task ships a starting kit")
    _copy_tree(source / "starting_kit", kit)
    kit.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(programs["ingestion_program"] / "fusion_io.py", kit / "fusion_io.py")
    _copy_tree(SCORING_COMMON_DIR, kit / "scoring_common")


def _check_declared_leaderboard(declaration: TaskDeclaration, yaml_doc: dict, source: Path) -> None:
    """The first leaderboard's columns must be the declared metrics, then the kit's keys."""
    try:
        check_leaderboard(declaration, yaml_doc["leaderboards"][0]["columns"], source / "competition.yaml")
    except DeclarationError as exc:
        raise BuildError(str(exc)) from None


def _check_declared_primary(declaration: TaskDeclaration, scoring_primary: str, scorer: str) -> None:
    """The scoring program's primary key must be the declared primary metric."""
    try:
        check_scoring_primary(declaration, scoring_primary, scorer)
    except DeclarationError as exc:
        raise BuildError(str(exc)) from None


def _check_leaderboard_keys(yaml_doc: dict, baseline_scores: dict) -> None:
    """The leaderboard's columns must be exactly the keys the scoring program writes."""
    board = yaml_doc["leaderboards"][0]
    columns = {c["key"] for c in board["columns"] if "computation" not in c}
    written = {key for per_split in baseline_scores.values() for scores in per_split.values() for key in scores}
    if columns != written:
        raise BuildError(
            f"leaderboard {board.get('title')!r} columns {sorted(columns)} differ from the keys the scoring "
            f"program writes {sorted(written)}; make competition.yaml's column keys match scores.json"
        )


def _baseline_table(baseline_scores: dict, best: dict, yaml_doc: dict) -> str:
    """The pages' table of baseline scores: the public split only.

    Participants read the pages during the competition: no figure of the hidden test split
    (not even which inducer is best on it) may appear there. The organisers get the test
    figures in ``<task>.baselines.json``.
    """
    columns = [c for c in yaml_doc["leaderboards"][0]["columns"] if c["key"] not in COST_KEYS]
    split = PUBLIC_SPLIT
    header = "| baseline | split | " + " | ".join(c["title"] for c in columns) + " |"
    lines = [header, "|" + " --- |" * (len(columns) + 2)]
    name = best[split]["best_inducer"]
    values = [best[split]["scores"].get(c["key"]) for c in columns]
    lines.append(f"| best single inducer on {split} ({name}) | {split} | "
                 + " | ".join("" if v is None else f"{v:.4f}" for v in values) + " |")
    for solution, per_split in sorted(baseline_scores.items()):
        values = [per_split[split].get(c["key"]) for c in columns]
        lines.append(f"| {solution} | {split} | " + " | ".join("" if v is None else f"{v:.4f}" for v in values) + " |")
    return "\n".join(lines)


def _zip(source: Path, destination: Path, cache: DeflateCache | None = None) -> None:
    try:
        zip_directory(source, destination, cache)
    except ArchiveTooLarge as exc:
        raise BuildError(f"{exc}; no platform takes an upload that large: keep the bundle under 2 GiB "
                         "(fewer or smaller inducer files, or a smaller --edition)") from None


def _write_bundle(source: Path, staged: Path, bundle_dir: Path, yaml_doc: dict, pages_vars: dict) -> None:
    import yaml  # noqa: PLC0415

    bundle_dir.mkdir(parents=True)
    cache = DeflateCache()  # the inducers are in several of these zips: each file is deflated once
    for folder in sorted(p for p in staged.iterdir() if p.is_dir()):
        if folder.name == "solutions":
            for solution in sorted(p for p in folder.iterdir() if p.is_dir()):
                _zip(solution, bundle_dir / "solutions" / f"{solution.name}.zip", cache)
        else:
            _zip(folder, bundle_dir / f"{folder.name}.zip", cache)
    pages = bundle_dir / "pages"
    pages.mkdir()
    for page in sorted((source / "pages").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        unknown = sorted(set(PLACEHOLDER.findall(text)) - set(pages_vars))
        if unknown:
            raise BuildError(f"{page}: unknown placeholder(s) {', '.join(unknown)}; known: {', '.join(sorted(pages_vars))}")
        text = PLACEHOLDER.sub(lambda m: str(pages_vars[m.group(1)]), text)
        if TEMPLATE_PLACEHOLDER.search(text):
            raise BuildError(f"{page}: '{TEMPLATE_PLACEHOLDER.search(text).group()[:60]}' is left after rendering; "
                             "write {{ name }} with a known name, or the text itself")
        (pages / page.name).write_text(text, encoding="utf-8")
    for asset in ("logo.png",):
        shutil.copyfile(source / asset, bundle_dir / asset)
    (bundle_dir / "competition.yaml").write_text(
        yaml.safe_dump(yaml_doc, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")


def _run_checker(task: str, bundle: Path, accepted: dict[str, str], only_leaks: bool = False) -> None:
    """Print the checker's problems and stop on an error; ``only_leaks`` (``--no-check``) keeps the leak errors."""
    from bundlekit.check import check_bundle, format_problems  # noqa: PLC0415

    problems = check_bundle(bundle)
    if only_leaks:
        problems = [p for p in problems if p.rule == "leak.reference"]
    if problems:
        print(format_problems(problems, accepted), file=sys.stderr)
    if any(p.severity == "error" for p in problems):
        raise BuildError(f"[{task}] the checker found errors in {bundle.name} (listed above); correct the task's "
                         "sources, the bundle was not written")


def parse_date(text: str) -> datetime:
    """A date of the command line, in UTC (ISO 8601; an offset is converted), as an argparse type."""
    try:
        return parse_utc_date(text)[0]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def email_address(text: str) -> str:
    """``--contact-email``, as an argparse type: refused as the platform refuses it."""
    problem = email_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text.strip()


def configure_parser(parser: argparse.ArgumentParser) -> None:
    defaults = BuildOptions()
    parser.add_argument("tasks", nargs="*", metavar="TASK", help="tasks to build (default: all under bundles/)")
    parser.add_argument("--edition", help="edition preset of the stand-in data (default: the task's, 2023)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the stand-in data (default %(default)s)")
    parser.add_argument("--data", type=Path, metavar="DIR",
                        help="build from the organisers' real files in DIR/{dev,test}/{input_data,reference_data}/ "
                             "(one task only)")
    parser.add_argument("--image", "--docker-image", dest="docker_image", default=defaults.docker_image, metavar="REF",
                        help="the bundles' docker_image: best the digest reference `bundlekit image --push` prints, "
                             "NAME@sha256:... (default %(default)s, for local runs)")
    parser.add_argument("--contact-email", type=email_address, default=defaults.contact_email,
                        help="the organisers' e-mail address (default %(default)s)")
    parser.add_argument("--dev-start", type=parse_date, default=defaults.dev_start, help="UTC (default %(default)s)")
    parser.add_argument("--test-start", type=parse_date, default=defaults.test_start, help="UTC")
    parser.add_argument("--test-end", type=parse_date, default=defaults.test_end,
                        help="UTC; the post-challenge phase starts one minute later")
    parser.add_argument("--out", type=Path, help="output folder (default: dist/ beside the task folder)")
    add_bundles_dir_option(parser)
    parser.add_argument("--no-check", action="store_true",
                        help="do not stop on the checker's findings (a leak of the test answers still stops the build)")


def run_command(args: argparse.Namespace) -> int:
    bundles_dir = find_bundles_dir(args.bundles_dir)
    tasks = args.tasks or available_tasks(bundles_dir)
    if not tasks:
        print(f"bundlekit build: no task under {bundles_dir}; start one with `bundlekit new NAME --kind KIND` "
              "or name the task folder with --bundles-dir", file=sys.stderr)
        return 1
    if args.data is not None and len(tasks) != 1:
        print("bundlekit build: --data needs exactly one task name", file=sys.stderr)
        return 2
    unpinned = _unpinned_image(args.docker_image)
    if unpinned:
        print(f"bundlekit build: --image {unpinned}", file=sys.stderr)
        return 2
    options = BuildOptions(edition=args.edition, seed=args.seed, data=args.data, docker_image=args.docker_image,
                           contact_email=args.contact_email, dev_start=args.dev_start, test_start=args.test_start,
                           test_end=args.test_end, bundles_dir=bundles_dir,
                           out=(args.out or default_dist_dir(bundles_dir)).resolve(), check=not args.no_check)
    try:
        if args.edition and not args.tasks:
            tasks = _tasks_with_edition(tasks, args.edition, bundles_dir)
        results = [build_task(task, options) for task in tasks]
    except BuildError as exc:
        print(f"bundlekit build: {exc}", file=sys.stderr)
        return 1
    for result in results:
        print(result.bundle_zip)
    return 0


def _unpinned_image(reference: str) -> str | None:
    """Why ``reference`` cannot be a bundle's docker_image, or None when it is pinned (tag or digest)."""
    from bundlekit.registry import parse_reference  # noqa: PLC0415

    try:
        parsed = parse_reference(reference)
    except ValueError as exc:
        return str(exc)
    if parsed.digest is None and parsed.tag in (None, "latest"):
        return f"{reference!r} is not pinned; give NAME@sha256:... (bundlekit image --push prints it) or an exact tag"
    return None


def _tasks_with_edition(tasks: list[str], edition: str, bundles_dir: Path) -> list[str]:
    """The tasks that have stand-in data of ``edition``; the others are skipped with a notice."""
    kept = []
    for task in tasks:
        editions = load_task(bundles_dir / task, task)[1].editions
        if edition in editions:
            kept.append(task)
        else:
            print(f"bundlekit build: skipping {task}, which has no {edition!r} edition "
                  f"(editions: {', '.join(sorted(editions)) or 'none'})", file=sys.stderr)
    return kept
