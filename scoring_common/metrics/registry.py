"""Every metric the kit's scoring programs compute, with the properties tests rely on.

A registered metric is a function of one of five input signatures (:class:`Inputs`)
returning one float, with its range, its direction and the transformations of its
inputs that leave it unchanged (:class:`Invariance`). ``tests/test_metric_registry.py``
applies one set of tests to every entry of :data:`REGISTRY`: the range, the value of
a perfect and of an empty prediction, each declared invariance on random cases (ties
and empty groups included), and that no undeclared one holds.

Keys are the ``scores.json`` keys the scorers use for the metric (``map_at_10``,
``f1_at_20``, ``spearman``, ...), including the cutoffs of the detailed results.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from scoring_common.metrics.classification import accuracy, macro_f1
from scoring_common.metrics.diversity import DIVERSITY_CUTOFFS, diversity_at, mean_diversity
from scoring_common.metrics.multilabel import set_f1
from scoring_common.metrics.ranking import mean_average_precision
from scoring_common.metrics.regression import pearson, rmse, spearman


class Inputs(enum.Enum):
    """The argument lists of registered metrics, one per kind of prediction.

    - ``RANKED_SCORES``: ``(query, score, tie_rank, relevant, n_relevant)`` as
      :func:`~scoring_common.metrics.ranking.average_precision`: a score per item, ranked per query.
    - ``RANKED_LISTS``: ``(query, position, relevant, cluster, n_clusters)`` as
      :func:`~scoring_common.metrics.diversity.diversity_at`: a ranked list per query.
    - ``LABEL_SETS``: ``(gt_image, gt_concept, pred_image, pred_concept, n_images)`` as
      :func:`~scoring_common.metrics.multilabel.set_f1`: a set of labels per item.
    - ``CLASSES``: ``(y_true, y_pred, n_classes)``: one class code in ``[0, n_classes)`` per item.
    - ``VALUES``: ``(y_true, y_pred)``: one real value per item.
    """

    RANKED_SCORES = "ranked scores"
    RANKED_LISTS = "ranked lists"
    LABEL_SETS = "label sets"
    CLASSES = "classes"
    VALUES = "values"


class Invariance(enum.Enum):
    """A transformation of a metric's inputs that leaves its value unchanged.

    ``REVERSAL_NEGATES`` is the one exception: the value changes sign.
    """

    ITEM_ORDER = "permuting the items (rows, pairs) in the arrays"
    GROUP_CODES = "renumbering the queries or images, their per-group arrays with them"
    CLASS_CODES = "renaming the classes by one permutation of the codes, on both sides"
    MONOTONE_SCORES = "a strictly increasing map of the predicted scores (ties kept)"
    POSITIVE_AFFINE = "a * y_pred + b with a > 0"
    COMMON_SHIFT = "adding one constant to y_true and y_pred"
    SYMMETRIC = "swapping the ground truth and the prediction"
    REVERSAL_NEGATES = "negating y_pred negates the value"
    REPEATED_PAIRS = "a (item, label) pair given twice"
    BEYOND_CUTOFF = "removing the items ranked below the cutoff"


@dataclass(frozen=True)
class RegisteredMetric:
    """One metric of the scorers and its properties.

    Attributes
    ----------
    key : str
        The ``scores.json`` key the scorers give it.
    title : str
        Its usual name.
    inputs : Inputs
        Its argument list.
    function : callable
        ``function(*arrays) -> float`` with the arguments of ``inputs``.
    lower, upper : float
        Bounds of the value (``math.inf`` when unbounded).
    higher_is_better : bool
        Its direction (``sorting: desc`` on a leaderboard).
    invariances : frozenset of Invariance
        Every transformation of :class:`Invariance` under which the value stays equal
        (up to float rounding): the common tests check both that these hold and that
        the others do not.
    cutoff : int or None
        Only the top ``cutoff`` items of each query count (ranked inputs), or None.
    undefined : float or None
        The value returned where the metric is mathematically undefined (NaN when no
        item has a non-empty ground truth; 0.0 for a correlation with a constant
        vector), or None when it is defined on every valid input.
    empty : float or None
        The value of a prediction with no item at all, or None when that is refused
        with ValueError.
    reference : str
        The independent implementation it equals (a test compares them).
    """

    key: str
    title: str
    inputs: Inputs
    function: Callable[..., float]
    lower: float
    upper: float
    higher_is_better: bool
    invariances: frozenset[Invariance]
    cutoff: int | None
    undefined: float | None
    empty: float | None
    reference: str

    @property
    def best(self) -> float:
        """The value of a perfect prediction."""
        return self.upper if self.higher_is_better else self.lower

    @property
    def worst(self) -> float:
        """The value of the worst prediction (``lower`` or ``upper`` by direction)."""
        return self.lower if self.higher_is_better else self.upper

    def __call__(self, *arrays: np.ndarray | int) -> float:
        """The metric of ``arrays`` (the arguments of :attr:`inputs`) as a Python float."""
        return float(self.function(*arrays))


def _diversity_mean(query: np.ndarray, position: np.ndarray, relevant: np.ndarray, cluster: np.ndarray,
                    n_clusters: np.ndarray, cutoff: int, measure: int) -> float:
    """Mean over queries of P@X (``measure`` 0), CR@X (1) or F1@X (2), X = ``cutoff``."""
    per_query = diversity_at(query, position, relevant, cluster, n_clusters, cutoffs=(cutoff,))
    return mean_diversity(per_query)[cutoff][measure]


def _set_mean(gt_image: np.ndarray, gt_concept: np.ndarray, pred_image: np.ndarray, pred_concept: np.ndarray,
              n_images: int, measure: str) -> float:
    """Mean over the items with a non-empty ground truth of the per-item ``measure`` of
    :func:`~scoring_common.metrics.multilabel.set_f1` (``f1``, ``precision`` or ``recall``)."""
    scores = set_f1(gt_image, gt_concept, pred_image, pred_concept, n_images)
    return scores.mean(getattr(scores, measure))


def _macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Macro F1 over the classes ``0 .. n_classes - 1``, each counted even when absent."""
    return macro_f1(y_true, y_pred, labels=np.arange(n_classes))


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """:func:`~scoring_common.metrics.classification.accuracy` (``n_classes`` unused)."""
    return accuracy(y_true, y_pred)


_ORDER_AND_GROUPS = frozenset({Invariance.ITEM_ORDER, Invariance.GROUP_CODES})
#: Cutoffs of the MAP@k scores and detailed results of the ranking scorers.
MAP_CUTOFFS: tuple[int, ...] = (5, 10, 20, 50)
_DIVERSITY_MEASURES = (("p", "P", 0), ("cr", "CR", 1), ("f1", "F1", 2))


def _entries() -> list[RegisteredMetric]:
    entries = [
        RegisteredMetric(
            f"map_at_{k}", f"MAP@{k}", Inputs.RANKED_SCORES, partial(mean_average_precision, k=k), 0.0, 1.0, True,
            _ORDER_AND_GROUPS | {Invariance.MONOTONE_SCORES, Invariance.BEYOND_CUTOFF}, k, None, 0.0,
            f"trec_eval map_cut_{k} (pytrec_eval)")
        for k in MAP_CUTOFFS
    ]
    entries.append(RegisteredMetric(
        "map", "MAP", Inputs.RANKED_SCORES, partial(mean_average_precision, k=None), 0.0, 1.0, True,
        _ORDER_AND_GROUPS | {Invariance.MONOTONE_SCORES}, None, None, 0.0, "trec_eval map (pytrec_eval)"))
    entries += [
        RegisteredMetric(
            f"{prefix}_at_{x}", f"{name}@{x}", Inputs.RANKED_LISTS, partial(_diversity_mean, cutoff=x, measure=index),
            0.0, 1.0, True, _ORDER_AND_GROUPS | {Invariance.BEYOND_CUTOFF}, x, None, 0.0,
            "the MediaEval diversity tool's definition, computed query by query in a plain loop")
        for x in DIVERSITY_CUTOFFS for prefix, name, index in _DIVERSITY_MEASURES
    ]
    entries += [
        RegisteredMetric(
            measure, f"{title} per item, averaged", Inputs.LABEL_SETS, partial(_set_mean, measure=measure),
            0.0, 1.0, True, _ORDER_AND_GROUPS | {Invariance.REPEATED_PAIRS}, None, math.nan, 0.0,
            f"scikit-learn's {measure}_score per item over the union of both sets (ImageCLEFmedical evaluator)")
        for measure, title in (("f1", "F1"), ("precision", "precision"), ("recall", "recall"))
    ]
    symmetric_classes = frozenset({Invariance.ITEM_ORDER, Invariance.CLASS_CODES, Invariance.SYMMETRIC})
    entries += [
        RegisteredMetric("macro_f1", "macro F1", Inputs.CLASSES, _macro_f1, 0.0, 1.0, True, symmetric_classes,
                         None, None, None, 'scikit-learn f1_score(average="macro", zero_division=0)'),
        RegisteredMetric("accuracy", "accuracy", Inputs.CLASSES, _accuracy, 0.0, 1.0, True, symmetric_classes,
                         None, None, None, "scikit-learn accuracy_score"),
    ]
    correlation = frozenset({Invariance.ITEM_ORDER, Invariance.SYMMETRIC, Invariance.POSITIVE_AFFINE,
                             Invariance.COMMON_SHIFT, Invariance.REVERSAL_NEGATES})
    entries += [
        RegisteredMetric("spearman", "Spearman's rank correlation", Inputs.VALUES, spearman, -1.0, 1.0, True,
                         correlation | {Invariance.MONOTONE_SCORES}, None, 0.0, 0.0, "scipy.stats.spearmanr"),
        RegisteredMetric("pearson", "Pearson's correlation", Inputs.VALUES, pearson, -1.0, 1.0, True,
                         correlation, None, 0.0, 0.0, "scipy.stats.pearsonr"),
        RegisteredMetric("rmse", "root mean squared error", Inputs.VALUES, rmse, 0.0, math.inf, False,
                         frozenset({Invariance.ITEM_ORDER, Invariance.SYMMETRIC, Invariance.COMMON_SHIFT}),
                         None, None, None, "scikit-learn root_mean_squared_error"),
    ]
    return entries


#: Every registered metric by its key.
REGISTRY: dict[str, RegisteredMetric] = {entry.key: entry for entry in _entries()}


def get_metric(key: str) -> RegisteredMetric:
    """The registered metric of ``key``.

    Raises
    ------
    KeyError
        With the registered keys, when ``key`` is not one.
    """
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"no registered metric {key!r}; registered: {', '.join(sorted(REGISTRY))}") from None
