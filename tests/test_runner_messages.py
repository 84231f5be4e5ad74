"""`bundlekit run`'s messages: one line with what to do, warnings only when there is something to do."""

from __future__ import annotations

import argparse
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from bundlekit import run
from bundlekit.run import BundleError, collect_submissions, run_submission
from bundlekit.run.engine import POLL_SECONDS
from bundlekit.run.session import StepFeedback
from helpers import zip_of
from scoring_common import ingestion

FIXTURE_BUNDLE = Path(__file__).parent / "fixtures" / "runner" / "bundle"
RUN_PREFIX = "import sys\nfrom pathlib import Path\ninput_dir, output_dir = Path(sys.argv[1]), Path(sys.argv[2])\n"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE_BUNDLE, tmp_path / "bundle"))


def test_a_bare_run_file_gets_the_command_that_zips_it(tmp_path: Path) -> None:
    run = tmp_path / "run.csv"
    run.write_text("video_0,video_0_0.jpg,0.5\n")
    with pytest.raises(BundleError) as raised:
        collect_submissions([run])
    message = str(raised.value)
    assert message.startswith(f"{run} is a bare run file; the platform takes a zip holding it at its root")
    assert f"python -m zipfile -c {tmp_path / 'run.zip'} {run} (or add --zip-runs)" in message


def test_zip_runs_zips_a_bare_run_file_beside_it(tmp_path: Path) -> None:
    run = tmp_path / "answers.txt"
    run.write_text("2\n")
    assert collect_submissions([run], zip_runs=True) == [tmp_path / "answers.zip"]
    assert zipfile.ZipFile(tmp_path / "answers.zip").namelist() == ["answers.txt"]


def test_a_missing_path_is_still_no_such_submission(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such submission"):
        collect_submissions([tmp_path / "absent.zip"])


def test_a_result_zip_gets_no_warning_about_cost_columns(bundle: Path, tmp_path: Path) -> None:
    import yaml

    path = bundle / "competition.yaml"
    data = yaml.safe_load(path.read_text())
    data["leaderboards"][0]["columns"].append({"title": "Time", "key": "time_s", "index": 3, "sorting": "asc"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_submission(bundle, zip_of(tmp_path / "r.zip", {"answers.txt": "2\n4\n6\n8\n"}), "Development",
                            use_docker=False, output_dir=tmp_path / "run")
    assert result.status == "finished", result.reason
    assert result.warnings == []


def test_a_run_in_a_folder_finishes_without_a_contradicting_warning(bundle: Path, tmp_path: Path) -> None:
    result = run_submission(bundle, zip_of(tmp_path / "n.zip", {"mine/answers.txt": "2\n4\n6\n8\n"}), "Development",
                            use_docker=False, output_dir=tmp_path / "run")
    assert not any("folder" in warning for warning in result.warnings)


def test_a_time_out_says_what_to_do(bundle: Path, tmp_path: Path) -> None:
    sleeper = zip_of(tmp_path / "s.zip", {"run.py": RUN_PREFIX + "print('fitting', flush=True)\n"
                                                                 "import time\ntime.sleep(60)\n"})
    result = run_submission(bundle, sleeper, "Development", use_docker=False, output_dir=tmp_path / "run",
                            time_limit=3)
    assert result.reason.startswith("Execution Time Limit exceeded. Limit was 3 seconds (prediction step): ")
    assert "make fit and predict faster" in result.reason and "\n" not in result.reason


def test_no_live_feedback_off_a_terminal(bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run.run_many(bundle, [zip_of(tmp_path / "r.zip", {"answers.txt": "2\n4\n6\n8\n"})], "Development",
                    use_docker=False, output_dir=tmp_path / "run", progress=True)
    assert "\r" not in capsys.readouterr().err


def test_live_feedback_shows_step_elapsed_and_limit(capsys: pytest.CaptureFixture) -> None:
    import time

    class Run:
        current_step = ("ingestion", time.monotonic() - 5, time.monotonic() + 55)

    with StepFeedback(Run()):
        time.sleep(POLL_SECONDS * 1.5)
    err = capsys.readouterr().err
    assert re.search(r"\ringestion: \d+ s \(limit 60 s\)", err)


def test_the_ingestion_time_out_names_what_was_running(tmp_path: Path) -> None:
    assert ingestion._how_far(tmp_path / "absent.json") == "Fusion.fit (or the loading before it) was still running"
    (tmp_path / "fit.json").write_text('{"fit_wall_s": 12.34}')
    assert ingestion._how_far(tmp_path / "fit.json") == "Fusion.fit took 12.3 s, then Fusion.predict was still running"


def test_zip_runs_is_an_option_of_bundlekit_run() -> None:
    parser = argparse.ArgumentParser()
    run.configure_parser(parser)
    assert parser.parse_args(["kit.zip", "run.csv", "--zip-runs"]).zip_runs
