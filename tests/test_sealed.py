"""Sealed per-item scores of a hidden split, opened with the organisers' bundle only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundlekit.build import BuildOptions, build_task
from bundlekit.sealed import bundle_keys, open_sealed
from bundlekit.scaffold import create_task
from scoring_output import check_per_item_scores, score_split

pytestmark = pytest.mark.slow


def test_the_bundle_opens_the_hidden_splits_per_item_scores(tmp_path: Path):
    sources = tmp_path / "bundles"
    create_task("sealed-check", "ranking", dest=sources)
    built = build_task("sealed-check", BuildOptions(bundles_dir=sources, out=tmp_path / "dist", check=False,
                                                   progress=lambda message: None))
    output, scores = score_split(built.bundle_dir, "test", tmp_path / "scored")
    assert (output / "per_item_scores.sealed").is_file() and not (output / "per_item_scores.csv").exists()
    expected = check_per_item_scores(output, scores)  # opened with the reference data beside it

    assert open_sealed(output, bundle_keys(built.bundle_zip))
    assert (output / "per_item_scores.csv").is_file()
    assert check_per_item_scores(output, scores) == expected

    other = tmp_path / "other"
    other.mkdir()
    (other / "per_item_scores.sealed").write_bytes((output / "per_item_scores.sealed").read_bytes())
    assert not open_sealed(other, [b"\0" * 32])
    assert not (other / "per_item_scores.csv").exists()
