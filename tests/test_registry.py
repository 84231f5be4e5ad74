"""The image on a registry: references, the digest printed by `image --push`, pull by digest, build --image, check.

The push and pull tests talk to a real registry on loopback (KIT_REGISTRY, default
127.0.0.1:5000; CI starts one with ci/platform-services.sh) and skip when none answers.
"""

from __future__ import annotations

import argparse
import os
import uuid

import pytest

from bundlekit import DEFAULT_IMAGE, build, image, registry
from bundlekit.check.checker import BundleChecker
from bundlekit.registry import Reference, is_pinned_by_digest, parse_reference

DIGEST = "sha256:" + "ab" * 32
REGISTRY = os.environ.get("KIT_REGISTRY", "127.0.0.1:5000")


@pytest.mark.parametrize(("reference", "expected"), [
    ("imageclef/fusion-kit:0.1.0", Reference("imageclef/fusion-kit", "0.1.0", None)),
    ("127.0.0.1:5000/imageclef/fusion-kit", Reference("127.0.0.1:5000/imageclef/fusion-kit", None, None)),
    (f"127.0.0.1:5000/imageclef/fusion-kit@{DIGEST}", Reference("127.0.0.1:5000/imageclef/fusion-kit", None, DIGEST)),
    (f"ghcr.io/org/kit:1.0@{DIGEST}", Reference("ghcr.io/org/kit", "1.0", DIGEST)),
    ("localhost/kit:2", Reference("localhost/kit", "2", None)),
])
def test_references_are_split(reference: str, expected: Reference) -> None:
    assert parse_reference(reference) == expected
    assert is_pinned_by_digest(reference) == (expected.digest is not None)


@pytest.mark.parametrize("reference", ["Imageclef/Kit:1", "kit@sha256:123", "kit:", "a b:1"])
def test_bad_references_are_refused(reference: str) -> None:
    with pytest.raises(ValueError, match="not an image reference"):
        parse_reference(reference)
    assert not is_pinned_by_digest(reference)


@pytest.mark.parametrize(("reference", "refused"), [
    (DEFAULT_IMAGE, False), (f"127.0.0.1:5000/imageclef/fusion-kit@{DIGEST}", False),
    ("127.0.0.1:5000/imageclef/fusion-kit", True), ("imageclef/fusion-kit:latest", True),
])
def test_build_image_must_be_pinned(reference: str, refused: bool) -> None:
    assert (build._unpinned_image(reference) is not None) == refused


def test_build_accepts_the_tag_warning_only_for_a_tag() -> None:
    assert set(build.image_warnings_accepted(DEFAULT_IMAGE)) == {"docker.no-digest"}
    assert build.image_warnings_accepted(f"imageclef/fusion-kit@{DIGEST}") == {}


@pytest.mark.parametrize(("docker_image", "rules"), [
    ("imageclef/fusion-kit:0.1.0", ["docker.no-digest"]),
    (f"127.0.0.1:5000/imageclef/fusion-kit@{DIGEST}", []),
    (f"imageclef/fusion-kit:0.1.0@{DIGEST}", []),
    ("imageclef/fusion-kit:latest", ["docker.unpinned"]),
])
def test_check_warns_when_the_image_is_not_pinned_by_digest(docker_image: str, rules: list[str]) -> None:
    checker = BundleChecker.__new__(BundleChecker)
    checker.doc, checker.problems = {"docker_image": docker_image}, []
    checker.check_docker_image()
    assert [p.rule for p in checker.problems] == rules
    if rules == ["docker.no-digest"]:
        assert "bundlekit image --push" in checker.problems[0].fix


def test_push_refuses_a_digest_target() -> None:
    with pytest.raises(registry.RegistryError, match="give REPOSITORY"):
        registry.push_image(DEFAULT_IMAGE, f"127.0.0.1:5000/kit@{DIGEST}")


@pytest.fixture(scope="module")
def loopback_registry() -> str:
    import requests

    try:
        requests.get(f"http://{REGISTRY}/v2/", timeout=3).raise_for_status()
    except requests.RequestException:
        pytest.skip(f"no registry answers on {REGISTRY} (ci/platform-services.sh start runs one)")
    return REGISTRY


def test_image_push_prints_the_digest_and_a_pull_by_digest_gets_the_same_image(
        kit_image: str, loopback_registry: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import docker

    # The kit's image as it is (no rebuild here: `bundlekit image` has its own tests).
    monkeypatch.setattr(image, "build_image", lambda **kwargs: kit_image)
    repository = f"{loopback_registry}/bundlekit-test/fusion-kit"
    tag = f"t{uuid.uuid4().hex[:8]}"
    client = docker.from_env()
    try:
        status = image.run_command(argparse.Namespace(tag=kit_image, base=None, no_cache=False,
                                                      push=f"{repository}:{tag}"))
        assert status == 0
        reference = capsys.readouterr().out.strip().splitlines()[-1]
        assert reference.startswith(f"{repository}@sha256:") and is_pinned_by_digest(reference)
        client.images.remove(f"{repository}:{tag}")  # only the registry tag: the pull must go to the registry
        assert registry.pull_image(reference) == client.images.get(kit_image).id
    finally:
        for name in (f"{repository}:{tag}",):
            try:
                client.images.remove(name)
            except docker.errors.ImageNotFound:
                pass


def test_push_to_an_absent_registry_is_one_line(kit_image: str) -> None:
    with pytest.raises(registry.RegistryError) as caught:
        registry.push_image(kit_image, "127.0.0.1:5999/bundlekit-test/nowhere:1")
    assert "\n" not in str(caught.value) and "127.0.0.1:5999" in str(caught.value)
    import docker

    docker.from_env().images.remove("127.0.0.1:5999/bundlekit-test/nowhere:1")


def test_pull_of_an_unknown_digest_is_refused(loopback_registry: str, kit_image: str) -> None:
    with pytest.raises(registry.RegistryError, match="cannot pull .*push it first"):
        registry.pull_image(f"{loopback_registry}/bundlekit-test/absent@{DIGEST}")


def test_run_pulls_exactly_the_bundle_reference_when_absent(loopback_registry: str, kit_image: str) -> None:
    import docker

    from bundlekit.run import BundleError
    from bundlekit.run.session import make_settings

    reference = registry.push_image(kit_image, f"{loopback_registry}/bundlekit-test/fusion-kit:run")
    client = docker.from_env()
    client.images.remove(f"{loopback_registry}/bundlekit-test/fusion-kit:run")
    client.images.remove(reference)  # untags the digest reference only: the kit's image stays
    bundle = argparse.Namespace(docker_image=reference)
    settings = make_settings(bundle, True, None, "4g", 256, False, None, False)
    assert settings.image is None and client.images.get(reference).id == client.images.get(kit_image).id
    absent = f"{loopback_registry}/bundlekit-test/absent@{DIGEST}"
    with pytest.raises(BundleError, match=f"cannot pull {absent}: .*; or build it"):
        make_settings(argparse.Namespace(docker_image=absent), True, None, "4g", 256, False, None, False)
