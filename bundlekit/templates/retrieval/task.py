"""Build hooks of __TASK_NAME__: stand-in data and the inducers' predictions.

TODO(organiser): this generator makes a small, deterministic stand-in data set so that the
bundle builds and its baselines run before the real data exists. Describe your real data
here, adapt EDITIONS, or build from your files with `bundlekit build __TASK_NAME__ --data DIR`
(DIR/{dev,test}/{input_data,reference_data}/ in the layout below; see docs/data.md).

Layout written per split:
- ``input_data/topics.csv``: ``query_id,title``;
- ``input_data/inducers/<name>.txt``: a TREC run ``query_id 0 photo_id rank score run_id``,
  the inducer's 50 best photos per query;
- ``reference_data/rGT.csv``: ``query_id,photo_id,rel`` (1 relevant, 0 not, -1 don't know);
- ``reference_data/dGT.csv``: ``query_id,photo_id,cluster_id`` for the relevant photos.

Every query has a pool of photos with a latent relevance; the relevant ones fall in
visual clusters of very different sizes. An inducer scores ``a * relevance`` plus its
own noise, a noise shared with its group and a liking for some clusters; "diverse"
inducers demote photos of a cluster they already ranked. The roles give inducers of
varying quality: good and diverse ones, a correlated group, weak and random ones.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import standin
from bundlekit.declaration import Metric, TaskDeclaration

SPLITS = ("dev", "test")
#: TODO(organiser): sizes of your editions (queries per split, photos per query, inducer roles).
EDITIONS: dict[str, dict] = {
    "sample": {"dev_queries": 20, "test_queries": 15, "pool": 120,
               "roles": {"good": 2, "diverse": 1, "group": 3, "weak": 1, "random": 1}},
}
DEFAULT_EDITION = "sample"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("topics.csv", "inducers/*.txt")
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}
#: Photos an inducer ranks per query (the run format's limit).
RANKED = 50
#: Share of relevant photos, clusters per query (range), share of "don't know" judgements.
RELEVANT_SHARE, CLUSTERS, UNKNOWN_SHARE = 0.3, (8, 20), 0.05
#: Signal weight, noise standard deviations (own, shared with the group), cluster liking and
#: penalty for each further photo of a cluster already ranked, per role.
ROLES: dict[str, tuple[float, float, float, float, float]] = {
    "good": (0.8, 1.0, 0.0, 0.8, 0.0), "diverse": (0.6, 1.0, 0.0, 0.3, 0.6),
    "group": (0.6, 0.5, 1.0, 0.8, 0.0), "weak": (0.3, 1.0, 0.0, 0.8, 0.0), "random": (0.0, 1.0, 0.0, 0.0, 0.0),
}


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print) -> None:
    """Write ``dest/{dev,test}/{input_data/{topics.csv, inducers/*.txt}, reference_data/{rGT,dGT}.csv}``.

    Byte-identical for the same edition and seed; an unknown edition raises ValueError.
    """
    preset = standin.edition_preset("__TASK_NAME__", EDITIONS, edition)
    rng = np.random.default_rng([seed, zlib.crc32(edition.encode("utf-8"))])
    roles = standin.shuffled_roles(preset["roles"], rng)
    names = standin.inducer_names(len(roles))
    pool = preset["pool"]
    first_query, first_photo = 1, 1
    for split in SPLITS:
        query_ids = [f"q{first_query + q:02d}" for q in range(preset[f"{split}_queries"])]
        first_query += len(query_ids)
        runs: dict[str, list[str]] = {name: [] for name in names}
        relevance_lines, cluster_lines = [], []
        for query_id in query_ids:
            photo_ids = [f"p{first_photo + i:06d}" for i in range(pool)]
            first_photo += pool
            latent = rng.standard_normal(pool)
            relevant = latent > np.quantile(latent, 1.0 - RELEVANT_SHARE)
            n_clusters = int(rng.integers(CLUSTERS[0], CLUSTERS[1] + 1))
            # Cluster sizes are skewed; non-relevant photos get pseudo-clusters (what they look like).
            cluster = rng.choice(n_clusters, size=pool, p=_skewed(n_clusters))
            unknown = ~relevant & (rng.random(pool) < UNKNOWN_SHARE)
            for photo, is_relevant, is_unknown, c in zip(photo_ids, relevant, unknown, cluster.tolist()):
                relevance_lines.append(f"{query_id},{photo},{1 if is_relevant else -1 if is_unknown else 0}")
                if is_relevant:
                    cluster_lines.append(f"{query_id},{photo},{c + 1}")
            shared = rng.standard_normal(pool)
            for name, role in zip(names, roles):
                signal, own, group, liking, penalty = ROLES[role]
                score = (signal * latent + own * rng.standard_normal(pool) + group * shared
                         + liking * rng.standard_normal(n_clusters)[cluster])
                order = _ranking(score, cluster, penalty)[:RANKED]
                runs[name].extend(f"{query_id} 0 {photo_ids[i]} {rank} {RANKED - rank} {name}"
                                  for rank, i in enumerate(order.tolist()))
        input_dir, reference_dir = dest / split / "input_data", dest / split / "reference_data"
        standin.write_lines(input_dir / "topics.csv", ["query_id,title"] + [f"{q},query {q}" for q in query_ids])
        for name, lines in runs.items():
            standin.write_lines(input_dir / "inducers" / f"{name}.txt", lines)
        standin.write_lines(reference_dir / "rGT.csv", ["query_id,photo_id,rel"] + relevance_lines)
        standin.write_lines(reference_dir / "dGT.csv", ["query_id,photo_id,cluster_id"] + cluster_lines)
        progress(f"__TASK_NAME__ {edition} {split}: {len(query_ids)} queries of {pool} photos, "
                 f"{len(cluster_lines)} relevant, {len(names)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, object]]:
    """Each inducer's ranking as a prediction (query_id, photo_id, score frame), by inducer name."""
    for name in sorted(X["inducer"].unique()):
        rows = X[X["inducer"] == name]
        yield str(name), rows[["query_id", "photo_id"]].assign(score=-rows["rank"].astype(float))


def _skewed(n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** 0.8
    return weights / weights.sum()


def _ranking(score: np.ndarray, cluster: np.ndarray, penalty: float) -> np.ndarray:
    """Photo positions by decreasing score; with a penalty, each further photo of a cluster is demoted."""
    order = np.argsort(-score, kind="stable")
    if penalty == 0.0:
        return order
    seen = np.zeros(cluster.max() + 1)
    adjusted = np.empty_like(score)
    for i in order.tolist():
        adjusted[i] = score[i] - penalty * seen[cluster[i]]
        seen[cluster[i]] += 1
    return np.argsort(-adjusted, kind="stable")


#: The task, declared once: the build reads it, derives the leaderboard from its metrics (the primary first)
#: and checks the scoring program against it.
TASK = TaskDeclaration(
    name="__TASK_NAME__", title="__TASK_TITLE__", kind="retrieval", item_columns=("query_id", "photo_id"),
    metrics=(
        __DECLARED_METRICS__
    ),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, input_files=INPUT_FILES, accepted_warnings=ACCEPTED_WARNINGS,
)
