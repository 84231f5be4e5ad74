"""AP@k / MAP of fusion-int: golden values of metrics.md and a cross-check with pytrec_eval."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scoring_common.metrics.ranking import average_precision, mean_average_precision, tie_rank_from_ids

pytrec_eval = pytest.importorskip("pytrec_eval")


def _one_query(relevant_ranks: list[int], n_ranked: int, n_relevant: int, k: int | None) -> float:
    """AP of one query whose items are ranked by position (rank 1 = highest score)."""
    relevant = np.zeros(n_ranked, dtype=bool)
    relevant[np.array(relevant_ranks) - 1] = True
    return float(average_precision(np.zeros(n_ranked, dtype=np.int64), -np.arange(n_ranked, dtype=float),
                                   np.zeros(n_ranked, dtype=np.int64), relevant, np.array([n_relevant]), k)[0])


# --- golden values of metrics.md -------------------------------------------------------

GOLDEN_RANKS = [1, 3, 5, 8, 11, 12]


def test_golden_ap_at_10_divides_by_all_relevant() -> None:
    ap10 = _one_query(GOLDEN_RANKS, n_ranked=30, n_relevant=12, k=10)
    assert round(ap10, 6) == 0.230556
    assert ap10 == pytest.approx((1 / 1 + 2 / 3 + 3 / 5 + 4 / 8) / 12, abs=1e-15)
    # the two wrong denominators metrics.md warns about
    assert round(ap10, 4) != round(ap10 * 12 / 10, 4) == 0.2767
    assert round(ap10, 4) != round(ap10 * 12 / 4, 4) == 0.6917


def test_golden_ap_without_cutoff() -> None:
    ap = _one_query(GOLDEN_RANKS, n_ranked=30, n_relevant=12, k=None)
    assert round(ap, 6) == 0.310101
    assert ap == pytest.approx((1 / 1 + 2 / 3 + 3 / 5 + 4 / 8 + 5 / 11 + 6 / 12) / 12, abs=1e-15)
    assert _one_query(GOLDEN_RANKS, n_ranked=30, n_relevant=12, k=30) == ap


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_golden_ties_broken_by_descending_id_whatever_the_line_order(order: tuple[int, ...]) -> None:
    ids = np.array(["a", "b", "c"])[list(order)]
    relevant = ids == "a"
    ap = average_precision(np.zeros(3, dtype=np.int64), np.full(3, 0.5), tie_rank_from_ids(ids), relevant,
                           np.array([1]))
    assert round(float(ap[0]), 4) == round(1 / 3, 4)
    assert ap[0] == pytest.approx(1 / 3, abs=1e-15)


def test_query_without_relevant_document_counts_zero() -> None:
    query = np.array([0, 0, 1, 1])
    relevant = np.array([True, False, False, False])
    ap = average_precision(query, np.array([1.0, 0.0, 1.0, 0.0]), np.zeros(4, dtype=np.int64), relevant,
                           np.array([1, 0]))
    assert ap.tolist() == [1.0, 0.0]
    assert mean_average_precision(query, np.array([1.0, 0.0, 1.0, 0.0]), np.zeros(4, dtype=np.int64), relevant,
                                  np.array([1, 0]), k=10) == 0.5


def test_query_without_items_counts_zero() -> None:
    ap = average_precision(np.array([1]), np.array([0.3]), np.array([0]), np.array([True]), np.array([2, 1]))
    assert ap.tolist() == [0.0, 1.0]


def test_tie_rank_orders_by_code_points() -> None:
    ids = ["b", "a", "ab", "é", "z", "B", "a"]
    ranks = tie_rank_from_ids(ids)
    assert ranks.tolist() == [3, 1, 2, 5, 4, 0, 1]
    assert tie_rank_from_ids([]).tolist() == []
    # code-point order of str is the byte order of UTF-8, which trec_eval's strcmp uses
    assert sorted(ids) == sorted(ids, key=lambda s: s.encode("utf-8"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"score": np.zeros(2)}, "score has shape"),
        ({"query": np.array([0, 5, 0])}, "query code 5"),
        ({"query": np.array([0.0, 0.0, 0.0])}, "query must hold integers"),
        ({"score": np.array([0.0, np.nan, 1.0])}, "score nan is not finite"),
        ({"relevant": np.array([1, 0, 0])}, "relevant must hold booleans"),
        ({"n_relevant": np.array([0])}, "query 0 has 1 relevant items but n_relevant[0] = 0"),
        ({"n_relevant": np.array([-1])}, "n_relevant -1 is negative"),
        ({"k": 0}, "cutoff k must be a positive integer"),
        ({"k": 2.5}, "cutoff k must be a positive integer"),
    ],
)
def test_misuse_raises_value_error(kwargs: dict, message: str) -> None:
    arguments = {"query": np.zeros(3, dtype=np.int64), "score": np.zeros(3), "tie_rank": np.arange(3),
                 "relevant": np.array([True, False, False]), "n_relevant": np.array([1])}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        average_precision(**arguments)


def test_mean_needs_a_query() -> None:
    with pytest.raises(ValueError, match="at least one query"):
        mean_average_precision(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64),
                               np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))


# --- cross-check with trec_eval (pytrec_eval) -----------------------------------------------

CUTOFFS = (1, 5, 10, 20, 50, None)
ID_ALPHABET = list("ab9_0Zz.-é")


def _random_case(rng: np.random.Generator) -> dict:
    """Videos with keyframes, binary labels, tied scores and ids of varying lengths.

    Some videos have no relevant keyframe, some are absent from the run (empty
    queries), and some relevant keyframes are only in the ground truth (R_q larger
    than the relevant keyframes ranked).
    """
    n_videos = int(rng.integers(1, 31))
    tiny = rng.random() < 0.2
    score_values = rng.normal(size=int(rng.integers(1, 6))) if rng.random() < 0.8 else None
    case = {"query": [], "doc": [], "score": [], "relevant": [], "n_relevant": []}
    for q in range(n_videos):
        n_docs = int(rng.integers(1, 4 if tiny else 81))
        rate = rng.choice([0.0, 1.0, rng.random()], p=[0.15, 0.1, 0.75])
        ids: set[str] = set()
        while len(ids) < n_docs:
            ids.add("".join(rng.choice(ID_ALPHABET, size=int(rng.integers(1, 5)))))
        docs = sorted(ids)
        rng.shuffle(docs)
        relevant = rng.random(n_docs) < rate
        in_run = np.ones(n_docs, dtype=bool) if rng.random() < 0.9 else np.zeros(n_docs, dtype=bool)
        unranked_relevant = int(rng.integers(0, 4)) if rng.random() < 0.2 else 0
        if score_values is None:
            scores = rng.random(n_docs)
        else:
            scores = rng.choice(score_values, size=n_docs)
        case["query"] += [q] * int(in_run.sum())
        case["doc"] += [d for d, kept in zip(docs, in_run) if kept]
        case["score"] += scores[in_run].tolist()
        case["relevant"] += relevant[in_run].tolist()
        case["n_relevant"].append(int(relevant.sum()) + unranked_relevant)
        case.setdefault("qrels", {})[f"q{q}"] = {
            **{d: int(r) for d, r in zip(docs, relevant)},
            **{f"unranked{i}": 1 for i in range(unranked_relevant)},
        }
    return case


def _oracle(case: dict) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    for q, doc, score in zip(case["query"], case["doc"], case["score"]):
        run.setdefault(f"q{q}", {})[doc] = float(score)
    evaluator = pytrec_eval.RelevanceEvaluator(case["qrels"], {"map", "map_cut.1,5,10,20,50"})
    return evaluator.evaluate(run)


def test_matches_pytrec_eval_on_random_cases() -> None:
    rng = np.random.default_rng(20240517)
    n_cases = 600
    n_with_ties = n_with_empty_query = n_with_no_relevant = 0
    for _ in range(n_cases):
        case = _random_case(rng)
        query = np.array(case["query"], dtype=np.int64)
        score = np.array(case["score"], dtype=np.float64)
        relevant = np.array(case["relevant"], dtype=bool)
        n_relevant = np.array(case["n_relevant"], dtype=np.int64)
        tie_rank = tie_rank_from_ids(case["doc"])
        expected = _oracle(case)
        n_queries = n_relevant.size
        for k in CUTOFFS:
            measure = "map" if k is None else f"map_cut_{k}"
            ours = average_precision(query, score, tie_rank, relevant, n_relevant, k)
            # pytrec_eval leaves out queries absent from the run; they count with AP = 0 here.
            theirs = np.array([expected.get(f"q{q}", {measure: 0.0})[measure] for q in range(n_queries)])
            assert np.abs(ours - theirs).max() < 1e-12, (k, ours, theirs)
            assert abs(mean_average_precision(query, score, tie_rank, relevant, n_relevant, k)
                       - theirs.sum() / n_queries) < 1e-12
        n_with_ties += len(set(zip(case["query"], case["score"]))) < len(case["query"])
        n_with_empty_query += len(expected) < n_queries
        n_with_no_relevant += bool((n_relevant == 0).any())
    # the generator does exercise the hard cases
    assert n_with_ties > n_cases / 2 and n_with_empty_query > 50 and n_with_no_relevant > 100


def test_pytrec_eval_scores_queries_without_relevant_documents_as_zero() -> None:
    """What the fair comparison relies on: a judged query with no relevant document is 0, not left out."""
    qrels = {"q1": {"a": 1, "b": 0}, "q2": {"x": 0, "y": 0}}
    run = {"q1": {"a": 1.0, "b": 0.0}, "q2": {"x": 1.0, "y": 0.5}}
    result = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(run)
    assert result == {"q1": {"map": 1.0}, "q2": {"map": 0.0}}


# --- single precision, as trec_eval keeps run scores ------------------------------------

FLOAT32_CASES = [
    # scores differing only beyond float32 precision tie, broken by id descending: c, b, a
    {"a": 0.1000000001, "b": 0.1, "c": 0.1},
    {"a": 1.0 + 1e-9, "b": 1.0, "c": 1.0 - 1e-9},
    {"a": 12345678.0, "b": 12345679.0, "c": 12345677.5},
    # beyond the float32 range both become infinite and tie; below it, zero
    {"a": 1e39, "b": 1e40, "c": 0.1},
    {"a": 1e-46, "b": 0.0, "c": -1e-46},
    # a difference float32 does keep still counts
    {"a": 0.1000001, "b": 0.1, "c": 0.1},
]


@pytest.mark.parametrize("scores", FLOAT32_CASES)
def test_scores_equal_in_float32_tie_like_pytrec_eval(scores: dict[str, float]) -> None:
    ids = list(scores)
    relevant = np.array([doc == "a" for doc in ids])
    ours = average_precision(np.zeros(3, dtype=np.int64), np.array([scores[d] for d in ids]),
                             tie_rank_from_ids(ids), relevant, np.array([1]))[0]
    qrels = {"q": {"a": 1, "b": 0, "c": 0}}
    theirs = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate({"q": scores})["q"]["map"]
    assert ours == pytest.approx(theirs, abs=1e-15)


def test_float32_ties_in_double_precision_would_not_tie() -> None:
    """The first case above: in float64 'a' ranks first (AP 1), in float32 it ties and ranks last."""
    ids = ["a", "b", "c"]
    ap = average_precision(np.zeros(3, dtype=np.int64), np.array([0.1000000001, 0.1, 0.1]), tie_rank_from_ids(ids),
                           np.array([True, False, False]), np.array([1]))
    assert ap[0] == pytest.approx(1 / 3, abs=1e-15)


def test_matches_pytrec_eval_on_near_ties() -> None:
    """Random videos whose scores differ by less than float32's resolution from each other."""
    rng = np.random.default_rng(32)
    for _ in range(200):
        n_docs = int(rng.integers(2, 40))
        docs = [f"kf{i}" for i in rng.permutation(n_docs)]
        base = rng.choice([0.5, 3.0, 1e6], size=n_docs)
        score = base * (1.0 + rng.integers(-3, 4, size=n_docs) * 1e-9)
        relevant = rng.random(n_docs) < 0.3
        if not relevant.any():
            relevant[0] = True
        qrels = {"q": {d: int(r) for d, r in zip(docs, relevant)}}
        expected = pytrec_eval.RelevanceEvaluator(qrels, {"map", "map_cut.10"}).evaluate(
            {"q": {d: float(s) for d, s in zip(docs, score)}})["q"]
        for k, measure in ((None, "map"), (10, "map_cut_10")):
            ours = average_precision(np.zeros(n_docs, dtype=np.int64), score, tie_rank_from_ids(docs), relevant,
                                     np.array([int(relevant.sum())]), k)[0]
            assert ours == pytest.approx(expected[measure], abs=1e-12)
