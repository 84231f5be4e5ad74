"""The task declaration: one-line refusals naming the file and the field, and the build's cross-checks.

Every task and kind loading its declaration is in test_conformance.py; here, what a wrong
declaration gets.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bundlekit import BUNDLES_DIR, layers
from bundlekit.build import BuildError, BuildOptions, build_task, load_task
from bundlekit.declaration import (KIT_KEYS, DeclarationError, Metric, TaskDeclaration, check_item_columns,
                                   check_leaderboard, check_scoring_primary)
from bundlekit.scaffold import create_task

QUIET = BuildOptions(progress=lambda message: None).progress


def declaration(**changes: object) -> TaskDeclaration:
    """A valid declaration (fusion-int's), with ``changes``."""
    _, task = load_task(BUNDLES_DIR / "fusion-int", "fusion-int")
    return dataclasses.replace(task, **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "name: must be the task's folder name"),
    ({"kind": "tabular"}, "kind: 'tabular' is not one of classification, multilabel, ranking, regression, retrieval"),
    ({"item_columns": ["video_id"]}, "item_columns: must be a tuple of at least 1 column names"),
    ({"item_columns": ("video id",)}, "item_columns: 'video id' is not one of the valid column names"),
    ({"item_columns": ("a", "a")}, "item_columns: a declared twice"),
    ({"metrics": ()}, "metrics: must be a tuple of Metric(key, title, sorting, precision), the primary first"),
    ({"metrics": (Metric("MAP", "MAP"),)}, "metrics: key 'MAP' is not a score key"),
    ({"metrics": (Metric("map", "MAP", "up"),)}, "metrics: map: sorting 'up' must be 'desc'"),
    ({"metrics": (Metric("map", "MAP", precision=-1),)}, "metrics: map: precision -1 must be an integer from 0 to 10"),
    ({"metrics": (Metric("map", "MAP"), Metric("map", "MAP"))}, "metrics: map declared twice"),
    ({"metrics": (Metric("gain_pct", "Gain"),)}, "metrics: key 'gain_pct' is the kit's own"),
    ({"default_edition": "2019"}, "default_edition: '2019' is not one of the declared editions"),
    ({"editions": {}}, "editions: must map each edition name to its preset"),
    ({"generate_data": None}, "generate_data: must be a function"),
    ({"input_files": ()}, "input_files: must be a tuple of paths"),
    ({"input_files": ("../inducers.csv",)}, "input_files: '../inducers.csv' is not a relative path"),
    ({"classes": ("a", "b")}, "classes: only the classification kind has classes, not ranking"),
    ({"kind": "classification"}, "classes: must be a tuple of at least 2 classes"),
    ({"accepted_warnings": {"data.subfolders": 1}}, "accepted_warnings: must map checker rule ids to the reason"),
], ids=lambda value: value if isinstance(value, str) else ",".join(value))
def test_an_invalid_field_is_named_in_one_line(changes: dict, message: str) -> None:
    with pytest.raises(DeclarationError) as refused:
        declaration(**changes)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


def test_the_kit_declares_the_gain_and_cost_keys() -> None:
    task = declaration()
    assert task.primary.key == "map_at_10"
    assert task.score_keys == ("map_at_10", "map", *KIT_KEYS)


def columns(*keys: str) -> list[dict]:
    titles = {"map_at_10": "MAP@10", "map": "MAP"}
    return [{"key": key, "title": titles.get(key, key), "sorting": "desc", "precision": 4} for key in keys]


@pytest.mark.parametrize(("board", "message"), [
    (columns("map", "map_at_10", *KIT_KEYS), "the leaderboard's first column is 'map', the declared primary metric "
                                             "'map_at_10'; put the primary metric first"),
    (columns("map_at_10", "map", "ndcg", *KIT_KEYS), "leaderboard column key(s) ndcg not declared; declare them in "
                                                     "TASK.metrics"),
    (columns("map_at_10", *KIT_KEYS), "leaderboard columns map_at_10, gain_pct, time_s, cpu_s, memory_mib differ "
                                      "from the declared"),
    ([{**columns("map_at_10")[0], "sorting": "asc"}, *columns("map", *KIT_KEYS)],
     "leaderboard column map_at_10 has sorting 'asc', the declared metric 'desc'"),
], ids=["primary-not-first", "undeclared-key", "missing-column", "other-sorting"])
def test_a_leaderboard_that_disagrees_is_refused(board: list[dict], message: str) -> None:
    with pytest.raises(DeclarationError, match=re.escape(f"competition.yaml: {message}")):
        check_leaderboard(declaration(), board, Path("competition.yaml"))


def test_a_scoring_primary_that_disagrees_is_refused() -> None:
    with pytest.raises(DeclarationError, match=re.escape("score.py: the scoring program's primary metric is 'map', "
                                                         "the declared one (TASK.metrics[0]) 'map_at_10'")):
        check_scoring_primary(declaration(), "map", Path("score.py"))


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A copy of fusion-int's sources, to break."""
    shutil.copytree(BUNDLES_DIR / "fusion-int", tmp_path / "bundles" / "fusion-int")
    return tmp_path / "bundles"


def refusal(bundles: Path, task: str, out: Path) -> str:
    with pytest.raises(BuildError) as refused:
        build_task(task, BuildOptions(out=out, bundles_dir=bundles, progress=QUIET))
    return str(refused.value)


@pytest.mark.parametrize(("appended", "message"), [
    ("del TASK\n", "task.py: no TASK; end the file with TASK = TaskDeclaration(...)"),
    ("TASK = dict(name='fusion-int')\n", "task.py: TASK is a dict, not a TaskDeclaration"),
    ("TASK = dataclasses.replace(TASK, name='fusion-xyz')\n", "task.py: TASK.name 'fusion-xyz' differs from the "
                                                              "task's folder 'fusion-int'"),
    ("TASK = dataclasses.replace(TASK, default_edition='2019')\n", "task.py: TASK.default_edition: '2019' is not"),
], ids=["missing", "not-a-declaration", "other-name", "invalid-field"])
def test_the_build_names_task_py_and_the_field(sources: Path, tmp_path: Path, appended: str, message: str) -> None:
    with open(sources / "fusion-int" / "task.py", "a", encoding="utf-8") as task:
        task.write("\nimport dataclasses\n" + appended)
    refused = refusal(sources, "fusion-int", tmp_path / "dist")
    assert refused.startswith(str(sources / "fusion-int")) and message in refused and "\n" not in refused


def test_the_build_refuses_a_leaderboard_the_declaration_does_not_have(sources: Path, tmp_path: Path) -> None:
    yaml_path = sources / "fusion-int" / "competition.yaml"
    columns = layers.leaderboard_columns(load_task(sources / "fusion-int", "fusion-int")[1])
    listed = yaml.safe_dump({"columns": columns}, sort_keys=False).replace("key: map\n", "key: ndcg\n")
    text = yaml_path.read_text(encoding="utf-8")
    assert text.count("    submission_rule: Add_And_Delete_Multiple\n") == 1
    yaml_path.write_text(text.replace("    submission_rule: Add_And_Delete_Multiple\n",
                                      "    submission_rule: Add_And_Delete_Multiple\n"
                                      + "".join(f"    {line}\n" for line in listed.splitlines())), encoding="utf-8")
    assert refusal(sources, "fusion-int", tmp_path / "dist") == (
        f"{yaml_path}: leaderboard column key(s) ndcg not declared; declare them in TASK.metrics (declared: "
        "map_at_10, map, gain_pct, time_s, cpu_s, memory_mib)")


def test_the_build_refuses_a_scoring_program_with_another_primary(tmp_path: Path) -> None:
    """The scorer's primary decides the gain and the best inducer: it must be the declared one."""
    task = create_task("primary-drift", "classification", dest=tmp_path / "bundles")
    score = task / "scoring_program" / "score.py"  # the task's own, in place of the kind's
    text = layers.task_derived_files(load_task(task, "primary-drift")[1])["scoring_program/score.py"]
    score.parent.mkdir()
    assert text.count("primary=PRIMARY") == 1
    score.write_text(text.replace("primary=PRIMARY", 'primary="accuracy"'), encoding="utf-8")
    assert refusal(tmp_path / "bundles", "primary-drift", tmp_path / "dist") == (
        f"{score}: the scoring program's primary metric is 'accuracy', the declared one (TASK.metrics[0]) "
        "'macro_f1'; make them the same")


def test_item_columns_the_loaders_do_not_give_are_refused() -> None:
    import pandas as pd

    X = pd.DataFrame({"inducer_01": [0.5]}, index=pd.MultiIndex.from_tuples([("v", "i")], names=["video", "image_id"]))
    with pytest.raises(DeclarationError, match=re.escape("fusion_io.py: load_inducers gives no video_id "
                                                         "(TASK.item_columns), only video, image_id, inducer_01")):
        check_item_columns(declaration(), X, Path("fusion_io.py"))
    check_item_columns(declaration(item_columns=("video", "image_id")), X, Path("fusion_io.py"))
