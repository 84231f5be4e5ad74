"""Scoring program of __TASK_NAME__: relevance and diversity of ranked lists.

Reads the split's relevance (``rGT.csv``) and cluster (``dGT.csv``) ground truth from
``$input/ref`` and the participant's TREC run from ``$input/res``, then reports the
MediaEval diversity metrics: precision P@X, cluster recall CR@X and their per-query
harmonic mean F1@X, averaged over all the split's queries. F1@20 is the primary
leaderboard metric; the detailed results give the three at X = 5, 10, 20, 30, 40, 50
and per query at X = 20.

To change the official cutoff or the metrics, give the task its own scoring_program/score.py
and declare them in TASK.metrics of task.py.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))

from scoring_common.formats.diversity import (  # noqa: E402
    MAX_RANKED_PER_QUERY,
    judge_run,
    read_diversity_reference,
    read_trec_run,
)
from scoring_common.metrics.diversity import DIVERSITY_CUTOFFS, diversity_at, mean_diversity  # noqa: E402
from scoring_common.per_item import PerItemScores  # noqa: E402
from scoring_common.program import Evaluation, TaskScoring, main  # noqa: E402
from scoring_common.report import Table  # noqa: E402

#: The leaderboard's cutoff.
OFFICIAL_CUTOFF = 20
PRIMARY = "f1_at_20"


def evaluate(ref_dir: Path, run_path: Path) -> Evaluation:
    """Score one TREC run against the split's ground truth in ``ref_dir``."""
    reference = read_diversity_reference(ref_dir)
    run = read_trec_run(run_path, reference.query_ids, max_per_query=MAX_RANKED_PER_QUERY)
    relevant, cluster = judge_run(run, reference)
    per_query = diversity_at(run.query, run.position, relevant, cluster, reference.n_clusters, DIVERSITY_CUTOFFS)
    means = mean_diversity(per_query)
    precision, cluster_recall, f1 = means[OFFICIAL_CUTOFF]
    official = per_query[OFFICIAL_CUTOFF]
    means_table = Table(
        f"Means over the {len(reference.query_ids)} queries", ["cutoff X", "P@X", "CR@X", "F1@X"],
        [[cutoff, *means[cutoff]] for cutoff in DIVERSITY_CUTOFFS],
        note="F1@X is the mean of the per-query F1 values, not the harmonic mean of the mean P@X and CR@X. "
             "P@X always divides by X, even for a query with fewer than X ranked photos.")
    # Shown on public splits only: per query, P@20 and CR@20 reveal the hidden labels and clusters.
    query_table = Table(
        f"Per query at X = {OFFICIAL_CUTOFF}", ["query", "photos ranked", "P@20", "CR@20", "F1@20"],
        [[query_id, int(run.n_ranked[code]), float(official.precision[code]),
          float(official.cluster_recall[code]), float(official.f1[code])]
         for code, query_id in enumerate(reference.query_ids)])
    per_item = PerItemScores(reference.query_ids, {PRIMARY: official.f1, "cr_at_20": official.cluster_recall,
                                                   "p_at_20": official.precision})
    return Evaluation(scores={PRIMARY: f1, "cr_at_20": cluster_recall, "p_at_20": precision}, primary=PRIMARY,
                      tables=[means_table], item_tables=[query_table], per_item=per_item)


TASK = TaskScoring(title="__TASK_TITLE__", run_suffixes=(".txt", ".trec", ".csv"), evaluate=evaluate)

if __name__ == "__main__":
    raise SystemExit(main(TASK))
