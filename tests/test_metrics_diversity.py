"""P@X, CR@X and F1@X of fusion-div: golden values of metrics.md and a cross-check
against a plain-Python re-implementation of the MediaEval diversity tool."""

from __future__ import annotations

import numpy as np
import pytest

from scoring_common.metrics.diversity import (
    DIVERSITY_CUTOFFS,
    DiversityScores,
    diversity_at,
    f1_score,
    mean_diversity,
)
from scoring_common.metrics.registry import REGISTRY


# --------------------------------------------------------------------------- oracle


def oracle_diversity(relevance: dict, clusters: dict, ranking: dict, queries: list, cutoff: int):
    """The MediaEval tool's loop: dicts and sets, one query at a time.

    relevance: (query, photo) -> rel in {1, 0, -1}; clusters: (query, photo) -> cluster id
    of the relevant photos; ranking: query -> photos, best first. Returns the per-query
    (P, CR, F1) lists over ``queries`` and their means.
    """
    per_query = []
    for query in queries:
        query_clusters = {cluster for (q, _), cluster in clusters.items() if q == query}
        top = ranking.get(query, [])[:cutoff]
        relevant_top = [photo for photo in top if relevance.get((query, photo)) == 1]
        found = {clusters[(query, photo)] for photo in relevant_top}
        precision = len(relevant_top) / cutoff
        cluster_recall = len(found) / len(query_clusters) if query_clusters else 0.0
        f1 = 2 * precision * cluster_recall / (precision + cluster_recall) if precision + cluster_recall > 0 else 0.0
        per_query.append((precision, cluster_recall, f1))
    means = tuple(sum(values[i] for values in per_query) / len(per_query) for i in range(3))
    return per_query, means


def to_arrays(relevance: dict, clusters: dict, ranking: dict, queries: list, rng: np.random.Generator):
    """Turn a case into the metric's arrays, items in a shuffled order (positions carry the ranking)."""
    query_code = {query: code for code, query in enumerate(queries)}
    cluster_code: dict = {}
    for key in sorted(clusters):
        cluster_code.setdefault((key[0], clusters[key]), len(cluster_code))
    items = [(query, photo, position) for query, photos in ranking.items() for position, photo in enumerate(photos)]
    order = rng.permutation(len(items))
    items = [items[i] for i in order]
    query = np.array([query_code[q] for q, _, _ in items], dtype=np.int64)
    position = np.array([p for _, _, p in items], dtype=np.int64)
    relevant = np.array([relevance.get((q, photo)) == 1 for q, photo, _ in items], dtype=bool)
    cluster = np.array([cluster_code[(q, clusters[(q, photo)])] if (q, photo) in clusters else -1
                        for q, photo, _ in items], dtype=np.int64)
    n_clusters = np.zeros(len(queries), dtype=np.int64)
    for q, _ in cluster_code:
        n_clusters[query_code[q]] += 1
    return query, position, relevant, cluster, n_clusters


def random_case(rng: np.random.Generator):
    """Random queries (1..40), pools, relevance {1, 0, -1}, 1..25 clusters, runs of 0..50 photos."""
    n_queries = int(rng.integers(1, 41))
    queries = [f"q{i}" for i in rng.permutation(1000)[:n_queries]]
    relevance, clusters, ranking = {}, {}, {}
    for query in queries:
        pool_size = int(rng.choice([0, 1, 2, 5, 30, 80, int(rng.integers(0, 300))]))
        p_relevant = float(rng.choice([0.0, 0.1, 0.5, 0.9, 1.0]))
        n_cluster_ids = int(rng.integers(1, 26))
        pool = [f"{query}_p{i}" for i in range(pool_size)]
        for photo in pool:
            rel = int(rng.choice([1, 0, -1], p=[p_relevant, (1 - p_relevant) * 0.8, (1 - p_relevant) * 0.2]))
            relevance[(query, photo)] = rel
            if rel == 1:
                clusters[(query, photo)] = f"c{rng.integers(n_cluster_ids)}"
        outside = [f"{query}_out{i}" for i in range(50)]
        candidates = pool + outside
        n_ranked = int(rng.choice([0, 1, 15, 20, 50, int(rng.integers(0, 51))]))
        n_ranked = min(n_ranked, len(candidates))
        if n_ranked:
            # Mostly pool photos, some from outside the pool.
            weights = np.array([1.0] * len(pool) + [0.1] * len(outside))
            picked = rng.choice(len(candidates), size=n_ranked, replace=False, p=weights / weights.sum())
            ranking[query] = [candidates[i] for i in picked]
    return relevance, clusters, ranking, queries


def test_matches_the_oracle_on_random_cases():
    rng = np.random.default_rng(20240601)
    n_compared = 0
    for _ in range(600):
        relevance, clusters, ranking, queries = random_case(rng)
        cutoffs = DIVERSITY_CUTOFFS + (1, 3, int(rng.integers(1, 80)))
        arrays = to_arrays(relevance, clusters, ranking, queries, rng)
        result = diversity_at(*arrays, cutoffs=cutoffs)
        means = mean_diversity(result)
        for cutoff in cutoffs:
            expected, expected_means = oracle_diversity(relevance, clusters, ranking, queries, cutoff)
            got = np.column_stack(result[cutoff])
            assert got.shape == (len(queries), 3)
            assert np.abs(got - np.array(expected)).max() < 1e-12
            assert np.abs(np.array(means[cutoff]) - np.array(expected_means)).max() < 1e-12
            if cutoff in DIVERSITY_CUTOFFS:  # the registered metrics are these means
                for prefix, value in zip(("p", "cr", "f1"), expected_means):
                    assert abs(REGISTRY[f"{prefix}_at_{cutoff}"](*arrays) - value) < 1e-12
            n_compared += 1
    assert n_compared >= 500 * len(DIVERSITY_CUTOFFS)


# --------------------------------------------------------------------------- golden values


def test_golden_f1_of_one_query():
    assert round(float(f1_score(0.95, 0.5333)), 4) == 0.6831
    # The same through the metric: 20 ranked, 19 relevant, in 8 of the query's 15 clusters.
    relevant = np.array([True] * 19 + [False])
    cluster = np.where(relevant, np.arange(20) % 8, -1)
    scores = diversity_at(np.zeros(20, int), np.arange(20), relevant, cluster, np.array([15]), cutoffs=(20,))[20]
    assert round(float(scores.precision[0]), 4) == 0.95
    assert round(float(scores.cluster_recall[0]), 4) == 0.5333
    assert round(float(scores.f1[0]), 4) == 0.6831


def _query_with(hits: int, clusters_found: int, n_clusters: int, n_ranked: int = 30):
    """One query's items: ``hits`` relevant photos in the top 20 spread over ``clusters_found``
    clusters, the other ranked photos not relevant."""
    relevant = np.zeros(n_ranked, dtype=bool)
    relevant[:hits] = True
    cluster = np.where(relevant, np.arange(n_ranked) % clusters_found if clusters_found else -1, -1)
    return relevant, cluster, n_clusters


def test_golden_means_are_means_of_per_query_f1_not_harmonic_mean_of_means():
    # 25 queries: 7 with CR@20 = 3/7 and P@20 = 16/20; 14 with CR = 5/7, P = 16/20; 4 with CR = 5/7, P = 15/20.
    queries = [_query_with(16, 3, 7)] * 7 + [_query_with(16, 5, 7)] * 14 + [_query_with(15, 5, 7)] * 4
    query = np.concatenate([np.full(30, code) for code in range(len(queries))])
    position = np.tile(np.arange(30), len(queries))
    relevant = np.concatenate([q[0] for q in queries])
    cluster = np.concatenate([q[1] + 100 * code for code, q in enumerate(queries)])
    cluster[~relevant] = -1
    n_clusters = np.array([q[2] for q in queries])
    precision, cluster_recall, f1 = mean_diversity(diversity_at(query, position, relevant, cluster, n_clusters))[20]
    assert round(precision, 4) == 0.792
    assert round(cluster_recall, 4) == 0.6343
    assert round(f1, 3) == 0.696
    harmonic_of_means = 2 * precision * cluster_recall / (precision + cluster_recall)
    assert round(harmonic_of_means, 4) == 0.7044
    assert abs(f1 - harmonic_of_means) > 0.008


def test_precision_divides_by_the_cutoff_even_for_short_runs():
    # 15 photos ranked, all relevant, each in its own cluster of 30.
    result = diversity_at(np.zeros(15, int), np.arange(15), np.ones(15, bool), np.arange(15), np.array([30]))
    assert result[20].precision[0] == 15 / 20
    assert result[50].precision[0] == 15 / 50
    assert result[5].precision[0] == 1.0
    assert result[20].cluster_recall[0] == 0.5


def test_only_the_top_x_positions_count():
    # Positions, not the order of the arrays, define the top X.
    position = np.array([7, 0, 3, 12, 1])
    relevant = np.array([True, False, True, True, False])
    cluster = np.array([0, -1, 1, 2, -1])
    result = diversity_at(np.zeros(5, int), position, relevant, cluster, np.array([4]), cutoffs=(5, 10, 20))
    assert result[5].precision[0] == 1 / 5 and result[5].cluster_recall[0] == 1 / 4
    assert result[10].precision[0] == 2 / 10 and result[10].cluster_recall[0] == 2 / 4
    assert result[20].precision[0] == 3 / 20 and result[20].cluster_recall[0] == 3 / 4


def test_clusters_are_counted_once_and_per_query():
    # Query 0: 4 relevant photos in 2 clusters; query 1 reuses the same cluster codes.
    query = np.array([0, 0, 0, 0, 1])
    relevant = np.ones(5, bool)
    cluster = np.array([0, 0, 1, 1, 0])
    result = diversity_at(query, np.array([0, 1, 2, 3, 0]), relevant, cluster, np.array([2, 3]), cutoffs=(5,))[5]
    np.testing.assert_array_equal(result.cluster_recall, [1.0, 1 / 3])
    np.testing.assert_array_equal(result.precision, [4 / 5, 1 / 5])


def test_query_without_clusters_or_ranked_items_scores_zero_and_counts_in_the_mean():
    # Query 0: perfect at X = 5; query 1: no relevant photo in the ground truth; query 2: nothing ranked.
    query = np.array([0, 0, 0, 0, 0, 1, 1])
    position = np.array([0, 1, 2, 3, 4, 0, 1])
    relevant = np.array([True] * 5 + [False] * 2)
    cluster = np.array([0, 1, 2, 3, 4, -1, -1])
    result = diversity_at(query, position, relevant, cluster, np.array([5, 0, 3]), cutoffs=(5,))
    np.testing.assert_array_equal(result[5].f1, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(result[5].cluster_recall, [1.0, 0.0, 0.0])
    assert mean_diversity(result)[5] == (1 / 3, 1 / 3, 1 / 3)


def test_empty_run():
    result = diversity_at(np.array([], int), np.array([], int), np.array([], bool), np.array([], int), np.array([2, 0]))
    for scores in result.values():
        assert isinstance(scores, DiversityScores)
        np.testing.assert_array_equal(np.column_stack(scores), np.zeros((2, 3)))


def test_f1_is_zero_when_precision_and_recall_are_zero():
    np.testing.assert_array_equal(f1_score([0.0, 0.5, 0.0], [0.0, 0.0, 1.0]), [0.0, 0.0, 0.0])
    assert f1_score(1.0, 1.0) == 1.0


# --------------------------------------------------------------------------- misuse


@pytest.mark.parametrize("arguments, message", [
    (([0, 0], [0], [True], [0], [1]), "one length"),
    (([0, 2], [0, 1], [True, True], [0, 1], [2, 2]), r"\[0, 2\)"),
    (([0], [-1], [True], [0], [1]), "positions must be >= 0, got -1"),
    (([0], [0], [True], [-1], [1]), "cluster code >= 0, got -1"),
    (([0], [0], [True], [0], [-1]), "n_clusters must be >= 0"),
    (([0, 0], [0, 1], [True, True], [0, 1], [1]), "2 clusters but n_clusters\\[0\\] = 1"),
    (([0], [0], [True], [0], [[1]]), "1-D"),
])
def test_misuse_raises_value_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        diversity_at(*(np.asarray(a) for a in arguments))


def test_cutoffs_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        diversity_at(np.array([0]), np.array([0]), np.array([True]), np.array([0]), np.array([1]), cutoffs=(0, 5))


def test_mean_over_zero_queries_is_refused():
    result = diversity_at(np.array([], int), np.array([], int), np.array([], bool), np.array([], int),
                          np.array([], int))
    with pytest.raises(ValueError, match="zero queries"):
        mean_diversity(result)
