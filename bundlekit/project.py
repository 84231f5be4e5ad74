"""Where a project's task sources and outputs are, wherever the kit is installed.

A project is a folder holding ``bundles/`` (one sub-folder per task, each with a
``task.py``). Commands find it from the working folder upwards, unless ``--bundles-dir``
names the task folder; ``bundlekit new`` in a folder without one starts a new project
there. Built bundles go to the project's ``dist/`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import scoring_common

#: Overrides the search for the task folder, like ``--bundles-dir``.
BUNDLES_DIR_ENV = "BUNDLEKIT_BUNDLES_DIR"
#: The metric code vendored into every program, from the installed package.
SCORING_COMMON_DIR = Path(scoring_common.__file__).resolve().parent


def find_bundles_dir(explicit: Path | None = None, start: Path | None = None) -> Path:
    """The project's task folder: ``explicit``, else $BUNDLEKIT_BUNDLES_DIR, else the first
    ``bundles/`` found from ``start`` (default: the working folder) upwards, else
    ``start/bundles`` (a new project; it may not exist yet)."""
    if explicit is not None:
        return explicit.resolve()
    if os.environ.get(BUNDLES_DIR_ENV):
        return Path(os.environ[BUNDLES_DIR_ENV]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "bundles").is_dir():
            return folder / "bundles"
    return here / "bundles"


def default_dist_dir(bundles_dir: Path) -> Path:
    """Where built bundles go by default: ``dist/`` beside the task folder."""
    return bundles_dir.parent / "dist"


def add_bundles_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundles-dir", type=Path, metavar="DIR",
                        help="the folder of task sources (default: the first bundles/ found from the "
                             f"working folder upwards; also ${BUNDLES_DIR_ENV})")
