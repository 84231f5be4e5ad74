"""Safe extraction of zips and the look inside a submission (bundlekit.unpack)."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from bundlekit.unpack import (
    ArchiveError,
    UnsafeArchiveError,
    inspect_submission,
    safe_extract,
)

GOOD_MEMBERS = {"answers.txt": "2\n4\n", "sub/notes.txt": "hello\n"}


def make_zip(path: Path, members: dict[str, str | bytes], *, unsafe: zipfile.ZipInfo | None = None,
             unsafe_data: bytes = b"x") -> Path:
    """A zip with ``members`` first and, last, one crafted member."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if unsafe is not None:
            archive.writestr(unsafe, unsafe_data)
    return path


def crafted(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def test_extracts_files_without_executable_bits(tmp_path: Path) -> None:
    executable = crafted("run.sh", stat.S_IFREG | 0o755)
    archive = make_zip(tmp_path / "ok.zip", GOOD_MEMBERS, unsafe=executable, unsafe_data=b"echo hi\n")
    dest = tmp_path / "out"
    assert safe_extract(archive, dest) == ["answers.txt", "sub/notes.txt", "run.sh"]
    assert (dest / "sub" / "notes.txt").read_text() == "hello\n"
    assert not (dest / "run.sh").stat().st_mode & 0o111  # lost, as on the platform


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (crafted("/etc/evil"), "absolute path"),
        (crafted("\\windows\\evil"), "absolute path"),
        (crafted("C:/evil.txt"), "drive letter"),
        (crafted("../evil.txt"), "'..' component"),
        (crafted("sub/../../evil.txt"), "'..' component"),
        (crafted("sub\\..\\..\\evil.txt"), "'..' component"),
        (crafted("link", stat.S_IFLNK | 0o777), "symbolic link"),
        (crafted("fifo", stat.S_IFIFO | 0o644), "special file"),
        (crafted("answers.txt"), "appears twice"),
        (crafted("sub"), "both a file and a folder"),
    ],
    ids=["absolute", "absolute-backslash", "drive", "dotdot", "nested-dotdot", "backslash-dotdot",
         "symlink", "fifo", "duplicate", "file-and-folder"],
)
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_unsafe_member_rejected_before_anything_is_written(tmp_path: Path, member: zipfile.ZipInfo,
                                                             expected: str) -> None:
    archive = make_zip(tmp_path / "bad.zip", GOOD_MEMBERS, unsafe=member, unsafe_data=b"/etc/passwd")
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=expected) as raised:
        safe_extract(archive, dest)
    message = str(raised.value)
    assert "\n" not in message and "bad.zip" in message
    assert not dest.exists()  # the good members before it were not written either
    assert not (tmp_path / "evil.txt").exists()


def test_zip_bomb_member_rejected(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", GOOD_MEMBERS, unsafe=crafted("zeros.bin"),
                       unsafe_data=bytes(30 * 1024**2))
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=r"'zeros.bin' inflates \d+ times .*zip bomb"):
        safe_extract(archive, dest)
    assert not dest.exists()


def test_total_size_bound(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "big.zip", {"a.txt": "a" * 600, "b.txt": "b" * 600})
    with pytest.raises(UnsafeArchiveError, match="'b.txt' brings the inflated size above"):
        safe_extract(archive, tmp_path / "out", max_total_bytes=1000)
    assert not (tmp_path / "out").exists()


def test_too_many_files(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "many.zip", {f"f{i}.txt": "x" for i in range(6)})
    with pytest.raises(UnsafeArchiveError, match="6 members, more than the 5 allowed"):
        safe_extract(archive, tmp_path / "out", max_files=5)
    assert not (tmp_path / "out").exists()


def test_small_compressible_files_are_fine(tmp_path: Path) -> None:
    # 500 KB of zeros inflates ~1000 times, but small members are not ratio-checked.
    archive = make_zip(tmp_path / "zeros.zip", {"zeros.txt": bytes(500 * 1024)})
    assert safe_extract(archive, tmp_path / "out") == ["zeros.txt"]


def test_not_a_zip(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip")
    with pytest.raises(ArchiveError, match="not a valid zip"):
        safe_extract(fake, tmp_path / "out")
    with pytest.raises(ArchiveError, match="no such file"):
        inspect_submission(tmp_path / "missing.zip")


def test_inspect_result_zip(tmp_path: Path) -> None:
    info = inspect_submission(make_zip(tmp_path / "r.zip", {"answers.txt": "1\n"}))
    assert (info.is_code, info.command, info.warnings) == (False, None, [])


def test_inspect_code_zip(tmp_path: Path) -> None:
    # As the starting kit's make_submission.py --code and the build write it.
    code = make_zip(tmp_path / "c.zip", {"fusion.py": "print(1)\n", "metadata": "command: python3 -c pass\n"})
    info = inspect_submission(code)
    assert (info.is_code, info.command, info.warnings) == (True, "python3 -c pass", [])
    with_command = make_zip(tmp_path / "d.zip", {"metadata.yaml": "command: python3 run.py\n"})
    assert inspect_submission(with_command).command == "python3 run.py"


@pytest.mark.parametrize("content", ["description: mine\n", "command:\n", "not: [valid yaml\n"])
def test_code_zip_with_metadata_but_no_command_warns(tmp_path: Path, content: str) -> None:
    code = make_zip(tmp_path / "c.zip", {"fusion.py": "print(1)\n", "metadata": content})
    [warning] = inspect_submission(code).warnings
    assert "'metadata' at the zip root has no 'command'" in warning and "Metadata file not found" in warning
    assert "add `command: python3 -c pass` (the starting kit's make_submission.py --code writes it)" in warning
    assert "\n" not in warning


@pytest.mark.parametrize("name", ["metadata", "metadata.yaml"])
def test_result_zip_with_metadata_but_no_command_warns(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "r.zip", {"answers.txt": "1\n", name: "author: me\n"})
    info = inspect_submission(archive)
    assert info.is_code
    assert len(info.warnings) == 1
    assert f"'{name}' at the zip root has no 'command'" in info.warnings[0]
    assert "Metadata file not found" in info.warnings[0]


def test_inspect_warns_about_wrapped_code_and_macos_files(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "w.zip", {
        "mysub/fusion.py": "1\n", "__MACOSX/mysub/._fusion.py": "x", "mysub/.DS_Store": "x",
    })
    warnings = inspect_submission(archive).warnings
    assert any("macOS metadata" in w for w in warnings)
    assert any("fusion.py is inside the folder 'mysub/'" in w for w in warnings)
    assert all("\n" not in w for w in warnings)


def test_a_run_inside_a_folder_gets_no_warning(tmp_path: Path) -> None:
    # The platform copies the zip as the prediction output and the scorer finds the run in sub-folders.
    assert inspect_submission(make_zip(tmp_path / "w.zip", {"mysub/run.csv": "1\n"})).warnings == []


def test_inspect_warns_about_a_timing_file(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "t.zip", {"run.csv": "1\n", "timing.json": "{}"})
    [warning] = inspect_submission(archive).warnings
    assert "'timing.json', which is reserved for the ingestion program" in warning


@pytest.mark.parametrize(
    "members",
    [["/home/me/sub/answers.txt"], ["../sub/answers.txt", "../sub/notes.txt"], ["C:/sub/answers.txt"]],
    ids=["absolute", "dotdot", "drive"],
)
def test_no_wrapping_folder_warning_for_unsafe_members(tmp_path: Path, members: list[str]) -> None:
    with zipfile.ZipFile(tmp_path / "u.zip", "w") as archive:
        for name in members:
            archive.writestr(zipfile.ZipInfo(name), "1\n")
    assert not any("inside the folder" in w for w in inspect_submission(tmp_path / "u.zip").warnings)


def test_wrapping_folder_warning_ignores_unsafe_members(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "w.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo("/abs/evil.txt"), "x")
        archive.writestr("mysub/fusion.py", "1\n")
    [warning] = inspect_submission(tmp_path / "w.zip").warnings
    assert "inside the folder 'mysub/'" in warning
