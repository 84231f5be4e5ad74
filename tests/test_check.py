"""The bundle checker: a minimal valid bundle passes, and each rule catches one breakage."""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Callable

import pytest
import yaml

from bundlekit import BUNDLES_DIR
from bundlekit.check import RULES as RULE_IDS
from bundlekit.check import TODO_MARKER, Problem, check_bundle, format_problems, run_command

FIXTURES = Path(__file__).parent / "fixtures" / "check"
KIT_TASKS = sorted(p.name for p in BUNDLES_DIR.glob("fusion-*") if (p / "task.py").is_file())


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")


def minimal_document() -> dict:
    return {
        "version": 2,
        "title": "Minimal challenge",
        "description": "The smallest bundle that uses every part of the format.",
        "image": "logo.png",
        "terms": "pages/terms.md",
        "docker_image": "codalab/codalab-legacy@sha256:" + "0" * 64,
        "competition_type": "competition",
        "enable_detailed_results": True,
        "pages": [{"title": "Overview", "file": "pages/overview.md"}],
        "tasks": [
            {"index": 0, "name": "Dev", "description": "dev split", "scoring_program": "scoring_program",
             "ingestion_program": "ingestion_program.zip", "input_data": "dev_input", "reference_data": "dev_reference"},
            {"index": 1, "name": "Test", "scoring_program": "scoring_program", "ingestion_program": "ingestion_program.zip",
             "input_data": "test_input", "reference_data": "test_reference"},
        ],
        "solutions": [{"index": 0, "tasks": [0, 1], "path": "solutions/baseline"}],
        "phases": [
            {"name": "Development", "start": "2024-01-01 00:00", "end": "2024-05-01 00:00", "tasks": [0],
             "max_submissions_per_day": 5, "max_submissions": 100, "execution_time_limit": 600,
             "public_data": "public_data", "starting_kit": "starting_kit"},
            {"name": "Test", "start": "2024-05-01 00:01", "tasks": [1], "execution_time_limit": 300},
        ],
        "leaderboards": [{
            "title": "Results", "key": "main", "submission_rule": "Force_Last",
            "columns": [
                {"title": "Score", "key": "score", "index": 0, "sorting": "desc", "precision": 4},
                {"title": "Time (s)", "key": "time_s", "index": 1, "sorting": "asc"},
                {"title": "Mean", "key": "mean", "index": 2, "computation": "avg", "computation_indexes": [0, 1]},
            ],
        }],
        "fact_sheet": {"method": {"key": "method", "type": "text", "title": "Your method", "selection": "",
                                  "is_required": True, "is_on_leaderboard": False}},
    }


def write_zip(path: Path, files: dict[str, str | bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)


def damage_zip(path: Path, how: str) -> None:
    """Break a (stored) zip: cut it in half, flip a byte of a member's data, or flag its members encrypted."""
    data = bytearray(path.read_bytes())
    if how == "truncated":
        del data[len(data) // 2:]
    elif how == "bad-crc":
        data[data.index(b"command") + 2] ^= 0x01
    else:  # encrypted: bit 0 of the flags, in the local and the central headers
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = data.find(signature)
            while start >= 0:
                data[start + offset] |= 0x01
                start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)


def make_bundle(root: Path, document: dict | None = None) -> Path:
    """A minimal valid bundle in ``root``: programs as a folder and as a zip, data, pages, logo."""
    write_files(root, {
        "logo.png": png_bytes(),
        "pages/terms.md": "# Terms\nBe nice.\n",
        "pages/overview.md": "# Overview\nPredict things.\n",
        "scoring_program/metadata.yaml": "command: python3 $program/score.py $input $output\n",
        "scoring_program/score.py": "print('scoring')\n",
        "dev_input/features.csv": "id,x\n1,0.5\n",
        "dev_reference/labels.csv": "id,y\n1,1\n",
        "test_input/features.csv": "id,x\n2,0.7\n",
        "test_reference/labels.csv": "id,y\n2,0\n",
        "public_data/README.md": "Download the dev features here.\n",
        "starting_kit/README.md": "How to submit.\n",
        "solutions/baseline/predictions.csv": "id,y\n1,1\n2,1\n",
    })
    write_zip(root / "ingestion_program.zip", {
        "metadata.yaml": "command: python3 $program/ingest.py $input $output $submission_program\n",
        "ingest.py": "print('ingesting')\n",
    })
    (root / "competition.yaml").write_text(yaml.safe_dump(document or minimal_document(), sort_keys=False))
    return root


def zip_bundle(folder: Path, destination: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(destination, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return destination


def paths(problems: list[Problem], severity: str) -> list[str]:
    return [p.path for p in problems if p.severity == severity]


# --------------------------------------------------------------------------------------
# Valid bundles
# --------------------------------------------------------------------------------------

def test_minimal_bundle_has_no_problem(tmp_path: Path) -> None:
    assert check_bundle(make_bundle(tmp_path / "bundle")) == []


def test_minimal_bundle_as_zip_has_no_problem(tmp_path: Path) -> None:
    bundle = zip_bundle(make_bundle(tmp_path / "bundle"), tmp_path / "bundle.zip")
    assert check_bundle(bundle) == []


def test_format_problems_ends_with_a_summary() -> None:
    problems = [Problem("error", "phase.touch", "phases[1].start", "starts too early", "start later"),
                Problem("warning", "docker.missing", "docker_image", "missing", "pin one")]
    assert format_problems(problems).splitlines() == [
        "ERROR  [phase.touch] phases[1].start: starts too early. Fix: start later.",
        "WARN   [docker.missing] docker_image: missing. Fix: pin one.",
        "1 error, 1 warning",
    ]
    assert format_problems([]) == "0 errors, 0 warnings"


def test_accepted_warnings_are_summed_up_in_one_line_and_errors_never_hidden() -> None:
    problems = [Problem("error", "data.subfolders", "tasks[1].input_data", "broken", "mend it"),
                Problem("warning", "data.subfolders", "tasks[0].input_data", "nested", "flatten"),
                Problem("warning", "data.subfolders", "tasks[1].input_data", "nested", "flatten"),
                Problem("warning", "leak.public-reference", "tasks[0].reference_data", "public", "hide"),
                Problem("warning", "docker.missing", "docker_image", "missing", "pin one")]
    accepted = {"data.subfolders": "the programs find their files", "leak.public-reference": "dev truth is public"}
    assert format_problems(problems, accepted).splitlines() == [
        "ERROR  [data.subfolders] tasks[1].input_data: broken. Fix: mend it.",
        "WARN   [docker.missing] docker_image: missing. Fix: pin one.",
        "3 warnings accepted by the task: data.subfolders x2 (the programs find their files); "
        "leak.public-reference x1 (dev truth is public)",
        "1 error, 1 warning",
    ]
    assert format_problems(problems[1:2], {"data.subfolders": ""}, by="--accept").splitlines() == [
        "1 warning accepted by --accept: data.subfolders x1", "0 errors, 0 warnings"]


# --------------------------------------------------------------------------------------
# One breakage per rule
# --------------------------------------------------------------------------------------

Mutation = Callable[[dict, Path], "str | None"]  # may return the yaml text to write instead of the document


def put(*keys_and_value: object) -> Mutation:
    """Set document[k1][k2]... = value."""
    *keys, value = keys_and_value

    def mutate(document: dict, _root: Path) -> None:
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = copy.deepcopy(value)
    return mutate


def drop(*keys: object) -> Mutation:
    def mutate(document: dict, _root: Path) -> None:
        target = document
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return mutate


def files(entries: dict[str, str | bytes]) -> Mutation:
    def mutate(_document: dict, root: Path) -> None:
        write_files(root, entries)
    return mutate


def remove(relative: str) -> Mutation:
    def mutate(_document: dict, root: Path) -> None:
        target = root / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return mutate


def copy_file(source: str, target: str) -> Mutation:
    def mutate(_document: dict, root: Path) -> None:
        shutil.copyfile(root / source, root / target)
    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(document: dict, root: Path) -> str | None:
        text = None
        for mutation in mutations:
            text = mutation(document, root) or text
        return text
    return mutate


def raw_yaml(text: str) -> Mutation:
    return lambda _document, _root: text


def scoring_command(command: str) -> Mutation:
    return files({"scoring_program/metadata.yaml": yaml.safe_dump({"command": command})})


def zipped_ingestion(entries: dict[str, str]) -> Mutation:
    return lambda _document, root: write_zip(root / "ingestion_program.zip", entries)


LONG = "x" * 300
SCORING = "tasks[0].scoring_program"
COLUMNS = "leaderboards[0].columns"
RULES = [
    # the yaml file itself
    pytest.param(raw_yaml("version: 2\ntitle: [unclosed\n"), [("error", "competition.yaml")], id="yaml-unparseable"),
    pytest.param(lambda document, _root: yaml.safe_dump(document, sort_keys=False) + "title: Again\n",
                 [("warning", "competition.yaml")], id="yaml-duplicate-key"),
    # required keys, version, types
    pytest.param(drop("version"), [("error", "version")], id="version-missing"),
    pytest.param(put("version", 2.0), [("error", "version")], id="version-2.0"),
    pytest.param(put("version", "2.0"), [("error", "version")], id="version-string-2.0"),
    pytest.param(drop("title"), [("error", "title")], id="title-missing"),
    pytest.param(drop("image"), [("error", "image")], id="image-missing"),
    pytest.param(drop("terms"), [("error", "terms")], id="terms-missing"),
    pytest.param(drop("tasks"), [("error", "tasks")], id="tasks-missing"),
    pytest.param(drop("leaderboards"), [("error", "leaderboards")], id="leaderboards-missing"),
    pytest.param(drop("pages"), [("error", "pages")], id="pages-missing"),
    pytest.param(put("pages", []), [("warning", "pages")], id="pages-empty"),
    pytest.param(put("tittle", "typo"), [("warning", "tittle")], id="unknown-key"),
    pytest.param(put("tasks", 0, "is_public", False), [("warning", "tasks[0].is_public")], id="unknown-task-key"),
    pytest.param(put("phases", 0, "solutions", []), [("warning", "phases[0].solutions")], id="unknown-phase-key"),
    pytest.param(put("enable_detailed_results", "yes"), [("error", "enable_detailed_results")], id="flag-value"),
    pytest.param(put("phases", 0, "execution_time_limit", "600s"), [("error", "phases[0].execution_time_limit")],
                 id="type-mismatch"),
    pytest.param(put("tasks", 0, "name", LONG[:257]), [("error", "tasks[0].name")], id="task-name-256"),
    pytest.param(put("phases", 1, "name", LONG[:257]), [("error", "phases[1].name")], id="phase-name-256"),
    pytest.param(put("leaderboards", 0, "title", LONG[:65]), [("error", "leaderboards[0].title")], id="board-title-64"),
    pytest.param(put("leaderboards", 0, "key", LONG[:37]), [("error", "leaderboards[0].key")], id="board-key-36"),
    pytest.param(put("leaderboards", 0, "columns", 0, "title", LONG[:37]), [("error", f"{COLUMNS}[0].title")],
                 id="column-title-36"),
    pytest.param(put("leaderboards", 0, "columns", 0, "key", LONG[:37]), [("error", f"{COLUMNS}[0].key")],
                 id="column-key-36"),
    pytest.param(put("docker_image", "a" * 57 + "@sha256:" + "0" * 64), [("error", "docker_image")], id="docker-image-128"),
    pytest.param(put("leaderboards", 0, "submission_rule", "Force_last"), [("error", "leaderboards[0].submission_rule")],
                 id="submission-rule"),
    pytest.param(put("leaderboards", 0, "columns", 0, "sorting", "descending"), [("error", f"{COLUMNS}[0].sorting")],
                 id="sorting"),
    pytest.param(put("leaderboards", 0, "columns", 2, "computation", "mean"), [("error", f"{COLUMNS}[2].computation")],
                 id="computation-enum"),
    pytest.param(put("fact_sheet", "method", "type", "radio"), [("error", "fact_sheet.method.type")],
                 id="fact-sheet-type"),
    pytest.param(put("competition_type", "challenge"), [("error", "competition_type")], id="competition-type"),
    # referenced files
    pytest.param(remove("logo.png"), [("error", "image")], id="image-not-found"),
    pytest.param(files({"logo.png": "not an image"}), [("error", "image")], id="image-not-decodable"),
    pytest.param(files({"logo.png": '<svg xmlns="http://www.w3.org/2000/svg"/>'}), [("error", "image")], id="image-svg"),
    pytest.param(files({"logo.png": b"RIFF\x24\x00\x00\x00WEBPVP8 "}), [("warning", "image")], id="image-webp"),
    pytest.param(files({"pages/terms.md": ""}), [("error", "terms")], id="terms-empty"),
    pytest.param(files({"pages/terms.md": b"\xff\xfe caf\xe9"}), [("error", "terms")], id="terms-not-utf8"),
    pytest.param(remove("pages/overview.md"), [("error", "pages[0].file")], id="page-not-found"),
    pytest.param(remove("scoring_program"), [("error", SCORING), ("error", "tasks[1].scoring_program")],
                 id="program-not-found"),
    pytest.param(both(remove("dev_input"), files({"dev_input/.DS_Store": "x"})), [("error", "tasks[0].input_data")],
                 id="data-empty"),
    pytest.param(both(remove("dev_reference"), files({"dev_reference": "id,y\n"})), [("error", "tasks[0].reference_data")],
                 id="data-not-a-zip"),
    pytest.param(remove("public_data"), [("error", "phases[0].public_data")], id="public-data-not-found"),
    pytest.param(remove("starting_kit"), [("error", "phases[0].starting_kit")], id="starting-kit-not-found"),
    pytest.param(remove("solutions/baseline"), [("error", "solutions[0].path")], id="solution-not-found"),
    pytest.param(put("phases", 0, "public_data", "../elsewhere"), [("error", "phases[0].public_data")],
                 id="path-outside-bundle"),
    pytest.param(put("tasks", 0, "input_data", "0b0e2f9c-8a47-4a50-9d26-7c3b5e1f2a11"), [("warning", "tasks[0].input_data")],
                 id="dataset-key"),
    # tasks and references
    pytest.param(lambda document, _root: document["tasks"].append(copy.deepcopy(document["tasks"][0])),
                 [("error", "tasks[2].index")], id="task-index-duplicate"),
    pytest.param(drop("tasks", 0, "scoring_program"), [("error", SCORING)], id="scoring-program-missing"),
    pytest.param(put("phases", 1, "tasks", [7]), [("error", "phases[1].tasks[0]")], id="phase-task-dangling"),
    pytest.param(put("solutions", 0, "tasks", [0, 9]), [("error", "solutions[0].tasks[1]")], id="solution-task-dangling"),
    pytest.param(put("phases", 1, "tasks", []), [("error", "phases[1].tasks")], id="phase-without-task"),
    # dates
    pytest.param(put("phases", 0, "start", "soon"), [("error", "phases[0].start")], id="date-unparseable"),
    pytest.param(put("phases", 0, "start", "2024-01-01T02:00:00+02:00"), [("warning", "phases[0].start")],
                 id="date-offset"),
    pytest.param(drop("phases", 0, "end"), [("error", "phases[0].end")], id="end-missing-before-next-phase"),
    pytest.param(put("phases", 0, "end", "2023-12-01"), [("error", "phases[0].end")], id="end-before-start"),
    pytest.param(put("phases", 1, "start", "2024-04-01 00:00"), [("error", "phases[1].start")], id="phases-overlap"),
    pytest.param(put("phases", 1, "start", "2024-05-01 00:00"), [("error", "phases[1].start")], id="phases-touch"),
    pytest.param(put("phases", 0, "auto_migrate_to_this_phase", True),
                 [("error", "phases[0].auto_migrate_to_this_phase")], id="auto-migrate-first-phase"),
    pytest.param(put("phases", 0, "execution_time_limit", 1200), [("warning", "phases[0].execution_time_limit")],
                 id="time-limit-above-public-cap"),
    # leaderboards
    pytest.param(put("leaderboards", 0, "columns", 1, "key", "score"), [("error", f"{COLUMNS}[1].key")],
                 id="column-key-duplicate"),
    pytest.param(lambda document, _root: document["leaderboards"][0]["columns"].append(
                     {"title": "Other", "key": "other", "index": 0}),
                 [("error", f"{COLUMNS}[3].index")], id="column-index-duplicate"),
    pytest.param(drop("leaderboards", 0, "columns", 2, "computation_indexes"),
                 [("error", f"{COLUMNS}[2].computation_indexes")], id="computation-without-indexes"),
    pytest.param(drop("leaderboards", 0, "columns", 2, "computation"), [("error", f"{COLUMNS}[2].computation")],
                 id="indexes-without-computation"),
    pytest.param(put("leaderboards", 0, "columns", 2, "computation_indexes", [2, 1]),
                 [("error", f"{COLUMNS}[2].computation_indexes[0]")], id="computation-self"),
    pytest.param(put("leaderboards", 0, "columns", 2, "computation_indexes", [0, 8]),
                 [("error", f"{COLUMNS}[2].computation_indexes[1]")], id="computation-dangling"),
    pytest.param(both(put("leaderboards", 0, "columns", 0, "index", 5),
                      put("leaderboards", 0, "columns", 2, "computation_indexes", [5, 1])),
                 [("error", COLUMNS)], id="primary-column-missing"),
    pytest.param(lambda document, _root: document["leaderboards"].append(copy.deepcopy(document["leaderboards"][0])),
                 [("warning", "leaderboards[1]")], id="second-leaderboard"),
    # docker image
    pytest.param(drop("docker_image"), [("warning", "docker_image")], id="docker-image-missing"),
    pytest.param(put("docker_image", "codalab/codalab-legacy"), [("error", "docker_image")], id="docker-image-no-tag"),
    pytest.param(put("docker_image", "codalab/codalab-legacy:latest"), [("error", "docker_image")],
                 id="docker-image-latest"),
    pytest.param(put("docker_image", "Codalab/legacy:py39"), [("error", "docker_image")], id="docker-image-invalid"),
    # programs
    pytest.param(remove("scoring_program/metadata.yaml"), [("error", SCORING)], id="program-without-metadata"),
    pytest.param(zipped_ingestion({"ingestion_program/metadata.yaml": "command: python3 $program/ingest.py\n",
                                   "ingestion_program/ingest.py": "pass\n"}),
                 [("error", "tasks[0].ingestion_program")], id="program-zip-wrapped-in-folder"),
    pytest.param(files({"scoring_program/metadata.yaml": "description: no command\n"}), [("error", SCORING)],
                 id="metadata-without-command"),
    pytest.param(files({"scoring_program/metadata.yaml": "command: [python3\n"}), [("error", SCORING)],
                 id="metadata-unparseable"),
    pytest.param(scoring_command("python3 $program/scoring.py $input $output"), [("error", SCORING)],
                 id="command-script-missing"),
    pytest.param(files({"solutions/baseline/metadata": "description: results\n"}), [("error", "solutions[0].path")],
                 id="solution-metadata-without-command"),
    *[pytest.param(scoring_command(command), [("error", SCORING)], id=f"command-{name}") for name, command in [
        ("and", "python3 $program/score.py $input $output && echo done"),
        ("or", "python3 $program/score.py $input $output || true"),
        ("pipe", "python3 $program/score.py $input $output | tee log"),
        ("semicolon", "python3 $program/score.py $input $output; ls"),
        ("redirect-out", "python3 $program/score.py $input $output > log.txt"),
        ("redirect-in", "python3 $program/score.py $input $output < answers"),
        ("subshell", "python3 $program/score.py $(pwd) $output"),
        ("backticks", "python3 $program/score.py `pwd` $output"),
        ("single-quotes", "python3 $program/score.py '$input' $output"),
        ("double-quotes", 'python3 $program/score.py "$input" $output'),
        ("glob", "python3 $program/score.py $input/*.csv $output"),
        ("double-space", "python3  $program/score.py $input $output"),
        ("variable", "python3 $program/score.py $HOME $output"),
        ("misspelt-placeholder", "python3 $program/score.py $inputs $output"),
        ("script-without-interpreter", "$program/score.py $input $output"),
        ("relative-script-without-interpreter", "./score.py $input $output"),
    ]],
    # leaks
    pytest.param(files({"public_data/labels.csv": "id,y\n2,0\n"}), [("error", "tasks[1].reference_data")],
                 id="leak-final-reference-in-public-data"),
    pytest.param(files({"starting_kit/truth/labels.csv": "id,y\n2,0\n"}), [("error", "tasks[1].reference_data")],
                 id="leak-final-reference-in-starting-kit"),
    pytest.param(files({"test_input/answers.csv": "id,y\n2,0\n"}), [("error", "tasks[1].reference_data")],
                 id="leak-final-reference-in-input-data"),
    pytest.param(files({"public_data/dev_labels.csv": "id,y\n1,1\n"}), [("warning", "tasks[0].reference_data")],
                 id="leak-dev-reference-in-public-data"),
    pytest.param(lambda _document, root: write_zip(root / "starting_kit" / "answers.zip", {"labels.csv": "id,y\n2,0\n"}),
                 [("error", "tasks[1].reference_data")], id="leak-final-reference-in-a-zip-of-the-starting-kit"),
    pytest.param(both(put("tasks", 1, "reference_data", "test_reference.zip"), remove("test_reference"),
                      lambda _document, root: write_zip(root / "test_reference.zip", {"labels.csv": "id,y\n2,0\n"}),
                      copy_file("test_reference.zip", "starting_kit/test_reference.zip")),
                 [("error", "tasks[1].reference_data")], id="leak-final-reference-zip-copied-into-the-starting-kit"),
    pytest.param(put("tasks", 1, "reference_data", "test_input"), [("warning", "tasks[1].reference_data")],
                 id="reference-is-input-data"),
    # fact sheet
    pytest.param(put("fact_sheet", "method", "key", "methods"), [("error", "fact_sheet.method.key")],
                 id="fact-sheet-key-mismatch"),
    pytest.param(drop("fact_sheet", "method", "selection"), [("error", "fact_sheet.method.selection")],
                 id="fact-sheet-missing-key"),
    pytest.param(put("fact_sheet", "method", "help", "..."), [("error", "fact_sheet.method.help")],
                 id="fact-sheet-extra-key"),
    # portability
    pytest.param(put("forum_enabled", False), [("warning", "forum_enabled")], id="codabench-only-key"),
    pytest.param(put("phases", 1, "hide_score_output", True), [("warning", "phases[1].hide_score_output")],
                 id="codabench-only-phase-key"),
    pytest.param(put("queue", "9f2c1a5e-queue"), [("warning", "queue")], id="queue"),
    pytest.param(put("tasks", 0, "ingestion_only_during_scoring", True),
                 [("warning", "tasks[0].ingestion_only_during_scoring")], id="ingestion-only-during-scoring"),
    pytest.param(both(remove("dev_input/features.csv"), files({"dev_input/train/features.csv": "id,x\n1,0.5\n"})),
                 [("warning", "tasks[0].input_data")], id="data-in-sub-folders"),
    # indexes, leaderboard keys
    pytest.param(lambda document, _root: document["solutions"].append(dict(document["solutions"][0], tasks=[1])),
                 [("error", "solutions[1].index")], id="solution-index-duplicate"),
    pytest.param(both(put("phases", 0, "index", 0), put("phases", 1, "index", 0)), [("error", "phases[1].index")],
                 id="phase-index-duplicate"),
    pytest.param(put("leaderboards", 0, "columns", 1, "sortng", "asc"), [("error", f"{COLUMNS}[1].sortng")],
                 id="column-unknown-key"),
    # a logo that only looks like a PNG
    pytest.param(files({"logo.png": png_bytes()[:-20]}), [("error", "image")], id="image-png-truncated"),
    pytest.param(files({"logo.png": png_bytes().replace(b"IDAT", b"IDAT\x00", 1)[:-1]}), [("error", "image")],
                 id="image-png-bad-crc"),
    pytest.param(files({"logo.png": png_bytes()[:-12]}), [("error", "image")], id="image-png-without-iend"),
    # damaged archives
    *[pytest.param(lambda _document, root, how=how: damage_zip(root / "ingestion_program.zip", how),
                   [("error", "tasks[0].ingestion_program")], id=f"program-zip-{how}")
      for how in ("truncated", "bad-crc", "encrypted")],
    pytest.param(both(put("tasks", 1, "reference_data", "test_reference.zip"), remove("test_reference"),
                      lambda _document, root: write_zip(root / "test_reference.zip", {"labels.csv": "command,y\n2,0\n"}),
                      lambda _document, root: damage_zip(root / "test_reference.zip", "bad-crc")),
                 [("error", "tasks[1].reference_data")], id="reference-zip-bad-crc"),
    # placeholders of a scaffolded task
    pytest.param(files({"pages/overview.md": f"# Overview\n\n{TODO_MARKER}: say what is fused.\n"}),
                 [("warning", "pages[0].file")], id="todo-in-page"),
    pytest.param(files({"pages/terms.md": f"# Terms\n{TODO_MARKER}: adapt.\n"}), [("warning", "terms")],
                 id="todo-in-terms"),
    pytest.param(files({"starting_kit/README.md": f"{TODO_MARKER}: two sentences.\n"}),
                 [("warning", "phases[0].starting_kit")], id="todo-in-starting-kit-readme"),
    pytest.param(put("title", f"{TODO_MARKER} title"), [("warning", "title")], id="todo-in-title"),
    pytest.param(put("description", f"A task. {TODO_MARKER}: say more."), [("warning", "description")],
                 id="todo-in-description"),
]


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize(("mutation", "expected"), RULES)
def test_rule(tmp_path: Path, mutation: Mutation, expected: list[tuple[str, str]], as_zip: bool) -> None:
    document = minimal_document()
    root = make_bundle(tmp_path / "bundle", document)
    text = mutation(document, root)
    (root / "competition.yaml").write_text(text if text is not None else yaml.safe_dump(document, sort_keys=False))
    bundle = zip_bundle(root, tmp_path / "bundle.zip") if as_zip else root
    problems = check_bundle(bundle)
    assert sorted({(p.severity, p.path) for p in problems}) == sorted(expected), format_problems(problems)
    assert all(p.message and p.fix and p.rule in RULE_IDS for p in problems)


# --------------------------------------------------------------------------------------
# The bundle as a whole
# --------------------------------------------------------------------------------------

def test_yaml_inside_a_folder_of_the_zip_is_an_error_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    document = minimal_document()
    del document["docker_image"]
    bundle = zip_bundle(make_bundle(tmp_path / "bundle", document), tmp_path / "bundle.zip", prefix="my-challenge/")
    problems = check_bundle(bundle)
    assert [(p.severity, p.path) for p in problems] == [("error", "competition.yaml"), ("warning", "docker_image")]
    assert "cd my-challenge && zip -r" in problems[0].fix


def test_no_competition_yaml(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    (root / "competition.yaml").unlink()
    assert [(p.severity, p.path) for p in check_bundle(root)] == [("error", "competition.yaml")]


@pytest.mark.parametrize("content", [None, b"not a zip"], ids=["missing", "not-a-zip"])
def test_unreadable_bundle(tmp_path: Path, content: bytes | None) -> None:
    bundle = tmp_path / "bundle.zip"
    if content is not None:
        bundle.write_bytes(content)
    assert [(p.severity, p.path) for p in check_bundle(bundle)] == [("error", "<bundle>")]


@pytest.mark.parametrize("start", ["2024-01-01", "2024-01-01 00:00", "2024-01-01T00:00", "2024-01-01 00:00:00",
                                   "2024-01-01T00:00:00Z"])
def test_date_forms_the_platform_reads(tmp_path: Path, start: str) -> None:
    document = minimal_document()
    document["phases"][0]["start"] = start
    root = make_bundle(tmp_path / "bundle", document)
    text = (root / "competition.yaml").read_text().replace(f"'{start}'", start)  # let YAML read dates natively too
    (root / "competition.yaml").write_text(text)
    assert check_bundle(root) == []


def test_version_as_string_and_phase_order_by_index(tmp_path: Path) -> None:
    document = minimal_document()
    document["version"] = "2"
    document["phases"] = [dict(document["phases"][1], index=1), dict(document["phases"][0], index=0)]
    assert check_bundle(make_bundle(tmp_path / "bundle", document)) == []


def test_a_leaked_file_is_reported_once_with_every_place(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    write_files(root, {"public_data/labels.csv": "id,y\n2,0\n", "starting_kit/truth/labels.csv": "id,y\n2,0\n"})
    write_zip(root / "starting_kit" / "answers.zip", {"keys.csv": "id,y\n2,0\n"})
    problems = check_bundle(root)
    assert [(p.rule, p.path) for p in problems] == [("leak.reference", "tasks[1].reference_data")]
    assert problems[0].message == (
        "labels.csv of 'test_reference' is also in phases[0].public_data ('public_data'), phases[0].starting_kit "
        "('starting_kit', as answers.zip/keys.csv); participants can read the answers")


def test_placeholder_message_names_the_first_line_and_the_count(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    write_files(root, {"pages/overview.md": f"# Overview\n\n> {TODO_MARKER}: rewrite.\n{TODO_MARKER} again\n"})
    problems = check_bundle(root)
    assert [(p.rule, p.path) for p in problems] == [("content.todo", "pages[0].file")]
    assert f"{problems[0].message}; {problems[0].fix}" == (
        f"{TODO_MARKER} placeholder left in pages/overview.md line 3 (2 in the file); write the text before uploading")


@pytest.mark.parametrize("task", KIT_TASKS)
def test_the_kit_tasks_have_no_placeholder_left(task: str) -> None:
    source = BUNDLES_DIR / task
    assert [str(p) for p in check_bundle(source) if p.rule == "content.todo"] == []  # yaml, pages, terms
    assert TODO_MARKER not in (source / "starting_kit" / "README.md").read_text(encoding="utf-8")


def test_damaged_program_zip_says_to_recreate_it(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    damage_zip(root / "ingestion_program.zip", "truncated")
    problems = check_bundle(root)
    assert [(p.rule, p.path) for p in problems] == [("archive.damaged", "tasks[0].ingestion_program")]
    assert problems[0].fix == "re-create it from its files (cd ingestion_program && zip -r ../ingestion_program.zip .)"


@pytest.mark.parametrize("how", ["bad-crc", "encrypted"])
def test_damaged_member_of_the_bundle_zip(tmp_path: Path, how: str) -> None:
    root = make_bundle(tmp_path / "bundle")
    (root / "scoring_program" / "metadata.yaml").write_text("command: python3 $program/score.py $input $output\n")
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:  # stored, so that a flipped byte is a bad CRC
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    damage_zip(bundle, how)
    problems = check_bundle(bundle)
    assert [(p.severity, p.rule, p.path) for p in problems] == [("error", "archive.damaged", "<bundle>")]
    assert "corrupt or encrypted member" in problems[0].message


def test_shared_program_is_reported_once(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    (root / "scoring_program" / "metadata.yaml").unlink()
    assert [p.path for p in check_bundle(root)] == ["tasks[0].scoring_program"]


def test_problems_are_sorted_errors_first_then_by_path(tmp_path: Path) -> None:
    document = minimal_document()
    del document["docker_image"]
    document["phases"][1]["tasks"] = [7]
    document["tasks"][1]["name"] = LONG
    for index in range(11):
        document["leaderboards"][0]["columns"].append({"title": f"c{index}", "key": f"c{index}", "index": 3 + index})
    document["leaderboards"][0]["columns"][12]["title"] = LONG
    problems = check_bundle(make_bundle(tmp_path / "bundle", document))
    assert [p.path for p in problems] == [
        "leaderboards[0].columns[12].title", "phases[1].tasks[0]", "tasks[1].name", "docker_image"]


# --------------------------------------------------------------------------------------
# Public example bundles: no false positives
# --------------------------------------------------------------------------------------

EXAMPLE_WARNINGS = {
    # docker_image: the examples pin their image by tag only (docker.no-digest)
    "iris": ["docker_image", "phases[0].solutions", "phases[1].solutions", "tasks[0].is_public", "tasks[1].is_public"],
    "wheat_seeds": ["docker_image"],
    "mini_mnist": ["docker_image"],
}
#: Dates the platform reads month first (1-1-2026): refused as ambiguous.
EXAMPLE_ERRORS = {example: ["phases[0].end", "phases[0].start", "phases[1].start"] for example in ("iris", "wheat_seeds")}


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("example", sorted(EXAMPLE_WARNINGS))
def test_public_example_bundles_have_no_error(tmp_path: Path, example: str, as_zip: bool) -> None:
    bundle = zip_bundle(FIXTURES / example, tmp_path / f"{example}.zip") if as_zip else FIXTURES / example
    problems = check_bundle(bundle)
    assert paths(problems, "error") == EXAMPLE_ERRORS.get(example, []), format_problems(problems)
    assert paths(problems, "warning") == EXAMPLE_WARNINGS[example]


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

def run(bundle: Path, *, strict: bool = False, as_json: bool = False, accept: tuple[str, ...] = ()) -> int:
    return run_command(argparse.Namespace(bundle=bundle, strict=strict, json=as_json, accept=list(accept)))


def test_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    valid = make_bundle(tmp_path / "valid")
    assert run(valid) == 0
    assert capsys.readouterr().out.strip() == "0 errors, 0 warnings"

    warned_document = minimal_document()
    del warned_document["docker_image"]
    warned = make_bundle(tmp_path / "warned", warned_document)
    assert run(warned) == 0
    assert run(warned, strict=True) == 1

    broken_document = minimal_document()
    broken_document["phases"][1]["start"] = broken_document["phases"][0]["end"]
    broken = make_bundle(tmp_path / "broken", broken_document)
    capsys.readouterr()
    assert run(broken) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "ERROR  [phase.touch] phases[1].start: phase 'Test' starts at the instant 'Development' ends "
        "(2024-05-01 00:00); the platform rejects it. Fix: start 'Test' one minute later (2024-05-01 00:01).",
        "1 error, 0 warnings",
    ]
    assert run(broken, accept=("phase.touch",)) == 1  # accepting a rule never hides an error


def test_accept_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = minimal_document()
    del document["docker_image"]
    warned = make_bundle(tmp_path / "warned", document)
    assert run(warned, strict=True, accept=("docker.missing",)) == 0
    assert capsys.readouterr().out.splitlines() == ["1 warning accepted by --accept: docker.missing x1",
                                                    "0 errors, 0 warnings"]
    assert run(warned, as_json=True, accept=("docker.missing",)) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["warnings"], report["problems"], report["accepted"][0]["rule"]) == (0, [], "docker.missing")


def test_accept_refuses_an_unknown_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bundlekit.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(make_bundle(tmp_path / "bundle")), "--accept", "data.subfolders,leak.public-referenc"])
    assert exit_info.value.code == 2
    assert "unknown rule id leak.public-referenc (did you mean leak.public-reference?)" in capsys.readouterr().err


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = minimal_document()
    del document["docker_image"]
    assert run(make_bundle(tmp_path / "bundle", document), as_json=True) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 0 and report["warnings"] == 1
    problem = report["problems"][0]
    assert (problem["path"], problem["severity"], problem["rule"]) == ("docker_image", "warning", "docker.missing")


def test_cli_wiring(tmp_path: Path) -> None:
    from bundlekit.cli import main

    assert main(["check", str(make_bundle(tmp_path / "bundle")), "--accept", "data.subfolders,docker.missing"]) == 0


def _places(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a document."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    return [place for key, child in children for place in [prefix + (key,), *_places(child, prefix + (key,))]]


def test_any_value_anywhere_gives_problems_not_a_crash(tmp_path: Path) -> None:
    root = make_bundle(tmp_path / "bundle")
    for place in _places(minimal_document()):
        for odd in (None, 7, 2.5, True, "x", [], {}, [{}], {"a": 1}):
            document = minimal_document()
            target = document
            for key in place[:-1]:
                target = target[key]
            target[place[-1]] = odd
            (root / "competition.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
            check_bundle(root)  # must not raise
