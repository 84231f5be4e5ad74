"""A built bundle on disk (folder or zip, or a participant kit), its competition.yaml read by the bundle model."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from bundlekit import participant
from bundlekit.bundle_model import (
    BUNDLE_MAX_FILES,
    COMPETITION_YAML,
    BundleError,
    Column,
    Competition,
    Phase,
    read_document,
)
from bundlekit.unpack import ArchiveError, safe_extract


#: Resource zips extracted once per process, shared by every Bundle opened on the same bytes:
#: sha256 of the zip -> (folder, fingerprint of the folder just after extraction).
_SHARED_EXTRACTIONS: dict[str, tuple[Path, list[tuple[str, int, int, int]]]] = {}
#: Changed extractions, no longer handed out (another Bundle may still use one): removed at exit.
_RETIRED_EXTRACTIONS: list[Path] = []
_SHARED_LOCK = threading.Lock()


def _tree_fingerprint(folder: Path) -> list[tuple[str, int, int, int]]:
    """Every entry below ``folder``: (relative path, mode, size, modification time in ns), sorted."""
    entries = []
    for root, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            path = os.path.join(root, name)
            info = os.lstat(path)
            entries.append((os.path.relpath(path, folder), info.st_mode, info.st_size, info.st_mtime_ns))
    return sorted(entries)


#: sha256 of a file by its identity and change time: any write changes st_ctime_ns, which no program can set back.
_DIGESTS: dict[tuple[int, int, int, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    info = os.stat(path)
    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def _remove_shared_extractions() -> None:
    for folder in [*(folder for folder, _ in _SHARED_EXTRACTIONS.values()), *_RETIRED_EXTRACTIONS]:
        shutil.rmtree(folder, ignore_errors=True)
    _SHARED_EXTRACTIONS.clear()
    _RETIRED_EXTRACTIONS.clear()


atexit.register(_remove_shared_extractions)


def shared_extraction(zip_path: Path) -> Path:
    """A folder with the contents of ``zip_path``, extracted once per process and content.

    Keyed on the zip's bytes (sha256), so a changed zip is extracted anew; a folder that
    changed since its extraction (any entry added, removed or modified) is replaced by a
    fresh one, so that no run sees what an earlier run may have left. Removed at exit.

    Raises
    ------
    BundleError
        When the zip is unsafe or unreadable.
    """
    digest = _file_sha256(zip_path)
    with _SHARED_LOCK:
        cached = _SHARED_EXTRACTIONS.pop(digest, None)
        if cached is not None:
            if _tree_fingerprint(cached[0]) == cached[1]:
                _SHARED_EXTRACTIONS[digest] = cached
                return cached[0]
            _RETIRED_EXTRACTIONS.append(cached[0])
        folder = Path(tempfile.mkdtemp(prefix=f"bundlekit-{zip_path.stem}-")).resolve()
        try:
            safe_extract(zip_path, folder, max_files=BUNDLE_MAX_FILES)
        except ArchiveError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise BundleError(str(error)) from None
        _SHARED_EXTRACTIONS[digest] = (folder, _tree_fingerprint(folder))
        return folder


class Bundle:
    """A built bundle (directory, or zip extracted to a temporary folder), with its :class:`Competition`.

    Use as a context manager: its own temporary extractions are removed on exit; those of
    its resource zips are shared within the process (:func:`shared_extraction`).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._temp_dirs: list[Path] = []
        self._extracted: dict[Path, Path] = {}
        self._lock = threading.Lock()
        if self.path.is_file():
            self.root = self._extract(self.path, "bundle")
        elif self.path.is_dir():
            self.root = self.path.resolve()
        else:
            raise BundleError(f"{self.path}: no such bundle (give a bundle folder or zip)")
        if (self.root / participant.KIT_FILE).is_file() and not (self.root / COMPETITION_YAML).exists():
            self.root = participant.kit_as_bundle(self.root, Path(tempfile.mkdtemp(prefix="bundlekit-kit-")))
            self._temp_dirs.append(self.root)
        yaml_path = self.root / COMPETITION_YAML
        if not yaml_path.is_file():
            raise BundleError(
                f"{self.path}: no competition.yaml at the bundle root "
                "(the platform needs it there, not inside a folder)"
            )
        self.competition = Competition.from_document(read_document(yaml_path.read_bytes()), self._resolve)

    @property
    def docker_image(self) -> str | None:
        return self.competition.docker_image

    @property
    def phases(self) -> list[Phase]:
        return self.competition.phases

    @property
    def columns(self) -> list[Column]:
        return self.competition.columns

    @property
    def check_only_phases(self) -> frozenset[str]:
        return self.competition.check_only_phases

    def phase(self, name: str | None) -> Phase:
        """The phase called ``name`` (case-insensitive); ``None`` when there is one phase."""
        return self.competition.phase(name)

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for folder in self._temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        self._temp_dirs.clear()
        self._extracted.clear()

    def _extract(self, zip_path: Path, label: str) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=f"bundlekit-{label}-")).resolve()
        self._temp_dirs.append(folder)
        try:
            safe_extract(zip_path, folder, max_files=BUNDLE_MAX_FILES)
        except ArchiveError as error:
            raise BundleError(str(error)) from None
        return folder

    def _resolve(self, relative: str, what: str) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise BundleError(f"competition.yaml: {what} {relative!r} points outside the bundle")
        if not (path.is_dir() or (path.is_file() and path.suffix == ".zip")):
            raise BundleError(f"competition.yaml: {what} {relative!r}: no such folder or .zip in the bundle")
        return path

    def materialize(self, path: Path) -> Path:
        """A folder with the contents of a bundle resource (a zip is extracted once, see :func:`shared_extraction`)."""
        if path.is_dir():
            return path
        with self._lock:
            if path not in self._extracted:
                self._extracted[path] = shared_extraction(path)
            return self._extracted[path]
