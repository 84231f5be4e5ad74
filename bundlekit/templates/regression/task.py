"""Build hooks of __TASK_NAME__: stand-in data and the inducers' predictions.

TODO(organiser): this generator makes a small, deterministic stand-in data set so that the
bundle builds and its baselines run before the real data exists. Describe your real data
here, adapt EDITIONS, or build from your files with `bundlekit build __TASK_NAME__ --data DIR`
(DIR/{dev,test}/{input_data,reference_data}/ in the layout below; see docs/data.md).

Layout written per split:
- ``input_data/inducers.csv``: ``item_id,<inducer>,...``, one row per item;
- ``reference_data/groundtruth.csv``: ``item_id,value``, the value to predict.

Each item has a latent ``z``; its value is ``0.5 + 0.15 z`` clipped to [0, 1]. An
inducer sees ``a * z`` plus its own noise and a noise shared with its group, and reports
it on its own scale (the value's scale, a percentage or a logit). The roles give
inducers of varying quality: good ones, a correlated group, weak, random and
anti-correlated ones.
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
ITEM_COLUMNS = ("item_id",)
#: TODO(organiser): sizes of your editions (items per split, inducer roles).
EDITIONS: dict[str, dict] = {
    "sample": {"dev_items": 400, "test_items": 300,
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
SCALES = ("value", "percent", "logit")


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print) -> None:
    """Write ``dest/{dev,test}/{input_data/inducers.csv, reference_data/groundtruth.csv}``.

    Byte-identical for the same edition and seed; an unknown edition raises ValueError.
    """
    preset = standin.edition_preset("__TASK_NAME__", EDITIONS, edition)
    rng = np.random.default_rng([seed, zlib.crc32(edition.encode("utf-8"))])
    roles = standin.shuffled_roles(preset["roles"], rng)
    scales = [SCALES[i] for i in rng.integers(len(SCALES), size=len(roles))]
    names = standin.inducer_names(len(roles))
    first_item = 1
    for split in SPLITS:
        n_items = preset[f"{split}_items"]
        latent = rng.standard_normal(n_items)
        value = np.clip(0.5 + 0.15 * latent, 0.0, 1.0)
        shared = rng.standard_normal(n_items)
        columns = []
        for role, scale in zip(roles, scales):
            signal, own, group = ROLES[role]
            raw = signal * latent + own * rng.standard_normal(n_items) + group * shared
            columns.append(_on_scale(raw / np.sqrt(signal**2 + own**2 + group**2), scale))
        item_ids = [f"item_{first_item + i:04d}" for i in range(n_items)]
        first_item += n_items
        standin.write_csv(dest / split / "input_data" / "inducers.csv", [*ITEM_COLUMNS, *names],
               [[item, *(f"{c[i]:.6f}" for c in columns)] for i, item in enumerate(item_ids)])
        standin.write_csv(dest / split / "reference_data" / "groundtruth.csv", [*ITEM_COLUMNS, "value"],
               [[item, f"{v:.6f}"] for item, v in zip(item_ids, value.tolist())])
        progress(f"__TASK_NAME__ {edition} {split}: {n_items} items, {len(names)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, object]]:
    """Each inducer's values as a prediction (a Series indexed like ``X``), by inducer name."""
    for name in X.columns:
        yield str(name), X[name].rename("value")


def _on_scale(standardised: np.ndarray, scale: str) -> np.ndarray:
    """Report standardised raw predictions on an inducer's own scale."""
    if scale == "value":
        return 0.5 + 0.15 * standardised
    if scale == "percent":
        return 100.0 / (1.0 + np.exp(-standardised))
    return 1.5 * standardised - 0.5


#: The task, declared once: the build reads it, derives the leaderboard from its metrics (the primary first)
#: and checks the scoring program against it.
TASK = TaskDeclaration(
    name="__TASK_NAME__", title="__TASK_TITLE__", kind="regression", item_columns=ITEM_COLUMNS,
    metrics=(
        __DECLARED_METRICS__
    ),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, input_files=INPUT_FILES, accepted_warnings=ACCEPTED_WARNINGS,
)
