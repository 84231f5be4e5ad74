"""Host-side tooling of the ImageCLEFfusion kit: build, check, run and scaffold bundles."""

from pathlib import Path

__version__ = "0.1.0"

#: The kit's source checkout, its tasks and outputs (the tests and benchmarks use them;
#: commands find the user's project instead: bundlekit.project).
REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLES_DIR = REPO_ROOT / "bundles"
DIST_DIR = REPO_ROOT / "dist"
#: The kit's pinned image; bundles' `docker_image` defaults to it. Never `latest`.
DEFAULT_IMAGE = f"imageclef/fusion-kit:{__version__}"
