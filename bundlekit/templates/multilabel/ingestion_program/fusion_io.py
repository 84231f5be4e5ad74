"""The __TASK_NAME__ data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``items.txt`` (the split's item ids, one per line) and
``inducers/<name>.csv`` (lines ``item_id|LABEL;LABEL;...``), and for the dev split
``groundtruth.csv`` (header ``ID<TAB>labels``, lines ``item_id<TAB>LABEL;LABEL;...``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``, ``item_id``,
  ``label``, one row per label an inducer predicted for an item. ``X.attrs["items"]``
  lists every item id of the split, in ``items.txt`` order (:func:`split_items`).
- ``y = load_truth(folder)``: a long DataFrame with columns ``item_id``, ``label``;
  ``y.attrs["items"]`` lists every item of the ground truth, including those with no label.
- ``Fusion.predict(X)`` returns a Series indexed by item id (every item exactly once, any
  order) whose values are lists, tuples or sets of labels, or a long DataFrame with
  columns ``item_id``, ``label`` like ``y``.

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``item_id|LABEL;LABEL``) and :func:`primary_metric` computes the leaderboard's mean F1
for local validation. The prediction type, ``LabelSets``, lives in
``scoring_common/predictions/``; this module runs in the platform's container.
"""

from scoring_common.predictions.frames import SplitIds
from scoring_common.predictions.label_sets import LabelSets

PREDICTION = LabelSets(item_column="item_id", label_column="label", item="item", label="label", label_id="labels",
                       items_key="items", items_file="items.txt", max_per_item=100, series_name="labels")
PRIMARY_METRIC_TITLE = "F1"
ITEMS_FILE = PREDICTION.items_file
#: Most labels a run may give one item (the scoring program's limit).
MAX_LABELS_PER_ITEM = PREDICTION.max_per_item
ItemIds = SplitIds
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())
