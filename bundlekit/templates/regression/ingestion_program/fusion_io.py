"""The __TASK_NAME__ data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``inducers.csv`` (``__ITEM_COLUMN__,<inducer>,...``: one row per item, one
column of predictions per inducer) and, for the dev split, ``groundtruth.csv``
(``__ITEM_COLUMN__,value``).

- ``X = load_inducers(folder)``: a DataFrame indexed by ``__ITEM_COLUMN__``, one float column per
  inducer, rows in file order.
- ``y = load_truth(folder)``: a Series of floats named ``value``, indexed by ``__ITEM_COLUMN__``.
- ``Fusion.predict(X)`` returns a Series of float values indexed like ``X`` (any row order).

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``__ITEM_COLUMN__,value``) and :func:`primary_metric` computes the leaderboard's primary
metric for local validation. The prediction type, ``ItemValues``, lives in
``scoring_common/predictions/``; this module runs in the platform's container. The
column names come from task.py (``TASK.item_columns``).
"""

import numpy as np
import pandas as pd

from scoring_common.predictions.per_item import ItemValues
__PRIMARY_METRIC_IMPORT__

PREDICTION = ItemValues(item_columns=("__ITEM_COLUMN__",), target="value", item="item")
PRIMARY_METRIC_TITLE = "__PRIMARY_TITLE__"
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())


def primary_metric(prediction: pd.Series, y: pd.Series) -> float:
    """The leaderboard's primary metric of ``prediction`` against ``y``, for local validation.

    __PRIMARY_METRIC_DOC__.

    Parameters
    ----------
    prediction : pandas.Series
        A value for every item of ``y`` (extra items are ignored).
    y : pandas.Series
        The ground truth, as returned by :func:`load_truth`.
    """
    truth, predicted = y.to_numpy(dtype=np.float64), PREDICTION.aligned(prediction, y)
    return float(__PRIMARY_METRIC_EXPRESSION__)
