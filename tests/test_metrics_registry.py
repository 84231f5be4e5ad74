"""Common tests of every registered metric (scoring_common/metrics/registry.py).

One set of tests over ``REGISTRY``, on random cases of each input kind (tied scores,
queries without items or relevant ones, empty label sets, constant vectors): the value
is a float in the declared range, inputs are left unchanged, a perfect prediction
scores the best value and an empty one the declared value, every declared invariance
holds, and every undeclared one that applies to the kind fails on some case. Each
metric's comparison with an independent implementation lives in its
``test_metrics_<kind>.py`` (pytrec_eval, scikit-learn, scipy, a plain loop); a test
here checks that it is there. Last, every metric a kit task or a scaffold kind puts on
its leaderboard, and every cutoff of the ranking scorers' detailed results, is registered;
the leaderboard sorts it in the registered direction.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from scoring_common.metrics.registry import MAP_CUTOFFS, REGISTRY, Inputs, Invariance, RegisteredMetric, get_metric

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
#: Random cases per (metric, property).
N_CASES = 150
#: The arguments of one call of a metric, in the order of its ``Inputs``.
Case = tuple


# --------------------------------------------------------------------------------------
# Random cases of each input kind
# --------------------------------------------------------------------------------------

def _random_scores(rng: np.random.Generator, n: int) -> np.ndarray:
    """Scores exact in float32: few distinct values (ties) or many."""
    distinct = int(rng.choice([1, 2, 3, 1000]))
    return rng.integers(0, distinct, size=n).astype(np.float64) / 4.0


def ranked_scores_case(rng: np.random.Generator) -> Case:
    """Queries with 0 to 69 items, some without relevant item, some relevant items unranked."""
    n_queries = int(rng.integers(1, 6))
    sizes = np.where(rng.random(n_queries) < 0.3, rng.integers(15, 70, size=n_queries),
                     rng.integers(0, 15, size=n_queries)) * (rng.random(n_queries) < 0.85)
    query = np.repeat(np.arange(n_queries), sizes)
    rng.shuffle(query)
    relevant = rng.random(query.size) < rng.choice([0.0, 0.3, 0.7])
    unranked = rng.integers(0, 3, size=n_queries) * (rng.random(n_queries) < 0.3)
    n_relevant = np.bincount(query[relevant], minlength=n_queries) + unranked
    tie_rank = rng.permutation(query.size)  # document ids: distinct
    return query, _random_scores(rng, query.size), tie_rank, relevant, n_relevant


def ranked_lists_case(rng: np.random.Generator) -> Case:
    """Queries with 0 to 60 ranked photos in a few clusters, some clusters not found."""
    n_queries = int(rng.integers(1, 5))
    rows = []
    n_clusters = np.zeros(n_queries, dtype=np.int64)
    for q in range(n_queries):
        size = int(rng.choice([0, rng.integers(1, 8), rng.integers(8, 81)]))
        relevant = rng.random(size) < rng.choice([0.0, 0.3, 0.8])
        cluster = np.where(relevant, rng.integers(0, int(rng.integers(1, 6)), size=size), -1)
        n_clusters[q] = np.unique(cluster[relevant]).size + int(rng.integers(0, 2))
        rows += [(q, position, r, c) for position, r, c in zip(rng.permutation(size), relevant, cluster)]
    order = rng.permutation(len(rows))
    columns = [np.array([rows[i][j] for i in order], dtype=np.int64).reshape(-1) for j in range(4)]
    return columns[0], columns[1], columns[2].astype(bool), columns[3], n_clusters


def label_sets_case(rng: np.random.Generator) -> Case:
    """Items with label sets over a small vocabulary; empty truths and predictions included."""
    n_images = int(rng.integers(1, 8))
    vocabulary = int(rng.choice([2, 5, 30]))

    def pairs(rate: float) -> tuple[np.ndarray, np.ndarray]:
        keep = rng.random((n_images, vocabulary)) < rate
        image, concept = np.nonzero(keep)
        order = rng.permutation(image.size)
        return image[order], concept[order]

    return (*pairs(rng.choice([0.0, 0.2, 0.6])), *pairs(rng.choice([0.0, 0.2, 0.6])), n_images)


def classes_case(rng: np.random.Generator) -> Case:
    n_classes = int(rng.integers(1, 7))
    n = int(rng.integers(1, 40))
    y_true = rng.integers(0, n_classes, size=n)
    noisy = rng.random(n) < rng.random()
    return y_true, np.where(noisy, rng.integers(0, n_classes, size=n), y_true), n_classes


def values_case(rng: np.random.Generator) -> Case:
    """Related or independent values: continuous, tied (multiples of 1/8), or constant."""
    n = int(rng.choice([1, 2, 3, rng.integers(4, 40)]))

    def vector() -> np.ndarray:
        form = rng.choice(["normal", "ties", "constant"], p=[0.5, 0.4, 0.1])
        if form == "normal":
            return rng.normal(size=n) * 10.0 ** float(rng.integers(-3, 4))
        if form == "ties":
            return rng.integers(-16, 17, size=n) / 8.0
        return np.full(n, float(rng.integers(-4, 5)))

    y_true = vector()
    return y_true, (y_true + rng.normal(size=n) if rng.random() < 0.5 else vector())


RANDOM_CASE: dict[Inputs, Callable[[np.random.Generator], Case]] = {
    Inputs.RANKED_SCORES: ranked_scores_case,
    Inputs.RANKED_LISTS: ranked_lists_case,
    Inputs.LABEL_SETS: label_sets_case,
    Inputs.CLASSES: classes_case,
    Inputs.VALUES: values_case,
}


def perfect_case(metric: RegisteredMetric, rng: np.random.Generator) -> Case:
    """A case whose prediction is perfect for ``metric`` (every query can reach the best value)."""
    if metric.inputs is Inputs.RANKED_SCORES:
        sizes = rng.integers(1, 30, size=int(rng.integers(1, 6)))
        query = rng.permutation(np.repeat(np.arange(sizes.size), sizes))
        relevant = np.zeros(query.size, dtype=bool)
        for q, size in enumerate(sizes):  # 1 to cutoff relevant items, all ranked, scored above the others
            n_relevant = int(rng.integers(1, min(metric.cutoff or size, size) + 1))
            relevant[rng.choice(np.flatnonzero(query == q), size=n_relevant, replace=False)] = True
        tie_rank = rng.permutation(query.size)
        return query, relevant.astype(np.float64), tie_rank, relevant, np.bincount(query[relevant])
    if metric.inputs is Inputs.RANKED_LISTS:
        cutoff = metric.cutoff
        query, position, relevant, cluster = [], [], [], []
        n_queries = int(rng.integers(1, 4))
        n_clusters = rng.integers(1, min(cutoff, 4) + 1, size=n_queries)
        for q in range(n_queries):  # the top X: relevant, every cluster among them; then anything
            size = cutoff + int(rng.integers(0, 5))
            labels = np.concatenate([np.arange(n_clusters[q]), rng.integers(0, n_clusters[q], size=size)])[:size]
            top = np.arange(size) < cutoff
            query += [q] * size
            position += list(range(size))
            relevant += list(top | (rng.random(size) < 0.5))
            cluster += list(labels)
        return np.array(query), np.array(position), np.array(relevant), np.array(cluster), n_clusters
    if metric.inputs is Inputs.LABEL_SETS:
        gt_image, gt_concept, _, _, n_images = label_sets_case(rng)
        gt_image, gt_concept = np.append(gt_image, 0), np.append(gt_concept, 99)  # one scored item at least
        return gt_image, gt_concept, gt_image[::-1], gt_concept[::-1], n_images
    if metric.inputs is Inputs.CLASSES:
        y_true, _, n_classes = classes_case(rng)
        y_true = np.concatenate([y_true, np.arange(n_classes)])  # an absent class would count with F1 = 0
        return y_true, y_true.copy(), n_classes
    y_true = np.append(values_case(rng)[0], [1e3, -1e3])  # never constant
    return y_true, y_true.copy()


def empty_case(metric: RegisteredMetric, rng: np.random.Generator) -> Case:
    """A prediction without any item (the ground truth kept where the inputs have one apart)."""
    none = np.zeros(0, dtype=np.int64)
    if metric.inputs is Inputs.RANKED_SCORES:
        return none, np.zeros(0), none, np.zeros(0, dtype=bool), rng.integers(0, 4, size=int(rng.integers(1, 5)))
    if metric.inputs is Inputs.RANKED_LISTS:
        return none, none, np.zeros(0, dtype=bool), none, rng.integers(0, 4, size=int(rng.integers(1, 5)))
    if metric.inputs is Inputs.LABEL_SETS:
        gt_image, gt_concept, _, _, n_images = perfect_case(metric, rng)
        return gt_image, gt_concept, none, none, n_images
    if metric.inputs is Inputs.CLASSES:
        return none, none, int(rng.integers(1, 5))
    return np.zeros(0), np.zeros(0)


# --------------------------------------------------------------------------------------
# Transformations: (metric, case, rng) -> (transformed case, expected value from the original)
# --------------------------------------------------------------------------------------

def _same(value: float) -> float:
    return value


def _take(case: Case, rows: np.ndarray, columns: int) -> Case:
    """The first ``columns`` arrays of ``case`` restricted or reordered to ``rows``; the rest as is."""
    return (*(np.asarray(array)[rows] for array in case[:columns]), *case[columns:])


def _item_order(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    if metric.inputs is Inputs.LABEL_SETS:
        truth = rng.permutation(case[0].size)
        prediction = rng.permutation(case[2].size)
        return case[0][truth], case[1][truth], case[2][prediction], case[3][prediction], case[4]
    columns = {Inputs.RANKED_SCORES: 4, Inputs.RANKED_LISTS: 4, Inputs.CLASSES: 2, Inputs.VALUES: 2}[metric.inputs]
    return _take(case, rng.permutation(len(case[0])), columns)


def _group_codes(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    if metric.inputs is Inputs.LABEL_SETS:
        new_code = rng.permutation(case[4])
        return new_code[case[0]], case[1], new_code[case[2]], case[3], case[4]
    query, *middle, per_query = case
    new_code = rng.permutation(per_query.size)
    reordered = np.empty_like(per_query)
    reordered[new_code] = per_query
    return (new_code[query], *middle, reordered)


def _class_codes(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    y_true, y_pred, n_classes = case
    new_code = rng.permutation(n_classes)
    return new_code[y_true], new_code[y_pred], n_classes


def _increasing_map(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``values`` through a random strictly increasing map (equal values stay equal; exact in float32)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    new_values = np.cumsum(rng.integers(1, 50, size=distinct.size)) / 8.0 - float(rng.integers(0, 100))
    return new_values[inverse.reshape(-1)]


def _monotone_scores(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    if metric.inputs is Inputs.RANKED_SCORES:
        query, score, *rest = case
        return (query, _increasing_map(score, rng), *rest)
    y_true, y_pred = case
    return y_true, _increasing_map(y_pred, rng)


def _positive_affine(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    y_true, y_pred = case
    return y_true, y_pred * float(rng.uniform(0.1, 10.0)) + float(rng.normal() * 100)


def _common_shift(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    shift = float(rng.integers(-100, 101))
    return case[0] + shift, case[1] + shift


def _symmetric(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    if metric.inputs is Inputs.LABEL_SETS:
        return case[2], case[3], case[0], case[1], case[4]
    return (case[1], case[0], *case[2:])


def _reversal(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    return case[0], -case[1]


def _repeated_pairs(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    def doubled(image: np.ndarray, concept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        again = rng.integers(0, image.size, size=int(rng.integers(1, 4))) if image.size else np.zeros(0, dtype=int)
        return np.concatenate([image, image[again]]), np.concatenate([concept, concept[again]])

    return (*doubled(case[0], case[1]), *doubled(case[2], case[3]), case[4])


def _beyond_cutoff(metric: RegisteredMetric, case: Case, rng: np.random.Generator) -> Case:
    if metric.inputs is Inputs.RANKED_LISTS:
        return _take(case, case[1] < metric.cutoff, 4)
    query, score, tie_rank = case[:3]
    # trec_eval's order: per query, score in float32 descending, then tie_rank descending
    order = np.lexsort((-tie_rank, -score.astype(np.float32), query))
    rank = np.empty(query.size, dtype=np.int64)
    first = np.searchsorted(query[order], query[order])
    rank[order] = np.arange(query.size) - first
    return _take(case, rank < metric.cutoff, 4)


TRANSFORMS: dict[Invariance, tuple[frozenset[Inputs], Callable[..., Case], Callable[[float], float]]] = {
    Invariance.ITEM_ORDER: (frozenset(Inputs), _item_order, _same),
    Invariance.GROUP_CODES: (frozenset({Inputs.RANKED_SCORES, Inputs.RANKED_LISTS, Inputs.LABEL_SETS}),
                             _group_codes, _same),
    Invariance.CLASS_CODES: (frozenset({Inputs.CLASSES}), _class_codes, _same),
    Invariance.MONOTONE_SCORES: (frozenset({Inputs.RANKED_SCORES, Inputs.VALUES}), _monotone_scores, _same),
    Invariance.POSITIVE_AFFINE: (frozenset({Inputs.VALUES}), _positive_affine, _same),
    Invariance.COMMON_SHIFT: (frozenset({Inputs.VALUES}), _common_shift, _same),
    Invariance.SYMMETRIC: (frozenset({Inputs.LABEL_SETS, Inputs.CLASSES, Inputs.VALUES}), _symmetric, _same),
    Invariance.REVERSAL_NEGATES: (frozenset({Inputs.VALUES}), _reversal, lambda value: -value),
    Invariance.REPEATED_PAIRS: (frozenset({Inputs.LABEL_SETS}), _repeated_pairs, _same),
    Invariance.BEYOND_CUTOFF: (frozenset({Inputs.RANKED_SCORES, Inputs.RANKED_LISTS}), _beyond_cutoff, _same),
}


def applies(invariance: Invariance, metric: RegisteredMetric) -> bool:
    """Whether ``invariance`` can be tested on ``metric``'s inputs."""
    kinds = TRANSFORMS[invariance][0]
    return metric.inputs in kinds and (invariance is not Invariance.BEYOND_CUTOFF or metric.cutoff is not None)


def equal(a: float, b: float) -> bool:
    """Equal up to float rounding; NaN equals NaN (an undefined value stays undefined)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


METRICS = sorted(REGISTRY)
DECLARED = [(key, invariance) for key in METRICS for invariance in sorted(REGISTRY[key].invariances, key=str)]
UNDECLARED = [(key, invariance) for key in METRICS for invariance in Invariance
              if invariance not in REGISTRY[key].invariances and applies(invariance, REGISTRY[key])]


def _seed(*parts: str) -> np.random.Generator:
    """A generator of its own for each test, the same on every run."""
    return np.random.default_rng(zlib.crc32("/".join(parts).encode("utf-8")))


# --------------------------------------------------------------------------------------
# The registry itself
# --------------------------------------------------------------------------------------

def test_entries_are_consistent() -> None:
    for key, metric in REGISTRY.items():
        assert metric.key == key and metric.title and metric.reference
        assert metric.lower < metric.upper
        undefined = metric.undefined
        assert undefined is None or math.isnan(undefined) or metric.lower <= undefined <= metric.upper
        assert metric.empty is None or metric.lower <= metric.empty <= metric.upper
        assert metric.cutoff is None or metric.inputs in (Inputs.RANKED_SCORES, Inputs.RANKED_LISTS)
        for invariance in metric.invariances:
            assert applies(invariance, metric), f"{key}: no test of {invariance.name} on {metric.inputs.value}"
    assert get_metric("map_at_10") is REGISTRY["map_at_10"]
    with pytest.raises(KeyError, match="no registered metric 'nope'; registered: accuracy, cr_at_10"):
        get_metric("nope")


def test_registry_imports_numpy_only() -> None:
    """The registry runs in the scoring container: nothing but the standard library and numpy."""
    code = ("import sys; before = set(sys.modules); import scoring_common.metrics.registry; "
            "print(*sorted({m.split('.')[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=TESTS.parent)
    assert result.stdout.split() == ["numpy", "scoring_common"]


#: Where each kind's metrics are compared with an independent implementation.
CROSS_CHECKS = {
    Inputs.RANKED_SCORES: ("test_metrics_ranking.py", "test_matches_pytrec_eval_on_random_cases"),
    Inputs.RANKED_LISTS: ("test_metrics_diversity.py", "test_matches_the_oracle_on_random_cases"),
    Inputs.LABEL_SETS: ("test_metrics_multilabel.py", "test_matches_sklearn_on_random_cases"),
    Inputs.CLASSES: ("test_metrics_classification.py", "test_matches_sklearn_on_random_cases"),
    Inputs.VALUES: ("test_metrics_regression.py", "test_matches_scipy_and_sklearn_on_random_cases"),
}


@pytest.mark.parametrize("kind", list(Inputs), ids=lambda kind: kind.name)
def test_every_kind_is_cross_checked_with_an_independent_implementation(kind: Inputs) -> None:
    file, test = CROSS_CHECKS[kind]
    assert f"\ndef {test}(" in (TESTS / file).read_text(encoding="utf-8")


def _leaderboard_metrics() -> list[tuple[str, str, str]]:
    """(where, key, sorting) of every task metric on the kit tasks' and the scaffold kinds' leaderboards."""
    from bundlekit import BUNDLES_DIR
    from bundlekit.build import load_task
    from bundlekit.declaration import KIT_KEYS
    from bundlekit.scaffold import available_kinds, load_template

    found = []
    for source in sorted(p for p in BUNDLES_DIR.iterdir() if (p / "task.py").is_file()):
        found += [(source.name, m.key, m.sorting) for m in load_task(source, source.name)[1].metrics]
    for kind in available_kinds():  # a scaffold's TASK.metrics (template.yaml), sorting "desc" unless said
        found += [(f"kind {kind}", m["key"], m.get("sorting", "desc")) for m in load_template(kind).metrics
                  if m["key"] not in KIT_KEYS]
    return found


def _assigned(path: Path, name: str) -> object:
    """The literal value a module assigns to ``name`` (read without importing it)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} assigns no {name}")


@pytest.mark.parametrize("score_py", [REPO / "bundles" / "fusion-int" / "scoring_program" / "score.py",
                                      REPO / "bundlekit" / "templates" / "ranking" / "scoring_program" / "score.py"],
                         ids=["fusion-int", "kind-ranking"])
def test_the_ranking_scorers_detailed_cutoffs_are_registered(score_py: Path) -> None:
    cutoffs = _assigned(score_py, "CUTOFFS")
    assert None in cutoffs and {k for k in cutoffs if k is not None} <= set(MAP_CUTOFFS)


#: Leaderboard keys of a registered metric computed on other inputs.
SAME_METRIC_AS = {"f1_secondary": "f1"}  # fusion-cap: the F1 of the pairs of the curated concepts
#: The custom kind's placeholder metric: the organiser's own, not the kit's.
NOT_REGISTERED = {("kind custom", "score"), ("kind custom", "mae")}


def test_every_leaderboard_metric_is_registered_with_its_direction() -> None:
    found = _leaderboard_metrics()
    assert {where for where, _, _ in found} >= {"fusion-int", "fusion-div", "fusion-cap", "fusion-mem", "kind ranking"}
    for where, key, sorting in found:
        if (where, key) in NOT_REGISTERED:
            continue
        metric = get_metric(SAME_METRIC_AS.get(key, key))
        assert sorting == ("desc" if metric.higher_is_better else "asc"), (where, key)
    assert NOT_REGISTERED <= {(where, key) for where, key, _ in found}


# --------------------------------------------------------------------------------------
# Common tests of every metric
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", METRICS)
def test_value_is_a_float_in_range_and_inputs_stay_unchanged(key: str) -> None:
    metric = REGISTRY[key]
    rng = _seed("range", key)
    n_undefined = 0
    for _ in range(N_CASES):
        case = RANDOM_CASE[metric.inputs](rng)
        copies = [np.copy(array) for array in case]
        value = metric.function(*case)
        assert type(value) is float
        assert all(np.array_equal(a, b) for a, b in zip(case, copies))
        assert metric.function(*case) == value or math.isnan(value)  # deterministic
        if metric.undefined is not None and equal(value, metric.undefined):
            n_undefined += math.isnan(value)
            continue
        assert metric.lower <= value <= metric.upper, (key, case, value)
    if metric.undefined is not None and math.isnan(metric.undefined):
        assert n_undefined > 0  # the cases do reach it


@pytest.mark.parametrize("key", METRICS)
def test_perfect_prediction_scores_the_best_value(key: str) -> None:
    metric = REGISTRY[key]
    rng = _seed("perfect", key)
    for _ in range(N_CASES):
        case = perfect_case(metric, rng)
        assert equal(metric(*case), metric.best), (key, case)


@pytest.mark.parametrize("key", METRICS)
def test_prediction_without_items_scores_the_declared_value(key: str) -> None:
    metric = REGISTRY[key]
    rng = _seed("empty", key)
    for _ in range(20):
        case = empty_case(metric, rng)
        if metric.empty is None:
            with pytest.raises(ValueError):
                metric(*case)
        else:
            assert metric(*case) == metric.empty


@pytest.mark.parametrize(("key", "invariance"), DECLARED, ids=[f"{k}-{i.name}" for k, i in DECLARED])
def test_declared_invariance_holds(key: str, invariance: Invariance) -> None:
    metric = REGISTRY[key]
    _, transform, expected = TRANSFORMS[invariance]
    rng = _seed("holds", key, invariance.name)
    n_changed = 0
    for _ in range(N_CASES):
        case = RANDOM_CASE[metric.inputs](rng)
        transformed = transform(metric, case, rng)
        n_changed += any(np.asarray(a).shape != np.asarray(b).shape or not np.array_equal(a, b)
                         for a, b in zip(case, transformed))
        assert equal(metric(*transformed), expected(metric(*case))), (key, invariance.name, case, transformed)
    assert n_changed > N_CASES / 10  # the transformation did change the inputs


@pytest.mark.parametrize(("key", "invariance"), UNDECLARED, ids=[f"{k}-{i.name}" for k, i in UNDECLARED])
def test_undeclared_invariance_fails_on_some_case(key: str, invariance: Invariance) -> None:
    metric = REGISTRY[key]
    _, transform, expected = TRANSFORMS[invariance]
    rng = _seed("fails", key, invariance.name)
    for _ in range(N_CASES):
        case = RANDOM_CASE[metric.inputs](rng)
        if not equal(metric(*transform(metric, case, rng)), expected(metric(*case))):
            return
    pytest.fail(f"{key} looks invariant to {invariance.value}: declare it in the registry")
