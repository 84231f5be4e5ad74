"""The fusion-int scoring program run as Codabench runs it: every rule of formats.md."""

from __future__ import annotations

import io
import json
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_participant_error, lines_text, run_scorer, score_valid_run, scoring_layout
from scoring_common.formats.ranking import read_ranking_reference, read_ranking_run
from scoring_common.metrics.ranking import mean_average_precision, tie_rank_from_ids
from task_modules import load_module

SCORE_PY = Path(__file__).resolve().parents[1] / "bundles" / "fusion-int" / "scoring_program" / "score.py"

# video_a: AP = (1/1 + 2/4) / 2 = 0.75; video_b: all tied, order b3, b2, b1, AP = 1/3;
# video_c: nothing interesting, AP = 0. MAP@10 = MAP = (0.75 + 1/3 + 0) / 3.
GROUNDTRUTH = """video_id,image_id,label,value
video_a,1_0-3.jpg,1,0.9
video_a,2_3-6.jpg,0,0.1
video_a,3_6-9.jpg,0,0.2
video_a,4_9-12.jpg,1,0.8
video_b,b1.jpg,1,0.7
video_b,b2.jpg,0,0.1
video_b,b3.jpg,0,0.3
video_c,c1.jpg,0,0.0
video_c,c2.jpg,0,0.1
"""
RUN_LINES = [
    "video_a,1_0-3.jpg,0.9",
    "video_a,2_3-6.jpg,0.8",
    "video_a,3_6-9.jpg,0.7",
    "video_a,4_9-12.jpg,0.6",
    "video_b,b1.jpg,0.5",
    "video_b,b2.jpg,0.5",
    "video_b,b3.jpg,0.5",
    "video_c,c1.jpg,1",
    "video_c,c2.jpg,-2e-3",
]
EXPECTED_MAP = (0.75 + 1 / 3 + 0) / 3


def _layout(tmp_path: Path, run_text: str | None, *, run_name: str = "run.csv", extra: dict[str, str] | None = None,
            groundtruth: str = GROUNDTRUTH) -> tuple[Path, Path]:
    return scoring_layout(tmp_path, {"groundtruth.csv": groundtruth}, run_text, run_name=run_name, extra=extra)


_score = partial(run_scorer, SCORE_PY)


# --- valid runs ---------------------------------------------------------------------------

def test_valid_run_scores_and_is_byte_identical_on_rerun(tmp_path: Path) -> None:
    scores, details = score_valid_run(SCORE_PY, *_layout(tmp_path, lines_text(RUN_LINES)))
    assert set(scores) == {"map_at_10", "map"}
    assert scores["map_at_10"] == pytest.approx(EXPECTED_MAP, abs=1e-10)
    assert scores["map"] == pytest.approx(EXPECTED_MAP, abs=1e-10)
    for text in ("ImageCLEFfusion-int: media interestingness", "MAP@5", "MAP@50", "MAP (no cutoff)",
                 "video_a", "0.7500", "0.3333"):
        assert text in details


@pytest.mark.parametrize(
    "run_text, run_name",
    [
        ("video_id,image_id,score\n" + lines_text(RUN_LINES[::-1]), "run.csv"),
        ("VIDEO_ID,Image_ID,Score\r\n" + "\r\n".join(RUN_LINES) + "\r\n", "run.txt"),
        ("\ufeff" + lines_text(RUN_LINES[4:] + [""] + RUN_LINES[:4]), "me_run1.txt"),
        ("video_id,image_id,decision,score\n" + lines_text(
            [f"{v},{i},{d},{s}" for (v, i, s), d in zip((line.split(",") for line in RUN_LINES), [1, 0] * 5)]),
         "legacy.csv"),
        (lines_text([line.replace(",", " , ") for line in RUN_LINES]), "spaces.csv"),
        ("video_id,image_id,score\r" + "\r".join(RUN_LINES) + "\r", "old-mac.csv"),
    ],
    ids=["header-shuffled", "crlf-txt-header-any-case", "bom-blank-line", "legacy-layout", "spaces-around-fields",
         "cr-line-ends"],
)
def test_accepted_layouts_score_the_same(tmp_path: Path, run_text: str, run_name: str) -> None:
    input_dir, output_dir = _layout(tmp_path, run_text, run_name=run_name)
    result = _score(input_dir, output_dir)
    assert result.returncode == 0, result.stderr
    scores = json.loads((output_dir / "scores.json").read_text())
    expected = pytest.approx(EXPECTED_MAP, abs=1e-10)
    assert scores == {"map": expected, "map_at_10": expected}


def test_gain_and_time_keys(tmp_path: Path) -> None:
    baseline = {"best_inducer": "inducer_1", "primary_metric": "map_at_10", "scores": {"map_at_10": 0.25, "map": 0.3}}
    timing = {"run_file": "run.csv", "time_s": 1.5, "cpu_s": 1.2, "memory_mib": 50.0, "time_limit_s": 600.0}
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES), extra={
        "ref/baseline.json": json.dumps(baseline), "res/timing.json": json.dumps(timing), "res/fusion.py": "pass\n"})
    result = _score(input_dir, output_dir)
    assert result.returncode == 0, result.stderr
    scores = json.loads((output_dir / "scores.json").read_text())
    assert set(scores) == {"map_at_10", "map", "gain_pct", "time_s", "cpu_s", "memory_mib"}
    assert scores["gain_pct"] == pytest.approx(100 * (EXPECTED_MAP - 0.25) / 0.25, abs=1e-8)
    assert scores["time_s"] == 1.5


def test_evaluate_is_importable_without_side_effects(tmp_path: Path) -> None:
    input_dir, _ = _layout(tmp_path, lines_text(RUN_LINES))
    module = load_module(SCORE_PY, "fusion_int_score")
    evaluation = module.evaluate(input_dir / "ref", input_dir / "res" / "run.csv")
    assert evaluation.primary == "map_at_10"
    assert evaluation.scores["map"] == pytest.approx(EXPECTED_MAP, abs=1e-12)
    per_video = evaluation.item_tables[0].rows
    assert [row[:2] for row in per_video] == [["video_a", 4], ["video_b", 3], ["video_c", 2]]
    assert not (tmp_path / "output").exists()


def test_reader_aligns_scores_with_reference_items(tmp_path: Path) -> None:
    input_dir, _ = _layout(tmp_path, lines_text(RUN_LINES[::-1]))
    reference = read_ranking_reference(input_dir / "ref" / "groundtruth.csv")
    score = read_ranking_run(input_dir / "res" / "run.csv", reference)
    assert score.tolist() == [0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.5, 1.0, -0.002]
    assert reference.n_relevant.tolist() == [2, 1, 0]
    assert mean_average_precision(reference.query, score, tie_rank_from_ids(reference.doc_ids), reference.relevant,
                                  reference.n_relevant, 10) == pytest.approx(EXPECTED_MAP, abs=1e-15)


# --- participant errors ------------------------------------------------------------------------

def _replace(line_index: int, text: str) -> str:
    lines = list(RUN_LINES)
    lines[line_index] = text
    return lines_text(lines)


PARTICIPANT_ERRORS = {
    "two-fields": (_replace(2, "video_a,3_6-9.jpg"),
                   ["run.csv line 3:", "found 2 fields, expected 3 like line 1 (video_id,image_id,score)"]),
    "decimal-comma": (_replace(4, "video_b,b1.jpg,0,5"),
                      ["run.csv line 5:", "found 4 fields, expected 3 like line 1 (video_id,image_id,score)",
                       "a decimal comma is the likely cause: write 0.5, not 0,5"]),
    "decimal-comma-under-a-header": ("video_id,image_id,score\n" + _replace(1, "video_a,2_3-6.jpg,0,8"),
                                     ["run.csv line 3:", "found 4 fields, expected 3 as in the header on line 1",
                                      "write 0.5, not 0,5"]),
    "decimal-comma-legacy": ("video_id,image_id,decision,score\nvideo_a,1_0-3.jpg,1,0,5\n",
                             ["run.csv line 2:", "found 5 fields, expected 4 as in the header on line 1 "
                              "(video_id,image_id,decision,score)", "write 0.5, not 0,5"]),
    "decimal-comma-on-line-1": (_replace(0, "video_a,1_0-3.jpg,0,9"),
                                ["run.csv line 2:", "found 3 fields, expected 4 like line 1",
                                 "if line 1 has a decimal comma, write 0.5, not 0,5"]),
    "decimal-comma-on-line-1-read-as-decision": (_replace(0, "video_a,1_0-3.jpg,2,5"),
                                                 ["run.csv line 1:", "decision '2' must be 0 or 1",
                                                  "if the score has a decimal comma, write 0.5, not 0,5"]),
    "five-fields": (_replace(0, "video_a,1_0-3.jpg,1,0.5,x"), ["run.csv line 1:", "found 5 fields, expected 3 or 4"]),
    "semicolons": (lines_text([line.replace(",", ";") for line in RUN_LINES]),
                   ["run.csv line 1:", "found 1 fields", "comma-separated"]),
    "non-numeric-score": (_replace(4, "video_b,b1.jpg,high"), ["run.csv line 5:", "score 'high' is not a number"]),
    "empty-score": (_replace(4, "video_b,b1.jpg,"), ["run.csv line 5:", "score '' is not a number"]),
    "nan-score": (_replace(5, "video_b,b2.jpg,nan"), ["run.csv line 6:", "score 'nan' is not a finite number"]),
    "inf-score": (_replace(6, "video_b,b3.jpg,-inf"), ["run.csv line 7:", "score '-inf' is not a finite number"]),
    "header-with-another-query-column": ("video,image,score\n" + lines_text(RUN_LINES),
                                         ["run.csv line 1:", "the header must be video_id,image_id,score (or the "
                                          "legacy video_id,image_id,decision,score), found 'video,image,score'"]),
    "legacy-header-with-another-query-column": ("Video ID,Image,Decision,Score\n" + lines_text(RUN_LINES),
                                                ["run.csv line 1:", "found 'Video ID,Image,Decision,Score'"]),
    "non-numeric-score-on-line-1": (_replace(0, "video_a,1_0-3.jpg,high"),
                                    ["run.csv line 1:", "score 'high' is not a number"]),
    "bad-decision": ("video_id,image_id,decision,score\n" + "video_a,1_0-3.jpg,yes,0.5\n",
                     ["run.csv line 2:", "decision 'yes' must be 0 or 1"]),
    "decision-2": ("video_id,image_id,decision,score\nvideo_a,1_0-3.jpg,1,0.9\nvideo_a,2_3-6.jpg,2,0.5\n",
                   ["run.csv line 3:", "decision '2' must be 0 or 1"]),
    "cr-line-ends-keep-line-numbers": ("\r".join(RUN_LINES[:4] + ["video_b,b1.jpg,high"] + RUN_LINES[5:]),
                                       ["run.csv line 5:", "score 'high' is not a number"]),
    "duplicate": (lines_text(RUN_LINES + ["video_b,b2.jpg,0.1"]),
                  ["run.csv line 10:", "keyframe 'video_b,b2.jpg' appears twice (first on line 6)",
                   "exactly once"]),
    "unknown-keyframe": (lines_text(RUN_LINES + ["video_a,99_0-3.jpg,0.1", "video_c,c9.jpg,0.2"]),
                         ["run.csv line 10:", "2 keyframe(s) not in this split", "'video_a,99_0-3.jpg'",
                          "'video_c,c9.jpg'"]),
    "unknown-video": (lines_text(RUN_LINES[:2] + ["video_z,1_0-3.jpg,0.3"] + RUN_LINES[2:]),
                      ["run.csv line 3:", "1 video(s) not in this split", "'video_z'", "dev and test differ"]),
    "missing": (lines_text(RUN_LINES[:3] + RUN_LINES[5:]),
                ["run.csv:", "2 of the 9 keyframes of this split are missing", "inducers.csv"]),
    "header-only": ("video_id,image_id,score\n", ["run.csv:", "9 of the 9 keyframes of this split are missing"]),
}


@pytest.mark.parametrize("run_text, expected", PARTICIPANT_ERRORS.values(), ids=PARTICIPANT_ERRORS.keys())
def test_malformed_run_is_explained_in_one_line(tmp_path: Path, run_text: str, expected: list[str]) -> None:
    input_dir, output_dir = _layout(tmp_path, run_text)
    result = _score(input_dir, output_dir)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert "\n" not in message
    for text in expected:
        assert text in message, (text, message)
    assert not (output_dir / "scores.json").exists()
    # the keyframes the run lacks are counted, never listed
    assert "4_9-12.jpg" not in message or "4_9-12.jpg" in run_text


def _assert_one_line_error(input_dir: Path, output_dir: Path) -> str:
    return assert_participant_error(_score(input_dir, output_dir), output_dir)


def test_huge_participant_value_is_quoted_short(tmp_path: Path) -> None:
    huge = "x" * 100_000
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES + [f"video_a,{huge}.jpg,0.1"]))
    message = _assert_one_line_error(input_dir, output_dir)
    assert "run.csv line 10: 1 keyframe(s) not in this split, e.g. 'video_a,xxx" in message
    assert "...' (100012 characters); score only the keyframes" in message
    assert len(message) < 300


def test_huge_message_keeps_its_start_and_end(tmp_path: Path) -> None:
    ids = [f"video_a,{'y' * 59}{i}.jpg" for i in range(6)]
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES + [f"{i},0.1" for i in ids]))
    message = _assert_one_line_error(input_dir, output_dir)
    assert len(message) <= len("ERROR: ") + 500
    assert message.startswith("ERROR: run.csv line 10: 6 keyframe(s) not in this split")
    assert message.endswith("(dev and test differ)")


def _zipped_run() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("run.csv", lines_text(RUN_LINES))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, expected",
    [
        (_zipped_run(), "run.csv: is a zip archive, not a text run; unzip it and submit the run file itself"),
        (b"\x1f\x8b\x08\x00binary", "run.csv: is a gzip archive, not a text run"),
        (lines_text(RUN_LINES).encode("utf-16"), "run.csv: is UTF-16 text, not UTF-8; save the file as UTF-8"),
    ],
    ids=["zip", "gzip", "utf-16"],
)
def test_binary_run_is_named_for_what_it_is(tmp_path: Path, data: bytes, expected: str) -> None:
    input_dir, output_dir = _layout(tmp_path, None)
    (input_dir / "res" / "run.csv").write_bytes(data)
    assert expected in _assert_one_line_error(input_dir, output_dir)


@pytest.mark.parametrize(
    "run_text, run_name, extra, expected",
    [
        (None, "run.csv", {}, "the submission holds no run file"),
        (lines_text(RUN_LINES), "run.csv", {"res/other.txt": lines_text(RUN_LINES)}, "2 possible run files"),
        (None, "run.csv", {"res/metadata": "exitCode: 1\n"}, "the prediction step failed (exit code 1)"),
    ],
    ids=["no-run", "several-runs", "prediction-failed"],
)
def test_submission_without_a_single_run(tmp_path: Path, run_text: str | None, run_name: str, extra: dict,
                                         expected: str) -> None:
    input_dir, output_dir = _layout(tmp_path, run_text, run_name=run_name, extra=extra)
    result = _score(input_dir, output_dir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert not (output_dir / "scores.json").exists()


# --- internal faults ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "groundtruth",
    [
        "video,image,label\nvideo_a,1.jpg,1\n",
        GROUNDTRUTH + "video_d,d1.jpg,maybe,0.3\n",
        GROUNDTRUTH + "video_a,1_0-3.jpg,1,0.9\n",
        GROUNDTRUTH + "video_d,d1.jpg,1\n",
        "video_id,image_id,label,value\n",
    ],
    ids=["bad-header", "bad-label", "duplicate", "field-count", "empty"],
)
def test_broken_reference_is_an_internal_error(tmp_path: Path, groundtruth: str) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES), groundtruth=groundtruth)
    result = _score(input_dir, output_dir)
    assert result.returncode == 2, result.stderr
    assert "INTERNAL ERROR" in result.stderr
    assert not (output_dir / "scores.json").exists()


def test_missing_reference_is_an_internal_error(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES))
    (input_dir / "ref" / "groundtruth.csv").unlink()
    result = _score(input_dir, output_dir)
    assert result.returncode == 2
    assert not (output_dir / "scores.json").exists()


def test_reader_scales_to_large_runs(tmp_path: Path) -> None:
    """60,900 keyframes in 2,500 videos (100x the real split) are read and scored in memory quickly."""
    rng = np.random.default_rng(7)
    video = np.arange(60900) % 2500
    gt = ["video_id,image_id,label"] + [f"video_{v},{i}_{v}.jpg,{int(rng.random() < 0.1)}" for i, v in enumerate(video)]
    run = [f"video_{v},{i}_{v}.jpg,{rng.random():.5f}" for i, v in enumerate(video)]
    input_dir, _ = _layout(tmp_path, lines_text(run), groundtruth=lines_text(gt))
    reference = read_ranking_reference(input_dir / "ref" / "groundtruth.csv")
    score = read_ranking_run(input_dir / "res" / "run.csv", reference)
    assert score.shape == (60900,) and len(reference.query_ids) == 2500
