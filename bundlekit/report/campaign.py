"""Reading a campaign: the folder `bundlekit results` writes (C5) or a folder of local runs.

C5 layout: ``competition.json``, ``submissions.csv`` and ``submissions/<id>/`` with
``submission.json`` and ``scoring_output/``. Local layout (``bundlekit run --output OUT
--json``): ``OUT/<run>/result.json`` and ``OUT/<run>/scoring/output/``. Only finished
submissions with scores count; of a submission and its re-runs (``rerun_of``: the same
upload scored again) only the latest finished one counts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundlekit.report.per_item import ItemScores, PerItemError, read_scoring_output
from scoring_common.program import COST_KEYS

#: timing.json figures a local run's result.json carries, for runs scored before C4's keys existed.
LOCAL_COST_FALLBACK = {"time_s": "wall_s", "cpu_s": "cpu_s", "memory_mib": "peak_memory_mib"}
#: Keys sorted ascending when the campaign does not say.
ASCENDING_KEYS = frozenset({*COST_KEYS, "rmse", "mae", "mse"})
#: A local run named TEAM--RUN belongs to TEAM; any other name is its own team.
TEAM_SEPARATOR = "--"


class CampaignError(ValueError):
    """The folder is no campaign the report can read (one-line message)."""


@dataclass
class Run:
    """One scored run (a submission of the platform or a local run)."""

    id: str
    team: str
    phase: str | None
    date: str | None
    scores: dict[str, float]
    fact_sheet: dict[str, Any] = field(default_factory=dict)
    scoring_output: Path | None = None
    per_item: ItemScores | None = None
    per_item_problem: str | None = None


@dataclass
class Campaign:
    """Everything the report needs about a campaign."""

    title: str
    primary_metric: str
    columns: list[dict[str, str]]
    phases: list[str]
    runs: list[Run]
    layout: str  # "results" (C5) or "local"

    def sorting(self, key: str) -> str:
        """``"asc"`` or ``"desc"``: how the leaderboard sorts ``key``."""
        for column in self.columns:
            if column["key"] == key:
                return column.get("sorting", "desc")
        return "asc" if key in ASCENDING_KEYS else "desc"

    def title_of(self, key: str) -> str:
        for column in self.columns:
            if column["key"] == key:
                return column.get("title", key)
        return key


def load_campaign(folder: Path, keys: list[bytes] = ()) -> Campaign:
    """Read ``folder`` in whichever of the two layouts it has; ``keys`` open sealed per-item scores."""
    folder = Path(folder)
    if (folder / "competition.json").is_file():
        return _load_results(folder, list(keys))
    if folder.is_dir() and any(path.is_file() for path in folder.glob("*/result.json")):
        return _load_local(folder, list(keys))
    raise CampaignError(f"{folder}: neither a results folder (competition.json, from bundlekit results) "
                        "nor a folder of local runs (<run>/result.json, from bundlekit run --output DIR --json)")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CampaignError(f"{path}: not readable JSON ({exc})") from None


def _numeric_scores(scores: Any) -> dict[str, float]:
    """The finite numeric scores (numbers, or numbers written as strings as some APIs return them)."""
    if not isinstance(scores, dict):
        return {}
    numeric = {}
    for key, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            continue
        try:
            number = float(value)
        except ValueError:
            continue
        if math.isfinite(number):
            numeric[str(key)] = number
    return numeric


def _attach_per_item(run: Run, keys: list[bytes]) -> None:
    try:
        run.per_item = read_scoring_output(run.scoring_output, keys)
    except (OSError, PerItemError) as exc:
        run.per_item_problem = str(exc)


def _load_results(folder: Path, keys: list[bytes]) -> Campaign:
    competition = _read_json(folder / "competition.json")
    try:
        primary = str(competition["primary_metric"])
        columns = [{"key": str(c["key"]), "title": str(c.get("title", c["key"])),
                    "sorting": str(c.get("sorting", "desc"))} for c in competition.get("columns", [])]
        phases = [str(p.get("name", p.get("id"))) for p in competition.get("phases", [])]
    except (KeyError, TypeError, AttributeError) as exc:
        raise CampaignError(f"{folder / 'competition.json'}: missing or malformed field {exc}") from None
    latest: dict[str, tuple[tuple, Run]] = {}
    for path in sorted((folder / "submissions").glob("*/submission.json")):
        data = _read_json(path)
        if str(data.get("status", "")).lower() != "finished":
            continue
        scores = _numeric_scores(data.get("scores"))
        if primary not in scores:
            continue
        run = Run(id=str(data.get("id", path.parent.name)), team=str(data.get("team") or data.get("owner") or "?"),
                  phase=None if data.get("phase") is None else str(data["phase"]), date=data.get("date"),
                  scores=scores, fact_sheet=dict(data.get("fact_sheet_answers") or {}),
                  scoring_output=path.parent / "scoring_output")
        # A submission and its re-runs (same upload): the latest finished one stands for them.
        original = str(data["rerun_of"]) if data.get("rerun_of") is not None else run.id
        order = (str(run.date or ""), int(run.id) if run.id.isdigit() else 0, run.id)
        if original not in latest or order > latest[original][0]:
            latest[original] = (order, run)
    runs = [run for _, run in sorted(latest.values(), key=lambda entry: entry[0])]
    for run in runs:
        _attach_per_item(run, keys)
    return Campaign(title=str(competition.get("title", folder.name)), primary_metric=primary, columns=columns,
                    phases=phases, runs=runs, layout="results")


def _load_local(folder: Path, keys: list[bytes]) -> Campaign:
    runs: list[Run] = []
    columns: list[dict[str, str]] = []
    for path in sorted(folder.glob("*/result.json")):
        data = _read_json(path)
        if data.get("status") != "finished":
            continue
        scores = _numeric_scores(data.get("scores"))
        times = data.get("times") or {}
        for key, time_key in LOCAL_COST_FALLBACK.items():
            if key not in scores and isinstance(times.get(time_key), (int, float)):
                scores[key] = float(times[time_key])
        if not columns:
            columns = [{"key": str(entry[0]), "title": str(entry[1]),
                        "sorting": "asc" if entry[0] in ASCENDING_KEYS else "desc"}
                       for entry in data.get("leaderboard") or []]
        name = path.parent.name
        team = name.split(TEAM_SEPARATOR, 1)[0] if TEAM_SEPARATOR in name else name
        run = Run(id=name, team=team, phase=None, date=None, scores=scores,
                  scoring_output=path.parent / "scoring" / "output")
        _attach_per_item(run, keys)
        runs.append(run)
    if not runs:
        raise CampaignError(f"{folder}: no finished run (every result.json has status failed)")
    primary = columns[0]["key"] if columns else sorted(runs[0].scores)[0]
    return Campaign(title=folder.name, primary_metric=primary, columns=columns, phases=[], runs=runs,
                    layout="local")
