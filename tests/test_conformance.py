"""Conformance: one set of checks for every task under bundles/ and every scaffold kind.

In the style of scikit-learn's ``check_estimator``: what holds for any task is tested
here once, parametrised over the kit's tasks and a scaffolded task of each kind (plus a
binary classification task, ``--classes``), instead of a copy per task. Task-specific
expectations (sizes of an edition, the realism of the stand-in data, the messages of a
task's own readers) stay in the per-task files.

- declaration: ``TASK`` loads, names its folder, and agrees with competition.yaml;
- data: the generator is deterministic and seeded, its files pass ``validate_data`` and
  hold the declared input files, an unknown edition names the known ones;
- build (slow): the bundle passes the checker, rebuilds identically (kit tasks), has the
  platform's layout, its leaderboard is the declared one, its baselines run like the
  platform (local processes, and the kit's image in the ``docker``-marked test) with the
  build's scores, its scoring writes the per-item scores and hides them on test, its
  pages and public files hold no test figure, its starting kit makes a submission that
  scores.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from bundlekit import BUNDLES_DIR, DEFAULT_IMAGE, layers
from bundlekit.build import BuildOptions, BuildResult, _render_yaml, build_task, image_warnings_accepted, load_task
from bundlekit.check import check_bundle
from bundlekit.declaration import KINDS, KIT_KEYS, TaskDeclaration, check_item_columns, check_leaderboard
from bundlekit.demo import baseline_name, solution_runs
from bundlekit.project import BUNDLES_DIR_ENV
from bundlekit.run import run_many
from bundlekit.scaffold import available_kinds, create_task
from scoring_common.program import COST_KEYS
from scoring_output import check_hidden_details, check_per_item_scores, score_split
from task_modules import files_of, load_module

QUIET = BuildOptions(progress=lambda message: None).progress
#: Every task of the kit: the folders of bundles/ holding a task.py.
KIT_TASKS = sorted(p.name for p in BUNDLES_DIR.iterdir() if (p / "task.py").is_file())
BINARY = ("negative", "positive")
#: Scaffolded cases: task name -> (kind, classes); every kind as is, and a binary classification task.
SCAFFOLDS = {**{f"scaffold-{kind}": (kind, None) for kind in available_kinds()},
             "scaffold-binary": ("classification", BINARY)}
CASES = [*KIT_TASKS, *SCAFFOLDS]
#: Data cases: every edition of the kit's tasks, the default edition of a scaffold kind
#: (custom shares regression's generator).
DATA_CASES = [*((task, edition) for task in KIT_TASKS
                for edition in sorted(load_task(BUNDLES_DIR / task, task)[1].editions)),
              *((name, None) for name, (kind, classes) in SCAFFOLDS.items() if kind != "custom" and classes is None)]


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of task sources holding one scaffolded task per case; the build reads it."""
    sources = tmp_path_factory.mktemp("bundles")
    for name, (kind, classes) in SCAFFOLDS.items():
        create_task(name, kind, dest=sources, title=f"Scaffolded {name} task", classes=classes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(BUNDLES_DIR_ENV, str(sources))
        yield sources


def source_of(case: str, scaffolded: Path) -> Path:
    return scaffolded / case if case in SCAFFOLDS else BUNDLES_DIR / case


def declaration_of(case: str, scaffolded: Path) -> TaskDeclaration:
    return load_task(source_of(case, scaffolded), case)[1]


# --------------------------------------------------------------------------------------
# Declaration
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_declaration_loads_and_names_its_folder(case: str, scaffolded: Path) -> None:
    task = declaration_of(case, scaffolded)
    assert task.name == case and task.kind in KINDS
    if case in SCAFFOLDS:
        kind, classes = SCAFFOLDS[case]
        assert task.kind == ("regression" if kind == "custom" else kind)
        assert task.classes == (classes or (("class_a", "class_b", "class_c") if kind == "classification" else None))


@pytest.mark.parametrize("case", CASES)
def test_leaderboard_is_the_declared_metrics_then_the_kits(case: str, scaffolded: Path) -> None:
    source = source_of(case, scaffolded)
    task = declaration_of(case, scaffolded)
    columns = _render_yaml(source, BuildOptions(bundles_dir=source.parent), task)["leaderboards"][0]["columns"]
    check_leaderboard(task, columns, source / "competition.yaml")
    assert [c["key"] for c in columns] == [*(m.key for m in task.metrics), *KIT_KEYS]


@pytest.mark.parametrize("case", CASES)
def test_declared_classes_are_the_participants(case: str, scaffolded: Path, tmp_path: Path) -> None:
    """The participant-side module (the task's own or its kind's) lists the declared classes, in order."""
    task = declaration_of(case, scaffolded)
    layered = layers.materialise(source_of(case, scaffolded), task, tmp_path)
    fusion_io = load_module(layered / "ingestion_program" / "fusion_io.py", f"_conf_{case}_io")
    assert getattr(fusion_io, "CLASSES", None) == task.classes


# --------------------------------------------------------------------------------------
# Stand-in data
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "edition"), DATA_CASES, ids=[f"{c}-{e or 'default'}" for c, e in DATA_CASES])
def test_generation_is_deterministic_seeded_and_valid(case: str, edition: str | None, scaffolded: Path,
                                                      tmp_path: Path) -> None:
    task = declaration_of(case, scaffolded)
    edition = edition or task.default_edition
    for folder, seed in (("first", 2023), ("again", 2023), ("other", 7)):
        task.generate_data(tmp_path / folder, edition=edition, seed=seed, progress=lambda message: None)
    assert files_of(tmp_path / "again") == files_of(tmp_path / "first")
    assert files_of(tmp_path / "other") != files_of(tmp_path / "first")
    if task.validate_data is not None:
        task.validate_data(tmp_path / "first")
    fusion_io = load_module(layers.source_file(source_of(case, scaffolded), task, "ingestion_program/fusion_io.py"),
                            f"_conf_{case}_data_io")
    check_item_columns(task, fusion_io.load_inducers(tmp_path / "first" / "dev" / "input_data"), Path("fusion_io.py"))
    for split in ("dev", "test"):
        names = [p.relative_to(tmp_path / "first" / split / "input_data").as_posix()
                 for p in (tmp_path / "first" / split / "input_data").rglob("*") if p.is_file()]
        for pattern in task.input_files:
            assert any(re.fullmatch(re.escape(pattern).replace(r"\*", "[^/]*"), name) for name in names), (split, pattern)


@pytest.mark.parametrize("case", [case for case in CASES if SCAFFOLDS.get(case, ("", None))[0] != "custom"])
def test_unknown_edition_names_the_editions(case: str, scaffolded: Path, tmp_path: Path) -> None:
    task = declaration_of(case, scaffolded)
    with pytest.raises(ValueError, match=re.escape(f"; editions: {', '.join(sorted(task.editions))}") + "$"):
        task.generate_data(tmp_path, edition="no-such-edition", progress=lambda message: None)


# --------------------------------------------------------------------------------------
# The built bundle
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=CASES)
def built(request: pytest.FixtureRequest, scaffolded: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    out = tmp_path_factory.mktemp(f"dist-{request.param}")
    source = source_of(request.param, scaffolded)
    return build_task(request.param, BuildOptions(out=out, bundles_dir=source.parent, progress=QUIET))


def competition(built: BuildResult) -> dict:
    return yaml.safe_load((built.bundle_dir / "competition.yaml").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_bundle_passes_the_checker(built: BuildResult, scaffolded: Path) -> None:
    problems = check_bundle(built.bundle_zip)
    assert [p for p in problems if p.severity == "error"] == []
    accepted = {**declaration_of(built.task, scaffolded).accepted_warnings, **image_warnings_accepted(DEFAULT_IMAGE)}
    if built.task in SCAFFOLDS:  # the placeholders left for the organiser
        assert "content.todo" in {p.rule for p in problems}
        accepted["content.todo"] = "a scaffold"
    assert [str(p) for p in problems if p.rule not in accepted] == []


@pytest.mark.slow
def test_rebuild_gives_identical_zips(built: BuildResult, tmp_path: Path) -> None:
    if built.task in SCAFFOLDS:
        pytest.skip("the kit's tasks cover the build's determinism; a scaffold's rebuild adds only cost")
    again = build_task(built.task, BuildOptions(out=tmp_path, bundles_dir=BUNDLES_DIR, progress=QUIET, check=False))
    assert again.bundle_zip.read_bytes() == built.bundle_zip.read_bytes()


@pytest.mark.slow
def test_bundle_layout(built: BuildResult) -> None:
    with zipfile.ZipFile(built.bundle_zip) as archive:
        names = set(archive.namelist())
    document = competition(built)
    assert "competition.yaml" in names and "logo.png" in names
    assert document["version"] == 2
    assert ":" in document["docker_image"] and not document["docker_image"].endswith(":latest")
    assert [phase["name"] for phase in document["phases"]] == ["Development", "Test", "Post-challenge"]
    for entry in document["solutions"]:
        assert entry["path"] in names
    with zipfile.ZipFile(built.bundle_dir / "scoring_program.zip") as program:
        assert {"score.py", "metadata.yaml", "scoring_common/__init__.py"} <= set(program.namelist())
    with zipfile.ZipFile(built.bundle_dir / "starting_kit.zip") as kit:
        assert {"README.md", "example_fusion.py", "make_submission.py", "fusion_io.py",
                "scoring_common/__init__.py"} <= set(kit.namelist())


@pytest.mark.slow
def test_scores_and_leaderboard_are_the_declared_ones(built: BuildResult, scaffolded: Path) -> None:
    task = declaration_of(built.task, scaffolded)
    keys = [c["key"] for c in competition(built)["leaderboards"][0]["columns"]]
    assert keys == list(task.score_keys)
    for name, per_split in built.baseline_scores.items():
        for split, scores in per_split.items():
            assert sorted(scores) == sorted(task.score_keys), (name, split)
    assert {best["primary_metric"] for best in built.best_inducers.values()} == {task.primary.key}
    assert len(built.baseline_scores) >= 2 and "best-inducer" in built.baseline_scores


@pytest.mark.slow
def test_best_inducer_baseline_matches_the_build(built: BuildResult) -> None:
    """The kit's best-inducer solution picks the inducer the build finds best on dev."""
    dev = built.baseline_scores["best-inducer"]["dev"]
    assert dev["gain_pct"] == pytest.approx(0.0, abs=1e-9)
    primary = built.best_inducers["dev"]["primary_metric"]
    assert dev[primary] == pytest.approx(built.best_inducers["dev"]["scores"][primary], abs=1e-9)


@pytest.mark.slow
def test_a_fusion_baseline_beats_the_best_inducer(built: BuildResult) -> None:
    """On test, some fusion beats the best inducer (each task's own margin: its test_data_* / test_bundle_* file)."""
    if built.task in SCAFFOLDS:
        pytest.skip("a scaffold's stand-in data promises no gain")
    test_gains = {name: scores["test"]["gain_pct"] for name, scores in built.baseline_scores.items()}
    assert test_gains["best-inducer"] <= 1e-9
    best_fusion = max(gain for name, gain in test_gains.items() if name != "best-inducer")
    assert best_fusion > 0.0, f"no baseline beats the best inducer on test: {test_gains}"


def run_baselines(built: BuildResult, use_docker: bool) -> None:
    runs = solution_runs(built.bundle_dir)
    for phase in sorted({phase for _, _, phase in runs}):
        selected = [(zip_path, split) for zip_path, split, p in runs if p == phase]
        results = run_many(built.bundle_zip, [zip_path for zip_path, _ in selected], phase,
                           use_docker=use_docker, jobs=2)
        for (zip_path, split), result in zip(selected, results):
            assert result.status == "finished", f"{zip_path.name} on {phase}: {result.reason}"
            expected = built.baseline_scores[baseline_name(zip_path)][split]
            assert set(result.scores) == set(expected) - (set(COST_KEYS) if "-results-" in zip_path.stem else set())
            for key, value in result.scores.items():
                if key not in COST_KEYS:
                    assert value == pytest.approx(expected[key], abs=1e-9), (zip_path.name, phase, key)


@pytest.mark.slow
def test_every_baseline_runs_like_the_platform_locally(built: BuildResult) -> None:
    run_baselines(built, use_docker=False)


@pytest.mark.slow
@pytest.mark.docker
def test_every_baseline_runs_in_docker(built: BuildResult, kit_image: str) -> None:
    run_baselines(built, use_docker=True)


@pytest.mark.slow
def test_scoring_writes_per_item_scores_and_hides_them_on_test(built: BuildResult, tmp_path: Path) -> None:
    """C1 and C2 on the built bundle: per-item scores on both splits, per-item figures shown on dev only."""
    for split in ("dev", "test"):
        output, scores = score_split(built.bundle_dir, split, tmp_path / split)
        rows = check_per_item_scores(output, scores)
        details = (output / "detailed_results.html").read_text(encoding="utf-8")
        if split == "test":
            check_hidden_details(output, rows, [built.best_inducers["test"]["best_inducer"]])
        else:
            assert f"Best single inducer on this split: {built.best_inducers['dev']['best_inducer']}" in details


#: Bundle files participants see during the competition (pages, kits, public data, the dev
#: reference, the programs); the test reference and input data and the solutions stay hidden.
PARTICIPANT_ZIPS = ("starting_kit.zip", "public_data.zip", "dev_reference_data.zip", "dev_input_data.zip",
                    "scoring_program.zip", "ingestion_program.zip")


def participant_texts(bundle_dir: Path) -> dict[str, str]:
    """Every participant-visible file of a built bundle, decoded (binary bytes as latin-1)."""
    texts = {path.relative_to(bundle_dir).as_posix(): path.read_bytes().decode("latin-1")
             for path in [bundle_dir / "competition.yaml", *sorted((bundle_dir / "pages").glob("*.md"))]}
    for name in PARTICIPANT_ZIPS:
        with zipfile.ZipFile(bundle_dir / name) as archive:
            for member in archive.namelist():
                if not member.endswith("/"):
                    texts[f"{name}/{member}"] = archive.read(member).decode("latin-1")
    return texts


def figure_pattern(value: float) -> str:
    """A score as the pages (4 decimals), the baselines' scores.json (10 decimals) or repr would write it."""
    forms = {f"{value:.4f}", repr(round(value, 10)), repr(value)}
    return "|".join(rf"(?<![\d.]){re.escape(form)}(?!\d)" for form in sorted(forms))


@pytest.mark.slow
def test_participants_see_no_test_split_figure(built: BuildResult) -> None:
    """Pages, kits, public data, the dev reference and the programs hold no test-split score and no test-best name."""
    dev_values = {round(v, 4) for scores in built.baseline_scores.values() for v in scores["dev"].values()}
    dev_values |= {round(v, 4) for v in built.best_inducers["dev"]["scores"].values()}
    test_values = {v for scores in built.baseline_scores.values() for k, v in scores["test"].items() if k not in COST_KEYS}
    test_values |= set(built.best_inducers["test"]["scores"].values())
    secret = [v for v in sorted(test_values) if round(v, 4) not in dev_values]
    assert secret, "every test figure equals a dev figure: the test proves nothing"
    pattern = re.compile("|".join(figure_pattern(v) for v in secret))
    texts = participant_texts(built.bundle_dir)
    leaks = {name: match.group(0) for name, text in texts.items() if (match := pattern.search(text))}
    assert leaks == {}
    pages = "\n".join(text for name, text in texts.items() if name.startswith("pages/"))
    assert "on test" not in pages and "| test |" not in pages
    test_best, dev_best = built.best_inducers["test"]["best_inducer"], built.best_inducers["dev"]["best_inducer"]
    if test_best != dev_best:
        assert f"({test_best})" not in pages
    with zipfile.ZipFile(built.bundle_dir / "test_reference_data.zip") as archive:
        assert json.loads(archive.read("split.json")) == {"public": False, "split": "test"}
    with zipfile.ZipFile(built.bundle_dir / "dev_reference_data.zip") as archive:
        assert json.loads(archive.read("split.json")) == {"public": True, "split": "dev"}
    document = yaml.safe_load(texts["competition.yaml"])
    # The Test phase keeps its output visible (detailed results: aggregates and the failure reason); the
    # per-item scores are sealed instead.
    assert not any(phase.get("hide_output", False) for phase in document["phases"])


@pytest.mark.slow
def test_starting_kit_makes_a_submission_that_scores(built: BuildResult, tmp_path: Path) -> None:
    """The starting kit alone (with the public data) makes a result zip the runner scores."""
    for name in ("starting_kit", "public_data"):
        with zipfile.ZipFile(built.bundle_dir / f"{name}.zip") as archive:
            archive.extractall(tmp_path / name)
    kit = tmp_path / "starting_kit"
    completed = subprocess.run([sys.executable, str(kit / "make_submission.py"), str(tmp_path / "public_data"),
                                "--out", str(tmp_path / "submission.zip")],
                               cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "on dev (fitted on dev, so optimistic)" in completed.stdout
    result = run_many(built.bundle_zip, [tmp_path / "submission.zip"], "Test", use_docker=False)[0]
    assert result.status == "finished", result.reason


def readme_baseline_table(task: str) -> dict[str, dict[str, str]]:
    """The README's test-split table of ``task``: baseline -> column title -> cell."""
    lines = (BUNDLES_DIR.parent / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- baselines: {task} -->") + 1
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells))
    return rows


@pytest.mark.slow
def test_readme_reports_the_baseline_scores(built: BuildResult) -> None:
    if built.task in SCAFFOLDS:
        pytest.skip("the README reports the kit's own tasks")
    columns = [c for c in competition(built)["leaderboards"][0]["columns"] if c["key"] not in COST_KEYS]
    expected = {
        name: {c["title"]: f"{scores['test'][c['key']]:.{2 if c['key'] == 'gain_pct' else 4}f}" for c in columns}
        for name, scores in built.baseline_scores.items()
    }
    table = readme_baseline_table(built.task)
    assert {name: {t: row[t] for t in expected[name]} for name, row in table.items()} == expected
