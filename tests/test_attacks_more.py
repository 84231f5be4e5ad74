"""More participant attacks and mistakes, found by the red team on the merged kit.

Each case was accepted (or gave a misleading message) before its fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring_common.errors import ParticipantError
from scoring_common.formats.concepts import read_run

IMAGES = [f"img_{i:04d}" for i in range(30)]


@pytest.mark.parametrize("line_concepts", ["C0000001", "C0000001;C0000002"])
def test_swapped_concept_columns_are_named_swapped(tmp_path: Path, line_concepts: str) -> None:
    (tmp_path / "run.csv").write_text("".join(f"{line_concepts}|{image}\n" for image in IMAGES))
    with pytest.raises(ParticipantError) as caught:
        read_run(tmp_path / "run.csv", {image: n for n, image in enumerate(IMAGES)}, {})
    message = str(caught.value)
    assert "columns look swapped" in message and "'img_0000'" in message and "image_id|CUI;CUI;..." in message
    assert "appears twice" not in message
