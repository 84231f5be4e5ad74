"""The fusion-div data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``topics.csv`` (``query_id,title``) and ``inducers/<name>.txt``
(one TREC run per inducer, lines ``query_id iter photo_id rank score run_id``), and for
the dev split ``rGT.csv`` (``query_id,photo_id,rel``) and ``dGT.csv``
(``query_id,photo_id,cluster_id``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``,
  ``query_id``, ``photo_id`` (strings), ``rank`` (int, 0 = the inducer's best photo for
  the query) and ``score`` (float, on the inducer's own scale), one row per photo an
  inducer ranked for a query; rows sorted by inducer, query, rank.
  ``X.attrs["queries"]`` is a tuple of every query id of the split (``split_queries(X)``
  returns it).
- ``y = load_truth(folder)``: a DataFrame with columns ``query_id``, ``photo_id``,
  ``rel`` (1 relevant, 0 not, -1 "don't know", which counts as not relevant) and
  ``cluster_id`` (the photo's visual cluster, nullable integer, ``<NA>`` unless rel is 1),
  one row per judged photo.
- ``Fusion.predict(X)`` returns a DataFrame with columns ``query_id``, ``photo_id`` and
  ``score`` (other columns are ignored), or a Series of scores indexed by the
  MultiIndex ``(query_id, photo_id)``. Each query is ranked by score, highest first
  (equal scores: photo id ascending), and its top 50 photos make the run. Every query of
  the split needs at least one photo; a photo may appear once per query and must be one
  that some inducer ranked for that query (photos outside the inducers' runs are
  unknown to the task).

:func:`check_prediction` enforces that contract, :func:`write_run` writes the TREC run,
:func:`diversity_scores` computes the task's metrics (P@X, CR@X, F1@X) for local
validation and :func:`inducer_diversity` those of every inducer at once. pandas and
numpy only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.formats.diversity import natural_key
from scoring_common.metrics.diversity import diversity_at, f1_score

TOPICS_FILE = "topics.csv"
INDUCERS_DIR = "inducers"
RELEVANCE_FILE = "rGT.csv"
CLUSTERS_FILE = "dGT.csv"
RUN_FILE_NAME = "run.txt"
#: The run_id field of the runs written by :func:`write_run`.
RUN_ID = "fusion"
#: Photos kept per query in a run (the scoring program's limit).
MAX_PHOTOS_PER_QUERY = 50
#: Cutoff of the primary metric, F1@20.
PRIMARY_CUTOFF = 20
PRIMARY_METRIC_TITLE = "F1@20"
X_COLUMNS = ["inducer", "query_id", "photo_id", "rank", "score"]
Y_COLUMNS = ["query_id", "photo_id", "rel", "cluster_id"]
PREDICTION_COLUMNS = ["query_id", "photo_id", "score"]
_TREC_FIELDS = ["query_id", "iter", "photo_id", "rank", "score", "run_id"]


class QueryIds(tuple):
    """The query ids of a split: a tuple that pandas copies for free.

    pandas deep-copies ``attrs`` on every operation that builds a new frame; returning
    the same immutable tuple keeps slicing and ``groupby`` as fast as without attrs.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> "QueryIds":
        return self


# --------------------------------------------------------------------------- loaders


def load_topics(split_input_dir: Path) -> pd.DataFrame:
    """Read a split's ``topics.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``query_id``, ``title`` (strings), sorted by query id (numeric ids in
        numeric order).
    """
    path = Path(split_input_dir) / TOPICS_FILE
    topics = _read_csv(path, ["query_id", "title"])
    if topics["query_id"].duplicated().any():
        raise InternalError(f"{path}: query {topics['query_id'][topics['query_id'].duplicated()].iloc[0]!r} "
                            "is listed more than once")
    order = sorted(range(len(topics)), key=lambda row: natural_key(topics["query_id"].iat[row]))
    return topics.iloc[order].reset_index(drop=True)


def load_inducers(split_input_dir: Path) -> pd.DataFrame:
    """Read a split's ``topics.csv`` and ``inducers/*.txt``.

    Parameters
    ----------
    split_input_dir : Path
        Folder holding ``topics.csv`` and ``inducers/``.

    Returns
    -------
    pandas.DataFrame
        Columns ``inducer``, ``query_id``, ``photo_id`` (str), ``rank`` (int64, 0-based
        position in the inducer's ranking of the query, in the order of the file's rank
        field) and ``score`` (float64); rows sorted by inducer name, query id, rank.
        ``attrs["queries"]`` holds the split's query ids (those of ``topics.csv``, numeric
        ids in numeric order).
    """
    folder = Path(split_input_dir)
    queries = QueryIds(load_topics(folder)["query_id"].tolist())
    paths = sorted((folder / INDUCERS_DIR).glob("*.txt"))
    if not paths:
        raise InternalError(f"{folder / INDUCERS_DIR} holds no <inducer>.txt run")
    frames = [_read_inducer_run(path, pd.Index(queries)) for path in paths]
    X = pd.concat(frames, ignore_index=True)
    X.insert(0, "inducer", np.repeat(np.array([path.stem for path in paths], dtype=object),
                                     [len(frame) for frame in frames]))
    X = X[X_COLUMNS]
    X.attrs["queries"] = queries
    return X


def load_truth(split_reference_dir: Path) -> pd.DataFrame:
    """Read a split's ``rGT.csv`` and ``dGT.csv`` into one frame.

    Parameters
    ----------
    split_reference_dir : Path
        Folder holding ``rGT.csv`` and ``dGT.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``query_id``, ``photo_id`` (str), ``rel`` (int64: 1, 0 or -1) and
        ``cluster_id`` (nullable Int64, ``<NA>`` for photos that are not relevant); rows
        sorted by query id, then in file order. ``attrs["queries"]`` holds the queries of
        ``rGT.csv``.
    """
    folder = Path(split_reference_dir)
    rel_path, cluster_path = folder / RELEVANCE_FILE, folder / CLUSTERS_FILE
    judged = _read_csv(rel_path, ["query_id", "photo_id", "rel"])
    rel = pd.to_numeric(judged["rel"], errors="coerce")
    if not rel.isin([1, 0, -1]).all():
        raise InternalError(f"{rel_path}: rel must be 1, 0 or -1 (line {int(np.argmax(~rel.isin([1, 0, -1]))) + 2})")
    judged["rel"] = rel.astype(np.int64)
    keys = ["query_id", "photo_id"]
    if judged.duplicated(keys).any():
        first = judged.loc[judged.duplicated(keys), keys].iloc[0].tolist()
        raise InternalError(f"{rel_path}: photo {first[1]!r} of query {first[0]!r} is judged twice")

    clusters = _read_csv(cluster_path, ["query_id", "photo_id", "cluster_id"])
    cluster_id = pd.to_numeric(clusters["cluster_id"], errors="coerce")
    if cluster_id.isna().any() or (cluster_id != cluster_id.round()).any():
        raise InternalError(f"{cluster_path}: cluster_id must be an integer "
                            f"(line {int(np.argmax(cluster_id.isna() | (cluster_id != cluster_id.round()))) + 2})")
    clusters["cluster_id"] = cluster_id.astype("Int64")
    if clusters.duplicated(keys).any():
        first = clusters.loc[clusters.duplicated(keys), keys].iloc[0].tolist()
        raise InternalError(f"{cluster_path}: photo {first[1]!r} of query {first[0]!r} has two clusters")
    truth = judged.merge(clusters, on=keys, how="left", indicator=True, validate="one_to_one")
    clustered = truth["_merge"] == "both"
    if clustered.sum() != len(clusters) or (clustered != (truth["rel"] == 1)).any():
        raise InternalError(f"{cluster_path} must give a cluster to every relevant photo of {rel_path.name} "
                            "and to no other photo")
    queries = QueryIds(sorted(set(truth["query_id"]), key=natural_key))
    code = truth["query_id"].map({query_id: number for number, query_id in enumerate(queries)})
    truth = truth.iloc[np.argsort(code.to_numpy(), kind="stable")].reset_index(drop=True)[Y_COLUMNS]
    truth.attrs["queries"] = queries
    return truth


def split_queries(frame: pd.DataFrame) -> QueryIds:
    """The query ids of the split ``frame`` (from :func:`load_inducers` or :func:`load_truth`) covers."""
    queries = frame.attrs.get("queries")
    if queries is None:
        raise ParticipantError("X.attrs['queries'] is missing; do not modify X in place "
                               "(work on X.copy() or on derived frames)")
    return queries


# --------------------------------------------------------------------------- predictions


def item_ids(X: pd.DataFrame) -> list[str]:
    """The photo ids the inducers ranked (those a run lists); the ingestion refuses code that ships them in bulk."""
    return [str(item) for item in X["photo_id"].unique()]


def check_prediction(prediction: object, X: pd.DataFrame) -> pd.DataFrame:
    """Check what ``Fusion.predict(X)`` returned and turn it into a ranking.

    Parameters
    ----------
    prediction : object
        A DataFrame with columns ``query_id``, ``photo_id``, ``score`` (others ignored),
        or a Series of scores indexed by ``(query_id, photo_id)``. Integer ids are
        accepted for numeric ids and compared as strings.
    X : pandas.DataFrame
        The inducers the prediction was made from.

    Returns
    -------
    pandas.DataFrame
        Columns ``query_id``, ``photo_id``, ``rank``, ``score``: every photo of the
        prediction, queries in the order of ``X.attrs["queries"]``, each ranked by score
        descending (equal scores: photo id ascending), ``rank`` from 0.

    Raises
    ------
    ParticipantError
        One line saying what is wrong with the prediction and how to fix it.
    """
    queries = split_queries(X)
    frame = _prediction_frame(prediction)
    query_code = {query_id: code for code, query_id in enumerate(queries)}
    code = frame["query_id"].map(query_code)
    if code.isna().any():
        unknown = list(dict.fromkeys(frame["query_id"][code.isna()]))
        raise ParticipantError(f"Fusion.predict returned {len(unknown)} query id(s) that are not in the split, e.g. "
                               f"{list_ids(unknown)}; use the query ids of X (X.attrs['queries'])")
    is_known = _pairs_in(frame, code.to_numpy(dtype=np.int64), X, queries)
    if not is_known.all():
        unknown = [f"{q}/{p}" for q, p in zip(frame["query_id"][~is_known], frame["photo_id"][~is_known])]
        raise ParticipantError(f"Fusion.predict returned {len(unknown)} photo(s) that no inducer ranked for their "
                               f"query, e.g. {list_ids(unknown)} (query/photo); rank only photos of X's rows for that "
                               "query")
    present = set(frame["query_id"])
    missing = [query_id for query_id in queries if query_id not in present]
    if missing:
        raise ParticipantError(f"Fusion.predict left out {len(missing)} of the {len(queries)} queries, e.g. "
                               f"{list_ids(missing)}; rank at least one photo for every query of X.attrs['queries']")
    return _ranked(frame, code.to_numpy(dtype=np.int64))


def write_run(prediction: object, X: pd.DataFrame, path: Path) -> None:
    """Write a prediction as a TREC run: the top 50 photos of every query, run_id ``fusion``.

    Lines ``query_id 0 photo_id rank score fusion``, queries in split order, rank from 0;
    scores are written with Python's shortest exact float repr, so the file ranks the
    photos exactly as the prediction does.
    """
    ranking = check_prediction(prediction, X)
    top = ranking[ranking["rank"] < MAX_PHOTOS_PER_QUERY]
    lines = [f"{query_id} 0 {photo_id} {rank} {score!r} {RUN_ID}"
             for query_id, photo_id, rank, score in zip(top["query_id"].tolist(), top["photo_id"].tolist(),
                                                        top["rank"].tolist(), top["score"].tolist())]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- metric


def diversity_per_query(prediction: object, y: pd.DataFrame, cutoff: int = PRIMARY_CUTOFF) -> pd.DataFrame:
    """P@X, CR@X and F1@X of every query of ``y``, as the scoring program computes them.

    Each query is ranked as :func:`check_prediction` ranks it; for its top X photos

    .. math:: P@X = \\frac{\\#relevant}{X}, \\quad CR@X = \\frac{\\#clusters\\ of\\ the\\ relevant}
              {\\#clusters\\ of\\ the\\ query}, \\quad F1@X = \\frac{2 \\, P \\, CR}{P + CR}

    Photos the ground truth does not judge, and rel -1, count as not relevant; a query of
    ``y`` the prediction lacks scores 0.

    Parameters
    ----------
    prediction : pandas.DataFrame or pandas.Series
        As accepted by :func:`check_prediction` (queries outside ``y`` are ignored).
    y : pandas.DataFrame
        Ground truth as returned by :func:`load_truth`.
    cutoff : int
        The cutoff X.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``query_id`` (the queries of ``y``), columns ``p``, ``cr``, ``f1``.
    """
    queries = split_queries(y)
    query_code = {query_id: code for code, query_id in enumerate(queries)}
    frame = _prediction_frame(prediction)
    code = frame["query_id"].map(query_code)
    inside = code.notna().to_numpy()
    ranking = _ranked(frame[inside], code[inside].to_numpy(dtype=np.int64))
    top = ranking[ranking["rank"] < cutoff]
    judged = top.merge(y, on=["query_id", "photo_id"], how="left")
    relevant = (judged["rel"] == 1).to_numpy()
    cluster_code = pd.factorize(pd.MultiIndex.from_arrays([judged["query_id"], judged["cluster_id"]]))[0]
    relevant_truth = y[y["rel"] == 1]
    n_clusters = relevant_truth.groupby("query_id")["cluster_id"].nunique().reindex(list(queries), fill_value=0)
    per_query = diversity_at(judged["query_id"].map(query_code).to_numpy(dtype=np.int64),
                             judged["rank"].to_numpy(), relevant, np.where(relevant, cluster_code, -1),
                             n_clusters.to_numpy(dtype=np.int64), cutoffs=(cutoff,))[cutoff]
    return pd.DataFrame({"p": per_query.precision, "cr": per_query.cluster_recall, "f1": per_query.f1},
                        index=pd.Index(list(queries), name="query_id"))


def diversity_scores(prediction: object, y: pd.DataFrame, cutoff: int = PRIMARY_CUTOFF) -> dict[str, float]:
    """Mean P@X, CR@X and F1@X over the queries of ``y``: the leaderboard's metrics at X = 20.

    F1@X is the mean of the per-query F1 values (:func:`diversity_per_query`), not the
    harmonic mean of the mean P and CR.

    Returns
    -------
    dict
        ``{"f1": ..., "cr": ..., "p": ...}``.
    """
    means = diversity_per_query(prediction, y, cutoff).mean()
    return {"f1": float(means["f1"]), "cr": float(means["cr"]), "p": float(means["p"])}


def primary_metric(prediction: object, y: pd.DataFrame) -> float:
    """The leaderboard's primary metric, F1@20 (:func:`diversity_scores` gives CR@20 and P@20 too)."""
    return diversity_scores(prediction, y)["f1"]


def inducer_diversity(X: pd.DataFrame, y: pd.DataFrame, cutoff: int = PRIMARY_CUTOFF) -> pd.DataFrame:
    """Mean P@X, CR@X and F1@X of every inducer's own ranking, over the queries of ``y``.

    The same values as :func:`diversity_scores` of each inducer's rows ranked by their
    ``rank``, computed for all inducers at once.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``inducer`` (sorted), columns ``p``, ``cr``, ``f1``.
    """
    queries = list(split_queries(y))
    inducers = sorted(X["inducer"].unique())
    top = X.loc[X["rank"] < cutoff, ["inducer", "query_id", "photo_id"]]
    relevant = y.loc[y["rel"] == 1, ["query_id", "photo_id", "cluster_id"]]
    hits = top.merge(relevant, on=["query_id", "photo_id"]).groupby(["inducer", "query_id"])["cluster_id"]
    grid = pd.MultiIndex.from_product([inducers, queries], names=["inducer", "query_id"])
    n_hits = hits.size().reindex(grid, fill_value=0).to_numpy().reshape(len(inducers), len(queries))
    n_found = hits.nunique().reindex(grid, fill_value=0).to_numpy().reshape(len(inducers), len(queries))
    n_clusters = relevant.groupby("query_id")["cluster_id"].nunique().reindex(queries, fill_value=0).to_numpy()
    precision = n_hits / cutoff
    cluster_recall = np.where(n_clusters > 0, n_found / np.maximum(n_clusters, 1), 0.0)
    f1 = f1_score(precision, cluster_recall)
    return pd.DataFrame({"p": precision.mean(axis=1), "cr": cluster_recall.mean(axis=1), "f1": f1.mean(axis=1)},
                        index=pd.Index(inducers, name="inducer"))


# --------------------------------------------------------------------------- helpers


def _prediction_frame(prediction: object) -> pd.DataFrame:
    """The ``query_id, photo_id, score`` columns of a prediction: ids as str, scores finite float64, no pair twice."""
    if isinstance(prediction, pd.Series):
        if prediction.index.nlevels != 2:
            raise ParticipantError(
                f"Fusion.predict returned a Series whose index has {prediction.index.nlevels} level(s); index the "
                "scores by (query_id, photo_id), or return a DataFrame with columns query_id, photo_id, score")
        prediction = pd.DataFrame({"query_id": prediction.index.get_level_values(0),
                                   "photo_id": prediction.index.get_level_values(1),
                                   "score": prediction.to_numpy()})
    if not isinstance(prediction, pd.DataFrame):
        raise ParticipantError(f"Fusion.predict returned a {type(prediction).__name__}; return a pandas DataFrame "
                               "with columns query_id, photo_id, score")
    absent = [column for column in PREDICTION_COLUMNS if column not in prediction.columns]
    if absent:
        raise ParticipantError(
            f"Fusion.predict returned a DataFrame without column(s) {', '.join(absent)} (it has "
            f"{list_ids([str(c) for c in prediction.columns])}); return columns query_id, photo_id, score "
            "(use reset_index() if the ids are in the index)")
    if len(prediction) == 0:
        raise ParticipantError("Fusion.predict returned no row; rank the photos of every query of X")
    frame = pd.DataFrame({"query_id": _ids(prediction["query_id"], "query_id"),
                          "photo_id": _ids(prediction["photo_id"], "photo_id")})
    try:
        scores = prediction["score"].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ParticipantError(f"Fusion.predict returned a score column of dtype {prediction['score'].dtype} that "
                               "does not convert to numbers; return float scores") from None
    bad = ~np.isfinite(scores)
    if bad.any():
        examples = [f"{q}/{p}" for q, p in zip(frame["query_id"][bad], frame["photo_id"][bad])]
        raise ParticipantError(f"Fusion.predict returned {int(bad.sum())} score(s) that are NaN or infinite, e.g. "
                               f"for {list_ids(examples)} (query/photo); return finite numbers")
    frame["score"] = scores
    repeated = frame.duplicated(["query_id", "photo_id"]).to_numpy()
    if repeated.any():
        pairs = list(dict.fromkeys(f"{q}/{p}" for q, p in zip(frame["query_id"][repeated],
                                                               frame["photo_id"][repeated])))
        raise ParticipantError(f"Fusion.predict returned {len(pairs)} (query_id, photo_id) pair(s) more than once, "
                               f"e.g. {list_ids(pairs)} (query/photo); give each photo of a query one score")
    return frame


def _ids(column: pd.Series, name: str) -> np.ndarray:
    """Ids as strings; integers are accepted (numeric ids), other types are not."""
    values = column.to_numpy()
    if values.dtype.kind in "iu":
        return values.astype(str).astype(object)
    if values.dtype.kind == "O" and all(isinstance(value, str) for value in values):
        return values
    bad = next((value for value in values if not isinstance(value, (str, int, np.integer)) or isinstance(value, bool)),
               values[0])
    raise ParticipantError(f"Fusion.predict returned a {name} {str(bad)[:40]} of type {type(bad).__name__}; "
                           f"{name}s are strings as in X (do not convert them to floats)")


def _pairs_in(frame: pd.DataFrame, query_code: np.ndarray, X: pd.DataFrame, queries: tuple[str, ...]) -> np.ndarray:
    """Whether each (query_id, photo_id) of ``frame`` is a row of ``X``; pairs compared as integer codes."""
    x_query = pd.Index(queries).get_indexer(X["query_id"])
    photo_code, photos = pd.factorize(np.concatenate([X["photo_id"].to_numpy(dtype=object),
                                                      frame["photo_id"].to_numpy(dtype=object)]))
    n_photos = max(len(photos), 1)
    known = x_query.astype(np.int64) * n_photos + photo_code[:len(X)]
    asked = query_code * n_photos + photo_code[len(X):]
    return np.isin(asked, known[x_query >= 0])


def _ranked(frame: pd.DataFrame, query_code: np.ndarray) -> pd.DataFrame:
    """Sort by query code, score descending, photo id ascending; number the ranks from 0 per query."""
    photo_code = pd.factorize(frame["photo_id"].to_numpy(), sort=True)[0]
    order = np.lexsort((photo_code, -frame["score"].to_numpy(), query_code))
    ranked = frame.iloc[order].reset_index(drop=True)
    sorted_code = query_code[order]
    starts = np.flatnonzero(np.r_[True, sorted_code[1:] != sorted_code[:-1]]) if len(order) else np.array([], int)
    lengths = np.diff(np.r_[starts, len(order)])
    ranked.insert(2, "rank", np.arange(len(order)) - np.repeat(starts, lengths))
    return ranked


def _read_csv(path: Path, header: list[str]) -> pd.DataFrame:
    """Read an organisers' CSV whose header is exactly ``header``, every field kept as a string."""
    if not path.is_file():
        raise InternalError(f"{path} not found; a split folder must hold {path.name}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    columns = [str(c).strip() for c in frame.columns]
    if columns != header:
        raise InternalError(f"{path} must have the header {','.join(header)}, found {','.join(columns)}")
    frame.columns = columns
    for column in header:
        frame[column] = frame[column].str.strip()
    empty = (frame[header[:2]] == "").any(axis=1).to_numpy()
    if empty.any():
        raise InternalError(f"{path}: an id is empty (line {int(np.argmax(empty)) + 2})")
    return frame


def _read_inducer_run(path: Path, queries: pd.Index) -> pd.DataFrame:
    """One inducer's TREC run, sorted by query then rank, ranks renumbered from 0 per query."""
    text_fields = {field: str for field in ("query_id", "iter", "photo_id", "run_id")}
    try:
        run = pd.read_csv(path, sep=r"\s+", header=None, names=_TREC_FIELDS, dtype=text_fields, keep_default_na=False,
                          na_values={"rank": [""], "score": [""]}, quoting=3, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InternalError(f"{path}: not a TREC run of lines {' '.join(_TREC_FIELDS)} ({exc})") from None
    if (run["run_id"] == "").any():
        raise InternalError(f"{path}: a line has fewer than {len(_TREC_FIELDS)} fields ({' '.join(_TREC_FIELDS)})")
    rank, score = run["rank"], run["score"]
    if rank.dtype.kind not in "iuf" or score.dtype.kind not in "iuf" or (rank != rank.round()).any() \
            or not np.isfinite(score.to_numpy(dtype=np.float64)).all():
        raise InternalError(f"{path}: a rank is not an integer or a score is not a finite number")
    code = queries.get_indexer(run["query_id"])
    if (code < 0).any():
        raise InternalError(f"{path}: query {run['query_id'].iloc[int(np.argmax(code < 0))]!r} is not in {TOPICS_FILE}")
    if run.duplicated(["query_id", "photo_id"]).any():
        first = run.loc[run.duplicated(["query_id", "photo_id"]), ["query_id", "photo_id"]].iloc[0].tolist()
        raise InternalError(f"{path}: photo {first[1]!r} appears twice for query {first[0]!r}")
    order = np.lexsort((np.arange(len(run)), rank.to_numpy(), code))
    codes = code[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return pd.DataFrame({"query_id": run["query_id"].to_numpy()[order], "photo_id": run["photo_id"].to_numpy()[order],
                         "rank": position.astype(np.int64), "score": score.to_numpy(dtype=np.float64)[order]})
