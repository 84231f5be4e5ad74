"""Every task's own tests (``bundles/<task>/tests/``, e.g. a custom metric's) pass.

pytest collects ``tests/`` only (pyproject's testpaths), so a task's own test folder runs
here, in a pytest of its own (each task loads its programs by path, under its own names).
A repository without such folders has no case here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bundlekit import BUNDLES_DIR, REPO_ROOT

TASK_TESTS = sorted(path for path in BUNDLES_DIR.glob("*/tests") if path.is_dir())


@pytest.mark.parametrize("tests_dir", TASK_TESTS, ids=[f"bundles/{path.parent.name}/tests" for path in TASK_TESTS])
def test_task_tests_pass(tests_dir: Path):
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests_dir)],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
