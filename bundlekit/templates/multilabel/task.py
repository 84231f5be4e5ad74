"""Build hooks of __TASK_NAME__: stand-in data and the inducers' predictions.

TODO(organiser): this generator makes a small, deterministic stand-in data set so that the
bundle builds and its baselines run before the real data exists. Describe your real data
here, adapt EDITIONS, or build from your files with `bundlekit build __TASK_NAME__ --data DIR`
(DIR/{dev,test}/{input_data,reference_data}/ in the layout below; see docs/data.md).

Layout written per split:
- ``input_data/items.txt``: the item ids, one per line;
- ``input_data/inducers/<name>.csv``: ``item_id|LABEL;LABEL;...``, one line per item;
- ``reference_data/groundtruth.csv``: header ``ID<TAB>labels``, then ``item_id<TAB>LABEL;...``.

Items have a few labels drawn from a long-tailed vocabulary (a few items have none). An
inducer detects a true label when its skill plus noise (shared by every inducer, shared
with its group, and its own) is positive, and adds false labels drawn by frequency. The
roles give inducers of varying quality: good ones, a correlated group, weak, random and
over-predicting ones.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import standin
from bundlekit.declaration import Metric, TaskDeclaration

SPLITS = ("dev", "test")
#: TODO(organiser): sizes of your editions (items per split, vocabulary, inducer roles).
EDITIONS: dict[str, dict] = {
    "sample": {"dev_items": 300, "test_items": 200, "labels": 30,
               "roles": {"good": 2, "group": 3, "weak": 1, "random": 1, "eager": 1}},
}
DEFAULT_EDITION = "sample"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("items.txt", "inducers/*.csv")
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}
#: Labels per item ~ Poisson(LABELS_PER_ITEM), at most MAX_LABELS; items with no label at all.
LABELS_PER_ITEM, MAX_LABELS, EMPTY_SHARE = 2.0, 6, 0.03
#: Detection skill, noise standard deviations (own, shared with the group) and false labels
#: per item of each role; every inducer also shares a noise of standard deviation 0.8.
ROLES: dict[str, tuple[float, float, float, float]] = {
    "good": (0.3, 0.8, 0.0, 0.8), "group": (0.2, 0.3, 0.8, 1.0), "weak": (-0.4, 0.8, 0.0, 1.2),
    "random": (-9.0, 0.0, 0.0, 2.0), "eager": (0.8, 0.6, 0.0, 3.0),
}
COMMON_NOISE = 0.8


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print) -> None:
    """Write ``dest/{dev,test}/{input_data/{items.txt, inducers/*.csv}, reference_data/groundtruth.csv}``.

    Byte-identical for the same edition and seed; an unknown edition raises ValueError.
    """
    preset = standin.edition_preset("__TASK_NAME__", EDITIONS, edition)
    rng = np.random.default_rng([seed, zlib.crc32(edition.encode("utf-8"))])
    n_labels = preset["labels"]
    labels = [f"L{number:02d}" for number in range(1, n_labels + 1)]
    frequency = 1.0 / np.arange(1, n_labels + 1)
    frequency /= frequency.sum()
    roles = standin.shuffled_roles(preset["roles"], rng)
    names = standin.inducer_names(len(roles))
    first_item = 1
    for split in SPLITS:
        n_items = preset[f"{split}_items"]
        item_ids = [f"item_{first_item + i:04d}" for i in range(n_items)]
        first_item += n_items
        counts = np.where(rng.random(n_items) < EMPTY_SHARE, 0,
                          np.clip(rng.poisson(LABELS_PER_ITEM, n_items), 1, MAX_LABELS))
        truth = [sorted(rng.choice(n_labels, size=k, replace=False, p=frequency).tolist()) for k in counts]
        true_item = np.repeat(np.arange(n_items), counts)
        true_label = np.array([label for item in truth for label in item], dtype=np.int64)
        common, shared = rng.standard_normal(true_item.size), rng.standard_normal(true_item.size)
        folder = dest / split / "input_data"
        for name, role in zip(names, roles):
            skill, own, group, false_rate = ROLES[role]
            detected = skill + COMMON_NOISE * common + group * shared + own * rng.standard_normal(true_item.size) > 0
            predicted: list[set[int]] = [set() for _ in range(n_items)]
            for item, label in zip(true_item[detected].tolist(), true_label[detected].tolist()):
                predicted[item].add(label)
            for item, n_false in enumerate(rng.poisson(false_rate, n_items).tolist()):
                predicted[item].update(rng.choice(n_labels, size=n_false, p=frequency).tolist())
            standin.write_lines(folder / "inducers" / f"{name}.csv",
                   [f"{item}|{';'.join(labels[c] for c in sorted(codes))}" for item, codes in zip(item_ids, predicted)])
        standin.write_lines(folder / "items.txt", item_ids)
        truth_lines = [f"{item}\t{';'.join(labels[c] for c in codes)}" for item, codes in zip(item_ids, truth)]
        standin.write_lines(dest / split / "reference_data" / "groundtruth.csv", ["ID\tlabels", *truth_lines])
        progress(f"__TASK_NAME__ {edition} {split}: {n_items} items, {int(counts.sum())} true labels, "
                 f"{len(names)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, object]]:
    """Each inducer's label sets as a prediction (a long item_id, label frame), by inducer name."""
    for name in sorted(X["inducer"].unique()):
        yield str(name), X.loc[X["inducer"] == name, ["item_id", "label"]]


#: The task, declared once: the build reads it, derives the leaderboard from its metrics (the primary first)
#: and checks the scoring program against it.
TASK = TaskDeclaration(
    name="__TASK_NAME__", title="__TASK_TITLE__", kind="multilabel", item_columns=("item_id",),
    metrics=(
        __DECLARED_METRICS__
    ),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, input_files=INPUT_FILES, accepted_warnings=ACCEPTED_WARNINGS,
)
