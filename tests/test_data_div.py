"""fusion-div: stand-in data, fusion_io API, baselines and starting kit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring_common.errors import InternalError, ParticipantError
from scoring_common.formats.diversity import read_diversity_reference, read_trec_run
from helpers import (edition_fixtures, fit_baseline, run_baseline_through_ingestion, starting_kit_code,
                     starting_kit_result, write_files)
from task_modules import load_task_files

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "fusion-div"
BASELINES = ("best-inducer", "combmnz", "weighted-rrf-mmr")
SPLITS = ("dev", "test")


task, fio, score = load_task_files(BUNDLE)


data, splits = edition_fixtures(task, fio)


def official(prediction: pd.DataFrame, X: pd.DataFrame, ref_dir: Path, run: Path) -> dict[str, float]:
    fio.write_run(prediction, X, run)
    return score.evaluate(ref_dir, run).scores


# --- generation ---------------------------------------------------------------------


def test_layout_and_sizes_match_the_edition(data, splits):
    edition, dest = data
    preset = task.EDITIONS[edition]
    X, y = splits
    assert preset["inducers"] == sum(preset["roles"].values())
    for split in SPLITS:
        assert sorted(p.name for p in (dest / split / "input_data").iterdir()) == ["inducers", "pool.csv", "topics.csv"]
        assert sorted(p.name for p in (dest / split / "reference_data").iterdir()) == \
            ["dGT.csv", "dclusterGT.csv", "rGT.csv"]
        queries = X[split].attrs["queries"]
        assert len(queries) == preset[f"{split}_queries"] and y[split].attrs["queries"] == queries
        assert X[split]["inducer"].nunique() == preset["inducers"]
        assert (X[split].groupby(["inducer", "query_id"]).size() == task.RUN_LENGTH).all()
        pool = y[split].groupby("query_id")
        assert pool.size().between(*task.POOL_SIZE).all()
        assert pool["rel"].apply(lambda rel: (rel == 1).mean()).between(0.5, 0.8).all()
        assert 0 < (y[split]["rel"] == -1).mean() < 0.03
        clusters = y[split][y[split]["rel"] == 1].groupby("query_id")["cluster_id"].nunique()
        assert clusters.between(*task.CLUSTERS).all()
        sizes = y[split][y[split]["rel"] == 1].groupby(["query_id", "cluster_id"]).size()
        assert (sizes.groupby("query_id").max() >= 4 * sizes.groupby("query_id").median()).mean() > 0.5  # skewed
        assert y[split]["photo_id"].str.fullmatch(r"\d{10}").all()
        tags = pd.read_csv(dest / split / "reference_data" / "dclusterGT.csv", dtype=str)
        assert len(tags) == clusters.sum() and not tags.duplicated(["query_id", "tag"]).any()
        topics = fio.load_topics(dest / split / "input_data")
        assert topics["query_id"].tolist() == list(queries) and topics["title"].is_unique
    assert set(X["dev"].attrs["queries"]).isdisjoint(X["test"].attrs["queries"])
    assert set(y["dev"]["photo_id"]).isdisjoint(y["test"]["photo_id"])
    assert y["dev"]["photo_id"].is_unique


def test_pool_is_public_and_is_the_judged_photos(data, splits):
    _, dest = data
    X, y = splits
    for split in SPLITS:
        pool = pd.read_csv(dest / split / "input_data" / "pool.csv", dtype=str)
        assert list(pool.columns) == ["query_id", "photo_id"]
        assert pool.equals(y[split][["query_id", "photo_id"]].reset_index(drop=True))
        ranked = set(zip(X[split]["query_id"], X[split]["photo_id"]))
        assert ranked <= set(zip(pool["query_id"], pool["photo_id"]))
    task.validate_data(dest)
    assert "pool.csv" in task.INPUT_FILES  # published with the inducers


@pytest.mark.parametrize("damage, message", [
    (lambda pool: pool.unlink(), "test/input_data/pool.csv is missing; list every photo of each query's pool"),
    (lambda pool: pool.write_text(pool.read_text().replace("query_id,photo_id", "query,photo", 1)),
     "test/input_data/pool.csv: the header must be query_id,photo_id"),
    (lambda pool: pool.write_text("".join(pool.read_text().splitlines(keepends=True)[:-1])),
     "test/input_data/pool.csv and test/reference_data/rGT.csv disagree on 1 (query, photo) pair(s)"),
])
def test_validate_data_refuses_a_wrong_pool(data, tmp_path, damage, message):
    import shutil

    _, dest = data
    copy = Path(shutil.copytree(dest, tmp_path / "data"))
    damage(copy / "test" / "input_data" / "pool.csv")
    with pytest.raises(ValueError) as refused:
        task.validate_data(copy)
    assert str(refused.value).startswith(message)


def test_scorer_refuses_a_photo_outside_the_pool_in_one_line(data, splits, tmp_path):
    _, dest = data
    X, _ = splits
    name, prediction = next(iter(task.inducer_predictions(X["test"])))
    run = tmp_path / "run.txt"
    fio.write_run(prediction, X["test"], run)
    lines = run.read_text().splitlines()
    query, iteration, photo, *rest = lines[6].split()
    lines[6] = " ".join([query, iteration, "999" + photo, *rest])
    run.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParticipantError) as refused:
        score.evaluate(dest / "test" / "reference_data", run)
    assert str(refused.value) == (f"run.txt line 7: photo '999{photo}' is not in the pool of query '{query}' "
                                  "(pool.csv); rank only photos of the query's pool")


def test_files_pass_the_strict_readers(data, splits):
    _, dest = data
    X, y = splits
    for split in SPLITS:
        reference = read_diversity_reference(dest / split / "reference_data")
        assert reference.query_ids == X[split].attrs["queries"]
        assert int(reference.relevant.sum()) == int((y[split]["rel"] == 1).sum())
        assert reference.n_clusters.tolist() == \
            y[split][y[split]["rel"] == 1].groupby("query_id", sort=False)["cluster_id"].nunique().tolist()
        for path in sorted((dest / split / "input_data" / "inducers").glob("*.txt")):
            run = read_trec_run(path, reference.query_ids)  # ranks from 0, scores non-increasing, <= 50 per query
            assert run.rank.tolist() == run.position.tolist()
            rows = X[split][X[split]["inducer"] == path.stem]
            assert rows["photo_id"].tolist() == run.item_ids


def test_inducers_are_diverse(data, splits):
    X, y = splits
    f1 = fio.inducer_diversity(X["dev"], y["dev"])["f1"]
    assert 0.5 < f1.max() < 0.65
    assert (f1 < f1.median() - 0.1).sum() >= 3              # some inducers prefer non-relevant photos
    presence = X["dev"].assign(one=1.0).pivot_table(index="inducer", columns=["query_id", "photo_id"], values="one",
                                                    fill_value=0.0).to_numpy()
    overlap = presence @ presence.T / presence.sum(axis=1, keepdims=True)
    assert (overlap[np.triu_indices(len(overlap), 1)] > 0.7).sum() >= 10   # correlated groups
    assert np.median(overlap) < 0.4
    scales = X["dev"].groupby("inducer")["score"].agg(["min", "max"])
    assert (scales["max"] <= 1).any() and (scales["max"] >= 40).any() and (scales["max"] < 0).any()


# --- fusion_io ----------------------------------------------------------------------

def test_loaders(splits):
    X, y = splits
    assert list(X["dev"].columns) == fio.X_COLUMNS
    assert X["dev"]["rank"].dtype == np.int64 and X["dev"]["score"].dtype == np.float64
    assert isinstance(X["dev"]["photo_id"].iloc[0], str) and isinstance(X["dev"]["query_id"].iloc[0], str)
    assert list(y["dev"].columns) == fio.Y_COLUMNS
    assert set(y["dev"]["rel"].unique()) == {1, 0, -1}
    assert str(y["dev"]["cluster_id"].dtype) == "Int64"
    assert (y["dev"]["cluster_id"].isna() == (y["dev"]["rel"] != 1)).all()
    # attrs survive ordinary operations
    assert fio.split_queries(X["dev"][X["dev"]["rank"] < 5]) == X["dev"].attrs["queries"]
    for column in ("query_id", "photo_id"):  # one object per distinct id, across the inducers' files
        values = X["dev"][column].tolist()
        assert len({id(value) for value in values}) == len(set(values))


def test_loaders_accept_one_based_ranks_and_tabs(tmp_path):
    (tmp_path / "inducers").mkdir()
    (tmp_path / "topics.csv").write_text("query_id,title\nq2,Colosseum\nq10,Big Ben\n")
    (tmp_path / "inducers" / "a.txt").write_text("q10\t0\t7\t1\t0.5\tA\nq2 0 9 2 0.1 A\r\nq2 0 8 1 0.9 A\n\n")
    X = fio.load_inducers(tmp_path)
    assert X.attrs["queries"] == ("q10", "q2")  # the scoring program's order: numeric ids numerically, others as text
    assert X[["query_id", "photo_id", "rank"]].values.tolist() == [["q10", "7", 0], ["q2", "8", 0], ["q2", "9", 1]]


def _inducer_files(run: str, topics: str = "query_id,title\n1,a\n") -> dict[str, str]:
    return {"topics.csv": topics, "inducers/a.txt": run}


def _truth_files(rgt_rows: str, dgt_rows: str) -> dict[str, str]:
    return {"rGT.csv": "query_id,photo_id,rel\n" + rgt_rows, "dGT.csv": "query_id,photo_id,cluster_id\n" + dgt_rows}


@pytest.mark.parametrize("loader, files, message", [
    ("load_inducers", _inducer_files("2 0 7 0 0.5 A\n"), "query '2' is not in topics.csv"),
    ("load_inducers", _inducer_files("1 0 7 0 0.5 A\n1 0 7 1 0.4 A\n"), "photo '7' appears twice for query '1'"),
    ("load_inducers", _inducer_files("1 0 7 zero 0.5 A\n"), "a rank is not an integer"),
    ("load_inducers", _inducer_files("1 0 7 0 0.5\n"), "fewer than 6 fields"),
    ("load_inducers", _inducer_files("1 0 7 0 0.5 A\n", topics="id,title\n1,a\n"),
     "must have the header query_id,title"),
    ("load_truth", _truth_files("1,7,2\n", ""), "rel must be 1, 0 or -1"),
    ("load_truth", _truth_files("1,7,1\n", ""), "must give a cluster to every relevant"),
    ("load_truth", _truth_files("1,7,0\n", "1,7,1\n"), "must give a cluster"),
    ("load_truth", _truth_files("1,7,1\n", "1,7,1\n1,8,1\n"), "must give a cluster"),
    ("load_truth", _truth_files("1,7,1\n", "1,7,x\n"), "cluster_id must be an integer"),
    ("load_truth", _truth_files("1,7,1\n1,7,0\n", "1,7,1\n"), "judged twice"),
])
def test_broken_data_files_are_internal_errors(tmp_path, loader, files, message):
    write_files(tmp_path, files)
    with pytest.raises(InternalError, match=message):
        getattr(fio, loader)(tmp_path)


def test_check_prediction_ranks_by_score_then_photo_id(splits):
    X = splits[0]["test"]
    first = X["inducer"].iloc[0]
    rows = X[X["inducer"] == first]
    prediction = rows.assign(score=np.where(rows["rank"] < 10, 1.0, 0.5))[["query_id", "photo_id", "score"]]
    ranking = fio.check_prediction(prediction.sample(frac=1.0, random_state=0), X)
    assert list(ranking.columns) == ["query_id", "photo_id", "rank", "score"]
    assert ranking["query_id"].unique().tolist() == list(X.attrs["queries"])
    query = ranking[ranking["query_id"] == X.attrs["queries"][0]]
    assert query["rank"].tolist() == list(range(len(query)))
    assert query["photo_id"].iloc[:10].tolist() == sorted(query["photo_id"].iloc[:10])
    assert (query["score"].iloc[:10] == 1.0).all()
    # A Series indexed by (query_id, photo_id), integer ids and extra columns are accepted.
    series = prediction.set_index(["query_id", "photo_id"])["score"]
    assert fio.check_prediction(series, X).equals(ranking)
    as_integers = prediction.astype({"query_id": np.int64, "photo_id": np.int64}).assign(extra="x")
    assert fio.check_prediction(as_integers, X).equals(ranking)


def _one_query_missing(X: pd.DataFrame) -> pd.DataFrame:
    rows = X[(X["inducer"] == X["inducer"].iloc[0]) & (X["query_id"] != X.attrs["queries"][-1])]
    return rows[["query_id", "photo_id", "score"]]


def _first_run(X: pd.DataFrame) -> pd.DataFrame:
    return X[X["inducer"] == X["inducer"].iloc[0]][["query_id", "photo_id", "score"]].reset_index(drop=True)


def _photo_of_another_query(X: pd.DataFrame) -> pd.DataFrame:
    run = _first_run(X)
    other = run["photo_id"][run["query_id"] != run["query_id"].iloc[0]].iloc[0]
    return pd.concat([run, pd.DataFrame({"query_id": [run["query_id"].iloc[0]], "photo_id": [other], "score": [9.0]})])


@pytest.mark.parametrize("make, message", [
    (lambda X: _first_run(X).to_numpy().tolist(), "returned a list; return a pandas DataFrame"),
    (lambda X: _first_run(X).to_numpy(), "returned a ndarray; return a pandas DataFrame"),
    (lambda X: _first_run(X).drop(columns="score"), "without column(s) score"),
    (lambda X: _first_run(X).set_index(["query_id", "photo_id"]), "without column(s) query_id, photo_id"),
    (lambda X: _first_run(X)["score"], "index has 1 level(s)"),
    (lambda X: _first_run(X).iloc[:0], "returned no row"),
    (lambda X: pd.concat([_first_run(X), _first_run(X).iloc[:2]]), "returned 2 (query_id, photo_id) pair(s) more"),
    (lambda X: _first_run(X).assign(query_id="nope"), "1 query id(s) that are not in the split, e.g. 'nope'"),
    (_photo_of_another_query, "1 photo(s) that no inducer ranked for their query"),
    (_one_query_missing, "left out 1 of the"),
    (lambda X: _first_run(X).assign(score=lambda f: f["score"].where(f.index != 3, np.nan)), "1 score(s) that are NaN"),
    (lambda X: _first_run(X).assign(score="high"), "does not convert to numbers"),
    (lambda X: _first_run(X).assign(photo_id=lambda f: f["photo_id"].astype(float)), "photo_id 3"),
])
def test_check_prediction_errors_are_one_line(splits, make, message):
    X = splits[0]["test"]
    with pytest.raises(ParticipantError) as error:
        fio.check_prediction(make(X), X)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_write_run_keeps_the_top_50_and_passes_the_reader(data, splits, tmp_path):
    _, dest = data
    X = splits[0]["test"]
    # Every photo any inducer ranked, scored by how many inducers ranked it.
    votes = X.groupby(["query_id", "photo_id"]).size().astype(float) / 7
    fio.write_run(votes, X, tmp_path / "run.txt")
    lines = (tmp_path / "run.txt").read_text().split("\n")
    assert lines[-1] == "" and lines[0].split()[1::2] == ["0", "0", "fusion"]
    reference = read_diversity_reference(dest / "test" / "reference_data")
    run = read_trec_run(tmp_path / "run.txt", reference.query_ids)
    assert (run.n_ranked == fio.MAX_PHOTOS_PER_QUERY).all()
    ranking = fio.check_prediction(votes, X)
    top = ranking[ranking["rank"] < fio.MAX_PHOTOS_PER_QUERY]
    assert run.item_ids == top["photo_id"].tolist()
    np.testing.assert_array_equal(run.score, top["score"].to_numpy())


def test_local_metrics_equal_the_scoring_program(data, splits, tmp_path):
    _, dest = data
    X, y = splits
    every_inducer = fio.inducer_diversity(X["test"], y["test"])
    for name, prediction in list(task.inducer_predictions(X["test"]))[:3]:
        scores = official(prediction, X["test"], dest / "test" / "reference_data", tmp_path / "run.txt")
        expected = {"f1": scores["f1_at_20"], "cr": scores["cr_at_20"], "p": scores["p_at_20"]}
        assert fio.diversity_scores(prediction, y["test"]) == pytest.approx(expected, abs=1e-12)
        assert every_inducer.loc[name].to_dict() == pytest.approx(expected, abs=1e-12)
    per_query = fio.diversity_per_query(prediction.iloc[5:], y["test"], cutoff=5)
    assert list(per_query.index) == list(y["test"].attrs["queries"]) and list(per_query.columns) == ["p", "cr", "f1"]
    assert per_query["p"].between(0, 1).all()
    at_5 = fio.inducer_diversity(X["test"], y["test"], cutoff=5)
    assert at_5.loc[name].to_dict() == pytest.approx(fio.diversity_scores(prediction, y["test"], cutoff=5), abs=1e-12)


# --- baselines ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def baseline_scores(data, splits, tmp_path_factory):
    """Official scores of every baseline and of the best inducer on each split."""
    _, dest = data
    X, y = splits
    run = tmp_path_factory.mktemp("runs") / "run.txt"
    best = {}
    for split in SPLITS:
        name = fio.inducer_diversity(X[split], y[split])["f1"].idxmax()  # equal to the official scores (tested above)
        prediction = dict(task.inducer_predictions(X[split]))[name]
        best[split] = official(prediction, X[split], dest / split / "reference_data", run)
    scores = {"best single inducer": best}
    for name in BASELINES:
        _, predictions = fit_baseline(BUNDLE, fio, name, X, y, SPLITS)
        scores[name] = {split: official(predictions[split], X[split], dest / split / "reference_data", run)
                        for split in SPLITS}
    return scores


def test_best_inducer_baseline_is_the_best_on_dev(baseline_scores):
    assert baseline_scores["best-inducer"]["dev"] == baseline_scores["best single inducer"]["dev"]


def test_supervised_fusion_clearly_beats_the_best_inducer_on_test(baseline_scores):
    best = baseline_scores["best single inducer"]["test"]["f1_at_20"]
    supervised = baseline_scores["weighted-rrf-mmr"]["test"]
    assert 1.08 * best < supervised["f1_at_20"] < 1.30 * best
    # by covering more clusters, not only by precision
    assert supervised["cr_at_20"] > baseline_scores["best single inducer"]["test"]["cr_at_20"]


def test_unsupervised_fusion_lies_between(baseline_scores):
    best = baseline_scores["best single inducer"]["test"]["f1_at_20"]
    unsupervised = baseline_scores["combmnz"]["test"]["f1_at_20"]
    assert 0.85 * best < unsupervised < baseline_scores["weighted-rrf-mmr"]["test"]["f1_at_20"]


# --- ingestion and starting kit (the smaller edition is enough) ----------------------

def test_baseline_runs_through_the_ingestion_program(data, tmp_path):
    edition, dest = data
    if edition != "2022":
        pytest.skip("the smaller edition is enough")
    timing, run = run_baseline_through_ingestion(BUNDLE, dest, tmp_path, "weighted-rrf-mmr")
    assert timing["run_file"] == fio.RUN_FILE_NAME == "run.txt"
    assert score.evaluate(dest / "test" / "reference_data", run).scores["f1_at_20"] > 0.5


def test_starting_kit_makes_result_and_code_zips(data, tmp_path, capsys, task_fusion_io):
    edition, dest = data
    if edition != "2022":
        pytest.skip("the smaller edition is enough")
    kit, public, run = starting_kit_result(BUNDLE, fio, dest, tmp_path)  # unzipped into a wrapping folder
    assert score.evaluate(dest / "test" / "reference_data", run).scores["f1_at_20"] > 0.5
    assert starting_kit_code(kit, public, tmp_path)["metadata"].decode().startswith("command: ")
    assert "F1@20" in capsys.readouterr().out
