"""The kit once installed (not editable), used from an empty folder, as an adopter would.

The kit is installed with ``pip install --no-deps --target`` from a wheel-like build of the
checkout (its dependencies come from the test environment), then every command runs with
only that copy importable, in a folder that is not the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bundlekit import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """The environment of a non-editable install of the kit in a fresh folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(REPO_ROOT)], check=True, cwd=target)
    env = {**os.environ, "PYTHONPATH": str(target), "PATH": f"{target / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("BUNDLEKIT_BUNDLES_DIR", None)
    return env


def bundlekit(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bundlekit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


def test_the_installed_copy_is_the_one_imported(installed, tmp_path):
    where = subprocess.run([sys.executable, "-c", "import bundlekit, scoring_common; "
                            "print(bundlekit.__file__); print(scoring_common.__file__)"],
                           cwd=tmp_path, env=installed, capture_output=True, text=True, check=True).stdout
    assert str(REPO_ROOT) not in where
    assert where.count(installed["PYTHONPATH"]) == 2


def test_new_build_check_run_in_an_empty_folder(installed, tmp_path):
    created = bundlekit(installed, tmp_path, "new", "my-task", "--kind", "regression")
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "bundles" / "my-task" / "task.py").is_file()

    built = bundlekit(installed, tmp_path, "build")
    assert built.returncode == 0, built.stderr
    bundle = tmp_path / "dist" / "my-task.zip"
    assert bundle.is_file()
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
    assert "competition.yaml" in names
    assert not any("__pycache__" in name for name in names)

    # From a sub-folder too: the project is found upwards.
    sub = tmp_path / "bundles" / "my-task"
    checked = bundlekit(installed, sub, "check", str(bundle))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    solution = tmp_path / "dist" / "my-task" / "solutions" / "best-inducer-code.zip"
    ran = bundlekit(installed, tmp_path, "run", str(bundle), str(solution), "--phase", "Test", "--no-docker",
                    "--json", "--output", str(tmp_path / "runs"))
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "finished"


def test_build_says_where_it_looked_when_there_is_no_task(installed, tmp_path):
    built = bundlekit(installed, tmp_path, "build")
    assert built.returncode == 1
    assert f"no task under {tmp_path / 'bundles'}" in built.stderr
    assert "bundlekit new" in built.stderr
    assert not (tmp_path / "dist").exists()


def test_an_explicit_bundles_dir_and_out(installed, tmp_path):
    sources = tmp_path / "sources"
    assert bundlekit(installed, tmp_path, "new", "t-rank", "--kind", "ranking", "--bundles-dir", str(sources)).returncode == 0
    built = bundlekit(installed, tmp_path, "build", "--bundles-dir", str(sources), "--out", str(tmp_path / "o"))
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "o" / "t-rank.zip").is_file()


@pytest.mark.docker
def test_image_builds_from_the_installed_package(installed, tmp_path, kit_image):
    built = bundlekit(installed, tmp_path, "image")
    assert built.returncode == 0, built.stderr
    assert f"built {kit_image}" in built.stdout
