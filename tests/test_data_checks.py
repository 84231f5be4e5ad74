"""The tasks' validate_data hooks: dev and test must agree, on the kit's checks of bundlekit/data_checks.py."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from bundlekit import BUNDLES_DIR, data_checks
from bundlekit.build import load_module, module_name


def hooks(task: str):
    return load_module(BUNDLES_DIR / task / "task.py", module_name(task, "task"))


TASKS = ["fusion-int", "fusion-div", "fusion-cap", "fusion-mem"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Callable[[str], Path]:
    """The stand-in data of a task, generated once per module."""
    cache: dict[str, Path] = {}

    def folder_of(task: str) -> Path:
        if task not in cache:
            cache[task] = tmp_path_factory.mktemp(task)
            hooks(task).generate_data(cache[task], progress=lambda message: None)
        return cache[task]

    return folder_of


@pytest.fixture()
def copy_of(generated, tmp_path: Path) -> Callable[[str], Path]:
    """A fresh copy of a task's stand-in data, to corrupt."""
    def copy(task: str) -> Path:
        return Path(shutil.copytree(generated(task), tmp_path / task))

    return copy


@pytest.mark.parametrize("task", TASKS)
def test_generated_data_passes(generated, task: str) -> None:
    hooks(task).validate_data(generated(task))


def test_same_inducers_names_the_difference() -> None:
    data_checks.same_inducers({"dev": ["a", "b"], "test": ["a", "b"]})
    with pytest.raises(ValueError, match="only on dev 'b', only on test 'c'"):
        data_checks.same_inducers({"dev": ["a", "b"], "test": ["a", "c"]})
    with pytest.raises(ValueError, match="same inducers in different orders"):
        data_checks.same_inducers({"dev": ["a", "b"], "test": ["b", "a"]})


def test_disjoint_counts_the_shared_ids() -> None:
    data_checks.disjoint({"dev": ["a"], "test": ["b"]}, "video")
    with pytest.raises(ValueError, match="^5 video\\(s\\) are in both .* e.g. 'a', 'b', 'c' and 2 more"):
        data_checks.disjoint({"dev": list("abcdef"), "test": list("abcde")}, "video")


def _drop_an_inducer(task: str, folder: Path) -> None:
    test_inputs = folder / "test" / "input_data"
    if task in ("fusion-int", "fusion-mem"):
        path = test_inputs / "inducers.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("".join(line.rsplit(",", 1)[0] + "\n" for line in lines), encoding="utf-8")
    else:
        sorted((test_inputs / "inducers").iterdir())[-1].unlink()


@pytest.mark.parametrize("task", TASKS)
def test_an_inducer_missing_from_test_is_refused(copy_of, task: str) -> None:
    folder = copy_of(task)
    _drop_an_inducer(task, folder)
    with pytest.raises(ValueError, match="must have the same inducers: only on dev '"):
        hooks(task).validate_data(folder)


def test_a_video_in_both_splits_is_refused(copy_of) -> None:
    task, folder = "fusion-int", copy_of("fusion-int")
    dev, test = (folder / split / "input_data" / "inducers.csv" for split in ("dev", "test"))
    test.write_text(test.read_text(encoding="utf-8") + dev.read_text(encoding="utf-8").splitlines()[1] + "\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match="^1 video\\(s\\) are in both the dev and the test split, e.g. 'video_0'"):
        hooks(task).validate_data(folder)


def test_fusion_int_labels_are_0_or_1(copy_of) -> None:
    task, folder = "fusion-int", copy_of("fusion-int")
    path = folder / "dev" / "reference_data" / "groundtruth.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    lines[1] = ",".join([fields[0], fields[1], "2", *fields[3:]])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="dev groundtruth.csv: a label must be 0 or 1 .*found \\['2'\\]"):
        hooks(task).validate_data(folder)


def test_fusion_cap_groundtruth_header_and_curated_list(copy_of) -> None:
    task, folder = "fusion-cap", copy_of("fusion-cap")
    curated = folder / "test" / "reference_data" / "secondary_concepts.txt"
    curated.write_text(curated.read_text(encoding="utf-8") + "C9999999\n", encoding="utf-8")
    with pytest.raises(ValueError, match="secondary_concepts.txt differs between the dev and test"):
        hooks(task).validate_data(folder)
    path = folder / "test" / "reference_data" / "groundtruth.csv"
    path.write_text("image\tcuis\n" + path.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(ValueError, match="test groundtruth.csv: the header must be ID<TAB>CUIs, found \\['image', 'cuis'\\]"):
        hooks(task).validate_data(folder)
