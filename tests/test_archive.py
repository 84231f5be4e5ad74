"""The bundle's zip writer: zipfile's bytes exactly, deterministic, each content deflated once."""

import zipfile
from pathlib import Path

import pytest

from bundlekit.archive import COMPRESS_LEVEL, FIXED_DATE, STORED_SUFFIXES, DeflateCache, iter_files, zip_directory


def zipfile_reference(source: Path, destination: Path) -> None:
    """The same archive written by the standard library, entry for entry."""
    with zipfile.ZipFile(destination, "w") as archive:
        for path in iter_files(source):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_DATE)
            info.external_attr = 0o100644 << 16
            stored = path.suffix.lower() in STORED_SUFFIXES
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=None if stored else COMPRESS_LEVEL)


def sample_tree(root: Path) -> Path:
    files = {
        "data/predict/inducers/inducer_01.csv": b"image_id|concepts\n" + b"img_1|C1;C2\n" * 2000,
        "data/train/inducers/inducer_01.csv": b"image_id|concepts\n" + b"img_1|C1;C2\n" * 2000,  # same bytes
        "empty.txt": b"",
        "caf\u00e9/r\u00e9sum\u00e9.md": "d\u00e9j\u00e0 vu\n".encode(),
        "inner.zip": bytes(range(256)) * 40,
        "__pycache__/skipped.pyc": b"never packed",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_the_archive_has_the_bytes_zipfile_writes(tmp_path):
    source = sample_tree(tmp_path / "tree")
    zipfile_reference(source, tmp_path / "reference.zip")
    zip_directory(source, tmp_path / "ours.zip")
    assert (tmp_path / "ours.zip").read_bytes() == (tmp_path / "reference.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "ours.zip") as archive:
        assert archive.testzip() is None
        assert "caf\u00e9/r\u00e9sum\u00e9.md" in archive.namelist()
        assert archive.getinfo("inner.zip").compress_type == zipfile.ZIP_STORED


def test_a_shared_cache_deflates_each_content_once_and_changes_no_byte(tmp_path):
    source = sample_tree(tmp_path / "tree")
    zip_directory(source, tmp_path / "alone.zip")
    cache = DeflateCache()
    zip_directory(source, tmp_path / "first.zip", cache)
    zip_directory(source, tmp_path / "second.zip", cache)
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes() \
        == (tmp_path / "alone.zip").read_bytes()
    assert len(cache._by_digest) == 3  # the two identical inducer files share one entry


def test_an_archive_past_the_zip32_limit_is_a_one_line_build_error(tmp_path: Path, monkeypatch) -> None:
    from bundlekit import archive, build

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.csv").write_bytes(b"x" * 100)
    monkeypatch.setattr(archive, "_ZIP32_LIMIT", 50)
    with pytest.raises(build.BuildError, match=r"^data\.zip would pass 2 GiB at big\.csv .*keep the bundle under"):
        build._zip(tmp_path / "data", tmp_path / "data.zip")
