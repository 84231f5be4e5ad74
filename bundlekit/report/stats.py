"""Paired statistics over per-item scores: bootstrap intervals, randomisation and Wilcoxon tests, Holm.

Every random draw comes from ``numpy.random.default_rng(seed)``, so the same inputs and
seed give the same numbers. scipy is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

#: Defaults stated in every report.
DEFAULT_RESAMPLES = 2000
DEFAULT_PERMUTATIONS = 10000
DEFAULT_SEED = 2023
DEFAULT_ALPHA = 0.05
#: Largest item count whose 2**n sign vectors are enumerated when that is no more than the permutations asked.
EXACT_MAX_ITEMS = 20
#: Relative tolerance under which a permuted statistic counts as equal to the observed one.
TIE_TOLERANCE = 1e-9
#: Rows of sign vectors drawn at once (bounds the memory of the randomisation test).
CHUNK_ROWS = 2000


@dataclass(frozen=True)
class TestResult:
    """A paired two-sided test of ``mean(a - b) = 0``.

    Attributes
    ----------
    statistic : float
        The observed mean difference (randomisation) or the signed-rank statistic (Wilcoxon).
    p_value : float
        Two-sided p-value, before any multiple-testing correction.
    n_items : int
        Items with a difference (both scores present).
    method : str
        How ``p_value`` was obtained (e.g. ``"exact, 1024 sign vectors"``).
    """

    statistic: float
    p_value: float
    n_items: int
    method: str


def bootstrap_indices(n_items: int, n_resamples: int, seed: int) -> np.ndarray:
    """Resamples of ``n_items`` item positions drawn with replacement, shape ``(n_resamples, n_items)``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_items, size=(n_resamples, n_items))


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``replicates``, ignoring NaN replicates.

    .. math:: [\\,q_{(1-level)/2},\\ q_{(1+level)/2}\\,]

    with :math:`q_p` numpy's linear-interpolation percentile of the finite replicates.
    Returns ``(nan, nan)`` when no replicate is finite.
    """
    finite = np.asarray(replicates, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def mean_replicates(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Mean over the present (non-NaN) items of each resample.

    .. math:: \\bar v^{(b)} = \\frac{\\sum_{j} v_{i_{bj}} [v_{i_{bj}} \\ne \\mathrm{NaN}]}{\\#\\{j : v_{i_{bj}} \\ne \\mathrm{NaN}\\}}

    A resample with no present item gives NaN.
    """
    resampled = np.asarray(values, dtype=np.float64)[indices]
    present = ~np.isnan(resampled)
    counts = present.sum(axis=1)
    totals = np.where(present, resampled, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


def statistic_replicates(statistic: Callable[[np.ndarray], float], indices: np.ndarray) -> np.ndarray:
    """``statistic(resample)`` for every row of ``indices`` (for metrics that are not means)."""
    return np.array([statistic(row) for row in indices], dtype=np.float64)


def gain_replicates(run: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Gain in percent of each resample: ``100 (run - baseline) / baseline``; NaN where baseline <= 0."""
    run = np.asarray(run, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(baseline > 0, 100.0 * (run - baseline) / baseline, np.nan)


def paired_differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a - b`` over the items where both are present (not NaN)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    both = ~(np.isnan(a) | np.isnan(b))
    return a[both] - b[both]


def sign_flip_test(differences: np.ndarray, n_permutations: int = DEFAULT_PERMUTATIONS,
                   seed: int = DEFAULT_SEED) -> TestResult:
    """Paired randomisation test: random sign flips of the per-item differences.

    Under the null hypothesis that the two runs are exchangeable on each item, every
    difference :math:`d_i` is as likely to have either sign. With :math:`T = |\\bar d|`
    and :math:`T^{(r)} = |\\frac{1}{n}\\sum_i s_{ri} d_i|` for sign vectors :math:`s_r`:

    - when :math:`2^n \\le` ``n_permutations`` (and n <= 20) all sign vectors are
      enumerated and :math:`p = \\#\\{r : T^{(r)} \\ge T\\} / 2^n` (exact);
    - otherwise ``n_permutations`` vectors are drawn uniformly (seeded) and
      :math:`p = (1 + \\#\\{r : T^{(r)} \\ge T\\}) / (1 + R)`.

    :math:`T^{(r)} \\ge T` is tested with a relative tolerance of ``TIE_TOLERANCE`` so
    that rounding does not break ties. No item gives p = 1.
    """
    differences = np.asarray(differences, dtype=np.float64)
    n = differences.size
    observed = abs(float(differences.mean())) if n else 0.0
    if n == 0 or not np.any(differences):
        return TestResult(float(differences.mean()) if n else 0.0, 1.0, n, "no non-zero difference")
    threshold = observed * (1.0 - TIE_TOLERANCE)
    if n <= EXACT_MAX_ITEMS and 2**n <= n_permutations:
        signs = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        permuted = np.abs(signs @ differences) / n
        p_value = float(np.count_nonzero(permuted >= threshold)) / 2**n
        return TestResult(float(differences.mean()), p_value, n, f"exact, {2**n} sign vectors")
    rng = np.random.default_rng(seed)
    at_least = 0
    remaining = n_permutations
    while remaining:
        rows = min(remaining, CHUNK_ROWS)
        signs = rng.integers(0, 2, size=(rows, n)) * 2.0 - 1.0
        at_least += int(np.count_nonzero(np.abs(signs @ differences) / n >= threshold))
        remaining -= rows
    p_value = (1.0 + at_least) / (1.0 + n_permutations)
    return TestResult(float(differences.mean()), p_value, n, f"{n_permutations} random sign vectors, seed {seed}")


def wilcoxon_test(differences: np.ndarray) -> TestResult:
    """Wilcoxon signed-rank test of the per-item differences (scipy), two-sided.

    Zero differences are dropped (``zero_method="wilcox"``); scipy chooses the exact
    distribution for small samples without ties and the normal approximation
    otherwise. All differences zero (or none) gives p = 1.
    """
    from scipy import stats  # noqa: PLC0415

    differences = np.asarray(differences, dtype=np.float64)
    nonzero = differences[differences != 0]
    if nonzero.size == 0:
        return TestResult(0.0, 1.0, differences.size, "no non-zero difference")
    result = stats.wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided")
    return TestResult(float(result.statistic), float(result.pvalue), differences.size,
                      f"scipy.stats.wilcoxon, {nonzero.size} non-zero differences")


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values.

    With the :math:`m` finite p-values sorted, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`:

    .. math:: \\tilde p_{(j)} = \\min\\Big(1, \\max_{k \\le j} (m - k + 1)\\, p_{(k)}\\Big)

    NaN entries are left out of the family and stay NaN. Order of the input kept.
    """
    values = [float(p) for p in p_values]
    finite = sorted((p, i) for i, p in enumerate(values) if not math.isnan(p))
    adjusted = [math.nan] * len(values)
    running = 0.0
    m = len(finite)
    for k, (p, i) in enumerate(finite):
        running = max(running, min(1.0, (m - k) * p))
        adjusted[i] = running
    return adjusted


def rank_groups(adjacent_significant: Sequence[bool]) -> list[int]:
    """Group numbers (from 1) of runs in ranking order.

    ``adjacent_significant[i]`` tells whether run ``i + 1`` differs significantly from
    run ``i``; a new group starts exactly there, so runs not significantly different
    from their predecessor share its group.
    """
    groups = [1]
    for significant in adjacent_significant:
        groups.append(groups[-1] + 1 if significant else groups[-1])
    return groups


def mean_standard_error(values: np.ndarray) -> float:
    """Standard error of a mean over items: :math:`s / \\sqrt{n}` with the sample deviation (ddof 1).

    NaN items are left out; fewer than two items give NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return math.nan
    return float(values.std(ddof=1) / math.sqrt(values.size))
