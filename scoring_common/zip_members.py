"""Checks of every member of a zip before anything is extracted (shared by the runner and the participant kit).

:func:`check_members` refuses, naming the member and the fix: an absolute path, a drive
letter or a ``..`` component, a file or folder name no file system stores, a path longer
than the system's limit, a symbolic link or special file, an encrypted member, a
duplicate name, a name that is both a file and a folder, and zip bombs (too many
members, too many bytes once inflated, an absurd compression ratio, overlapping
members). Standard library only: it ships in the participant kit, so that
``check_submission.py`` refuses exactly what ``bundlekit run`` refuses.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

#: Default bound on the total inflated size of an archive.
MAX_TOTAL_BYTES = 2 * 1024**3
#: Default bound on the inflated/compressed ratio, per member and overall.
MAX_RATIO = 200
#: Default bound on the number of members (files and folders).
MAX_FILES = 10_000
#: Members (and archives) smaller than this are not ratio-checked: small text compresses well.
RATIO_MIN_BYTES = 1024**2
#: Longest file or folder name, in bytes, that Linux file systems store.
MAX_NAME_BYTES = 255
#: Longest path, in bytes, the kernel accepts (PATH_MAX, with its terminating NUL).
MAX_PATH_BYTES = 4095
#: Bytes of a zip's local file header before the member's name.
LOCAL_HEADER_BYTES = 30
#: Characters of an over-long member name shown in a message.
SHOWN_NAME_CHARS = 60

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


class ArchiveError(ValueError):
    """The file cannot be read as a zip archive."""


class UnsafeArchiveError(ArchiveError):
    """A member of the archive could write outside the destination or exhaust resources."""


def _unsafe(zip_path: Path, member: str, problem: str, fix: str) -> UnsafeArchiveError:
    shown = member if len(member) <= SHOWN_NAME_CHARS else member[:SHOWN_NAME_CHARS] + "..."
    return UnsafeArchiveError(f"{zip_path.name}: member {shown!r} {problem}: {fix}")


def _overlapping_member(members: list[zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    """A member whose data starts inside the previous member's (a zip bomb by overlap), or None.

    The previous member ends at least its local header, name and compressed data past
    its offset (the local extra field only adds to that).
    """
    previous_end = 0
    for info in sorted(members, key=lambda i: i.header_offset):
        if info.header_offset < previous_end:
            return info
        name_bytes = len(info.orig_filename.encode("utf-8", errors="surrogateescape"))
        previous_end = info.header_offset + LOCAL_HEADER_BYTES + name_bytes + info.compress_size
    return None


def _member_parts(name: str) -> list[str]:
    """Path components of a member name, with a backslash read as a separator too."""
    return [part for part in re.split(r"[\\/]", name) if part not in ("", ".")]


def check_members(
    zip_file: zipfile.ZipFile,
    zip_path: Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: float = MAX_RATIO,
    max_files: int = MAX_FILES,
    dest_bytes: int = 0,
) -> list[zipfile.ZipInfo]:
    """Validate every member of an open zip; return them in archive order.

    ``dest_bytes`` is the length of the folder the zip will be extracted into: with it,
    no member path may exceed the system's path limit.

    Raises
    ------
    UnsafeArchiveError
        At the first unsafe member, naming it.
    """
    members = zip_file.infolist()
    if len(members) > max_files:
        raise UnsafeArchiveError(
            f"{zip_path.name}: {len(members)} members, more than the {max_files} allowed: "
            "zip fewer files (put many small files into one archive or data file)"
        )
    seen: set[str] = set()
    file_paths: set[tuple[str, ...]] = set()
    folder_paths: set[tuple[str, ...]] = set()
    total_size = 0
    total_compressed = 0
    for info in members:
        name = info.filename
        if not _member_parts(name):
            raise _unsafe(zip_path, name, "has an empty path", "rebuild the zip")
        if name.startswith(("/", "\\")):
            raise _unsafe(zip_path, name, "has an absolute path", "zip relative paths only")
        if _DRIVE_LETTER.match(name):
            raise _unsafe(zip_path, name, "starts with a drive letter", "zip relative paths only")
        if ".." in _member_parts(name):
            raise _unsafe(
                zip_path, name, "has a '..' component (it would be written outside the folder)",
                "zip relative paths without '..'",
            )
        encoded = [part.encode("utf-8", errors="surrogateescape") for part in _member_parts(name)]
        if any(len(part) > MAX_NAME_BYTES for part in encoded):
            raise _unsafe(zip_path, name, f"has a file or folder name longer than {MAX_NAME_BYTES} bytes, "
                          "which no file system stores", "give the file a shorter name")
        if dest_bytes + sum(len(part) + 1 for part in encoded) > MAX_PATH_BYTES:
            raise _unsafe(zip_path, name, f"has a path too long to extract (the system allows {MAX_PATH_BYTES} "
                          "bytes, with the folder it is unpacked into)", "use shorter or fewer nested folders")
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if file_type == stat.S_IFLNK:
            raise _unsafe(zip_path, name, "is a symbolic link", "zip the file it points to instead")
        if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise _unsafe(zip_path, name, "is a special file (device, pipe or socket)", "remove it")
        if info.flag_bits & 0x1:
            raise _unsafe(zip_path, name, "is encrypted", "zip it without a password")
        key = "/".join(_member_parts(name))
        if key in seen:
            raise _unsafe(zip_path, name, "appears twice", "rebuild the zip")
        seen.add(key)
        parts = tuple(_member_parts(name))
        if info.is_dir():
            folder_paths.add(parts)
        else:
            file_paths.add(parts)
            folder_paths.update(parts[:i] for i in range(1, len(parts)))
        if (
            info.file_size >= RATIO_MIN_BYTES
            and info.file_size > max_ratio * max(info.compress_size, 1)
        ):
            raise _unsafe(
                zip_path, name,
                f"inflates {info.file_size / max(info.compress_size, 1):.0f} times "
                f"(more than {max_ratio:g}: a zip bomb)", "do not upload such a file",
            )
        total_size += info.file_size
        total_compressed += info.compress_size
        if total_size > max_total_bytes:
            raise _unsafe(
                zip_path, name,
                f"brings the inflated size above {max_total_bytes / 1024**2:.0f} MiB",
                "submit less data",
            )
    if total_size >= RATIO_MIN_BYTES and total_size > max_ratio * max(total_compressed, 1):
        raise UnsafeArchiveError(
            f"{zip_path.name}: inflates {total_size / max(total_compressed, 1):.0f} times "
            f"overall (more than {max_ratio:g}: a zip bomb): do not upload such a file"
        )
    overlapping = _overlapping_member(members)
    if overlapping is not None:
        raise _unsafe(zip_path, overlapping.filename, "overlaps the data of another member (a zip bomb by "
                      "overlap)", "do not upload such a file")
    clashes = sorted(file_paths & folder_paths)
    if clashes:
        raise _unsafe(
            zip_path, "/".join(clashes[0]), "is both a file and a folder", "rebuild the zip"
        )
    return members
