"""The participant kit: built with the bundle, nothing hidden in it, and its check gives the platform's verdicts."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bundlekit.build import BuildOptions, build_task
from bundlekit.run import run_submission

TASK = "fusion-int"
CHECKED_KEYS = ("gain_pct", "map", "map_at_10")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("dist")
    build_task(TASK, BuildOptions(out=out, progress=lambda message: None))
    kit_dir = tmp_path_factory.mktemp("kit")
    with zipfile.ZipFile(out / f"{TASK}-participant.zip") as archive:
        archive.extractall(kit_dir)
    return {"out": out, "kit_zip": out / f"{TASK}-participant.zip", "kit": kit_dir,
            "baselines": json.loads((out / f"{TASK}.baselines.json").read_text()),
            "solutions": out / TASK / "solutions"}


def check(built: dict, submission: Path, *options: str) -> subprocess.CompletedProcess:
    """``python check_submission.py`` from the kit alone: nothing of the repository on the path."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, str(built["kit"] / "check_submission.py"), str(submission), *options],
                          capture_output=True, text=True, cwd=submission.parent, env=env, timeout=600)


def check_json(built: dict, submission: Path, *options: str) -> tuple[int, dict]:
    done = check(built, submission, "--json", "--no-docker", *options)
    return done.returncode, json.loads(done.stdout)


def zip_of(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def test_the_kit_is_the_starting_kit_the_platform_shows(built: dict) -> None:
    assert built["kit_zip"].read_bytes() == (built["out"] / TASK / "starting_kit.zip").read_bytes()
    names = zipfile.ZipFile(built["kit_zip"]).namelist()
    for expected in ("check_submission.py", "kit.json", "requirements.txt", "README.md", "make_submission.py",
                     "data/dev/inducers.csv", "data/test/inducers.csv", "scoring_program/metadata.yaml",
                     "ingestion_program/metadata.yaml", "reference/dev/groundtruth.csv"):
        assert expected in names
    requirements = (built["kit"] / "requirements.txt").read_text()
    assert "numpy==" in requirements and "pandas==" in requirements and "scikit-learn==" in requirements


def test_the_kit_holds_nothing_hidden(built: dict) -> None:
    hidden = zipfile.ZipFile(built["out"] / TASK / "test_reference_data.zip")
    hidden_hashes = {hashlib.sha256(hidden.read(name)).hexdigest() for name in hidden.namelist()}
    truth_lines = {line for line in hidden.read("groundtruth.csv").decode().splitlines()[1:] if ",1," in line}
    test_figures = {f"{value!r}" for value in built["baselines"]["best_inducers"]["test"]["scores"].values()}
    test_figures |= {f"{value!r}" for per_split in built["baselines"]["solutions"].values()
                     for key, value in per_split["test"].items() if key != "time_s"}
    test_figures = {figure for figure in test_figures if len(figure) > 6}  # not 0.0 (the best inducer's own gain)
    kit_files = [path for path in built["kit"].rglob("*") if path.is_file()]
    for path in kit_files:
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() not in hidden_hashes, path
        text = data.decode("utf-8", errors="replace")
        assert not any(line in text for line in truth_lines), path
        assert not any(figure in text for figure in test_figures), path
    check_reference = (built["kit"] / "reference" / "test-check" / "groundtruth.csv").read_text().splitlines()
    assert {line.split(",")[2] for line in check_reference[1:]} == {"0"}  # ids only, no truth
    kit = json.loads((built["kit"] / "kit.json").read_text())
    assert "test" not in json.dumps(kit.get("dev_best_inducer"))


def test_dev_results_give_the_leaderboard_scores(built: dict) -> None:
    code, verdict = check_json(built, built["solutions"] / "logistic-regression-results-dev.zip")
    assert (code, verdict["status"], verdict["warnings"]) == (0, "valid", [])
    expected = built["baselines"]["solutions"]["logistic-regression"]["dev"]
    assert {key: verdict["scores"][key] for key in CHECKED_KEYS} == {key: expected[key] for key in CHECKED_KEYS}
    assert "time_s" not in verdict["scores"]


def test_dev_code_gives_the_leaderboard_scores_and_time(built: dict) -> None:
    code, verdict = check_json(built, built["solutions"] / "minmax-mean-code.zip")
    assert code == 0, verdict
    expected = built["baselines"]["solutions"]["minmax-mean"]["dev"]
    assert {key: verdict["scores"][key] for key in CHECKED_KEYS} == {key: expected[key] for key in CHECKED_KEYS}
    assert verdict["scores"]["time_s"] > 0


def test_text_report_names_the_gain_over_devs_best_inducer(built: dict) -> None:
    done = check(built, built["solutions"] / "best-inducer-results-dev.zip", "--no-docker")
    assert done.returncode == 0, done.stderr
    assert "Development: finished" in done.stdout
    assert "gain over dev's best single inducer (inducer_" in done.stdout
    assert "\r" not in done.stderr  # no live feedback off a terminal
    assert "running in this Python" in done.stderr and "not in the competition's image" in done.stderr


def test_test_phase_checks_everything_but_shows_no_score(built: dict) -> None:
    code, verdict = check_json(built, built["solutions"] / "logistic-regression-results-test.zip", "--phase", "Test")
    assert (code, verdict["status"], verdict["scores"]) == (0, "valid", {})
    done = check(built, built["solutions"] / "logistic-regression-results-test.zip", "--phase", "Test", "--no-docker")
    assert "the score is computed by the platform" in done.stdout
    code, verdict = check_json(built, built["solutions"] / "logistic-regression-results-dev.zip", "--phase", "Test")
    assert code == 1 and "not in this split" in verdict["reason"] and "\n" not in verdict["reason"]


def test_every_phase_on_the_test_split_is_check_only(built: dict) -> None:
    code, verdict = check_json(built, built["solutions"] / "logistic-regression-results-test.zip",
                               "--phase", "post-challenge")
    assert (code, verdict["scores"]) == (0, {})


def test_test_phase_runs_code_on_the_test_inducers(built: dict) -> None:
    code, verdict = check_json(built, built["solutions"] / "minmax-mean-code.zip", "--phase", "Test")
    assert code == 0, verdict
    assert set(verdict["scores"]) <= {"time_s", "cpu_s", "memory_mib"}


def test_a_bare_run_file_is_recognised_and_zipped_on_request(built: dict, tmp_path: Path) -> None:
    run = tmp_path / "run.csv"
    run.write_bytes(zipfile.ZipFile(built["solutions"] / "best-inducer-results-dev.zip").read("run.csv"))
    code, verdict = check_json(built, run)
    assert code == 1
    assert verdict["reason"].startswith("run.csv is a bare run file; the platform takes a zip holding it")
    assert f"python -m zipfile -c {tmp_path / 'run.zip'} {run}" in verdict["reason"]
    code, verdict = check_json(built, run, "--zip")
    assert (code, verdict["status"]) == (0, "valid")
    assert zipfile.ZipFile(tmp_path / "run.zip").namelist() == ["run.csv"]


def test_a_run_inside_a_folder_is_scored_as_on_the_platform(built: dict, tmp_path: Path) -> None:
    run = zipfile.ZipFile(built["solutions"] / "best-inducer-results-dev.zip").read("run.csv")
    code, verdict = check_json(built, zip_of(tmp_path / "nested.zip", {"mine/run.csv": run}))
    assert (code, verdict["warnings"]) == (0, [])


def test_code_inside_a_folder_is_one_line_with_the_fix(built: dict, tmp_path: Path) -> None:
    fusion = zipfile.ZipFile(built["solutions"] / "minmax-mean-code.zip").read("fusion.py")
    code, verdict = check_json(built, zip_of(tmp_path / "nested.zip", {"mine/fusion.py": fusion}))
    assert code == 1
    assert "mine/fusion.py is inside a folder; the platform looks for fusion.py at the zip root" in verdict["reason"]


def test_code_with_a_helper_module_and_no_metadata_runs_as_on_the_platform(built: dict, tmp_path: Path) -> None:
    fusion = ("import helper\n\nclass Fusion:\n    def fit(self, X, y):\n        pass  # no return self\n"
              "    def predict(self, X):\n        return helper.mean_scores(X)\n")
    helper = "def mean_scores(X):\n    return X.rank(pct=True).mean(axis=1)\n"
    code, verdict = check_json(built, zip_of(tmp_path / "helper.zip", {"fusion.py": fusion, "helper.py": helper}))
    assert code == 0, verdict
    assert verdict["scores"]["time_s"] > 0


def test_make_submission_accepts_a_fit_without_return_self(built: dict, tmp_path: Path) -> None:
    fusion = tmp_path / "fusion.py"
    fusion.write_text("class Fusion:\n    def fit(self, X, y):\n        self.columns = list(X.columns)\n"
                      "    def predict(self, X):\n        return X[self.columns[0]]\n")
    done = subprocess.run([sys.executable, str(built["kit"] / "make_submission.py"), str(built["kit"] / "data"),
                           "--fusion", str(fusion), "--split", "dev", "--out", str(tmp_path / "sub.zip")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    code, verdict = check_json(built, tmp_path / "sub.zip")
    assert code == 0, verdict


def test_bundlekit_run_accepts_the_kit_with_the_same_verdicts(built: dict, tmp_path: Path) -> None:
    dev = run_submission(built["kit_zip"], built["solutions"] / "logistic-regression-results-dev.zip",
                         "Development", use_docker=False, output_dir=tmp_path / "dev")
    assert dev.status == "finished", dev.reason
    expected = built["baselines"]["solutions"]["logistic-regression"]["dev"]
    assert {key: dev.scores[key] for key in CHECKED_KEYS} == {key: expected[key] for key in CHECKED_KEYS}
    assert dev.warnings == []
    test = run_submission(built["kit_zip"], built["solutions"] / "logistic-regression-results-test.zip",
                          "Test", use_docker=False, output_dir=tmp_path / "test")
    assert (test.status, test.scores) == ("finished", {})
    assert "the score is computed by the platform" in test.note
    wrong = run_submission(built["kit_zip"], built["solutions"] / "logistic-regression-results-dev.zip",
                           "Test", use_docker=False, output_dir=tmp_path / "wrong")
    code, verdict = check_json(built, built["solutions"] / "logistic-regression-results-dev.zip", "--phase", "Test")
    assert wrong.status == "failed" and wrong.reason.endswith(verdict["reason"])


@pytest.mark.docker
def test_in_docker_the_check_gives_the_same_scores(built: dict, kit_image: str) -> None:
    done = check(built, built["solutions"] / "logistic-regression-results-dev.zip", "--json")
    verdict = json.loads(done.stdout)
    assert verdict["engine"] == f"docker {kit_image}"
    expected = built["baselines"]["solutions"]["logistic-regression"]["dev"]
    assert {key: verdict["scores"][key] for key in CHECKED_KEYS} == {key: expected[key] for key in CHECKED_KEYS}


def test_a_zip_name_the_platform_refuses_is_warned_about(built: dict, tmp_path: Path) -> None:
    run = zipfile.ZipFile(built["solutions"] / "best-inducer-results-dev.zip").read("run.csv")
    code, verdict = check_json(built, zip_of(tmp_path / f"{'x' * 70}.zip", {"run.csv": run}))
    assert code == 0
    assert verdict["warnings"] == [f"the platform refuses an upload whose file name is longer than 64 characters "
                                   f"({'x' * 70}.zip has 74); rename the zip before uploading it"]


def test_the_kit_and_the_host_agree_on_the_upload_name_limit() -> None:
    from bundlekit import platform_rules
    from scoring_common import check_submission

    assert check_submission.MAX_UPLOAD_NAME_CHARS == platform_rules.MAX_UPLOAD_NAME_CHARS
