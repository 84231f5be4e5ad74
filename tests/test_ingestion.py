"""The shared ingestion machinery, on a toy task whose fusion_io needs only the stdlib."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import toy_fusion_io, write_toy_program
from scoring_common.errors import ParticipantError
from scoring_common.ingestion import pass_through, run_fusion

GOOD_FUSION = '''
class Fusion:
    def fit(self, X, y):
        self.n = len(y)
        return self
    def predict(self, X):
        return {k: sum(v) / len(v) for k, v in X.items()}
'''


@pytest.fixture()
def toy(tmp_path: Path) -> dict[str, Path]:
    program = tmp_path / "program"
    program.mkdir()
    write_toy_program(program)
    data = tmp_path / "input"
    for split in ("train", "predict"):
        (data / split).mkdir(parents=True)
        (data / split / "inducers.csv").write_text("a,1,2\nb,3,5\n")
    (data / "train" / "truth.csv").write_text("a,1\nb,0\n")
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "metadata").write_text("command: python3 -c pass\n")
    output = tmp_path / "output"
    output.mkdir()
    return {"program": program, "input": data, "submission": submission, "output": output}


def submit(toy: dict[str, Path], fusion_code: str, time_limit: float = 30) -> dict:
    (toy["submission"] / "fusion.py").write_text(textwrap.dedent(fusion_code))
    return run_fusion(toy["program"], toy["input"], toy["output"], toy["submission"], time_limit)


def test_code_submission_writes_run_and_timing(toy):
    timing = submit(toy, GOOD_FUSION)
    assert (toy["output"] / "run.csv").read_text() == "a,1.5\nb,4.0\n"
    written = json.loads((toy["output"] / "timing.json").read_text())
    assert written == timing
    assert timing["run_file"] == "run.csv"
    assert timing["wall_s"] >= timing["time_s"] >= 0
    assert timing["overhead_wall_s"] == pytest.approx(timing["wall_s"] - timing["time_s"], abs=0.002)
    assert timing["cpu_s"] >= 0 and timing["memory_mib"] > 1
    assert timing["time_limit_s"] == 30


def test_memory_counts_the_participants_process_not_the_ingestions(toy):
    """A child's ru_maxrss includes what the ingestion held when it forked; memory_mib must not."""
    ballast = bytearray(300 * 2**20)  # the ingestion process holds 300 MiB, resident
    ballast[::4096] = b"x" * len(ballast[::4096])
    timing = submit(toy, GOOD_FUSION)
    assert 1 < timing["memory_mib"] < 200, timing
    big = submit(toy, GOOD_FUSION.replace("class Fusion", "BLOCK = bytearray(400 * 2**20)\nBLOCK[::4096] = "
                                          "b'x' * len(BLOCK[::4096])\n\n\nclass Fusion"))
    assert big["memory_mib"] > 400, big
    del ballast


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("class Fusion:\n    def fit(self, X, y):\n        return self\n    def predict(self, X):\n        return 1 / 0\n",
         "Fusion.predict raised ZeroDivisionError: division by zero (fusion.py line 5)"),
        ("class Fusion:\n    def fit(self, X, y):\n        return self\n    def predict(self, X):\n        return [1]\n",
         "Fusion.predict returned a list; return a dict id -> score"),
        ("class Model:\n    pass\n", "fusion.py defines no class Fusion"),
        ("class Fusion:\n    def fit(self, X, y):\n        return self\n", "class Fusion in fusion.py has no predict method"),
        ("import not_a_module\n", "importing fusion.py raised ModuleNotFoundError: No module named 'not_a_module'"),
        ("import sys\nsys.exit(3)\n", "importing fusion.py raised SystemExit: 3"),
        ("import os\nos._exit(4)\n", "your fusion code exited with code 4 before finishing"),
    ],
)
def test_faulty_code_gives_one_clear_line(toy, code, expected):
    with pytest.raises(ParticipantError) as caught:
        submit(toy, code)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (toy["output"] / "run.csv").exists()
    assert not (toy["output"] / "timing.json").exists()


def test_time_limit_kills_the_code(toy):
    with pytest.raises(ParticipantError, match="did not finish within its time limit of 1 s"):
        submit(toy, "import time\nclass Fusion:\n    def fit(self, X, y):\n        time.sleep(30)\n"
                    "    def predict(self, X):\n        return {}\n", time_limit=1)


def test_missing_fusion_file(toy):
    with pytest.raises(ParticipantError, match="has no fusion.py at the root"):
        run_fusion(toy["program"], toy["input"], toy["output"], toy["submission"], 30)


def test_result_submission_passes_through(tmp_path):
    submission = tmp_path / "sub"
    (submission / "sub").mkdir(parents=True)
    (submission / "run.csv").write_text("a,1\n")
    (submission / "sub" / "notes.txt").write_text("x")
    (submission / "metadata").write_text("should not be copied")
    output = tmp_path / "out"
    output.mkdir()
    assert pass_through(submission, output) == ["run.csv", "sub/notes.txt"]
    assert (output / "run.csv").read_text() == "a,1\n"
    assert not (output / "metadata").exists()


def run_ingest(toy, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(toy["program"] / "ingest.py"), str(toy["input"]), str(toy["output"]),
                           str(toy["submission"]), *extra], capture_output=True, text=True, timeout=60)


def test_ingest_program_exit_codes(toy):
    (toy["submission"] / "fusion.py").write_text(GOOD_FUSION)
    done = run_ingest(toy, "30")
    assert done.returncode == 0, done.stderr
    assert "fusion code finished" in done.stdout
    (toy["submission"] / "fusion.py").write_text("raise ValueError('bad idea')\n")
    failed = run_ingest(toy, "30")
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("ERROR: importing fusion.py raised ValueError: bad idea (fusion.py line 1)")
    usage = run_ingest(toy)
    assert usage.returncode == 2


@pytest.mark.parametrize("layout", ["", "data/"])
def test_data_root_is_found_whether_or_not_the_platform_unwrapped_it(tmp_path, layout):
    from scoring_common.ingestion import locate_data_root

    for part in ("train", "predict"):
        (tmp_path / f"{layout}{part}").mkdir(parents=True)
    expected = tmp_path / "data" if layout else tmp_path
    assert locate_data_root(tmp_path) == expected


def test_data_root_missing_is_an_internal_error(tmp_path):
    from scoring_common.errors import InternalError
    from scoring_common.ingestion import locate_data_root

    (tmp_path / "train").mkdir()
    with pytest.raises(InternalError, match="has no train/ and predict/ folders"):
        locate_data_root(tmp_path)


def test_a_broken_loader_is_the_organisers_fault(toy):
    from scoring_common.errors import InternalError

    (toy["input"] / "train" / "truth.csv").unlink()
    (toy["program"] / "fusion_io.py").write_text(toy_fusion_io().replace(
        "def load_truth(folder):\n",
        "def load_truth(folder):\n    from scoring_common.errors import InternalError\n"
        "    raise InternalError('truth.csv is missing from the bundle')\n"))
    with pytest.raises(InternalError, match="truth.csv is missing from the bundle"):
        submit(toy, GOOD_FUSION)


@pytest.mark.parametrize("command", ["python3 pre.py", "'python3 -c \"import time\"'"])
def test_a_command_of_the_submissions_own_is_refused(toy, command):
    (toy["submission"] / "fusion.py").write_text(GOOD_FUSION)
    (toy["submission"] / "metadata").write_text(f"command: {command}\n")
    done = run_ingest(toy, "30")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "could run a command of its own" in done.stderr and "use exactly `command: python3 -c pass`" in done.stderr
    assert not (toy["output"] / "run.csv").exists()


def test_relative_paths_work(toy):
    (toy["submission"] / "fusion.py").write_text(GOOD_FUSION)
    base = toy["program"].parent
    done = subprocess.run([sys.executable, "program/ingest.py", "input", "output", "submission", "30"],
                          cwd=base, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (toy["output"] / "run.csv").is_file()


def test_sigterm_kills_the_participants_code(toy, tmp_path):
    import signal
    import time

    marker = tmp_path / "child.pid"
    (toy["submission"] / "fusion.py").write_text(
        f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    process = subprocess.Popen([sys.executable, str(toy["program"] / "ingest.py"), str(toy["input"]),
                                str(toy["output"]), str(toy["submission"]), "60"])
    while not marker.exists() or not marker.read_text():  # however loaded the machine: no clock
        assert process.poll() is None, "the ingestion ended before the participant's code started"
        time.sleep(0.05)
    child = int(marker.read_text())
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 128 + signal.SIGTERM
    assert "stopped from outside (SIGTERM)" in (toy["output"] / "prediction_error.txt").read_text()
    status = Path(f"/proc/{child}/status")
    assert not status.exists() or "State:\tZ" in status.read_text()
