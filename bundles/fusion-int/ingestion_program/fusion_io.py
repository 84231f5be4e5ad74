"""The fusion-int data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``inducers.csv`` (``video_id,image_id,<inducer>,...``: one row per
keyframe, one column of scores per inducer) and, for the dev split, ``groundtruth.csv``
(``video_id,image_id,label[,value]``).

- ``X = load_inducers(folder)``: a DataFrame indexed by the MultiIndex
  ``(video_id, image_id)``, one float column per inducer, rows in file order.
- ``y = load_truth(folder)``: a Series named ``label`` (0 or 1) with the same kind of
  index; align it with ``y.reindex(X.index)``.
- ``Fusion.predict(X)`` returns a Series of float scores indexed like ``X`` (any row
  order); higher means more interesting. Only the order of the scores within a video
  matters: each video is ranked separately.

:func:`check_prediction` enforces that contract, :func:`write_run` writes the run
(``video_id,image_id,score``) and :func:`mean_average_precision` computes the task's
metric (MAP@10 per video, trec_eval ties) for local validation. The prediction type,
``ItemScores``, lives in ``scoring_common/predictions/``.
"""

from scoring_common.predictions.per_item import ItemScores

PREDICTION = ItemScores(item_columns=("video_id", "image_id"), item="keyframe", cutoff=10)
PRIMARY_METRIC_TITLE = "MAP@10"
#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, RUN_FILE_NAME...
#: (``PREDICTION.module_names()``).
globals().update(PREDICTION.module_names())
