"""The prediction types (scoring_common/predictions): runs the strict readers read back, messages, ties,
empty predictions, the kit's local metric equal to the scorer's, and fusion_io.py derived from a declaration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bundlekit.build import load_task
from bundlekit.fusion_io_derivation import derived_fusion_io
from bundlekit.layers import source_file
from scoring_common.errors import ParticipantError
from scoring_common.formats.concepts import read_run
from scoring_common.formats.diversity import read_trec_run
from scoring_common.formats.ranking import RankingNames, read_ranking_reference, read_ranking_run
from scoring_common.formats.tabular import TabularNames, read_tabular_reference, read_tabular_run
from scoring_common.predictions.label_sets import LabelSets
from scoring_common.predictions.per_item import ItemClasses, ItemScores, ItemValues
from scoring_common.predictions.ranked_lists import RankedLists
from tests.task_modules import load_module

ROOT = Path(__file__).resolve().parents[1]
KIT_TASKS = ("fusion-int", "fusion-mem", "fusion-div", "fusion-cap")
KINDS = ("ranking", "regression", "classification", "retrieval", "multilabel")
#: Floats whose shortest repr must survive the run exactly.
AWKWARD = [0.1 + 0.2, -0.0, 1e-300, 123456789.123456789, 5e-324, 1.0, 1.0]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- per item


@pytest.fixture
def ranking_split(tmp_path: Path) -> tuple[ItemScores, pd.DataFrame, Path]:
    kind = ItemScores(item_columns=("video_id", "image_id"), item="keyframe")
    rows = [(f"v{q}", f"i{d}") for q in (1, 2) for d in range(4)]
    body = "".join(f"{v},{i},{n % 3},{n}\n" for n, (v, i) in enumerate(rows))
    _write(tmp_path / "in" / "inducers.csv", "video_id,image_id,a,b\n" + body)
    _write(tmp_path / "ref" / "groundtruth.csv",
           "video_id,image_id,label\n" + "".join(f"{v},{i},{n % 2}\n" for n, (v, i) in enumerate(rows)))
    return kind, kind.load_inducers(tmp_path / "in"), tmp_path


def test_item_scores_round_trip_through_the_strict_reader(ranking_split):
    kind, X, folder = ranking_split
    prediction = pd.Series(AWKWARD + [2.5], index=X.index).iloc[::-1]  # any row order
    kind.write_run(prediction, X, folder / "run.csv")
    reference = read_ranking_reference(folder / "ref" / "groundtruth.csv")
    scores = read_ranking_run(folder / "run.csv", reference, RankingNames(query_column="video_id"))
    assert scores.tolist() == prediction.reindex(X.index).tolist()
    assert (folder / "run.csv").read_text().splitlines()[0] == "video_id,image_id,score"


def test_item_scores_metric_with_ties_is_trec_evals(ranking_split):
    kind, X, folder = ranking_split
    y = kind.load_truth(folder / "ref")
    assert y.name == "label" and y.dtype == np.int64 and y.index.names == ["video_id", "image_id"]
    tied = pd.Series(0.5, index=X.index)  # ties broken by image id, descending
    # v1: labels 0,1,0,1 for i0..i3 -> order i3,i2,i1,i0 -> AP = (1/1 + 2/3) / 2; v2 the same
    assert kind.mean_average_precision(tied, y) == pytest.approx((1 + 2 / 3) / 2)
    assert kind.primary_metric(tied, y) == kind.mean_average_precision(tied, y, k=10)
    assert kind.mean_average_precision(tied, y, k=1) == pytest.approx(0.5)
    assert kind.mean_average_precision(tied, y, k=None) == kind.mean_average_precision(tied, y)


@pytest.mark.parametrize(("prediction", "message"), [
    (lambda X: X, "returned a DataFrame with 2 column(s); return a pandas Series of scores indexed like X"),
    (lambda X: X["a"].tolist(), "returned a list; return a pandas Series of scores indexed like X, "
                                "e.g. pd.Series(scores, index=X.index)"),
    (lambda X: pd.Series(1.0, index=range(len(X))), "whose index has 1 level(s); index it by X's "
                                                    "(video_id, image_id) MultiIndex"),
    (lambda X: pd.concat([X["a"], X["a"].iloc[:1]]), "returned 1 keyframe(s) more than once, e.g. "
                                                     "\"('v1', 'i0')\"; give every keyframe of X exactly once"),
    (lambda X: X["a"].iloc[2:], "left out 2 of the 8 keyframes of X"),
    (lambda X: X["a"].iloc[:0], "left out 8 of the 8 keyframes of X"),
    (lambda X: X["a"].where(X["b"] != 3), "returned 1 score(s) that are NaN or infinite, e.g. for "
                                          "\"('v1', 'i3')\""),
    (lambda X: X["a"].astype(str) + "x", "that does not convert to numbers; return float scores"),
])
def test_item_scores_messages(ranking_split, prediction, message):
    kind, X, _ = ranking_split
    with pytest.raises(ParticipantError, match=None) as caught:
        kind.check_prediction(prediction(X), X)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_item_values_round_trip_and_messages(tmp_path: Path):
    kind = ItemValues(item_columns=("video_id",), target="score", item="video")
    _write(tmp_path / "inducers.csv", "video_id,a\n" + "".join(f"v{n},{n}\n" for n in range(7)))
    _write(tmp_path / "groundtruth.csv", "video_id,score\n" + "".join(f"v{n},0.{n}\n" for n in range(7)))
    X, y = kind.load_inducers(tmp_path), kind.load_truth(tmp_path)
    assert X.index.name == "video_id" and X.columns.name == "inducer" and y.name == "score"
    prediction = pd.Series(AWKWARD, index=X.index)
    kind.write_run(prediction.sample(frac=1, random_state=1), X, tmp_path / "run.csv")
    names = TabularNames(id_column="video_id", target_column="score", item="video")
    reference = read_tabular_reference(tmp_path / "groundtruth.csv", names, "regression")
    assert read_tabular_run(tmp_path / "run.csv", reference, names).tolist() == AWKWARD
    with pytest.raises(ParticipantError, match="whose index has 2 levels; index it by video_id like X"):
        kind.check_prediction(pd.Series(1.0, index=pd.MultiIndex.from_arrays([X.index, X.index])), X)
    with pytest.raises(ParticipantError, match="left out 7 of the 7 videos of X, .*; predict every row of X"):
        kind.check_prediction(pd.Series([], dtype=float), X)
    with pytest.raises(ValueError, match="lacks 1 video"):
        kind.aligned(prediction.iloc[1:], y)


def test_item_classes_round_trip_and_messages(tmp_path: Path):
    kind = ItemClasses(item_columns=("item_id",), classes=("cat", "dog"))
    _write(tmp_path / "inducers.csv", "item_id,a,b\n" + "".join(f"i{n}, cat ,dog\n" for n in range(4)))
    _write(tmp_path / "groundtruth.csv", "item_id,label\ni0,cat\ni1,dog\ni2,dog\ni3,cat\n")
    X, y = kind.load_inducers(tmp_path), kind.load_truth(tmp_path)
    assert X["a"].tolist() == ["cat"] * 4  # stripped
    prediction = pd.Series(["dog", "dog", "cat", "cat"], index=X.index)
    kind.write_run(prediction, X, tmp_path / "run.csv")
    assert (tmp_path / "run.csv").read_text() == "item_id,label\ni0,dog\ni1,dog\ni2,cat\ni3,cat\n"
    names = TabularNames(id_column="item_id", target_column="label")
    reference = read_tabular_reference(tmp_path / "groundtruth.csv", names, "classification", classes=kind.classes)
    assert read_tabular_run(tmp_path / "run.csv", reference, names).tolist() == [1, 1, 0, 0]
    assert kind.macro_f1(prediction, y) == pytest.approx(0.5) and kind.accuracy(prediction, y) == 0.5
    with pytest.raises(ParticipantError, match=r"returned 1 value\(s\) that are not class labels, e.g. 'Dog' for "
                                               r"'i0'; return one of 'cat', 'dog' per item"):
        kind.check_prediction(prediction.replace({"dog": "Dog"}).where(prediction.index != "i1", "cat"), X)


# --------------------------------------------------------------------------- ranked lists


@pytest.fixture
def retrieval_split(tmp_path: Path) -> tuple[RankedLists, pd.DataFrame, Path]:
    kind = RankedLists(max_per_query=3, cutoff=2)
    _write(tmp_path / "in" / "topics.csv", "query_id,title\n10,ten\n2,two\n")
    _write(tmp_path / "in" / "inducers" / "a.txt", "".join(f"{q} 0 p{q}_{r} {r} {9 - r} a\n" for q in (2, 10)
                                                           for r in range(5)))
    _write(tmp_path / "ref" / "rGT.csv", "query_id,photo_id,rel\n2,p2_0,1\n2,p2_1,1\n2,p2_2,0\n10,p10_4,1\n")
    _write(tmp_path / "ref" / "dGT.csv", "query_id,photo_id,cluster_id\n2,p2_0,1\n2,p2_1,2\n10,p10_4,1\n")
    return kind, kind.load_inducers(tmp_path / "in"), tmp_path


def test_ranked_lists_ties_and_round_trip(retrieval_split):
    kind, X, folder = retrieval_split
    assert X.attrs["queries"] == ("2", "10")  # numeric ids in numeric order
    prediction = X[["query_id", "photo_id"]].assign(score=0.0)  # all tied: photo id ascending
    kind.write_run(prediction, X, folder / "run.txt")
    run = read_trec_run(folder / "run.txt", X.attrs["queries"], max_per_query=3)
    assert run.item_ids == ["p2_0", "p2_1", "p2_2", "p10_0", "p10_1", "p10_2"]
    assert run.position.tolist() == [0, 1, 2, 0, 1, 2]
    ranked = kind.check_prediction(prediction, X)
    assert list(ranked.columns) == ["query_id", "photo_id", "rank", "score"] and len(ranked) == 10
    y = kind.load_truth(folder / "ref")
    assert str(y["cluster_id"].dtype) == "Int64"
    per_query = kind.diversity_per_query(prediction, y)
    assert per_query.loc["2", "p"] == 1.0 and per_query.loc["2", "cr"] == 1.0 and per_query.loc["10", "f1"] == 0
    assert kind.primary_metric(prediction, y) == pytest.approx(0.5)
    assert kind.inducer_diversity(X, y)["f1"].tolist() == pytest.approx([0.5])


@pytest.mark.parametrize(("prediction", "message"), [
    (lambda X: X.iloc[:0], "Fusion.predict returned no row; rank the photos of every query of X"),
    (lambda X: X[X["query_id"] == "2"], "left out 1 of the 2 queries, e.g. '10'"),
    (lambda X: X.assign(photo_id="p2_0"), "(query_id, photo_id) pair(s) more than once"),
    (lambda X: X.assign(query_id="7"), "returned 1 query id(s) that are not in the split, e.g. '7'"),
    (lambda X: X.assign(photo_id=X["photo_id"].str.replace("p10_", "p2_")),
     "returned 5 photo(s) that no inducer ranked for their query, e.g. '10/p2_0'"),
    (lambda X: X.assign(query_id=X["query_id"].astype(float)), "returned a query_id 2.0 of type float"),
    (lambda X: X.drop(columns="score"), "without column(s) score"),
])
def test_ranked_lists_messages(retrieval_split, prediction, message):
    kind, X, _ = retrieval_split
    with pytest.raises(ParticipantError) as caught:
        kind.check_prediction(prediction(X), X)
    assert message in str(caught.value)


def test_ranked_lists_known_pairs_follow_a_new_frame(retrieval_split):
    kind, X, _ = retrieval_split
    kind.check_prediction(X, X)
    other = X.assign(photo_id=X["photo_id"] + "x")
    assert len(kind.check_prediction(other, other)) == len(X)
    with pytest.raises(ParticipantError, match="no inducer ranked"):
        kind.check_prediction(X, other)


# --------------------------------------------------------------------------- label sets


def test_label_sets_round_trip_empty_and_messages(tmp_path: Path):
    kind = LabelSets(item_column="image_id", label_column="concept", item="image", label="concept",
                     label_id="concept ids", items_key="images", items_file="images.txt", series_name="concepts")
    _write(tmp_path / "images.txt", "img2\nimg1\nimg3\n")
    _write(tmp_path / "inducers" / "a.csv", "img1|c1;C2\nimg2|\n")
    X = kind.load_inducers(tmp_path)
    assert X.attrs["images"] == ("img2", "img1", "img3") and X["concept"].tolist() == ["C1", "C2"]
    prediction = pd.Series([[" c2 ", "C1", "c1"], (), set()], index=["img1", "img2", "img3"])
    kind.write_run(prediction, X, tmp_path / "run.csv")
    assert (tmp_path / "run.csv").read_text() == "img1|C1;C2\nimg2|\nimg3|\n"
    vocabulary: dict[str, int] = {}
    pairs = read_run(tmp_path / "run.csv", {"img2": 0, "img1": 1, "img3": 2}, vocabulary)
    assert sorted(zip(pairs.image.tolist(), pairs.concept.tolist())) == [(1, vocabulary["C1"]), (1, vocabulary["C2"])]
    assert kind.check_prediction(X[["image_id", "concept"]], X).tolist() == [(), ("C1", "C2"), ()]
    with pytest.raises(ParticipantError, match=r"gave image 'img1' the concept 'a b'; a concept id is a non-empty"):
        kind.check_prediction(pd.Series([["a b"], [], []], index=["img1", "img2", "img3"]), X)
    with pytest.raises(ParticipantError, match=r"left out 3 of the 3 images, .* give every image of "
                                               r"X.attrs\['images'\] a value"):
        kind.check_prediction(pd.Series([], dtype=object), X)


# --------------------------------------------------------------------------- the kit's tasks


@pytest.fixture(scope="module", params=KIT_TASKS)
def kit_task(request, tmp_path_factory):
    task = request.param
    source = ROOT / "bundles" / task
    _, declaration = load_task(source, task)
    data = tmp_path_factory.mktemp(task)
    declaration.generate_data(data, seed=7, progress=lambda _: None, size=0.1, n_inducers=3)
    fusion_io = load_module(source / "ingestion_program" / "fusion_io.py", f"_test_predictions_{task}_fusion_io")
    score = load_module(source / "scoring_program" / "score.py", f"_test_predictions_{task}_score")
    return declaration, fusion_io, score, data


def test_kit_tasks_local_metric_is_the_scorers(kit_task, tmp_path):
    declaration, fusion_io, score, data = kit_task
    X = fusion_io.load_inducers(data / "dev" / "input_data")
    y = fusion_io.load_truth(data / "dev" / "reference_data")
    for name, prediction in declaration.inducer_predictions(X):
        run = tmp_path / fusion_io.RUN_FILE_NAME
        fusion_io.write_run(prediction, X, run)
        evaluation = score.evaluate(data / "dev" / "reference_data", run)
        assert fusion_io.primary_metric(prediction, y) == pytest.approx(evaluation.scores[evaluation.primary],
                                                                        abs=1e-12), name
        checked = fusion_io.check_prediction(prediction, X)
        again = tmp_path / "again"
        fusion_io.write_run(checked, X, again)  # what the ingestion does: check, then write the checked one
        assert again.read_bytes() == run.read_bytes()


def test_scoring_side_never_imports_pandas():
    code = ("import sys, scoring_common, scoring_common.predictions, scoring_common.program, "
            "scoring_common.formats.ranking; assert 'pandas' not in sys.modules, 'pandas imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------- derivation


@pytest.fixture(scope="module")
def scaffolds(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("scaffolds")
    for kind in KINDS:
        subprocess.run([sys.executable, "-m", "bundlekit", "new", f"p-{kind}", "--kind", kind, "--dest", str(dest)],
                       check=True, cwd=ROOT, capture_output=True)
    return dest


@pytest.mark.parametrize("kind", KINDS)
def test_derived_fusion_io_declares_what_the_scaffold_does(scaffolds, kind, tmp_path):
    task = f"p-{kind}"
    _, declaration = load_task(scaffolds / task, task)
    derived_path = _write(tmp_path / "fusion_io.py", derived_fusion_io(declaration))
    assert derived_fusion_io(declaration) == derived_path.read_text()  # deterministic
    derived = load_module(derived_path, f"_test_derived_{kind}")
    layered = source_file(scaffolds / task, declaration, "ingestion_program/fusion_io.py")  # the task's or kind's
    scaffold = load_module(layered, f"_test_scaffold_{kind}")
    assert repr(derived.PREDICTION) == repr(scaffold.PREDICTION)
    assert isinstance(derived.PRIMARY_METRIC_TITLE, str) and isinstance(scaffold.PRIMARY_METRIC_TITLE, str)
    assert callable(derived.primary_metric) and callable(scaffold.primary_metric)
    for name, value in derived.PREDICTION.module_names().items():
        assert callable(getattr(scaffold, name)) if callable(value) else getattr(scaffold, name) == value, name


def test_derivation_refuses_a_primary_metric_it_cannot_compute(scaffolds):
    from dataclasses import replace

    from bundlekit.declaration import DeclarationError, Metric

    _, declaration = load_task(scaffolds / "p-regression", "p-regression")
    with pytest.raises(DeclarationError, match="primary metric 'kendall' is not one fusion_io.py can be derived"):
        derived_fusion_io(replace(declaration, metrics=(Metric("kendall", "Kendall"),)))


def test_a_task_without_fusion_io_builds_with_the_one_its_declaration_derives(tmp_path):
    import zipfile

    from bundlekit.build import BuildOptions, build_task

    bundles = tmp_path / "bundles"
    subprocess.run([sys.executable, "-m", "bundlekit", "new", "p-derived", "--kind", "ranking", "--dest", str(bundles)],
                   check=True, cwd=ROOT, capture_output=True)
    (bundles / "p-derived" / "ingestion_program" / "fusion_io.py").unlink(missing_ok=True)
    built = build_task("p-derived", BuildOptions(out=tmp_path / "dist", bundles_dir=bundles,
                                                 progress=lambda _: None, check=False))
    with zipfile.ZipFile(built.bundle_dir / "ingestion_program.zip") as program:
        shipped = _write(tmp_path / "shipped" / "fusion_io.py", program.read("fusion_io.py").decode())
    with zipfile.ZipFile(built.bundle_dir / "starting_kit.zip") as kit:
        assert kit.read("fusion_io.py") == shipped.read_bytes()
    _, declaration = load_task(bundles / "p-derived", "p-derived")
    derived = load_module(_write(tmp_path / "derived" / "fusion_io.py", derived_fusion_io(declaration)), "_p_derived")
    assert repr(load_module(shipped, "_p_shipped").PREDICTION) == repr(derived.PREDICTION)
    assert built.best_inducers["dev"]["scores"]["map_at_10"] > 0
