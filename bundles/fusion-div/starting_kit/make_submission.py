"""Make a fusion-div submission from a Fusion class: a result zip (the run) or a code zip.

    python make_submission.py DATA_DIR                      # example_fusion.py, test split, run zip
    python make_submission.py DATA_DIR --fusion fusion.py --split dev
    python make_submission.py DATA_DIR --fusion fusion.py --code

DATA_DIR is the unzipped public data: DATA_DIR/dev/ (topics.csv, inducers/, rGT.csv,
dGT.csv) and DATA_DIR/test/ (topics.csv, inducers/). The Fusion is fitted on dev and
predicts the chosen split, as the platform's ingestion program does; its prediction is
checked with the same rules and the run keeps the top 50 photos of every query.
A result zip holds the run at its root; a code zip holds fusion.py and the `metadata`
file that tells the platform it is code.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# The built starting kit holds fusion_io.py and scoring_common/ beside this file; in the
# kit's source tree they are in the ingestion program and at the repository root.
sys.path[:0] = [str(_HERE)] if (_HERE / "fusion_io.py").is_file() else [str(_HERE.parent / "ingestion_program"),
                                                                         str(_HERE.parents[2])]

import fusion_io  # noqa: E402
from scoring_common.starting_kit import make_submission  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    return make_submission(fusion_io, __doc__, _HERE / "example_fusion.py", argv)


if __name__ == "__main__":
    raise SystemExit(main())
