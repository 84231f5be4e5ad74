"""The fusion-div data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``topics.csv`` (``query_id,title``) and ``inducers/<name>.txt``
(one TREC run per inducer, lines ``query_id iter photo_id rank score run_id``), and for
the dev split ``rGT.csv`` (``query_id,photo_id,rel``) and ``dGT.csv``
(``query_id,photo_id,cluster_id``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``,
  ``query_id``, ``photo_id`` (strings), ``rank`` (int, 0 = the inducer's best photo for
  the query) and ``score`` (float, on the inducer's own scale), one row per photo an
  inducer ranked for a query; rows sorted by inducer, query, rank.
  ``X.attrs["queries"]`` is a tuple of every query id of the split (``split_queries(X)``
  returns it).
- ``y = load_truth(folder)``: a DataFrame with columns ``query_id``, ``photo_id``,
  ``rel`` (1 relevant, 0 not, -1 "don't know", which counts as not relevant) and
  ``cluster_id`` (the photo's visual cluster, nullable integer, ``<NA>`` unless rel is 1),
  one row per judged photo.
- ``Fusion.predict(X)`` returns a DataFrame with columns ``query_id``, ``photo_id`` and
  ``score`` (other columns are ignored), or a Series of scores indexed by the
  MultiIndex ``(query_id, photo_id)``. Each query is ranked by score, highest first
  (equal scores: photo id ascending), and its top 50 photos make the run. Every query of
  the split needs at least one photo; a photo may appear once per query and must be one
  that some inducer ranked for that query (photos outside the inducers' runs are
  unknown to the task).

:func:`check_prediction` enforces that contract, :func:`write_run` writes the TREC run,
:func:`diversity_scores` computes the task's metrics (P@X, CR@X, F1@X) for local
validation and :func:`inducer_diversity` those of every inducer at once. The prediction
type, ``RankedLists``, lives in ``scoring_common/predictions/``.
"""

from scoring_common.predictions.frames import SplitIds
from scoring_common.predictions.ranked_lists import RankedLists

PREDICTION = RankedLists(item_column="photo_id", item="photo", max_per_query=50, cutoff=20)

TOPICS_FILE = PREDICTION.topics_file
INDUCERS_DIR = PREDICTION.inducers_dir
RELEVANCE_FILE = PREDICTION.relevance_file
CLUSTERS_FILE = PREDICTION.clusters_file
RUN_FILE_NAME = PREDICTION.run_file
#: The run_id field of the runs written by :func:`write_run`.
RUN_ID = PREDICTION.run_id
#: Photos kept per query in a run (the scoring program's limit).
MAX_PHOTOS_PER_QUERY = PREDICTION.max_per_query
#: Cutoff of the primary metric, F1@20.
PRIMARY_CUTOFF = PREDICTION.cutoff
PRIMARY_METRIC_TITLE = "F1@20"
X_COLUMNS = PREDICTION.x_columns
Y_COLUMNS = PREDICTION.y_columns
PREDICTION_COLUMNS = PREDICTION.prediction_columns
#: The type of ``X.attrs["queries"]``: a tuple that pandas copies for free.
QueryIds = SplitIds

load_topics = PREDICTION.load_topics
load_inducers = PREDICTION.load_inducers
load_truth = PREDICTION.load_truth
split_queries = PREDICTION.split_queries
inducer_names = PREDICTION.inducer_names
inducer_prediction = PREDICTION.inducer_prediction
item_ids = PREDICTION.item_ids
check_prediction = PREDICTION.check_prediction
write_run = PREDICTION.write_run
diversity_per_query = PREDICTION.diversity_per_query
diversity_scores = PREDICTION.diversity_scores
primary_metric = PREDICTION.primary_metric
inducer_diversity = PREDICTION.inducer_diversity
