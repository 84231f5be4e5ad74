"""The fusion-mem data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``inducers.csv`` (``video_id,<inducer>,...``: one row per video, one
column of predictions per inducer) and, for the dev split, ``groundtruth.csv``
(``video_id,score``: the short-term memorability score, in [0, 1]).

- ``X = load_inducers(folder)``: a DataFrame indexed by ``video_id``, one float column per
  inducer, rows in file order. Inducers report on their own scales.
- ``y = load_truth(folder)``: a Series of floats named ``score``, indexed by ``video_id``.
- ``Fusion.predict(X)`` returns a Series of float scores indexed like ``X`` (any row
  order); only their order matters for Spearman's correlation, their values for Pearson's.

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``video_id,score``) and :func:`primary_metric` computes the leaderboard's Spearman
correlation for local validation. The prediction type, ``ItemValues``, lives in
``scoring_common/predictions/``; this module runs in the platform's container.
"""

import pandas as pd

from scoring_common.metrics.regression import spearman
from scoring_common.predictions.per_item import ItemValues

PREDICTION = ItemValues(item_columns=("video_id",), target="score", item="video")
PRIMARY_METRIC_TITLE = "Spearman's rank correlation"
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())


def primary_metric(prediction: pd.Series, y: pd.Series) -> float:
    """The leaderboard's primary metric of ``prediction`` against ``y``, for local validation.

    Spearman's rank correlation (tied values share their average rank).

    Parameters
    ----------
    prediction : pandas.Series
        A score for every video of ``y`` (extra videos are ignored).
    y : pandas.Series
        The ground truth, as returned by :func:`load_truth`.
    """
    return float(spearman(y.to_numpy(dtype="float64"), PREDICTION.aligned(prediction, y)))
