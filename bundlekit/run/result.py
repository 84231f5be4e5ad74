"""The outcome of a run, as the platform would report it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


class StepFailure(Exception):
    """Ends one submission's run as failed, with a one-line reason."""


@dataclass
class RunResult:
    """Outcome of one submission, as the platform would report it.

    Attributes
    ----------
    submission : str
        The submission zip.
    status : {"finished", "failed"}
        Platform status.
    reason : str or None
        Why it failed, in one line.
    scores : dict
        What the scoring program wrote, by key (empty when it exited non-zero).
    leaderboard : list of (key, title, value)
        The first leaderboard's row, computed columns filled as the platform does.
    times : dict
        ``prediction_s``, ``scoring_s`` and the numeric figures of ``timing.json``.
    logs_dir : str
        The run folder: step logs, prediction/output, scoring/output, result.json.
    detailed_results : str or None
        Path of the scoring step's HTML report, if any.
    warnings : list of str
        Things that worked here but deserve attention on the platform.
    prediction_exit_code, scoring_exit_code : int or None
        Exit codes of the steps' last program (None when it did not run).
    note : str or None
        What a finished run means when it is not a score (a participant kit's test check).
    """

    submission: str
    status: Literal["finished", "failed"]
    reason: str | None
    scores: dict[str, float]
    leaderboard: list[tuple[str, str, float | None]]
    times: dict[str, float]
    logs_dir: str
    detailed_results: str | None
    warnings: list[str] = field(default_factory=list)
    prediction_exit_code: int | None = None
    scoring_exit_code: int | None = None
    note: str | None = None


def result_to_json(result: RunResult) -> dict[str, Any]:
    data = asdict(result)
    data["leaderboard"] = [list(entry) for entry in result.leaderboard]
    return data
