"""Check a submission exactly as the platform will: ``python check_submission.py SUBMISSION.zip``.

The participant kit's one entry point (copied to the kit's root). Standard library only;
it runs the kit's own ingestion and scoring programs the way the platform's compute
worker does:

- prediction step: a zip without ``metadata`` at its root is copied into the prediction
  output; then the ingestion program runs (it fits and predicts a code submission, and
  passes a result submission through), under the phase's time limit;
- scoring step: the scoring program reads the reference (``ref``) and the prediction
  output (``res``).

``--phase Development`` (the default) scores against the dev reference, which is public,
and prints the leaderboard row the platform would show. ``--phase Test`` checks
everything the hidden reference is not needed for (zip layout, format, every test item
exactly once, the ids, the time limit of code) against ``reference/test-check`` (the
test ids of the public data, no truth) and never prints a score: the platform computes it.

With a Docker engine the programs run in the competition's pinned image, with no
network and bounded memory; without one, in this Python (``--no-docker``), which may
differ from the image (see requirements.txt). Exit code 0: the submission is valid;
1: it is not (one line says why and how to fix it); 2: the kit or the tool failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from scoring_common.zip_members import UnsafeArchiveError, check_members

KIT_DIR = Path(__file__).resolve().parent
KIT_FILE = "kit.json"
DEV_REFERENCE = "reference/dev"
CHECK_REFERENCE = "reference/test-check"
RUN_SUFFIXES = (".csv", ".txt")
#: Names of the file that marks a code submission (the platform checks them in this order).
METADATA_NAMES = ("metadata.yaml", "metadata")
FUSION_FILE = "fusion.py"
ERROR_PREFIX = "ERROR: "
#: The image's entrypoint summary line (``measure``): not a message for the participant.
MEASURE_LINE = re.compile(r"^\[measure\] ")
#: Memory and process bounds of the Docker run (the platform sets none: stay well below its machines).
DOCKER_MEMORY = "4g"
DOCKER_PIDS = "256"
#: Packages whose versions matter for the programs and the participant's code.
KEY_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy")
COST_KEYS = ("time_s", "cpu_s", "memory_mib")
#: Longest file name the platform accepts at upload (bundlekit/platform_rules.py).
MAX_UPLOAD_NAME_CHARS = 64


class KitError(Exception):
    """The kit or the tool cannot run (exit 2)."""


class SubmissionError(Exception):
    """The submission is not valid; one line, with the fix (exit 1)."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        kit = json.loads((KIT_DIR / KIT_FILE).read_text(encoding="utf-8"))
        phase = _phase(kit, args.phase)
        return _check(kit, phase, args)
    except KitError as exc:
        _say(f"check_submission: {exc}", args.json)
        if args.json:
            print(json.dumps({"status": "error", "reason": str(exc)}, indent=2, sort_keys=True))
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Exit code 0: valid; 1: not valid (one line says why); 2: kit or tool failed.")
    parser.add_argument("submission", type=Path, help="the zip you would upload (a result zip or a code zip)")
    parser.add_argument("--phase", default=None, help="phase to check for (default: the first, Development)")
    parser.add_argument("--no-docker", action="store_true", help="run in this Python even when Docker is available")
    parser.add_argument("--zip", action="store_true", help="given a bare run file (.csv/.txt), zip it first and check the zip")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON only (no progress, no text)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the run (logs, prediction and scoring outputs) in DIR")
    return parser


def _phase(kit: dict, name: str | None) -> dict:
    phases = kit["phases"]
    if name is None:
        return phases[0]
    for phase in phases:
        if phase["name"].casefold() == name.casefold():
            return phase
    raise KitError(f"no phase {name!r}; the phases are {', '.join(p['name'] for p in phases)}")


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the check


def _check(kit: dict, phase: dict, args: argparse.Namespace) -> int:
    verdict: dict = {"phase": phase["name"], "submission": str(args.submission), "status": "invalid",
                     "reason": None, "scores": {}, "warnings": [], "engine": None}
    try:
        zip_path = _submission_zip(args.submission, args.zip, args.json)
        engine = Engine.choose(kit["docker_image"], args.no_docker, args.json)
        verdict["engine"] = engine.describe()
        work = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="check-submission-"))
        try:
            _run(kit, phase, zip_path, engine, work, verdict, quiet=args.json)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        verdict["status"] = "valid"
    except SubmissionError as exc:
        verdict["reason"] = str(exc)
    if args.json:
        print(json.dumps(verdict, indent=2, sort_keys=True))
    else:
        _report(kit, phase, verdict)
    return 0 if verdict["status"] == "valid" else 1


def _submission_zip(path: Path, make_zip: bool, quiet: bool) -> Path:
    """The zip to check; a bare run file is zipped with --zip, otherwise refused with the command."""
    if not path.exists():
        raise KitError(f"{path}: no such file; give the zip you would upload")
    if path.is_dir():
        raise SubmissionError(f"{path} is a folder; the platform takes a zip of its files: "
                              f"{zip_command(path.with_suffix('.zip'), [str(p) for p in sorted(path.iterdir())])}")
    if zipfile.is_zipfile(path):
        return path
    if path.suffix.lower() in RUN_SUFFIXES:
        if not make_zip:
            raise SubmissionError(f"{path.name} is a bare run file; the platform takes a zip holding it at its root: "
                                  f"{zip_command(path.with_suffix('.zip'), [str(path)])} (or add --zip to this command)")
        target = zip_run_file(path)
        _say(f"wrote {target} (holding {path.name} at its root); checking it", quiet)
        return target
    raise SubmissionError(f"{path.name} is not a zip file; upload a zip holding your run file, or your fusion.py")


def is_bare_run(path: Path) -> bool:
    """Whether ``path`` is a run file (``.csv``, ``.txt``) given where the platform takes a zip."""
    return path.is_file() and path.suffix.lower() in RUN_SUFFIXES and not zipfile.is_zipfile(path)


def zip_run_file(path: Path) -> Path:
    """Zip a bare run file beside itself (``run.csv`` -> ``run.zip``), at the zip's root; return the zip."""
    target = path.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, path.name)
    return target


def zip_command(target: Path, files: list[str]) -> str:
    """The command that zips ``files`` into ``target`` with Python alone."""
    return f"python -m zipfile -c {target} {' '.join(files)}"


def _run(kit: dict, phase: dict, zip_path: Path, engine: "Engine", work: Path, verdict: dict, quiet: bool) -> None:
    submission = work / "submission"
    names = _extract(zip_path, submission)
    verdict["warnings"].extend(_layout_warnings(zip_path.name, names, submission))
    is_code = (submission / FUSION_FILE).is_file() or any((submission / n).is_file() for n in METADATA_NAMES)
    split = phase["split"]
    reference = KIT_DIR / (DEV_REFERENCE if split == "dev" else CHECK_REFERENCE)
    if split != "dev" and not reference.is_dir() and not is_code:
        raise KitError("this kit has no test ids to check a result run against (reference/test-check is missing); "
                       "check a code submission, or the run on the Development phase")
    limit = float(phase["execution_time_limit"])
    prediction = _writable(work / "prediction")
    if not any((submission / n).is_file() for n in METADATA_NAMES):
        shutil.copytree(submission, prediction, dirs_exist_ok=True)  # the worker's copy of a result zip
    ingestion = KIT_DIR / "ingestion_program"
    argv = _command(ingestion, {"$input": "/app/input_data", "$output": "/app/output", "$program": "/app/program",
                                "$submission_program": "/app/ingested_program"})
    mounts = {"/app/program": (ingestion, True), "/app/output": (prediction, False),
              "/app/ingested_program": (submission, True),
              "/app/input_data/train": (KIT_DIR / "data" / "dev", True),
              "/app/input_data/predict": (KIT_DIR / "data" / split, True)}
    step = engine.run("prediction", argv, mounts, work, limit, quiet)
    _write_worker_metadata(prediction, step)
    if step.timed_out:
        raise SubmissionError(_time_limit_message(limit, step, work))
    if step.out_of_memory:
        raise SubmissionError(f"your code ran out of memory: the check bounds it to {DOCKER_MEMORY[:-1]} GiB "
                              "(the platform's machines are not much larger); use less memory (float32, fewer "
                              "copies of X, no dense matrices of all pairs)")
    prediction_error = _error_line(work / "prediction.stderr.log") if step.exit_code else None
    killed = killing_signal(step.exit_code, engine.image is not None)
    if killed and not prediction_error:
        raise SubmissionError(
            f"the prediction step was killed by signal {killed} ({signal_name(killed)}), not by a limit of the check "
            "(no time or memory limit was reached): the submission's code ended it, e.g. by killing its parent "
            f"process; see {work / 'prediction.stderr.log'}")
    scoring = KIT_DIR / "scoring_program"
    argv = _command(scoring, {"$input": "/app/input", "$output": "/app/output", "$program": "/app/program"})
    output = _writable(work / "scoring")
    mounts = {"/app/program": (scoring, True), "/app/output": (output, False),
              "/app/input/ref": (reference, True), "/app/input/res": (prediction, True)}
    step = engine.run("scoring", argv, mounts, work, limit, quiet)
    if step.timed_out:
        raise SubmissionError(f"the scoring step did not finish within {limit:g} s; tell the organisers")
    if step.exit_code != 0 or not (output / "scores.json").is_file():
        reason = prediction_error or _error_line(work / "scoring.stderr.log")
        if step.exit_code == 1 and reason:
            raise SubmissionError(reason)
        raise KitError(f"the scoring program failed (exit code {step.exit_code}): "
                       f"{reason or 'see ' + str(work / 'scoring.stderr.log')}")
    scores = json.loads((output / "scores.json").read_text(encoding="utf-8"))
    verdict["scores"] = scores if split == "dev" else {k: v for k, v in scores.items() if k in COST_KEYS}
    verdict["code"] = is_code


def _writable(folder: Path) -> Path:
    """An output folder the container's root (with every capability dropped) can write to."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)
    return folder


def _extract(zip_path: Path, dest: Path) -> list[str]:
    """Extract the zip after refusing every member ``bundlekit run`` refuses (:mod:`scoring_common.zip_members`)."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{zip_path.name} is not a valid zip ({exc}); zip your files again") from None
    with archive:
        names = archive.namelist()
        try:
            check_members(archive, zip_path, dest_bytes=len(os.fsencode(dest.resolve())))
        except UnsafeArchiveError as exc:
            raise SubmissionError(str(exc)) from None
        if not [n for n in names if not n.endswith("/")]:
            raise SubmissionError(f"{zip_path.name} holds no file; put your run file (or fusion.py) in it")
        try:
            archive.extractall(dest)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, OSError) as exc:
            raise SubmissionError(f"{zip_path.name} cannot be extracted ({exc}); zip your files again") from None
    return names


def _layout_warnings(zip_name: str, names: list[str], submission: Path) -> list[str]:
    """Layouts that still run here but deserve a fix, each with what to do."""
    warnings = []
    if len(zip_name) > MAX_UPLOAD_NAME_CHARS:
        warnings.append(f"the platform refuses an upload whose file name is longer than {MAX_UPLOAD_NAME_CHARS} "
                        f"characters ({zip_name} has {len(zip_name)}); rename the zip before uploading it")
    macos = [n for n in names if n.startswith("__MACOSX/") or PurePosixPath(n).name == ".DS_Store"]
    if macos:
        warnings.append(f"{zip_name} holds macOS metadata ({macos[0]}); remove it: zip -d {zip_name} '__MACOSX/*' "
                        "'*.DS_Store'")
    nested_code = [n for n in names if PurePosixPath(n).name == FUSION_FILE and "/" in n.strip("/")]
    if nested_code and not (submission / FUSION_FILE).is_file():
        raise SubmissionError(f"{zip_name}: {nested_code[0]} is inside a folder; the platform looks for {FUSION_FILE} "
                              f"at the zip root (so it reads the zip as results and finds no run): zip the files "
                              f"themselves, e.g. cd {PurePosixPath(nested_code[0]).parent} && "
                              f"python -m zipfile -c ../{zip_name} *")
    return warnings


def _command(program: Path, placeholders: dict[str, str]) -> list[str]:
    """The program's ``command`` (metadata.yaml), placeholders replaced, split like the platform does."""
    for name in METADATA_NAMES:
        path = program / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "command":
                    command = value.strip().strip("'\"")
                    for placeholder in sorted(placeholders, key=len, reverse=True):
                        command = command.replace(placeholder, placeholders[placeholder])
                    return command.split()
    raise KitError(f"{program.name} has no metadata.yaml with a command; download the kit again")


def _write_worker_metadata(prediction: Path, step: "Step") -> None:
    """The worker's own ``metadata`` file in the prediction output, as the scorer reads it."""
    code = "null" if step.exit_code is None else step.exit_code
    (prediction / "metadata").write_text(f"ingestionExitCode: {code}\ningestionElapsedTime: {step.elapsed:.3f}\n",
                                         encoding="utf-8")


def killing_signal(exit_code: int | None, in_docker: bool) -> int | None:
    """The signal that ended a program: a negative return code locally, 128 + signal from a container."""
    if exit_code is None:
        return None
    if exit_code < 0:
        return -exit_code
    return exit_code - 128 if in_docker and 128 < exit_code < 128 + 65 else None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _error_line(log: Path) -> str | None:
    """The program's one-line ERROR message (last one on its stderr), without the prefix."""
    if not log.is_file():
        return None
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    errors = [line[len(ERROR_PREFIX):] for line in lines if line.startswith(ERROR_PREFIX)]
    return errors[-1] if errors else None


def _time_limit_message(limit: float, step: "Step", work: Path) -> str:
    return (f"the prediction step did not finish within the phase's limit of {limit:g} s (the platform stops it "
            f"there: \"Execution Time Limit exceeded\"); make fit and predict faster "
            f"(the ingestion log {work / 'prediction.stderr.log'} shows how far it got)")


# --------------------------------------------------------------------------- engines


class Step:
    """Outcome of one program run."""

    def __init__(self, exit_code: int | None, elapsed: float, timed_out: bool, out_of_memory: bool):
        self.exit_code, self.elapsed, self.timed_out, self.out_of_memory = exit_code, elapsed, timed_out, out_of_memory


class Engine:
    """Runs a program with the platform's mounts: in the competition's image, or in this Python."""

    def __init__(self, image: str | None):
        self.image = image

    @classmethod
    def choose(cls, image: str, no_docker: bool, quiet: bool) -> "Engine":
        if not no_docker and _docker_ready(image, quiet):
            return cls(image)
        if not no_docker:
            _say("no Docker engine (or the competition's image cannot be pulled): running in this Python", quiet)
        for line in _local_differences():
            _say(line, quiet)
        return cls(None)

    def describe(self) -> str:
        return f"docker {self.image}" if self.image else f"local Python {platform.python_version()}"

    def run(self, label: str, argv: list[str], mounts: dict, work: Path, limit: float, quiet: bool) -> Step:
        stdout, stderr = work / f"{label}.stdout.log", work / f"{label}.stderr.log"
        if self.image:
            name = f"check-submission-{uuid.uuid4().hex[:12]}"
            command = ["docker", "run", "--name", name, "--network", "none", "--cap-drop", "ALL",
                       "--security-opt", "no-new-privileges", "--memory", DOCKER_MEMORY, "--memory-swap",
                       DOCKER_MEMORY, "--pids-limit", DOCKER_PIDS, "-w", "/app/program", "-e", "PYTHONUNBUFFERED=1"]
            for target, (host, read_only) in sorted(mounts.items()):
                command += ["-v", f"{Path(host).resolve()}:{target}{':ro' if read_only else ''}"]
            command += [self.image, *argv]
        else:
            app = work / "app" / label
            for target, (host, _) in sorted(mounts.items()):
                link = app / Path(target).relative_to("/app")
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(Path(host).resolve(), target_is_directory=True)
            command = [sys.executable if argv[0] in ("python", "python3") else argv[0],
                       *(arg.replace("/app/", f"{app}/") for arg in argv[1:])]
            name = None
        started = time.monotonic()
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                       cwd=None if self.image else app / "program", start_new_session=True,
                                       env=dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1"))
            timed_out = _wait(process, label, limit, started, quiet)
        elapsed = time.monotonic() - started
        out_of_memory = False
        if name:
            if timed_out:
                subprocess.run(["docker", "kill", name], capture_output=True)
            state = subprocess.run(["docker", "inspect", "-f", "{{.State.OOMKilled}}", name],
                                   capture_output=True, text=True)
            out_of_memory = state.stdout.strip() == "true"
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        elif timed_out:
            try:
                os.killpg(process.pid, 9)
            except ProcessLookupError:
                pass
            process.wait()
        out_of_memory = out_of_memory or (not timed_out and process.returncode != 0 and _mentions(stderr, "MemoryError")
                                          and _error_line(stderr) is None)  # the ingestion's own reason wins
        return Step(None if timed_out else process.returncode, elapsed, timed_out, out_of_memory and not timed_out)


def _wait(process: subprocess.Popen, label: str, limit: float, started: float, quiet: bool) -> bool:
    """Wait for the program; on a terminal, show the step, the elapsed time and the limit. True on time-out."""
    live = not quiet and sys.stderr.isatty()
    while True:
        try:
            process.wait(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - started
            if live:
                print(f"\r{label} step: {elapsed:.0f} s (limit {limit:g} s) ", end="", file=sys.stderr, flush=True)
            if elapsed >= limit:
                return True
    if live and time.monotonic() - started >= 1.0:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return False


def _mentions(log: Path, word: str) -> bool:
    return log.is_file() and word in log.read_text(encoding="utf-8", errors="replace")[-4000:]


def _docker_ready(image: str, quiet: bool) -> bool:
    """Whether a Docker engine answers and has (or can pull) the competition's image."""
    if shutil.which("docker") is None:
        return False
    try:
        if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
            return False
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=30).returncode == 0:
            return True
        _say(f"pulling the competition's image {image} (once)", quiet)
        return subprocess.run(["docker", "pull", image], capture_output=True, timeout=1800).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _local_differences() -> list[str]:
    """What may differ from the platform when the programs run in this Python."""
    wanted = {}
    requirements = KIT_DIR / "requirements.txt"
    if requirements.is_file():
        for line in requirements.read_text(encoding="utf-8").splitlines():
            name, _, version = line.partition("==")
            if version:
                wanted[name.strip().lower()] = version.strip()
    from importlib import metadata  # noqa: PLC0415

    different = []
    for name in KEY_PACKAGES:
        try:
            here = metadata.version(name)
        except metadata.PackageNotFoundError:
            here = "missing"
        if name in wanted and here != wanted[name]:
            different.append(f"{name} {here} (image: {wanted[name]})")
    lines = [f"running in this Python {platform.python_version()}, not in the competition's image: no memory or "
             "network isolation, and other package versions can change scores slightly or fail where the platform "
             "does not"]
    if different:
        lines.append(f"differs from the image: {', '.join(different)}; to match it: pip install -r requirements.txt")
    return lines


# --------------------------------------------------------------------------- report


def _report(kit: dict, phase: dict, verdict: dict) -> None:
    for warning in verdict["warnings"]:
        print(f"warning: {warning}")
    if verdict["status"] != "valid":
        print(f"ERROR: {verdict['reason']}")
        return
    scores = verdict["scores"]
    if phase["split"] == "dev":
        cells = [f"{c['title']} {scores[c['key']]:.{int(c.get('precision', 4))}f}"
                 for c in kit["columns"] if c["key"] in scores and not c.get("hidden")]
        titles = {c["key"]: c["title"] for c in kit["columns"]}
        print(f"{phase['name']}: finished, as the platform would score it")
        print("  " + " | ".join(cells))
        best = kit.get("dev_best_inducer")
        if best and "gain_pct" in scores:
            print(f"  gain over dev's best single inducer ({best['name']}, {titles.get(best['primary_metric'])} "
                  f"{best['score']:.4f}): {scores['gain_pct']:+.2f} %")
        withheld = [c["title"] for c in kit["columns"] if c["key"] not in scores and c["key"] not in COST_KEYS]
        if withheld:
            print(f"  {', '.join(withheld)}: computed by the platform only (it needs reference data that stays hidden)")
    else:
        print(f"{phase['name']}: valid: the zip layout, the format and every {phase['split']} item (exactly once, "
              "known ids) pass the platform's checks")
        if verdict.get("code"):
            print(f"  your code ran in {scores.get('time_s', 0):.1f} s (limit of the code: {kit['code_time_limit']} s)")
        print("  the score is computed by the platform: the test ground truth is hidden")
    if any(key in scores for key in COST_KEYS):
        print("  time: your code's own work (importing fusion.py, fit and predict), wall seconds")


if __name__ == "__main__":
    raise SystemExit(main())
