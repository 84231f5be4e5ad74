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

INDUCERS_FILE = PREDICTION.inducers_file
GROUNDTRUTH_FILE = PREDICTION.groundtruth_file
RUN_FILE_NAME = PREDICTION.run_file
ID_COLUMN = PREDICTION.item_columns[0]
TARGET_COLUMN = PREDICTION.target
ITEM = PREDICTION.item
PRIMARY_METRIC_TITLE = "macro F1"

load_inducers = PREDICTION.load_inducers
load_truth = PREDICTION.load_truth
inducer_names = PREDICTION.inducer_names
inducer_prediction = PREDICTION.inducer_prediction
check_prediction = PREDICTION.check_prediction
write_run = PREDICTION.write_run
macro_f1 = PREDICTION.macro_f1
accuracy = PREDICTION.accuracy
primary_metric = PREDICTION.primary_metric
