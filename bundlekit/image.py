"""Build the kit's pinned Docker image (`bundlekit image`).

The image comes from the repository's `Dockerfile` on top of the official
`python:3.11.10-slim-bookworm`. Where Docker Hub cannot be reached, an equivalent base is
made locally: `debootstrap` installs a minimal Debian bookworm with python3, python3-venv
and ca-certificates, and `docker import` turns it into an image, kept for the next builds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from bundlekit import DEFAULT_IMAGE, REPO_ROOT, __version__

#: The official base image, pinned to an exact version (never `latest`).
DEFAULT_BASE_IMAGE = "python:3.11.10-slim-bookworm"
#: The locally made replacement of DEFAULT_BASE_IMAGE; bump the suffix when its recipe changes.
OFFLINE_BASE_IMAGE = "imageclef/fusion-kit-base:bookworm-1"
OFFLINE_BASE_SUITE = "bookworm"
OFFLINE_BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: Copied into the offline base so that pip trusts what the build host trusts (proxies).
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
OFFLINE_BASE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
)
DOCKERFILE = REPO_ROOT / "Dockerfile"
OFFLINE_BASE_MODES = ("auto", "always", "never")

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
    parser.add_argument(
        "--offline-base",
        choices=OFFLINE_BASE_MODES,
        default="auto",
        help="make the base with debootstrap + docker import: 'auto' when the default base "
        "can be neither found locally nor pulled, 'always', or 'never' (default: auto)",
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
        tag = build_image(
            tag=args.tag, base=args.base, offline_base=args.offline_base, no_cache=args.no_cache
        )
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
            "must work), e.g. with ci/docker-setup.sh"
        ) from None


def docker_available() -> bool:
    """Whether a Docker engine answers, within a few seconds."""
    try:
        return bool(_client(PING_TIMEOUT_S).ping())
    except Exception:
        return False


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
    if not docker_available():
        raise ImageError(
            "the Docker engine does not answer; start it (`docker info` must work), "
            "e.g. with ci/docker-setup.sh"
        )


# --- building ---------------------------------------------------------------------------


def build_image(
    tag: str = DEFAULT_IMAGE,
    base: str | None = None,
    offline_base: str = "auto",
    no_cache: bool = False,
) -> str:
    """Build the kit's image from the repository's Dockerfile; return its tag.

    `base` replaces DEFAULT_BASE_IMAGE. `offline_base` says when to make the base locally
    with debootstrap instead: "auto" (only for the default base, when it is neither
    present nor pullable), "always" or "never". Progress goes to stderr.
    """
    if offline_base not in OFFLINE_BASE_MODES:
        raise ImageError(f"--offline-base must be one of {', '.join(OFFLINE_BASE_MODES)}")
    if base is not None and offline_base == "always":
        raise ImageError("--base IMAGE and --offline-base always exclude each other: drop one")
    if not DOCKERFILE.is_file():
        raise ImageError(
            f"{DOCKERFILE} not found: `bundlekit image` builds from a source checkout of the kit"
        )
    _require_engine()
    base_image = _resolve_base(base, offline_base)
    _progress(f"building {tag} on {base_image}")
    build_args = {"BASE_IMAGE": base_image, "KIT_VERSION": __version__}
    try:
        chunks = _client(BUILD_TIMEOUT_S).api.build(
            path=str(REPO_ROOT),
            dockerfile=DOCKERFILE.name,
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
    if not image_exists(tag):
        raise ImageError(f"docker build of {tag} ended without an image; see the lines above")
    return tag


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


def _resolve_base(base: str | None, offline_base: str) -> str:
    """The base image to build on, present in the engine when this returns."""
    if offline_base == "always":
        return ensure_offline_base()
    wanted = base or DEFAULT_BASE_IMAGE
    if image_exists(wanted) or _pull(wanted):
        return wanted
    if base is None and offline_base == "auto":
        _progress(f"{wanted} is neither present nor pullable: using a locally made base")
        return ensure_offline_base()
    hint = (
        "load it with `docker load`, or pick another with --base"
        if base is not None
        else "use --offline-base auto to make an equivalent base with debootstrap"
    )
    raise ImageError(f"base image {wanted} is not present and cannot be pulled; {hint}")


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


# --- offline base -----------------------------------------------------------------------


def ensure_offline_base(tag: str = OFFLINE_BASE_IMAGE) -> str:
    """Return the locally made base image, making it first if needed."""
    if image_exists(tag):
        _progress(f"reusing {tag}")
        return tag
    return make_offline_base(tag)


def make_offline_base(tag: str = OFFLINE_BASE_IMAGE, mirror: str | None = None) -> str:
    """Debootstrap a minimal Debian bookworm with python3 and `docker import` it as `tag`."""
    if sys.platform != "linux":
        raise ImageError("making the offline base needs Linux; build with --base IMAGE instead")
    if os.geteuid() != 0:
        raise ImageError("making the offline base with debootstrap needs root: run as root")
    if shutil.which("debootstrap") is None:
        raise ImageError(
            "debootstrap is not installed: `apt-get install -y debootstrap` (Debian/Ubuntu), "
            "or build with --base IMAGE from a registry you can reach"
        )
    mirror = mirror or debian_mirror()
    workdir = Path(tempfile.mkdtemp(prefix="bundlekit-base-"))
    rootfs = workdir / "rootfs"
    try:
        _progress(f"debootstrap {OFFLINE_BASE_SUITE} from {mirror} (a few minutes)")
        _run_streamed(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(OFFLINE_BASE_PACKAGES)}",
                OFFLINE_BASE_SUITE,
                str(rootfs),
                mirror,
            ],
            what="debootstrap",
        )
        _trim_rootfs(rootfs)
        if HOST_CA_BUNDLE.is_file():
            shutil.copyfile(HOST_CA_BUNDLE, rootfs / HOST_CA_BUNDLE.relative_to("/"))
        archive = workdir / "rootfs.tar"
        _run_streamed(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."], what="tar"
        )
        _progress(f"docker import as {tag}")
        repository, _, version = tag.rpartition(":")
        try:
            _client(BUILD_TIMEOUT_S).api.import_image_from_file(
                str(archive),
                repository=repository,
                tag=version,
                changes=list(OFFLINE_BASE_CHANGES),
            )
        except _engine_errors() as error:
            raise ImageError(f"docker import of {tag} failed: {_one_line(error)}") from None
    finally:
        _remove_rootfs_workdir(workdir)
    if not image_exists(tag):
        raise ImageError(f"docker import did not create {tag}; see the lines above")
    return tag


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The host's Debian mirror serving bookworm, else DEFAULT_DEBIAN_MIRROR.

    Reads `sources.list` and `sources.list.d/*.list` (one-line format) and
    `sources.list.d/*.sources` (deb822); BUNDLEKIT_DEBIAN_MIRROR overrides them.
    """
    override = os.environ.get("BUNDLEKIT_DEBIAN_MIRROR")
    if override:
        return override.rstrip("/")
    files = [apt_dir / "sources.list"]
    files += sorted((apt_dir / "sources.list.d").glob("*.list"))
    files += sorted((apt_dir / "sources.list.d").glob("*.sources"))
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        entries = _deb822_entries(text) if path.suffix == ".sources" else _one_line_entries(text)
        for uri, suites in entries:
            if OFFLINE_BASE_SUITE in suites and re.match(r"https?://", uri):
                return uri.rstrip("/")
    return DEFAULT_DEBIAN_MIRROR


def _one_line_entries(text: str) -> Iterator[tuple[str, list[str]]]:
    for line in text.splitlines():
        match = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match:
            yield match.group(1), [match.group(2)]


def _deb822_entries(text: str) -> Iterator[tuple[str, list[str]]]:
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in paragraph.splitlines():
            match = re.match(r"([A-Za-z-]+):\s*(.*)", line)
            if match and not line.startswith("#"):
                fields[match.group(1).lower()] = match.group(2)
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").strip().lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split()


#: Written into the offline base so later `apt-get install`s stay slim too (as Debian's
#: own slim images do); licences (copyright files) are kept.
DPKG_SLIM_CONFIG = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""


def _trim_rootfs(rootfs: Path) -> None:
    """Drop what the image does not need: downloaded packages, package lists, docs, locales."""
    for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / folder).glob("*"):
            if entry.is_file() and not entry.is_symlink():
                entry.unlink()
    for folder in ("usr/share/man", "usr/share/info", "usr/share/locale"):
        for entry in (rootfs / folder).glob("*"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
    for package_docs in sorted((rootfs / "usr/share/doc").iterdir()):
        if package_docs.is_symlink() or not package_docs.is_dir():
            continue
        for entry in sorted(package_docs.iterdir()):
            if entry.name == "copyright":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    (rootfs / "etc/dpkg/dpkg.cfg.d/slim").write_text(DPKG_SLIM_CONFIG, encoding="utf-8")


def _remove_rootfs_workdir(workdir: Path) -> None:
    """Remove the debootstrap folder, first unmounting what a failed run left mounted."""
    mounted = []
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            mount_point = line.split()[1].replace("\\040", " ")
            if mount_point == str(workdir) or mount_point.startswith(f"{workdir}/"):
                mounted.append(mount_point)
    for mount_point in sorted(mounted, reverse=True):
        subprocess.run(["umount", "--lazy", mount_point], check=False)
    if any(Path(point).is_mount() for point in mounted):
        _progress(f"left {workdir} in place: something is still mounted under it")
        return
    shutil.rmtree(workdir, ignore_errors=True)


def _run_streamed(command: list[str], what: str) -> None:
    """Run a command, relaying its output to stderr; ImageError with its last line if it fails."""
    last_line = ""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stderr.write(line)
            if line.strip():
                last_line = line.strip()
        returncode = process.wait()
    if returncode != 0:
        raise ImageError(f"{what} failed (exit {returncode}): {last_line or 'no output'}")


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
