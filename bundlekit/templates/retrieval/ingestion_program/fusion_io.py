"""The __TASK_NAME__ data as pandas objects, for a participant's ``Fusion`` and for the kit.

A split folder holds ``topics.csv`` (``query_id,title``) and ``inducers/<name>.txt`` (TREC
runs ``query_id iter photo_id rank score run_id``), and for the dev split ``rGT.csv``
(``query_id,photo_id,rel``) and ``dGT.csv`` (``query_id,photo_id,cluster_id``).

- ``X = load_inducers(folder)``: a long DataFrame with columns ``inducer``, ``query_id``,
  ``photo_id``, ``rank``, ``score``, one row per ranked photo, sorted by inducer, query
  and rank. ``X.attrs["queries"]`` lists the split's queries (:func:`split_queries`).
- ``y = load_truth(folder)``: a DataFrame with columns ``query_id``, ``photo_id``, ``rel``
  (1, 0 or -1) and ``cluster_id`` (empty when the photo is not relevant).
- ``Fusion.predict(X)`` returns a DataFrame with columns ``query_id``, ``photo_id``,
  ``score``; each query's photos are ranked by score, highest first (ties by photo id).

:func:`check_prediction` enforces that contract and keeps the 50 best photos of each
query, :func:`write_run` writes the TREC run and :func:`primary_metric` computes the
leaderboard's F1@20 for local validation. pandas and numpy only: this module runs in the
platform's container.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.metrics.diversity import diversity_at, mean_diversity

TOPICS_FILE = "topics.csv"
INDUCERS_DIR = "inducers"
RELEVANCE_FILE = "rGT.csv"
CLUSTERS_FILE = "dGT.csv"
RUN_FILE_NAME = "run.txt"
RUN_ID = "fusion"
#: Photos a run may rank per query.
MAX_RANKED = 50
PRIMARY_CUTOFF = 20
PRIMARY_METRIC_TITLE = "F1@20"
PREDICTION_COLUMNS = ["query_id", "photo_id", "score"]


class QueryIds(tuple):
    """The query ids of a split: a tuple that pandas copies for free (attrs are deep-copied)."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> "QueryIds":
        return self


def load_inducers(split_input_dir: Path) -> pd.DataFrame:
    """Read a split's ``topics.csv`` and ``inducers/*.txt`` into one long frame (see the module doc)."""
    folder = Path(split_input_dir)
    queries = _read_csv(folder / TOPICS_FILE, ["query_id"])["query_id"].tolist()
    known = set(queries)
    files = sorted((folder / INDUCERS_DIR).glob("*.txt"))
    if not files:
        raise InternalError(f"{folder / INDUCERS_DIR} holds no <inducer>.txt file")
    frames = []
    for path in files:
        run = pd.read_csv(path, sep=r"\s+", header=None, dtype=str,
                          names=["query_id", "iter", "photo_id", "rank", "score", "run_id"])
        unknown = sorted(set(run["query_id"]) - known)
        if unknown:
            raise InternalError(f"{path}: queries {list_ids(unknown)} are not in {TOPICS_FILE}")
        frames.append(pd.DataFrame({"inducer": path.stem, "query_id": run["query_id"], "photo_id": run["photo_id"],
                                    "rank": run["rank"].astype(np.int64), "score": run["score"].astype(np.float64)}))
    frame = pd.concat(frames, ignore_index=True).sort_values(["inducer", "query_id", "rank"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["queries"] = QueryIds(queries)
    return frame


def load_truth(split_reference_dir: Path) -> pd.DataFrame:
    """Read a split's ``rGT.csv`` and ``dGT.csv``: one row per judged photo, ``cluster_id`` empty if not relevant."""
    folder = Path(split_reference_dir)
    relevance = _read_csv(folder / RELEVANCE_FILE, ["query_id", "photo_id", "rel"])
    clusters = _read_csv(folder / CLUSTERS_FILE, ["query_id", "photo_id", "cluster_id"])
    truth = relevance.merge(clusters, on=["query_id", "photo_id"], how="left")
    truth["rel"] = truth["rel"].astype(np.int64)
    truth["cluster_id"] = truth["cluster_id"].fillna("")
    truth.attrs["queries"] = QueryIds(sorted(set(truth["query_id"])))
    return truth


def split_queries(frame: pd.DataFrame) -> QueryIds:
    """The queries of the split ``frame`` (from :func:`load_inducers` or :func:`load_truth`) covers."""
    queries = frame.attrs.get("queries")
    if queries is None:
        raise ParticipantError("X.attrs['queries'] is missing; do not modify X in place "
                               "(work on X.copy() or on derived frames)")
    return queries


def inducer_names(X: pd.DataFrame) -> list[str]:
    """The inducers of ``X``, sorted."""
    return sorted(str(name) for name in X["inducer"].unique())


def inducer_prediction(X: pd.DataFrame, name: str) -> pd.DataFrame:
    """One inducer's ranking as a prediction; its score is minus its rank, so the order is exactly the inducer's."""
    rows = X[X["inducer"] == name]
    return rows[["query_id", "photo_id"]].assign(score=-rows["rank"].astype(np.float64))


def item_ids(X: pd.DataFrame) -> list[str]:
    """The photo ids the inducers ranked (those a run lists); the ingestion refuses code that ships them in bulk."""
    return [str(item) for item in X["photo_id"].unique()]


def check_prediction(prediction: object, X: pd.DataFrame) -> pd.DataFrame:
    """Check what ``Fusion.predict(X)`` returned and turn it into the run's ranking.

    Returns
    -------
    pandas.DataFrame
        Columns ``query_id``, ``photo_id``, ``score``, ``rank``: at most 50 photos per
        query, sorted by query, then score (highest first), then photo id; ranks from 0.

    Raises
    ------
    ParticipantError
        One line saying what is wrong with the prediction and how to fix it.
    """
    queries = split_queries(X)
    if not isinstance(prediction, pd.DataFrame):
        raise ParticipantError(f"Fusion.predict returned a {type(prediction).__name__}; return a pandas DataFrame "
                               "with columns query_id, photo_id and score (one row per ranked photo)")
    missing_columns = [c for c in PREDICTION_COLUMNS if c not in prediction.columns]
    if missing_columns:
        raise ParticipantError(f"Fusion.predict returned a DataFrame without column(s) {', '.join(missing_columns)} "
                               f"(it has {list_ids([str(c) for c in prediction.columns])}); "
                               "return columns query_id, photo_id and score")
    frame = pd.DataFrame({"query_id": prediction["query_id"].astype(str).to_numpy(),
                          "photo_id": prediction["photo_id"].astype(str).to_numpy()})
    try:
        frame["score"] = prediction["score"].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ParticipantError(f"Fusion.predict returned scores of dtype {prediction['score'].dtype} that do not "
                               "convert to numbers; return float scores") from None
    if not np.isfinite(frame["score"].to_numpy()).all():
        raise ParticipantError("Fusion.predict returned scores that are NaN or infinite; return finite numbers")
    if frame["photo_id"].str.contains(r"\s").any() or (frame["photo_id"] == "").any():
        raise ParticipantError("Fusion.predict returned an empty photo id or one with spaces; keep the ids of X")
    repeated = frame.duplicated(["query_id", "photo_id"])
    if repeated.any():
        first = frame.loc[repeated].iloc[0]
        raise ParticipantError(f"Fusion.predict returned photo {first['photo_id']!r} twice for query "
                               f"{first['query_id']!r}; give each photo at most one row per query")
    unknown = sorted(set(frame["query_id"]) - set(queries))
    if unknown:
        raise ParticipantError(f"Fusion.predict returned {len(unknown)} query id(s) that are not in the split, e.g. "
                               f"{list_ids(unknown)}; use the ids of X.attrs['queries']")
    empty = sorted(set(queries) - set(frame["query_id"]))
    if empty:
        raise ParticipantError(f"Fusion.predict ranked no photo for {len(empty)} of the {len(queries)} queries, e.g. "
                               f"{list_ids(empty)}; rank at least one photo for every query of X.attrs['queries']")
    frame = frame.assign(order=-frame["score"]).sort_values(["query_id", "order", "photo_id"], kind="stable")
    frame["rank"] = frame.groupby("query_id", sort=False).cumcount()
    return frame.loc[frame["rank"] < MAX_RANKED, ["query_id", "photo_id", "score", "rank"]].reset_index(drop=True)


def write_run(prediction: object, X: pd.DataFrame, path: Path) -> None:
    """Write a prediction as a TREC run: ``query_id 0 photo_id rank score fusion``, 50 photos per query at most."""
    ranking = check_prediction(prediction, X)
    lines = [f"{q} 0 {p} {r} {s!r} {RUN_ID}" for q, p, r, s in
             zip(ranking["query_id"], ranking["photo_id"], ranking["rank"].tolist(), ranking["score"].tolist())]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def primary_metric(prediction: object, y: pd.DataFrame, cutoff: int = PRIMARY_CUTOFF) -> float:
    """F1@cutoff over the queries of ``y``: the leaderboard's metric, for local validation.

    Per query, P@X = relevant photos in the top X / X, CR@X = clusters of the relevant
    photos in the top X / clusters of the query, F1@X = 2 P CR / (P + CR) (0 when both are
    0); the result is the mean of the per-query F1@X.
    """
    ranking = check_prediction(prediction, y)
    queries = list(split_queries(y))
    judged = ranking.merge(y, on=["query_id", "photo_id"], how="left")
    relevant = judged["rel"].fillna(0).to_numpy() == 1
    cluster_codes = {key: code for code, key in enumerate(sorted(set(zip(y["query_id"], y["cluster_id"]))))}
    cluster = np.array([cluster_codes.get((q, c), -1) if r else -1 for q, c, r in
                        zip(judged["query_id"], judged["cluster_id"].fillna(""), relevant)], dtype=np.int64)
    query_code = {query: code for code, query in enumerate(queries)}
    relevant_truth = y[y["rel"] == 1]
    n_clusters = relevant_truth.groupby("query_id")["cluster_id"].nunique().reindex(queries, fill_value=0)
    per_query = diversity_at(judged["query_id"].map(query_code).to_numpy(), judged["rank"].to_numpy(), relevant,
                             cluster, n_clusters.to_numpy(), (cutoff,))
    return mean_diversity(per_query)[cutoff][2]


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    """Read an organisers' CSV whose first columns must be ``required``, every value kept as a string."""
    if not path.is_file():
        raise InternalError(f"{path} not found; a split folder must hold {path.name}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    columns = [str(c).strip() for c in frame.columns]
    if columns[:len(required)] != required:
        raise InternalError(f"{path} must start with the header {','.join(required)}")
    frame.columns = columns
    return frame
