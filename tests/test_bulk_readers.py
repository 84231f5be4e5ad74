"""The bulk paths of the readers equal their plain references: byte keys, and TREC runs split in one go."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from scoring_common.bytekeys import KeyTable, encode_keys, fixed_width
from scoring_common.errors import InternalError, ParticipantError
from scoring_common.formats import concepts, diversity
from scoring_common.formats.diversity import read_trec_run


@pytest.mark.parametrize("seed", range(20))
def test_fixed_width_is_the_zero_padded_spans(seed: int):
    rng = np.random.default_rng(seed)
    buffer = rng.integers(1, 256, size=int(rng.integers(0, 40)), dtype=np.uint8)
    starts = rng.integers(0, buffer.size + 1, size=int(rng.integers(0, 30)))
    ends = np.minimum(starts + rng.integers(0, 20, size=starts.size), buffer.size)
    rows = fixed_width(buffer, starts, ends)
    assert rows.shape[1] % 8 == 0 and rows.shape[1] >= 8
    for row, start, end in zip(rows, starts, ends):
        span = bytes(buffer[start:end])
        assert bytes(row) == span + bytes(rows.shape[1] - len(span))


@pytest.mark.parametrize("seed", range(20))
def test_key_table_finds_exactly_the_keys_it_holds(seed: int):
    rng = random.Random(seed)
    alphabet = "ab,é1"
    table = [("".join(rng.choices(alphabet, k=rng.randint(0, 20)))) for _ in range(rng.randint(1, 60))]
    wanted = table + ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(40)]
    first = {}
    for row, key in enumerate(table):
        first.setdefault(key, row)
    found = KeyTable(encode_keys(table)).find(encode_keys(wanted))
    assert found.tolist() == [first.get(key, -1) for key in wanted]


QUERIES = ("1", "2", "10")


def _random_run(rng: random.Random) -> str:
    """A TREC run, valid or not: odd spacing, blank lines, bad fields, headers, CR, non-ASCII."""
    lines = []
    if rng.random() < 0.5:  # valid: every query, distinct photos, scores falling with rank, any line order
        for query in QUERIES:
            for rank, photo in enumerate(rng.sample(["p1", "p2", "p3", "p4"], rng.randint(1, 4))):
                lines.append(rng.choice([" ", "\t"]).join([query, "Q0", photo, str(rank), str(1 / (rank + 1)), "r"]))
        rng.shuffle(lines)
        return "\n".join(lines) + "\n"
    for query in rng.sample(QUERIES, rng.randint(0, 3)):
        for rank in rng.sample(range(6), rng.randint(1, 5)):
            photo = rng.choice(["p1", "p2", "p3", "p4", "ph\u00f6to", "p5"])
            score = rng.choice([f"{1 / (rank + 1)}", "1e-3", "nan", "x", "+0.5", "1_0"])
            fields = [query, "Q0", photo, rng.choice([str(rank), f"0{rank}", "r"]), score, "run"]
            if rng.random() < 0.05:
                fields = fields[:5]
            lines.append(rng.choice([" ", "\t", "  "]).join(fields) + rng.choice(["", " ", "\t"]))
            if rng.random() < 0.05:
                lines.append(rng.choice(["", "   ", "query_id iter photo_id rank score run_id"]))
    return rng.choice(["\n", "\n", "\r\n"]).join(lines) + rng.choice(["", "\n"])


def _outcome(path: Path) -> object:
    try:
        run = read_trec_run(path, QUERIES, max_per_query=4)
    except ParticipantError as error:
        return str(error)
    return (run.query.tolist(), run.position.tolist(), run.item_ids, run.rank.tolist(), run.score.tolist(),
            run.line.tolist(), run.n_ranked.tolist())


@pytest.mark.parametrize("seed", range(60))
def test_trec_runs_read_in_bulk_as_line_by_line(tmp_path: Path, seed: int, monkeypatch):
    path = tmp_path / "run.txt"
    path.write_bytes(_random_run(random.Random(seed)).encode("utf-8"))
    bulk = diversity._plain_trec_fields(path)
    if bulk is not None:
        assert bulk == diversity._trec_fields(path, "photo")
    outcome = _outcome(path)
    monkeypatch.setattr(diversity, "_plain_trec_fields", lambda _: None)
    assert outcome == _outcome(path)


def test_only_plain_runs_are_split_in_bulk(tmp_path: Path):
    path = tmp_path / "run.txt"
    path.write_text("1 Q0 p1 0 1.0 run\n\n2\tQ0  p2 0 0.5 run \n", encoding="utf-8")
    assert diversity._plain_trec_fields(path) == ([1, 3], (["1", "2"], ["p1", "p2"], ["0", "0"], ["1.0", "0.5"]))
    for text in ("", "1 Q0 p1 0 1.0 run\r\n", "1 Q0 p1 0 1.0\n", "1 Q0 p1 0 1.0 run 1 Q0 p2 1 0.5 run\n",
                 "q iter photo rank score run\n", "1 Q0 p\u00e9 0 1.0 run\n", "1 Q0 p1 0 1.0 run\x0b\n",
                 "PK\x03\x04 Q0 p1 0 1.0 run\n"):
        path.write_text(text, encoding="utf-8")
        assert diversity._plain_trec_fields(path) is None, text


IMAGES = {f"img{n}": n for n in range(6)}


def _random_concept_file(rng: random.Random, separator: str) -> str:
    """A concept file, valid or not: headers, empty and repeated concepts, unknown or missing ids, odd spacing."""
    lines = ["ID" + separator + "CUIs"] if rng.random() < 0.3 else []
    if rng.random() < 0.5:  # plain: every image once, its own separator, distinct concepts
        for image in rng.sample(list(IMAGES), len(IMAGES)):
            concepts = rng.sample(["C1", "c2", "C2x", "C0000000000000003", "x"], rng.randint(0, 3))
            lines.append(image + separator + ";".join(concepts) + rng.choice(["", ";"] if concepts else [""]))
        return "\n".join(lines) + rng.choice(["", "\n"])
    images = list(IMAGES) if rng.random() < 0.6 else rng.choices(list(IMAGES) + ["other"], k=rng.randint(0, 7))
    for image in images:
        concepts = rng.sample(["C1", "c1", "C2", "C0000000000000003", ""], rng.randint(0, 4))
        text = ";".join(concepts) + rng.choice(["", "", ";"])
        line = image + rng.choice([separator] * 8 + ["|", "\t", ",", " "]) + text
        lines.append(line + rng.choice(["", "", " "]))
        if rng.random() < 0.05:
            lines.append("")
    return rng.choice(["\n"] * 5 + ["\r\n"]).join(lines) + rng.choice(["", "\n"])


def _pairs_or_message(read) -> object:
    vocabulary = {"C2": 0}
    try:
        result = read(vocabulary)
    except (ParticipantError, InternalError) as error:
        return str(error)
    pairs = result[1] if isinstance(result, tuple) else result
    return pairs.image.tolist(), pairs.concept.tolist(), vocabulary, result[0] if isinstance(result, tuple) else None


@pytest.mark.parametrize("seed", range(60))
def test_concept_files_read_in_bulk_as_line_by_line(tmp_path: Path, seed: int, monkeypatch):
    rng = random.Random(seed)
    run, truth = tmp_path / "run.csv", tmp_path / "groundtruth.csv"
    run.write_text(_random_concept_file(rng, "|"), encoding="utf-8", newline="")
    truth.write_text(_random_concept_file(rng, "\t"), encoding="utf-8", newline="")
    index = dict(IMAGES) if rng.random() < 0.5 else None
    readers = (lambda v: concepts.read_run(run, IMAGES, v, max_concepts=3),
               lambda v: concepts.read_groundtruth(truth, v, None if index is None else dict(index)))
    outcomes = [_pairs_or_message(read) for read in readers]
    monkeypatch.setattr(concepts, "_plain_lines", lambda *_: None)
    assert outcomes == [_pairs_or_message(read) for read in readers]
