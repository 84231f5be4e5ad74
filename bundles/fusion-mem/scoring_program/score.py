"""Scoring program of fusion-mem (media memorability): Spearman's and Pearson's correlation.

A run gives one memorability score per video of the split (``video_id,score``, header
optional). The leaderboard shows Spearman's rank correlation between the run's scores and
the ground-truth short-term memorability scores (primary, as in the MediaEval Predicting
Media Memorability task; tied values share their average rank) and Pearson's correlation.
A constant prediction has no correlation: it scores 0.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

import numpy as np  # noqa: E402

from scoring_common.formats.tabular import TabularNames, read_tabular_reference, read_tabular_run  # noqa: E402
from scoring_common.metrics.regression import pearson, spearman  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
NAMES = TabularNames(id_column="video_id", target_column="score", item="video")
PRIMARY = "spearman"


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score the run at ``run_path`` against ``ref_dir/groundtruth.csv``."""
    reference = read_tabular_reference(ref_dir / GROUNDTRUTH_FILE, NAMES, "regression")
    predicted = read_tabular_run(run_path, reference, NAMES)
    truth = reference.target
    scores = {"spearman": spearman(truth, predicted), "pearson": pearson(truth, predicted)}
    distinct = int(np.unique(predicted).size)
    summary = Table(
        f"Your scores for the {len(truth)} videos",
        ["mean", "standard deviation", "minimum", "maximum", "distinct values"],
        [[float(np.mean(predicted)), float(np.std(predicted)), float(np.min(predicted)), float(np.max(predicted)),
          distinct]],
        note="Spearman's correlation depends only on the order of your scores (equal scores share their average "
             "rank); Pearson's on how linearly they follow the truth. Neither depends on their scale.")
    per_item = PerItemScores(reference.item_ids, {"prediction": predicted, "truth": truth})
    return Evaluation(scores=scores, primary=PRIMARY, tables=[summary], per_item=per_item)


TASK = TaskScoring(title="ImageCLEFfusion-mem: media memorability", run_suffixes=(".csv", ".txt"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
