"""The __TASK_NAME__ data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``inducers.csv`` (``item_id,<inducer>,...``: one row per item, the
class each inducer predicted) and, for the dev split, ``groundtruth.csv`` (``item_id,label``).

- ``X = load_inducers(folder)``: a DataFrame indexed by ``item_id``, one column of class
  labels (strings) per inducer, rows in file order.
- ``y = load_truth(folder)``: a Series of class labels named ``label``, indexed by ``item_id``.
- ``Fusion.predict(X)`` returns a Series of class labels (strings of :data:`CLASSES`)
  indexed like ``X`` (any row order).

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``item_id,label``) and :func:`primary_metric` computes the leaderboard's macro F1 for
local validation. The prediction type, ``ItemClasses``, lives in
``scoring_common/predictions/``; this module runs in the platform's container.

TODO(organiser): keep CLASSES and the column names here, in task.py and in the scoring
program in step when you change them.
"""

from scoring_common.predictions.per_item import ItemClasses

#: The task's classes, in the scoring program's order.
CLASSES = (__CLASSES__)
PREDICTION = ItemClasses(item_columns=("item_id",), target="label", item="item", classes=CLASSES)
PRIMARY_METRIC_TITLE = "macro F1"
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())
