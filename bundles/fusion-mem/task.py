"""Build hooks of fusion-mem (media memorability): stand-in data and inducer predictions.

The stand-in data imitates the MediaEval Predicting Media Memorability task on short
videos: 1000 development and 500 test videos, each with a short-term memorability score,
the share of the annotators who recognised it in a memory game. Scores are high on
average (around 0.86) and squeezed against 1.

Each video has a latent memorability ``z``; its score is the share of ``n`` annotators
(``n`` drawn per video, a few tens) who recognised it, each with probability
``0.86 + 0.075 z`` (clipped). The annotation noise caps what any system can reach, as
in the real data. An inducer sees ``a * z`` plus its own noise and a noise shared with
its group (variants of one team's system are strongly correlated), then reports it on
its own scale: a score in [0, 1], a percentage, a logit, a 1-10 rating or a z-score.
The roles: a few strong independent inducers, two correlated groups, moderate ones,
near-random ones and a few anti-correlated ones (predicting forgettability). As the best
short-term memorability systems, the best inducers reach Spearman 0.65 to 0.73 against a
noise ceiling of about 0.76 (:func:`noise_ceiling`), so fusion gains a few percent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import data_checks, standin
from bundlekit.declaration import Metric, TaskDeclaration

SPLITS = ("dev", "test")
EDITIONS: dict[str, dict] = {
    "2023": {"dev_videos": 1000, "test_videos": 500,
             "roles": {"strong": 3, "group_a": 6, "group_b": 5, "moderate": 6, "random": 3, "negative": 3}},
}
DEFAULT_EDITION = "2023"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("inducers.csv",)
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}

#: Recognition probability = MEAN + SPREAD * z, clipped to [FLOOR, 1].
MEAN, SPREAD, FLOOR = 0.86, 0.075, 0.3
#: Annotators per video (uniform range).
ANNOTATORS = (16, 42)
#: Signal weight ``a`` range and noise standard deviations (own, shared with the group) per
#: role. The strong inducers correlate about 0.9 with the latent memorability, so they
#: reach Spearman 0.65 to 0.7 against the scores, near the annotation-noise ceiling.
ROLE_PARAMETERS: dict[str, dict] = {
    "strong": {"signal": (2.0, 2.6), "own_noise": 1.0, "group_noise": 0.0},
    "group_a": {"signal": (1.5, 1.9), "own_noise": 0.35, "group_noise": 0.8},
    "group_b": {"signal": (1.1, 1.5), "own_noise": 0.35, "group_noise": 0.8},
    "moderate": {"signal": (0.5, 1.0), "own_noise": 1.0, "group_noise": 0.0},
    "random": {"signal": (0.0, 0.0), "own_noise": 1.0, "group_noise": 0.0},
    "negative": {"signal": (-0.6, -0.3), "own_noise": 1.0, "group_noise": 0.0},
}
SCALES = ("score", "percent", "logit", "rating", "zscore")


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print, *, size: float = 1.0,
                  n_inducers: int | None = None) -> None:
    """Write ``dest/{dev,test}/{input_data/inducers.csv, reference_data/groundtruth.csv}``.

    ``inducers.csv``: ``video_id,<inducer>,...``, one row per video; ``groundtruth.csv``:
    ``video_id,score``, the memorability score in [0, 1]. Deterministic: the same edition
    and seed give byte-identical files.

    ``size`` multiplies the number of videos of each split and ``n_inducers`` keeps only
    the first inducers (the benchmark's scaled data); the defaults give the edition's data.

    Raises
    ------
    ValueError
        On an unknown edition (fusion-mem did not exist before 2023).
    """
    past = " (fusion-mem did not exist before 2023)" if edition.isdigit() and int(edition) < 2023 else ""
    standin.edition_preset("fusion-mem", EDITIONS, edition, past)
    inducers, splits = _simulate(edition, seed, size, n_inducers)
    for split, drawn in splits.items():
        video_ids, score = drawn["video_ids"], drawn["score"]
        _write(dest / split / "input_data" / "inducers.csv", ["video_id", *(i["name"] for i in inducers)],
               [[video, *(inducer["format"] % column[v] for inducer, column in zip(inducers, drawn["columns"]))]
                for v, video in enumerate(video_ids)])
        _write(dest / split / "reference_data" / "groundtruth.csv", ["video_id", "score"],
               [[video, f"{s:.6f}"] for video, s in zip(video_ids, score.tolist())])
        progress(f"fusion-mem {edition} {split}: {len(video_ids)} videos, mean score {score.mean():.3f}, "
                 f"{len(inducers)} inducers")


def noise_ceiling(edition: str = DEFAULT_EDITION, seed: int = 2023) -> dict[str, float]:
    """Spearman's correlation of each split's scores with the recognition probabilities behind them.

    What a perfect system (one that knows every video's probability) would reach: the
    annotation-noise ceiling of the stand-in data.
    """
    _, splits = _simulate(edition, seed)
    return {split: _spearman(drawn["probability"], drawn["score"]) for split, drawn in splits.items()}


def realism_figures(data_dir: Path, X: dict, y: dict, fusion_io, edition: str, seed: int) -> dict[str, str]:
    """Sizes, score distribution, chance and the noise ceiling, for ``bundlekit realism``."""
    ceiling = noise_ceiling(edition, seed)
    return {
        "sizes": " / ".join(f"{len(y[split])} videos" for split in SPLITS),
        "label rate": " / ".join(f"mean score {y[split].mean():.3f}" for split in SPLITS),
        "chance": "Spearman 0 by construction",
        "bound": f"annotation-noise ceiling {ceiling['test']:.3f} (dev {ceiling['dev']:.3f})",
    }


def _simulate(edition: str, seed: int, size: float = 1.0,
              n_inducers: int | None = None) -> tuple[list[dict], dict[str, dict]]:
    """The inducers and, per split, the videos' ids, probabilities, scores and inducer columns (see generate_data)."""
    preset = EDITIONS[edition]
    rng = np.random.default_rng([seed, int(edition), 4])
    inducers = _draw_inducers(preset["roles"], rng)[:n_inducers]
    first_video = 1
    splits = {}
    for split in SPLITS:
        n_videos = data_checks.scaled(preset[f"{split}_videos"], size)
        latent = rng.standard_normal(n_videos)
        probability = np.clip(MEAN + SPREAD * latent, FLOOR, 1.0)
        annotators = rng.integers(ANNOTATORS[0], ANNOTATORS[1] + 1, size=n_videos)
        score = rng.binomial(annotators, probability) / annotators
        group_noise = {role: rng.standard_normal(n_videos) for role in ROLE_PARAMETERS}
        columns = []
        for inducer in inducers:
            raw = (inducer["signal"] * latent + inducer["own_noise"] * rng.standard_normal(n_videos)
                   + inducer["group_noise"] * group_noise[inducer["role"]])
            spread = np.sqrt(inducer["signal"] ** 2 + inducer["own_noise"] ** 2 + inducer["group_noise"] ** 2)
            columns.append(_on_scale(raw / spread, inducer))
        splits[split] = {"video_ids": [f"video{first_video + v:05d}" for v in range(n_videos)],
                         "probability": probability, "score": score, "columns": columns}
        first_video += n_videos
    return inducers, splits


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation, ties sharing their average rank."""
    ranks = []
    for values in (a, b):
        order = np.argsort(values, kind="stable")
        rank = np.empty(values.size)
        rank[order] = np.arange(values.size, dtype=float)
        _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        rank = (np.bincount(inverse.reshape(-1), weights=rank) / counts)[inverse.reshape(-1)]
        ranks.append(rank)
    return float(np.corrcoef(*ranks)[0, 1])


def inducer_predictions(X) -> Iterator[tuple[str, object]]:
    """Each inducer's predictions (a Series indexed like ``X``), by inducer name."""
    for name in X.columns:
        yield str(name), X[name].rename("score")


def write_check_reference(test_input_dir: Path, dest: Path) -> None:
    """Reference for checking test runs in the participant kit: every test video, no truth (its position)."""
    videos = data_checks.csv_column(test_input_dir / "inducers.csv", 0)
    (dest / "groundtruth.csv").write_text("video_id,score\n" + "".join(
        f"{video},{position}\n" for position, video in enumerate(videos)), encoding="utf-8")


def validate_data(data_dir: Path) -> None:
    """Dev and test have the same inducers and no video in common."""
    inputs = data_checks.split_dirs(data_dir, "input_data")
    data_checks.same_inducers({split: data_checks.csv_header(d / "inducers.csv")[1:] for split, d in inputs.items()})
    data_checks.disjoint({split: data_checks.csv_column(d / "inducers.csv", 0) for split, d in inputs.items()}, "video")


def _draw_inducers(roles: dict[str, int], rng: np.random.Generator) -> list[dict]:
    """Parameters of every inducer, in a shuffled order named inducer_01, inducer_02..."""
    drawn = []
    for role, count in roles.items():
        parameters = ROLE_PARAMETERS[role]
        for _ in range(count):
            low, high = parameters["signal"]
            scale = SCALES[int(rng.integers(len(SCALES)))]
            drawn.append({
                "role": role,
                "signal": float(rng.uniform(low, high)),
                "own_noise": parameters["own_noise"] * float(rng.uniform(0.9, 1.1)),
                "group_noise": parameters["group_noise"],
                "scale": scale,
                "format": "%d" if scale == "rating" else "%.6f",
                "slope": float(rng.uniform(0.5, 2.0)),
                "shift": float(rng.normal(0.0, 0.5)),
            })
    order = rng.permutation(len(drawn))
    inducers = [drawn[i] for i in order]
    for number, inducer in enumerate(inducers, start=1):
        inducer["name"] = f"inducer_{number:02d}"
    return inducers


def _on_scale(standardised: np.ndarray, inducer: dict) -> np.ndarray:
    """Report standardised predictions on the inducer's own scale."""
    scale, slope, shift = inducer["scale"], inducer["slope"], inducer["shift"]
    if scale == "score":  # a regressor trained on the scores: shrunk towards their mean
        return np.clip(MEAN + 0.04 * slope * standardised + 0.02 * shift, 0.0, 1.0)
    if scale == "percent":
        return 100.0 / (1.0 + np.exp(-(slope * standardised + shift + 1.5)))
    if scale == "logit":
        return slope * standardised + shift
    if scale == "rating":
        return np.clip(np.round(7.0 + 1.5 * slope * standardised + shift), 1, 10)
    return standardised


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(",".join(fields) for fields in [header, *rows]) + "\n", encoding="utf-8")


TASK = TaskDeclaration(
    name="fusion-mem", title="ImageCLEFfusion: media memorability", kind="regression", item_columns=("video_id",),
    metrics=(Metric("spearman", "Spearman"), Metric("pearson", "Pearson")),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, validate_data=validate_data, input_files=INPUT_FILES,
    accepted_warnings=ACCEPTED_WARNINGS,
    write_check_reference=write_check_reference,
)
