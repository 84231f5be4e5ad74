"""Scoring program of __TASK_NAME__: per-item set F1, precision and recall of a run.

The run gives a set of labels per item, ``item_id|LABEL;LABEL;...``. For every item with
a non-empty ground truth, F1 = 2|G∩P| / (|G|+|P|), precision = |G∩P| / |P| (0 for an
empty prediction) and recall = |G∩P| / |G|; each is averaged over those items (items
with an empty ground truth are left out, whatever was predicted). Labels are compared
upper-cased, without surrounding spaces.

To change the metrics (add an F1 restricted to a curated label list, as fusion-cap does),
give the task its own scoring_program/score.py and declare them in TASK.metrics of task.py.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

from scoring_common.errors import InternalError  # noqa: E402
from scoring_common.formats.concepts import read_groundtruth, read_run  # noqa: E402
from scoring_common.metrics.multilabel import f1_histogram, set_f1  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
ITEM = "item"
PRIMARY = "f1"
HISTOGRAM_BINS = 10


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score the run at ``run_path`` against ``ref_dir/groundtruth.csv``."""
    vocabulary: dict[str, int] = {}
    item_index, truth = read_groundtruth(ref_dir / GROUNDTRUTH_FILE, vocabulary)
    run = read_run(run_path, item_index, vocabulary, item=ITEM)
    scores = set_f1(truth.image, truth.concept, run.image, run.concept, len(item_index))
    if scores.n_scored == 0:
        raise InternalError("every item of the ground truth has an empty label set; the F1 is undefined")
    histogram = f1_histogram(scores, HISTOGRAM_BINS)
    table = Table(
        "Distribution of the per-item F1", ["F1", f"{ITEM}s"],
        [[f"[{b / HISTOGRAM_BINS:.1f}, {(b + 1) / HISTOGRAM_BINS:.1f}{']' if b == HISTOGRAM_BINS - 1 else ')'}",
          int(count)] for b, count in enumerate(histogram)],
        note=f"Over the {scores.n_scored} {ITEM}s whose ground truth is not empty (the others are left out).")
    measures = ("f1", "precision", "recall")
    means = {measure: scores.mean(getattr(scores, measure)) for measure in measures}
    # Per item, NaN (an empty cell) where the ground truth is empty.
    per_item = PerItemScores(list(item_index), {measure: getattr(scores, measure) for measure in measures})
    return Evaluation(scores=means, primary=PRIMARY, item_tables=[table], per_item=per_item)


TASK = TaskScoring(title="__TASK_TITLE__", run_suffixes=(".csv", ".txt"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
