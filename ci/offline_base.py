"""CI plumbing: the kit image's base made without Docker Hub (Debian bookworm, debootstrap).

    python ci/offline_base.py [--tag TAG] [--mirror URL]     # as root, on Linux

Where the official Python base can be neither found locally nor pulled, `debootstrap`
installs a minimal Debian bookworm with python3, python3-venv and ca-certificates, and
`docker import` turns it into the image LOCAL_BASE_IMAGE, kept for the next builds; then
`bundlekit image` builds on it (it takes that base when the official one cannot be had).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bundlekit.image import (
    BUILD_TIMEOUT_S,
    LOCAL_BASE_IMAGE,
    ImageError,
    _client,
    _engine_errors,
    _one_line,
    _progress,
    image_exists,
)

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


def ensure_offline_base(tag: str = LOCAL_BASE_IMAGE) -> str:
    """Return the locally made base image, making it first if needed."""
    if image_exists(tag):
        _progress(f"reusing {tag}")
        return tag
    return make_offline_base(tag)


def make_offline_base(tag: str = LOCAL_BASE_IMAGE, mirror: str | None = None) -> str:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", default=LOCAL_BASE_IMAGE, help=f"the base image to make (default {LOCAL_BASE_IMAGE})")
    parser.add_argument("--mirror", help="Debian mirror (default: the host's, or $BUNDLEKIT_DEBIAN_MIRROR)")
    args = parser.parse_args(argv)
    try:
        tag = ensure_offline_base(args.tag) if args.mirror is None else make_offline_base(args.tag, args.mirror)
    except ImageError as error:
        print(f"offline_base: {error}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
