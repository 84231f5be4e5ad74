"""Safe unpacking of submission and bundle zips, and a look inside a submission.

:func:`safe_extract` checks every member of a zip before it writes anything: no
absolute path, drive letter or ``..`` component, no symlink or special file, no
duplicate names, and no zip bomb (too many files, too many bytes once inflated, or an
absurd compression ratio). Extracted files get default permissions, as on the platform,
whose unzip loses executable bits.

:func:`inspect_submission` tells whether the platform will take a submission for code
and warns about layouts the platform mishandles.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bundlekit import safe_yaml
from bundlekit.platform_rules import upload_name_problem

#: Default bound on the total inflated size of an archive.
MAX_TOTAL_BYTES = 2 * 1024**3
#: Default bound on the inflated/compressed ratio, per member and overall.
MAX_RATIO = 200
#: Default bound on the number of members (files and folders).
MAX_FILES = 10_000
#: Members (and archives) smaller than this are not ratio-checked: small text compresses well.
RATIO_MIN_BYTES = 1024**2
#: Largest `metadata` file :func:`inspect_submission` reads.
MAX_METADATA_BYTES = 1024**2
#: Names of the file that marks a code submission (the platform checks them in this order).
METADATA_NAMES = ("metadata.yaml", "metadata")
#: Longest file or folder name, in bytes, that Linux file systems store.
MAX_NAME_BYTES = 255
#: Longest path, in bytes, the kernel accepts (PATH_MAX, with its terminating NUL).
MAX_PATH_BYTES = 4095
#: Bytes of a zip's local file header before the member's name.
LOCAL_HEADER_BYTES = 30
#: Characters of an over-long member name shown in a message.
SHOWN_NAME_CHARS = 60

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024**2


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


def _is_plain_relative(name: str) -> bool:
    """Whether a member name is relative, without drive letter or '..' component."""
    return not name.startswith(("/", "\\")) and not _DRIVE_LETTER.match(name) and ".." not in _member_parts(name)


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


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise ArchiveError(f"{zip_path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(f"{zip_path.name}: not a valid zip file ({error})") from None


def safe_extract(
    zip_path: Path | str,
    dest: Path | str,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: float = MAX_RATIO,
    max_files: int = MAX_FILES,
) -> list[str]:
    """Extract a zip into ``dest`` after validating all of its members.

    Parameters
    ----------
    zip_path : path
        The archive.
    dest : path
        Destination folder, created if missing.
    max_total_bytes, max_ratio, max_files : number
        Zip-bomb bounds: total inflated size, inflated/compressed ratio (of any member
        of at least 1 MiB, and of the whole archive), number of members.

    Returns
    -------
    list of str
        The extracted files (not folders), as posix paths relative to ``dest``, in
        archive order.

    Raises
    ------
    UnsafeArchiveError
        Before anything is written, when a member is unsafe.
    ArchiveError
        When the file is not a readable zip.
    """
    zip_path = Path(zip_path)
    dest = Path(dest)
    with _open_zip(zip_path) as zip_file:
        root = dest.resolve()
        members = check_members(
            zip_file, zip_path,
            max_total_bytes=max_total_bytes, max_ratio=max_ratio, max_files=max_files,
            dest_bytes=len(os.fsencode(root)),
        )
        dest.mkdir(parents=True, exist_ok=True)
        written: list[str] = []
        for info in members:
            # Same target as zipfile.extract: a backslash stays part of the file name.
            relative = PurePosixPath(*[p for p in info.filename.split("/") if p not in ("", ".")])
            target = root / relative
            if not target.resolve().is_relative_to(root):
                raise _unsafe(zip_path, info.filename, "resolves outside the destination", "rebuild the zip")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zip_file.open(info) as source, open(target, "wb") as sink:
                    while chunk := source.read(_CHUNK):
                        sink.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
                raise ArchiveError(f"{zip_path.name}: member {info.filename!r} cannot be read ({error})") from None
            written.append(relative.as_posix())
    return written


@dataclass
class SubmissionInfo:
    """What the platform will make of a submission zip.

    Attributes
    ----------
    path : str
        The zip.
    is_code : bool
        A ``metadata`` or ``metadata.yaml`` sits at the zip root: the platform takes the
        zip for code and does not copy it into the prediction output.
    command : str or None
        The ``command`` of that metadata, if any: the platform then runs the submission
        itself in its own container.
    files : list of str
        Member names, in archive order.
    warnings : list of str
        One-line warnings about layouts the platform mishandles.
    """

    path: str
    is_code: bool
    command: str | None
    files: list[str]
    warnings: list[str] = field(default_factory=list)


def _metadata_command(zip_file: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """The ``command`` of a metadata member, or None when absent or unreadable."""
    import yaml

    if info.file_size > MAX_METADATA_BYTES:
        return None
    try:
        content = safe_yaml.load(zip_file.read(info).decode("utf-8", errors="replace"))
    except (yaml.YAMLError, safe_yaml.YamlLimitError, zipfile.BadZipFile, NotImplementedError):
        return None
    command = content.get("command") if isinstance(content, dict) else None
    return str(command) if command else None


def inspect_submission(zip_path: Path | str) -> SubmissionInfo:
    """Look inside a submission zip the way the platform will.

    Raises
    ------
    ArchiveError
        When the file is not a readable zip.
    """
    zip_path = Path(zip_path)
    with _open_zip(zip_path) as zip_file:
        infos = zip_file.infolist()
        by_name = {info.filename: info for info in infos}
        metadata_name = next((name for name in METADATA_NAMES if name in by_name), None)
        command = _metadata_command(zip_file, by_name[metadata_name]) if metadata_name else None
    names = [info.filename for info in infos]
    files = [info.filename for info in infos if not info.is_dir()]
    warnings: list[str] = []
    where = zip_path.name
    too_long = upload_name_problem(where)
    if too_long is not None:
        warnings.append(f"{too_long}: rename the zip before submitting it")
    if not files:
        warnings.append(f"{where}: the zip holds no file")
    if metadata_name and not command:
        warnings.append(
            f"{where}: '{metadata_name}' at the zip root has no 'command': the platform takes the zip "
            "for code and fails it (\"Metadata file not found\"); add `command: python3 -c pass` (the "
            f"starting kit's make_submission.py --code writes it), or remove '{metadata_name}' from a results zip"
        )
    macos = sorted({name for name in names if name.startswith("__MACOSX/") or PurePosixPath(name).name == ".DS_Store"})
    if macos:
        warnings.append(
            f"{where}: holds macOS metadata ({macos[0]}{' ...' if len(macos) > 1 else ''}): "
            f"remove it with: zip -d {where} '__MACOSX/*' '*.DS_Store'"
        )
    if "timing.json" in by_name:
        warnings.append(
            f"{where}: holds 'timing.json', which is reserved for the ingestion program's measurement "
            "of code submissions: the submission fails; remove it from the zip"
        )
    # Unsafe (absolute, '..') members are refused at extraction: no layout advice for them.
    significant = [name for name in names if name not in macos and _is_plain_relative(name)]
    top_levels = {_member_parts(name)[0] for name in significant if _member_parts(name)}
    # A run inside a folder is scored (the scorer searches sub-folders); fusion.py is only looked for at the root.
    nested_code = [name for name in significant if _member_parts(name)[-1] == "fusion.py" and len(_member_parts(name)) > 1]
    if (
        len(top_levels) == 1
        and all(len(_member_parts(name)) > 1 or name.endswith("/") for name in significant)
        and nested_code
    ):
        folder = top_levels.pop()
        warnings.append(
            f"{where}: fusion.py is inside the folder '{folder}/', but the platform looks for it at the "
            f"zip root, so it reads the zip as results and finds no run: zip the files themselves "
            f"(cd {folder} && zip -r ../{where} .)"
        )
    return SubmissionInfo(
        path=str(zip_path), is_code=metadata_name is not None, command=command,
        files=names, warnings=warnings,
    )
