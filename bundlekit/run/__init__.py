"""Run submissions against a built bundle the way the platform's compute worker does.

Prediction step: a submission without ``metadata``/``metadata.yaml`` at its root is
copied into the prediction output; one whose metadata has a ``command`` runs in its own
container; then, when the task has an ingestion program, it runs with the submission
mounted at /app/ingested_program (reference data is never mounted here). Scoring step:
the scoring program reads /app/input/ref and /app/input/res and writes /app/output.
After each step the worker's own ``metadata`` file is written into the step's output.

In Docker (the default when an engine is reachable) every program runs in its own
container of the bundle's image with every capability dropped, no-new-privileges, no
network, and memory and process limits. Without Docker (``--no-docker``) the same
commands run as local processes, with /app/... mapped to a folder of the run and a
minimal environment, but with no process, memory or network isolation: run only code you
trust. Each stream of a program is logged up to LOG_CAP_BYTES; the runner never follows
a symbolic link that a program left in a folder it reads back.
"""

from bundlekit.bundle_model import BundleError
from bundlekit.run.bundle import Bundle
from bundlekit.run.cli import collect_submissions, configure_parser, run_command
from bundlekit.run.commands import read_metadata
from bundlekit.run.docker_engine import docker_available, image_available
from bundlekit.run.result import RunResult, result_to_json
from bundlekit.run.session import run_folder_name, run_many, run_submission

__all__ = [
    "Bundle", "BundleError", "RunResult", "collect_submissions", "configure_parser", "docker_available",
    "image_available", "read_metadata", "result_to_json", "run_command", "run_folder_name", "run_many",
    "run_submission",
]
