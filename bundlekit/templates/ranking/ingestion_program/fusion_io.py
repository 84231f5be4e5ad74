"""The __TASK_NAME__ data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``inducers.csv`` (``query_id,doc_id,<inducer>,...``: one row per
document, one column of scores per inducer) and, for the dev split, ``groundtruth.csv``
(``query_id,doc_id,label``).

- ``X = load_inducers(folder)``: a DataFrame indexed by the MultiIndex
  ``(query_id, doc_id)``, one float column per inducer, rows in file order.
- ``y = load_truth(folder)``: a Series named ``label`` (0 or 1) with the same kind of index.
- ``Fusion.predict(X)`` returns a Series of float scores indexed like ``X`` (any row
  order); higher means more relevant. Only the order within a query matters.

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``query_id,doc_id,score``) and :func:`primary_metric` computes the leaderboard's MAP@10
for local validation. The prediction type, ``ItemScores``, lives in
``scoring_common/predictions/``; this module runs in the platform's container.

TODO(organiser): keep the column names here, in task.py and in the scoring program's
NAMES in step when you rename them.
"""

from scoring_common.predictions.per_item import ItemScores

PREDICTION = ItemScores(item_columns=("query_id", "doc_id"), item="document", cutoff=10)
PRIMARY_METRIC_TITLE = "MAP@10"
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())
