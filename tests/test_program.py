"""The program contract shared by every scoring program: finding the run, timing.json.

A toy task scores a run by its number of lines, so that these tests are about the
contract alone (scoring_common/program.py), not about any metric.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring_common.errors import EXIT_PARTICIPANT_ERROR
from scoring_common.ingestion import main as ingestion_main
from scoring_common.program import Evaluation, TaskScoring, main

SECRET = "secret_reference_line"


def _count_lines(ref_dir: Path, run_path: Path) -> Evaluation:
    return Evaluation(scores={"lines": float(len(run_path.read_text(encoding="utf-8").splitlines()))},
                      primary="lines")


TASK = TaskScoring(title="toy", run_suffixes=(".csv", ".txt"), evaluate=_count_lines)


def _layout(tmp_path: Path, res_files: dict[str, str]) -> tuple[Path, Path]:
    input_dir, output_dir = tmp_path / "input", tmp_path / "output"
    (input_dir / "ref").mkdir(parents=True)
    (input_dir / "ref" / "groundtruth.csv").write_text(f"{SECRET}\n" * 7, encoding="utf-8")
    (input_dir / "res").mkdir()
    for name, text in res_files.items():
        path = input_dir / "res" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return input_dir, output_dir


def _score(tmp_path: Path, res_files: dict[str, str], capsys) -> tuple[int, str, Path]:
    input_dir, output_dir = _layout(tmp_path, res_files)
    code = main(TASK, [str(input_dir), str(output_dir)])
    return code, capsys.readouterr().err, output_dir


def _timing(**fields) -> str:
    return json.dumps({"run_file": "run.csv", "time_s": 1.5, "cpu_s": 1.0, "memory_mib": 80.0, **fields})


def test_timing_gives_time_s(tmp_path: Path, capsys) -> None:
    code, err, output_dir = _score(tmp_path, {"run.csv": "a\nb\n", "timing.json": _timing()}, capsys)
    assert code == 0, err
    assert json.loads((output_dir / "scores.json").read_text()) == {"lines": 2.0, "time_s": 1.5, "cpu_s": 1.0,
                                                                    "memory_mib": 80.0}


@pytest.mark.parametrize("timing", [
    _timing(run_file="../ref/groundtruth.csv"),
    _timing(run_file="/etc/hostname"),
    _timing(run_file=".."),
    _timing(run_file="sub/run.csv"),
    _timing(run_file="missing.csv"),
    _timing(run_file=7),
    _timing(time_s=-1e9),
    _timing(time_s="fast"),
    _timing(memory_mib=float("nan")),
    _timing(cpu_s=True),
    json.dumps({"run_file": "run.csv"}),
    "[1, 2]",
    "{not json",
], ids=["parent", "absolute", "dotdot", "subfolder", "missing", "not-a-name", "negative", "string", "nan",
        "bool", "no-wall", "list", "invalid"])
def test_a_forged_timing_file_is_the_participants_error(tmp_path: Path, capsys, timing: str) -> None:
    files = {"run.csv": "a\nb\n", "timing.json": timing, "sub/run.csv": "x\n"}
    code, err, output_dir = _score(tmp_path, files, capsys)
    assert code == EXIT_PARTICIPANT_ERROR
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "timing.json is reserved" in err and "remove timing.json from your submission" in err
    assert SECRET not in err
    assert not (output_dir / "scores.json").exists()


@pytest.mark.parametrize("files", [
    {"run.csv": "a\n", "__MACOSX/._run.csv": "junk\n", ".DS_Store": "junk\n"},
    {"run.csv": "a\n", "fusion.py": "class Fusion: ...\n", "metadata.yaml": "command: x\n", "metadata": "exitCode: 0\n"},
    {"folder/run.csv": "a\n"},
    {"RUN.TXT": "a\n"},
], ids=["macos", "code-beside", "subfolder", "upper-case-suffix"])
def test_the_run_is_found_among_ignored_files(tmp_path: Path, capsys, files: dict[str, str]) -> None:
    code, err, output_dir = _score(tmp_path, files, capsys)
    assert code == 0, err
    assert json.loads((output_dir / "scores.json").read_text()) == {"lines": 1.0}


@pytest.mark.parametrize("files, message", [
    ({}, "holds no run file; a result zip holds one .csv or .txt run file at its root, a code zip holds fusion.py"),
    ({"run.zip": "PK"}, "holds a zip inside the zip ('run.zip'); zip the run file itself"),
    ({"run.json": "{}"}, "holds no .csv or .txt run file (found 'run.json')"),
    ({"a.csv": "1\n", "b.txt": "2\n"}, "holds 2 possible run files ('a.csv', 'b.txt')"),
], ids=["empty", "nested-zip", "wrong-suffix", "two-runs"])
def test_no_single_run_is_explained(tmp_path: Path, capsys, files: dict[str, str], message: str) -> None:
    code, err, output_dir = _score(tmp_path, files, capsys)
    assert code == EXIT_PARTICIPANT_ERROR
    assert message in err and err.count("\n") == 1
    assert not (output_dir / "scores.json").exists()


def test_ingestion_refuses_a_result_zip_with_timing(tmp_path: Path, capsys) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "run.csv").write_text("a\n", encoding="utf-8")
    (submission / "timing.json").write_text(_timing(time_s=0.0), encoding="utf-8")
    output = tmp_path / "output"
    code = ingestion_main(__file__, [str(tmp_path / "input"), str(output), str(submission), "60"])
    err = capsys.readouterr().err
    assert code == EXIT_PARTICIPANT_ERROR
    assert "holds a file named timing.json, which is reserved" in err and err.count("\n") == 1
    assert not (output / "timing.json").exists()
