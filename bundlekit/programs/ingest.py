"""Ingestion program: runs a code submission's fusion.py, or passes results through.

Usage: python3 ingest.py INPUT_DIR OUTPUT_DIR SUBMISSION_DIR TIME_LIMIT_SECONDS
(see scoring_common/ingestion.py; the task's data loaders are in fusion_io.py).
"""
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A built program carries scoring_common beside this file; the source tree has it 3 levels up.
sys.path.insert(0, str(_HERE if (_HERE / "scoring_common").is_dir() else _HERE.parents[2]))
sys.path.insert(0, str(_HERE))

from scoring_common.ingestion import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(__file__))
