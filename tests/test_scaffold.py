"""`bundlekit new`: the template machinery (markers, layers, names, classes, the logo, the
command line) and the custom kind's metric test.

That every kind gives a task that builds, checks and scores as is (and a binary
classification task, ``--classes``) is in test_conformance.py, with the kit's own tasks.
Scaffolded tasks live in a temporary folder that the build is pointed at, never in the
shared bundles/.
"""

from __future__ import annotations

import ast
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import yaml

import bundlekit.build
from bundlekit import BUNDLES_DIR, layers
from bundlekit.cli import main as cli_main
from bundlekit.scaffold import (
    KIT_TASKS,
    MARKER,
    ScaffoldError,
    available_kinds,
    create_task,
    load_template,
    logo_png,
    render,
    template_files,
)

KINDS = ("classification", "custom", "multilabel", "ranking", "regression", "retrieval")
BINARY = ("negative", "positive")
#: Every new task holds these files (the custom kind adds its own scorer and tests).
REQUIRED_FILES = {
    "task.py", "competition.yaml", "logo.png",
    "pages/overview.md", "pages/data.md", "pages/evaluation.md", "pages/submission.md", "pages/terms.md",
}
#: Every task builds with these files, its own or its kind's (bundlekit/layers.py).
BUILT_FILES = {
    "scoring_program/score.py", "scoring_program/metadata.yaml",
    "ingestion_program/metadata.yaml", "ingestion_program/fusion_io.py",
    "solutions/best-inducer/fusion.py",
    "starting_kit/README.md", "starting_kit/example_fusion.py", "starting_kit/make_submission.py",
}


def build_yaml(text: str) -> dict:
    """competition.yaml as the build reads it (placeholders filled with dummies)."""
    return yaml.safe_load(bundlekit.build.PLACEHOLDER.sub("2027-01-01 00:00", text))


# --------------------------------------------------------------------------------------
# Template machinery
# --------------------------------------------------------------------------------------

def test_the_kinds_are_the_documented_ones():
    assert tuple(available_kinds()) == KINDS


def test_a_block_marker_takes_the_indentation_of_its_line():
    text = "columns:\n  __COLUMNS__\n  - last\n"
    expected = "columns:\n  - a\n    key: 1\n\n  - b\n  - last\n"
    assert render(text, {"COLUMNS": "- a\n  key: 1\n\n- b\n"}, "t") == expected


def test_an_inline_marker_takes_a_one_line_value():
    assert render('title: "__T__ (__N__)"', {"T": "My task", "N": "my-task"}, "t") == 'title: "My task (my-task)"'
    with pytest.raises(ScaffoldError, match="must stand alone on its line"):
        render("x = __BLOCK__ + 1", {"BLOCK": "a\nb"}, "t")


def test_a_marker_without_value_is_a_template_bug():
    with pytest.raises(ScaffoldError, match="template kind:file: no value for the marker __MISSING__"):
        render("__MISSING__", {}, "kind:file")


def test_build_placeholders_and_dunders_are_left_alone():
    text = 'image: "{{ docker_image }}"\nif __name__ == "__main__": pass\n'
    assert render(text, {}, "t") == text


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_completely(kind: str, tmp_path: Path):
    task = create_task("sample-task", kind, dest=tmp_path, title="Sample task")
    files = {p.relative_to(task).as_posix() for p in task.rglob("*") if p.is_file()}
    assert REQUIRED_FILES <= files
    declaration = bundlekit.build.load_task(task, "sample-task")[1]
    built = {relative: content if isinstance(content, str) else content.read_text(encoding="utf-8")
             for relative, content in layers.layered_files(task, declaration).items()}
    assert BUILT_FILES <= set(built)
    texts = {**{name: (task / name).read_text(encoding="utf-8") for name in files - {"logo.png"}}, **built}
    for name, text in sorted(texts.items()):
        assert not MARKER.search(name) and not MARKER.search(text), f"{kind}: {name} keeps a scaffold marker"
        if name.endswith(".py"):
            ast.parse(text, filename=name)
    document = bundlekit.build._render_yaml(task, bundlekit.build.BuildOptions(bundles_dir=tmp_path), declaration)
    assert document["title"] == "Sample task (sample-task)"
    columns = document["leaderboards"][0]["columns"]
    assert [c["index"] for c in columns] == list(range(len(columns)))
    assert [c["key"] for c in columns][-4:] == ["gain_pct", "time_s", "cpu_s", "memory_mib"]
    # The pages say what to write, and keep the build's placeholders.
    assert "TODO(organiser)" in (task / "pages" / "overview.md").read_text(encoding="utf-8")
    assert "{{ baseline_table }}" in (task / "pages" / "evaluation.md").read_text(encoding="utf-8")


def test_a_kind_layers_over_its_base():
    custom = load_template("custom")
    assert [layer.name for layer in custom.layers] == ["common", "regression", "custom"]
    files = template_files(custom)
    assert files["scoring_program/score.py"].parent.parent.name == "custom"
    assert files["ingestion_program/fusion_io.py"].parent.parent.name == "regression"
    assert "template.yaml" not in files
    assert "solutions/ridge/fusion.py" in files and "solutions/rank-mean/fusion.py" not in files  # excluded


def test_unknown_kind(tmp_path: Path):
    with pytest.raises(ScaffoldError, match="unknown kind 'graph'; kinds: classification, custom"):
        create_task("t", "graph", dest=tmp_path)


@pytest.mark.parametrize("name", ["", "My-Task", "1task", "task-", "a--b", "task name", "x" * 41, "../evil"])
def test_invalid_names_are_refused(name: str, tmp_path: Path):
    with pytest.raises(ScaffoldError, match="is not allowed; use lower case letters and digits"):
        create_task(name, "ranking", dest=tmp_path)


@pytest.mark.parametrize("title", ['A "quoted" title', "back\\slash", "x" * 201, "   ", "a {{ x }}", "a {b", "a}"])
def test_invalid_titles_are_refused(title: str, tmp_path: Path):
    with pytest.raises(ScaffoldError, match="is not allowed; .* without double quotes, backslashes or braces"):
        create_task("t", "ranking", dest=tmp_path, title=title)
    assert not (tmp_path / "t").exists()


def test_default_title_comes_from_the_name(tmp_path: Path):
    task = create_task("fusion-new_one", "ranking", dest=tmp_path)
    assert build_yaml((task / "competition.yaml").read_text(encoding="utf-8"))["title"] == \
        "Fusion new one (fusion-new_one)"


def test_an_existing_task_is_kept_unless_forced(tmp_path: Path):
    task = create_task("t", "ranking", dest=tmp_path)
    (task / "notes.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="already exists; choose another name, or pass --force"):
        create_task("t", "regression", dest=tmp_path)
    assert (task / "notes.txt").is_file()
    create_task("t", "regression", dest=tmp_path, force=True)
    assert not (task / "notes.txt").exists()
    assert '"spearman"' in (task / "task.py").read_text(encoding="utf-8")


def test_force_replaces_only_a_task_folder(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("mine")
    with pytest.raises(ScaffoldError, match=r"docs is not a task folder \(no task.py\) and --force only replaces"):
        create_task("docs", "ranking", dest=tmp_path, force=True)
    assert (tmp_path / "docs" / "guide.md").read_text() == "mine"
    (tmp_path / "notes").write_text("mine")
    with pytest.raises(ScaffoldError, match="exists and is not a folder"):
        create_task("notes", "ranking", dest=tmp_path, force=True)


@pytest.mark.parametrize("kit_task", KIT_TASKS)
def test_the_kits_own_tasks_are_never_replaced(kit_task: str, tmp_path: Path):
    (tmp_path / kit_task).mkdir()
    (tmp_path / kit_task / "task.py").write_text("# the real task")
    with pytest.raises(ScaffoldError, match=f"'{kit_task}' is one of the kit's own tasks .* even with --force"):
        create_task(kit_task, "ranking", dest=tmp_path, force=True)
    with pytest.raises(ScaffoldError, match=f"differs only by '-' vs '_' from the kit's own task '{kit_task}'"):
        create_task(kit_task.replace("-", "_"), "ranking", dest=tmp_path)
    assert [p.name for p in (tmp_path / kit_task).iterdir()] == ["task.py"]


def test_the_kits_own_tasks_are_the_tracked_ones():
    assert set(KIT_TASKS) <= {p.name for p in BUNDLES_DIR.iterdir() if (p / "task.py").is_file()}


def test_a_name_differing_from_a_task_by_dash_or_underscore_is_refused(tmp_path: Path):
    create_task("my-task", "ranking", dest=tmp_path)
    with pytest.raises(ScaffoldError, match=f"'my_task' differs only by '-' vs '_' from the existing task "
                                            f"{tmp_path / 'my-task'}; choose another name"):
        create_task("my_task", "ranking", dest=tmp_path)
    (tmp_path / "other_one").mkdir()  # a folder that is no task does not count
    create_task("other-one", "ranking", dest=tmp_path)


def python_constant(path: Path, name: str):
    """The literal value assigned to ``name`` at the top level of a Python file."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} assigns no {name}")


@pytest.mark.parametrize("classes", [None, BINARY, ("A", "b-2", "c_3", "4")])
def test_classes_are_written_in_every_place(classes: tuple[str, ...] | None, tmp_path: Path):
    task = create_task("t", "classification", dest=tmp_path, classes=classes)
    expected = classes or ("class_a", "class_b", "class_c")
    declaration = bundlekit.build.load_task(task, "t")[1]
    assert declaration.classes == expected
    layers.materialise(task, declaration, tmp_path / "built")
    for program in ("ingestion_program/fusion_io.py", "scoring_program/score.py"):
        assert tuple(python_constant(tmp_path / "built" / program, "CLASSES")) == expected, program
    assert f"`{expected[0]}`" in (task / "pages" / "data.md").read_text(encoding="utf-8")
    assert f"item_0001,{expected[1]}" in (task / "pages" / "submission.md").read_text(encoding="utf-8")
    if classes:
        texts = [p.read_text(encoding="utf-8") for folder in (task, tmp_path / "built") for p in folder.rglob("*")
                 if p.is_file() and p.suffix != ".png"]
        assert not any("class_a" in text for text in texts)


@pytest.mark.parametrize("classes", [["a"], ["a", "a"], ["a", "b c"], ["a", ""], ["a", "b,c"], ["label", "x"],
                                     ["a", "é"]])
def test_invalid_classes_are_refused(classes: list[str], tmp_path: Path):
    with pytest.raises(ScaffoldError, match="are not allowed; give at least 2 distinct names of letters, digits"):
        create_task("t", "classification", dest=tmp_path, classes=classes)


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "classification"])
def test_classes_are_only_for_classification(kind: str, tmp_path: Path):
    with pytest.raises(ScaffoldError, match=f"--classes is only for --kind classification, not {kind}"):
        create_task("t", kind, dest=tmp_path, classes=BINARY)


def test_custom_metric_tests_are_named_after_the_task(tmp_path: Path):
    task = create_task("my-metric_task", "custom", dest=tmp_path)
    assert [p.name for p in (task / "tests").iterdir()] == ["test_metric_my_metric_task.py"]


def test_generation_is_deterministic(tmp_path: Path):
    first = create_task("t", "retrieval", dest=tmp_path / "a")
    second = create_task("t", "retrieval", dest=tmp_path / "b")
    assert {p.relative_to(first): p.read_bytes() for p in first.rglob("*") if p.is_file()} == \
        {p.relative_to(second): p.read_bytes() for p in second.rglob("*") if p.is_file()}


def test_logo_is_a_valid_png():
    data = logo_png("fusion-mem", size=16)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind, body = data[position + 4:position + 8], data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        position += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (16, 16)
    assert len(zlib.decompress(chunks[b"IDAT"])) == 16 * (1 + 16 * 3)
    assert logo_png("fusion-mem", size=16) == data != logo_png("fusion-int", size=16)


def test_command_line(tmp_path: Path, capsys):
    arguments = ["new", "cli-task", "--kind", "classification", "--dest", str(tmp_path)]
    assert cli_main([*arguments, "--title", "CLI task"]) == 0
    out = capsys.readouterr().out
    assert f"created {tmp_path / 'cli-task'} (classification," in out
    assert "TODO(organiser)" in out
    assert cli_main(arguments) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli_main(["new", "cli-binary", "--kind", "classification", "--classes", "no, yes",
                     "--dest", str(tmp_path)]) == 0
    assert python_constant(tmp_path / "cli-binary" / "task.py", "CLASSES") == ("no", "yes")
    assert cli_main(["new", "cli-ranking", "--kind", "ranking", "--classes", "no,yes", "--dest", str(tmp_path)]) == 1
    assert "--classes is only for --kind classification" in capsys.readouterr().err


def test_the_command_refuses_an_unknown_kind(tmp_path: Path, capsys):
    with pytest.raises(SystemExit):
        cli_main(["new", "t", "--kind", "graph", "--dest", str(tmp_path)])
    assert "invalid choice: 'graph'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# The custom kind's own metric test (every kind end to end: test_conformance.py)
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def task_sources(tmp_path_factory) -> Path:
    """A folder of task sources holding a scaffolded custom task."""
    sources = tmp_path_factory.mktemp("bundles")
    create_task("scaffold-custom", "custom", dest=sources, title="Scaffolded custom task")
    return sources


@pytest.mark.slow
def test_custom_kind_ships_a_passing_metric_test(task_sources: Path):
    task = task_sources / "scaffold-custom"
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(task / "tests")],
                               cwd=task, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "5 passed" in completed.stdout


@pytest.mark.slow
def test_two_custom_tasks_metric_tests_run_together(tmp_path: Path):
    """Each task's metric test has its own file name: one pytest run collects both without a clash."""
    tests = [create_task(name, "custom", dest=tmp_path) / "tests" for name in ("metric-one", "metric-two")]
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, tests)],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "10 passed" in completed.stdout


def test_scaffolded_tasks_never_land_in_the_shared_bundles_folder():
    assert not any(p.name.startswith("scaffold-") for p in BUNDLES_DIR.iterdir())
