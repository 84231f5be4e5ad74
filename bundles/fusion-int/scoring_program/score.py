"""Scoring program of fusion-int (media interestingness): MAP@10 and MAP of a run.

A run gives one score per keyframe of the split (``video_id,image_id,score``, or the
legacy ``video_id,image_id,decision,score``). Each video is a query whose keyframes are
ranked by score, ties broken by image id in descending order as trec_eval does; the
average precision of a video divides by all its interesting keyframes, and a video with
none counts with AP = 0. The leaderboard shows MAP@10 (primary) and MAP; the detailed
results add MAP at other cutoffs and the AP of every video.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

from scoring_common.formats.ranking import read_ranking_reference, read_ranking_run  # noqa: E402
from scoring_common.metrics.ranking import average_precision, tie_rank_from_ids  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table, natural_order  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
PRIMARY = "map_at_10"
#: Cutoffs of the detailed results; None is MAP with no cutoff.
CUTOFFS = (5, 10, 20, 50, None)


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score the run at ``run_path`` against ``ref_dir/groundtruth.csv``."""
    reference = read_ranking_reference(ref_dir / GROUNDTRUTH_FILE)
    score = read_ranking_run(run_path, reference)
    tie_rank = tie_rank_from_ids(reference.doc_ids)
    n_relevant = reference.n_relevant
    ap = {k: average_precision(reference.query, score, tie_rank, reference.relevant, n_relevant, k) for k in CUTOFFS}
    mean = {k: float(values.mean()) for k, values in ap.items()}

    cutoff_rows = [[f"MAP@{k}" if k is not None else "MAP (no cutoff)", mean[k]] for k in CUTOFFS]
    n_items = reference.n_items
    # No count of interesting keyframes per video: on the test split that is hidden truth.
    video_rows = [
        [reference.query_ids[q], int(n_items[q]), float(ap[10][q]), float(ap[None][q])]
        for q in natural_order(reference.query_ids)
    ]
    cutoff_table = Table("MAP at several cutoffs", ["measure", "value"], cutoff_rows,
                         note="Mean over all videos of the average precision of the top k keyframes.")
    video_table = Table("Average precision per video", ["video", "keyframes", "AP@10", "AP"], video_rows,
                        note="AP divides by R, all interesting keyframes of the video; a video with R = 0 has AP = 0. "
                             "Equal scores are ordered by image id, descending (trec_eval).")
    per_item = PerItemScores(reference.query_ids, {PRIMARY: ap[10], "map": ap[None]})
    return Evaluation(scores={PRIMARY: mean[10], "map": mean[None]}, primary=PRIMARY, tables=[cutoff_table],
                      item_tables=[video_table], per_item=per_item)


TASK = TaskScoring(title="ImageCLEFfusion-int: media interestingness", run_suffixes=(".csv", ".txt"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
