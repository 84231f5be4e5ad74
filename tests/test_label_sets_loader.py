"""LabelSets.load_inducers: the bulk reading of plain inducer files equals the line-by-line reading."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from scoring_common.errors import InternalError
from scoring_common.predictions import label_sets
from scoring_common.predictions.frames import SharedStrings
from scoring_common.predictions.label_sets import LabelSets

KIND = LabelSets(item_column="image_id", label_column="concept", item="image", label="concept",
                 items_key="images", items_file="images.txt")
ITEMS = [f"img_{n:03d}" for n in range(40)] + ["Ünï-çode", "x"]
#: Label pieces: repeats within a line (in any case), empty labels, long labels, a '|' inside a label.
LABELS = ["C0040405", "c0040405", "C1306645", "C2", "", "C0000000000000000001", "a|b", "ß", "Cé", "L" * 70]


def _reference_frame(folder: Path) -> pd.DataFrame:
    """Every inducer file read line by line (:meth:`LabelSets._label_rows`), the frame built as before."""
    items = KIND._read_item_list(folder / KIND.items_file)
    inducers, item_ids, labels = [], [], []
    for path in sorted((folder / KIND.inducers_dir).glob("*.csv")):
        rows = KIND._label_rows(path, set(items))
        inducers += [path.stem] * len(rows[0])
        item_ids += rows[0].tolist()
        labels += rows[1].tolist()
    frame = pd.DataFrame({"inducer": inducers, "image_id": item_ids, "concept": labels}, columns=KIND.columns)
    frame.attrs["images"] = tuple(items)
    return frame


def _random_file(rng: random.Random, plain: bool) -> str:
    lines = []
    for item in rng.sample(ITEMS, rng.randint(0, len(ITEMS))):
        pieces = rng.choices(LABELS[:5] if plain else LABELS, k=rng.randint(0, 6))
        if not plain and rng.random() < 0.3:
            pieces = [f" {piece}\t" for piece in pieces]
        lines.append(f"{item}|{';'.join(pieces)}")
        if rng.random() < 0.1:
            lines.append("")
    ending = "\n" if plain else rng.choice(["\n", "\r\n", "\n\n"])
    return ending.join(lines) + rng.choice(["", ending])


@pytest.mark.parametrize("seed", range(30))
def test_bulk_reading_equals_the_line_by_line_reading(tmp_path: Path, seed: int):
    rng = random.Random(seed)
    (tmp_path / "inducers").mkdir()
    (tmp_path / "images.txt").write_text("\n".join(ITEMS) + "\n", encoding="utf-8")
    for n in range(4):
        text = _random_file(rng, plain=rng.random() < 0.6)
        prefix = "\ufeff" if rng.random() < 0.2 else ""
        (tmp_path / "inducers" / f"inducer_{n}.csv").write_text(prefix + text, encoding="utf-8", newline="")
    keys = label_sets.KeyTable(label_sets.encode_keys(ITEMS))
    for path in (tmp_path / "inducers").iterdir():
        bulk = label_sets._plain_label_rows(path, ITEMS, keys, SharedStrings())
        if bulk is not None:
            loop = KIND._label_rows(path, set(ITEMS))
            assert [column.tolist() for column in bulk] == [column.tolist() for column in loop]
    frame = KIND.load_inducers(tmp_path)
    expected = _reference_frame(tmp_path)
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert list(frame.dtypes) == list(expected.dtypes)
    assert tuple(frame.attrs["images"]) == expected.attrs["images"]
    for column in ("image_id", "concept"):  # one object per distinct string, across files and paths
        values = frame[column].tolist()
        assert len({id(value) for value in values}) == len(set(values))


def test_plain_files_take_the_bulk_path_and_others_the_loop(tmp_path: Path):
    items = ["a", "b"]
    keys = label_sets.KeyTable(label_sets.encode_keys(items))
    plain = tmp_path / "plain.csv"
    plain.write_text("a|c1;C1;;c2;\n\nb|\n", encoding="utf-8")
    item_ids, labels = label_sets._plain_label_rows(plain, items, keys, SharedStrings())
    assert item_ids.tolist() == ["a", "a"] and labels.tolist() == ["C1", "C2"]
    for text in ("a|c1\r\n", "a|c 1\n", "a,c1\n", "z|c1\n", "a|c1\na|c2\n", "a|\u00e9\n", "a|c\x001\n"):
        plain.write_text(text, encoding="utf-8")
        assert label_sets._plain_label_rows(plain, items, keys, SharedStrings()) is None, text


@pytest.mark.parametrize("text, message", [
    ("img_001|C1\nimg_999|C2\n", "line 2: image 'img_999' is not in images.txt"),
    ("img_001|C1\nimg_002|C2\nimg_001|C3\n", "line 3: image 'img_001' appears twice"),
])
def test_problems_are_reported_at_their_line(tmp_path: Path, text: str, message: str):
    (tmp_path / "inducers").mkdir()
    (tmp_path / "images.txt").write_text("\n".join(ITEMS) + "\n", encoding="utf-8")
    (tmp_path / "inducers" / "a.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InternalError, match=message):
        KIND.load_inducers(tmp_path)


def test_empty_inducer_files_give_the_empty_frame_as_before(tmp_path: Path):
    (tmp_path / "inducers").mkdir()
    (tmp_path / "images.txt").write_text("a\n", encoding="utf-8")
    (tmp_path / "inducers" / "a.csv").write_text("", encoding="utf-8")
    frame = KIND.load_inducers(tmp_path)
    expected = pd.DataFrame({"inducer": [], "image_id": [], "concept": []}, columns=KIND.columns)
    pd.testing.assert_frame_equal(frame, expected)
