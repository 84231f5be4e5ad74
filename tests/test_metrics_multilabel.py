"""Per-image set F1 / precision / recall (fusion-cap): golden values and a scikit-learn oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scoring_common.formats.concepts import normalise_concept
from scoring_common.metrics.multilabel import f1_histogram, keep_concepts, mean_f1, set_f1
from scoring_common.metrics.registry import REGISTRY

N_RANDOM_CASES = 520


def encode(truth: list[list[str]], predicted: list[list[str]], curated: list[str] | None = None):
    """Code raw concept lists the way the scoring program does: one vocabulary, normalised strings."""
    vocabulary: dict[str, int] = {}

    def pairs(sets: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        image = [i for i, concepts in enumerate(sets) for _ in concepts]
        concept = [vocabulary.setdefault(normalise_concept(c), len(vocabulary)) for concepts in sets for c in concepts]
        return np.array(image, dtype=np.int64), np.array(concept, dtype=np.int64)

    coded = (*pairs(truth), *pairs(predicted))
    if curated is None:
        return coded
    allowed = np.array([vocabulary.setdefault(normalise_concept(c), len(vocabulary)) for c in curated], dtype=np.int64)
    return coded, allowed


def score(truth: list[list[str]], predicted: list[list[str]]) -> float:
    return mean_f1(*encode(truth, predicted), n_images=len(truth))


# --- golden values of metrics.md -------------------------------------------------------

def test_golden_two_concepts_one_found():
    assert round(score([["C1", "C2"]], [["C1"]]), 4) == 0.6667


def test_golden_empty_prediction_scores_zero():
    assert score([["C1"]], [[]]) == 0.0


def test_golden_empty_ground_truth_changes_nothing():
    base = score([["C1", "C2"], ["C3"]], [["C1"], ["C3"]])
    for prediction in ([], ["C9"], ["C1", "C3"]):
        with_empty = score([["C1", "C2"], [], ["C3"]], [["C1"], prediction, ["C3"]])
        assert with_empty == pytest.approx(base, abs=1e-15)
    assert round(base, 4) == round((2 / 3 + 1) / 2, 4) == 0.8333


def test_golden_case_and_whitespace_are_ignored():
    assert score([["C1"]], [["c1 "]]) == 1.0
    assert score([[" c0040405"]], [["C0040405\t"]]) == 1.0


# --- behaviour ----------------------------------------------------------------------------

def test_per_image_values_and_mask():
    scores = set_f1(*encode([["A", "B"], [], ["C"], ["D", "E", "F"]], [["A", "X"], ["Y"], [], ["D", "E", "F"]]), n_images=4)
    np.testing.assert_array_equal(scores.scored_mask, [True, False, True, True])
    np.testing.assert_allclose(scores.f1, [0.5, np.nan, 0.0, 1.0])
    np.testing.assert_allclose(scores.precision, [0.5, np.nan, 0.0, 1.0])
    np.testing.assert_allclose(scores.recall, [0.5, np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(scores.n_true, [2, 0, 1, 3])
    np.testing.assert_array_equal(scores.n_pred, [2, 1, 0, 3])
    np.testing.assert_array_equal(scores.n_common, [1, 0, 0, 3])
    assert scores.n_scored == 3
    assert scores.mean(scores.f1) == pytest.approx(0.5)


def test_pairs_given_twice_count_once():
    once = set_f1(np.array([0, 0]), np.array([1, 2]), np.array([0]), np.array([1]), 1)
    twice = set_f1(np.array([0, 0, 0]), np.array([1, 2, 2]), np.array([0, 0]), np.array([1, 1]), 1)
    assert once.f1[0] == twice.f1[0] == pytest.approx(2 / 3)


def test_images_without_any_pair_and_no_scored_image():
    scores = set_f1(np.array([], dtype=int), np.array([], dtype=int), np.array([1]), np.array([0]), 3)
    assert scores.n_scored == 0
    assert np.isnan(mean_f1(np.array([], dtype=int), np.array([], dtype=int), np.array([1]), np.array([0]), 3))
    assert np.isnan(scores.mean(scores.precision))


def test_large_codes_do_not_collide():
    # Keys are image << 32 | concept: the largest concept code must not spill into the image bits.
    big = 2**32 - 1
    scores = set_f1(np.array([0, 1]), np.array([big, 0]), np.array([1, 0]), np.array([big, 0]), 2)
    np.testing.assert_array_equal(scores.n_common, [0, 0])


@pytest.mark.parametrize("arguments, message", [
    ((np.array([0, 1]), np.array([0]), np.array([0]), np.array([0]), 2), "same length"),
    ((np.array([2]), np.array([0]), np.array([0]), np.array([0]), 2), r"gt_image codes must lie in \[0, 2\)"),
    ((np.array([0]), np.array([0]), np.array([-1]), np.array([0]), 2), r"pred_image codes"),
    ((np.array([0]), np.array([-3]), np.array([0]), np.array([0]), 2), r"gt_concept codes"),
])
def test_misuse_raises_value_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        set_f1(*arguments)


def test_keep_concepts_filters_both_sides_for_secondary_f1():
    (gt_image, gt_concept, pred_image, pred_concept), allowed = encode(
        [["C1", "C2"], ["C3"], ["C4"]], [["C1"], ["C3", "C5"], ["C9"]], curated=["C1", "C5", "C9"])
    gt_kept = keep_concepts(gt_image, gt_concept, allowed)
    pred_kept = keep_concepts(pred_image, pred_concept, allowed)
    scores = set_f1(*gt_kept, *pred_kept, n_images=3)
    # image 0: {C1} vs {C1} -> 1; images 1 and 2 have no curated ground truth: left out.
    np.testing.assert_array_equal(scores.scored_mask, [True, False, False])
    assert scores.mean(scores.f1) == 1.0
    with pytest.raises(ValueError, match="same length"):
        keep_concepts(np.array([0, 1]), np.array([0]), allowed)


def test_histogram_bins_are_exact():
    # F1 = 0.3 exactly (3 common, |G| + |P| = 20) belongs to [0.3, 0.4); F1 = 1 to the last bin.
    gt_image = np.array([0] * 10 + [1] + [2])
    gt_concept = np.array(list(range(10)) + [0] + [0])
    pred_image = np.array([0] * 10 + [1])
    pred_concept = np.array([0, 1, 2] + list(range(100, 107)) + [0])
    scores = set_f1(gt_image, gt_concept, pred_image, pred_concept, n_images=4)
    assert scores.f1[0] == pytest.approx(0.3)
    np.testing.assert_array_equal(f1_histogram(scores), [1, 0, 0, 1, 0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(f1_histogram(scores, n_bins=2), [2, 1])
    with pytest.raises(ValueError, match="n_bins"):
        f1_histogram(scores, n_bins=0)


# --- cross-check against the old evaluator's per-image scikit-learn loop -------------------

def sklearn_oracle(truth: list[list[str]], predicted: list[list[str]]) -> tuple[float, float, float, int]:
    """Mean F1, precision, recall and number of scored images, one image at a time with sklearn.

    As the ImageCLEFmedical concept-detection evaluator: upper-cased stripped concepts,
    a binary vector over the union of both sets, ``f1_score(average="binary")``; images
    whose ground truth is empty are skipped (sklearn would fail or warn on two empty sets).
    """
    from sklearn.metrics import f1_score, precision_score, recall_score
    from sklearn.preprocessing import MultiLabelBinarizer

    f1s, precisions, recalls = [], [], []
    for gt_raw, pred_raw in zip(truth, predicted):
        gt = {c.strip().upper() for c in gt_raw}
        pred = {c.strip().upper() for c in pred_raw}
        if not gt:
            continue
        y_true, y_pred = MultiLabelBinarizer(classes=sorted(gt | pred)).fit_transform([gt, pred])
        f1s.append(f1_score(y_true, y_pred, average="binary"))
        precisions.append(precision_score(y_true, y_pred, zero_division=0))
        recalls.append(recall_score(y_true, y_pred, zero_division=0))
    if not f1s:
        return float("nan"), float("nan"), float("nan"), 0
    return sum(f1s) / len(f1s), sum(precisions) / len(precisions), sum(recalls) / len(recalls), len(f1s)


def random_case(rng: np.random.Generator) -> tuple[list[list[str]], list[list[str]]]:
    """A few images over a Zipf-like vocabulary; empty sets, case and whitespace variants included."""
    vocabulary_size = int(rng.choice([3, 20, 500, 8000]))
    weights = 1.0 / np.arange(1, vocabulary_size + 1) ** 1.1
    weights /= weights.sum()
    variants = (str, str.lower, lambda c: f" {c}", lambda c: f"{c.lower()}\t", lambda c: c.capitalize())

    def concepts(size: int) -> list[str]:
        codes = np.unique(rng.choice(vocabulary_size, size=size, p=weights))
        return [variants[int(rng.integers(len(variants)))](f"C{code:07d}") for code in codes]

    truth, predicted = [], []
    for _ in range(int(rng.integers(1, 9))):
        large = rng.random() < 0.05
        n_true = int(rng.integers(0, 60 if large else 11)) if rng.random() > 0.15 else 0
        gt = concepts(n_true)
        if rng.random() < 0.15:
            pred = []
        else:  # part of the truth plus noise
            kept = [c for c in gt if rng.random() < rng.random()]
            pred = sorted(set(kept) | set(concepts(int(rng.integers(0, 60 if large else 11)))))
        truth.append(gt)
        predicted.append(pred)
    return truth, predicted


def test_matches_sklearn_on_random_cases():
    rng = np.random.default_rng(20240521)
    n_compared = n_empty_truth = n_empty_prediction = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the oracle must never be in sklearn's ill-defined zone
        for _ in range(N_RANDOM_CASES):
            truth, predicted = random_case(rng)
            expected_f1, expected_precision, expected_recall, expected_scored = sklearn_oracle(truth, predicted)
            scores = set_f1(*encode(truth, predicted), n_images=len(truth))
            assert scores.n_scored == expected_scored
            n_empty_truth += sum(not gt for gt in truth)
            n_empty_prediction += sum(not pred for gt, pred in zip(truth, predicted) if gt)
            if expected_scored == 0:
                assert np.isnan(scores.mean(scores.f1))
                continue
            n_compared += 1
            assert abs(scores.mean(scores.f1) - expected_f1) < 1e-12
            assert abs(scores.mean(scores.precision) - expected_precision) < 1e-12
            assert abs(scores.mean(scores.recall) - expected_recall) < 1e-12
            for key, value in (("f1", expected_f1), ("precision", expected_precision), ("recall", expected_recall)):
                assert abs(REGISTRY[key](*encode(truth, predicted), len(truth)) - value) < 1e-12
    assert n_compared >= 500 and n_empty_truth > 50 and n_empty_prediction > 50
