"""Every task bundle end to end: build, check, rebuild identically, run every baseline.

The baselines run through the local runner as local processes here, and inside the
kit's Docker image in the `docker`-marked test (CI builds the image first).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from bundlekit import BUNDLES_DIR, DEFAULT_IMAGE
from bundlekit.build import BuildOptions, BuildResult, build_task, image_warnings_accepted, load_module, module_name
from bundlekit.check import check_bundle
from bundlekit.demo import baseline_name, solution_runs
from bundlekit.runner import run_many
from scoring_common.program import COST_KEYS
from scoring_output import check_hidden_details, check_per_item_scores, score_split

#: The benchmark's own tasks (scaffold tests add and remove temporary ones).
TASKS = sorted(p.name for p in BUNDLES_DIR.glob("fusion-*") if (p / "task.py").is_file())
QUIET = BuildOptions(progress=lambda message: None).progress

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=TASKS)
def built(request, tmp_path_factory) -> BuildResult:
    out = tmp_path_factory.mktemp(f"dist-{request.param}")
    return build_task(request.param, BuildOptions(out=out, progress=QUIET))


def test_bundle_passes_the_checker(built: BuildResult):
    problems = check_bundle(built.bundle_zip)
    assert [p for p in problems if p.severity == "error"] == []
    accepted = {**load_module(BUNDLES_DIR / built.task / "task.py", module_name(built.task, "task")).ACCEPTED_WARNINGS,
                **image_warnings_accepted(DEFAULT_IMAGE)}
    assert [str(p) for p in problems if p.rule not in accepted] == []


def test_rebuild_gives_identical_zips(built: BuildResult, tmp_path: Path):
    again = build_task(built.task, BuildOptions(out=tmp_path, progress=QUIET, check=False))
    assert again.bundle_zip.read_bytes() == built.bundle_zip.read_bytes()


def test_bundle_layout(built: BuildResult):
    with zipfile.ZipFile(built.bundle_zip) as archive:
        names = set(archive.namelist())
        document = yaml.safe_load(archive.read("competition.yaml"))
    assert "competition.yaml" in names and "logo.png" in names
    assert document["version"] == 2
    assert ":" in document["docker_image"] and not document["docker_image"].endswith(":latest")
    assert [phase["name"] for phase in document["phases"]] == ["Development", "Test", "Post-challenge"]
    for entry in document["solutions"]:
        assert entry["path"] in names
    with zipfile.ZipFile(built.bundle_dir / "scoring_program.zip") as program:
        assert {"score.py", "metadata.yaml", "scoring_common/__init__.py"} <= set(program.namelist())


def test_baselines_beat_or_match_the_best_inducer(built: BuildResult):
    test_gains = {name: scores["test"]["gain_pct"] for name, scores in built.baseline_scores.items()}
    assert test_gains["best-inducer"] == pytest.approx(0.0, abs=1e-9) or test_gains["best-inducer"] <= 0
    best_fusion = max(gain for name, gain in test_gains.items() if name != "best-inducer")
    assert best_fusion > 5.0, f"no baseline clearly beats the best inducer on test: {test_gains}"


def run_baselines(built: BuildResult, use_docker: bool) -> None:
    runs = solution_runs(built.bundle_dir)
    for phase in sorted({phase for _, _, phase in runs}):
        selected = [(zip_path, split) for zip_path, split, p in runs if p == phase]
        results = run_many(built.bundle_zip, [zip_path for zip_path, _ in selected], phase,
                           use_docker=use_docker, jobs=2)
        for (zip_path, split), result in zip(selected, results):
            assert result.status == "finished", f"{zip_path.name} on {phase}: {result.reason}"
            expected = built.baseline_scores[baseline_name(zip_path)][split]
            for key, value in result.scores.items():
                if key not in COST_KEYS:
                    assert value == pytest.approx(expected[key], abs=1e-9), (zip_path.name, phase, key)
            assert all((key in result.scores) == zip_path.stem.endswith("-code") for key in COST_KEYS)


def test_every_baseline_runs_like_the_platform_locally(built: BuildResult):
    run_baselines(built, use_docker=False)


@pytest.mark.docker
def test_every_baseline_runs_in_docker(built: BuildResult, kit_image: str):
    run_baselines(built, use_docker=True)


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


def test_readme_reports_the_baseline_scores(built: BuildResult):
    with zipfile.ZipFile(built.bundle_zip) as archive:
        document = yaml.safe_load(archive.read("competition.yaml"))
    columns = [c for c in document["leaderboards"][0]["columns"] if c["key"] not in COST_KEYS]
    expected = {
        name: {c["title"]: f"{scores['test'][c['key']]:.{2 if c['key'] == 'gain_pct' else 4}f}" for c in columns}
        for name, scores in built.baseline_scores.items()
    }
    table = readme_baseline_table(built.task)
    assert {name: {t: row[t] for t in expected[name]} for name, row in table.items()} == expected


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


def test_participants_see_no_test_split_figure(built: BuildResult):
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


def test_scoring_writes_per_item_scores_and_hides_them_on_test(built: BuildResult, tmp_path: Path):
    """C1 and C2 on the real bundle: per-item scores on both splits, per-item figures shown on dev only."""
    for split in ("dev", "test"):
        output, scores = score_split(built.bundle_dir, split, tmp_path / split)
        rows = check_per_item_scores(output, scores)
        details = (output / "detailed_results.html").read_text(encoding="utf-8")
        if split == "test":
            check_hidden_details(output, rows, [built.best_inducers["test"]["best_inducer"]])
        else:
            assert f"Best single inducer on this split: {built.best_inducers['dev']['best_inducer']}" in details
