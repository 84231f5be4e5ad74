"""Scoring program of __TASK_NAME__: Spearman's and Pearson's correlation and the RMSE of a run.

A run gives one value per item of the split (``__ITEM_COLUMN__,value``, header optional). The
leaderboard shows Spearman's rank correlation with the ground truth (primary; ties share
their average rank), Pearson's correlation and the root mean squared error. A constant
prediction has no correlation: it scores 0.

The item column is TASK.item_columns of task.py; to change the target column, the items'
name or the metrics, give the task its own scoring_program/score.py (docs/new-task-guide.md).
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

import numpy as np  # noqa: E402

from scoring_common.formats.tabular import TabularNames, read_tabular_reference, read_tabular_run  # noqa: E402
from scoring_common.metrics.regression import pearson, rmse, spearman  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
NAMES = TabularNames(id_column="__ITEM_COLUMN__", target_column="value", item="item")
PRIMARY = "spearman"


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score the run at ``run_path`` against ``ref_dir/groundtruth.csv``."""
    reference = read_tabular_reference(ref_dir / GROUNDTRUTH_FILE, NAMES, "regression")
    predicted = read_tabular_run(run_path, reference, NAMES)
    truth = reference.target
    scores = {"spearman": spearman(truth, predicted), "pearson": pearson(truth, predicted),
              "rmse": rmse(truth, predicted)}
    summary = Table(
        f"Your prediction for the {len(truth)} {NAMES.item}s", ["mean", "standard deviation", "minimum", "maximum"],
        [[float(np.mean(predicted)), float(np.std(predicted)), float(np.min(predicted)), float(np.max(predicted))]],
        note="The correlations do not depend on the scale of the prediction; the RMSE does.")
    per_item = PerItemScores(reference.item_ids, {"prediction": predicted, "truth": truth})
    return Evaluation(scores=scores, primary=PRIMARY, tables=[summary], per_item=per_item)


TASK = TaskScoring(title="__TASK_TITLE__", run_suffixes=(".csv", ".txt"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
