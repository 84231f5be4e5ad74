"""Build hooks of fusion-int (media interestingness): stand-in data and inducer runs.

The stand-in data imitates the ImageCLEFfusion interestingness task (MediaEval 2017
keyframes): keyframes grouped in videos of a few tens, about one in ten interesting,
and a few dozen inducers of very different quality. Each keyframe has a latent
interestingness ``z`` (smooth along the video); the ``value`` column is a squashed ``z``
and the interesting keyframes (label 1) are the top ones of their video, a number drawn
per video (possibly none). An inducer sees ``a * z`` plus noise: its own, a noise shared
with the other members of its group (strongly correlated systems), and a per-video
offset, then reports it on its own scale (probability, logit, 1-5 rating or percent).
The roles: a few independent good inducers (the best reaches a moderate MAP@10), more
independent moderate ones, three correlated groups, near-random ones, and a few
anti-correlated with the truth. Videos hold ~32 keyframes on average (18 at least), so
that a random ranking scores a MAP@10 of about 0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import data_checks

SPLITS = ("dev", "test")
EDITIONS: dict[str, dict] = {
    "2023": {"inducers": 33, "dev_keyframes": 1826, "test_keyframes": 609,
             "roles": {"strong": 4, "group_a": 6, "group_b": 5, "group_c": 4, "moderate": 7, "random": 4, "negative": 3}},
    "2022": {"inducers": 29, "dev_keyframes": 1877, "test_keyframes": 558,
             "roles": {"strong": 4, "group_a": 5, "group_b": 4, "group_c": 4, "moderate": 6, "random": 3, "negative": 3}},
}
DEFAULT_EDITION = "2023"
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}

#: Keyframes per video: at least this many, about MEAN_KEYFRAMES on average.
MIN_KEYFRAMES, MEAN_KEYFRAMES = 18, 32.0
#: Share of interesting keyframes per video ~ Beta(a, b), mean a / (a + b) ~ 0.1.
INTERESTING_BETA = (6.0, 54.0)
#: Correlation of the latent interestingness of consecutive keyframes.
TEMPORAL_CORRELATION = 0.6
#: Signal weight ``a`` range and noise standard deviations (own, shared by the group) per role.
ROLE_PARAMETERS: dict[str, dict] = {
    "strong": {"signal": (0.5, 0.63), "own_noise": 2.3, "group_noise": 0.0},
    "moderate": {"signal": (0.18, 0.36), "own_noise": 2.0, "group_noise": 0.0},
    "group_a": {"signal": (0.36, 0.45), "own_noise": 0.8, "group_noise": 2.2},
    "group_b": {"signal": (0.27, 0.4), "own_noise": 0.8, "group_noise": 2.2},
    "group_c": {"signal": (0.22, 0.36), "own_noise": 0.8, "group_noise": 2.2},
    "random": {"signal": (0.0, 0.0), "own_noise": 1.0, "group_noise": 0.0},
    "negative": {"signal": (-0.4, -0.22), "own_noise": 2.0, "group_noise": 0.0},
}
#: Standard deviation of an inducer's per-video offset (does not change its ranking).
VIDEO_OFFSET = 0.7
SCALES = ("probability", "logit", "rating", "percent")


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print, *, size: float = 1.0,
                  n_inducers: int | None = None) -> None:
    """Write stand-in data: ``dest/{dev,test}/{input_data/inducers.csv, reference_data/groundtruth.csv}``.

    Deterministic: the same edition and seed give byte-identical files.

    ``size`` multiplies the number of keyframes of each split and ``n_inducers`` keeps only
    the first inducers (the benchmark's scaled data); the defaults give the edition's data.

    Raises
    ------
    ValueError
        On an unknown edition.
    """
    if edition not in EDITIONS:
        raise ValueError(f"unknown fusion-int edition {edition!r}; editions: {', '.join(sorted(EDITIONS))}")
    preset = EDITIONS[edition]
    rng = np.random.default_rng([seed, int(edition)])
    inducers = _draw_inducers(preset["roles"], rng)[:n_inducers]
    first_video = 0
    for split in SPLITS:
        n_keyframes = data_checks.scaled(preset[f"{split}_keyframes"], size)
        video, frame, latent, label = _draw_keyframes(n_keyframes, rng)
        scores = _inducer_scores(inducers, video, latent, rng)
        numbers = (video + first_video).tolist()
        first_video += int(video.max()) + 1
        video_ids = [f"video_{v}" for v in numbers]
        image_ids = [f"video_{v}_{f}.jpg" for v, f in zip(numbers, frame.tolist())]
        _write_inducers(dest / split / "input_data" / "inducers.csv", video_ids, image_ids, inducers, scores)
        value = 1.0 / (1.0 + np.exp(-1.5 * (latent - 1.3)))
        _write_groundtruth(dest / split / "reference_data" / "groundtruth.csv", video_ids, image_ids, label, value)
        progress(f"fusion-int {edition} {split}: {n_keyframes} keyframes in {len(set(video_ids))} videos, "
                 f"{int(label.sum())} interesting, {len(inducers)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, "object"]]:
    """Each inducer's scores as a prediction (a Series indexed like ``X``), by inducer name."""
    for name in X.columns:
        yield str(name), X[name].rename("score")


def validate_data(data_dir: Path) -> None:
    """Dev and test have the same inducers and no video in common; every label is 0 or 1."""
    inputs = data_checks.split_dirs(data_dir, "input_data")
    data_checks.same_inducers({split: data_checks.csv_header(d / "inducers.csv")[2:] for split, d in inputs.items()})
    data_checks.disjoint({split: data_checks.csv_column(d / "inducers.csv", 0) for split, d in inputs.items()}, "video")
    for split, folder in data_checks.split_dirs(data_dir, "reference_data").items():
        labels = set(data_checks.csv_column(folder / "groundtruth.csv", 2))
        if not labels <= {"0", "1"}:
            raise ValueError(f"{split} groundtruth.csv: a label must be 0 or 1 (1 = interesting), "
                             f"found {sorted(labels - {'0', '1'})[:3]}")


def _draw_inducers(roles: dict[str, int], rng: np.random.Generator) -> list[dict]:
    """Parameters of every inducer, in a shuffled order named inducer_01, inducer_02..."""
    drawn = []
    for role, count in roles.items():
        parameters = ROLE_PARAMETERS[role]
        for _ in range(count):
            low, high = parameters["signal"]
            drawn.append({
                "role": role,
                "signal": float(rng.uniform(low, high)),
                "own_noise": parameters["own_noise"] * float(rng.uniform(0.9, 1.1)),
                "group_noise": parameters["group_noise"],
                "scale": SCALES[int(rng.integers(len(SCALES)))],
                "slope": float(rng.uniform(0.5, 3.0)),
                "shift": float(rng.normal(0.0, 1.0)),
            })
    order = rng.permutation(len(drawn))
    inducers = [drawn[i] for i in order]
    width = max(2, len(str(len(inducers))))
    for number, inducer in enumerate(inducers, start=1):
        inducer["name"] = f"inducer_{number:0{width}d}"
    return inducers


def _draw_keyframes(n_keyframes: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Videos, frame numbers, latent interestingness and labels of ``n_keyframes`` keyframes."""
    n_videos = max(1, round(n_keyframes / MEAN_KEYFRAMES))
    minimum = min(MIN_KEYFRAMES, n_keyframes // n_videos)
    extra = rng.multinomial(n_keyframes - minimum * n_videos, rng.dirichlet(np.full(n_videos, 3.0)))
    sizes = minimum + extra
    video = np.repeat(np.arange(n_videos), sizes)
    start = np.cumsum(sizes) - sizes
    frame = np.arange(n_keyframes) - start[video]

    innovation = rng.standard_normal(n_keyframes)
    latent = np.empty(n_keyframes)
    keep = np.sqrt(1.0 - TEMPORAL_CORRELATION ** 2)
    for i in range(n_keyframes):
        latent[i] = innovation[i] if frame[i] == 0 else TEMPORAL_CORRELATION * latent[i - 1] + keep * innovation[i]

    share = rng.beta(*INTERESTING_BETA, size=n_videos)
    n_interesting = np.minimum(np.round(share * sizes).astype(int), sizes // 2)
    # Rank of each keyframe within its video by latent, highest first.
    order = np.lexsort((-latent, video))
    rank = np.empty(n_keyframes, dtype=int)
    rank[order] = np.arange(n_keyframes) - start[video[order]]
    label = (rank < n_interesting[video]).astype(np.int64)
    return video, frame, latent, label


def _inducer_scores(inducers: list[dict], video: np.ndarray, latent: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Scores of every inducer (columns) for every keyframe (rows), on each inducer's scale."""
    n_keyframes, n_videos = latent.size, int(video.max()) + 1
    group_noise = {role: rng.standard_normal(n_keyframes) for role in ROLE_PARAMETERS}
    scores = np.empty((n_keyframes, len(inducers)))
    for column, inducer in enumerate(inducers):
        raw = (inducer["signal"] * latent
               + inducer["group_noise"] * group_noise[inducer["role"]]
               + inducer["own_noise"] * rng.standard_normal(n_keyframes)
               + VIDEO_OFFSET * rng.standard_normal(n_videos)[video])
        spread = np.sqrt(inducer["signal"] ** 2 + inducer["group_noise"] ** 2 + inducer["own_noise"] ** 2
                         + VIDEO_OFFSET ** 2)
        scores[:, column] = _on_scale(raw / spread, inducer)
    return scores


def _on_scale(standardised: np.ndarray, inducer: dict) -> np.ndarray:
    """Report standardised raw scores on the inducer's own scale."""
    scale, slope, shift = inducer["scale"], inducer["slope"], inducer["shift"]
    if scale == "probability":
        return 1.0 / (1.0 + np.exp(-(slope * standardised + shift)))
    if scale == "logit":
        return slope * standardised + shift
    if scale == "rating":
        return np.clip(np.round(3.0 + slope * 0.6 * standardised + 0.3 * shift), 1.0, 5.0)
    return 100.0 * np.clip(0.5 + 0.18 * standardised + 0.05 * shift, 0.0, 1.0)


def _write_inducers(path: Path, video_ids: list[str], image_ids: list[str], inducers: list[dict],
                    scores: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    formats = ["%d" if inducer["scale"] == "rating" else "%.6f" for inducer in inducers]
    header = ",".join(["video_id", "image_id"] + [inducer["name"] for inducer in inducers])
    lines = [header]
    for row, (video_id, image_id) in enumerate(zip(video_ids, image_ids)):
        values = ",".join(fmt % value for fmt, value in zip(formats, scores[row].tolist()))
        lines.append(f"{video_id},{image_id},{values}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_groundtruth(path: Path, video_ids: list[str], image_ids: list[str], label: np.ndarray,
                       value: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["video_id,image_id,label,value"]
    lines.extend(f"{v},{i},{lab},{val:.6f}" for v, i, lab, val in zip(video_ids, image_ids, label.tolist(), value.tolist()))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
