"""Build hooks of __TASK_NAME__: stand-in data and the inducers' predictions.

TODO(organiser): this generator makes a small, deterministic stand-in data set so that the
bundle builds and its baselines run before the real data exists. Describe your real data
here, adapt EDITIONS, or build from your files with `bundlekit build __TASK_NAME__ --data DIR`
(DIR/{dev,test}/{input_data,reference_data}/ in the layout below; see docs/data.md).

Layout written per split:
- ``input_data/inducers.csv``: ``query_id,doc_id,<inducer>,...``, one row per document;
- ``reference_data/groundtruth.csv``: ``query_id,doc_id,label`` (1 relevant, 0 not).

Each document has a latent relevance ``z``; the top documents of each query (a share
drawn per query) are relevant. An inducer reports ``a * z`` plus its own noise and a
noise shared with its group, on its own scale. The roles give inducers of varying
quality: good ones, a correlated group, weak, random and anti-correlated ones.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import standin
from bundlekit.declaration import Metric, TaskDeclaration

SPLITS = ("dev", "test")
#: The columns that identify an item (TASK.item_columns): rename them here, the data and the kind's
#: programs follow.
ITEM_COLUMNS = ("query_id", "doc_id")
#: TODO(organiser): sizes of your editions (queries per split, documents per query, inducer roles).
EDITIONS: dict[str, dict] = {
    "sample": {"dev_queries": 30, "test_queries": 20, "documents": (12, 28),
               "roles": {"good": 2, "group": 3, "weak": 2, "random": 1, "negative": 1}},
}
DEFAULT_EDITION = "sample"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("inducers.csv",)
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}
#: Signal weight and noise standard deviations (own, shared with the group) of each role.
ROLES: dict[str, tuple[float, float, float]] = {
    "good": (0.8, 1.0, 0.0), "group": (0.6, 0.4, 1.0), "weak": (0.3, 1.0, 0.0),
    "random": (0.0, 1.0, 0.0), "negative": (-0.4, 1.0, 0.0),
}
#: Share of relevant documents per query ~ Beta(a, b).
RELEVANT_BETA = (2.0, 6.0)


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print) -> None:
    """Write ``dest/{dev,test}/{input_data/inducers.csv, reference_data/groundtruth.csv}``.

    Byte-identical for the same edition and seed; an unknown edition raises ValueError.
    """
    preset = standin.edition_preset("__TASK_NAME__", EDITIONS, edition)
    rng = np.random.default_rng([seed, zlib.crc32(edition.encode("utf-8"))])
    roles = standin.shuffled_roles(preset["roles"], rng)
    names = standin.inducer_names(len(roles))
    probability_scale = rng.random(len(roles)) < 0.5  # the others report logits
    first_query = 1
    for split in SPLITS:
        n_queries = preset[f"{split}_queries"]
        low, high = preset["documents"]
        sizes = rng.integers(low, high + 1, size=n_queries)
        query = np.repeat(np.arange(n_queries), sizes)
        latent = rng.standard_normal(query.size)
        label = _labels(query, latent, sizes, rng)
        shared = rng.standard_normal(query.size)
        columns = []
        for role, probability in zip(roles, probability_scale):
            signal, own, group = ROLES[role]
            raw = signal * latent + own * rng.standard_normal(query.size) + group * shared
            columns.append(1.0 / (1.0 + np.exp(-raw)) if probability else raw)
        query_ids = [f"q{first_query + q:03d}" for q in query.tolist()]
        first_query += n_queries
        doc_ids = [f"d{i:05d}" for i in range(1, query.size + 1)]
        standin.write_csv(dest / split / "input_data" / "inducers.csv", [*ITEM_COLUMNS, *names],
               [[q, d, *(f"{c[i]:.6f}" for c in columns)] for i, (q, d) in enumerate(zip(query_ids, doc_ids))])
        standin.write_csv(dest / split / "reference_data" / "groundtruth.csv", [*ITEM_COLUMNS, "label"],
               [[q, d, str(v)] for q, d, v in zip(query_ids, doc_ids, label.tolist())])
        progress(f"__TASK_NAME__ {edition} {split}: {query.size} documents in {n_queries} queries, "
                 f"{int(label.sum())} relevant, {len(names)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, object]]:
    """Each inducer's scores as a prediction (a Series indexed like ``X``), by inducer name."""
    for name in X.columns:
        yield str(name), X[name].rename("score")


def _labels(query: np.ndarray, latent: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1 for the top documents of each query by latent relevance, at least one per query."""
    n_relevant = np.maximum(1, np.round(rng.beta(*RELEVANT_BETA, size=sizes.size) * sizes)).astype(int)
    start = np.cumsum(sizes) - sizes
    order = np.lexsort((-latent, query))
    rank = np.empty(query.size, dtype=int)
    rank[order] = np.arange(query.size) - start[query[order]]
    return (rank < n_relevant[query]).astype(np.int64)


#: The task, declared once: the build reads it, derives the leaderboard from its metrics (the primary first)
#: and checks the scoring program against it.
TASK = TaskDeclaration(
    name="__TASK_NAME__", title="__TASK_TITLE__", kind="ranking", item_columns=ITEM_COLUMNS,
    metrics=(
        __DECLARED_METRICS__
    ),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, input_files=INPUT_FILES, accepted_warnings=ACCEPTED_WARNINGS,
)
