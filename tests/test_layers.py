"""Layering: a task's programs, starting kit and baselines default to its kind's files (bundlekit/layers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundlekit import layers, scaffold
from bundlekit.build import BuildOptions, _render_yaml, load_module, load_task
from bundlekit.declaration import KIT_KEYS, check_item_columns
from bundlekit.fusion_io_derivation import FUSION_IO, derived_fusion_io

BUNDLES_DIR = Path(__file__).resolve().parents[1] / "bundles"
KIT_TASKS = sorted(p.name for p in BUNDLES_DIR.iterdir() if (p / "task.py").is_file())
KINDS = scaffold.available_kinds()
#: What fusion-mem, the showcase of the regression kind, holds beyond its declaration, pages and logo:
#: its own data loaders, scorer (a memorability table, no RMSE) and participant README.
FUSION_MEM_OWN = ["ingestion_program/fusion_io.py", "scoring_program/score.py", "starting_kit/README.md"]


def own_derived_files(source: Path) -> dict[str, Path]:
    return {p.relative_to(source).as_posix(): p for part in layers.DERIVED_PARTS if (source / part).is_dir()
            for p in sorted((source / part).rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.parametrize("task", KIT_TASKS)
def test_a_kit_task_keeps_no_copy_of_its_kinds_files(task: str) -> None:
    """What a kit task shares with its kind is derived, so the two cannot drift apart."""
    source = BUNDLES_DIR / task
    declaration = load_task(source, task)[1]
    derived = layers.task_derived_files(declaration)
    same = [relative for relative, path in own_derived_files(source).items()
            if layers.part_of(relative) not in layers.WHOLE_PARTS and derived.get(relative) == path.read_text()]
    assert same == [], f"{task} copies its kind's {same}; delete them, the build derives them"
    own_solutions = {r: p.read_text() for r, p in own_derived_files(source).items() if r.startswith("solutions/")}
    assert own_solutions != {r: t for r, t in derived.items() if r.startswith("solutions/")}


def test_fusion_mem_is_a_declaration_its_pages_and_its_own_files() -> None:
    source = BUNDLES_DIR / "fusion-mem"
    files = sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    pages = sorted(p.relative_to(source).as_posix() for p in (source / "pages").glob("*.md"))
    assert files == sorted(["task.py", "competition.yaml", "logo.png", *pages, *FUSION_MEM_OWN])


@pytest.mark.parametrize("kind", KINDS)
def test_a_scaffold_builds_from_exactly_its_templates_files(kind: str, tmp_path: Path) -> None:
    """The scaffold keeps only what its declared kind does not give, and the layers give back the rest."""
    name = f"my-{kind}"
    target = scaffold.create_task(name, kind, dest=tmp_path)
    template = scaffold.load_template(kind)
    own = layers.declaration_markers(name, scaffold.default_title(name), kind, template.classes or None,
                                     template.item_columns)
    markers = {**layers.render_markers(template.markers, own, kind),
               "DECLARED_METRICS": scaffold.declared_metrics(template.metrics)}
    declaration = load_task(target, name)[1]
    expected = layers.kind_files(kind, markers, layers.DERIVED_PARTS)
    if FUSION_IO not in expected:  # kinds without one: derived from the declaration
        expected[FUSION_IO] = derived_fusion_io(declaration)
    built = {relative: content if isinstance(content, str) else content.read_text()
             for relative, content in layers.layered_files(target, declaration).items()}
    assert built == expected
    kept = own_derived_files(target)
    if kind in KINDS and kind == template.declared_kind:
        assert kept == {}, f"the {kind} scaffold copies files the build derives: {sorted(kept)}"


def test_a_task_file_replaces_the_kinds_and_its_solutions_replace_the_kinds_set(tmp_path: Path) -> None:
    target = scaffold.create_task("my-task", "regression", dest=tmp_path)
    declaration = load_task(target, "my-task")[1]
    assert "solutions/ridge/fusion.py" in layers.layered_files(target, declaration)
    (target / "scoring_program").mkdir()
    (target / "scoring_program" / "score.py").write_text("# mine\n")
    (target / "solutions" / "mine").mkdir(parents=True)
    (target / "solutions" / "mine" / "fusion.py").write_text("# mine\n")
    files = layers.layered_files(target, declaration)
    assert files["scoring_program/score.py"] == target / "scoring_program" / "score.py"
    assert [r for r in files if r.startswith("solutions/")] == ["solutions/mine/fusion.py"]
    layers.materialise(target, declaration, tmp_path / "out")
    assert (tmp_path / "out" / "scoring_program" / "score.py").read_text() == "# mine\n"
    assert (tmp_path / "out" / "ingestion_program" / "metadata.yaml").is_file()


@pytest.mark.parametrize("task", KIT_TASKS)
def test_the_leaderboard_columns_come_from_the_declaration(task: str) -> None:
    source = BUNDLES_DIR / task
    declaration = load_task(source, task)[1]
    assert "\n    columns:" not in (source / "competition.yaml").read_text()
    columns = _render_yaml(source, BuildOptions(bundles_dir=BUNDLES_DIR), declaration)["leaderboards"][0]["columns"]
    assert [c["key"] for c in columns] == [*(m.key for m in declaration.metrics), *KIT_KEYS]
    assert [c["index"] for c in columns] == list(range(len(columns)))
    assert [(c["title"], c["sorting"], c["precision"]) for c in columns[:len(declaration.metrics)]] == \
        [(m.title, m.sorting, m.precision) for m in declaration.metrics]


@pytest.mark.parametrize(("kind", "before", "after"), [("regression", '("item_id",)', '("image_id",)'),
                                                       ("ranking", '("query_id", "doc_id")', '("topic", "image_id")')])
def test_renaming_the_item_columns_is_one_edit_of_task_py(kind: str, before: str, after: str, tmp_path: Path) -> None:
    """The kind's scorer, fusion_io.py and starting kit take the item columns from the declaration."""
    target = scaffold.create_task("renamed", kind, dest=tmp_path)
    task_py = target / "task.py"
    assert task_py.read_text().count(f"ITEM_COLUMNS = {before}\n") == 1
    task_py.write_text(task_py.read_text().replace(f"ITEM_COLUMNS = {before}\n", f"ITEM_COLUMNS = {after}\n"))
    declaration = load_task(target, "renamed")[1]
    files = layers.task_derived_files(declaration)
    scorer = files["scoring_program/score.py"]
    assert '_column="image_id"' in scorer and "item_id," not in scorer and '"item_id"' not in scorer
    assert "`image_id`" in files["starting_kit/README.md"]
    declaration.generate_data(tmp_path / "data", progress=lambda message: None)
    header = (tmp_path / "data" / "dev" / "reference_data" / "groundtruth.csv").read_text().split("\n", 1)[0]
    assert header.startswith(",".join(declaration.item_columns) + ",")
    # The participants' loaders name the new columns too, and read the renamed data.
    assert "item_id" not in files[FUSION_IO] and "image_id" in files[FUSION_IO]
    (tmp_path / "fusion_io.py").write_text(files[FUSION_IO])
    fusion_io = load_module(tmp_path / "fusion_io.py", f"_renamed_{kind}_fusion_io")
    check_item_columns(declaration, fusion_io.load_inducers(tmp_path / "data" / "dev" / "input_data"), Path("fusion_io.py"))
