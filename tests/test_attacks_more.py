"""More participant attacks and mistakes, found by the red team on the merged kit.

Each case was accepted (or gave a misleading message) before its fix.
"""

from __future__ import annotations

import base64
import gzip
import os
import resource
import stat
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bundlekit import cli
from bundlekit.check import check_bundle
from bundlekit.run import read_metadata
from bundlekit.unpack import UnsafeArchiveError, safe_extract
from scoring_common import check_submission, ingestion
from scoring_common.errors import ParticipantError
from scoring_common.formats.concepts import read_run
from scoring_common.submission_checks import _id_variants, check_no_embedded_ids
from scoring_common.formats.ranking import read_ranking_reference, read_ranking_run
from scoring_common.formats.tabular import TabularNames, read_tabular_reference, read_tabular_run
from test_attacks_host import write_submission
from test_attacks_ingestion import assert_refused, ingest, make_toy
from test_check import make_bundle
from test_runner import RESULT_FILES

REPO = Path(__file__).resolve().parent.parent
IMAGES = [f"img_{i:04d}" for i in range(30)]


@pytest.mark.parametrize("line_concepts", ["C0000001", "C0000001;C0000002"])
def test_swapped_concept_columns_are_named_swapped(tmp_path: Path, line_concepts: str) -> None:
    (tmp_path / "run.csv").write_text("".join(f"{line_concepts}|{image}\n" for image in IMAGES))
    with pytest.raises(ParticipantError) as caught:
        read_run(tmp_path / "run.csv", {image: n for n, image in enumerate(IMAGES)}, {})
    message = str(caught.value)
    assert "columns look swapped" in message and "'img_0000'" in message and "image_id|CUI;CUI;..." in message
    assert "appears twice" not in message


# --------------------------------------------------------------------------------------
# check_submission.py refuses every zip `bundlekit run` refuses, with the same line
# (before: tracebacks for a long name, a file-and-folder clash or an encrypted member;
# a FIFO, a zip bomb or a duplicate name passed the check).
# --------------------------------------------------------------------------------------

RUN_LINE = "img_0000|C0000001\n"


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]], deflate: bool = False) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the duplicate name
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as archive:
            for info, data in members:
                archive.writestr(info, data)
    return path


def _typed(name: str, file_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = 3, (file_type | 0o644) << 16
    return info


def _encrypted(path: Path) -> Path:
    _zip(path, [("run.csv", RUN_LINE.encode())])
    data = bytearray(path.read_bytes())
    data[data.find(b"PK\x03\x04") + 6] |= 1
    data[data.find(b"PK\x01\x02") + 8] |= 1
    path.write_bytes(bytes(data))
    return path


BAD_ZIPS = {
    "long name": (lambda p: _zip(p, [("a" * 300 + ".csv", RUN_LINE.encode())]), "longer than 255 bytes"),
    "file and folder": (lambda p: _zip(p, [("run.csv", RUN_LINE.encode()), ("run.csv/x", b"y")]),
                        "is both a file and a folder"),
    "fifo": (lambda p: _zip(p, [(_typed("run.csv", stat.S_IFIFO), RUN_LINE.encode())]), "is a special file"),
    "symlink": (lambda p: _zip(p, [(_typed("run.csv", stat.S_IFLNK), b"../ref/groundtruth.csv")]),
                "is a symbolic link"),
    "bomb": (lambda p: _zip(p, [("run.csv", RUN_LINE.encode()), ("zeros.bin", bytes(300 << 20))], deflate=True),
             "a zip bomb"),
    "duplicate": (lambda p: _zip(p, [("run.csv", RUN_LINE.encode()), ("run.csv", b"x|y\n")]), "appears twice"),
    "encrypted": (_encrypted, "is encrypted"),
    "dot dot": (lambda p: _zip(p, [("../run.csv", RUN_LINE.encode())]), "'..'"),
}


@pytest.mark.parametrize("case", sorted(BAD_ZIPS))
def test_check_submission_refuses_what_run_refuses_with_the_same_line(tmp_path: Path, case: str) -> None:
    make, words = BAD_ZIPS[case]
    zip_path = make(tmp_path / "submission.zip")
    with pytest.raises(UnsafeArchiveError) as by_run:
        safe_extract(zip_path, tmp_path / "run")
    with pytest.raises(check_submission.SubmissionError) as by_check:
        check_submission._extract(zip_path, tmp_path / "check")
    assert str(by_check.value) == str(by_run.value)
    assert words in str(by_check.value) and "\n" not in str(by_check.value)
    assert not (tmp_path / "check").exists() or not any((tmp_path / "check").iterdir())


def test_check_submission_needs_only_the_kits_modules() -> None:
    """The kit's check_submission.py imports nothing but the standard library and scoring_common."""
    for module in ("check_submission.py", "zip_members.py"):
        source = (REPO / "scoring_common" / module).read_text()
        imported = {line.split()[1].split(".")[0] for line in source.splitlines()
                    if line.startswith(("import ", "from ")) and not line.startswith("from __future__")}
        assert imported <= set(sys.stdlib_module_names) | {"scoring_common"}, module


# --------------------------------------------------------------------------------------
# Code that closes the kit's file descriptors: before, "the kit could not check or write
# what Fusion.predict returned (OSError: Bad file descriptor); return the type ...".
# --------------------------------------------------------------------------------------

CLOSING_FUSION = '''
import os

class Fusion:
    def fit(self, X, y):
        os.closerange(3, 1024)
        return self
    def predict(self, X):
        return {k: sum(v) / len(v) for k, v in X.items()}
'''


def test_code_closing_the_kits_descriptors_is_told_so(tmp_path: Path) -> None:
    toy = make_toy(tmp_path / "toy")
    last = assert_refused(toy, ingest(toy, CLOSING_FUSION), "closed or replaced a file descriptor it did not open",
                          "close only the files your code opened")
    assert "return the type" not in last


# --------------------------------------------------------------------------------------
# A spreadsheet's export with ';' (or TAB) separators and decimal commas: before,
# "500 video(s) not in this split, e.g. 'video01001;-0'".
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("separator, name", [(";", "';'"), ("\t", "TAB")])
def test_a_decimal_comma_export_names_the_separator(tmp_path: Path, separator: str, name: str) -> None:
    videos = [f"video{i:05d}" for i in range(20)]
    (tmp_path / "truth.csv").write_text("video_id,score\n" + "".join(f"{v},0.{n}\n" for n, v in enumerate(videos)))
    names = TabularNames(item="video", id_column="video_id", target_column="score", item_list="the split's inducers")
    reference = read_tabular_reference(tmp_path / "truth.csv", names, "regression")
    (tmp_path / "run.csv").write_text("".join(f"{v}{separator}0,{n}5\n" for n, v in enumerate(videos)))
    with pytest.raises(ParticipantError) as caught:
        read_tabular_run(tmp_path / "run.csv", reference, names)
    message = str(caught.value)
    assert f"separated by {name}, with a decimal comma" in message and "not in this split" not in message


def test_a_decimal_comma_ranking_export_names_the_separator(tmp_path: Path) -> None:
    """fusion-int: ``video;image;0,5`` was "found 2 fields, expected 3 or 4" with no word of the separator."""
    keyframes = [(f"video_{v}", f"video_{v}_{k}.jpg") for v in range(3) for k in range(5)]
    (tmp_path / "truth.csv").write_text("video_id,image_id,label,value\n"
                                        + "".join(f"{v},{k},{n % 2},0.{n}\n" for n, (v, k) in enumerate(keyframes)))
    reference = read_ranking_reference(tmp_path / "truth.csv")
    (tmp_path / "run.csv").write_text("".join(f"{v};{k};0,{n}5\n" for n, (v, k) in enumerate(keyframes)))
    with pytest.raises(ParticipantError) as caught:
        read_ranking_run(tmp_path / "run.csv", reference)
    assert "separated by ';', with a decimal comma in the score" in str(caught.value)


# --------------------------------------------------------------------------------------
# A competition.yaml that is not UTF-8: `check` said so, `run` ended in a UnicodeDecodeError traceback.
# --------------------------------------------------------------------------------------

def test_run_refuses_a_competition_yaml_that_is_not_utf8(tmp_path: Path, capsys) -> None:
    root = make_bundle(tmp_path / "bundle")
    text = (root / "competition.yaml").read_text(encoding="utf-8")
    (root / "competition.yaml").write_bytes(text.replace("title:", "title: F\xfcsion", 1).encode("latin-1"))
    submission = write_submission(tmp_path / "subs" / "r.zip", RESULT_FILES)
    assert cli.main(["run", str(root), str(submission), "--no-docker", "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("bundlekit run: competition.yaml: not UTF-8 text (byte ")


def test_a_program_metadata_that_is_not_utf8_fails_check_and_run(tmp_path: Path, capsys) -> None:
    """Before: `check` found nothing and `run` ran the command with a U+FFFD argument."""
    root = make_bundle(tmp_path / "bundle")
    (root / "scoring_program" / "metadata.yaml").write_bytes(
        "command: python3 $program/score.py $input $output \xfc\n".encode("latin-1"))
    problems = [p for p in check_bundle(root) if p.severity == "error"]
    assert [(p.rule, p.path) for p in problems] == [("program.metadata-syntax", "tasks[0].scoring_program")]
    assert "is not UTF-8 text (byte " in problems[0].message
    assert read_metadata(root / "scoring_program") == ("metadata.yaml", None)


# --------------------------------------------------------------------------------------
# check_submission.py gives the verdict `bundlekit run` gives for code that runs out of
# memory under the address-space limit (before: "ran out of memory: the check bounds it to
# 4 GiB", over the ingestion's own line) or kills its parent (before: "the prediction step
# failed (exit code 137)").
# --------------------------------------------------------------------------------------

def _local_step(tmp_path: Path, code: str) -> check_submission.Step:
    work = tmp_path / "work"
    work.mkdir()
    mounts = {"/app/program": (tmp_path, True)}
    return check_submission.Engine(None).run("prediction", ["python3", "-c", code], mounts, work, 60, quiet=True)


def test_the_ingestions_memory_line_wins_over_the_checks_guess(tmp_path: Path) -> None:
    step = _local_step(tmp_path, "import sys; print('MemoryError', file=sys.stderr); "
                                 "print('ERROR: Fusion.predict raised MemoryError under the 6 GiB limit', "
                                 "file=sys.stderr); sys.exit(1)")
    assert step.exit_code == 1 and not step.out_of_memory
    assert check_submission._error_line(tmp_path / "work" / "prediction.stderr.log").startswith("Fusion.predict raised")


def test_a_memory_error_without_a_reason_is_still_memory(tmp_path: Path) -> None:
    step = _local_step(tmp_path, "import sys; print('MemoryError', file=sys.stderr); sys.exit(1)")
    assert step.out_of_memory


@pytest.mark.parametrize("exit_code, in_docker, expected", [
    (-9, False, 9), (137, True, 9), (137, False, None), (1, True, None), (0, True, None), (None, True, None)])
def test_the_killing_signal_is_read_as_bundlekit_reads_it(exit_code, in_docker, expected) -> None:
    assert check_submission.killing_signal(exit_code, in_docker) == expected


def test_a_step_killed_by_its_own_code_is_said_so(tmp_path: Path) -> None:
    step = _local_step(tmp_path, "import os; os.kill(os.getpid(), 9)")
    assert check_submission.killing_signal(step.exit_code, False) == 9
    assert check_submission.signal_name(9) == "SIGKILL"


def test_code_raising_keyboard_interrupt_points_to_the_prediction_log(tmp_path: Path) -> None:
    """The reason reaches prediction_error.txt and the detailed results, where there is no "log above"."""
    toy = make_toy(tmp_path / "toy")
    fusion = CLOSING_FUSION.replace("os.closerange(3, 1024)", "raise KeyboardInterrupt")
    last = assert_refused(toy, ingest(toy, fusion), "killed by SIGINT", "see the prediction log")
    assert "log above" not in last


# --------------------------------------------------------------------------------------
# Free time after the end message: it was bounded by the kit's time before the start,
# which included the scan of the submission's files, so a large innocuous file (scanned
# for seconds) bought as many seconds of unmeasured work after a forged end message.
# --------------------------------------------------------------------------------------

def _watch_from(messages: bytes) -> ingestion._Watch:
    read_fd, write_fd = os.pipe()
    go_read, go_write = os.pipe()
    try:
        watch = ingestion._Watch(spawned=0.0, go_fd=go_write)
        os.write(write_fd, messages)
        ingestion._read_messages(read_fd, watch, block=True)
        return watch
    finally:
        for fd in (read_fd, write_fd, go_read, go_write):
            os.close(fd)


def test_the_allowance_after_the_end_excludes_the_scan_of_the_submission() -> None:
    watch = _watch_from(b"loaded 0.1\nstart 5.0\n")
    assert watch.loaded is not None and watch.start is not None
    # Spawned at 0, data loaded at 0.5, a 9.5 s scan of a large file, 0.1 s of measured work, then a forged
    # end message followed by 3 s of work: 2.5 s of it is beyond the kit's own 0.5 s and is charged.
    watch.loaded, watch.start, watch.end, watch.exited = 0.5, 10.0, 10.1, 13.1
    watch.start_cpu, watch.end_cpu = 5.0, 5.1
    timing = ingestion._timing(watch, resource.struct_rusage((8.0,) + (0.0,) * 15), "run.csv", 60.0)
    assert timing["time_s"] == pytest.approx(0.1 + 3.0 - 0.5)


def test_a_loaded_message_forged_after_the_start_is_ignored() -> None:
    watch = _watch_from(b"start 0.2\nloaded 0.3\n")
    assert watch.loaded is None


def test_the_child_reports_the_end_of_loading_before_the_start(tmp_path: Path) -> None:
    toy = make_toy(tmp_path / "toy")
    source = (REPO / "scoring_common" / "ingestion.py").read_text()
    assert source.index('f"loaded {_cpu_now()!r}') < source.index("check_no_embedded_ids(submission_dir")
    assert ingest(toy, CLOSING_FUSION.replace("os.closerange(3, 1024)", "pass")).returncode == 0


# --------------------------------------------------------------------------------------
# The id search through encodings (reversed, hex, base64) raises no false alarm.
# --------------------------------------------------------------------------------------

def test_encoded_model_weights_are_no_run_in_disguise(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    weights = rng.random(200_000).tobytes()
    (tmp_path / "weights.b64").write_bytes(base64.encodebytes(weights))
    (tmp_path / "weights.hex").write_bytes(weights.hex().encode())
    (tmp_path / "weights.bin").write_bytes(weights)
    (tmp_path / "gz.b64").write_bytes(base64.b64encode(gzip.compress(weights)))
    check_no_embedded_ids(tmp_path, [f"item_{i:04d}" for i in range(100)])


def test_forms_shared_by_several_ids_are_not_searched() -> None:
    variants = _id_variants([b"item_0000", b"item_0001"])
    assert all(len(form) >= 5 for form in variants)
    assert base64.b64encode(b"tem_00") not in variants  # both ids hold it
    assert variants[b"0000_meti"] == b"item_0000" and variants[b"item_0001".hex().encode()] == b"item_0001"
