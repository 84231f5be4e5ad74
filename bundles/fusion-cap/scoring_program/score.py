"""Scoring program of fusion-cap: medical concept detection.

The run gives a set of UMLS concepts (CUIs) per image, ``image_id|CUI;CUI;...``. The
primary score is the per-image F1 between the predicted and the ground-truth sets,
averaged over the images whose ground truth is not empty (the ImageCLEFmedical caption
evaluator's rule); ``f1_secondary`` is the same with both sets restricted to a curated
concept list. Reference data: ``groundtruth.csv``, ``secondary_concepts.txt`` and
optionally ``images.txt`` (the split's image list; without it, the ground truth's images).
"""
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

from scoring_common.errors import InternalError  # noqa: E402
from scoring_common.formats.concepts import (  # noqa: E402
    read_concept_list,
    read_groundtruth,
    read_image_list,
    read_run,
)
from scoring_common.metrics.multilabel import PerImageScores, f1_histogram, keep_concepts, set_f1  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
SECONDARY_CONCEPTS_FILE = "secondary_concepts.txt"
IMAGES_FILE = "images.txt"
HISTOGRAM_BINS = 10


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score one run against the reference data in ``ref_dir``."""
    vocabulary: dict[str, int] = {}
    images_path = ref_dir / IMAGES_FILE
    image_index = read_image_list(images_path) if images_path.is_file() else None
    image_index, truth = read_groundtruth(ref_dir / GROUNDTRUTH_FILE, vocabulary, image_index)
    run = read_run(run_path, image_index, vocabulary)
    if not (ref_dir / SECONDARY_CONCEPTS_FILE).is_file():
        return _without_curated_list(truth, run, len(image_index))
    curated = read_concept_list(ref_dir / SECONDARY_CONCEPTS_FILE, vocabulary)

    n_images = len(image_index)
    primary = set_f1(truth.image, truth.concept, run.image, run.concept, n_images)
    secondary = set_f1(*keep_concepts(truth.image, truth.concept, curated),
                       *keep_concepts(run.image, run.concept, curated), n_images)
    for label, scores in (("ground truth", primary), ("ground truth restricted to the secondary concepts", secondary)):
        if scores.n_scored == 0:
            raise InternalError(f"every image of the {label} has an empty concept set; the F1 is undefined")

    # Per image, NaN (an empty cell) where the ground truth, all or curated, is empty.
    per_item = PerItemScores(list(image_index), {"f1": primary.f1, "f1_secondary": secondary.f1})
    return Evaluation(
        scores={"f1": primary.mean(primary.f1), "f1_secondary": secondary.mean(secondary.f1)},
        primary="f1",
        tables=[_averages_table(primary, secondary)],
        item_tables=[_histogram_table(primary, secondary)],
        per_item=per_item,
    )


def _without_curated_list(truth, run, n_images: int) -> Evaluation:
    """F1 alone: the participant kit's dev reference lacks the curated list (hidden, shared with the test split).

    The build's leaderboard check makes sure a bundle's own references always hold it.
    """
    primary = set_f1(truth.image, truth.concept, run.image, run.concept, n_images)
    if primary.n_scored == 0:
        raise InternalError("every image of the ground truth has an empty concept set; the F1 is undefined")
    return Evaluation(scores={"f1": primary.mean(primary.f1)}, primary="f1")


def _averages_table(primary: PerImageScores, secondary: PerImageScores) -> Table:
    rows = [
        [measure, primary.mean(getattr(primary, measure)), secondary.mean(getattr(secondary, measure))]
        for measure in ("f1", "precision", "recall")
    ]
    return Table(
        "Per-image scores, averaged over images", ["measure", "all concepts", "secondary concepts"], rows,
        note="Per image: F1 = 2|G∩P| / (|G|+|P|), precision = |G∩P| / |P| (0 for an empty prediction), "
             "recall = |G∩P| / |G|, then averaged over the images whose ground truth G is not empty; "
             "the others are left out whatever was predicted. Secondary: G and P restricted to the curated list.",
    )


def _histogram_table(primary: PerImageScores, secondary: PerImageScores) -> Table:
    counts = zip(f1_histogram(primary, HISTOGRAM_BINS), f1_histogram(secondary, HISTOGRAM_BINS))
    rows = []
    for b, (n_primary, n_secondary) in enumerate(counts):
        closing = "]" if b == HISTOGRAM_BINS - 1 else ")"
        rows.append([f"[{b / HISTOGRAM_BINS:.1f}, {(b + 1) / HISTOGRAM_BINS:.1f}{closing}", int(n_primary), int(n_secondary)])
    return Table("Distribution of the per-image F1", ["F1", "images (all concepts)", "images (secondary concepts)"],
                 rows, note="Scored images only.")


TASK = TaskScoring(title="ImageCLEFfusion-cap: medical concept detection", run_suffixes=(".csv", ".txt"),
                   evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
