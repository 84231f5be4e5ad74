"""Shared fixtures: the kit's Docker image for `docker`-marked tests, a task's fusion_io as `fusion_io`."""

from __future__ import annotations

import os
import sys

import pytest

from bundlekit import DEFAULT_IMAGE


@pytest.fixture(scope="session")
def kit_image() -> str:
    """The kit's image; a skip when no engine answers or the image is not built.

    With ``BUNDLEKIT_REQUIRE_DOCKER`` set (CI sets it once it has an engine and the
    image), a missing engine or image fails the test instead of skipping it.
    """
    from bundlekit.image import image_exists
    from bundlekit.run import docker_available

    problem = None
    if not docker_available():
        problem = "no Docker engine answers"
    elif not image_exists(DEFAULT_IMAGE):
        problem = f"the kit image {DEFAULT_IMAGE} is not built (run `bundlekit image`)"
    if problem and os.environ.get("BUNDLEKIT_REQUIRE_DOCKER"):
        pytest.fail(f"{problem}, and BUNDLEKIT_REQUIRE_DOCKER is set")
    if problem:
        pytest.skip(problem)
    return DEFAULT_IMAGE


@pytest.fixture
def task_fusion_io(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import fusion_io`` give the test module's ``fio``, and undo the kit's sys.path changes."""
    monkeypatch.setitem(sys.modules, "fusion_io", request.module.fio)
    monkeypatch.setattr(sys, "path", list(sys.path))
