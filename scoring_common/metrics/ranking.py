"""Average precision per query, with trec_eval's ranking and tie-breaking.

Items (documents) are grouped into queries given as integer codes ``0..Q-1``. Within a
query, items are ranked by score, descending; equal scores are ordered by document id,
descending (trec_eval compares ids with ``strcmp``, which on UTF-8 bytes is Python's
code-point order). Scores are compared as trec_eval stores them, in single precision
(its ``float sim``): two scores equal once rounded to 32-bit floats are a tie, and
scores beyond the float32 range become infinite (so ``1e39`` ties with ``1e40``). The id order enters as ``tie_rank``, an integer per item, higher
ranking first; :func:`tie_rank_from_ids` builds it from the ids.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def tie_rank_from_ids(doc_ids: Sequence[str] | np.ndarray) -> np.ndarray:
    """Position of each document id in ascending code-point order.

    Equal ids share a position. Passing the result as ``tie_rank`` to
    :func:`average_precision` ranks equal scores by id, descending, as trec_eval does.

    Parameters
    ----------
    doc_ids : sequence of str
        One id per item.

    Returns
    -------
    numpy.ndarray of int64
        ``tie_rank[i] = |{distinct ids < doc_ids[i]}|``.
    """
    ids = np.empty(len(doc_ids), dtype=object)
    ids[:] = list(doc_ids)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Object arrays sort with Python's str comparison: exact code-point order, no
    # padding or truncation as with fixed-width numpy strings.
    _, inverse = np.unique(ids, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1)


def as_trec_eval_score(score: np.ndarray) -> np.ndarray:
    """Scores as trec_eval compares them: rounded to float32, out-of-range ones infinite.

    Parameters
    ----------
    score : numpy.ndarray of float
        Finite scores in double precision.

    Returns
    -------
    numpy.ndarray of float32
        ``float32(score)``; ``|score|`` above the float32 maximum gives ``±inf``.
    """
    with np.errstate(over="ignore"):
        return np.asarray(score, dtype=np.float64).astype(np.float32)


def average_precision(
    query: np.ndarray,
    score: np.ndarray,
    tie_rank: np.ndarray,
    relevant: np.ndarray,
    n_relevant: np.ndarray,
    k: int | None = None,
) -> np.ndarray:
    """Average precision at cutoff ``k`` of every query (trec_eval ``map_cut_k`` / ``map``).

    For query ``q`` with ``R_q`` relevant documents, rank its items by ``score``
    rounded to float32 (trec_eval's precision) descending, then ``tie_rank`` descending, and let ``rel(i)`` be 1 if the item at
    rank ``i`` is relevant:

    .. math::

        AP@k(q) = \\frac{1}{R_q} \\sum_{i=1}^{\\min(k, n_q)}
                  rel(i) \\cdot \\frac{\\sum_{j \\le i} rel(j)}{i}

    The denominator is ``R_q``, every relevant document of the query, ranked or not.
    A query with ``R_q = 0``, or with no items, has AP = 0.

    Parameters
    ----------
    query : numpy.ndarray of int, shape (n,)
        Query code of each item, in ``0..Q-1`` with ``Q = len(n_relevant)``.
    score : numpy.ndarray of float, shape (n,)
        Submitted score of each item (finite); higher ranks first. Compared in float32,
        like trec_eval: scores that round to the same 32-bit float tie.
    tie_rank : numpy.ndarray of int, shape (n,)
        Order among equal scores of one query: higher ranks first. Items equal in both
        score and ``tie_rank`` keep their input order.
    relevant : numpy.ndarray of bool, shape (n,)
        Whether each item is relevant.
    n_relevant : numpy.ndarray of int, shape (Q,)
        ``R_q``: number of relevant documents of each query in the ground truth; at
        least the number of relevant items given for that query.
    k : int or None
        Cutoff: only the top ``k`` items of each query count. None means no cutoff.

    Returns
    -------
    numpy.ndarray of float64, shape (Q,)
        AP@k of each query.

    Raises
    ------
    ValueError
        On arrays of mismatched shapes, query codes out of range, non-finite scores,
        ``n_relevant`` below the relevant items given, or ``k < 1``.
    """
    query, score, tie_rank, relevant, n_relevant = _checked(query, score, tie_rank, relevant, n_relevant, k)
    n_queries = n_relevant.size
    order = np.lexsort((-tie_rank, -as_trec_eval_score(score), query))
    sorted_query = query[order]
    sorted_relevant = relevant[order]

    items_per_query = np.bincount(query, minlength=n_queries)
    first_item = np.cumsum(items_per_query) - items_per_query
    rank = np.arange(1, query.size + 1) - first_item[sorted_query]

    hits_through = np.cumsum(sorted_relevant)
    hits_per_query = np.bincount(query[relevant], minlength=n_queries)
    hits_before_query = np.cumsum(hits_per_query) - hits_per_query
    hits_in_query = hits_through - hits_before_query[sorted_query]

    counted = sorted_relevant if k is None else sorted_relevant & (rank <= k)
    precision_at_hits = np.where(counted, hits_in_query / rank, 0.0)
    # bincount adds each query's terms in rank order, the order trec_eval sums them.
    sums = np.bincount(sorted_query, weights=precision_at_hits, minlength=n_queries)
    return np.where(n_relevant > 0, sums / np.maximum(n_relevant, 1), 0.0)


def mean_average_precision(
    query: np.ndarray,
    score: np.ndarray,
    tie_rank: np.ndarray,
    relevant: np.ndarray,
    n_relevant: np.ndarray,
    k: int | None = None,
) -> float:
    """Mean over all ``Q`` queries of :func:`average_precision` (MAP@k, or MAP when ``k`` is None).

    .. math:: MAP@k = \\frac{1}{Q} \\sum_{q=1}^{Q} AP@k(q)

    Queries with no relevant document count with AP = 0. Parameters as in
    :func:`average_precision`; raises ValueError when there is no query.
    """
    if len(n_relevant) == 0:
        raise ValueError("mean_average_precision needs at least one query (n_relevant is empty)")
    return float(np.mean(average_precision(query, score, tie_rank, relevant, n_relevant, k)))


def _checked(query, score, tie_rank, relevant, n_relevant, k):
    query = np.asarray(query)
    score = np.asarray(score, dtype=np.float64)
    tie_rank = np.asarray(tie_rank)
    relevant = np.asarray(relevant)
    n_relevant = np.asarray(n_relevant)
    n = query.shape
    for name, array in (("score", score), ("tie_rank", tie_rank), ("relevant", relevant)):
        if array.ndim != 1 or array.shape != n:
            raise ValueError(f"{name} has shape {array.shape}, expected {n} like query")
    if query.ndim != 1:
        raise ValueError(f"query must be 1-D, got shape {query.shape}")
    if n_relevant.ndim != 1:
        raise ValueError(f"n_relevant must be 1-D, got shape {n_relevant.shape}")
    for name, array in (("query", query), ("tie_rank", tie_rank), ("n_relevant", n_relevant)):
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    if relevant.size and relevant.dtype != np.bool_:
        raise ValueError(f"relevant must hold booleans, got dtype {relevant.dtype}")
    query = query.astype(np.int64)
    tie_rank = tie_rank.astype(np.int64)
    relevant = relevant.astype(bool)
    n_relevant = n_relevant.astype(np.int64)
    n_queries = n_relevant.size
    if query.size and (query.min() < 0 or query.max() >= n_queries):
        bad = query[(query < 0) | (query >= n_queries)][0]
        raise ValueError(f"query code {bad} is outside 0..{n_queries - 1} (len(n_relevant) = {n_queries})")
    if not np.all(np.isfinite(score)):
        raise ValueError(f"score {score[~np.isfinite(score)][0]} is not finite")
    if n_relevant.size and n_relevant.min() < 0:
        raise ValueError(f"n_relevant {n_relevant.min()} is negative")
    given = np.bincount(query[relevant], minlength=n_queries)
    short = np.flatnonzero(given > n_relevant)
    if short.size:
        q = short[0]
        raise ValueError(f"query {q} has {given[q]} relevant items but n_relevant[{q}] = {n_relevant[q]}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ValueError(f"cutoff k must be a positive integer or None, got {k!r}")
    return query, score, tie_rank, relevant, n_relevant
