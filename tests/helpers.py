"""Helpers shared by the test modules: scoring layouts, the toy ingestion task, task data and baselines.

Task-specific expectations stay in the test modules; what several of them did alike is here once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest

from bundlekit import layers
from bundlekit.build import load_task
from task_modules import load_module

REPO = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# A scoring program run as the platform runs it
# --------------------------------------------------------------------------------------


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write each file of ``files`` (text or bytes) at its path below ``root``, making its folders."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def zip_of(path: Path, files: dict[str, str]) -> Path:
    """A zip at ``path`` holding ``files`` (name -> text)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def lines_text(lines: list[str]) -> str:
    """The lines of a file, each ended by a newline."""
    return "\n".join(lines) + "\n"


def scoring_layout(tmp_path: Path, ref: dict[str, str], run: str | bytes | None = None, *, run_name: str = "run.csv",
                   extra: dict[str, str | bytes] | None = None, public: bool | None = True) -> tuple[Path, Path]:
    """The scoring program's ``input/`` (``ref/``, ``res/``) and ``output/`` folders below ``tmp_path``.

    ``ref`` holds the reference files by name, ``run`` the run written as ``res/<run_name>``,
    ``extra`` more files by their path below ``input/``. ``split.json`` says dev (public),
    test (``public=False``) or is left out (``public=None``).
    """
    input_dir, output_dir = tmp_path / "input", tmp_path / "output"
    (input_dir / "ref").mkdir(parents=True, exist_ok=True)
    (input_dir / "res").mkdir(exist_ok=True)
    files = {**{f"ref/{name}": text for name, text in ref.items()}, **(extra or {})}
    if run is not None:
        files[f"res/{run_name}"] = run
    if public is not None:
        files["ref/split.json"] = json.dumps({"split": "dev" if public else "test", "public": public}) + "\n"
    write_files(input_dir, files)
    return input_dir, output_dir


def run_scorer(score_py: Path, input_dir: Path, output_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a scoring program as the platform does: ``python score.py input output``."""
    return subprocess.run([sys.executable, str(score_py), str(input_dir), str(output_dir)],
                          capture_output=True, text=True, timeout=timeout)


def score_valid_run(score_py: Path, input_dir: Path, output_dir: Path) -> tuple[dict[str, float], str]:
    """Score a valid run twice: exit 0 both times, the same scores.json to the byte.

    Returns the scores and the detailed results of the first run.
    """
    first = run_scorer(score_py, input_dir, output_dir)
    assert first.returncode == 0, first.stderr
    scores_bytes = (output_dir / "scores.json").read_bytes()
    details = (output_dir / "detailed_results.html").read_text(encoding="utf-8")
    second = run_scorer(score_py, input_dir, output_dir)
    assert second.returncode == 0, second.stderr
    assert (output_dir / "scores.json").read_bytes() == scores_bytes
    return json.loads(scores_bytes), details


def assert_participant_error(result: subprocess.CompletedProcess, output_dir: Path, *fragments: str) -> str:
    """The scorer failed the participant's way: exit 1, one line naming ``fragments``, no traceback, no scores."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not (output_dir / "scores.json").exists()
    return message


# --------------------------------------------------------------------------------------
# The toy ingestion task: a fusion_io that needs only the standard library
# --------------------------------------------------------------------------------------

TOY_FUSION_IO = '''
"""Toy task: X is a dict id -> list of inducer scores, y a dict id -> label."""
from pathlib import Path
from scoring_common.errors import ParticipantError

RUN_FILE_NAME = "run.csv"
{limits}

def _read(path):
    rows = [line.split(",") for line in Path(path).read_text().splitlines() if line]
    return {{row[0]: [float(v) for v in row[1:]] for row in rows}}

def load_inducers(folder):
    return _read(Path(folder) / "inducers.csv")

def load_truth(folder):
    return {{k: v[0] for k, v in _read(Path(folder) / "truth.csv").items()}}

def item_ids(X):
    return list(X)

def check_prediction(prediction, X):
    if not isinstance(prediction, dict):
        raise ParticipantError(f"Fusion.predict returned a {{type(prediction).__name__}}; return a dict id -> score")
    return prediction

def write_run(prediction, X, path):
    Path(path).write_text("".join(f"{{k}},{{prediction[k]}}\\n" for k in sorted(X)))
'''

TOY_INGEST = '''
import sys
from pathlib import Path
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else Path({repo!r})))
sys.path.insert(0, str(_HERE))
from scoring_common.ingestion import main
raise SystemExit(main(__file__))
'''


def toy_fusion_io(limits: dict | None = None) -> str:
    """The toy task's fusion_io.py, declaring ``RESOURCE_LIMITS = limits`` when given."""
    return TOY_FUSION_IO.format(limits=f"RESOURCE_LIMITS = {limits!r}" if limits else "")


def write_toy_program(program: Path, limits: dict | None = None) -> None:
    """The toy task's ingestion program (fusion_io.py, ingest.py) in ``program``; scoring_common from
    a vendored copy beside it when there is one, else from this checkout."""
    program.mkdir(parents=True, exist_ok=True)
    (program / "fusion_io.py").write_text(toy_fusion_io(limits))
    (program / "ingest.py").write_text(TOY_INGEST.format(repo=str(REPO)))


# --------------------------------------------------------------------------------------
# A kit task's data, baselines and starting kit
# --------------------------------------------------------------------------------------

#: (generated folder, ingestion folder) of a code submission's input: train on dev, predict test.
INGESTION_INPUT = (("dev/input_data", "train"), ("dev/reference_data", "train"), ("test/input_data", "predict"))
#: (generated folder, public folder) of what participants download: dev with its truth, test without.
PUBLIC_DATA = (("dev/input_data", "dev"), ("dev/reference_data", "dev"), ("test/input_data", "test"))


def copy_layout(dest: Path, target_root: Path, layout: tuple[tuple[str, str], ...]) -> None:
    """Copy each generated folder ``dest/source`` (with its subfolders) to ``target_root/target``."""
    for source, target in layout:
        for path in (dest / source).rglob("*"):
            if path.is_file():
                destination = target_root / target / path.relative_to(dest / source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(path.read_bytes())


def generate(task: ModuleType, dest: Path, edition: str) -> Path:
    """``dest`` filled with the task's stand-in data of ``edition`` (seed 2023, quietly)."""
    task.generate_data(dest, edition=edition, seed=2023, progress=lambda message: None)
    return dest


def load_splits(fusion_io: ModuleType, dest: Path, splits: tuple[str, ...] = ("dev", "test")) -> tuple[dict, dict]:
    """The inducers' outputs ``X`` and the truth ``y`` of each split, by the task's loaders."""
    X = {split: fusion_io.load_inducers(dest / split / "input_data") for split in splits}
    y = {split: fusion_io.load_truth(dest / split / "reference_data") for split in splits}
    return X, y


def edition_fixtures(task: ModuleType, fusion_io: ModuleType) -> tuple[Callable, Callable]:
    """The fixtures ``data`` (``(edition, folder)`` of each edition's generated data, per module) and
    ``splits`` (its ``X`` and ``y`` by split) of a task's test module: ``data, splits = edition_fixtures(...)``."""
    @pytest.fixture(scope="module", params=sorted(task.EDITIONS))
    def data(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
        edition = request.param
        return edition, generate(task, tmp_path_factory.mktemp(f"{Path(task.__file__).parent.name}-{edition}"), edition)

    @pytest.fixture(scope="module")
    def splits(data: tuple[str, Path]) -> tuple[dict, dict]:
        return load_splits(fusion_io, data[1])

    return data, splits


def assert_converged(name: str, model: object) -> None:
    """A baseline's iterative fit ends before its iteration cap (what a time bound used to stand for)."""
    inner = getattr(model, "model_", None)
    if hasattr(inner, "n_iter_"):
        assert int(max(inner.n_iter_)) < inner.max_iter, \
            f"{name}: the fit did not converge in {inner.max_iter} iterations"


def fit_baseline(bundle: Path, fusion_io: ModuleType, name: str, X: dict, y: dict,
                 splits: tuple[str, ...] = ("dev", "test")) -> tuple[object, dict]:
    """The baseline ``name`` fitted on dev (its fit converged), and its predictions of each split."""
    module = load_module(bundle / "solutions" / name / "fusion.py", f"_test_{bundle.name}_{name}".replace("-", "_"),
                         fusion_io)
    model = module.Fusion().fit(X["dev"], y["dev"])
    assert_converged(name, model)
    return model, {split: model.predict(X[split]) for split in splits}


def run_baseline_through_ingestion(bundle: Path, dest: Path, tmp_path: Path, solution: str) -> tuple[dict, Path]:
    """Run a baseline's code with the task's ingestion program on the generated data: its timing and run."""
    from scoring_common.ingestion import run_fusion

    input_dir, output = tmp_path / "input", tmp_path / "output"
    copy_layout(dest, input_dir, INGESTION_INPUT)
    output.mkdir()
    timing = run_fusion(bundle / "ingestion_program", input_dir, output, bundle / "solutions" / solution, 60)
    return timing, output / timing["run_file"]


def starting_kit_result(bundle: Path, fusion_io: ModuleType, dest: Path, tmp_path: Path,
                        wrapping: str = "data") -> tuple[ModuleType, Path, Path]:
    """Run the starting kit's make_submission.py on the public data, unzipped into the folder
    ``wrapping`` (``""``: none) of ``tmp_path/public``.

    Its result zip must hold the run alone. Returns the kit, the public folder and the run.
    """
    public = tmp_path / "public"
    copy_layout(dest, public / wrapping, PUBLIC_DATA)
    # The task's own make_submission.py, else its kind's (bundlekit/layers.py).
    make_submission = layers.source_file(bundle, load_task(bundle, bundle.name)[1], "starting_kit/make_submission.py")
    kit = load_module(make_submission, f"_test_{bundle.name.replace('-', '_')}_kit", fusion_io)
    assert kit.main([str(public), "--out", str(tmp_path / "result.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "result.zip") as archive:
        assert archive.namelist() == [fusion_io.RUN_FILE_NAME]
        archive.extractall(tmp_path / "result")
    return kit, public, tmp_path / "result" / fusion_io.RUN_FILE_NAME


def starting_kit_code(kit: ModuleType, public: Path, tmp_path: Path, *options: str) -> dict[str, bytes]:
    """The starting kit's code zip (``--code``, then ``options``): fusion.py and metadata, by name."""
    assert kit.main([str(public), "--code", *options, "--out", str(tmp_path / "code.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "code.zip") as archive:
        assert sorted(archive.namelist()) == ["fusion.py", "metadata"]
        return {name: archive.read(name) for name in archive.namelist()}
