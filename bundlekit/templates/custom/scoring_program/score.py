"""Scoring program of __TASK_NAME__: the task's own metric (metric.py) of a run.

A run gives one value per item of the split (``__ITEM_COLUMN__,value``, header optional). It is
read and validated strictly by scoring_common (every item once, finite numbers, one-line
errors), then scored by ``task_metric`` of metric.py, beside this file.

TODO(organiser): rename the target column and items in NAMES to your task's words; write the
metric in metric.py (not here) and add detailed-results tables below if useful.
"""

import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

from scoring_common.errors import InternalError  # noqa: E402
from scoring_common.formats.tabular import TabularNames, read_tabular_reference, read_tabular_run  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
NAMES = TabularNames(id_column="__ITEM_COLUMN__", target_column="value", item="item")

# metric.py is loaded by path: this file is also imported by path (by the build), so the
# program's folder is not necessarily on sys.path.
_spec = importlib.util.spec_from_file_location("task_metric", _HERE / "metric.py")
metric = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(metric)


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score the run at ``run_path`` against ``ref_dir/groundtruth.csv`` with metric.task_metric."""
    reference = read_tabular_reference(ref_dir / GROUNDTRUTH_FILE, NAMES, "regression")
    predicted = read_tabular_run(run_path, reference, NAMES)
    scores = {str(key): float(value) for key, value in metric.task_metric(reference.target, predicted).items()}
    if metric.PRIMARY not in scores:
        raise InternalError(f"metric.task_metric returned {sorted(scores)}, without the primary key {metric.PRIMARY!r}")
    per_item = PerItemScores(reference.item_ids, {"prediction": predicted, "truth": reference.target})
    return Evaluation(scores=scores, primary=metric.PRIMARY, per_item=per_item)


TASK = TaskScoring(title="__TASK_TITLE__", run_suffixes=(".csv", ".txt"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
