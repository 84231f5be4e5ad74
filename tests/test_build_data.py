"""`bundlekit build --data`: the organisers' data is refused in one line, and a failed build leaves nothing to upload.

The data is generated once per module with the task's own generator, copied for each test
and corrupted the way real files go wrong. Mostly fusion-int: it builds in seconds.
"""

from __future__ import annotations

import dataclasses

import shutil
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest

import bundlekit.build
from bundlekit import BUNDLES_DIR
from bundlekit.build import BuildError, BuildOptions, build_task, load_module, module_name
from bundlekit.check import Problem, check_bundle

QUIET = BuildOptions(progress=lambda message: None).progress
OUTPUTS = ("fusion-int", "fusion-int.zip", "fusion-int.baselines.json", "fusion-int-participant.zip")


def generate(task: str, dest: Path) -> Path:
    hooks = load_module(BUNDLES_DIR / task / "task.py", module_name(task, "task"))
    hooks.generate_data(dest, edition=hooks.DEFAULT_EDITION, seed=2023, progress=QUIET)
    return dest


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The stand-in data of a task, generated on first use."""
    cache: dict[str, Path] = {}

    def data(task: str) -> Path:
        if task not in cache:
            cache[task] = generate(task, tmp_path_factory.mktemp(task) / "data")
        return cache[task]
    return data


@pytest.fixture
def copy_of(generated: Callable[[str], Path], tmp_path: Path) -> Callable[[str], Path]:
    return lambda task: Path(shutil.copytree(generated(task), tmp_path / f"data-{task}"))


def refusal(task: str, data: Path | None, out: Path) -> str:
    with pytest.raises(BuildError) as refused:
        build_task(task, BuildOptions(data=data, out=out, progress=QUIET))
    return str(refused.value)


def edit_rows(path: Path, edit: Callable[[int, list[str]], list[str]]) -> None:
    """Rewrite a CSV file row by row (row 0 is the header)."""
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(",".join(edit(i, row)) for i, row in enumerate(rows)) + "\n", encoding="utf-8")


def set_cell(value: str) -> Callable[[int, list[str]], list[str]]:
    return lambda i, row: row[:2] + [value] + row[3:] if i == 5 else row


# --------------------------------------------------------------------------------------
# Refusals of the organisers' data
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "inducer"), [("", "inducer_01"), ("nan", "inducer_01")], ids=["empty", "nan"])
def test_missing_score(copy_of, tmp_path: Path, value: str, inducer: str) -> None:
    data = copy_of("fusion-int")
    edit_rows(data / "dev" / "input_data" / "inducers.csv", set_cell(value))
    message = refusal("fusion-int", data, tmp_path / "dist")
    assert message.startswith(f"--data {data}: dev split, inducer {inducer}: not a valid run: the inducer has 1 "
                              "score(s) that are NaN or infinite")
    assert message.endswith("; correct the inducer in the data") and "Fusion.predict" not in message


def test_short_row(copy_of, tmp_path: Path) -> None:
    data = copy_of("fusion-int")
    edit_rows(data / "dev" / "input_data" / "inducers.csv", lambda i, row: row[:5] if i == 5 else row)
    assert refusal("fusion-int", data, tmp_path / "dist").startswith(
        f"--data {data}: dev split, inducer inducer_04: not a valid run: the inducer has 1 score(s) that are NaN")


def test_non_numeric_score(copy_of, tmp_path: Path) -> None:
    data = copy_of("fusion-int")
    edit_rows(data / "dev" / "input_data" / "inducers.csv", set_cell("abc"))
    message = refusal("fusion-int", data, tmp_path / "dist")
    assert message.startswith(f"--data {data}: dev split, loading the inducers: dev/input_data/inducers.csv: ")
    assert "not numeric" in message and "'abc'" in message


def test_deleted_inducers(copy_of, tmp_path: Path) -> None:
    data = copy_of("fusion-int")
    (data / "test" / "input_data" / "inducers.csv").unlink()
    message = refusal("fusion-int", data, tmp_path / "dist")
    assert message.startswith(f"--data {data}: ") and "test/input_data/inducers.csv" in message


def test_no_positive_label_makes_the_gain_undefined(copy_of, tmp_path: Path) -> None:
    data = copy_of("fusion-int")
    edit_rows(data / "test" / "reference_data" / "groundtruth.csv", lambda i, row: row[:2] + ["0"] + row[3:] if i else row)
    message = refusal("fusion-int", data, tmp_path / "dist")
    assert message.startswith(f"--data {data}: test split: the best inducer, inducer_")
    assert "scores 0 (map_at_10), so the gain over it is undefined" in message


def test_unknown_image_of_fusion_cap(copy_of, tmp_path: Path) -> None:
    data = copy_of("fusion-cap")
    with (data / "dev" / "input_data" / "inducers" / "inducer_01.csv").open("a", encoding="utf-8") as run:
        run.write("NOT_AN_IMAGE|C0040405\n")
    message = refusal("fusion-cap", data, tmp_path / "dist")
    assert message.startswith(f"--data {data}: dev split, loading the inducers: dev/input_data/inducers/inducer_01.csv ")
    assert "'NOT_AN_IMAGE' is not in images.txt" in message


def test_topic_removed_from_fusion_div(copy_of, tmp_path: Path) -> None:
    data = copy_of("fusion-div")
    topics = data / "dev" / "input_data" / "topics.csv"
    lines = topics.read_text(encoding="utf-8").splitlines()
    topics.write_text("\n".join(lines[:1] + lines[2:]) + "\n", encoding="utf-8")
    message = refusal("fusion-div", data, tmp_path / "dist")
    assert message.startswith(f"--data {data}: dev split, loading the inducers: dev/input_data/inducers/")
    assert "query '1' is not in topics.csv" in message


def test_command_line_refuses_without_a_traceback(copy_of, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bundlekit.cli import main

    data = copy_of("fusion-int")
    edit_rows(data / "dev" / "input_data" / "inducers.csv", set_cell("abc"))
    assert main(["build", "fusion-int", "--data", str(data), "--out", str(tmp_path / "dist")]) == 1
    err = capsys.readouterr().err
    assert f"bundlekit build: --data {data}: dev split, loading the inducers" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------
# The task's hooks
# --------------------------------------------------------------------------------------

@pytest.fixture
def patch_hooks(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Replace fields of the task declaration (``TASK``) of the next builds."""
    def patch(**fields: object) -> None:
        def load(path: Path, name: str) -> ModuleType:
            module = load_module(path, name)
            if name.endswith("_task"):
                module.TASK = dataclasses.replace(module.TASK, **fields)
            return module
        monkeypatch.setattr(bundlekit.build, "load_module", load)
    return patch


def validate_refusing(data_dir: Path) -> None:
    raise ValueError(f"{data_dir / 'dev' / 'input_data' / 'inducers.csv'}: the splits disagree")


def test_validate_data_runs_on_the_organisers_data(copy_of, patch_hooks, tmp_path: Path) -> None:
    data = copy_of("fusion-int")
    patch_hooks(validate_data=validate_refusing)
    assert refusal("fusion-int", data, tmp_path / "dist") == (
        f"--data {data}: dev/input_data/inducers.csv: the splits disagree")


def test_validate_data_runs_on_the_stand_in_data(patch_hooks, tmp_path: Path) -> None:
    patch_hooks(validate_data=validate_refusing)
    assert refusal("fusion-int", None, tmp_path / "dist") == (
        "[fusion-int] stand-in data: dev/input_data/inducers.csv: the splits disagree")


@pytest.mark.parametrize(("accepted", "expected"), [
    ({"leak.publc-reference": "typo"}, "names unknown rule(s) leak.publc-reference"),
    ({"data.subfolders": " "}, "data.subfolders without a reason"),
], ids=["unknown-rule", "no-reason"])
def test_accepted_warnings_are_checked(patch_hooks, copy_of, tmp_path: Path, accepted: dict, expected: str) -> None:
    patch_hooks(accepted_warnings=accepted)
    assert expected in refusal("fusion-int", copy_of("fusion-int"), tmp_path / "dist")


def test_accepting_public_reference_needs_public_truth(patch_hooks, copy_of, tmp_path: Path) -> None:
    patch_hooks(public_truth_files=())
    assert "accepts leak.public-reference, but public_truth_files publishes no dev reference file" in refusal(
        "fusion-int", copy_of("fusion-int"), tmp_path / "dist")


# --------------------------------------------------------------------------------------
# What a build leaves in the output folder
# --------------------------------------------------------------------------------------

def stale_outputs(out: Path) -> None:
    """A previous build of fusion-int, and another task's bundle."""
    (out / "fusion-int").mkdir(parents=True)
    (out / "fusion-int" / "stale.txt").write_text("old\n")
    for name in ("fusion-int.zip", "fusion-int.baselines.json", "fusion-cap.zip"):
        (out / name).write_text("old\n")


def test_failed_build_removes_the_previous_outputs(copy_of, tmp_path: Path) -> None:
    data, out = copy_of("fusion-int"), tmp_path / "dist"
    edit_rows(data / "dev" / "input_data" / "inducers.csv", set_cell("abc"))
    stale_outputs(out)
    assert refusal("fusion-int", data, out).endswith(
        f"; removed the previous fusion-int/, fusion-int.zip, fusion-int.baselines.json from {out}, so that no stale "
        "bundle can be uploaded")
    assert sorted(p.name for p in out.iterdir()) == ["fusion-cap.zip"]


def test_bundle_rejected_by_the_checker_is_not_written(copy_of, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "dist"
    stale_outputs(out)
    leak = Problem("error", "leak.reference", "tasks[1].reference_data", "the answers are public", "hide them")
    monkeypatch.setattr("bundlekit.check.check_bundle", lambda bundle: [leak])
    message = refusal("fusion-int", copy_of("fusion-int"), out)
    assert message.startswith("[fusion-int] the checker found errors in fusion-int.zip (listed above)")
    assert sorted(p.name for p in out.iterdir()) == ["fusion-cap.zip"]


def test_successful_build_replaces_the_outputs_and_accepts_the_known_warnings(
        copy_of, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dist"
    stale_outputs(out)
    result = build_task("fusion-int", BuildOptions(data=copy_of("fusion-int"), out=out, progress=QUIET))
    assert sorted(p.name for p in out.iterdir()) == sorted(["fusion-cap.zip", *OUTPUTS])
    assert (result.bundle_dir, result.bundle_zip) == (out / "fusion-int", out / "fusion-int.zip")
    assert not (out / "fusion-int" / "stale.txt").exists()
    assert capfd.readouterr().err.splitlines()[-2:] == [
        # leak.public-reference x2: the dev truth in the public data, and the kit's reference/dev (split.json too)
        "5 warnings accepted by the task: docker.no-digest x1 (built with a tag, for local runs; to publish, build "
        "with --image NAME@sha256:... from `bundlekit image --push`); "
        "data.subfolders x2 (the ingestion program finds train/ and predict/ on "
        "both platforms); leak.public-reference x2 (the dev ground truth is public by design: participants train "
        "on it)",
        "0 errors, 0 warnings",
    ]
    problems = check_bundle(result.bundle_zip)
    assert {p.rule for p in problems} == {"data.subfolders", "docker.no-digest", "leak.public-reference"}, problems


def test_a_failing_baseline_stops_the_build_naming_it(tmp_path: Path) -> None:
    """Baselines run in worker processes; the first failure (in solution and split order) is the one told."""
    bundles = tmp_path / "bundles"
    shutil.copytree(BUNDLES_DIR / "fusion-int", bundles / "fusion-int", ignore=shutil.ignore_patterns("__pycache__"))
    broken = bundles / "fusion-int" / "solutions" / "zz-broken"
    broken.mkdir()
    (broken / "fusion.py").write_text('"""Broken on purpose."""\n\n\nclass Fusion:\n    def fit(self, X, y):\n'
                                      '        raise ValueError("no convergence")\n\n    def predict(self, X):\n        return X\n',
                                      encoding="utf-8")
    with pytest.raises(BuildError) as refused:
        build_task("fusion-int", BuildOptions(bundles_dir=bundles, out=tmp_path / "out", progress=QUIET))
    message = str(refused.value)
    assert message.startswith("baseline zz-broken failed on dev: "), message
    assert "no convergence" in message and "\n" not in message
    assert not (tmp_path / "out" / "fusion-int.zip").exists()
