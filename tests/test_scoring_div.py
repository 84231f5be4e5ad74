"""The fusion-div scoring program end to end: run validation, exit codes, outputs, and the
whole pipeline (readers + metric) against a plain-Python oracle."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers import lines_text, scoring_layout
from task_modules import load_module

ROOT = Path(__file__).resolve().parents[1]
SCORE = ROOT / "bundles" / "fusion-div" / "scoring_program" / "score.py"
KEYS = {"f1_at_20", "cr_at_20", "p_at_20"}

# Query 1: 4 relevant photos in 3 clusters, a "don't know" and a non-relevant one.
# Query 2: 2 relevant photos in 2 clusters. Query 10: no relevant photo (0 clusters).
RGT = """query_id,photo_id,rel
1,a1,1
1,a2,1
1,a3,1
1,a4,0
1,a5,-1
1,a6,1
2,b1,1
2,b2,0
2,b3,1
10,c1,0
10,c2,-1
1,outside,0
"""
DGT = """query_id,photo_id,cluster_id
1,a1,x
1,a2,x
1,a3,y
1,a6,z
2,b1,x
2,b3,y
"""
VALID_RUN = """1 0 a1 0 0.9 myrun
1 0 a2 1 0.8 myrun
1 0 a5 2 0.7 myrun
1 0 outside 3 0.6 myrun
1 0 a6 4 0.6 myrun
2 Q0 b2 0 5 myrun
2 Q0 b3 1 4 myrun
10 0 c1 0 1 myrun
"""


score_module = load_module(SCORE, "fusion_div_score")


def layout(tmp_path: Path, run_text: str | bytes | None, run_name: str = "run.txt", rgt: str = RGT,
           dgt: str = DGT) -> Path:
    """input/ref (rGT, dGT) and input/res (the run) as the platform lays them out."""
    return scoring_layout(tmp_path, {"rGT.csv": rgt, "dGT.csv": dgt}, run_text, run_name=run_name)[0]


def run_scorer(input_dir: Path) -> tuple[subprocess.CompletedProcess, Path]:
    output_dir = input_dir.parent / "output"
    return helpers.run_scorer(SCORE, input_dir, output_dir), output_dir


def assert_participant_error(tmp_path: Path, run_text, *fragments: str, run_name: str = "run.txt") -> str:
    return helpers.assert_participant_error(*run_scorer(layout(tmp_path, run_text, run_name)), *fragments)


def run_lines(*lines: str) -> str:
    return lines_text(list(lines))


def valid_lines() -> list[str]:
    return VALID_RUN.strip().split("\n")


# --------------------------------------------------------------------------- valid runs


def expected_valid_scores() -> dict[str, float]:
    # Query 1 top 20: a1, a2, a6 relevant (a5 "don't know", "outside" not relevant): P = 3/20, CR = 2/3.
    # Query 2: b3 relevant: P = 1/20, CR = 1/2. Query 10: no clusters: P = CR = F1 = 0.
    p = [3 / 20, 1 / 20, 0.0]
    cr = [2 / 3, 1 / 2, 0.0]
    f1 = [2 * a * b / (a + b) if a + b else 0.0 for a, b in zip(p, cr)]
    return {"p_at_20": sum(p) / 3, "cr_at_20": sum(cr) / 3, "f1_at_20": sum(f1) / 3}


def test_valid_run_scores_and_reruns_byte_identically(tmp_path):
    input_dir = layout(tmp_path, VALID_RUN)
    scores, html = helpers.score_valid_run(SCORE, input_dir, input_dir.parent / "output")
    assert set(scores) == KEYS
    for key, value in expected_valid_scores().items():
        assert scores[key] == pytest.approx(value, abs=1e-9)
    assert "ImageCLEFfusion-div: search result diversification" in html
    assert "Means over the 3 queries" in html and "Per query at X = 20" in html
    # Per-query rows in natural id order: 1, 2, 10.
    per_query = html[html.index("Per query at X = 20"):]
    assert per_query.index("<td>1</td>") < per_query.index("<td>2</td>") < per_query.index("<td>10</td>")


def test_gain_and_time_are_added_when_their_files_exist(tmp_path):
    input_dir = layout(tmp_path, VALID_RUN)
    baseline = {"best_inducer": "inducer_a", "primary_metric": "f1_at_20", "scores": {"f1_at_20": 0.2}}
    (input_dir / "ref" / "baseline.json").write_text(json.dumps(baseline))
    timing = {"run_file": "run.txt", "time_s": 1.25, "cpu_s": 1.0, "memory_mib": 50.0, "time_limit_s": 600}
    (input_dir / "res" / "timing.json").write_text(json.dumps(timing))
    process, output_dir = run_scorer(input_dir)
    assert process.returncode == 0, process.stderr
    scores = json.loads((output_dir / "scores.json").read_text())
    assert set(scores) == KEYS | {"gain_pct", "time_s", "cpu_s", "memory_mib"}
    assert scores["gain_pct"] == pytest.approx(100 * (expected_valid_scores()["f1_at_20"] - 0.2) / 0.2, abs=1e-8)
    assert scores["time_s"] == 1.25


@pytest.mark.parametrize("suffix", [".trec", ".csv"])
def test_other_run_suffixes_are_accepted(tmp_path, suffix):
    process, _ = run_scorer(layout(tmp_path, VALID_RUN, run_name=f"myrun{suffix}"))
    assert process.returncode == 0, process.stderr


def test_order_is_the_rank_field_not_the_line_order(tmp_path):
    lines = valid_lines()
    reference = score_module.evaluate(layout(tmp_path / "a", VALID_RUN) / "ref", tmp_path / "a/input/res/run.txt")
    shuffled = run_lines(*reversed(lines))
    other = score_module.evaluate(layout(tmp_path / "b", shuffled) / "ref", tmp_path / "b/input/res/run.txt")
    assert other.scores == reference.scores
    # Ranks need not be consecutive: only their order matters.
    gapped = run_lines(*(line.replace(" 4 0.6 ", " 40 0.6 ") for line in lines))
    gapped_eval = score_module.evaluate(layout(tmp_path / "c", gapped) / "ref", tmp_path / "c/input/res/run.txt")
    assert gapped_eval.scores == reference.scores


def test_cutoff_drops_photos_ranked_below_it(tmp_path):
    # Query 1: a relevant photo at position 20 (0-based) is outside the top 20.
    filler = [f"1 0 f{i} {i} {100 - i} r" for i in range(20)]
    lines = filler + ["1 0 a1 20 1 r", "2 0 b1 0 1 r", "10 0 c1 0 1 r"]
    rgt = RGT + "".join(f"1,f{i},0\n" for i in range(20))  # the filler photos are in the pool, not relevant
    evaluation = score_module.evaluate(layout(tmp_path, run_lines(*lines), rgt=rgt) / "ref",
                                       tmp_path / "input/res/run.txt")
    query_table = evaluation.item_tables[0]
    assert [row[:2] for row in query_table.rows] == [["1", 21], ["2", 1], ["10", 1]]
    assert query_table.rows[0][2:] == [0.0, 0.0, 0.0]
    cutoff_rows = {row[0]: row[1:] for row in evaluation.tables[0].rows}
    assert cutoff_rows[30][0] == pytest.approx((1 / 30 + 1 / 30) / 3)
    assert sorted(cutoff_rows) == [5, 10, 20, 30, 40, 50]


def test_fifteen_photos_still_divide_precision_at_20_by_20(tmp_path):
    rgt = "query_id,photo_id,rel\n" + "".join(f"1,p{i},1\n" for i in range(30))
    dgt = "query_id,photo_id,cluster_id\n" + "".join(f"1,p{i},c{i}\n" for i in range(30))
    run = run_lines(*(f"1 0 p{i} {i} {1 - i / 100} r" for i in range(15)))
    evaluation = score_module.evaluate(layout(tmp_path, run, rgt=rgt, dgt=dgt) / "ref", tmp_path / "input/res/run.txt")
    assert evaluation.scores["p_at_20"] == 15 / 20
    assert evaluation.scores["cr_at_20"] == 15 / 30
    assert evaluation.primary == "f1_at_20"


def test_bom_crlf_blank_lines_and_equal_scores_are_tolerated(tmp_path):
    text = "\ufeff" + VALID_RUN.replace("\n", "\r\n\r\n")
    process, output_dir = run_scorer(layout(tmp_path, text))
    assert process.returncode == 0, process.stderr
    assert json.loads((output_dir / "scores.json").read_text())["f1_at_20"] == pytest.approx(
        expected_valid_scores()["f1_at_20"], abs=1e-9)


# --------------------------------------------------------------------------- validation rules


@pytest.mark.parametrize("bad_line, fragments", [
    ("1 0 a3 7 0.1", ["run.txt line 9", "found 5 fields, expected 6", "query_id iter photo_id rank score run_id"]),
    ("1 0 a3 7 0.1 my run", ["run.txt line 9", "found 7 fields, expected 6", "run_id has no spaces"]),
    ("1,0,a3,7,0.1,myrun", ["run.txt line 9", "found 1 fields", "commas do not separate fields"]),
    ("1 0 a3 1.5 0.1 myrun", ["run.txt line 9", "rank '1.5' is not an integer"]),
    ("1 0 a3 -1 0.1 myrun", ["run.txt line 9", "rank -1 is out of range", "from 0"]),
    ("1 0 a3 7 high myrun", ["run.txt line 9", "score 'high' is not a number"]),
    ("1 0 a3 7 nan myrun", ["run.txt line 9", "score 'nan' is not a finite number"]),
    ("1 0 a3 7 -inf myrun", ["run.txt line 9", "score '-inf' is not a finite number"]),
    ("99 0 a3 7 0.1 myrun", ["run.txt line 9", "'99'", "not in this split"]),
    ("1 0 a3 1 0.8 myrun", ["run.txt line 9", "rank 1 appears twice for query '1'", "also on line 2"]),
    ("1 0 a1 7 0.1 myrun", ["run.txt line 9", "photo 'a1' appears twice for query '1'", "first on line 1"]),
    ("1 0 a3 7 0.95 myrun", ["run.txt line 9", "score 0.95 at rank 7 is higher than score 0.6 at rank 4",
                              "(line 5)", "for query '1'", "must not increase as rank grows"]),
])
def test_each_bad_line_is_reported(tmp_path, bad_line, fragments):
    assert_participant_error(tmp_path, run_lines(*valid_lines(), bad_line), *fragments)


def test_score_increase_reports_both_lines_whatever_the_line_order(tmp_path):
    # The worse-ranked photo comes first in the file and has the higher score.
    lines = ["1 0 a3 5 0.95 r", *valid_lines()]
    assert_participant_error(tmp_path, run_lines(*lines), "run.txt line 1", "score 0.95 at rank 5",
                             "score 0.6 at rank 4 (line 6)")


def test_more_than_50_photos_for_a_query(tmp_path):
    lines = valid_lines() + [f"2 0 extra{i} {i + 2} {3 - i / 100} r" for i in range(49)]
    assert_participant_error(tmp_path, run_lines(*lines), "run.txt line 57", "query '2' has more than 50 photos",
                             "at most the 50")


def test_missing_query_is_counted_not_named(tmp_path):
    lines = [line for line in valid_lines() if not line.startswith("10 ")]
    message = assert_participant_error(tmp_path, run_lines(*lines), "run.txt",
                                       "1 of the 3 query ids of this split are missing",
                                       "rank at least one photo for every query")
    assert "'10'" not in message


@pytest.mark.parametrize("header", ["query_id iter photo_id rank score run_id", "topic Q0 docno pos sim tag"])
def test_header_line_is_refused(tmp_path, header):
    assert_participant_error(tmp_path, run_lines(header, *valid_lines()), "run.txt line 1",
                             "looks like a header line; a TREC run has no header, remove this line")


def test_ranks_starting_at_1_are_refused(tmp_path):
    lines = valid_lines()[:5] + ["2 Q0 b2 1 5 myrun", "2 Q0 b3 2 4 myrun", "10 0 c1 0 1 myrun"]
    assert_participant_error(tmp_path, run_lines(*lines), "run.txt line 6",
                             "query '2': ranks start at 1, but the first rank must be 0 (rank 0 is the best photo); "
                             "renumber the ranks from 0")


def test_first_query_in_the_file_with_late_ranks_is_named(tmp_path):
    # Queries 10 (line 1) and 1 (line 3) both start late; the one met first in the file is named.
    lines = ["10 0 c1 3 1 r", "2 0 b2 0 5 r", "1 0 a1 1 0.9 r", "1 0 a2 2 0.8 r"]
    assert_participant_error(tmp_path, run_lines(*lines), "run.txt line 1", "query '10': ranks start at 3")


def test_cr_line_ends_keep_line_numbers(tmp_path):
    text = "\r".join([*valid_lines(), "1 0 a3 7 high myrun"]) + "\r"
    assert_participant_error(tmp_path, text, "run.txt line 9", "score 'high' is not a number")
    process, _ = run_scorer(layout(tmp_path / "ok", "\r".join(valid_lines())))
    assert process.returncode == 0, process.stderr


def test_zip_renamed_to_a_run_is_named_as_a_zip(tmp_path):
    assert_participant_error(tmp_path, b"PK\x03\x04" + bytes(range(256)), "run.txt:", "is a zip archive",
                             "unzip it and submit the run file itself")


def test_empty_run(tmp_path):
    assert_participant_error(tmp_path, "\n\n", "run.txt", "is empty")


def test_invalid_utf8(tmp_path):
    assert_participant_error(tmp_path, VALID_RUN.encode() + b"1 0 \xff 9 0.1 r\n", "run.txt line 9", "UTF-8")


def test_no_run(tmp_path):
    assert_participant_error(tmp_path, None, "no run file")


def test_several_runs(tmp_path):
    input_dir = layout(tmp_path, VALID_RUN)
    (input_dir / "res" / "second.trec").write_text(VALID_RUN)
    process, output_dir = run_scorer(input_dir)
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert "2 possible run files" in process.stderr
    assert not (output_dir / "scores.json").exists()


def test_prediction_step_failed(tmp_path):
    input_dir = layout(tmp_path, VALID_RUN)
    (input_dir / "res" / "metadata").write_text("exitCode: 1\n")
    process, output_dir = run_scorer(input_dir)
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert "prediction step failed" in process.stderr
    assert not (output_dir / "scores.json").exists()


# --------------------------------------------------------------------------- internal faults


@pytest.mark.parametrize("rgt, dgt, fragment", [
    (RGT.replace("1,a4,0", "1,a4,2"), DGT, "rGT.csv line 5: rel must be 1, 0 or -1"),
    (RGT.replace("query_id,photo_id,rel", "query,photo,rel"), DGT, "rGT.csv must start with the header"),
    (RGT + "1,a1,0\n", DGT, "rGT.csv line 14: the photo is judged twice"),
    (RGT, DGT + "1,a4,w\n", "dGT.csv line 8: the photo is not relevant"),
    (RGT, DGT + "1,a1,y\n", "dGT.csv line 8: the photo has a cluster on an earlier line"),
    (RGT, DGT.replace("2,b3,y\n", ""), "1 relevant photo(s) of rGT.csv have no cluster"),
    (RGT, DGT.replace("1,a3,y", "1,a3"), "dGT.csv line 4: expected 3 non-empty comma-separated fields"),
    ("query_id,photo_id,rel\n", DGT, "rGT.csv has no judgements"),
])
def test_broken_reference_is_an_internal_error(tmp_path, rgt, dgt, fragment):
    process, output_dir = run_scorer(layout(tmp_path, VALID_RUN, rgt=rgt, dgt=dgt))
    assert process.returncode == 2
    assert fragment in process.stderr
    assert not (output_dir / "scores.json").exists()


def test_missing_reference_file_is_an_internal_error(tmp_path):
    input_dir = layout(tmp_path, VALID_RUN)
    (input_dir / "ref" / "dGT.csv").unlink()
    process, output_dir = run_scorer(input_dir)
    assert process.returncode == 2
    assert not (output_dir / "scores.json").exists()


def test_reference_with_spaces_and_crlf_reads_like_the_clean_one(tmp_path):
    messy_rgt = RGT.replace(",", " , ").replace("\n", "\r\n").replace("query_id , photo_id , rel", "query_id,photo_id,rel")
    clean = score_module.evaluate(layout(tmp_path / "a", VALID_RUN) / "ref", tmp_path / "a/input/res/run.txt")
    messy = score_module.evaluate(layout(tmp_path / "b", VALID_RUN, rgt=messy_rgt) / "ref",
                                  tmp_path / "b/input/res/run.txt")
    assert messy.scores == clean.scores


# --------------------------------------------------------------------------- whole pipeline vs oracle


def oracle_scores(relevance: dict, clusters: dict, lines: list[tuple], queries: list, cutoff: int = 20):
    """MediaEval-style loop over dicts and sets: each query's photos sorted by rank."""
    ranking: dict = {}
    for query, photo, rank, _ in sorted(lines, key=lambda line: (line[0], line[2])):
        ranking.setdefault(query, []).append(photo)
    totals = [0.0, 0.0, 0.0]
    for query in queries:
        query_clusters = {c for (q, _), c in clusters.items() if q == query}
        hits = [p for p in ranking.get(query, [])[:cutoff] if relevance.get((query, p)) == 1]
        precision = len(hits) / cutoff
        recall = len({clusters[(query, p)] for p in hits}) / len(query_clusters) if query_clusters else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        for i, value in enumerate((precision, recall, f1)):
            totals[i] += value / len(queries)
    return dict(zip(("p_at_20", "cr_at_20", "f1_at_20"), totals))


def test_pipeline_matches_the_oracle_on_random_files(tmp_path):
    rng = np.random.default_rng(7)
    for case in range(120):
        n_queries = int(rng.integers(1, 41))
        queries = [str(q) for q in rng.permutation(np.arange(1, 41))[:n_queries]]
        relevance, clusters, lines = {}, {}, []
        for query in queries:
            pool = [f"{query}x{i}" for i in range(int(rng.integers(1, 120)))]
            n_cluster_ids = int(rng.integers(1, 26))
            for photo in pool:
                relevance[(query, photo)] = int(rng.choice([1, 0, -1]))
                if relevance[(query, photo)] == 1:
                    clusters[(query, photo)] = f"k{rng.integers(n_cluster_ids)}"
            candidates = pool  # a photo outside the pool is refused (test_data_div.py)
            n_ranked = int(rng.integers(1, min(50, len(candidates)) + 1))
            photos = rng.choice(candidates, size=n_ranked, replace=False)
            ranks = np.sort(rng.choice(200, size=n_ranked, replace=False))
            ranks -= ranks[0]  # every query's first rank is 0; the gaps stay
            scores = np.sort(rng.integers(0, 10, size=n_ranked))[::-1] / 10  # ties included
            lines += [(query, str(p), int(r), float(s)) for p, r, s in zip(photos, ranks, scores)]
        order = rng.permutation(len(lines))
        run = "".join(f"{lines[i][0]} Q0 {lines[i][1]} {lines[i][2]} {lines[i][3]} run{case}\n" for i in order)
        rgt = "query_id,photo_id,rel\n" + "".join(f"{q},{p},{r}\n" for (q, p), r in relevance.items())
        dgt = "query_id,photo_id,cluster_id\n" + "".join(f"{q},{p},{c}\n" for (q, p), c in clusters.items())
        input_dir = layout(tmp_path / str(case), run, rgt=rgt, dgt=dgt)
        got = score_module.evaluate(input_dir / "ref", input_dir / "res" / "run.txt").scores
        expected = oracle_scores(relevance, clusters, lines, queries)
        assert set(got) == KEYS
        for key in KEYS:
            assert abs(got[key] - expected[key]) < 1e-12, (case, key)
