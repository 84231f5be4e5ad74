"""`bundlekit run` against the tiny fixture bundle, locally and (marked) in Docker."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml

from bundlekit import run as runner
from bundlekit.run import BundleError, RunResult, run_many, run_submission
from bundlekit.run import commands, docker_engine, engine, local_engine, logs, scores, session, worker

FIXTURE_BUNDLE = Path(__file__).parent / "fixtures" / "runner" / "bundle"
DOCKER_IMAGES = ("python:3.11-slim", "imageclef/fusion-kit:0.1.0")
RESULT_FILES = {"answers.txt": "2\n4\n6\n9\n"}  # 3 of 4 right
RUN_PREFIX = (
    "import sys\n"
    "from pathlib import Path\n"
    "input_dir, output_dir = Path(sys.argv[1]), Path(sys.argv[2])\n"
)
DOUBLE = (
    "questions = (input_dir / 'questions.txt').read_text().split()\n"
    "(output_dir / 'answers.txt').write_text(''.join(f'{2 * int(q)}\\n' for q in questions))\n"
)


def code_files(body: str = DOUBLE, **extra: str) -> dict[str, str]:
    return {"run.py": RUN_PREFIX + body, **extra}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A private copy of the fixture bundle, free to edit."""
    return Path(shutil.copytree(FIXTURE_BUNDLE, tmp_path / "bundle"))


@pytest.fixture
def make_submission(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, files: dict[str, str]) -> Path:
        path = tmp_path / "submissions" / f"{name}.zip"
        path.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            for member, content in files.items():
                archive.writestr(member, content)
        return path
    return make


def edit_yaml(bundle: Path, change: Callable[[dict], None]) -> None:
    path = bundle / "competition.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def run_local(bundle: Path, submission: Path, tmp_path: Path, **options) -> RunResult:
    options.setdefault("phase", "Development")
    return run_submission(bundle, submission, use_docker=False, output_dir=tmp_path / "run", **options)


# --------------------------------------------------------------------------- local mode


def test_result_submission(bundle: Path, make_submission, tmp_path: Path) -> None:
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert (result.status, result.reason) == ("finished", None)
    assert result.scores == {"accuracy": 0.75, "n_lines": 4.0}
    assert result.leaderboard == [
        ("accuracy", "Accuracy", 0.75), ("n_lines", "Lines", 4.0), ("mean", "Mean", 2.375),
    ]
    assert set(result.times) == {"prediction_s", "scoring_s"}
    run_dir = Path(result.logs_dir)
    assert result.detailed_results == str(run_dir / "scoring" / "output" / "detailed_results.html")
    for log in ("prediction.stdout.log", "prediction.stderr.log", "scoring.stdout.log", "scoring.stderr.log"):
        assert (run_dir / log).is_file()
    # As on the platform, the ingestion program runs for a results submission too.
    assert "no run.py" in (run_dir / "prediction.stdout.log").read_text()
    prediction_metadata = yaml.safe_load((run_dir / "prediction" / "output" / "metadata").read_text())
    assert prediction_metadata["ingestionExitCode"] == 0 and prediction_metadata["exitCode"] is None
    scoring_metadata = yaml.safe_load((run_dir / "scoring" / "output" / "metadata").read_text())
    assert scoring_metadata["exitCode"] == 0 and scoring_metadata["elapsedTime"] > 0
    assert not (run_dir / "submission").exists()  # staging removed without keep
    assert (bundle / "reference_data" / "answers.txt").is_file()  # mounted, never removed
    assert json.loads((run_dir / "result.json").read_text())["status"] == "finished"


def test_code_submission(bundle: Path, make_submission, tmp_path: Path) -> None:
    result = run_local(bundle, make_submission("code", code_files()), tmp_path, keep=True)
    assert result.status == "finished", result.reason
    assert result.scores["accuracy"] == 1.0
    assert result.prediction_exit_code == 0
    assert result.times["wall_s"] >= 0  # from the ingestion's timing.json
    output = Path(result.logs_dir) / "prediction" / "output"
    # Without metadata the submission is copied beside the run, as the platform does.
    assert sorted(p.name for p in output.iterdir()) == ["answers.txt", "metadata", "run.py", "timing.json"]
    run_dir = Path(result.logs_dir)
    assert (run_dir / "submission" / "run.py").is_file()  # kept
    ingestion_app, scoring_app = run_dir / "work" / "ingestion" / "app", run_dir / "work" / "scoring" / "app"
    assert sorted(p.name for p in ingestion_app.iterdir()) == ["ingested_program", "input_data", "output", "program"]
    # Reference data is never mounted during prediction; like the platform, scoring gets no input data.
    assert sorted(p.name for p in scoring_app.iterdir()) == ["input", "output", "program", "shared"]
    assert sorted(p.name for p in (scoring_app / "input").iterdir()) == ["ref", "res"]


def test_code_submission_with_metadata_is_not_copied(bundle: Path, make_submission, tmp_path: Path) -> None:
    files = code_files(metadata="command: python3 -c pass\n")  # as the starting kit writes it
    result = run_local(bundle, make_submission("code", files), tmp_path)
    assert result.status == "finished", result.reason
    assert result.warnings == []
    output = Path(result.logs_dir) / "prediction" / "output"
    assert sorted(p.name for p in output.iterdir()) == ["answers.txt", "metadata", "timing.json"]


def test_submission_with_its_own_command_runs_first(bundle: Path, make_submission, tmp_path: Path) -> None:
    files = {"metadata.yaml": "command: python3 $program/hello.py\n",
             "hello.py": "print('submission program ran')\n", **RESULT_FILES}
    result = run_local(bundle, make_submission("own", files), tmp_path)
    stdout = (Path(result.logs_dir) / "prediction.submission.stdout.log").read_text()
    assert stdout == "submission program ran\n"
    assert result.status == "failed"  # its metadata keeps it from being copied as results
    assert "found 0" in result.reason


def test_time_limit_overrun(bundle: Path, make_submission, tmp_path: Path) -> None:
    sleeper = make_submission("sleepy", code_files("import time\ntime.sleep(60)\nprint('woke up')\n"))
    result = run_local(bundle, sleeper, tmp_path, time_limit=3)
    assert "woke up" not in (Path(result.logs_dir) / "prediction.stdout.log").read_text()  # killed, not waited for
    assert result.status == "failed"
    assert result.reason.startswith("Execution Time Limit exceeded. Limit was 3 seconds (prediction step)")


def test_phase_time_limit_applies(bundle: Path, make_submission, tmp_path: Path) -> None:
    edit_yaml(bundle, lambda data: data["phases"][1].update(execution_time_limit=2))
    sleeper = make_submission("sleepy", code_files("import time\ntime.sleep(60)\n"))
    result = run_local(bundle, sleeper, tmp_path, phase="FINAL")
    assert result.reason.startswith("Execution Time Limit exceeded. Limit was 2 seconds (prediction step)")


def test_memory_overrun(bundle: Path, make_submission, tmp_path: Path) -> None:
    hog = make_submission("hog", code_files("data = b'x' * (600 * 1024 * 1024)\n"))
    result = run_local(bundle, hog, tmp_path, memory="256m")
    assert result.status == "failed"
    assert result.reason.startswith("out of memory: the prediction step went over the memory limit of 256m")


def test_program_writing_metadata_fails(bundle: Path, make_submission, tmp_path: Path) -> None:
    body = DOUBLE + "(output_dir / 'metadata').write_text('exitCode: 0\\n')\n"
    result = run_local(bundle, make_submission("meta", code_files(body)), tmp_path)
    assert result.status == "failed"
    assert result.reason.startswith("the prediction step left a file named 'metadata' in /app/output")


def test_crashing_submission(bundle: Path, make_submission, tmp_path: Path) -> None:
    crash = make_submission("crash", code_files("raise RuntimeError('boom')\n"))
    result = run_local(bundle, crash, tmp_path)
    assert result.status == "failed"
    assert result.prediction_exit_code == 1
    # The platform goes on to scoring; the scorer explains the missing run.
    assert result.reason.startswith("the scoring program exited with code 1: expected one result file")
    assert not any("goes on to scoring" in warning for warning in result.warnings)
    assert "RuntimeError: boom" in (Path(result.logs_dir) / "prediction.stderr.log").read_text()


def test_result_zip_with_metadata_warns_and_fails_like_the_platform(
    bundle: Path, make_submission, tmp_path: Path,
) -> None:
    files = {**RESULT_FILES, "metadata": "author: me\n"}
    result = run_local(bundle, make_submission("results_meta", files), tmp_path)
    assert any("has no 'command'" in warning for warning in result.warnings)
    assert result.status == "failed"


def test_extra_score_keys_fail(bundle: Path, make_submission, tmp_path: Path) -> None:
    def drop_lines_column(data: dict) -> None:
        columns = data["leaderboards"][0]["columns"]
        columns[:] = [c for c in columns if c["key"] != "n_lines"]
        columns[-1]["computation_indexes"] = [0]
    edit_yaml(bundle, drop_lines_column)
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert result.status == "failed"
    assert "not leaderboard columns: 'n_lines' (the platform drops them silently)" in result.reason
    assert result.scores == {"accuracy": 0.75, "n_lines": 4.0}


def test_missing_column_is_a_warning(bundle: Path, make_submission, tmp_path: Path) -> None:
    # e.g. the execution time of a result-only submission: the platform shows it empty
    edit_yaml(bundle, lambda data: data["leaderboards"][0]["columns"].append(
        {"title": "F1", "key": "f1", "index": 3}))
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert result.status == "finished"
    assert any(w.startswith("no score for the leaderboard column(s) 'f1'") for w in result.warnings)


def test_failing_scorer_scores_are_ignored(bundle: Path, make_submission, tmp_path: Path) -> None:
    score = bundle / "scoring_program" / "score.py"
    score.write_text(score.read_text().replace(
        "    print(f\"accuracy {accuracy}\")\n    return 0",
        "    print('something broke late', file=sys.stderr)\n    return 3",
    ))
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert result.status == "failed"
    assert result.reason == "the scoring program exited with code 3: something broke late"
    assert result.scores == {} and result.scoring_exit_code == 3


def test_scorer_writing_metadata_fails(bundle: Path, make_submission, tmp_path: Path) -> None:
    score = bundle / "scoring_program" / "score.py"
    score.write_text(score.read_text().replace(
        "    return 0", "    (output / 'metadata').write_text('mine')\n    return 0"))
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert result.reason.startswith("the scoring step left a file named 'metadata'")


def test_shell_syntax_in_command_refused(bundle: Path, make_submission, tmp_path: Path) -> None:
    (bundle / "scoring_program" / "metadata.yaml").write_text(
        "command: python3 $program/score.py $input $output && echo done\n")
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert result.status == "failed"
    assert "uses shell syntax ('&')" in result.reason and "without a shell" in result.reason


def test_program_without_metadata(bundle: Path, make_submission, tmp_path: Path) -> None:
    (bundle / "ingestion_program" / "metadata.yaml").unlink()
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert result.reason.startswith("ingestion program: no metadata.yaml or metadata at its root")


@pytest.mark.parametrize(
    ("member", "expected"),
    [("../evil.txt", "'..' component"), ("/tmp/evil.txt", "absolute path")],
)
def test_unsafe_submission_is_rejected(bundle: Path, tmp_path: Path, member: str, expected: str) -> None:
    archive = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr("answers.txt", "2\n")
        zip_file.writestr(zipfile.ZipInfo(member), "owned\n")
    result = run_local(bundle, archive, tmp_path)
    assert result.status == "failed"
    assert expected in result.reason and member in result.reason
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "run" / "evil.txt").exists()
    assert not (tmp_path / "run" / "prediction").exists()


def test_absolute_members_get_no_wrapping_folder_advice(bundle: Path, tmp_path: Path) -> None:
    archive = tmp_path / "absolute.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr(zipfile.ZipInfo("/home/me/sub/answers.txt"), "2\n")
    result = run_local(bundle, archive, tmp_path)
    assert result.status == "failed" and "has an absolute path: zip relative paths only" in result.reason
    assert result.warnings == []


def test_zipped_bundle_and_zipped_programs(bundle: Path, make_submission, tmp_path: Path) -> None:
    for folder in ("scoring_program", "reference_data"):
        shutil.make_archive(str(bundle / folder), "zip", bundle / folder)
        shutil.rmtree(bundle / folder)
    edit_yaml(bundle, lambda data: data["tasks"][0].update(
        scoring_program="scoring_program.zip", reference_data="reference_data.zip"))
    bundle_zip = shutil.make_archive(str(tmp_path / "bundle"), "zip", bundle)
    result = run_local(Path(bundle_zip), make_submission("result", RESULT_FILES), tmp_path)
    assert result.status == "finished", result.reason
    assert result.scores["accuracy"] == 0.75


def test_rerun_in_the_same_folder(bundle: Path, make_submission, tmp_path: Path) -> None:
    submission = make_submission("result", RESULT_FILES)
    assert run_local(bundle, submission, tmp_path).status == "finished"
    with pytest.raises(BundleError, match="already holds .* give --output a fresh folder, or add --force"):
        run_local(bundle, submission, tmp_path)
    assert run_local(bundle, submission, tmp_path, force=True).status == "finished"  # no stale metadata


def test_phase_selection(bundle: Path, make_submission, tmp_path: Path) -> None:
    submission = make_submission("result", RESULT_FILES)
    with pytest.raises(BundleError, match="no phase 'Nope' in the bundle: the phases are 'Development', 'Final'"):
        run_submission(bundle, submission, "Nope", use_docker=False)
    with pytest.raises(BundleError, match="several phases .*choose one with --phase"):
        run_submission(bundle, submission, None, use_docker=False)
    edit_yaml(bundle, lambda data: data["phases"].pop())
    result = run_submission(bundle, submission, None, use_docker=False, output_dir=tmp_path / "run")
    assert result.status == "finished"


def test_run_many_keeps_order_and_separates_runs(bundle: Path, make_submission, tmp_path: Path) -> None:
    submissions = [make_submission("good", code_files()), make_submission("result", RESULT_FILES)]
    results = run_many(bundle, submissions, "development", use_docker=False, jobs=2,
                       output_dir=tmp_path / "runs")
    assert [Path(r.submission).name for r in results] == ["good.zip", "result.zip"]
    assert [Path(r.logs_dir).name for r in results] == ["good", "result"]
    assert [r.scores["accuracy"] for r in results] == [1.0, 0.75]


# --------------------------------------------------------------------------- hostile programs


def metadata_symlink_body(target: Path) -> str:
    return DOUBLE + f"import os\nos.symlink({str(target)!r}, output_dir / 'metadata')\n"


def test_dangling_metadata_symlink_fails_and_writes_nothing(bundle: Path, make_submission, tmp_path: Path) -> None:
    target = tmp_path / "host" / "planted"
    target.parent.mkdir()
    result = run_local(bundle, make_submission("link", code_files(metadata_symlink_body(target))), tmp_path)
    assert result.status == "failed"
    assert result.reason.startswith("the prediction step left a file named 'metadata' in /app/output")
    assert not target.exists() and not target.is_symlink()


def test_write_worker_metadata_never_follows_a_link(tmp_path: Path) -> None:
    target = tmp_path / "planted"
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "metadata").symlink_to(target)
    with pytest.raises(worker.StepFailure, match="left a file named 'metadata'"):
        worker.write_worker_metadata(tmp_path / "output", "prediction", {})
    assert not target.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("import os\nos.symlink('/etc/hostname', output_dir / 'answers.txt')\n",
         "left a symbolic link 'answers.txt' in /app/output"),
        (DOUBLE + "import os\n(output_dir / 'sub').mkdir()\nos.symlink('/etc', output_dir / 'sub' / 'etc')\n",
         "left a symbolic link 'sub/etc' in /app/output"),
        (DOUBLE + "import os\nos.mkfifo(output_dir / 'notes.fifo')\n",
         "left a special file 'notes.fifo' in /app/output"),
    ],
    ids=["file-link", "nested-folder-link", "fifo"],
)
def test_links_in_the_prediction_output_are_refused(
    bundle: Path, make_submission, tmp_path: Path, body: str, expected: str,
) -> None:
    result = run_local(bundle, make_submission("link", code_files(body)), tmp_path)
    assert result.status == "failed"
    assert expected in result.reason and "write regular files only" in result.reason
    assert not (Path(result.logs_dir) / "scoring").exists()  # refused before scoring


def test_scorer_output_links_are_not_read(bundle: Path, make_submission, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"accuracy": 0.99, "n_lines": 4}')
    score = bundle / "scoring_program" / "score.py"
    score.write_text(score.read_text().replace(
        "    (output / \"scores.json\").write_text(",
        f"    __import__('os').symlink({str(secret)!r}, output / 'scores.json')\n    (output / 'unused.json').write_text(",
    ))
    result = run_local(bundle, make_submission("result", RESULT_FILES), tmp_path)
    assert result.status == "failed"
    assert "the scoring step left a symbolic link 'scores.json' in /app/output" in result.reason
    assert result.scores == {}


def test_read_output_file_refuses_links_and_fifos(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    os.mkfifo(tmp_path / "fifo.json")  # opened without blocking
    assert scores.read_output_file(tmp_path / "real.json") == b"{}"
    assert scores.read_output_file(tmp_path / "missing.json") is None
    for name in ("link.json", "fifo.json"):
        with pytest.raises(worker.StepFailure, match=f"{name} in /app/output is not a regular file"):
            scores.read_output_file(tmp_path / name)


def test_ingestion_error_line_is_the_reason(bundle: Path, make_submission, tmp_path: Path) -> None:
    ingest = bundle / "ingestion_program" / "ingest.py"
    ingest.write_text(ingest.read_text().replace(
        '        print(f"run.py exited with code {code}", file=sys.stderr)\n',
        '        print("ERROR: Fusion.predict raised KeyError: \'q9\' (run.py line 4)", file=sys.stderr)\n'
        '        print("[measure] exit=1 wall=0.1s cpu=0.1s", file=sys.stderr)\n',
    ))
    result = run_local(bundle, make_submission("crash", code_files("raise KeyError('q9')\n")), tmp_path)
    assert result.status == "failed"
    assert result.reason == "Fusion.predict raised KeyError: 'q9' (run.py line 4)"


def test_huge_output_is_capped(bundle: Path, make_submission, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(logs, "LOG_CAP_BYTES", 64 * 1024)
    body = "import sys\nfor _ in range(2000):\n    print('x' * 999)\n    print('y' * 999, file=sys.stderr)\n" + DOUBLE
    result = run_local(bundle, make_submission("noisy", code_files(body)), tmp_path)
    assert result.status == "finished", result.reason  # the program was never blocked
    for stream in ("stdout", "stderr"):
        log = Path(result.logs_dir) / f"prediction.{stream}.log"
        assert log.stat().st_size < 64 * 1024 + 200
        assert log.read_text().splitlines()[-1] == "[bundlekit] output truncated after 0.0625 MiB"


ENV_BODY = "import json, os\nprint('ENV', json.dumps(dict(os.environ)))\n" + DOUBLE


def test_local_programs_get_a_minimal_environment(bundle: Path, make_submission, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ORGANISER_SECRET", "s3cret")
    result = run_local(bundle, make_submission("env", code_files(ENV_BODY)), tmp_path)
    assert result.status == "finished", result.reason
    line = next(line for line in (Path(result.logs_dir) / "prediction.stdout.log").read_text().splitlines()
                if line.startswith("ENV "))
    env = json.loads(line.removeprefix("ENV "))
    assert set(env) == {"PATH", "HOME", "LANG", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
    assert env["PYTHONUNBUFFERED"] == "1"
    assert Path(env["HOME"]).is_relative_to(Path(result.logs_dir))


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_time_out_stops_the_whole_tree_term_first(bundle: Path, make_submission, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(local_engine, "KILL_GRACE_SECONDS", 1.0)
    marker = tmp_path / "terminated"
    polite = (f"import signal, sys, time\n"
              f"signal.signal(signal.SIGTERM, lambda *_: (open({str(marker)!r}, 'w').close(), sys.exit(0)))\n"
              "time.sleep(120)\n")
    stubborn = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(120)\n"
    body = (
        "import subprocess, sys, time\n"
        f"for code in ({polite!r}, {stubborn!r}):\n"
        "    child = subprocess.Popen([sys.executable, '-c', code], start_new_session=True)\n"
        "    print('CHILD', child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    result = run_local(bundle, make_submission("forks", code_files(body)), tmp_path, time_limit=4)
    assert result.reason.startswith("Execution Time Limit exceeded. Limit was 4 seconds (prediction step)")
    stdout = (Path(result.logs_dir) / "prediction.stdout.log").read_text()
    pids = [int(line.split()[1]) for line in stdout.splitlines() if line.startswith("CHILD ")]
    assert len(pids) == 2
    deadline = time.monotonic() + 60  # a bound on waiting for the kernel, not a speed requirement
    while any(map(process_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(process_alive, pids))
    assert marker.exists()  # SIGTERM came first


def test_no_docker_help_says_there_is_no_isolation() -> None:
    parser = argparse.ArgumentParser()
    runner.configure_parser(parser)
    assert "no process, memory or network isolation: run only code you trust" in " ".join(parser.format_help().split())


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    runner.configure_parser(parser)
    return runner.run_command(parser.parse_args(argv))


def test_cli_json_for_one_and_several(bundle: Path, make_submission, tmp_path: Path, capsys) -> None:
    good = make_submission("good", RESULT_FILES)
    make_submission("crash", code_files("raise SystemExit(4)\n"))  # beside good, for the folder run
    assert cli([str(bundle), str(good), "--phase", "development", "--no-docker", "--json",
                "--output", str(tmp_path / "one")]) == 0
    single = json.loads(capsys.readouterr().out)
    assert single["status"] == "finished" and single["scores"] == {"accuracy": 0.75, "n_lines": 4.0}
    assert single["logs_dir"] == str((tmp_path / "one").resolve())
    assert set(single["times"]) == {"prediction_s", "scoring_s"}

    assert cli([str(bundle), str(good.parent), "--phase", "development", "--no-docker", "--json",
                "--output", str(tmp_path / "many")]) == 1
    several = json.loads(capsys.readouterr().out)
    assert [(Path(r["submission"]).name, r["status"]) for r in several] == [
        ("crash.zip", "failed"), ("good.zip", "finished")]


def test_cli_table_and_errors(bundle: Path, make_submission, tmp_path: Path, capsys) -> None:
    submissions = [make_submission("good", code_files()), make_submission("result", RESULT_FILES),
                   make_submission("crash", code_files("raise SystemExit(4)\n"))]
    assert cli([str(bundle), *map(str, submissions), "--phase", "development", "--no-docker",
                "--output", str(tmp_path / "runs")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["#", "submission", "Accuracy", "Lines", "Mean", "status"]
    assert lines[1].split()[:3] == ["1", "good.zip", "1.000"]
    assert lines[2].split()[:3] == ["2", "result.zip", "0.750"]
    assert lines[3].split()[:2] == ["-", "crash.zip"] and "FAILED" in lines[3]

    assert cli([str(bundle), str(submissions[0]), "--phase", "nope", "--no-docker"]) == 2
    assert capsys.readouterr().err.strip().endswith("the phases are 'Development', 'Final'")



@pytest.mark.parametrize("option", ["--pids", "--jobs"])
@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_cli_counts_must_be_at_least_one(bundle: Path, capsys, option: str, value: str) -> None:
    parser = argparse.ArgumentParser()
    runner.configure_parser(parser)
    with pytest.raises(SystemExit) as raised:
        parser.parse_args([str(bundle), "sub.zip", option, value])
    assert raised.value.code == 2
    assert f"argument {option}: '{value}': give a whole number, at least 1" in capsys.readouterr().err


def test_api_refuses_no_process_limit(bundle: Path, make_submission) -> None:
    with pytest.raises(BundleError, match="process limit 0: give at least 1"):
        run_submission(bundle, make_submission("result", RESULT_FILES), "Development", use_docker=False, pids=0)


def test_cli_json_when_the_run_cannot_start(bundle: Path, make_submission, capsys) -> None:
    submission = make_submission("result", RESULT_FILES)
    assert cli([str(bundle), str(submission), "--phase", "nope", "--no-docker", "--json"]) == 2
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["status"] == "error" and payload["reason"].startswith("no phase 'nope' in the bundle")
    assert captured.err.count("\n") == 2  # the --no-docker notice and the one-line error


# --------------------------------------------------------------------------- Docker


def docker_image() -> str | None:
    if not runner.docker_available():
        return None
    return next((image for image in DOCKER_IMAGES if runner.image_available(image)), None)


def labelled_containers() -> set[str]:
    import docker

    client = docker.from_env()
    try:
        found = client.containers.list(all=True, filters={"label": f"{docker_engine.CONTAINER_LABEL}=1"})
        return {container.id for container in found}
    finally:
        client.close()


@pytest.fixture(scope="module")
def image() -> str:
    found = docker_image()
    if found is None:
        pytest.skip(f"no Docker engine, or none of the images {DOCKER_IMAGES} is present")
    return found


@pytest.fixture
def run_docker(image: str, tmp_path: Path) -> Iterator[Callable[..., RunResult]]:
    before = labelled_containers()

    def run(bundle: Path, submission: Path, **options) -> RunResult:
        options.setdefault("phase", "Development")
        return run_submission(bundle, submission, use_docker=True, image=image,
                              output_dir=tmp_path / "run", force=True, **options)  # one folder for the test's runs
    yield run
    assert labelled_containers() <= before, "a container labelled bundlekit=1 was left behind"


@pytest.mark.docker
def test_docker_result_and_code_submissions(bundle: Path, make_submission, run_docker) -> None:
    result = run_docker(bundle, make_submission("result", RESULT_FILES))
    assert result.status == "finished", result.reason
    assert result.scores == {"accuracy": 0.75, "n_lines": 4.0}
    code = run_docker(bundle, make_submission("code", code_files()))
    assert code.status == "finished", code.reason
    assert code.scores["accuracy"] == 1.0 and "wall_s" in code.times


@pytest.mark.docker
def test_docker_time_limit(bundle: Path, make_submission, run_docker) -> None:
    result = run_docker(bundle, make_submission("sleepy", code_files("import time\ntime.sleep(60)\nprint('woke up')\n")),
                        time_limit=3)
    assert "woke up" not in (Path(result.logs_dir) / "prediction.stdout.log").read_text()  # killed, not waited for
    assert result.reason.startswith("Execution Time Limit exceeded. Limit was 3 seconds (prediction step)")


@pytest.mark.docker
def test_docker_memory_limit(bundle: Path, make_submission, run_docker) -> None:
    hog = make_submission("hog", code_files("data = b'x' * (600 * 1024 * 1024)\nprint(len(data))\n"))
    result = run_docker(bundle, hog, memory="256m")
    assert result.status == "failed"
    assert result.reason.startswith("out of memory: the prediction step went over the memory limit of 256m")


@pytest.fixture
def host_server() -> Iterator[int]:
    """A TCP server on every host address; yields its port."""
    server = socket.create_server(("0.0.0.0", 0))
    server.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                connection.close()
            except OSError:
                continue
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge (the subnet's first address if unnamed)."""
    import ipaddress

    import docker

    client = docker.from_env()
    try:
        config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    finally:
        client.close()
    return config.get("Gateway") or str(ipaddress.ip_network(config["Subnet"])[1])


@pytest.mark.docker
@pytest.mark.parametrize("network", [False, True], ids=["disabled", "enabled"])
def test_docker_network(bundle: Path, make_submission, run_docker, host_server: int, network: bool) -> None:
    body = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(({bridge_gateway()!r}, {host_server}), timeout=5).close()\n"
        "    print('NETWORK connected')\n"
        "except OSError as error:\n"
        "    print('NETWORK blocked', error)\n" + DOUBLE
    )
    result = run_docker(bundle, make_submission("net", code_files(body)), network=network)
    assert result.status == "finished", result.reason
    stdout = (Path(result.logs_dir) / "prediction.stdout.log").read_text()
    assert ("NETWORK connected" if network else "NETWORK blocked") in stdout


@pytest.mark.docker
def test_docker_program_writing_metadata(bundle: Path, make_submission, run_docker) -> None:
    body = DOUBLE + "(output_dir / 'metadata').write_text('exitCode: 0\\n')\n"
    result = run_docker(bundle, make_submission("meta", code_files(body)))
    assert result.reason.startswith("the prediction step left a file named 'metadata'")


@pytest.mark.docker
def test_docker_crash_and_read_only_reference(bundle: Path, make_submission, run_docker) -> None:
    crash = run_docker(bundle, make_submission("crash", code_files("raise RuntimeError('boom')\n")))
    assert crash.reason.startswith("the scoring program exited with code 1: expected one result file")
    score = bundle / "scoring_program" / "score.py"
    score.write_text(score.read_text().replace(
        "    return 0", "    (Path(input_dir) / 'ref' / 'answers.txt').write_text('tampered')\n    return 0"))
    tamper = run_docker(bundle, make_submission("result", RESULT_FILES))
    assert tamper.status == "failed" and "Read-only file system" in tamper.reason


@pytest.mark.docker
def test_docker_dangling_metadata_symlink_writes_nothing_on_the_host(
    bundle: Path, make_submission, run_docker, tmp_path: Path,
) -> None:
    target = tmp_path / "planted"  # dangling inside the container, real on the host
    result = run_docker(bundle, make_submission("link", code_files(metadata_symlink_body(target))))
    assert result.reason.startswith("the prediction step left a file named 'metadata' in /app/output")
    assert not target.exists() and not target.is_symlink()


@pytest.mark.docker
def test_docker_symlink_in_the_output_is_refused(bundle: Path, make_submission, run_docker) -> None:
    body = "import os\nos.symlink('/etc/hostname', output_dir / 'answers.txt')\n"
    result = run_docker(bundle, make_submission("link", code_files(body)))
    assert "the prediction step left a symbolic link 'answers.txt' in /app/output" in result.reason


@pytest.mark.docker
def test_docker_huge_output_is_capped_and_error_line_is_the_reason(
    bundle: Path, make_submission, run_docker, monkeypatch,
) -> None:
    monkeypatch.setattr(logs, "LOG_CAP_BYTES", 256 * 1024)
    ingest = bundle / "ingestion_program" / "ingest.py"
    ingest.write_text(ingest.read_text().replace(
        '        print(f"run.py exited with code {code}", file=sys.stderr)\n',
        '        print(f"ERROR: run.py exited with code {code}: fix it", file=sys.stderr)\n',
    ))
    body = "import sys\nblock = 'x' * (1024 * 1024)\nfor _ in range(50):\n    print(block)\nraise SystemExit(3)\n"
    result = run_docker(bundle, make_submission("noisy", code_files(body)))
    assert result.reason == "run.py exited with code 3: fix it"  # not the scorer's, nor [measure]'s
    log = Path(result.logs_dir) / "prediction.stdout.log"
    assert log.stat().st_size < 256 * 1024 + 200
    assert log.read_text().splitlines()[-1] == "[bundlekit] output truncated after 0.25 MiB"


@pytest.mark.docker
def test_docker_leftovers_are_removed_but_not_running_containers(
    bundle: Path, image: str, monkeypatch, capsys,
) -> None:
    import docker

    label = f"bundlekit-test-{os.getpid()}-{time.monotonic_ns()}"  # touch no other runner's containers
    monkeypatch.setattr(docker_engine, "CONTAINER_LABEL", label)
    monkeypatch.setattr(docker_engine, "LEFTOVER_AGE_SECONDS", 0.0)
    client = docker.from_env()
    created = client.containers.create(image, command=["true"], labels={label: "1"})
    exited = client.containers.run(image, command=["true"], labels={label: "1"}, detach=True)
    running = client.containers.run(image, command=["sleep", "60"], labels={label: "1"}, detach=True)
    try:
        exited.wait(timeout=30)
        with runner.Bundle(bundle) as loaded:
            session.make_settings(loaded, True, None, "1g", 16, False, image, False)
        assert "removed 2 stopped container(s) left by an interrupted run" in capsys.readouterr().err
        remaining = client.containers.list(all=True, filters={"label": f"{label}=1"})
        assert [container.id for container in remaining] == [running.id]
    finally:
        for container in (created, exited, running):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
        client.close()


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("command", "kind", "is_scoring", "expected"),
    [
        ("python3 $program/score.py $input $output", "program", True,
         ["python3", "/app/program/score.py", "/app/input", "/app/output"]),
        ("python3 $ingestion_program/ingest.py $input $output $submission_program", "ingestion", False,
         ["python3", "/app/program/ingest.py", "/app/input_data", "/app/output", "/app/ingested_program"]),
        ("run $hidden $predictions $shared $tmp", "program", True,
         ["run", "/app/input/ref", "/app/input/res", "/app/shared", "/app/output"]),
        ("run $predictions", "program", False, ["run", "/app/output"]),
    ],
)
def test_placeholders_as_the_platform_substitutes_them(command, kind, is_scoring, expected) -> None:
    assert commands.command_argv(command, "program", kind, is_scoring) == expected


@pytest.mark.parametrize("command", ["python3 a.py | tee log", "python3 a.py; rm x", "echo $HOME",
                                     "python3 'a b.py'", "python3 *.py", "cat ~/x"])
def test_shell_syntax_refused(command: str) -> None:
    with pytest.raises(worker.StepFailure, match="shell syntax"):
        commands.command_argv(command, "scoring program metadata.yaml", "program", True)


def test_parse_memory() -> None:
    assert engine.parse_memory("4g") == 4 * 1024**3
    assert engine.parse_memory("256m") == 256 * 1024**2
    with pytest.raises(ValueError, match="write a size like"):
        engine.parse_memory("1.5g")
