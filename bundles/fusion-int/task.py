"""Build hooks of fusion-int (media interestingness): stand-in data and inducer runs.

The stand-in data imitates the ImageCLEFfusion interestingness task, whose keyframes come
from the MediaEval 2017 movie trailers: videos of 80 to 100 keyframes (the split sizes of
each edition kept), about one keyframe in ten interesting, and a few dozen inducers of
very different quality.

Each keyframe has a latent interestingness made of ``FACETS`` independent facets (what
the visual, audio, motion or semantic features of real systems capture), each smooth
along the video; the interesting keyframes (label 1) are the top ones of their video by
the latent plus the annotators' disagreement. An inducer is built on one facet (a good
one on two): it sees ``a * facet`` plus noise of its own, a noise shared with its family
(variants of one system, strongly correlated) and a per-video offset, then reports it on
its own scale (probability, logit, 1-5 rating or percent). No inducer sees the whole
latent, so each one is weak, while a fusion that learns which inducers carry which facet
and how much to trust each family gains a lot; averaging everything, near-random and
anti-correlated inducers and the families' shared noise included, gains little. A random
ranking scores about 0.04 MAP@10, as in the real data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import data_checks, standin
from bundlekit.declaration import Metric, TaskDeclaration

SPLITS = ("dev", "test")
EDITIONS: dict[str, dict] = {
    "2023": {"inducers": 33, "dev_keyframes": 1826, "test_keyframes": 609,
             "roles": {"good": 3, "family_a": 6, "family_b": 5, "family_c": 4, "weak": 7, "random": 4, "negative": 4}},
    "2022": {"inducers": 29, "dev_keyframes": 1877, "test_keyframes": 558,
             "roles": {"good": 3, "family_a": 5, "family_b": 4, "family_c": 4, "weak": 5, "random": 4, "negative": 4}},
}
DEFAULT_EDITION = "2023"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("inducers.csv",)
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}

#: Keyframes per video: between these bounds, about their mean on average (MediaEval 2017 trailers).
MIN_KEYFRAMES, MAX_KEYFRAMES = 80, 100
#: Share of interesting keyframes per video ~ Beta(a, b), mean a / (a + b) ~ 0.1; at least MIN_INTERESTING.
INTERESTING_BETA, MIN_INTERESTING = (8.0, 72.0), 3
#: Independent facets of the latent interestingness, and the correlation of consecutive keyframes.
FACETS, TEMPORAL_CORRELATION = 5, 0.6
#: Standard deviation of the annotators' disagreement added to the latent before labelling.
ANNOTATION_NOISE = 0.3
#: Per role: signal weight ``a`` range, noise standard deviations (own, shared by the family),
#: facets seen (a family sees one facet, the same for all its members) and a second facet's weight.
ROLE_PARAMETERS: dict[str, dict] = {
    "good": {"signal": (0.6, 0.8), "own_noise": 1.0, "family_noise": 0.0, "second_facet": 0.6},
    "family_a": {"signal": (0.6, 0.75), "own_noise": 0.45, "family_noise": 1.0, "second_facet": 0.0},
    "family_b": {"signal": (0.5, 0.65), "own_noise": 0.45, "family_noise": 1.0, "second_facet": 0.0},
    "family_c": {"signal": (0.4, 0.55), "own_noise": 0.45, "family_noise": 1.0, "second_facet": 0.0},
    "weak": {"signal": (0.35, 0.6), "own_noise": 1.0, "family_noise": 0.0, "second_facet": 0.0},
    "random": {"signal": (0.0, 0.0), "own_noise": 1.0, "family_noise": 0.0, "second_facet": 0.0},
    "negative": {"signal": (-0.6, -0.35), "own_noise": 1.0, "family_noise": 0.0, "second_facet": 0.0},
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
    preset = standin.edition_preset("fusion-int", EDITIONS, edition)
    rng = np.random.default_rng([seed, int(edition)])
    inducers = _draw_inducers(preset["roles"], rng)[:n_inducers]
    first_video = 0
    for split in SPLITS:
        n_keyframes = data_checks.scaled(preset[f"{split}_keyframes"], size)
        video, frame, facets, label = _draw_keyframes(n_keyframes, rng)
        scores = _inducer_scores(inducers, video, facets, rng)
        numbers = (video + first_video).tolist()
        first_video += int(video.max()) + 1
        video_ids = [f"video_{v}" for v in numbers]
        image_ids = [f"video_{v}_{f}.jpg" for v, f in zip(numbers, frame.tolist())]
        _write_inducers(dest / split / "input_data" / "inducers.csv", video_ids, image_ids, inducers, scores)
        value = 1.0 / (1.0 + np.exp(-1.5 * (facets.sum(axis=1) / np.sqrt(FACETS) - 1.3)))
        _write_groundtruth(dest / split / "reference_data" / "groundtruth.csv", video_ids, image_ids, label, value)
        progress(f"fusion-int {edition} {split}: {n_keyframes} keyframes in {len(set(video_ids))} videos, "
                 f"{int(label.sum())} interesting, {len(inducers)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, "object"]]:
    """Each inducer's scores as a prediction (a Series indexed like ``X``), by inducer name."""
    for name in X.columns:
        yield str(name), X[name].rename("score")


def write_check_reference(test_input_dir: Path, dest: Path) -> None:
    """Reference for checking test runs in the participant kit: every test keyframe, no truth (label 0)."""
    path = test_input_dir / "inducers.csv"
    rows = zip(data_checks.csv_column(path, 0), data_checks.csv_column(path, 1))
    (dest / "groundtruth.csv").write_text("video_id,image_id,label,value\n" + "".join(
        f"{video},{image},0,0\n" for video, image in rows), encoding="utf-8")


def realism_figures(data_dir: Path, X: dict, y: dict, fusion_io, edition: str, seed: int) -> dict[str, str]:
    """Sizes, label rate, chance and bound of the stand-in data, for ``bundlekit realism``.

    The chance is the mean MAP@10 of random rankings; the bound, a logistic regression on
    the per-video z-scores fitted on the test labels themselves (no linear fusion of these
    inducers can do much better on test).
    """
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    sizes = {split: y[split].groupby(level="video_id").size() for split in SPLITS}
    chance = np.mean([fusion_io.mean_average_precision(
        y["test"].astype(float).rename("score") * 0 + rng.random(len(y["test"])), y["test"]) for _ in range(20)])
    by_video = X["test"].groupby(level="video_id", sort=False)
    spread = by_video.transform("std", ddof=0)
    features = ((X["test"] - by_video.transform("mean")) / spread.where(spread > 0, 1.0)).fillna(0.0)
    labels = y["test"].reindex(X["test"].index)
    model = LogisticRegression(C=1.0, max_iter=5000).fit(features.to_numpy(), labels.to_numpy())
    bound = fusion_io.mean_average_precision(
        X["test"].iloc[:, 0] * 0 + model.decision_function(features.to_numpy()), labels)
    return {
        "sizes": " / ".join(f"{len(y[s])} keyframes in {len(sizes[s])} videos" for s in SPLITS)
                 + f"; {int(min(v.min() for v in sizes.values()))} to {int(max(v.max() for v in sizes.values()))} "
                 "keyframes per video",
        "label rate": " / ".join(f"{y[s].mean():.3f}" for s in SPLITS) + " interesting",
        "chance": f"{chance:.3f} MAP@10",
        "bound": f"{bound:.3f} MAP@10: logistic regression fitted on the test labels",
    }


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
    """Parameters of every inducer, in a shuffled order named inducer_01, inducer_02...

    The members of a family share its facet; the other inducers draw theirs.
    """
    family_facets = dict(zip((role for role in roles if role.startswith("family")), rng.permutation(FACETS).tolist()))
    drawn = []
    for role, count in roles.items():
        parameters = ROLE_PARAMETERS[role]
        for _ in range(count):
            low, high = parameters["signal"]
            facet = family_facets.get(role, int(rng.integers(FACETS)))
            drawn.append({
                "role": role,
                "signal": float(rng.uniform(low, high)),
                "facet": facet,
                "second_facet": (facet + 1 + int(rng.integers(FACETS - 1))) % FACETS,
                "second_weight": parameters["second_facet"],
                "own_noise": parameters["own_noise"] * float(rng.uniform(0.9, 1.1)),
                "family_noise": parameters["family_noise"],
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


def _video_sizes(n_keyframes: int, rng: np.random.Generator) -> np.ndarray:
    """Keyframes of every video, summing to ``n_keyframes``, each in [MIN_KEYFRAMES, MAX_KEYFRAMES] if possible."""
    n_videos = max(1, round(2 * n_keyframes / (MIN_KEYFRAMES + MAX_KEYFRAMES)))
    low, high = min(MIN_KEYFRAMES, n_keyframes // n_videos), max(MAX_KEYFRAMES, -(-n_keyframes // n_videos))
    sizes = rng.integers(low, high + 1, size=n_videos)
    while (excess := int(sizes.sum()) - n_keyframes) != 0:
        step = 1 if excess < 0 else -1
        movable = np.flatnonzero((sizes + step >= low) & (sizes + step <= high))
        chosen = rng.choice(movable, size=min(abs(excess), movable.size), replace=False)
        sizes[chosen] += step
    return sizes


def _draw_keyframes(n_keyframes: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Videos, frame numbers, latent facets (one column each) and labels of ``n_keyframes`` keyframes."""
    sizes = _video_sizes(n_keyframes, rng)
    n_videos = sizes.size
    video = np.repeat(np.arange(n_videos), sizes)
    start = np.cumsum(sizes) - sizes
    frame = np.arange(n_keyframes) - start[video]

    innovation = rng.standard_normal((n_keyframes, FACETS))
    facets = np.empty((n_keyframes, FACETS))
    keep = np.sqrt(1.0 - TEMPORAL_CORRELATION ** 2)
    for i in range(n_keyframes):
        facets[i] = innovation[i] if frame[i] == 0 else TEMPORAL_CORRELATION * facets[i - 1] + keep * innovation[i]

    judged = facets.sum(axis=1) / np.sqrt(FACETS) + ANNOTATION_NOISE * rng.standard_normal(n_keyframes)
    share = rng.beta(*INTERESTING_BETA, size=n_videos)
    n_interesting = np.maximum(np.round(share * sizes).astype(int), MIN_INTERESTING)
    # Rank of each keyframe within its video by the annotators' judgement, highest first.
    order = np.lexsort((-judged, video))
    rank = np.empty(n_keyframes, dtype=int)
    rank[order] = np.arange(n_keyframes) - start[video[order]]
    label = (rank < n_interesting[video]).astype(np.int64)
    return video, frame, facets, label


def _inducer_scores(inducers: list[dict], video: np.ndarray, facets: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Scores of every inducer (columns) for every keyframe (rows), on each inducer's scale."""
    n_keyframes, n_videos = facets.shape[0], int(video.max()) + 1
    family_noise = {role: rng.standard_normal(n_keyframes) for role in ROLE_PARAMETERS}
    scores = np.empty((n_keyframes, len(inducers)))
    for column, inducer in enumerate(inducers):
        seen = ((facets[:, inducer["facet"]] + inducer["second_weight"] * facets[:, inducer["second_facet"]])
                / np.sqrt(1.0 + inducer["second_weight"] ** 2))
        raw = (inducer["signal"] * seen
               + inducer["family_noise"] * family_noise[inducer["role"]]
               + inducer["own_noise"] * rng.standard_normal(n_keyframes)
               + VIDEO_OFFSET * rng.standard_normal(n_videos)[video])
        spread = np.sqrt(inducer["signal"] ** 2 + inducer["family_noise"] ** 2 + inducer["own_noise"] ** 2
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


TASK = TaskDeclaration(
    name="fusion-int", title="ImageCLEFfusion: media interestingness", kind="ranking", item_columns=("video_id", "image_id"),
    metrics=(Metric("map_at_10", "MAP@10"), Metric("map", "MAP")),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, validate_data=validate_data, input_files=INPUT_FILES,
    accepted_warnings=ACCEPTED_WARNINGS,
    write_check_reference=write_check_reference,
)
