"""Build hooks of fusion-cap (medical concept detection): stand-in data and inducer runs.

The stand-in data imitates the ImageCLEFfusion 2023 captioning task (ImageCLEFmedical
concept detection on radiology images): every image has a few UMLS concepts (CUIs), one
imaging-modality concept for most images (computed tomography, plain x-ray, MRI...) plus
concepts drawn from a Zipf-like vocabulary of tens of thousands, of which about 8000
occur; a few images have no concept at all.

The inducers are the runs of simulated teams. A run detects a true concept when a latent
score exceeds zero: the team's skill, plus how frequent the concept is (rare concepts
are hard), minus the image's difficulty, plus the run's own recall/precision trade-off,
plus noise that is mostly common to every run (what is hard to see is hard for all),
partly shared by the runs of one team (strongly correlated runs) and a little the run's
own; a team only knows its few hundred to two thousand most frequent concepts. False
positives are frequent concepts, mostly shared: plausible wrong concepts of each image
(another imaging modality, for a third of the images) that a run takes with a noise as
common as the detection noise, so the most plausible ones get the votes of most teams,
like true concepts; a list per team and image that the team's runs share; a few of the
run's own. There are also near-random runs and biased runs that add the same wrong
frequent concepts to every image. So the teams share their misses and their false
positives, as real runs do: majority voting is weak, and learned fusion gains a real but
bounded amount, far below the union of the inducers' true concepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bundlekit import data_checks
from bundlekit.declaration import Metric, TaskDeclaration

SPLITS = ("dev", "test")
EDITIONS: dict[str, dict] = {
    "2023": {"inducers": 84, "dev_images": 6101, "test_images": 1500, "teams": 14, "random": 5, "biased": 5},
}
DEFAULT_EDITION = "2023"
#: The input files of a split (globs under input_data/): the only ones the build publishes.
INPUT_FILES = ("images.txt", "inducers/*.csv")
#: Checker warnings this task raises by design (rule id: why), accepted by the build.
ACCEPTED_WARNINGS = {"leak.public-reference": "the dev ground truth is public by design: participants train on it",
                     "data.subfolders": "the ingestion program finds train/ and predict/ on both platforms"}

#: Imaging-modality concepts (real CUIs: CT, plain x-ray, MRI, ultrasound, angiography, PET)
#: and the share of images of each; the other images have no modality concept.
MODALITIES = ("C0040405", "C1306645", "C0024485", "C0041618", "C0002978", "C0032743")
MODALITY_SHARE = (0.31, 0.25, 0.17, 0.11, 0.06, 0.04)
#: Vocabulary of the other concepts: p(rank r) ~ (r + ZIPF_OFFSET) ** -ZIPF_EXPONENT.
VOCABULARY_SIZE, ZIPF_EXPONENT, ZIPF_OFFSET = 30000, 1.0, 2.0
#: Other concepts per image ~ Poisson(OTHER_CONCEPTS), total capped at MAX_CONCEPTS.
OTHER_CONCEPTS, MAX_CONCEPTS = 3.6, 10
#: Share of images with an empty ground truth.
EMPTY_SHARE = 0.015
#: Standard deviation of the image difficulty shared by every team.
IMAGE_DIFFICULTY = 0.6
#: Detection noise: scale, and the shares of its variance common to every run (what is
#: hard to see in this image) and common to the runs of one team; the rest is the run's own.
DETECTION_NOISE, COMMON_SHARE, TEAM_SHARE = 1.2, 0.95, 0.04
#: Plausible-looking wrong concepts per image (frequent ones) that every team may fall for.
#: A run predicts one when ``FALSE_INTERCEPT + trade-off + noise > 0``, the noise mixed
#: like the detection noise: its common part is the concept's plausibility in this image,
#: so the most plausible wrong concepts get the votes of most teams, like true ones.
COMMON_FALSE_RATE, FALSE_INTERCEPT = 4.0, 0.2
#: Share of the images with a modality for which another modality looks plausible (a CT
#: taken for an MRI...), and how much more plausible than the other wrong concepts it is.
MODALITY_CONFUSION, MODALITY_PLAUSIBILITY = 0.35, 1.0
#: The dev reference files participants train on; the curated concept list stays hidden
#: (it is shared with the test split's reference data).
PUBLIC_TRUTH_FILES = ("groundtruth.csv",)
#: The placeholder concept of the participant kit's check-only test reference.
CHECK_ONLY_CONCEPT = "C0000000"
#: The secondary (curated) concept list stands for the official evaluator's manually
#: validated concepts: every imaging-modality concept, the SECONDARY_TOP most frequent other
#: concepts and SECONDARY_SAMPLED mid-frequency ones.
SECONDARY_TOP, SECONDARY_SAMPLED = 150, 50
#: Ranges of a team's parameters: skill (detection intercept), slope on the log rarity of
#: a concept, false positives per image and their flatness (1: as frequent as the concepts,
#: 0: uniform); and of a run's recall/precision trade-off.
TEAM_SKILL, TEAM_SLOPE = (0.5, 1.2), (0.25, 0.5)
FALSE_RATE, FALSE_FLATNESS = (0.2, 0.8), (0.5, 1.0)
RUN_TRADEOFF = (-0.2, 0.6)
#: A team only knows its most frequent concepts: between these many, log-uniformly.
TEAM_VOCABULARY = (300, 2000)


def generate_data(dest: Path, edition: str = DEFAULT_EDITION, seed: int = 2023,
                  progress: Callable[[str], None] = print, *, size: float = 1.0,
                  n_inducers: int | None = None) -> None:
    """Write stand-in data for both splits.

    ``dest/<split>/input_data/{images.txt, inducers/<name>.csv}`` and
    ``dest/<split>/reference_data/{groundtruth.csv, secondary_concepts.txt}``.
    Deterministic: the same edition and seed give byte-identical files.

    ``size`` multiplies the number of images of each split and ``n_inducers`` keeps only
    the first inducers (the benchmark's scaled data); the defaults give the edition's data.

    Raises
    ------
    ValueError
        On an unknown edition (fusion-cap did not exist in 2022).
    """
    if edition not in EDITIONS:
        what = ("fusion-cap did not exist in ImageCLEFfusion 2022" if edition == "2022"
                else f"unknown fusion-cap edition {edition!r}")
        raise ValueError(f"{what}; editions: {', '.join(sorted(EDITIONS))}")
    preset = EDITIONS[edition]
    rng = np.random.default_rng([seed, int(edition)])
    vocabulary, image_share = _draw_vocabulary(rng)
    secondary = _secondary_concepts(vocabulary, image_share, rng)
    inducers = _draw_inducers(preset, rng)[:n_inducers]
    for split in SPLITS:
        n_images = data_checks.scaled(preset[f"{split}_images"], size)
        image_ids = [f"ImageCLEFmedical_Caption_{edition}_{split}_{number:06d}" for number in range(1, n_images + 1)]
        truth = _draw_truth(n_images, image_share, rng)
        difficulty = IMAGE_DIFFICULTY * rng.standard_normal(n_images)
        input_dir, reference_dir = dest / split / "input_data", dest / split / "reference_data"
        (input_dir / "inducers").mkdir(parents=True, exist_ok=True)
        reference_dir.mkdir(parents=True, exist_ok=True)
        _write_lines(input_dir / "images.txt", image_ids)
        for inducer, predicted in zip(inducers, _inducer_sets(inducers, truth, difficulty, image_share, rng)):
            _write_lines(input_dir / "inducers" / f"{inducer['name']}.csv",
                         [f"{image}|{';'.join(sorted(vocabulary[c] for c in concepts))}"
                          for image, concepts in zip(image_ids, predicted)])
        _write_lines(reference_dir / "groundtruth.csv",
                     ["ID\tCUIs"] + [f"{image}\t{';'.join(sorted(vocabulary[c] for c in concepts))}"
                                     for image, concepts in zip(image_ids, truth)])
        _write_lines(reference_dir / "secondary_concepts.txt", secondary)
        n_concepts = np.array([len(concepts) for concepts in truth])
        progress(f"fusion-cap {edition} {split}: {n_images} images, {n_concepts.mean():.2f} concepts per image, "
                 f"{int((n_concepts == 0).sum())} with none, {len(inducers)} inducers")


def inducer_predictions(X) -> Iterator[tuple[str, "object"]]:
    """Each inducer's predictions as a Series of concept lists indexed by every image of the split."""
    import pandas as pd  # noqa: PLC0415

    images = list(X.attrs["images"])
    for name, rows in X.groupby("inducer", sort=True):
        lists: dict[str, list[str]] = {image: [] for image in images}
        for image, concept in zip(rows["image_id"].tolist(), rows["concept"].tolist()):
            lists[image].append(concept)
        yield str(name), pd.Series(list(lists.values()), index=images, dtype=object)


def realism_figures(data_dir: Path, X: dict, y: dict, fusion_io, edition: str, seed: int) -> dict[str, str]:
    """Sizes, label rates and the bounds of the stand-in data, for ``bundlekit realism``.

    The union bound is the mean F1 of keeping, for every image, exactly the true concepts
    some inducer predicted: no fusion that selects among the inducers' concepts does
    better. A stacker (gradient boosting on every inducer's vote, the vote count and the
    concept's dev frequency, threshold tuned on dev) shows what learned fusion reaches.
    """
    figures = {}
    sizes, rates = [], []
    for split in SPLITS:
        images = y[split].attrs["images"]
        per_image = y[split].groupby("image_id").size().reindex(images, fill_value=0)
        modality = y[split][y[split]["concept"].isin(MODALITIES)]["image_id"].nunique() / len(images)
        sizes.append(f"{len(images)} images")
        rates.append(f"{per_image.mean():.2f} concepts per image, {modality:.0%} with a modality concept")
    union = _union_bound(X["test"], y["test"])
    stacked = _stacker_f1(X, y, fusion_io)
    return {"sizes": " / ".join(sizes) + f", {X['test']['inducer'].nunique()} inducers",
            "label rate": " / ".join(rates),
            "chance": "not applicable",
            "bound": f"union of the inducers {union:.3f}; a gradient-boosting stacker {stacked:.3f} "
                     f"({stacked / union:.0%} of the union bound)"}


def _union_bound(X, y) -> float:
    """Mean F1 of the true concepts some inducer predicted, per image (images with a ground truth)."""
    found = X[["image_id", "concept"]].drop_duplicates().merge(y.drop_duplicates(), on=["image_id", "concept"])
    n_found = found.groupby("image_id").size()
    n_true = y.drop_duplicates().groupby("image_id").size()
    hits = n_found.reindex(n_true.index, fill_value=0)
    return float((2 * hits / (n_true + hits)).mean())


def _stacker_f1(X: dict, y: dict, fusion_io) -> float:
    """Test F1 of gradient boosting on the candidates' votes, fitted on dev."""
    import pandas as pd  # noqa: PLC0415
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415

    inducers = sorted(X["dev"]["inducer"].unique())
    frequency = y["dev"]["concept"].value_counts() / len(y["dev"].attrs["images"])

    def candidates(frame):
        image_codes, image_ids = pd.factorize(frame["image_id"])
        concept_codes, concepts = pd.factorize(frame["concept"])
        keys = image_codes.astype(np.int64) * len(concepts) + concept_codes
        unique_keys, pair_codes = np.unique(keys, return_inverse=True)
        votes = np.zeros((unique_keys.size, len(inducers)), dtype=np.float32)
        votes[pair_codes, pd.Categorical(frame["inducer"], categories=inducers).codes] = 1.0
        pair_concepts = np.asarray(concepts)[unique_keys % len(concepts)]
        found = pd.DataFrame({"image_id": np.asarray(image_ids)[unique_keys // len(concepts)], "concept": pair_concepts})
        prior = np.log(frequency.reindex(pair_concepts).fillna(0.0).to_numpy() + 1e-4)
        return found, np.column_stack([votes, votes.sum(axis=1), prior])

    pairs, features = candidates(X["dev"])
    truth = y["dev"].drop_duplicates().assign(hit=True)
    hit = pairs.merge(truth, on=["image_id", "concept"], how="left")["hit"].eq(True).to_numpy()
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(features, hit)

    def predict(frame, threshold):
        found, values = candidates(frame)
        probability = model.predict_proba(values)[:, 1]
        best = found.assign(p=probability).sort_values("p", ascending=False).drop_duplicates("image_id").index
        keep = probability >= threshold
        keep[best] = True
        return found[keep]

    thresholds = np.arange(0.2, 0.65, 0.05)
    tuned = max(thresholds, key=lambda th: fusion_io.mean_f1(predict(X["dev"], th), y["dev"]))
    return float(fusion_io.mean_f1(predict(X["test"], tuned), y["test"]))


def write_check_reference(test_input_dir: Path, dest: Path) -> None:
    """Reference for checking test runs in the participant kit: every test image, one made-up concept (no truth).

    The F1 is undefined over empty sets, so every image gets the same placeholder concept,
    which is also the whole curated list (the real one is hidden).
    """
    images = (test_input_dir / "images.txt").read_text(encoding="utf-8").split()
    (dest / "images.txt").write_text("".join(f"{image}\n" for image in images), encoding="utf-8")
    (dest / "groundtruth.csv").write_text("ID\tCUIs\n" + "".join(
        f"{image}\t{CHECK_ONLY_CONCEPT}\n" for image in images), encoding="utf-8")
    (dest / "secondary_concepts.txt").write_text(f"{CHECK_ONLY_CONCEPT}\n", encoding="utf-8")


def validate_data(data_dir: Path) -> None:
    """Dev and test have the same inducers, no image in common and one curated concept list.

    The ground truth's header is exactly ``ID<TAB>CUIs`` (a wrong one would be read as an image).
    """
    inputs = data_checks.split_dirs(data_dir, "input_data")
    data_checks.same_inducers({split: data_checks.file_stems(d / "inducers", ".csv") for split, d in inputs.items()})
    images = {split: (d / "images.txt").read_text(encoding="utf-8-sig").split() if (d / "images.txt").is_file()
              else [] for split, d in inputs.items()}
    data_checks.disjoint(images, "image")
    references = data_checks.split_dirs(data_dir, "reference_data")
    for split, folder in references.items():
        header = data_checks.csv_header(folder / "groundtruth.csv", delimiter="\t")
        if header != ["ID", "CUIs"]:
            raise ValueError(f"{split} groundtruth.csv: the header must be ID<TAB>CUIs, found {header[:3]}")
    curated = {split: (folder / "secondary_concepts.txt").read_bytes() if (folder / "secondary_concepts.txt").is_file()
               else None for split, folder in references.items()}
    if curated["dev"] != curated["test"]:
        raise ValueError("secondary_concepts.txt differs between the dev and test reference data; "
                         "the secondary F1 uses one curated list")


def _draw_vocabulary(rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Concept ids (modalities first, then by decreasing frequency) and the share of images holding each."""
    codes = rng.choice(5_000_000, size=VOCABULARY_SIZE + len(MODALITIES), replace=False)
    reserved = {int(cui[1:]) for cui in MODALITIES}
    others = [f"C{code:07d}" for code in codes.tolist() if code not in reserved][:VOCABULARY_SIZE]
    rank_weight = (np.arange(VOCABULARY_SIZE) + ZIPF_OFFSET) ** -ZIPF_EXPONENT
    other_share = 1.0 - np.exp(-OTHER_CONCEPTS * rank_weight / rank_weight.sum())
    share = np.concatenate([np.array(MODALITY_SHARE), other_share])
    return list(MODALITIES) + others, share


def _secondary_concepts(vocabulary: list[str], share: np.ndarray, rng: np.random.Generator) -> list[str]:
    """The curated (manually validated) list, sorted: modalities, the most frequent other concepts, some mid-frequency ones."""
    first = len(MODALITIES)
    top = list(range(first + SECONDARY_TOP))
    sampled = rng.choice(np.arange(first + SECONDARY_TOP, first + 20 * SECONDARY_TOP), SECONDARY_SAMPLED, replace=False)
    return sorted(vocabulary[c] for c in top + sampled.tolist())


def _draw_truth(n_images: int, share: np.ndarray, rng: np.random.Generator) -> list[list[int]]:
    """Concept indices of every image."""
    n_modalities = len(MODALITIES)
    modality_share = np.array(MODALITY_SHARE)
    modality = rng.choice(n_modalities + 1, size=n_images, p=np.append(modality_share, 1.0 - modality_share.sum()))
    n_other = rng.poisson(OTHER_CONCEPTS, size=n_images)
    other_cdf = np.cumsum(share[n_modalities:] / share[n_modalities:].sum())
    candidates = n_modalities + np.searchsorted(other_cdf, rng.random((n_images, 3 * MAX_CONCEPTS)) * other_cdf[-1])
    empty = rng.random(n_images) < EMPTY_SHARE
    truth = []
    for i in range(n_images):
        concepts = [] if modality[i] == n_modalities else [int(modality[i])]
        wanted = max(n_other[i], 1 - len(concepts))
        concepts += list(dict.fromkeys(candidates[i].tolist()))[:min(wanted, MAX_CONCEPTS - len(concepts))]
        truth.append([] if empty[i] else concepts)
    return truth


def _draw_inducers(preset: dict, rng: np.random.Generator) -> list[dict]:
    """Teams' runs, near-random runs and biased runs, shuffled and named inducer_01, inducer_02..."""
    n_teams, n_random, n_biased = preset["teams"], preset["random"], preset["biased"]
    n_team_runs = preset["inducers"] - n_random - n_biased
    team_sizes = 1 + rng.multinomial(n_team_runs - n_teams, rng.dirichlet(np.full(n_teams, 1.5)))
    inducers: list[dict] = []
    for team, size in enumerate(team_sizes.tolist()):
        skill, slope = float(rng.uniform(*TEAM_SKILL)), float(rng.uniform(*TEAM_SLOPE))
        false_rate, flatness = float(rng.uniform(*FALSE_RATE)), float(rng.uniform(*FALSE_FLATNESS))
        known = len(MODALITIES) + int(np.exp(rng.uniform(*np.log(TEAM_VOCABULARY))))
        for _ in range(size):
            inducers.append({"kind": "team", "team": team, "skill": skill, "slope": slope, "false_rate": false_rate,
                             "flatness": flatness, "known": known, "tradeoff": float(rng.uniform(*RUN_TRADEOFF))})
    for extra in range(n_biased):
        inducers.append({"kind": "biased", "team": n_teams + extra, "skill": float(rng.uniform(-0.6, 0.2)),
                         "slope": 0.4, "false_rate": 1.0, "flatness": 0.7, "known": 500, "tradeoff": 0.0,
                         "always": sorted(rng.choice(np.arange(1, 20), size=2, replace=False).tolist())})
    for _ in range(n_random):
        inducers.append({"kind": "random", "false_rate": float(rng.uniform(2.0, 5.0)),
                         "flatness": float(rng.uniform(0.2, 0.5))})
    order = rng.permutation(len(inducers))
    inducers = [inducers[i] for i in order]
    width = max(2, len(str(len(inducers))))
    for number, inducer in enumerate(inducers, start=1):
        inducer["name"] = f"inducer_{number:0{width}d}"
    return inducers


def _inducer_sets(inducers: list[dict], truth: list[list[int]], difficulty: np.ndarray, share: np.ndarray,
                  rng: np.random.Generator) -> Iterator[list[set[int]]]:
    """The concept set every inducer predicts for every image, inducer by inducer."""
    n_images = len(truth)
    pair_image = np.repeat(np.arange(n_images), [len(concepts) for concepts in truth])
    pair_concept = np.array([c for concepts in truth for c in concepts], dtype=np.int64)
    rarity = np.log(share[pair_concept] / share.max())
    teams = sorted({inducer["team"] for inducer in inducers if "team" in inducer})
    common_noise = rng.standard_normal(pair_concept.size)
    team_noise = {team: rng.standard_normal(pair_concept.size) for team in teams}
    plausible_images, plausible_concepts, plausibility = _plausible_errors(truth, share, rng)
    plausible_team_noise = {team: rng.standard_normal(plausible_images.size) for team in teams}
    team_false = {}
    for inducer in inducers:
        if "team" in inducer and inducer["team"] not in team_false:
            team_false[inducer["team"]] = _false_positives(inducer["false_rate"], inducer["flatness"], n_images,
                                                           share, rng)
    for inducer in inducers:
        predicted: list[set[int]] = [set() for _ in range(n_images)]
        if inducer["kind"] == "random":
            for image, concept in zip(*_false_positives(inducer["false_rate"], inducer["flatness"], n_images, share, rng)):
                predicted[image].add(concept)
            yield predicted
            continue
        noise = DETECTION_NOISE * (np.sqrt(COMMON_SHARE) * common_noise
                                   + np.sqrt(TEAM_SHARE) * team_noise[inducer["team"]]
                                   + np.sqrt(1.0 - COMMON_SHARE - TEAM_SHARE) * rng.standard_normal(pair_concept.size))
        latent = inducer["skill"] + inducer["slope"] * rarity - difficulty[pair_image] + inducer["tradeoff"] + noise
        detected = (latent > 0) & (pair_concept < inducer["known"])
        for image, concept in zip(pair_image[detected].tolist(), pair_concept[detected].tolist()):
            predicted[image].add(concept)
        taken = FALSE_INTERCEPT + inducer["tradeoff"] + DETECTION_NOISE * (
            np.sqrt(COMMON_SHARE) * plausibility + np.sqrt(TEAM_SHARE) * plausible_team_noise[inducer["team"]]
            + np.sqrt(1.0 - COMMON_SHARE - TEAM_SHARE) * rng.standard_normal(plausibility.size)) > 0
        shared_images, shared_concepts = team_false[inducer["team"]]
        keep = rng.random(shared_images.size) < 1.0 / (1.0 + np.exp(-(1.5 * inducer["tradeoff"] + 1.0)))
        own_images, own_concepts = _false_positives(0.4 * np.exp(inducer["tradeoff"]), inducer["flatness"], n_images,
                                                    share, rng)
        for image, concept in zip(np.concatenate([plausible_images[taken], shared_images[keep], own_images]).tolist(),
                                  np.concatenate([plausible_concepts[taken], shared_concepts[keep],
                                                  own_concepts]).tolist()):
            predicted[image].add(concept)
        for concept in inducer.get("always", []):
            for concepts in predicted:
                concepts.add(concept)
        yield predicted


def _plausible_errors(truth: list[list[int]], share: np.ndarray,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wrong concepts that look right in each image: images, concepts and plausibility (standard normal).

    Frequent concepts drawn as often as they occur, and for some images with a modality
    another modality, more plausible than the rest.
    """
    images, concepts = _false_positives(COMMON_FALSE_RATE, 1.0, len(truth), share, rng)
    modality_share = np.array(MODALITY_SHARE)
    confused_images, confused = [], []
    for image, concepts_of_image in enumerate(truth):
        own = [c for c in concepts_of_image if c < len(MODALITIES)]
        if own and rng.random() < MODALITY_CONFUSION:
            weights = modality_share.copy()
            weights[own[0]] = 0.0
            confused_images.append(image)
            confused.append(int(rng.choice(len(MODALITIES), p=weights / weights.sum())))
    plausibility = np.concatenate([rng.standard_normal(images.size),
                                   MODALITY_PLAUSIBILITY + rng.standard_normal(len(confused))])
    return (np.concatenate([images, np.array(confused_images, dtype=np.int64)]),
            np.concatenate([concepts, np.array(confused, dtype=np.int64)]), plausibility)


def _false_positives(rate: float, flatness: float, n_images: int, share: np.ndarray,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``Poisson(rate)`` concepts per image, drawn with probability ~ share ** flatness."""
    weight = share ** flatness
    cdf = np.cumsum(weight / weight.sum())
    counts = rng.poisson(rate, size=n_images)
    images = np.repeat(np.arange(n_images), counts)
    concepts = np.minimum(np.searchsorted(cdf, rng.random(images.size) * cdf[-1]), share.size - 1)
    return images, concepts


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


TASK = TaskDeclaration(
    name="fusion-cap", title="ImageCLEFfusion: medical concept detection", kind="multilabel", item_columns=("image_id",),
    metrics=(Metric("f1", "F1"), Metric("f1_secondary", "F1 (curated concepts)")),
    editions=EDITIONS, default_edition=DEFAULT_EDITION, generate_data=generate_data,
    inducer_predictions=inducer_predictions, validate_data=validate_data, input_files=INPUT_FILES,
    accepted_warnings=ACCEPTED_WARNINGS,
    public_truth_files=PUBLIC_TRUTH_FILES,
    write_check_reference=write_check_reference,
)
