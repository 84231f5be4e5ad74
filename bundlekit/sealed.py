"""Opening the sealed per-item scores of hidden splits with the organisers' bundle.

A scorer writes ``per_item_scores.sealed`` on a hidden split (``scoring_common.seal``);
its key comes from that split's reference data, which only the organisers' bundle holds.
"""

from __future__ import annotations

from pathlib import Path

from scoring_common.program import PER_ITEM_FILE, SEALED_PER_ITEM_FILE
from scoring_common.seal import SealError, reference_key, unseal


def bundle_keys(bundle: Path) -> list[bytes]:
    """The keys of every reference data set of a bundle (a folder or a zip)."""
    from bundlekit.run import Bundle  # noqa: PLC0415

    with Bundle(Path(bundle)) as model:
        references = {task.reference_data for phase in model.phases for task in phase.tasks if task.reference_data}
        return [reference_key(model.materialize(reference)) for reference in sorted(references)]


def open_sealed(scoring_output: Path, keys: list[bytes]) -> bool:
    """Write ``per_item_scores.csv`` beside the sealed file it opens; False when no key opens it."""
    sealed = scoring_output / SEALED_PER_ITEM_FILE
    if not sealed.is_file():
        return False
    text = sealed.read_text(encoding="utf-8")
    for key in keys:
        try:
            opened = unseal(text, key)
        except SealError:
            continue
        (scoring_output / PER_ITEM_FILE).write_text(opened, encoding="utf-8")
        return True
    return False
