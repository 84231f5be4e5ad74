"""Scoring program of __TASK_NAME__: macro F1 and accuracy of a run.

A run gives one class label per item of the split (``__ITEM_COLUMN__,label``, header optional);
labels must be one of CLASSES, written exactly. The leaderboard shows the macro-averaged
F1 (primary: the mean over the classes of each class's F1, so rare classes count as much
as frequent ones) and the accuracy; the detailed results add each class's F1, precision
and recall.

CLASSES and the item column are TASK.classes and TASK.item_columns of task.py. To change
the metrics (for a binary task, say, the F1 of the positive class alone:
``per_class_f1(truth, predicted, labels=CODES).f1[positive_code]``), give the task its own
scoring_program/score.py (docs/new-task-guide.md).
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

import numpy as np  # noqa: E402

from scoring_common.formats.tabular import TabularNames, read_tabular_reference, read_tabular_run  # noqa: E402
from scoring_common.metrics.classification import accuracy, per_class_f1  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
NAMES = TabularNames(id_column="__ITEM_COLUMN__", target_column="label", item="item")
#: The task's classes, in code order (a class a split lacks is still a valid prediction).
CLASSES = [__CLASSES__]
CODES = np.arange(len(CLASSES))
PRIMARY = "macro_f1"


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score the run at ``run_path`` against ``ref_dir/groundtruth.csv``."""
    reference = read_tabular_reference(ref_dir / GROUNDTRUTH_FILE, NAMES, "classification", classes=CLASSES)
    predicted = read_tabular_run(run_path, reference, NAMES)
    per_class = per_class_f1(reference.target, predicted, labels=CODES)
    scores = {PRIMARY: float(np.mean(per_class.f1)), "accuracy": accuracy(reference.target, predicted)}
    table = Table("Per class", ["class", "F1", "precision", "recall", f"{NAMES.item}s predicted"],
                  [[label, float(per_class.f1[c]), float(per_class.precision[c]), float(per_class.recall[c]),
                    int(per_class.n_predicted[c])] for c, label in enumerate(CLASSES)],
                  note="Each class against the others; the macro F1 is the mean of the F1 column. A value whose "
                       "denominator is 0 is 0.")
    labels = np.array(CLASSES, dtype=object)
    per_item = PerItemScores(reference.item_ids, {"prediction": labels[predicted].tolist(),
                                                  "truth": labels[reference.target].tolist()})
    # Shown on public splits only: per-class precision reveals how many items of each class a hidden split holds.
    return Evaluation(scores=scores, primary=PRIMARY, item_tables=[table], per_item=per_item)


TASK = TaskScoring(title="__TASK_TITLE__", run_suffixes=(".csv", ".txt"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
