"""Folders and zips read alike, in place (never extracted), and what makes a zip unreadable or unsafe."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
import zlib
from contextlib import ExitStack
from pathlib import Path, PurePosixPath
from typing import IO

from bundlekit.check.problems import Problem

#: OS droppings that are not part of a bundle.
IGNORED_PARTS = frozenset({"__MACOSX", ".DS_Store"})
#: A nested zip larger than this is spooled to a temporary file instead of memory.
SPOOL_BYTES = 64 * 1024**2
#: How reading a zip or its members fails: damaged, truncated, encrypted, unknown compression.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError)
#: Zip flag of an encrypted member.
ENCRYPTED_FLAG = 0x1


class Tree:
    """The files of a folder, a zip, or a folder inside either, by posix path from its root.

    OS droppings (``__MACOSX/``, ``.DS_Store``) are left out.
    """

    def __init__(self, names: list[str]) -> None:
        self._names = sorted(n for n in names if not IGNORED_PARTS.intersection(n.split("/")))
        self._name_set = frozenset(self._names)

    def names(self) -> list[str]:
        return self._names

    def is_file(self, name: str) -> bool:
        return name in self._name_set

    def is_dir(self, name: str) -> bool:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def sub(self, folder: str) -> Tree:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def crc(self, name: str) -> int:
        crc = 0
        with self.open(name) as stream:
            while chunk := stream.read(1024**2):
                crc = zlib.crc32(chunk, crc)
        return crc

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.open(name) as stream:
            while chunk := stream.read(1024**2):
                digest.update(chunk)
        return digest.hexdigest()


class FolderTree(Tree):
    """A folder's regular files; symbolic links are listed apart (``links``) and never followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        files, self.links = [], []
        for folder, subfolders, names in os.walk(root):
            for name in sorted([*subfolders, *names]):
                path = Path(folder, name)
                if path.is_symlink():
                    self.links.append(path.relative_to(root).as_posix())
                elif name in names and path.is_file():
                    files.append(path.relative_to(root).as_posix())
        super().__init__(files)

    def is_dir(self, name: str) -> bool:
        return (self.root / name).is_dir()

    def size(self, name: str) -> int:
        return (self.root / name).stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return os.fdopen(os.open(self.root / name, os.O_RDONLY | os.O_NOFOLLOW), "rb")

    def sub(self, folder: str) -> Tree:
        return FolderTree(self.root / folder)


class ZipTree(Tree):
    def __init__(self, archive: zipfile.ZipFile, prefix: str = "") -> None:
        self.archive = archive
        self.prefix = prefix
        members = [i for i in archive.infolist() if i.filename.startswith(prefix) and i.filename != prefix]
        self._infos = {i.filename[len(prefix):]: i for i in members if not i.is_dir()}
        super().__init__(list(self._infos))
        explicit = {i.filename[len(prefix):].rstrip("/") for i in members if i.is_dir()}
        self._folders = explicit | {str(p) for n in self._names for p in PurePosixPath(n).parents} - {"."}

    def is_dir(self, name: str) -> bool:
        return name.rstrip("/") in self._folders

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def open(self, name: str) -> IO[bytes]:
        return self.archive.open(self._infos[name])

    def crc(self, name: str) -> int:
        return self._infos[name].CRC

    def sub(self, folder: str) -> Tree:
        return ZipTree(self.archive, f"{self.prefix}{folder.rstrip('/')}/")


def open_zip(tree: Tree, name: str, stack: ExitStack) -> zipfile.ZipFile:
    """The zip ``name`` of ``tree`` opened in place (spooled when it sits inside a zip).

    Raises one of :data:`ZIP_ERRORS` when it is not a readable zip.
    """
    if isinstance(tree, FolderTree):
        return stack.enter_context(zipfile.ZipFile(tree.root / name))
    spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))
    with tree.open(name) as source:
        shutil.copyfileobj(source, spool)
    spool.seek(0)
    return stack.enter_context(zipfile.ZipFile(spool))


def damaged_member(archive: zipfile.ZipFile) -> tuple[str, str] | None:
    """The first member that cannot be read back and why (encrypted, bad CRC, broken data), or None.

    Reading a member to its end makes zipfile verify its CRC.
    """
    for info in archive.infolist():
        if info.flag_bits & ENCRYPTED_FLAG:
            return info.filename, "password-protected"
        try:
            with archive.open(info) as stream:
                while stream.read(1024**2):
                    pass
        except ZIP_ERRORS as exc:
            if isinstance(exc, NotImplementedError):
                return info.filename, f"compression method {info.compress_type} is not supported"
            return info.filename, "bad CRC-32" if "CRC" in str(exc) else "data damaged or cut short"
    return None


def unsafe_reason(archive: zipfile.ZipFile, name: str) -> str | None:
    """Why ``bundlekit run`` refuses to unpack the zip (a '..' or absolute member, a link, a bomb), or None.

    Only the central directory is read: a bomb is found without inflating anything.
    """
    from bundlekit.bundle_model import BUNDLE_MAX_FILES  # noqa: PLC0415
    from bundlekit.unpack import UnsafeArchiveError, check_members  # noqa: PLC0415

    if any(info.flag_bits & ENCRYPTED_FLAG for info in archive.infolist()):
        return None  # reported as damaged, with the platform's view of it
    try:
        check_members(archive, Path(name), max_files=BUNDLE_MAX_FILES)
    except UnsafeArchiveError as exc:
        return str(exc)
    return None


def unsafe_problem(path: str, reason: str) -> Problem:
    return Problem("error", "archive.unsafe", path, f"{reason.rsplit(': ', 1)[0]}; the platform's unzip and "
                   "bundlekit run refuse it", reason.rsplit(': ', 1)[-1])


def damaged_problem(path: str, what: str, damaged: tuple[str, str]) -> Problem:
    member, reason = damaged
    return Problem("error", "archive.damaged", path, f"{what} has a corrupt or encrypted member '{member}' ({reason}): "
                   "the platform cannot unzip it", "re-create the zip from the original files, without a password")
