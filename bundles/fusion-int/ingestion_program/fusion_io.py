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
metric (MAP@10 per video, trec_eval ties) for local validation. pandas and numpy only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.metrics.ranking import mean_average_precision as _map_codes
from scoring_common.metrics.ranking import tie_rank_from_ids

INDUCERS_FILE = "inducers.csv"
GROUNDTRUTH_FILE = "groundtruth.csv"
RUN_FILE_NAME = "run.csv"
INDEX_NAMES = ["video_id", "image_id"]
#: Cutoff of the primary metric, MAP@10.
PRIMARY_CUTOFF = 10
PRIMARY_METRIC_TITLE = "MAP@10"


def load_inducers(split_input_dir: Path) -> pd.DataFrame:
    """Read a split's ``inducers.csv``.

    Parameters
    ----------
    split_input_dir : Path
        Folder holding ``inducers.csv``.

    Returns
    -------
    pandas.DataFrame
        Indexed by the MultiIndex ``(video_id, image_id)`` (strings), one float64 column
        per inducer, in file order.
    """
    frame = _read_table(Path(split_input_dir) / INDUCERS_FILE, INDEX_NAMES)
    scores = frame.drop(columns=INDEX_NAMES)
    if scores.shape[1] == 0:
        raise InternalError(f"{Path(split_input_dir) / INDUCERS_FILE} has no inducer column")
    try:
        scores = scores.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InternalError(f"{Path(split_input_dir) / INDUCERS_FILE}: an inducer column is not numeric ({exc})") from None
    scores.index = pd.MultiIndex.from_frame(frame[INDEX_NAMES])
    scores.columns.name = "inducer"
    return scores


def load_truth(split_reference_dir: Path) -> pd.Series:
    """Read a split's ``groundtruth.csv`` as a Series of labels.

    Parameters
    ----------
    split_reference_dir : Path
        Folder holding ``groundtruth.csv``.

    Returns
    -------
    pandas.Series
        Named ``label``, int64 values 0 or 1, indexed by ``(video_id, image_id)``.
    """
    path = Path(split_reference_dir) / GROUNDTRUTH_FILE
    frame = _read_table(path, INDEX_NAMES + ["label"])
    try:
        labels = frame["label"].astype(np.int64)
    except (TypeError, ValueError):
        raise InternalError(f"{path}: the label column holds values that are not integers") from None
    return pd.Series(labels.to_numpy(), index=pd.MultiIndex.from_frame(frame[INDEX_NAMES]), name="label")


def check_prediction(prediction: object, X: pd.DataFrame) -> pd.Series:
    """Check what ``Fusion.predict(X)`` returned and put it in ``X``'s row order.

    Parameters
    ----------
    prediction : object
        Should be a pandas Series of finite numbers whose index holds every
        ``(video_id, image_id)`` of ``X`` exactly once, in any order.
    X : pandas.DataFrame
        The inducers the prediction was made from.

    Returns
    -------
    pandas.Series
        float64 scores named ``score``, indexed exactly like ``X``.

    Raises
    ------
    ParticipantError
        One line saying what is wrong with the prediction and how to fix it.
    """
    if isinstance(prediction, pd.DataFrame):
        hint = " (select the column: frame['name'] or frame.squeeze('columns'))" if prediction.shape[1] == 1 else ""
        raise ParticipantError(f"Fusion.predict returned a DataFrame with {prediction.shape[1]} column(s); "
                               f"return a pandas Series of scores indexed like X{hint}")
    if not isinstance(prediction, pd.Series):
        raise ParticipantError(f"Fusion.predict returned a {type(prediction).__name__}; return a pandas Series "
                               "of scores indexed like X, e.g. pd.Series(scores, index=X.index)")
    index = prediction.index
    if not index.equals(X.index):
        if index.nlevels != 2:
            raise ParticipantError(
                f"Fusion.predict returned a Series whose index has {index.nlevels} level(s); index it by X's "
                "(video_id, image_id) MultiIndex, e.g. pd.Series(scores, index=X.index)")
        if index.has_duplicates:
            repeated = [str(key) for key in index[index.duplicated()].unique()]
            raise ParticipantError(f"Fusion.predict returned {len(repeated)} keyframe(s) more than once, e.g. "
                                   f"{list_ids(repeated)}; give every keyframe of X exactly once")
        unknown = index.difference(X.index, sort=False)
        if len(unknown):
            raise ParticipantError(f"Fusion.predict returned {len(unknown)} keyframe(s) that are not in X, e.g. "
                                   f"{list_ids([str(key) for key in unknown])}; keep X's (video_id, image_id) index")
        missing = X.index.difference(index, sort=False)
        if len(missing):
            raise ParticipantError(f"Fusion.predict left out {len(missing)} of the {len(X)} keyframes of X, e.g. "
                                   f"{list_ids([str(key) for key in missing])}; score every row of X")
        prediction = prediction.reindex(X.index)
    try:
        values = prediction.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ParticipantError(f"Fusion.predict returned a Series of dtype {prediction.dtype} that does not convert "
                               "to numbers; return float scores") from None
    bad = ~np.isfinite(values)
    if bad.any():
        keys = [str(key) for key in X.index[bad]]
        raise ParticipantError(f"Fusion.predict returned {int(bad.sum())} score(s) that are NaN or infinite, e.g. "
                               f"for {list_ids(keys)}; return finite numbers (fill NaN, clip infinities)")
    return pd.Series(values, index=X.index, name="score")


def write_run(prediction: pd.Series, X: pd.DataFrame, path: Path) -> None:
    """Write a prediction as a run: header ``video_id,image_id,score``, then X's rows in order.

    Scores are written with Python's shortest exact float repr, so the file ranks the
    keyframes exactly as the Series does.
    """
    scores = check_prediction(prediction, X)
    lines = ["video_id,image_id,score"]
    lines.extend(f"{video},{image},{score!r}"
                 for (video, image), score in zip(scores.index, scores.to_numpy().tolist()))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def mean_average_precision(scores: pd.Series, y: pd.Series, k: int | None = PRIMARY_CUTOFF) -> float:
    """MAP@k over the videos of ``y``: the leaderboard's metric, for local validation.

    Each video is ranked by score (ties: image id descending, as trec_eval), and

    .. math:: AP@k(v) = \\frac{1}{R_v} \\sum_{i \\le k} rel(i) \\, \\frac{\\#\\{relevant\\ in\\ top\\ i\\}}{i}

    with ``R_v`` the interesting keyframes of video ``v`` (AP = 0 when there is none).

    Parameters
    ----------
    scores : pandas.Series
        A score for every keyframe of ``y`` (extra keyframes are ignored).
    y : pandas.Series
        Labels as returned by :func:`load_truth`.
    k : int or None
        The cutoff; None for MAP without cutoff.
    """
    aligned = scores.reindex(y.index)
    if aligned.isna().any():
        raise ValueError(f"scores lack {int(aligned.isna().sum())} keyframe(s) of y, or hold NaN")
    videos = y.index.get_level_values(0)
    query = pd.factorize(videos, sort=True)[0].astype(np.int64)
    relevant = y.to_numpy() >= 1
    n_relevant = np.bincount(query[relevant], minlength=query.max() + 1)
    tie_rank = tie_rank_from_ids(y.index.get_level_values(1).to_numpy())
    return _map_codes(query, aligned.to_numpy(dtype=np.float64), tie_rank, relevant, n_relevant, k)


def primary_metric(prediction: pd.Series, y: pd.Series) -> float:
    """The leaderboard's primary metric, MAP@10 (:func:`mean_average_precision`)."""
    return mean_average_precision(prediction, y)


def _read_table(path: Path, required: list[str]) -> pd.DataFrame:
    """Read an organisers' CSV whose first columns must be ``required``, ids kept as strings."""
    if not path.is_file():
        raise InternalError(f"{path} not found; a split folder must hold {path.name}")
    frame = pd.read_csv(path, dtype={name: str for name in INDEX_NAMES}, skipinitialspace=True)
    columns = [str(c).strip() for c in frame.columns]
    if columns[:len(required)] != required:
        raise InternalError(f"{path} must start with the header {','.join(required)}, found {','.join(columns[:3])}")
    frame.columns = columns
    duplicated = frame.duplicated(INDEX_NAMES)
    if duplicated.any():
        first = frame.loc[duplicated, INDEX_NAMES].iloc[0].tolist()
        raise InternalError(f"{path}: keyframe {tuple(first)} appears more than once")
    return frame
