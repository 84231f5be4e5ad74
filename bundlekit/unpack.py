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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bundlekit import safe_yaml
from bundlekit.platform_rules import upload_name_problem
from scoring_common.check_submission import METADATA_NAMES
from scoring_common.zip_members import (  # noqa: F401 (re-exported)
    MAX_FILES, MAX_NAME_BYTES, MAX_PATH_BYTES, MAX_RATIO, MAX_TOTAL_BYTES, RATIO_MIN_BYTES, ArchiveError,
    UnsafeArchiveError, _member_parts, _unsafe, check_members,
)

#: Largest `metadata` file :func:`inspect_submission` reads.
MAX_METADATA_BYTES = 1024**2
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024**2


def _is_plain_relative(name: str) -> bool:
    """Whether a member name is relative, without drive letter or '..' component."""
    return not name.startswith(("/", "\\")) and not _DRIVE_LETTER.match(name) and ".." not in _member_parts(name)


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
