"""The fusion-cap scoring program run as Codabench runs it: every rule of formats.md."""

from __future__ import annotations

import json
import subprocess
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from helpers import assert_participant_error, lines_text, run_scorer, score_valid_run, scoring_layout
from scoring_common.errors import ParticipantError
from task_modules import load_module

TESTS = Path(__file__).resolve().parent
SCORE_PY = TESTS.parents[0] / "bundles" / "fusion-cap" / "scoring_program" / "score.py"


score_program = load_module(SCORE_PY, "fusion_cap_score")
metric_tests = load_module(TESTS / "test_metrics_multilabel.py", "fusion_cap_metric_tests")

# img3 has an empty ground truth (its trailing TAB disappears with the line's whitespace).
GROUNDTRUTH = "ID\tCUIs\nimg1\tC1;C2\nimg2\tC3\nimg3\t\nimg4\tC4\nimg5\tC5;C6\n"
SECONDARY = "C1\nC3\nc9 \nC6\n"
RUN_LINES = [
    "img1|C1",  # {C1,C2} vs {C1}: F1 2/3, precision 1, recall 1/2
    "img2|",  # {C3} vs {}: 0
    "img3|C9",  # empty ground truth: left out
    "img4|c4 ;",  # "c4 " matches C4: 1 (trailing ';' tolerated)
    "img5|C5;C7",  # 1/2
]
EXPECTED_F1 = (2 / 3 + 0 + 1 + 0.5) / 4
EXPECTED_PRECISION = (1 + 0 + 1 + 0.5) / 4
EXPECTED_RECALL = (0.5 + 0 + 1 + 0.5) / 4
# Restricted to {C1, C3, C9, C6}: img1 {C1} vs {C1} = 1, img2 {C3} vs {} = 0, img5 {C6} vs {} = 0;
# img3 predicted C9 but its ground truth is empty, img4 has no curated concept: both left out.
EXPECTED_F1_SECONDARY = 1 / 3


def _layout(tmp_path: Path, run: str | bytes | None, *, run_name: str = "run.csv",
            extra: dict[str, str] | None = None) -> tuple[Path, Path]:
    ref = {"groundtruth.csv": GROUNDTRUTH, "secondary_concepts.txt": SECONDARY}
    return scoring_layout(tmp_path, ref, run, run_name=run_name, extra=extra)


_score = partial(run_scorer, SCORE_PY)


def _assert_participant_error(result: subprocess.CompletedProcess, output_dir: Path, *fragments: str) -> str:
    message = assert_participant_error(result, output_dir, *fragments)
    assert "ERROR" in (output_dir / "detailed_results.html").read_text(encoding="utf-8")
    return message


# --- valid runs ---------------------------------------------------------------------------

def test_valid_run_scores_golden_values_and_is_byte_identical_on_rerun(tmp_path: Path) -> None:
    scores, details = score_valid_run(SCORE_PY, *_layout(tmp_path, lines_text(RUN_LINES)))
    assert set(scores) == {"f1", "f1_secondary"}
    assert round(scores["f1"], 4) == round(EXPECTED_F1, 4) == 0.5417
    assert scores["f1"] == pytest.approx(EXPECTED_F1, abs=1e-10)
    assert scores["f1_secondary"] == pytest.approx(EXPECTED_F1_SECONDARY, abs=1e-10)
    assert "ImageCLEFfusion-cap: medical concept detection" in details
    assert f"<td>precision</td><td>{EXPECTED_PRECISION:.4f}</td>" in details
    assert f"<td>recall</td><td>{EXPECTED_RECALL:.4f}</td>" in details
    assert "images scored" not in details and "left out (empty" not in details  # hidden-truth counts
    # Per-image F1 2/3, 0, 1, 1/2 (all concepts) and 1, 0, 0 (secondary).
    assert "<td>[0.0, 0.1)</td><td>1</td><td>2</td>" in details
    assert "<td>[0.6, 0.7)</td><td>1</td><td>0</td>" in details
    assert "<td>[0.9, 1.0]</td><td>1</td><td>1</td>" in details
    assert "img1" not in details  # no per-image listing


def test_gain_and_time_are_added_when_baseline_and_timing_exist(tmp_path: Path) -> None:
    baseline = {"best_inducer": "inducer_3", "primary_metric": "f1", "scores": {"f1": 0.5, "f1_secondary": 0.25}}
    timing = {"run_file": "run.csv", "time_s": 12.3456, "cpu_s": 10.0, "memory_mib": 80.0, "time_limit_s": 600}
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES), extra={
        "ref/baseline.json": json.dumps(baseline), "res/timing.json": json.dumps(timing)})
    result = _score(input_dir, output_dir)
    assert result.returncode == 0, result.stderr
    scores = json.loads((output_dir / "scores.json").read_text(encoding="utf-8"))
    assert set(scores) == {"f1", "f1_secondary", "gain_pct", "time_s", "cpu_s", "memory_mib"}
    assert scores["gain_pct"] == pytest.approx(100 * (EXPECTED_F1 - 0.5) / 0.5, abs=1e-8)
    assert scores["time_s"] == 12.346


ACCEPTED_VARIANTS: dict[str, Callable[[], str | bytes]] = {
    "tab separator": lambda: lines_text([line.replace("|", "\t", 1) for line in RUN_LINES]),
    "comma separator": lambda: lines_text([line.replace("|", ",", 1) for line in RUN_LINES]),
    "mixed separators": lambda: lines_text(["img1\tC1", "img2,", "img3|C9", "img4,c4 ;", "img5\tC5;C7"]),
    "header ID": lambda: lines_text(["ID|CUIs", *RUN_LINES]),
    "header image_id, any case": lambda: lines_text(["Image_ID,concepts", *RUN_LINES]),
    "image id alone for no concept": lambda: lines_text(["img2", *RUN_LINES[2:], RUN_LINES[0]]),
    "trailing tab for no concept": lambda: lines_text(["img2\t  ", *[line for line in RUN_LINES if line != "img2|"]]),
    "spaces around fields": lambda: lines_text([" img1 | c1 ", "img2| ", "img3|C9", "img4|C4", "img5| c5 ; C7 "]),
    "BOM, CRLF and blank lines": lambda: b"\xef\xbb\xbf" + "\r\n\r\n".join(RUN_LINES).encode() + b"\r\n",
    "shuffled order": lambda: lines_text(RUN_LINES[::-1]),
}


@pytest.mark.parametrize("variant", sorted(ACCEPTED_VARIANTS))
def test_accepted_layouts_score_the_same(tmp_path: Path, variant: str) -> None:
    run_text = ACCEPTED_VARIANTS[variant]()
    scores = score_program.evaluate(_layout(tmp_path, run_text)[0] / "ref", tmp_path / "input" / "res" / "run.csv")
    assert scores.primary == "f1"
    assert scores.scores["f1"] == pytest.approx(EXPECTED_F1, abs=1e-12)
    assert scores.scores["f1_secondary"] == pytest.approx(EXPECTED_F1_SECONDARY, abs=1e-12)


def test_txt_run_is_accepted(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES), run_name="my_run.txt")
    result = _score(input_dir, output_dir)
    assert result.returncode == 0, result.stderr


def test_image_list_of_the_split_is_used_when_present(tmp_path: Path) -> None:
    # img6 is in images.txt but not in groundtruth.csv: the run must list it, and it is left out.
    input_dir, _ = _layout(tmp_path, lines_text([*RUN_LINES, "img6|C1"]),
                           extra={"ref/images.txt": "img1\nimg2\nimg3\nimg4\nimg5\nimg6\n"})
    evaluation = score_program.evaluate(input_dir / "ref", input_dir / "res" / "run.csv")
    assert evaluation.scores["f1"] == pytest.approx(EXPECTED_F1, abs=1e-12)
    with pytest.raises(ParticipantError, match="1 of the 6 images of this split are missing"):
        (input_dir / "res" / "run.csv").write_text(lines_text(RUN_LINES), encoding="utf-8")
        score_program.evaluate(input_dir / "ref", input_dir / "res" / "run.csv")


def test_bar_or_tab_takes_precedence_over_a_comma_in_the_image_id(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "groundtruth.csv").write_text("ID\tCUIs\nvideo_3,12.jpg\tC1;C2\nvideo_4,1.jpg\tC3\n")
    (ref / "secondary_concepts.txt").write_text("C1\n")
    run = tmp_path / "run.csv"
    run.write_text("video_3,12.jpg|C1;C2\nvideo_4,1.jpg\tC3\n")
    assert score_program.evaluate(ref, run).scores == {"f1": 1.0, "f1_secondary": 1.0}


def test_program_agrees_with_sklearn_on_random_runs(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    separators = ("|", "\t", ",")
    for case in range(25):
        truth, predicted = metric_tests.random_case(rng)
        # A run may not give a concept twice: keep one spelling per normalised concept.
        predicted = [list({c.strip().upper(): c for c in pred}.values()) for pred in predicted]
        if all(not concepts for concepts in truth):
            truth[0] = ["C0000001"]
        ids = [f"case{case}_img{i}" for i in range(len(truth))]
        ref = tmp_path / f"ref{case}"
        ref.mkdir()
        (ref / "groundtruth.csv").write_text(
            lines_text(["ID\tCUIs", *(f"{i}\t{';'.join(c.strip() for c in gt)}" for i, gt in zip(ids, truth))]))
        curated = sorted({c.strip().upper() for gt in truth for c in gt})[::2]
        (ref / "secondary_concepts.txt").write_text(lines_text(curated))
        run = tmp_path / f"run{case}.csv"
        sep = separators[case % 3]
        if sep == ",":  # a TAB would take precedence over the comma as separator
            predicted = [[c.replace("\t", " ") for c in pred] for pred in predicted]
        run.write_text(lines_text([f"{i}{sep}{';'.join(pred)}" for i, pred in zip(ids, predicted)][::-1]))

        evaluation = score_program.evaluate(ref, run)
        expected_f1 = metric_tests.sklearn_oracle(truth, predicted)[0]
        assert abs(evaluation.scores["f1"] - expected_f1) < 1e-12
        keep = set(curated)
        restricted = metric_tests.sklearn_oracle(
            [[c for c in gt if c.strip().upper() in keep] for gt in truth],
            [[c for c in pred if c.strip().upper() in keep] for pred in predicted])
        assert abs(evaluation.scores["f1_secondary"] - restricted[0]) < 1e-12


# --- malformed runs -------------------------------------------------------------------------

def _replace(index: int, line: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: [line if i == index else old for i, old in enumerate(lines)]


MALFORMED: dict[str, tuple[Callable[[list[str]], list[str]], tuple[str, ...]]] = {
    "image twice": (lambda lines: [*lines, "img1|C2"],
                    ("run.csv line 6:", "image 'img1' appears twice (lines 1 and 6)", "exactly once")),
    "too many concepts": (_replace(0, "img1|" + ";".join(f"C{n}" for n in range(101))),
                          ("run.csv line 1:", "image 'img1' has 101 concepts, at most 100 are allowed")),
    "concept twice after normalisation": (_replace(4, "img5|C5;c5 ;C7"),
                                          ("run.csv line 5:", "concept 'C5' is given twice for image 'img5'")),
    "empty concept between ';'": (_replace(0, "img1|C1;;C2"),
                                  ("run.csv line 1:", "empty concept in 'C1;;C2'", "single ';'")),
    "empty concept first": (_replace(1, "img2|;C3"), ("run.csv line 2:", "empty concept")),
    "unknown image": (lambda lines: [*lines[:2], "img99|C1", *lines[2:]],
                      ("run.csv line 3:", "1 image(s) not in this split, e.g. 'img99'")),
    "no separator": (_replace(0, "img1 C1;C2"),
                     ("run.csv line 1:", "no separator between image id and concepts in 'img1 C1;C2' (' ' is not one): "
                      "expected image_id|CUI;CUI;... (a TAB or a comma also works)")),
    "semicolon as separator": (_replace(2, "img3;C9"),
                               ("run.csv line 3:", "no separator between image id and concepts in 'img3;C9' "
                                "(';' is not one)", "a TAB or a comma also works")),
    "colon as separator": (_replace(0, "img1:C1"), ("run.csv line 1:", "no separator", "(':' is not one)")),
    "header with another first field": (lambda lines: ["image|concepts", *lines],
                                        ("run.csv line 1:", "'image' is not one of the split's images; if this line "
                                         "is a header, its first field must be ID or image_id")),
    "comma inside the concept list": (_replace(0, "img1|C1,C2"),
                                      ("run.csv line 1:", "concept 'C1,C2' contains", "with ';' only")),
    "space inside a concept": (_replace(0, "img1|C1 C2;C3"), ("run.csv line 1:", "concept 'C1 C2' contains")),
    "second bar": (_replace(0, "img1|C1|C2"), ("run.csv line 1:", "concept 'C1|C2' contains")),
    "empty image id": (_replace(0, "|C1"), ("run.csv line 1:", "the image id is empty")),
    "header not on the first line": (lambda lines: [*lines[:2], "ID|CUIs", *lines[2:]],
                                     ("run.csv line 3:", "'ID'", "not in this split")),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_run_is_rejected_with_one_clear_line(tmp_path: Path, case: str) -> None:
    edit, fragments = MALFORMED[case]
    input_dir, output_dir = _layout(tmp_path, lines_text(edit(list(RUN_LINES))))
    _assert_participant_error(_score(input_dir, output_dir), output_dir, *fragments)


def test_semicolon_separated_run_is_not_reported_as_unknown_images(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text([line.replace("|", ";") for line in RUN_LINES]))
    message = _assert_participant_error(_score(input_dir, output_dir), output_dir, "run.csv line 1:",
                                        "no separator between image id and concepts in 'img1;C1'")
    assert "not in this split" not in message


def test_huge_image_id_is_quoted_short(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text([*RUN_LINES, "z" * 100_000 + "|C1"]))
    message = _assert_participant_error(_score(input_dir, output_dir), output_dir, "run.csv line 6:",
                                        "1 image(s) not in this split, e.g. 'zzz", "...' (100000 characters)")
    assert len(message) < 300


def test_cr_line_ends_are_line_ends(tmp_path: Path) -> None:
    run = "\r".join(RUN_LINES).encode()
    scores = score_program.evaluate(_layout(tmp_path, run)[0] / "ref", tmp_path / "input" / "res" / "run.csv")
    assert scores.scores["f1"] == pytest.approx(EXPECTED_F1, abs=1e-12)


def test_missing_images_are_counted_never_listed(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES[:3]))
    message = _assert_participant_error(_score(input_dir, output_dir), output_dir,
                                        "run.csv:", "2 of the 5 images of this split are missing")
    assert "img4" not in message and "img5" not in message and "C4" not in message


def test_empty_run_is_all_missing(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, "\n\n")
    _assert_participant_error(_score(input_dir, output_dir), output_dir, "5 of the 5 images of this split are missing")


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES[:2]).encode() + b"img3|C\xff9\n")
    _assert_participant_error(_score(input_dir, output_dir), output_dir, "run.csv line 3:", "not valid UTF-8")


# --- submission-level failures ------------------------------------------------------------

def test_no_run(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, None)
    _assert_participant_error(_score(input_dir, output_dir), output_dir, "no run file")


def test_several_runs(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES), extra={"res/other.txt": lines_text(RUN_LINES)})
    _assert_participant_error(_score(input_dir, output_dir), output_dir, "2 possible run files")


def test_prediction_step_failed(tmp_path: Path) -> None:
    input_dir, output_dir = _layout(tmp_path, None, extra={"res/metadata": "exitCode: 1\n"})
    _assert_participant_error(_score(input_dir, output_dir), output_dir, "prediction step failed")


# --- organisers' faults ---------------------------------------------------------------------

def test_without_the_curated_list_only_f1_is_scored(tmp_path: Path) -> None:
    """The participant kit has no curated list (it stays hidden): F1 alone, the platform gives the rest."""
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES))
    (input_dir / "ref" / "secondary_concepts.txt").unlink()
    result = _score(input_dir, output_dir)
    assert result.returncode == 0, result.stderr
    assert "f1_secondary" not in json.loads((output_dir / "scores.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("ref_file, text", [
    ("groundtruth.csv", None),
    ("groundtruth.csv", GROUNDTRUTH + "img1\tC7\n"),
    ("secondary_concepts.txt", "C99\n"),
    ("images.txt", "img1\nimg2\n"),
])
def test_broken_reference_is_an_internal_error(tmp_path: Path, ref_file: str, text: str | None) -> None:
    input_dir, output_dir = _layout(tmp_path, lines_text(RUN_LINES))
    path = input_dir / "ref" / ref_file
    if text is None:
        path.unlink()
    else:
        path.write_text(text, encoding="utf-8")
    result = _score(input_dir, output_dir)
    assert result.returncode == 2, result.stderr
    assert "INTERNAL ERROR" in result.stderr
    assert not (output_dir / "scores.json").exists()
