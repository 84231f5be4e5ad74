"""Scoring program of __TASK_NAME__: MAP@10 and MAP of a run.

A run gives one score per document of the split (``__QUERY_COLUMN__,__ITEM_COLUMN__,score``, or the
legacy ``__QUERY_COLUMN__,__ITEM_COLUMN__,decision,score``). Each query's documents are ranked by score,
ties broken by document id in descending order as trec_eval does; the average precision
of a query divides by all its relevant documents, and a query with none counts with
AP = 0. The leaderboard shows MAP@10 (primary) and MAP; the detailed results add MAP at
other cutoffs and the AP of every query.

The query and document columns are TASK.item_columns of task.py; to change the cutoff or
the metrics, give the task its own scoring_program/score.py (docs/new-task-guide.md).
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

from scoring_common.formats.ranking import RankingNames, read_ranking_reference, read_ranking_run  # noqa: E402
from scoring_common.metrics.ranking import average_precision, tie_rank_from_ids  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table  # noqa: E402

GROUNDTRUTH_FILE = "groundtruth.csv"
NAMES = RankingNames(query_column="__QUERY_COLUMN__", doc_column="__ITEM_COLUMN__", query="query", doc="document")
PRIMARY = "map_at_10"
#: Cutoffs of the detailed results; None is MAP with no cutoff.
CUTOFFS = (5, 10, 20, None)


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score the run at ``run_path`` against ``ref_dir/groundtruth.csv``."""
    reference = read_ranking_reference(ref_dir / GROUNDTRUTH_FILE, NAMES)
    score = read_ranking_run(run_path, reference, NAMES)
    tie_rank = tie_rank_from_ids(reference.doc_ids)
    n_relevant = reference.n_relevant
    ap = {k: average_precision(reference.query, score, tie_rank, reference.relevant, n_relevant, k) for k in CUTOFFS}
    mean = {k: float(values.mean()) for k, values in ap.items()}
    cutoff_table = Table("MAP at several cutoffs", ["measure", "value"],
                         [[f"MAP@{k}" if k is not None else "MAP (no cutoff)", mean[k]] for k in CUTOFFS],
                         note="Mean over all queries of the average precision of the top k documents.")
    # Shown on public splits only: per query, AP and R reveal the hidden relevance.
    query_table = Table("Average precision per query", ["query", "documents", "relevant documents (R)", "AP@10", "AP"],
                        [[query_id, int(reference.n_items[q]), int(n_relevant[q]), float(ap[10][q]),
                          float(ap[None][q])] for q, query_id in enumerate(reference.query_ids)],
                        note="AP divides by R, all relevant documents of the query; a query with R = 0 has AP = 0. "
                             "Equal scores are ordered by document id, descending (trec_eval).")
    per_item = PerItemScores(reference.query_ids, {PRIMARY: ap[10], "map": ap[None]})
    return Evaluation(scores={PRIMARY: mean[10], "map": mean[None]}, primary=PRIMARY, tables=[cutoff_table],
                      item_tables=[query_table], per_item=per_item)


TASK = TaskScoring(title="__TASK_TITLE__", run_suffixes=(".csv", ".txt"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
