"""fusion-mem (media memorability), the task made with `bundlekit new --kind regression`.

Its stand-in data, its fusion_io API and scoring program, and the built bundle: the
supervised baseline beats the best inducer on test by a real but
small margin (the best inducers are near the annotation-noise ceiling, as the best
short-term memorability systems are) and the unsupervised one lies between them. What every task
must do (determinism, the checker, the runner locally and in Docker) is in
test_conformance.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bundlekit import BUNDLES_DIR
from bundlekit.build import BuildOptions, BuildResult, build_task
from scoring_common.errors import ParticipantError
from scoring_common.formats.tabular import read_tabular_reference
from helpers import generate
from task_modules import load_task_files

BUNDLE = BUNDLES_DIR / "fusion-mem"
QUIET = BuildOptions(progress=lambda message: None).progress


task, fio, score = load_task_files(BUNDLE)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return generate(task, tmp_path_factory.mktemp("mem"), "2023")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> BuildResult:
    return build_task("fusion-mem", BuildOptions(out=tmp_path_factory.mktemp("dist-mem"), progress=QUIET))


# --- stand-in data ------------------------------------------------------------------


def test_sizes_match_the_edition(data: Path):
    preset = task.EDITIONS["2023"]
    n_inducers = sum(preset["roles"].values())
    for split in ("dev", "test"):
        X = fio.load_inducers(data / split / "input_data")
        y = fio.load_truth(data / split / "reference_data")
        assert X.shape == (preset[f"{split}_videos"], n_inducers)
        assert X.index.equals(y.index) and X.index.name == "video_id" and y.name == "score"
        assert y.between(0.0, 1.0).all() and 0.8 < y.mean() < 0.9
    dev, test = (set(fio.load_truth(data / s / "reference_data").index) for s in ("dev", "test"))
    assert not dev & test


def test_unknown_edition_says_which_exist(tmp_path: Path):
    with pytest.raises(ValueError, match=r"fusion-mem did not exist before 2023\); editions: 2023"):
        task.generate_data(tmp_path, edition="2022", progress=lambda message: None)
    with pytest.raises(ValueError, match="unknown fusion-mem edition 'sample'"):
        task.generate_data(tmp_path, edition="sample", progress=lambda message: None)


def test_inducers_are_of_varying_quality(data: Path):
    X = fio.load_inducers(data / "test" / "input_data")
    y = fio.load_truth(data / "test" / "reference_data")
    quality = pd.Series({name: fio.primary_metric(X[name], y) for name in X.columns})
    ceiling = task.noise_ceiling("2023", 2023)["test"]
    assert 0.72 < ceiling < 0.78  # the annotation noise caps every system
    assert 0.62 < quality.max() < ceiling  # like the best short-term systems: near the ceiling
    assert (quality < -0.1).sum() >= 2  # anti-correlated inducers
    assert (quality.abs() < 0.1).sum() >= 2  # near-random ones
    correlation = X.rank().corr().abs().to_numpy()
    assert (correlation[np.triu_indices_from(correlation, 1)] > 0.5).sum() >= 10  # correlated groups


def test_noise_ceiling_is_what_a_perfect_system_reaches(data: Path):
    """The ceiling replays the generator: its scores are the ground truth's."""
    ceiling = task.noise_ceiling("2023", 2023)
    _, splits = task._simulate("2023", 2023)
    for split in ("dev", "test"):
        y = fio.load_truth(data / split / "reference_data")
        np.testing.assert_allclose(y.to_numpy(), splits[split]["score"], atol=5e-7)
        perfect = pd.Series(splits[split]["probability"], index=y.index)
        assert ceiling[split] == pytest.approx(fio.primary_metric(perfect, y), abs=1e-9)


def test_ground_truth_passes_the_strict_reader(data: Path):
    for split in ("dev", "test"):
        reference = read_tabular_reference(data / split / "reference_data" / "groundtruth.csv", score.NAMES,
                                           "regression")
        assert reference.item_ids == fio.load_truth(data / split / "reference_data").index.tolist()


# --- fusion_io and the scoring program ----------------------------------------------

def test_the_truth_scores_one_and_runs_round_trip(data: Path, tmp_path: Path):
    X = fio.load_inducers(data / "test" / "input_data")
    y = fio.load_truth(data / "test" / "reference_data")
    run = tmp_path / fio.RUN_FILE_NAME
    fio.write_run(y.sample(frac=1.0, random_state=0), X, run)
    assert run.read_text().splitlines()[0] == "video_id,score"
    assert score.evaluate(data / "test" / "reference_data", run).scores == {"spearman": 1.0, "pearson": 1.0}
    inducer = X.columns[0]
    fio.write_run(fio.inducer_prediction(X, inducer), X, run)
    assert score.evaluate(data / "test" / "reference_data", run).scores["spearman"] == \
        pytest.approx(fio.primary_metric(X[inducer], y), abs=1e-12)


@pytest.mark.parametrize(("make", "message"), [
    (lambda X: X.iloc[:, 0].tolist(), "Fusion.predict returned a list; return a pandas Series"),
    (lambda X: X.iloc[:, :2], "returned a DataFrame with 2 column"),
    (lambda X: X.iloc[1:, 0], "left out 1 of the 500 videos of X"),
    (lambda X: pd.concat([X.iloc[:, 0], X.iloc[:1, 0]]), "returned 1 video(s) more than once"),
    (lambda X: X.iloc[:, 0].rename(lambda v: v + "x"), "returned 500 video(s) that are not in X"),
    (lambda X: X.iloc[:, 0].where(X.index != X.index[3]), "NaN or infinite, e.g. for 'video01004'"),
    (lambda X: X.iloc[:, 0].astype(str) + "!", "does not convert to numbers"),
])
def test_check_prediction_explains_in_one_line(data: Path, make, message: str):
    X = fio.load_inducers(data / "test" / "input_data")
    with pytest.raises(ParticipantError, match=None) as caught:
        fio.check_prediction(make(X), X)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_check_prediction_reorders_like_X(data: Path):
    X = fio.load_inducers(data / "dev" / "input_data")
    shuffled = X.iloc[:, 0].sample(frac=1.0, random_state=1)
    checked = fio.check_prediction(shuffled, X)
    assert checked.index.equals(X.index) and checked.name == "score"
    assert checked.equals(X.iloc[:, 0].rename("score").astype(np.float64))


# --- the built bundle ---------------------------------------------------------------


def test_leaderboard_is_spearman_pearson_gain_time(built: BuildResult):
    import yaml

    document = yaml.safe_load((built.bundle_dir / "competition.yaml").read_text(encoding="utf-8"))
    assert [c["key"] for c in document["leaderboards"][0]["columns"]] == ["spearman", "pearson", "gain_pct",
                                                                         "time_s", "cpu_s", "memory_mib"]
    assert built.best_inducers["test"]["primary_metric"] == "spearman"
    for page in (built.bundle_dir / "pages").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "TODO" not in text and "{{" not in text, page.name


def test_supervised_beats_the_best_inducer_on_test(built: BuildResult):
    gains = {name: scores["test"]["gain_pct"] for name, scores in built.baseline_scores.items()}
    assert sorted(gains) == ["best-inducer", "rank-mean", "ridge"]
    assert 2.0 < gains["ridge"] < 15.0, gains
    assert gains["best-inducer"] <= 1e-9
    assert gains["best-inducer"] - 5.0 < gains["rank-mean"] < gains["ridge"], gains
    spearman = {name: scores["test"]["spearman"] for name, scores in built.baseline_scores.items()}
    assert spearman["ridge"] > built.best_inducers["test"]["scores"]["spearman"] + 0.015
