"""Build hooks of __TASK_NAME__: stand-in data and the inducers' predictions.

TODO(organiser): this generator makes a small, deterministic stand-in data set so that the
bundle builds and its baselines run before the real data exists. Describe your real data
here, adapt EDITIONS and CLASSES, or build from your files with
`bundlekit build __TASK_NAME__ --data DIR` (DIR/{dev,test}/{input_data,reference_data}/ in
the layout below; see docs/data.md).

Layout written per split:
- ``input_data/inducers.csv``: ``item_id,<inducer>,...``, one row per item, one class per inducer;
- ``reference_data/groundtruth.csv``: ``item_id,label``, the true class.

Each item has a true class; an inducer sees, for every class, ``a`` if it is the true
class, plus its own noise, a noise shared with its group and its bias towards some
classes, and predicts the class with the highest value. The roles give inducers of
varying quality: good ones, a correlated group, weak, random and biased ones.
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
#: TODO(organiser): your classes (`bundlekit new --classes` wrote them here, in the scoring
#: program and in fusion_io.py: keep the three in step).
CLASSES = (__CLASSES__)
#: Share of each class among the items.
CLASS_SHARE = np.linspace(1.5, 0.5, len(CLASSES)) / np.linspace(1.5, 0.5, len(CLASSES)).sum()
#: TODO(organiser): sizes of your editions (items per split, inducer roles).
EDITIONS: dict[str, dict] = {
    "sample": {"dev_items": 400, "test_items": 300,
               "roles": {"good": 2, "group": 3, "weak": 2, "random": 1, "biased": 1}},
}
DEFAULT_EDITION = "sample"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("inducers.csv",)
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}
#: Signal weight, noise standard deviations (own, shared with the group) and bias of each role.
ROLES: dict[str, tuple[float, float, float, float]] = {
    "good": (1.6, 1.0, 0.0, 0.0), "group": (1.3, 0.5, 1.0, 0.0), "weak": (0.6, 1.0, 0.0, 0.0),
    "random": (0.0, 1.0, 0.0, 0.0), "biased": (1.0, 1.0, 0.0, 1.2),
}


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print) -> None:
    """Write ``dest/{dev,test}/{input_data/inducers.csv, reference_data/groundtruth.csv}``.

    Byte-identical for the same edition and seed; an unknown edition raises ValueError.
    """
    preset = standin.edition_preset("__TASK_NAME__", EDITIONS, edition)
    rng = np.random.default_rng([seed, zlib.crc32(edition.encode("utf-8"))])
    roles = standin.shuffled_roles(preset["roles"], rng)
    favourite = rng.integers(len(CLASSES), size=len(roles))
    names = standin.inducer_names(len(roles))
    first_item = 1
    for split in SPLITS:
        n_items = preset[f"{split}_items"]
        truth = rng.choice(len(CLASSES), size=n_items, p=CLASS_SHARE)
        one_hot = np.eye(len(CLASSES))[truth]
        shared = rng.standard_normal((n_items, len(CLASSES)))
        columns = []
        for role, liked in zip(roles, favourite):
            signal, own, group, bias = ROLES[role]
            value = signal * one_hot + own * rng.standard_normal(one_hot.shape) + group * shared
            value[:, liked] += bias
            columns.append(np.argmax(value, axis=1))
        item_ids = [f"item_{first_item + i:04d}" for i in range(n_items)]
        first_item += n_items
        standin.write_csv(dest / split / "input_data" / "inducers.csv", [*ITEM_COLUMNS, *names],
               [[item, *(CLASSES[c[i]] for c in columns)] for i, item in enumerate(item_ids)])
        standin.write_csv(dest / split / "reference_data" / "groundtruth.csv", [*ITEM_COLUMNS, "label"],
               [[item, CLASSES[c]] for item, c in zip(item_ids, truth.tolist())])
        progress(f"__TASK_NAME__ {edition} {split}: {n_items} items, {len(CLASSES)} classes, {len(names)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, object]]:
    """Each inducer's classes as a prediction (a Series indexed like ``X``), by inducer name."""
    for name in X.columns:
        yield str(name), X[name].rename("label")


#: The task, declared once: the build reads it, derives the leaderboard from its metrics (the primary first)
#: and checks the scoring program against it.
TASK = TaskDeclaration(
    name="__TASK_NAME__", title="__TASK_TITLE__", kind="classification", item_columns=ITEM_COLUMNS,
    metrics=(
        __DECLARED_METRICS__
    ),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, input_files=INPUT_FILES, accepted_warnings=ACCEPTED_WARNINGS,
    classes=CLASSES,
)
