"""A ranked list of items per query, judged for relevance and diversity: P@X, CR@X, F1@X.

A split folder holds ``topics.csv`` (``query_id,title``) and ``inducers/<name>.txt`` (one
TREC run per inducer, lines ``query_id iter item_id rank score run_id``), and for the dev
split ``rGT.csv`` (``query_id,item_id,rel``) and ``dGT.csv`` (``query_id,item_id,cluster_id``).

- ``load_inducers``: a long DataFrame ``inducer, query_id, item_id, rank, score``, one row
  per item an inducer ranked for a query, sorted by inducer, query, rank;
  ``X.attrs["queries"]`` holds every query id of the split (numeric ids in numeric order).
- ``load_truth``: a DataFrame ``query_id, item_id, rel, cluster_id`` (nullable Int64,
  ``<NA>`` unless rel is 1), one row per judged item.
- ``Fusion.predict(X)`` returns a DataFrame with columns ``query_id, item_id, score`` or a
  Series of scores indexed by ``(query_id, item_id)``; each query is ranked by score,
  highest first (equal scores: item id ascending) and its top items make the TREC run,
  read on the scoring side by ``scoring_common.formats.diversity.read_trec_run``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scoring_common.errors import InternalError, ParticipantError, list_ids
from scoring_common.formats.diversity import natural_key
from scoring_common.metrics.diversity import diversity_at, f1_score
from scoring_common.predictions.frames import (SharedStrings, SplitIds, checked_header, required_file, split_ids,
                                               write_lines)

TREC_FIELDS = ("query_id", "iter", "item_id", "rank", "score", "run_id")


@dataclass(frozen=True)
class RankedLists:
    """Ranked lists per query (the ``retrieval`` kind).

    Parameters
    ----------
    item_column : str
        The column of the ranked items' ids (``photo_id``); the query column is ``query_id``.
    item : str
        What an item is called in messages (``photo``).
    max_per_query : int
        Items a run keeps per query (the scoring program's limit).
    cutoff : int
        The cutoff X of the primary metric, F1@X.
    run_id : str
        The run_id field of the runs :meth:`write_run` writes.
    topics_file, inducers_dir, relevance_file, clusters_file, run_file : str
        File and folder names of the split folder and of the run.
    """

    item_column: str = "photo_id"
    item: str = "photo"
    max_per_query: int = 50
    cutoff: int = 20
    run_id: str = "fusion"
    topics_file: str = "topics.csv"
    inducers_dir: str = "inducers"
    relevance_file: str = "rGT.csv"
    clusters_file: str = "dGT.csv"
    run_file: str = "run.txt"

    query_column = "query_id"
    #: The methods a task's fusion_io module exposes as its functions.
    FUNCTIONS = ("load_topics", "load_inducers", "load_truth", "split_queries", "inducer_names", "inducer_prediction",
                 "item_ids", "check_prediction", "write_run", "diversity_per_query", "diversity_scores",
                 "primary_metric", "inducer_diversity")

    def module_names(self) -> dict[str, object]:
        """What a task's ``fusion_io`` exposes: the type's functions (bound methods), file and column names."""
        names: dict[str, object] = {name: getattr(self, name) for name in self.FUNCTIONS}
        names.update(TOPICS_FILE=self.topics_file, INDUCERS_DIR=self.inducers_dir,
                     RELEVANCE_FILE=self.relevance_file, CLUSTERS_FILE=self.clusters_file, RUN_FILE_NAME=self.run_file,
                     RUN_ID=self.run_id, PRIMARY_CUTOFF=self.cutoff, X_COLUMNS=self.x_columns,
                     Y_COLUMNS=self.y_columns, PREDICTION_COLUMNS=self.prediction_columns, QueryIds=SplitIds)
        return names

    @property
    def x_columns(self) -> list[str]:
        """The columns of ``X``."""
        return ["inducer", self.query_column, self.item_column, "rank", "score"]

    @property
    def y_columns(self) -> list[str]:
        """The columns of ``y``."""
        return [self.query_column, self.item_column, "rel", "cluster_id"]

    @property
    def prediction_columns(self) -> list[str]:
        """The columns a predicted DataFrame must have."""
        return [self.query_column, self.item_column, "score"]

    # ------------------------------------------------------------------ loading

    def load_topics(self, split_input_dir: Path) -> pd.DataFrame:
        """Read a split's topics: columns ``query_id``, ``title``, sorted by query id (numeric ids in numeric order)."""
        path = Path(split_input_dir) / self.topics_file
        topics = _read_csv(path, ["query_id", "title"])
        if topics["query_id"].duplicated().any():
            raise InternalError(f"{path}: query {topics['query_id'][topics['query_id'].duplicated()].iloc[0]!r} "
                                "is listed more than once")
        order = sorted(range(len(topics)), key=lambda row: natural_key(topics["query_id"].iat[row]))
        return topics.iloc[order].reset_index(drop=True)

    def load_inducers(self, split_input_dir: Path) -> pd.DataFrame:
        """Read a split's topics and inducer runs.

        Returns
        -------
        pandas.DataFrame
            Columns ``inducer``, ``query_id``, item id (str), ``rank`` (int64, 0-based
            position in the inducer's ranking of the query, in the order of the file's
            rank field) and ``score`` (float64); rows sorted by inducer name, query id,
            rank. ``attrs["queries"]`` holds the split's query ids (those of the topics,
            numeric ids in numeric order).
        """
        folder = Path(split_input_dir)
        queries = SplitIds(self.load_topics(folder)["query_id"].tolist())
        paths = sorted((folder / self.inducers_dir).glob("*.txt"))
        if not paths:
            raise InternalError(f"{folder / self.inducers_dir} holds no <inducer>.txt run")
        frames = [self._read_inducer_run(path, pd.Index(queries)) for path in paths]
        X = pd.concat(frames, ignore_index=True)
        X.insert(0, "inducer", np.repeat(np.array([path.stem for path in paths], dtype=object),
                                         [len(frame) for frame in frames]))
        X = X[self.x_columns]
        strings = SharedStrings()
        strings.distinct(list(queries))
        for column in ("query_id", self.item_column):
            X[column] = pd.Series(strings.column(X[column].to_numpy(dtype=object)), index=X.index,
                                  dtype=X[column].dtype, copy=False)
        X.attrs["queries"] = queries
        return X

    def load_truth(self, split_reference_dir: Path) -> pd.DataFrame:
        """Read a split's relevance and cluster files into one frame.

        Returns
        -------
        pandas.DataFrame
            Columns ``query_id``, item id (str), ``rel`` (int64: 1, 0 or -1) and
            ``cluster_id`` (nullable Int64, ``<NA>`` for items that are not relevant); rows
            sorted by query id, then in file order. ``attrs["queries"]`` holds the queries
            of the relevance file.
        """
        folder = Path(split_reference_dir)
        rel_path, cluster_path = folder / self.relevance_file, folder / self.clusters_file
        keys = [self.query_column, self.item_column]
        judged = _read_csv(rel_path, [*keys, "rel"])
        rel = pd.to_numeric(judged["rel"], errors="coerce")
        if not rel.isin([1, 0, -1]).all():
            raise InternalError(f"{rel_path}: rel must be 1, 0 or -1 (line {int(np.argmax(~rel.isin([1, 0, -1]))) + 2})")
        judged["rel"] = rel.astype(np.int64)
        if judged.duplicated(keys).any():
            first = judged.loc[judged.duplicated(keys), keys].iloc[0].tolist()
            raise InternalError(f"{rel_path}: {self.item} {first[1]!r} of query {first[0]!r} is judged twice")

        clusters = _read_csv(cluster_path, [*keys, "cluster_id"])
        cluster_id = pd.to_numeric(clusters["cluster_id"], errors="coerce")
        if cluster_id.isna().any() or (cluster_id != cluster_id.round()).any():
            raise InternalError(f"{cluster_path}: cluster_id must be an integer "
                                f"(line {int(np.argmax(cluster_id.isna() | (cluster_id != cluster_id.round()))) + 2})")
        clusters["cluster_id"] = cluster_id.astype("Int64")
        if clusters.duplicated(keys).any():
            first = clusters.loc[clusters.duplicated(keys), keys].iloc[0].tolist()
            raise InternalError(f"{cluster_path}: {self.item} {first[1]!r} of query {first[0]!r} has two clusters")
        truth = judged.merge(clusters, on=keys, how="left", indicator=True, validate="one_to_one")
        clustered = truth["_merge"] == "both"
        if clustered.sum() != len(clusters) or (clustered != (truth["rel"] == 1)).any():
            raise InternalError(f"{cluster_path} must give a cluster to every relevant {self.item} of "
                                f"{rel_path.name} and to no other {self.item}")
        queries = SplitIds(sorted(set(truth["query_id"]), key=natural_key))
        code = truth["query_id"].map({query_id: number for number, query_id in enumerate(queries)})
        truth = truth.iloc[np.argsort(code.to_numpy(), kind="stable")].reset_index(drop=True)[self.y_columns]
        truth.attrs["queries"] = queries
        return truth

    def split_queries(self, frame: pd.DataFrame) -> SplitIds:
        """The query ids of the split ``frame`` (from :meth:`load_inducers` or :meth:`load_truth`) covers."""
        return split_ids(frame, "queries")

    def inducer_names(self, X: pd.DataFrame) -> list[str]:
        """The inducers of ``X``, sorted."""
        return sorted(str(name) for name in X["inducer"].unique())

    def inducer_prediction(self, X: pd.DataFrame, name: str) -> pd.DataFrame:
        """One inducer's ranking as a prediction; its score is minus its rank, so the order is exactly the inducer's."""
        rows = X[X["inducer"] == name]
        return rows[[self.query_column, self.item_column]].assign(score=-rows["rank"].astype(np.float64))

    def item_ids(self, X: pd.DataFrame) -> list[str]:
        """The item ids the inducers ranked (those a run lists); the ingestion refuses code that ships them in bulk."""
        return [str(item) for item in X[self.item_column].unique()]

    # ------------------------------------------------------------------ checking and writing

    def check_prediction(self, prediction: object, X: pd.DataFrame) -> pd.DataFrame:
        """Check what ``Fusion.predict(X)`` returned and turn it into a ranking.

        Parameters
        ----------
        prediction : object
            A DataFrame with columns ``query_id``, item id, ``score`` (others ignored), or
            a Series of scores indexed by ``(query_id, item id)``. Integer ids are accepted
            for numeric ids and compared as strings.
        X : pandas.DataFrame
            The inducers the prediction was made from.

        Returns
        -------
        pandas.DataFrame
            Columns ``query_id``, item id, ``rank``, ``score``: every item of the
            prediction, queries in the order of ``X.attrs["queries"]``, each ranked by score
            descending (equal scores: item id ascending), ``rank`` from 0.

        Raises
        ------
        ParticipantError
            One line saying what is wrong with the prediction and how to fix it.
        """
        queries = self.split_queries(X)
        frame = self._prediction_frame(prediction)
        code = frame["query_id"].map({query_id: code for code, query_id in enumerate(queries)})
        if code.isna().any():
            unknown = list(dict.fromkeys(frame["query_id"][code.isna()]))
            raise ParticipantError(f"Fusion.predict returned {len(unknown)} query id(s) that are not in the split, "
                                   f"e.g. {list_ids(unknown)}; use the query ids of X (X.attrs['queries'])")
        query_code = code.to_numpy(dtype=np.int64)
        is_known = _KnownPairs.of(X, queries, self.item_column).contain(query_code, frame[self.item_column])
        if not is_known.all():
            unknown = [f"{q}/{p}" for q, p in zip(frame["query_id"][~is_known], frame[self.item_column][~is_known])]
            raise ParticipantError(f"Fusion.predict returned {len(unknown)} {self.item}(s) that no inducer ranked for "
                                   f"their query, e.g. {list_ids(unknown)} (query/{self.item}); rank only "
                                   f"{self.item}s of X's rows for that query")
        present = set(frame["query_id"])
        missing = [query_id for query_id in queries if query_id not in present]
        if missing:
            raise ParticipantError(f"Fusion.predict left out {len(missing)} of the {len(queries)} queries, e.g. "
                                   f"{list_ids(missing)}; rank at least one {self.item} for every query of "
                                   "X.attrs['queries']")
        return self._ranked(frame, query_code)

    def write_run(self, prediction: object, X: pd.DataFrame, path: Path) -> None:
        """Write a prediction as a TREC run: the top items of every query (:attr:`max_per_query`).

        Lines ``query_id 0 item_id rank score run_id``, queries in split order, rank from 0;
        scores are written with Python's shortest exact float repr, so the file ranks the
        items exactly as the prediction does.
        """
        ranking = self.check_prediction(prediction, X)
        top = ranking[ranking["rank"] < self.max_per_query]
        write_lines(path, [f"{query_id} 0 {item_id} {rank} {score!r} {self.run_id}"
                           for query_id, item_id, rank, score in zip(top["query_id"].tolist(),
                                                                     top[self.item_column].tolist(),
                                                                     top["rank"].tolist(), top["score"].tolist())])

    # ------------------------------------------------------------------ metrics

    def diversity_per_query(self, prediction: object, y: pd.DataFrame, cutoff: int | None = None) -> pd.DataFrame:
        """P@X, CR@X and F1@X of every query of ``y``, as the scoring program computes them.

        Each query is ranked as :meth:`check_prediction` ranks it; for its top X items

        .. math:: P@X = \\frac{\\#relevant}{X}, \\quad CR@X = \\frac{\\#clusters\\ of\\ the\\ relevant}
                  {\\#clusters\\ of\\ the\\ query}, \\quad F1@X = \\frac{2 \\, P \\, CR}{P + CR}

        Items the ground truth does not judge, and rel -1, count as not relevant; a query
        of ``y`` the prediction lacks scores 0.

        Parameters
        ----------
        prediction : pandas.DataFrame or pandas.Series
            As accepted by :meth:`check_prediction` (queries outside ``y`` are ignored).
        y : pandas.DataFrame
            Ground truth as returned by :meth:`load_truth`.
        cutoff : int, optional
            The cutoff X; default :attr:`cutoff`.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``query_id`` (the queries of ``y``), columns ``p``, ``cr``, ``f1``.
        """
        cutoff = self.cutoff if cutoff is None else cutoff
        keys = [self.query_column, self.item_column]
        queries = self.split_queries(y)
        query_code = {query_id: code for code, query_id in enumerate(queries)}
        frame = self._prediction_frame(prediction)
        code = frame["query_id"].map(query_code)
        inside = code.notna().to_numpy()
        ranking = self._ranked(frame[inside], code[inside].to_numpy(dtype=np.int64))
        top = ranking[ranking["rank"] < cutoff]
        judged = top.merge(y, on=keys, how="left")
        relevant = (judged["rel"] == 1).to_numpy()
        cluster_code = pd.factorize(pd.MultiIndex.from_arrays([judged["query_id"], judged["cluster_id"]]))[0]
        relevant_truth = y[y["rel"] == 1]
        n_clusters = relevant_truth.groupby("query_id")["cluster_id"].nunique().reindex(list(queries), fill_value=0)
        per_query = diversity_at(judged["query_id"].map(query_code).to_numpy(dtype=np.int64),
                                 judged["rank"].to_numpy(), relevant, np.where(relevant, cluster_code, -1),
                                 n_clusters.to_numpy(dtype=np.int64), cutoffs=(cutoff,))[cutoff]
        return pd.DataFrame({"p": per_query.precision, "cr": per_query.cluster_recall, "f1": per_query.f1},
                            index=pd.Index(list(queries), name="query_id"))

    def diversity_scores(self, prediction: object, y: pd.DataFrame, cutoff: int | None = None) -> dict[str, float]:
        """Mean P@X, CR@X and F1@X over the queries of ``y``: the leaderboard's metrics at X = :attr:`cutoff`.

        F1@X is the mean of the per-query F1 values (:meth:`diversity_per_query`), not the
        harmonic mean of the mean P and CR.

        Returns
        -------
        dict
            ``{"f1": ..., "cr": ..., "p": ...}``.
        """
        means = self.diversity_per_query(prediction, y, cutoff).mean()
        return {"f1": float(means["f1"]), "cr": float(means["cr"]), "p": float(means["p"])}

    def primary_metric(self, prediction: object, y: pd.DataFrame, cutoff: int | None = None) -> float:
        """The leaderboard's primary metric, F1@X (:meth:`diversity_scores` gives CR@X and P@X too)."""
        return self.diversity_scores(prediction, y, cutoff)["f1"]

    def inducer_diversity(self, X: pd.DataFrame, y: pd.DataFrame, cutoff: int | None = None) -> pd.DataFrame:
        """Mean P@X, CR@X and F1@X of every inducer's own ranking, over the queries of ``y``.

        The same values as :meth:`diversity_scores` of each inducer's rows ranked by their
        ``rank``, computed for all inducers at once.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``inducer`` (sorted), columns ``p``, ``cr``, ``f1``.
        """
        cutoff = self.cutoff if cutoff is None else cutoff
        keys = [self.query_column, self.item_column]
        queries = list(self.split_queries(y))
        inducers = sorted(X["inducer"].unique())
        top = X.loc[X["rank"] < cutoff, ["inducer", *keys]]
        relevant = y.loc[y["rel"] == 1, [*keys, "cluster_id"]]
        hits = top.merge(relevant, on=keys).groupby(["inducer", "query_id"])["cluster_id"]
        grid = pd.MultiIndex.from_product([inducers, queries], names=["inducer", "query_id"])
        n_hits = hits.size().reindex(grid, fill_value=0).to_numpy().reshape(len(inducers), len(queries))
        n_found = hits.nunique().reindex(grid, fill_value=0).to_numpy().reshape(len(inducers), len(queries))
        n_clusters = relevant.groupby("query_id")["cluster_id"].nunique().reindex(queries, fill_value=0).to_numpy()
        precision = n_hits / cutoff
        cluster_recall = np.where(n_clusters > 0, n_found / np.maximum(n_clusters, 1), 0.0)
        f1 = f1_score(precision, cluster_recall)
        return pd.DataFrame({"p": precision.mean(axis=1), "cr": cluster_recall.mean(axis=1), "f1": f1.mean(axis=1)},
                            index=pd.Index(inducers, name="inducer"))

    # ------------------------------------------------------------------ helpers

    def _prediction_frame(self, prediction: object) -> pd.DataFrame:
        """The ``query_id, item id, score`` columns of a prediction: ids as str, scores finite float64, no pair twice."""
        item_column, item = self.item_column, self.item
        columns = ", ".join(self.prediction_columns)
        if isinstance(prediction, pd.Series):
            if prediction.index.nlevels != 2:
                raise ParticipantError(
                    f"Fusion.predict returned a Series whose index has {prediction.index.nlevels} level(s); index the "
                    f"scores by (query_id, {item_column}), or return a DataFrame with columns {columns}")
            prediction = pd.DataFrame({"query_id": prediction.index.get_level_values(0),
                                       item_column: prediction.index.get_level_values(1),
                                       "score": prediction.to_numpy()})
        if not isinstance(prediction, pd.DataFrame):
            raise ParticipantError(f"Fusion.predict returned a {type(prediction).__name__}; return a pandas DataFrame "
                                   f"with columns {columns}")
        absent = [column for column in self.prediction_columns if column not in prediction.columns]
        if absent:
            raise ParticipantError(
                f"Fusion.predict returned a DataFrame without column(s) {', '.join(absent)} (it has "
                f"{list_ids([str(c) for c in prediction.columns])}); return columns {columns} "
                "(use reset_index() if the ids are in the index)")
        if len(prediction) == 0:
            raise ParticipantError(f"Fusion.predict returned no row; rank the {item}s of every query of X")
        frame = pd.DataFrame({"query_id": _ids(prediction["query_id"], "query_id"),
                              item_column: _ids(prediction[item_column], item_column)})
        try:
            scores = prediction["score"].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise ParticipantError(f"Fusion.predict returned a score column of dtype {prediction['score'].dtype} that "
                                   "does not convert to numbers; return float scores") from None
        bad = ~np.isfinite(scores)
        if bad.any():
            examples = [f"{q}/{p}" for q, p in zip(frame["query_id"][bad], frame[item_column][bad])]
            raise ParticipantError(f"Fusion.predict returned {int(bad.sum())} score(s) that are NaN or infinite, e.g. "
                                   f"for {list_ids(examples)} (query/{item}); return finite numbers")
        frame["score"] = scores
        repeated = frame.duplicated(["query_id", item_column]).to_numpy()
        if repeated.any():
            pairs = list(dict.fromkeys(f"{q}/{p}" for q, p in zip(frame["query_id"][repeated],
                                                                   frame[item_column][repeated])))
            raise ParticipantError(f"Fusion.predict returned {len(pairs)} (query_id, {item_column}) pair(s) more than "
                                   f"once, e.g. {list_ids(pairs)} (query/{item}); give each {item} of a query one "
                                   "score")
        return frame

    def _ranked(self, frame: pd.DataFrame, query_code: np.ndarray) -> pd.DataFrame:
        """Sort by query code, score descending, item id ascending; number the ranks from 0 per query."""
        item_code = pd.factorize(frame[self.item_column].to_numpy(), sort=True)[0]
        order = np.lexsort((item_code, -frame["score"].to_numpy(), query_code))
        ranked = frame.iloc[order].reset_index(drop=True)
        sorted_code = query_code[order]
        starts = np.flatnonzero(np.r_[True, sorted_code[1:] != sorted_code[:-1]]) if len(order) else np.array([], int)
        lengths = np.diff(np.r_[starts, len(order)])
        ranked.insert(2, "rank", np.arange(len(order)) - np.repeat(starts, lengths))
        return ranked

    def _read_inducer_run(self, path: Path, queries: pd.Index) -> pd.DataFrame:
        """One inducer's TREC run, sorted by query then rank, ranks renumbered from 0 per query."""
        fields = [self.item_column if field == "item_id" else field for field in TREC_FIELDS]
        text_fields = {field: str for field in ("query_id", "iter", self.item_column, "run_id")}
        try:
            run = pd.read_csv(path, sep=r"\s+", header=None, names=fields, dtype=text_fields,
                              keep_default_na=False, na_values={"rank": [""], "score": [""]}, quoting=3,
                              encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise InternalError(f"{path}: not a TREC run of lines {' '.join(fields)} ({exc})") from None
        if (run["run_id"] == "").any():
            raise InternalError(f"{path}: a line has fewer than {len(fields)} fields ({' '.join(fields)})")
        rank, score = run["rank"], run["score"]
        if rank.dtype.kind not in "iuf" or score.dtype.kind not in "iuf" or (rank != rank.round()).any() \
                or not np.isfinite(score.to_numpy(dtype=np.float64)).all():
            raise InternalError(f"{path}: a rank is not an integer or a score is not a finite number")
        code = queries.get_indexer(run["query_id"])
        if (code < 0).any():
            raise InternalError(f"{path}: query {run['query_id'].iloc[int(np.argmax(code < 0))]!r} is not in "
                                f"{self.topics_file}")
        keys = ["query_id", self.item_column]
        if run.duplicated(keys).any():
            first = run.loc[run.duplicated(keys), keys].iloc[0].tolist()
            raise InternalError(f"{path}: {self.item} {first[1]!r} appears twice for query {first[0]!r}")
        order = np.lexsort((np.arange(len(run)), rank.to_numpy(), code))
        codes = code[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        return pd.DataFrame({"query_id": run["query_id"].to_numpy()[order],
                             self.item_column: run[self.item_column].to_numpy()[order],
                             "rank": position.astype(np.int64), "score": score.to_numpy(dtype=np.float64)[order]})


class _KnownPairs:
    """The (query, item) pairs of ``X`` as integer codes, built once per ``X`` and reused.

    The build checks one prediction per inducer against the same whole-split ``X``, and the
    ingestion checks a prediction then writes it: hashing every item id of ``X`` again each
    time would cost more than the rest of the check.
    """

    _last: tuple[weakref.ref, tuple, "_KnownPairs"] | None = None

    def __init__(self, X: pd.DataFrame, queries: tuple[str, ...], item_column: str) -> None:
        x_query = pd.Index(queries).get_indexer(X["query_id"]).astype(np.int64)
        item_code, items = pd.factorize(X[item_column].to_numpy(dtype=object))
        self.items = pd.Index(items)
        self.n_items = max(len(items), 1)
        self.known = np.unique(x_query[x_query >= 0] * self.n_items + item_code[x_query >= 0])

    @classmethod
    def of(cls, X: pd.DataFrame, queries: tuple[str, ...], item_column: str) -> "_KnownPairs":
        """The pairs of ``X``: those of the previous call when ``X`` is the same frame of the same shape."""
        column = X[item_column].to_numpy()
        key = (len(X), column.__array_interface__["data"][0], queries, item_column)
        last = cls._last
        if last is not None and last[0]() is X and last[1] == key:
            return last[2]
        pairs = cls(X, queries, item_column)
        cls._last = (weakref.ref(X), key, pairs)
        return pairs

    def contain(self, query_code: np.ndarray, item_ids: pd.Series) -> np.ndarray:
        """Whether each ``(query code, item id)`` is a pair of ``X``."""
        item_code = self.items.get_indexer(item_ids.to_numpy(dtype=object))
        asked = query_code * self.n_items + item_code
        position = np.searchsorted(self.known, asked)
        found = np.zeros(len(asked), dtype=bool)
        inside = position < len(self.known)
        found[inside] = self.known[position[inside]] == asked[inside]
        return found & (item_code >= 0)


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


def _read_csv(path: Path, header: list[str]) -> pd.DataFrame:
    """Read an organisers' CSV whose header is exactly ``header``, every field kept as a stripped string."""
    frame = pd.read_csv(required_file(path), dtype=str, keep_default_na=False, skipinitialspace=True,
                        encoding="utf-8-sig")
    frame = checked_header(frame, path, header, exact=True)
    for column in header:
        frame[column] = frame[column].str.strip()
    empty = (frame[header[:2]] == "").any(axis=1).to_numpy()
    if empty.any():
        raise InternalError(f"{path}: an id is empty (line {int(np.argmax(empty)) + 2})")
    return frame
