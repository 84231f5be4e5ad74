"""Build the kit's pinned Docker image (`bundlekit image`).

The image comes from the kit's `Dockerfile` (shipped inside the package, so an installed kit
builds it from any folder) on top of the official `python:3.11.10-slim-bookworm`, or of the
base given with ``--base``. Where Docker Hub cannot be reached, it builds on an equivalent
base already made on this machine, imageclef/fusion-kit-base:bookworm-1, if there is one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from bundlekit import DEFAULT_IMAGE, __version__

#: The official base image, pinned to an exact version (never `latest`).
DEFAULT_BASE_IMAGE = "python:3.11.10-slim-bookworm"
#: An equivalent of DEFAULT_BASE_IMAGE made without Docker Hub (CI makes it with debootstrap);
#: bump the suffix when its recipe changes.
LOCAL_BASE_IMAGE = "imageclef/fusion-kit-base:bookworm-1"
#: The build context, shipped as package data: the Dockerfile and the files it copies, at the
#: paths the Dockerfile names (in a source checkout these are links to the top-level files).
IMAGE_CONTEXT_DIR = Path(__file__).resolve().with_name("image_context")
IMAGE_CONTEXT_FILES = ("Dockerfile", "docker/measure.py", "requirements/image.lock")

PING_TIMEOUT_S = 5
PULL_TIMEOUT_S = 60  # longest silence tolerated while pulling, not the whole pull
BUILD_TIMEOUT_S = 3600
#: Pull progress statuses too chatty to print (one per layer and per chunk).
QUIET_PULL_STATUSES = {"Downloading", "Extracting", "Waiting", "Verifying Checksum"}


class ImageError(Exception):
    """Why the image could not be built or found, in one line that says how to fix it."""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tag", default=DEFAULT_IMAGE, help=f"image tag to build (default: {DEFAULT_IMAGE})"
    )
    parser.add_argument(
        "--base",
        default=None,
        metavar="IMAGE",
        help=f"base image (default: {DEFAULT_BASE_IMAGE}); must provide python3 3.11 with venv",
    )
    parser.add_argument("--no-cache", action="store_true", help="rebuild every layer")
    parser.add_argument(
        "--push",
        metavar="REPOSITORY[:TAG]",
        help="then tag the image as REPOSITORY:TAG (TAG defaults to the kit's), push it and print its "
        "reference by digest, REPOSITORY@sha256:..., for `bundlekit build --image`",
    )


def run_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        tag = build_image(tag=args.tag, base=args.base, no_cache=args.no_cache)
        size_mib = image_size_bytes(tag) / 2**20
    except ImageError as error:
        print(f"bundlekit image: {error}", file=sys.stderr)
        return 1
    elapsed_s = time.monotonic() - started
    print(f"built {tag} in {elapsed_s:.0f} s ({size_mib:.0f} MiB)", file=sys.stderr if args.push else sys.stdout)
    if args.push:
        from bundlekit.registry import RegistryError, push_image

        try:
            reference = push_image(tag, args.push, progress=_progress)
        except RegistryError as error:
            print(f"bundlekit image: {error}", file=sys.stderr)
            return 1
        _progress(f"pushed in {time.monotonic() - started - elapsed_s:.0f} s; "
                  f"build the bundles with: bundlekit build --image {reference}")
        print(reference)
    return 0


# --- engine -----------------------------------------------------------------------------


def _client(timeout: float):
    """A docker SDK client; ImageError when the engine cannot be reached."""
    try:
        import docker

        return docker.from_env(timeout=timeout)
    except Exception as error:  # DockerException, connection errors, bad DOCKER_HOST
        raise ImageError(
            f"cannot reach the Docker engine ({_one_line(error)}); start it (`docker info` "
            "must work), e.g. `sudo systemctl start docker` or `sudo dockerd &`"
        ) from None


def image_exists(tag: str) -> bool:
    """Whether the engine has an image called `tag` (ImageError if it cannot be asked)."""
    import docker.errors

    try:
        _client(PING_TIMEOUT_S).images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    except _engine_errors() as error:
        raise ImageError(f"cannot look up image {tag}: {_one_line(error)}") from None
    return True


def image_size_bytes(tag: str) -> int:
    """Size of an image as `docker image inspect` reports it."""
    try:
        return int(_client(PING_TIMEOUT_S).images.get(tag).attrs["Size"])
    except _engine_errors() as error:
        raise ImageError(f"cannot inspect image {tag}: {_one_line(error)}") from None


def _require_engine() -> None:
    from bundlekit.run.docker_engine import docker_available  # noqa: PLC0415 - the runner's package, only here

    if not docker_available():
        raise ImageError(
            "the Docker engine does not answer; start it (`docker info` must work), "
            "e.g. `sudo systemctl start docker` or `sudo dockerd &`"
        )


# --- building ---------------------------------------------------------------------------


def build_image(tag: str = DEFAULT_IMAGE, base: str | None = None, no_cache: bool = False) -> str:
    """Build the kit's image from the kit's Dockerfile; return its tag.

    `base` replaces DEFAULT_BASE_IMAGE. Progress goes to stderr.
    """
    _require_engine()
    base_image = _resolve_base(base)
    _progress(f"building {tag} on {base_image}")
    build_args = {"BASE_IMAGE": base_image, "KIT_VERSION": __version__}
    with tempfile.TemporaryDirectory(prefix="bundlekit-image-") as context:
        _build(tag, _copy_context(Path(context)), build_args, no_cache)
    if not image_exists(tag):
        raise ImageError(f"docker build of {tag} ended without an image; see the lines above")
    return tag


def _copy_context(context: Path) -> Path:
    """Copy the build context (links resolved: Docker sends links as links) into ``context``."""
    for relative in IMAGE_CONTEXT_FILES:
        source = IMAGE_CONTEXT_DIR / relative
        if not source.is_file():
            raise ImageError(f"{source} is missing: reinstall the kit (pip install --force-reinstall ...)")
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, context / relative)
    return context


def _build(tag: str, context: Path, build_args: dict[str, str], no_cache: bool) -> None:
    try:
        chunks = _client(BUILD_TIMEOUT_S).api.build(
            path=str(context),
            dockerfile="Dockerfile",
            tag=tag,
            buildargs=build_args,
            nocache=no_cache,
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
        )
        _relay_build_output(chunks)
    except _engine_errors() as error:
        raise ImageError(f"docker build of {tag} failed: {_one_line(error)}") from None


def ensure_image(tag: str = DEFAULT_IMAGE) -> str:
    """Return `tag`, building the image first if the engine does not have it."""
    _require_engine()
    if image_exists(tag):
        return tag
    _progress(f"image {tag} not found: building it")
    return build_image(tag=tag)


def _relay_build_output(chunks: Iterable[dict]) -> None:
    for chunk in chunks:
        if "error" in chunk:
            raise ImageError(
                f"docker build failed: {_one_line(chunk['error'])}; see the lines above"
            )
        text = chunk.get("stream")
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()


def _resolve_base(base: str | None) -> str:
    """The base image to build on, present in the engine when this returns."""
    wanted = base or DEFAULT_BASE_IMAGE
    if image_exists(wanted) or _pull(wanted):
        return wanted
    if base is None and image_exists(LOCAL_BASE_IMAGE):
        _progress(f"{wanted} is neither present nor pullable: using the equivalent base {LOCAL_BASE_IMAGE}")
        return LOCAL_BASE_IMAGE
    raise ImageError(f"base image {wanted} is not present and cannot be pulled; "
                     "load it with `docker load`, or pick another with --base")


def _pull(image: str) -> bool:
    """Try to pull `image`; False (with the reason on stderr) when it cannot be had."""
    from docker.utils import parse_repository_tag

    repository, tag = parse_repository_tag(image)
    _progress(f"pulling {image}")
    try:
        client = _client(PULL_TIMEOUT_S)
        for event in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            if "error" in event:
                raise RuntimeError(event["error"])
            status = event.get("status", "")
            if status and status not in QUIET_PULL_STATUSES:
                layer = event.get("id")
                _progress(f"  {layer}: {status}" if layer else f"  {status}")
    except Exception as error:  # unreachable registry, DNS, timeout, unknown image
        _progress(f"cannot pull {image}: {_one_line(error)}")
        return False
    return True


def _engine_errors() -> tuple[type[Exception], ...]:
    """What talking to the engine can raise: its own errors and connection failures."""
    import docker.errors
    import requests.exceptions

    return docker.errors.DockerException, requests.exceptions.RequestException


def _progress(message: str) -> None:
    print(f"[bundlekit image] {message}", file=sys.stderr, flush=True)


def _one_line(error: object) -> str:
    """The first non-empty line of an error message (the engine's own words when it has some)."""
    text = str(getattr(error, "explanation", None) or error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
