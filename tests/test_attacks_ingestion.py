"""A hostile participant against the ingestion program (and the scorer's reading of timing.json).

Every case runs the ingestion program as the platform does (a subprocess on a toy task
whose fusion_io needs only the stdlib) and checks the exit code, the one-line message,
``prediction_error.txt``, that nothing outside the output folder changed and that no
participant process is left. The process-escape and limit cases also run in the kit's
image (``docker`` marker).
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers import write_toy_program
from scoring_common.errors import ParticipantError
from scoring_common.ingestion import CODE_SUBMISSION_METADATA, ERROR_FILE
from scoring_common.program import COST_KEYS, cost_scores, read_timing
from scoring_common.submission_checks import NO_OP_COMMANDS

REPO = Path(__file__).resolve().parent.parent
N_ITEMS = 100

GOOD_FUSION = '''
class Fusion:
    def fit(self, X, y):
        return self
    def predict(self, X):
        return {k: sum(v) / len(v) for k, v in X.items()}
'''

PREDICT_IDS = [f"item_{i:04d}" for i in range(N_ITEMS)]
TRAIN_IDS = [f"train_{i:04d}" for i in range(N_ITEMS)]


def make_toy(root: Path, limits: dict | None = None, vendored: bool = False) -> dict[str, Path]:
    """A program, input data, an empty submission (code metadata) and an output folder."""
    program = root / "program"
    write_toy_program(program, limits)
    if vendored:
        shutil.copytree(REPO / "scoring_common", program / "scoring_common",
                        ignore=shutil.ignore_patterns("__pycache__"))
    data = root / "input"
    for split, ids in (("train", TRAIN_IDS), ("predict", PREDICT_IDS)):
        (data / split).mkdir(parents=True)
        (data / split / "inducers.csv").write_text("".join(f"{i},{n % 7},{n % 3}\n" for n, i in enumerate(ids)))
    (data / "train" / "truth.csv").write_text("".join(f"{i},{n % 2}\n" for n, i in enumerate(TRAIN_IDS)))
    submission = root / "submission"
    submission.mkdir()
    (submission / "metadata").write_text(CODE_SUBMISSION_METADATA)
    output = root / "output"
    output.mkdir()
    return {"root": root, "program": program, "input": data, "submission": submission, "output": output}


@pytest.fixture()
def toy(tmp_path: Path) -> dict[str, Path]:
    return make_toy(tmp_path / "toy")


def snapshot(root: Path, skip: Path) -> dict[str, bytes]:
    """Every file under ``root`` but those under ``skip`` (the output), with its content."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and skip not in p.parents and "__pycache__" not in p.parts}


def ingest(toy: dict[str, Path], fusion: str | None = None, time_limit: float = 60) -> subprocess.CompletedProcess:
    if fusion is not None:
        (toy["submission"] / "fusion.py").write_text(textwrap.dedent(fusion))
    before = snapshot(toy["root"], toy["output"])
    done = subprocess.run([sys.executable, str(toy["program"] / "ingest.py"), str(toy["input"]), str(toy["output"]),
                           str(toy["submission"]), str(time_limit)], capture_output=True, text=True, timeout=120)
    assert snapshot(toy["root"], toy["output"]) == before, "the ingestion changed something outside its output"
    return done


def assert_refused(toy: dict[str, Path], done: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 1, one ERROR line last on stderr, the same reason alone in prediction_error.txt, no run."""
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ERROR: ") and "Traceback" not in last
    for fragment in fragments:
        assert fragment in last, last
    assert sorted(p.name for p in toy["output"].iterdir()) == [ERROR_FILE]
    assert (toy["output"] / ERROR_FILE).read_text(encoding="utf-8") == last[len("ERROR: "):] + "\n"
    return last


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except OSError:
        return False


# --------------------------------------------------------------------------------------
# 1. The submission's metadata is read as the platform reads it.
# --------------------------------------------------------------------------------------

EVIL = "python3 pre.py"
METADATA_ATTACKS = {
    "quoted key": f'"command": {EVIL}\n',
    "single-quoted key": f"'command': {EVIL}\n",
    "byte-order mark": f"\ufeffcommand: {EVIL}\n",
    "flow mapping": f"{{command: {EVIL}}}\n",
    "merge key": f"<<: {{command: {EVIL}}}\n",
    "escaped key": f'"comm\\x61nd": {EVIL}\n',
    "explicit key": f"? command\n: {EVIL}\n",
    "document marker": f"---\ncommand: {EVIL}\n",
    "duplicate key": f"command: python3 -c pass\ncommand: {EVIL}\n",
    "carriage return line break": f"command: python3 -c pass\rcommand: {EVIL}\n",
    "tab separator": f"command:\t{EVIL}\n",
    "anchor and alias": f"x: &c {EVIL}\ncommand: *c\n",
    "tagged value": f"command: !!str {EVIL}\n",
    "indented continuation": "command: python3 -c pass\n  ; python3 pre.py\n",
}
#: Harmless to a YAML reader, refused all the same: only the kit's exact forms pass.
NOT_CANONICAL = {
    "comment after the no-op": "command: python3 -c pass # and more\n",
    "no command at all": "description: code\n",
    "description with a colon": "command: python3 -c pass\ndescription: a: b\n",
}


@pytest.mark.parametrize("name", sorted(METADATA_ATTACKS | NOT_CANONICAL))
@pytest.mark.parametrize("file_name", ["metadata", "metadata.yaml"])
def test_metadata_other_than_the_no_op_is_refused(toy, name, file_name):
    (toy["submission"] / "metadata").unlink()
    (toy["submission"] / file_name).write_bytes((METADATA_ATTACKS | NOT_CANONICAL)[name].encode("utf-8"))
    done = ingest(toy, GOOD_FUSION)
    assert_refused(toy, done, f"the submission's {file_name} could run a command of its own",
                   "use exactly `command: python3 -c pass`")


def test_every_attack_names_a_command_to_a_yaml_reader_or_none():
    """The attacks are real: the platform's YAML reader finds a command other than the no-op (or no mapping)."""
    for name, text in METADATA_ATTACKS.items():
        try:
            document = yaml.load(text, Loader=yaml.FullLoader)
        except yaml.YAMLError:
            continue
        command = document.get("command") if isinstance(document, dict) else None
        if name == "merge key":
            assert command == EVIL
        assert command not in NO_OP_COMMANDS, name


@pytest.mark.parametrize("text", [
    CODE_SUBMISSION_METADATA,
    "command: python3 -c pass\n",
    "command: python -c pass   \r\n\r\n\n",
    "description: my fusion (v2)\ncommand: python3 -c pass",
])
def test_the_kits_no_op_metadata_is_accepted_and_is_a_no_op_for_yaml(toy, text):
    assert yaml.safe_load(text)["command"] in NO_OP_COMMANDS
    (toy["submission"] / "metadata.yaml").write_text(text)
    done = ingest(toy, GOOD_FUSION)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in toy["output"].iterdir()) == ["run.csv", "timing.json"]


def test_metadata_yaml_without_fusion_py_is_code_not_a_result(toy):
    (toy["submission"] / "metadata").unlink()
    (toy["submission"] / "metadata.yaml").write_text(f"command: {EVIL}\n")
    (toy["submission"] / "run.csv").write_text("".join(f"{i},1\n" for i in PREDICT_IDS))
    assert_refused(toy, ingest(toy), "metadata.yaml could run a command of its own")
    (toy["submission"] / "metadata.yaml").write_text("command: python3 -c pass\n")
    (toy["output"] / ERROR_FILE).unlink()
    assert_refused(toy, ingest(toy), "has no fusion.py at the root")


def test_metadata_that_is_a_folder_is_refused(toy):
    (toy["submission"] / "metadata").unlink()
    (toy["submission"] / "metadata").mkdir()
    assert_refused(toy, ingest(toy, GOOD_FUSION), "metadata is not a plain file")


@pytest.mark.parametrize("name", ["timing.json", ERROR_FILE])
@pytest.mark.parametrize("kind", ["code", "result"])
def test_reserved_names_in_a_submission_are_refused(toy, name, kind):
    if kind == "result":
        (toy["submission"] / "metadata").unlink()
        (toy["submission"] / "run.csv").write_text("item_0000,1\n")
    else:
        (toy["submission"] / "fusion.py").write_text(GOOD_FUSION)
    (toy["submission"] / name).write_text('{"time_s": 0.001}')
    assert_refused(toy, ingest(toy), f"holds a file named {name}, which is reserved")


# --------------------------------------------------------------------------------------
# 2. No participant process survives the measured step; the measure cannot be forged.
# --------------------------------------------------------------------------------------

ESCAPE = '''
import json, os, time
from pathlib import Path

def escape():
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            Path({pid_file!r}).write_text(str(os.getpid()))
            timing = Path({output!r}, "timing.json")
            for _ in range(2000):  # rewrite timing.json the moment it appears
                if timing.exists():
                    break
                time.sleep(0.005)
            timing.write_text(json.dumps({{"run_file": "run.csv", "time_s": 0.001,
                "cpu_s": 0.001, "memory_mib": 1.0, "wall_s": 0.001}}))
            Path({marker!r}).write_text("still alive")
            os._exit(0)
        os._exit(0)
    os.waitpid(first, 0)

class Fusion:
    def fit(self, X, y):
        escape()
        return self
    def predict(self, X):
        time.sleep(0.5)
        return {{k: 1.0 for k in X}}
'''


def run_escape(toy: dict[str, Path], run, same_pids: bool = True) -> None:
    traces = toy["root"].parent / "traces"  # outside what the snapshot compares
    traces.mkdir(exist_ok=True)
    pid_file, marker = traces / "escaped.pid", traces / "escaped.marker"
    done = run(ESCAPE.format(pid_file=str(pid_file), output=str(toy["output"]), marker=str(marker)))
    assert done.returncode == 0, done.stderr
    published = (toy["output"] / "timing.json").read_text()
    assert json.loads(published)["time_s"] >= 0.5  # the sleep in predict is counted
    deadline = time.monotonic() + 10
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    escaped = int(pid_file.read_text())
    time.sleep(1.0)  # past the moment the escaped process would have rewritten timing.json
    assert not (same_pids and alive(escaped))
    assert not marker.exists()
    assert (toy["output"] / "timing.json").read_text() == published


def test_a_double_forked_setsid_process_is_killed_before_timing_is_written(toy):
    run_escape(toy, lambda fusion: ingest(toy, fusion))


FORGED_END = '''
import os, resource, sys, time
for fd in range(3, 64):  # tell every inherited pipe that predict has returned
    try:
        if os.path.realpath(f"/proc/self/fd/{fd}").startswith("pipe:"):
            os.write(fd, b"end 0.0\\n")
    except OSError:
        pass
time.monotonic = time.perf_counter = time.time = lambda: 0.0
resource.getrusage = lambda who: resource.struct_rusage((0.0,) * 16)

class Fusion:
    def fit(self, X, y):
        return self
    def predict(self, X):
        end = sum(os.times()[:2]) + 1.0  # one CPU second
        while sum(os.times()[:2]) < end:
            pass
        return {k: 1.0 for k in X}
'''


def test_a_forged_end_message_and_patched_clocks_win_nothing(toy):
    done = ingest(toy, FORGED_END)
    assert done.returncode == 0, done.stderr
    timing = json.loads((toy["output"] / "timing.json").read_text())
    # One second of busy work after the forged message: charged beyond the kit's own start-up.
    assert timing["time_s"] >= 1.0 - timing["overhead_wall_s"]
    assert timing["cpu_s"] >= 1.0 - timing["overhead_wall_s"]


def test_stopping_the_ingestion_process_does_not_delay_the_start(toy):
    fusion = GOOD_FUSION.replace("class Fusion:", "import os, signal, time\n"
                                 "os.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(1.0)\n"
                                 "os.kill(os.getppid(), signal.SIGCONT)\nclass Fusion:")
    done = ingest(toy, fusion)
    assert done.returncode == 0, done.stderr
    assert json.loads((toy["output"] / "timing.json").read_text())["time_s"] >= 1.0


def test_files_the_code_writes_into_the_output_are_refused(toy):
    stray = toy["output"] / "run2.csv"
    fusion = GOOD_FUSION.replace("        return self",
                                 f"        open({str(stray)!r}, 'w').write('x')\n        return self")
    assert_refused(toy, ingest(toy, fusion), "wrote 'run2.csv' into the prediction output folder")


def test_a_fork_left_running_is_killed_and_its_cpu_counted(toy, tmp_path):
    pid_file, done_file = tmp_path / "burner.pid", tmp_path / "burner.done"
    fusion = f'''
import os, time
class Fusion:
    def fit(self, X, y):
        if os.fork() == 0:
            open({str(pid_file)!r}, "w").write(str(os.getpid()))
            while sum(os.times()[:2]) < 0.3:  # burn 0.3 CPU seconds, then say so and stay
                pass
            open({str(done_file)!r}, "w").write("burnt")
            time.sleep(60)
        return self
    def predict(self, X):
        while not os.path.exists({str(done_file)!r}):
            time.sleep(0.01)
        return {{k: 1.0 for k in X}}
'''
    done = ingest(toy, fusion)
    assert done.returncode == 0, done.stderr
    assert not alive(int(pid_file.read_text()))
    timing = json.loads((toy["output"] / "timing.json").read_text())
    assert timing["cpu_s"] >= 0.3  # the burner's CPU, reaped by the ingestion, is the participant's


# --------------------------------------------------------------------------------------
# 3. timing.json as the scorer reads it.
# --------------------------------------------------------------------------------------

def write_res(res: Path, timing_text: str, metadata: str | None = None) -> None:
    res.mkdir(parents=True, exist_ok=True)
    (res / "run.csv").write_text("a,1\n")
    (res / "timing.json").write_text(timing_text)
    if metadata is not None:
        (res / "metadata").write_text(metadata)


GOOD_TIMING = {"run_file": "run.csv", "time_s": 1.25, "cpu_s": 2.5, "memory_mib": 80.0, "wall_s": 2.0,
               "overhead_wall_s": 0.75, "time_limit_s": 60}


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    json.dumps({**GOOD_TIMING, "x": [[[[[[1]]]]]]}),
    json.dumps({**GOOD_TIMING, "pad": "x" * 100_000}),
    "[]", '"timing"', "1", "null", "{", "\xff\xfe",
    json.dumps({**GOOD_TIMING, "time_s": -1}),
    json.dumps({**GOOD_TIMING, "cpu_s": "fast"}),
    json.dumps({k: v for k, v in GOOD_TIMING.items() if k != "memory_mib"}),
    json.dumps({**GOOD_TIMING, "run_file": "../ref/groundtruth.csv"}),
])
def test_a_malformed_timing_json_is_a_participant_error(tmp_path, text):
    write_res(tmp_path / "res", text)
    with pytest.raises(ParticipantError, match="is not the ingestion program's measurement") as caught:
        read_timing(tmp_path / "res")
    assert "\n" not in str(caught.value)


def test_a_timing_json_symlink_is_refused(tmp_path):
    res = tmp_path / "res"
    write_res(res, json.dumps(GOOD_TIMING))
    (tmp_path / "real.json").write_text(json.dumps(GOOD_TIMING))
    (res / "timing.json").unlink()
    (res / "timing.json").symlink_to(tmp_path / "real.json")
    with pytest.raises(ParticipantError):
        read_timing(res)


def test_time_never_exceeds_the_platforms_elapsed_time(tmp_path):
    worker_metadata = "elapsedTime: 1.1\nexitCode: 0\ningestionElapsedTime: 1.1\ningestionExitCode: 0\n"
    write_res(tmp_path / "res", json.dumps(GOOD_TIMING), worker_metadata)
    with pytest.raises(ParticipantError, match="more than the 1.1 s the platform measured"):
        read_timing(tmp_path / "res")
    write_res(tmp_path / "ok", json.dumps(GOOD_TIMING), worker_metadata.replace("1.1", "3.0"))
    timing = read_timing(tmp_path / "ok")
    assert cost_scores(timing) == {"time_s": 1.25, "cpu_s": 2.5, "memory_mib": 80.0}
    assert tuple(cost_scores(timing)) == COST_KEYS


def test_the_ingestions_timing_passes_the_scorers_checks(toy):
    done = ingest(toy, GOOD_FUSION)
    assert done.returncode == 0, done.stderr
    timing = read_timing(toy["output"])
    assert set(COST_KEYS) <= set(timing) and timing["wall_s"] >= timing["time_s"]


# --------------------------------------------------------------------------------------
# 4. Predictions shipped inside code.
# --------------------------------------------------------------------------------------

RUN_TEXT = "".join(f"{i},0.5\n" for i in PREDICT_IDS)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _npy(values: list[str]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array(values))  # fixed-width UTF-32
    return buffer.getvalue()


DISGUISES = {
    "answers.txt": RUN_TEXT.encode(),
    "model.pkl": pickle.dumps({i: 0.5 for i in PREDICT_IDS}, protocol=2),
    "model5.pkl": pickle.dumps({i: 0.5 for i in PREDICT_IDS}, protocol=5),
    "ids.npy": _npy(PREDICT_IDS),
    "cache.gz": gzip.compress(RUN_TEXT.encode()),
    "cache.bz2": bz2.compress(RUN_TEXT.encode()),
    "bundle.zip": _zip_bytes({"inner.zip": _zip_bytes({"deep/run.csv": RUN_TEXT.encode()})}),
    "weights.npz": _zip_bytes({"ids.npy": _npy(PREDICT_IDS)}),
    "fusion_table.py": f"TABLE = {dict.fromkeys(PREDICT_IDS[:25], 1.0)!r}\n".encode(),
    "answers.b64": base64.b64encode(RUN_TEXT.encode()),
    "answers_wrapped.b64": base64.encodebytes(RUN_TEXT.encode()),
    "answers_urlsafe.b64": base64.urlsafe_b64encode(gzip.compress(RUN_TEXT.encode())),
    "table_b64.py": b"import base64\nTABLE = base64.b64decode('" + base64.b64encode(RUN_TEXT.encode()) + b"')\n",
    "answers.hex": RUN_TEXT.encode().hex().encode(),
    "answers_upper.hex": RUN_TEXT.encode().hex().upper().encode(),
    "answers.reversed": RUN_TEXT.encode()[::-1],
    "ids_reversed.txt": "".join(f"{i[::-1]},0.5\n" for i in PREDICT_IDS).encode(),
    "cache.zlib": zlib.compress(RUN_TEXT.encode()),
    "cache.lzma": lzma.compress(RUN_TEXT.encode(), format=lzma.FORMAT_ALONE),
}


@pytest.mark.parametrize("name", sorted(DISGUISES))
def test_a_run_shipped_as_code_is_refused(toy, name):
    (toy["submission"] / name).write_bytes(DISGUISES[name])
    last = assert_refused(toy, ingest(toy, GOOD_FUSION), "item ids of the split being predicted",
                          "a run shipped as code", "submit a run as a result zip instead")
    assert "item_00" not in last  # the message names no id


def test_a_model_naming_training_ids_and_a_few_predicted_ones_is_accepted(toy):
    model = {i: 0.5 for i in TRAIN_IDS} | {i: 0.5 for i in PREDICT_IDS[:15]}
    (toy["submission"] / "model.pkl").write_bytes(pickle.dumps(model))
    done = ingest(toy, GOOD_FUSION)
    assert done.returncode == 0, done.stderr


def test_a_decompression_bomb_is_refused_not_scanned_forever(toy, monkeypatch):
    # 1.1 GiB of zeros in a small gzip: refused at the scan budget.
    chunk = b"\0" * (64 << 20)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1) as stream:
        for _ in range(18):
            stream.write(chunk)
    (toy["submission"] / "blob.gz").write_bytes(buffer.getvalue())
    assert_refused(toy, ingest(toy, GOOD_FUSION), "MiB of data once unpacked (at 'blob.gz')")


# --------------------------------------------------------------------------------------
# 5. Limits without privileges.
# --------------------------------------------------------------------------------------

def limited_toy(tmp_path: Path, **limits: float) -> dict[str, Path]:
    return make_toy(tmp_path / "limited", limits=limits)


def test_memory_beyond_the_address_space_limit_is_a_clear_memory_error(tmp_path):
    toy = limited_toy(tmp_path, memory_gib=1)
    fusion = GOOD_FUSION.replace("        return self", "        self.block = bytearray(2 << 30)\n        return self")
    assert_refused(toy, ingest(toy, fusion), "Fusion.fit raised MemoryError under the 1 GiB address-space limit",
                   "(fusion.py line 4)")


def test_cpu_beyond_the_cpu_limit_is_named(tmp_path):
    toy = limited_toy(tmp_path, cpu_cores=0.1)
    fusion = GOOD_FUSION.replace("        return self", "        while True:\n            pass")
    assert_refused(toy, ingest(toy, fusion, time_limit=20), "killed by SIGXCPU",
                   "more than 2 s of CPU time, the CPU-time limit")


def test_code_that_kills_itself_is_not_told_it_ran_out_of_memory_only(toy):
    fusion = GOOD_FUSION.replace("        return self", "        import os, signal\n"
                                                      "        os.kill(os.getpid(), signal.SIGKILL)")
    message = assert_refused(toy, ingest(toy, fusion), "killed by SIGKILL (by the system when memory runs out, "
                             "or by the code itself; its peak resident memory was")
    assert "likely out of memory" not in message


def test_a_file_beyond_the_file_size_limit_is_named(tmp_path):
    toy = limited_toy(tmp_path, file_size_mib=1)
    target = tmp_path / "big.bin"
    fusion = GOOD_FUSION.replace("        return self", f"        open({str(target)!r}, 'wb').write(b'x' * (3 << 20))\n"
                                                      "        return self")
    assert_refused(toy, ingest(toy, fusion), "Fusion.fit raised OSError", "(the file-size limit is 1 MiB)")


def test_more_processes_than_the_limit_are_stopped_and_killed(tmp_path):
    toy = limited_toy(tmp_path, processes=4)
    pids = tmp_path / "pids"
    fusion = f'''
import os, time
class Fusion:
    def fit(self, X, y):
        for _ in range(8):
            if os.fork() == 0:
                open({str(pids)!r}, "a").write(f"{{os.getpid()}}\\n")
                time.sleep(30)
                os._exit(0)
        time.sleep(30)
        return self
    def predict(self, X):
        return {{}}
'''
    assert_refused(toy, ingest(toy, fusion), "ran more than 4 processes at once (the process limit)")
    assert not any(alive(int(pid)) for pid in pids.read_text().split())


# --------------------------------------------------------------------------------------
# 6. Trusted code by path.
# --------------------------------------------------------------------------------------

def test_a_submission_shipping_the_kits_module_names_changes_nothing(toy):
    submission = toy["submission"]
    (submission / "fusion_io.py").write_text(
        "RUN_FILE_NAME = 'run.csv'\ndef check_prediction(p, X):\n    return p\n"
        "def write_run(p, X, path):\n    open(path, 'w').write('forged')\n")
    (submission / "scoring_common").mkdir()
    (submission / "scoring_common" / "__init__.py").write_text("raise SystemExit('shadowed')\n")
    (submission / "sandbox.py").write_text("raise SystemExit('shadowed')\n")
    (submission / "_ingestion_task_fusion_io.py").write_text("raise SystemExit('shadowed')\n")
    fusion = GOOD_FUSION.replace("return {k: sum(v) / len(v) for k, v in X.items()}", "return 'not a dict'")
    assert_refused(toy, ingest(toy, fusion), "Fusion.predict returned a str; return a dict id -> score")
    (toy["output"] / ERROR_FILE).unlink()
    done = ingest(toy, GOOD_FUSION)
    assert done.returncode == 0, done.stderr
    assert (toy["output"] / "run.csv").read_text().startswith("item_0000,")


# --------------------------------------------------------------------------------------
# 7. The failure reason reaches the scorer (contract C3).
# --------------------------------------------------------------------------------------

def test_a_failure_leaves_its_reason_alone_in_the_output(toy):
    (toy["output"] / "timing.json").write_text("{}")  # left by nothing honest: removed on failure
    done = ingest(toy, "raise ValueError('bad idea')\n")
    last = done.stderr.strip().splitlines()[-1]
    assert last == "ERROR: " + (toy["output"] / ERROR_FILE).read_text().strip()
    assert sorted(p.name for p in toy["output"].iterdir()) == [ERROR_FILE]
    assert done.returncode == 1


# --------------------------------------------------------------------------------------
# The same attacks in the kit's image.
# --------------------------------------------------------------------------------------

def docker_ingest(toy: dict[str, Path], image: str, fusion: str, time_limit: float = 60) -> subprocess.CompletedProcess:
    (toy["submission"] / "fusion.py").write_text(textwrap.dedent(fusion))
    (toy["root"].parent / "traces").mkdir(exist_ok=True)
    name = f"ingest-attack-{os.getpid()}-{time.monotonic_ns()}"
    mounts = [f"{toy['program']}:/app/program:ro", f"{toy['input']}:/app/input_data:ro",
              f"{toy['submission']}:/app/ingested_program:ro", f"{toy['output']}:/app/output",
              f"{toy['root'].parent / 'traces'}:{toy['root'].parent / 'traces'}"]
    command = ["docker", "run", "--rm", "--name", name, "--network", "none", "-w", "/app/program"]
    for mount in mounts:
        command += ["-v", mount]
    command += [image, "python3", "/app/program/ingest.py", "/app/input_data", "/app/output",
                "/app/ingested_program", str(time_limit)]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=180)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


@pytest.mark.docker
def test_in_docker_escaped_processes_are_killed(tmp_path, kit_image):
    toy = make_toy(tmp_path / "toy", vendored=True)
    run_escape(toy, lambda fusion: docker_ingest(toy, kit_image, fusion.replace(str(toy["output"]), "/app/output")),
               same_pids=False)


@pytest.mark.docker
def test_in_docker_memory_and_processes_are_bounded(tmp_path, kit_image):
    toy = make_toy(tmp_path / "mem", limits={"memory_gib": 1}, vendored=True)
    fusion = GOOD_FUSION.replace("        return self", "        self.block = bytearray(2 << 30)\n        return self")
    done = docker_ingest(toy, kit_image, fusion)
    assert done.returncode == 1
    assert "MemoryError under the 1 GiB address-space limit" in done.stderr
    toy = make_toy(tmp_path / "procs", limits={"processes": 4}, vendored=True)
    fusion = ("import os, time\nclass Fusion:\n    def fit(self, X, y):\n        for _ in range(8):\n"
              "            if os.fork() == 0:\n                time.sleep(30)\n                os._exit(0)\n"
              "        time.sleep(30)\n    def predict(self, X):\n        return {}\n")
    done = docker_ingest(toy, kit_image, fusion)
    assert done.returncode == 1
    assert "ran more than 4 processes at once" in done.stderr
    assert (toy["output"] / ERROR_FILE).is_file()
