"""The __TASK_NAME__ data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``topics.csv`` (``query_id,title``) and ``inducers/<name>.txt`` (TREC
runs ``query_id iter photo_id rank score run_id``), and for the dev split ``rGT.csv``
(``query_id,photo_id,rel``) and ``dGT.csv`` (``query_id,photo_id,cluster_id``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``, ``query_id``,
  ``photo_id``, ``rank``, ``score``, one row per ranked photo, sorted by inducer, query
  and rank. ``X.attrs["queries"]`` lists the split's queries (:func:`split_queries`).
- ``y = load_truth(folder)``: a DataFrame with columns ``query_id``, ``photo_id``, ``rel``
  (1, 0 or -1) and ``cluster_id`` (nullable integer, ``<NA>`` when the photo is not relevant).
- ``Fusion.predict(X)`` returns a DataFrame with columns ``query_id``, ``photo_id``,
  ``score``; each query's photos are ranked by score, highest first (ties by photo id).

:func:`check_prediction` enforces that contract, :func:`write_run` writes the TREC run
(the 50 best photos of each query) and :func:`primary_metric` computes the leaderboard's
F1@20 for local validation. The prediction type, ``RankedLists``, lives in
``scoring_common/predictions/``; this module runs in the platform's container.

TODO(organiser): keep the column names here, in task.py and in the scoring program in
step when you rename them.
"""

from scoring_common.predictions.ranked_lists import RankedLists

PREDICTION = RankedLists(item_column="photo_id", item="photo", max_per_query=50, cutoff=20)
PRIMARY_METRIC_TITLE = "F1@20"
#: Photos a run may rank per query.
MAX_RANKED = PREDICTION.max_per_query
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())
