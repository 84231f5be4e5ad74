"""The fusion-cap data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``images.txt`` (the split's image ids, one per line) and
``inducers/<name>.csv`` (lines ``image_id|CUI;CUI;...``), and for the dev split
``groundtruth.csv`` (header ``ID<TAB>CUIs``, lines ``image_id<TAB>CUI;CUI;...``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``,
  ``image_id``, ``concept`` (strings), one row per concept an inducer predicted for an
  image; an image an inducer predicted nothing for has no row. ``X.attrs["images"]``
  is a tuple of every image id of the split, in ``images.txt`` order, including images
  no inducer predicted anything for (``split_images(X)`` returns it).
- ``y = load_truth(folder)``: a DataFrame with columns ``image_id``, ``concept``, one
  row per ground-truth concept; ``y.attrs["images"]`` lists every image of the ground
  truth, including those with no concept.
- ``Fusion.predict(X)`` returns a Series indexed by image id (every image of the split
  exactly once, any order) whose values are lists, tuples or sets of concept ids, or a
  DataFrame with columns ``image_id``, ``concept`` like ``y`` (images without rows then
  get an empty set).

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``image_id|CUI;CUI``) and :func:`mean_f1` computes the task's metric for local
validation. The prediction type, ``LabelSets``, lives in ``scoring_common/predictions/``.
"""

from scoring_common.predictions.frames import SplitIds
from scoring_common.predictions.label_sets import LabelSets

PREDICTION = LabelSets(item_column="image_id", label_column="concept", item="image", label="concept",
                       label_id="concept ids", label_example=" like 'C0040405'", items_key="images",
                       items_file="images.txt", max_per_item=100, series_name="concepts")
PRIMARY_METRIC_TITLE = "F1"
IMAGES_FILE = PREDICTION.items_file
#: Most concepts a run may give one image (the scoring program's limit).
MAX_CONCEPTS_PER_IMAGE = PREDICTION.max_per_item
#: The type of ``X.attrs["images"]``: a tuple that pandas copies for free.
ImageIds = SplitIds
split_images = PREDICTION.split_items
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())
