"""fusion-cap: stand-in data, fusion_io API, baselines and starting kit."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from scoring_common.errors import ParticipantError
from scoring_common.formats.concepts import read_concept_list, read_groundtruth, read_image_list, read_run
from helpers import (fit_baseline, generate, load_splits, run_baseline_through_ingestion, starting_kit_code,
                     starting_kit_result)
from task_modules import load_module, load_task_files

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "fusion-cap"
BASELINES = ("best-inducer", "majority-vote", "weighted-vote")
CUI = re.compile(r"^C\d{7}$")


task, fio, score = load_task_files(BUNDLE)


@pytest.fixture(scope="module")
def dest(tmp_path_factory) -> Path:
    return generate(task, tmp_path_factory.mktemp("cap"), "2023")


@pytest.fixture(scope="module")
def splits(dest):
    return load_splits(fio, dest)


def evaluate(prediction, X: pd.DataFrame, ref_dir: Path, run: Path) -> float:
    fio.write_run(prediction, X, run)
    return score.evaluate(ref_dir, run).scores["f1"]


# --- generation ---------------------------------------------------------------------


def test_editions(tmp_path):
    with pytest.raises(ValueError, match="^fusion-cap did not exist in ImageCLEFfusion 2022; editions: 2023$"):
        task.generate_data(tmp_path, edition="2022")
    with pytest.raises(ValueError, match="^unknown fusion-cap edition '2024'; editions: 2023$"):
        task.generate_data(tmp_path, edition="2024")


def test_sizes_match_the_edition(dest, splits):
    preset = task.EDITIONS["2023"]
    X, y = splits
    for split in ("dev", "test"):
        images = X[split].attrs["images"]
        assert len(images) == len(set(images)) == preset[f"{split}_images"]
        assert y[split].attrs["images"] == images
        assert len(list((dest / split / "input_data" / "inducers").glob("*.csv"))) == preset["inducers"]
        assert X[split]["inducer"].nunique() == preset["inducers"]
        per_image = y[split].groupby("image_id").size().reindex(images, fill_value=0)
        assert 4.0 < per_image.mean() < 5.0 and per_image.max() <= task.MAX_CONCEPTS
        assert 0.003 < (per_image == 0).mean() < 0.03
    assert set(X["dev"].attrs["images"]).isdisjoint(X["test"].attrs["images"])
    concepts = pd.concat([y["dev"], y["test"]])["concept"]
    assert 6000 < concepts.nunique() < 10000
    assert concepts.str.match(CUI).all() and X["test"]["concept"].str.match(CUI).all()
    counts = concepts.value_counts()
    assert counts.iloc[0] > 0.2 * 7601 and (counts == 1).sum() > 3000  # a head and a long tail


def test_files_pass_the_strict_readers(dest, splits, tmp_path):
    X, _ = splits
    for split in ("dev", "test"):
        reference = dest / split / "reference_data"
        image_index = read_image_list(dest / split / "input_data" / "images.txt")
        vocabulary: dict[str, int] = {}
        read_groundtruth(reference / "groundtruth.csv", vocabulary, image_index)
        curated = read_concept_list(reference / "secondary_concepts.txt", vocabulary)
        assert curated.size == len(task.MODALITIES) + task.SECONDARY_TOP + task.SECONDARY_SAMPLED
        listed = set((reference / "secondary_concepts.txt").read_text().split())
        assert set(task.MODALITIES) <= listed  # the official list of validated concepts has the modalities
        assert (reference / "groundtruth.csv").read_text().startswith("ID\tCUIs\n")
    image_index = read_image_list(dest / "test" / "input_data" / "images.txt")
    for name, prediction in task.inducer_predictions(X["test"]):
        fio.write_run(prediction, X["test"], tmp_path / "run.csv")
        pairs = read_run(tmp_path / "run.csv", image_index, {})
        assert pairs.image.size == (X["test"]["inducer"] == name).sum()


def test_inducers_are_diverse(splits):
    X, y = splits
    solution = load_module(BUNDLE / "solutions" / "best-inducer" / "fusion.py", "_test_cap_best_helper", fio)
    f1 = solution.f1_per_inducer(X["test"], y["test"])
    assert 0.35 < f1.max() < 0.55
    assert (f1 < 0.05).sum() >= 3                      # near-random inducers
    assert (f1 > 0.3).sum() >= 20
    n_images = len(X["test"].attrs["images"])
    per_concept = X["test"].groupby(["inducer", "concept"]).size()
    assert (per_concept == n_images).sum() >= 5        # the same concept for every image
    sizes = X["test"].groupby("inducer").size() / n_images
    assert sizes.max() / sizes.min() > 2               # recall/precision trade-offs


# --- fusion_io ----------------------------------------------------------------------

def test_loaders(splits):
    X, y = splits
    assert list(X["test"].columns) == ["inducer", "image_id", "concept"]
    assert list(y["test"].columns) == ["image_id", "concept"]
    assert isinstance(X["test"].attrs["images"], tuple)
    subset = X["test"][X["test"]["inducer"] == "inducer_01"]
    assert subset.attrs["images"] is X["test"].attrs["images"]  # copied for free
    assert fio.split_images(subset) == X["test"].attrs["images"]


def test_check_prediction_normalises(splits):
    X = splits[0]["test"]
    images = list(X.attrs["images"])
    values = [["c0000002 ", "C0000001", "C0000001"]] + [()] * (len(images) - 2) + [{"C0000003"}]
    checked = fio.check_prediction(pd.Series(values, index=images).iloc[::-1], X)
    assert list(checked.index) == images and checked.name == "concepts"
    assert checked.iloc[0] == ("C0000001", "C0000002") and checked.iloc[1] == () and checked.iloc[-1] == ("C0000003",)
    long = pd.DataFrame({"image_id": [images[3], images[3]], "concept": ["C0000009", "C0000008"]})
    from_long = fio.check_prediction(long, X)
    assert from_long.iloc[3] == ("C0000008", "C0000009") and from_long.iloc[0] == ()


def _series(X, change):
    images = list(X.attrs["images"])
    series = pd.Series([["C0000001"]] * len(images), index=images, dtype=object)
    return change(series, images)


@pytest.mark.parametrize("change, message", [
    (lambda s, images: s.to_dict(), "returned a dict; return a pandas Series indexed by image_id"),
    (lambda s, images: s.iloc[1:], "left out 1 of the 1500 images"),
    (lambda s, images: pd.concat([s, s.iloc[:1]]), "returned 1 image(s) more than once"),
    (lambda s, images: pd.concat([s, pd.Series([["C1"]], index=["unknown.jpg"])]), "1 image(s) that are not in the split"),
    (lambda s, images: s.set_axis(pd.MultiIndex.from_arrays([images, images])), "index has 2 levels"),
    (lambda s, images: s.where(s.index != images[2], "C0000001"), "the value 'C0000001' (str)"),
    (lambda s, images: s.where(s.index != images[2], 5), "the value 5 (int)"),
    (lambda s, images: s.where(s.index != images[2], pd.Series([[1]], index=[images[2]])), "a concept that is a int"),
    (lambda s, images: s.where(s.index != images[2], pd.Series([["C1;C2"]], index=[images[2]])), "the concept 'C1;C2'"),
    (lambda s, images: s.where(s.index != images[2], pd.Series([[""]], index=[images[2]])), "the concept ''"),
    (lambda s, images: s.where(s.index != images[2], pd.Series([[f"C{i:07d}" for i in range(101)]],
                                                                index=[images[2]])), "101 concepts; give at most 100"),
    (lambda s, images: pd.DataFrame({"image": images}), "without column(s) image_id, concept"),
    (lambda s, images: pd.DataFrame({"image_id": ["nope"], "concept": ["C1"]}), "rows for 1 image(s) that are not"),
])
def test_check_prediction_errors_are_one_line(splits, change, message):
    X = splits[0]["test"]
    with pytest.raises(ParticipantError) as error:
        fio.check_prediction(_series(X, change), X)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_write_run_layout(splits, tmp_path):
    X = splits[0]["test"]
    images = list(X.attrs["images"])
    prediction = pd.Series([["C0000002", "C0000001"]] + [[]] * (len(images) - 1), index=images[::-1], dtype=object)
    fio.write_run(prediction, X, tmp_path / "run.csv")
    lines = (tmp_path / "run.csv").read_text().split("\n")
    assert lines[:-1] == sorted(lines[:-1]) and lines[-1] == ""
    assert f"{images[-1]}|C0000001;C0000002" in lines and f"{images[0]}|" in lines


def test_local_metric_equals_the_scoring_program(dest, splits, tmp_path):
    X, y = splits
    _, prediction = next(iter(task.inducer_predictions(X["test"])))
    official = evaluate(prediction, X["test"], dest / "test" / "reference_data", tmp_path / "run.csv")
    assert fio.mean_f1(prediction, y["test"]) == pytest.approx(official, abs=1e-12)


# --- baselines ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def baseline_scores(dest, splits, tmp_path_factory):
    """F1 of every baseline on each split and of the best inducer on test, with the scoring program."""
    X, y = splits
    run = tmp_path_factory.mktemp("runs") / "run.csv"
    scores = {"best single inducer": {"test": max(evaluate(p, X["test"], dest / "test" / "reference_data", run)
                                                  for _, p in task.inducer_predictions(X["test"]))}}
    for name in BASELINES:
        model, predictions = fit_baseline(BUNDLE, fio, name, X, y)
        scores[name] = {split: evaluate(predictions[split], X[split], dest / split / "reference_data", run)
                        for split in ("dev", "test")}
        if name == "best-inducer":
            assert model.dev_f1_ == pytest.approx(scores[name]["dev"], abs=1e-12)
    return scores


def test_best_inducer_helper_matches_the_metric(splits):
    X, y = splits
    solution = load_module(BUNDLE / "solutions" / "best-inducer" / "fusion.py", "_test_cap_best_helper2", fio)
    f1 = solution.f1_per_inducer(X["test"], y["test"])
    for name, prediction in list(task.inducer_predictions(X["test"]))[:5]:
        assert f1[name] == pytest.approx(fio.mean_f1(prediction, y["test"]), abs=1e-12)


def test_supervised_fusion_beats_the_best_inducer_on_test_by_a_bounded_margin(baseline_scores, splits):
    """A real gain, far below the union of the inducers' true concepts (teams share their errors)."""
    X, y = splits
    best = baseline_scores["best single inducer"]["test"]
    assert baseline_scores["best-inducer"]["test"] <= best
    assert 1.10 * best < baseline_scores["weighted-vote"]["test"] < 1.35 * best
    assert baseline_scores["weighted-vote"]["test"] < 0.75 * task._union_bound(X["test"], y["test"])


def test_majority_vote_is_a_weak_baseline(baseline_scores):
    best = baseline_scores["best single inducer"]["test"]
    assert 0.7 * best < baseline_scores["majority-vote"]["test"] < best


def test_teams_share_their_false_positives(splits):
    """Most wrong votes go to wrong concepts many runs predict, not to one run's own mistakes."""
    X, y = splits
    votes = X["test"].groupby(["image_id", "concept"]).size().rename("votes").reset_index()
    truth = y["test"].drop_duplicates().assign(true=True)
    votes = votes.merge(truth, on=["image_id", "concept"], how="left")
    wrong = votes[votes["true"].isna()]
    assert wrong.loc[wrong["votes"] >= 10, "votes"].sum() > 0.4 * wrong["votes"].sum()
    modality_errors = wrong[wrong["concept"].isin(task.MODALITIES)]
    assert modality_errors["votes"].sum() > 0.05 * wrong["votes"].sum()  # another modality taken for the true one


# --- ingestion and starting kit -----------------------------------------------------

def test_baseline_runs_through_the_ingestion_program(dest, tmp_path):
    timing, run = run_baseline_through_ingestion(BUNDLE, dest, tmp_path, "majority-vote")
    assert timing["run_file"] == fio.RUN_FILE_NAME and timing["wall_s"] < 20
    assert score.evaluate(dest / "test" / "reference_data", run).scores["f1"] > 0.3


def test_starting_kit_makes_result_and_code_zips(dest, tmp_path, capsys, task_fusion_io):
    kit, public, run = starting_kit_result(BUNDLE, fio, dest, tmp_path, wrapping="")
    assert score.evaluate(dest / "test" / "reference_data", run).scores["f1"] > 0.4
    quick = tmp_path / "quick_fusion.py"  # the example ran above; a fast Fusion for the code zip
    quick.write_text("class Fusion:\n    def fit(self, X, y):\n        return self\n"
                     "    def predict(self, X):\n        return X[X['inducer'] == 'inducer_01']\n")
    assert starting_kit_code(kit, public, tmp_path, "--fusion", str(quick))["fusion.py"] == quick.read_bytes()
    assert "F1 on dev" in capsys.readouterr().out


def test_building_every_task_of_2022_skips_fusion_cap(capsys):
    from bundlekit import BUNDLES_DIR
    from bundlekit.build import _tasks_with_edition

    assert _tasks_with_edition(["fusion-cap", "fusion-int"], "2022", BUNDLES_DIR) == ["fusion-int"]
    assert "skipping fusion-cap, which has no '2022' edition (editions: 2023)" in capsys.readouterr().err
