"""Readers of "one prediction per item" files: every rule, with the exact message a participant sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scoring_common.errors import InternalError, ParticipantError
from scoring_common.formats.tabular import (
    DEFAULT_NAMES,
    TabularNames,
    TabularReference,
    read_tabular_reference,
    read_tabular_run,
)

REGRESSION_GROUNDTRUTH = """item_id,value,note
img_b,0.5,x
img_a,-1.25,y
img_c,3e2,z
"""
CLASSIFICATION_GROUNDTRUTH = """item_id,value
img_b,dog
img_a,cat
img_c,dog
img_d,bird
"""
MISSING_HINT = "give every item of the split exactly one value; the item list is in the split's inducers.csv"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def regression_reference(tmp_path: Path) -> TabularReference:
    return read_tabular_reference(write(tmp_path, "groundtruth.csv", REGRESSION_GROUNDTRUTH), DEFAULT_NAMES,
                                  "regression")


def classification_reference(tmp_path: Path, classes: list[str] | None = None) -> TabularReference:
    return read_tabular_reference(write(tmp_path, "groundtruth.csv", CLASSIFICATION_GROUNDTRUTH), DEFAULT_NAMES,
                                  "classification", classes)


def participant_error(tmp_path: Path, reference: TabularReference, run_text: str | bytes, name: str = "run.csv",
                      names: TabularNames = DEFAULT_NAMES) -> ParticipantError:
    with pytest.raises(ParticipantError) as caught:
        read_tabular_run(write(tmp_path, name, run_text), reference, names)
    return caught.value


# --- reference --------------------------------------------------------------------------------

def test_regression_reference(tmp_path: Path):
    reference = regression_reference(tmp_path)
    assert reference.item_ids == ["img_b", "img_a", "img_c"]
    assert reference.index == {"img_b": 0, "img_a": 1, "img_c": 2}
    assert reference.target.dtype == np.float64
    assert reference.target.tolist() == [0.5, -1.25, 300.0]
    assert reference.classes is None
    assert reference.kind == "regression"


def test_classification_reference_codes_follow_sorted_labels(tmp_path: Path):
    reference = classification_reference(tmp_path)
    assert reference.classes == ["bird", "cat", "dog"]
    assert reference.target.dtype == np.int64
    assert reference.target.tolist() == [2, 1, 2, 0]
    assert reference.kind == "classification"


def test_classification_reference_with_declared_classes(tmp_path: Path):
    reference = classification_reference(tmp_path, classes=["dog", "cat", "bird", "fish"])
    assert reference.classes == ["dog", "cat", "bird", "fish"]
    assert reference.target.tolist() == [0, 1, 0, 2]


def test_reference_header_any_case_and_custom_names(tmp_path: Path):
    names = TabularNames(id_column="image_id", target_column="score", item="image")
    path = write(tmp_path, "groundtruth.csv", "\ufeffImage_ID,SCORE\r\nx,1\r\n\r\ny,2\r\n")
    reference = read_tabular_reference(path, names, "regression")
    assert reference.item_ids == ["x", "y"] and reference.target.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("text, kind, message", [
    ("", "regression", "must start with the header item_id,value[,...]"),
    ("item_id,score\na,1\n", "regression", "must start with the header item_id,value[,...]"),
    ("a,1\nb,2\n", "regression", "must start with the header item_id,value[,...]"),
    ("item_id,value\n", "regression", "has no item"),
    ("item_id,value,note\na,1,x\nb,2\n", "regression", "line 3: 2 fields, expected 3"),
    ("item_id,value\na,1\na,2\n", "regression", "line 3: item id 'a' is empty or appears twice"),
    ("item_id,value\n ,1\n", "regression", "line 2: item id '' is empty or appears twice"),
    ("item_id,value\na,1\nb,nan\n", "regression", "line 3: value 'nan' is not a finite number"),
    ("item_id,value\na,high\n", "regression", "line 2: value 'high' is not a finite number"),
], ids=["empty", "wrong-target-column", "no-header", "no-item", "field-count", "duplicate", "empty-id",
        "nan", "not-a-number"])
def test_broken_reference_is_an_internal_error(tmp_path: Path, text: str, kind: str, message: str):
    path = write(tmp_path, "groundtruth.csv", text)
    with pytest.raises(InternalError) as caught:
        read_tabular_reference(path, DEFAULT_NAMES, kind)
    assert str(path) in str(caught.value) and message in str(caught.value)


@pytest.mark.parametrize("classes, message", [
    (["cat", "dog"], "line 5: label 'bird' is not a declared class"),
    (["cat", "dog", "bird", "cat"], "hold a label twice"),
    (["cat", "dog", "bird", ""], "class '' (for"),
    (["cat", "dog", "bird", "a,b"], "class 'a,b' (for"),
    (["cat", "dog", " bird"], "class ' bird' (for"),
])
def test_bad_declared_classes_are_internal_errors(tmp_path: Path, classes: list[str], message: str):
    with pytest.raises(InternalError, match=message.replace("(", r"\(")):
        classification_reference(tmp_path, classes)


def test_reference_misuse_raises_value_error(tmp_path: Path):
    path = write(tmp_path, "groundtruth.csv", REGRESSION_GROUNDTRUTH)
    with pytest.raises(ValueError, match="kind 'ranking' must be one of regression, classification"):
        read_tabular_reference(path, DEFAULT_NAMES, "ranking")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="classes are only for classification"):
        read_tabular_reference(path, DEFAULT_NAMES, "regression", ["a"])


def test_unreadable_reference_is_an_internal_error(tmp_path: Path):
    with pytest.raises(InternalError, match="cannot be read"):
        read_tabular_reference(tmp_path / "absent.csv", DEFAULT_NAMES, "regression")


# --- valid runs -------------------------------------------------------------------------------

@pytest.mark.parametrize("run_text", [
    "img_b,1.5\nimg_a,2\nimg_c,-3e-1\n",
    "item_id,value\nimg_c,-0.3\nimg_a,2.0\nimg_b,1.5",
    "ITEM_ID,Prediction\r\nimg_a,2\r\n\r\nimg_b,1.5\r\nimg_c,-0.3\r\n",
    "\ufeff img_a , 2 \n\timg_b,1.5\nimg_c ,-0.30\n",
], ids=["no-header", "header-shuffled", "crlf-header-any-case-blank-line", "bom-spaces"])
def test_regression_run_aligned_with_reference(tmp_path: Path, run_text: str):
    reference = regression_reference(tmp_path)
    values = read_tabular_run(write(tmp_path, "run.csv", run_text), reference, DEFAULT_NAMES)
    assert values.dtype == np.float64
    assert values.tolist() == [1.5, 2.0, -0.3]


@pytest.mark.parametrize("run_text", [
    "img_a,cat\nimg_b,cat\nimg_c,bird\nimg_d,dog\n",
    "item_id,label\nimg_d,dog\nimg_c, bird\nimg_b,cat\nimg_a,cat\n",
    "Item_Id,value\r\nimg_a,cat\r\nimg_b,cat\r\nimg_c,bird\r\nimg_d,dog",
], ids=["no-header", "header-shuffled-spaces", "crlf-header-any-case"])
def test_classification_run_gives_class_codes(tmp_path: Path, run_text: str):
    reference = classification_reference(tmp_path)
    codes = read_tabular_run(write(tmp_path, "run.csv", run_text), reference, DEFAULT_NAMES)
    assert codes.dtype == np.int64
    assert [reference.classes[c] for c in codes] == ["cat", "cat", "bird", "dog"]  # img_b, img_a, img_c, img_d


def test_declared_class_absent_from_the_split_is_a_valid_prediction(tmp_path: Path):
    reference = classification_reference(tmp_path, classes=["bird", "cat", "dog", "fish"])
    codes = read_tabular_run(write(tmp_path, "run.csv", "img_a,fish\nimg_b,dog\nimg_c,dog\nimg_d,bird\n"),
                             reference, DEFAULT_NAMES)
    assert codes.tolist() == [2, 3, 2, 0]


def test_custom_names_in_header_detection_and_messages(tmp_path: Path):
    names = TabularNames(id_column="image_id", target_column="score", item="image", item_list="images.txt")
    reference = read_tabular_reference(write(tmp_path, "groundtruth.csv", "image_id,score\nx,1\ny,2\nz,3\n"),
                                       names, "regression")
    values = read_tabular_run(write(tmp_path, "run.csv", "IMAGE_ID,score\ny,5\nx,4\nz,6\n"), reference, names)
    assert values.tolist() == [4.0, 5.0, 6.0]
    error = participant_error(tmp_path, reference, "image_id,score\nx,1\nx,abc\n", names=names)
    assert str(error) == "run.csv line 3: score 'abc' is not a number; write a decimal number such as 0.75"
    error = participant_error(tmp_path, reference, "x,1\n", names=names)
    assert str(error) == ("run.csv: 2 of the 3 images of this split are missing from the run; give every image "
                          "of the split exactly one score; the image list is in images.txt")


def test_random_runs_round_trip(tmp_path: Path):
    rng = np.random.default_rng(20240603)
    for case in range(40):
        n = int(rng.integers(1, 200))
        ids = [f"it{i}_{rng.integers(1000)}" for i in range(n)]
        truth = rng.normal(size=n)
        groundtruth = "item_id,value\n" + "".join(f"{i},{float(v)!r}\n" for i, v in zip(ids, truth))
        reference = read_tabular_reference(write(tmp_path, f"gt{case}.csv", groundtruth), DEFAULT_NAMES, "regression")
        prediction = rng.normal(size=n)
        order = rng.permutation(n)
        header = "item_id,value\n" if rng.random() < 0.5 else ""
        run = header + "".join(f"{ids[k]},{float(prediction[k])!r}\n" for k in order)
        np.testing.assert_array_equal(reference.target, truth)
        np.testing.assert_array_equal(read_tabular_run(write(tmp_path, f"run{case}.csv", run), reference,
                                                       DEFAULT_NAMES), prediction)


# --- malformed runs: file, line, what ---------------------------------------------------------

#: Repeated parts of the messages below.
FIELDS = "expected 2 (comma-separated item_id,value)"
DECIMAL_COMMA = "a decimal comma is the likely cause: write 0.5, not 0,5"
NOT_A_NUMBER = "is not a number; write a decimal number such as 0.75"
NOT_FINITE = "is not a finite number; replace NaN or infinite values"
OTHER_SPLIT = "score only the items of the split you submit to (dev and test differ)"


@pytest.mark.parametrize("run_text, line, message", [
    ("img_a,1,2\n", 1, f"found 3 fields, {FIELDS}; {DECIMAL_COMMA}"),
    ("img_a,1\nimg_b\n", 2, f"found 1 fields, {FIELDS}"),
    ("img_a,1\nimg_b;2\n", 2, f"found 1 fields, {FIELDS}; the fields seem separated by ';', not ',': separate them "
                              "with ','"),
    ("item_id,value,extra\nimg_a,1\n", 1, f"found 3 fields, {FIELDS}"),
    ("img_a,1\n ,2\n", 2, "the item id is empty; write item_id,value"),
    ("img_a,1\nimg_b,high\n", 2, f"value 'high' {NOT_A_NUMBER}"),
    ("img_a,1\nimg_b,\n", 2, f"value '' {NOT_A_NUMBER}"),
    ("img_a,1\nimg_b,-1,5\n", 2, f"found 3 fields, {FIELDS}; {DECIMAL_COMMA}"),
    ("img_a,NaN\n", 1, f"value 'NaN' {NOT_FINITE}"),
    ("img_a,1\nimg_b,-inf\n", 2, f"value '-inf' {NOT_FINITE}"),
    ("id,value\nimg_a,1\n", 1, "the header must be item_id,value, found 'id,value'; correct it or remove the line"),
    ("img_q,high\nimg_a,1\n", 1, "the header must be item_id,value, found 'img_q,high'; correct it or remove the line"),
    ("img_a,high\n", 1, f"value 'high' {NOT_A_NUMBER}"),
    ("img_a,1\nimg_b,2\nimg_x,3\nimg_c,4\nimg_y,5\n", 3,
     f"2 item(s) not in this split, e.g. 'img_x', 'img_y'; {OTHER_SPLIT}"),
    ("img_a,1\nimg_b,2\nimg_a,3\nimg_c,4\nimg_b,5\n", 3,
     "item 'img_a' appears twice (lines 1 and 3); give every item exactly one value"),
    ("img_a,1\nimg_a,3\nimg_zz,4\n", 3, f"1 item(s) not in this split, e.g. 'img_zz'; {OTHER_SPLIT}"),
], ids=["three-fields", "one-field", "wrong-separator", "header-with-extra-column", "empty-id", "not-a-number",
        "empty-value", "decimal-comma", "nan", "infinite", "header-with-wrong-id-column",
        "unknown-id-and-bad-value-look-like-a-header", "known-id-bad-value-on-line-1", "unknown-items",
        "duplicate", "unknown-reported-before-duplicate"])
def test_malformed_regression_run(tmp_path: Path, run_text: str, line: int, message: str):
    error = participant_error(tmp_path, regression_reference(tmp_path), run_text)
    assert (error.file, error.line) == ("run.csv", line)
    assert str(error) == f"run.csv line {line}: {message}"


@pytest.mark.parametrize("run_text", ["img_a,1\n", "", "item_id,value\n", "\n\n"],
                         ids=["two-missing", "empty-file", "header-only", "blank-lines"])
def test_missing_items_are_counted_never_listed(tmp_path: Path, run_text: str):
    error = participant_error(tmp_path, regression_reference(tmp_path), run_text, name="my_run.txt")
    n_missing = 3 - run_text.count("img_")
    assert (error.file, error.line) == ("my_run.txt", None)
    assert str(error) == (f"my_run.txt: {n_missing} of the 3 items of this split are missing from the run; "
                          f"{MISSING_HINT}")
    assert "img_b" not in str(error) and "img_c" not in str(error)


@pytest.mark.parametrize("run_text, line, message", [
    ("img_a,cat\nimg_b,Dog\n", 2,
     "label 'Dog' is not one of the 3 classes ('bird', 'cat', 'dog'); write one of these labels exactly "
     "(case matters)"),
    ("img_a,cat\nimg_b,\n", 2,
     "label '' is not one of the 3 classes ('bird', 'cat', 'dog'); write one of these labels exactly (case matters)"),
    ("img_a,1\n", 1,
     "label '1' is not one of the 3 classes ('bird', 'cat', 'dog'); write one of these labels exactly (case matters)"),
    ("id,label\nimg_a,cat\n", 1, "the header must be item_id,value, found 'id,label'; correct it or remove the line"),
    ("img_a,cat\nimg_b,dog\nimg_a,cat\nimg_c,dog\nimg_d,bird\n", 3,
     "item 'img_a' appears twice (lines 1 and 3); give every item exactly one value"),
    ("img_a,cat\nimg_q,dog\n", 2,
     "1 item(s) not in this split, e.g. 'img_q'; score only the items of the split you submit to "
     "(dev and test differ)"),
], ids=["case-differs", "empty-label", "class-code-instead-of-label", "header-with-wrong-id-column", "duplicate",
        "unknown-item"])
def test_malformed_classification_run(tmp_path: Path, run_text: str, line: int, message: str):
    error = participant_error(tmp_path, classification_reference(tmp_path), run_text)
    assert (error.file, error.line) == ("run.csv", line)
    assert str(error) == f"run.csv line {line}: {message}"


def test_long_class_lists_are_shortened(tmp_path: Path):
    classes = [f"class{i:02d}" for i in range(30)]
    groundtruth = "item_id,value\n" + "".join(f"i{k},{label}\n" for k, label in enumerate(classes))
    reference = read_tabular_reference(write(tmp_path, "groundtruth.csv", groundtruth), DEFAULT_NAMES,
                                       "classification")
    error = participant_error(tmp_path, reference, "i0,class99\n")
    assert "of the 30 classes ('class00', 'class01'," in str(error)
    assert "'class19' and 10 more); write one of these labels exactly" in str(error)


def test_invalid_utf8_run_names_the_line(tmp_path: Path):
    with pytest.raises(ParticipantError) as caught:
        read_tabular_run(write(tmp_path, "run.csv", b"img_a,1\nimg_\xff,2\n"), regression_reference(tmp_path),
                         DEFAULT_NAMES)
    assert str(caught.value) == "run.csv line 2: is not valid UTF-8 (byte 0xff); save the file as UTF-8"


def test_cr_line_ends_are_line_ends_and_keep_line_numbers(tmp_path: Path):
    reference = regression_reference(tmp_path)
    values = read_tabular_run(write(tmp_path, "run.csv", "item_id,value\rimg_a,2\r\rimg_b,1.5\rimg_c,-0.3"),
                              reference, DEFAULT_NAMES)
    assert values.tolist() == [1.5, 2.0, -0.3]
    error = participant_error(tmp_path, reference, "img_a,1\r\nimg_b,2\rimg_c,x\n")
    assert str(error) == "run.csv line 3: value 'x' is not a number; write a decimal number such as 0.75"
    with pytest.raises(ParticipantError) as caught:
        read_tabular_run(write(tmp_path, "run.csv", b"img_a,1\rimg_b,2\r\nimg_\xff,2\r"), reference, DEFAULT_NAMES)
    assert str(caught.value) == "run.csv line 3: is not valid UTF-8 (byte 0xff); save the file as UTF-8"


def test_huge_values_are_quoted_short(tmp_path: Path):
    error = participant_error(tmp_path, regression_reference(tmp_path), "img_a,1\n" + "q" * 100_000 + ",2\n")
    assert str(error) == (f"run.csv line 2: 1 item(s) not in this split, e.g. '{'q' * 60}...' (100000 characters); "
                          "score only the items of the split you submit to (dev and test differ)")
    error = participant_error(tmp_path, regression_reference(tmp_path), "img_a," + "9" * 5000 + "x\n")
    assert str(error).startswith(f"run.csv line 1: value '{'9' * 60}...' (5001 characters) is not a number")


def test_zip_run_is_named_a_zip_but_a_zip_reference_is_an_internal_error(tmp_path: Path):
    zipped = b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe"
    error = participant_error(tmp_path, regression_reference(tmp_path), zipped)
    assert str(error).startswith("run.csv: is a zip archive, not a text run; unzip it and submit the run file itself")
    with pytest.raises(InternalError, match="not valid UTF-8"):
        read_tabular_reference(write(tmp_path, "groundtruth.csv", zipped), DEFAULT_NAMES, "regression")
