"""The participant kit: what a participant needs to check a submission as the platform will.

The build stages it as the bundle's ``starting_kit`` (so the platform shows exactly this)
and also writes it as ``dist/<task>-participant.zip``. It holds only public things:

```
README.md, example_fusion.py, make_submission.py    the task's starting kit
fusion_io.py, scoring_common/                        the loaders and checks the platform uses
check_submission.py                                  the one entry point (scoring_common/check_submission.py)
kit.json                                             phases, time limits, image, leaderboard columns
requirements.txt                                     the image's package versions
data/dev/, data/test/                                the public data (dev inducers and truth, test inducers)
scoring_program/, ingestion_program/                 the programs, as the platform runs them
reference/dev/                                       the dev reference (public by design) and dev's best inducer
reference/test-check/                                the test item ids only, written from data/test by the
                                                     task's ``TASK.write_check_reference`` (no truth)
```

:func:`kit_as_bundle` lays a kit out as a bundle that ``bundlekit run`` reads: same
programs, the dev reference for the Development phase, and the check-only reference for
the others, whose scores are never shown.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from bundlekit.archive import iter_files
from bundlekit.declaration import TaskDeclaration
from bundlekit.project import SCORING_COMMON_DIR
from scoring_common.check_submission import CHECK_REFERENCE, DEV_REFERENCE, KIT_FILE

DATA_DIR = "data"
#: The image's lock file, as shipped with the package (see bundlekit/image.py).
IMAGE_LOCK = Path(__file__).resolve().with_name("image_context") / "requirements" / "image.lock"
#: Files of a reference folder that carry no truth and are written for every split.
REFERENCE_METADATA = ("baseline.json", "split.json")
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def pinned_requirements(lock: Path = IMAGE_LOCK) -> str:
    """``name==version`` lines of the image's lock file (no hashes: the participant's pip resolves wheels)."""
    lines = [match.group(0) for line in lock.read_text(encoding="utf-8").splitlines()
             if (match := _PINNED.match(line.strip()))]
    return "# The package versions of the competition's Docker image (requirements/image.lock).\n" \
           "# pip install -r requirements.txt\n" + "\n".join(sorted(lines, key=str.lower)) + "\n"


def kit_description(task: str, yaml_doc: dict, code_time_limit: int, best_dev: dict) -> dict[str, Any]:
    """The content of ``kit.json``: what check_submission.py needs to know of the competition.

    Only public facts: the phases and their limits, the image, the leaderboard columns,
    and the dev split's best inducer (the dev reference is public by design).
    """
    splits = {}
    for entry in yaml_doc["tasks"]:
        reference = str(entry.get("reference_data", ""))
        splits[entry["index"]] = "dev" if reference.startswith("dev") else "test"
    phases = [{"name": phase["name"], "split": splits[phase["tasks"][0]],
               "execution_time_limit": float(phase.get("execution_time_limit", 600))}
              for phase in yaml_doc["phases"]]
    columns = [{key: column[key] for key in ("key", "title", "sorting", "precision", "hidden") if key in column}
               for column in yaml_doc["leaderboards"][0]["columns"]]
    return {"task": task, "title": yaml_doc["title"], "docker_image": yaml_doc["docker_image"],
            "code_time_limit": code_time_limit, "phases": phases, "columns": columns,
            "dev_best_inducer": {"name": best_dev["best_inducer"], "primary_metric": best_dev["primary_metric"],
                                 "score": best_dev["scores"][best_dev["primary_metric"]]}}


def stage_kit(kit: Path, *, hooks: TaskDeclaration, public_data: Path, public_truth: list[str],
              programs: dict[str, Path], dev_reference: Path, description: dict[str, Any]) -> None:
    """Add to the staged starting kit ``kit`` everything of the participant kit but the task's own files.

    ``public_data`` is the staged public data (exactly what participants download).
    """
    shutil.copyfile(SCORING_COMMON_DIR / "check_submission.py", kit / "check_submission.py")
    (kit / KIT_FILE).write_text(json.dumps(description, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (kit / "requirements.txt").write_text(pinned_requirements(), encoding="utf-8")
    _copy_tree(public_data, kit / DATA_DIR)
    for name, program in programs.items():
        _copy_tree(program, kit / name)
    for name in [*public_truth, "split.json"]:
        if (dev_reference / name).is_file():
            _copy_file(dev_reference / name, kit / DEV_REFERENCE / name)
    (kit / DEV_REFERENCE / "baseline.json").write_text(_dev_baseline(dev_reference, public_truth), encoding="utf-8")
    hook = hooks.write_check_reference
    if hook is not None:
        target = kit / CHECK_REFERENCE
        target.mkdir(parents=True)
        hook(kit / DATA_DIR / "test", target)  # no split.json: absent, the scorer treats the split as hidden (C2)


def _dev_baseline(dev_reference: Path, public_truth: list[str]) -> str:
    """Dev's ``baseline.json`` for the kit, on one line.

    Where dev reference files are withheld, the best inducer's other scores were computed
    with them: only the primary score is kept. One line, so that no row of it repeats a
    row of the test split's pretty-printed ``baseline.json`` (the same best inducer, say),
    which the build's leak check would rightly flag.
    """
    baseline = json.loads((dev_reference / "baseline.json").read_text(encoding="utf-8"))
    withheld = {p.name for p in dev_reference.iterdir()} - {*public_truth, *REFERENCE_METADATA}
    if withheld:
        baseline["scores"] = {baseline["primary_metric"]: baseline["scores"][baseline["primary_metric"]]}
    return json.dumps(baseline, sort_keys=True) + "\n"


def kit_as_bundle(kit: Path, scratch: Path) -> Path:
    """Lay the participant kit ``kit`` out as a bundle in ``scratch``; return its root.

    Input data are the kit's public data (train = dev, predict = the phase's split);
    a phase on the test split is scored against the check-only reference, and
    ``competition.yaml`` lists it in ``x-check-only-phases`` (scores never shown).
    """
    import yaml  # noqa: PLC0415

    description = json.loads((kit / KIT_FILE).read_text(encoding="utf-8"))
    references = {"dev": kit / DEV_REFERENCE, "test": kit / CHECK_REFERENCE}
    for name in ("scoring_program", "ingestion_program"):
        _link_tree(kit / name, scratch / name)
    tasks, check_only = [], []
    for index, split in enumerate(("dev", "test")):
        _link_tree(kit / DATA_DIR / "dev", scratch / f"{split}_input_data" / "train")
        _link_tree(kit / DATA_DIR / split, scratch / f"{split}_input_data" / "predict")
        reference = scratch / f"{split}_reference_data"
        if references[split].is_dir():
            _link_tree(references[split], reference)
        else:
            reference.mkdir(parents=True)
        tasks.append({"index": index, "name": f"{description['task']}: {split} split",
                      "scoring_program": "scoring_program", "ingestion_program": "ingestion_program",
                      "input_data": f"{split}_input_data", "reference_data": f"{split}_reference_data"})
    phases = []
    for phase in description["phases"]:
        phases.append({"name": phase["name"], "tasks": [0 if phase["split"] == "dev" else 1],
                       "execution_time_limit": phase["execution_time_limit"]})
        if phase["split"] != "dev":
            check_only.append(phase["name"])
    doc = {"version": 2, "title": description["title"], "docker_image": description["docker_image"],
           "tasks": tasks, "phases": phases, "leaderboards": [{"title": "Results", "key": "main",
                                                              "columns": description["columns"]}],
           "x-check-only-phases": check_only}
    (scratch / "competition.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return scratch


def _copy_tree(source: Path, target: Path) -> None:
    for path in iter_files(source):
        _copy_file(path, target / path.relative_to(source))


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _link_tree(source: Path, target: Path) -> None:
    """Hard links of ``source``'s files under ``target`` (copies across file systems)."""
    for path in iter_files(source):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copyfile(path, destination)
