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

from scoring_common.predictions.ranked_lists import RankedLists

PREDICTION = RankedLists(item_column="photo_id", item="photo", max_per_query=50, cutoff=20)
PRIMARY_METRIC_TITLE = "F1@20"
#: Photos kept per query in a run (the scoring program's limit).
MAX_PHOTOS_PER_QUERY = PREDICTION.max_per_query
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())
