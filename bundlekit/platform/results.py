"""Collect a campaign: `bundlekit results COMPETITION --out DIR`.

Every submission of every phase (as the competition's organiser sees them), with its
owner, date, status, scores, fact-sheet answers and its extracted scoring output, into::

    DIR/competition.json   {"id", "title", "url", "primary_metric", "columns": [{"key", "title", "sorting"}],
                            "phases": [{"id", "name"}]}
    DIR/submissions.csv    one row per submission: id,phase,owner,team,date,status,<score keys...>
    DIR/submissions/<id>/submission.json   {"id", "phase", "owner", "team", "date", "status",
                            "scores": {key: float}, "fact_sheet_answers": {...}, "rerun_of": null | id}
    DIR/submissions/<id>/scoring_output/   scores.json, detailed_results.html, per_item_scores.csv (on a
                                           hidden split per_item_scores.sealed, opened with --bundle)...

``rerun_of`` is the earliest submission of the same phase made from the same uploaded
file (the platform reruns a submission by reusing its upload). ``bundlekit report`` reads
this folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from bundlekit.platform.client import Platform, PlatformError, as_submitted, end_progress, progress_printer
from bundlekit.platform.common import add_competition_argument, guarded
from bundlekit.bundle_model import BundleError
from bundlekit.sealed import bundle_keys, open_sealed

BASE_COLUMNS = ["id", "phase", "owner", "team", "date", "status"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_competition_argument(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="the campaign folder to write")
    parser.add_argument("--bundle", type=Path, metavar="BUNDLE",
                        help="the organisers' bundle (zip or folder): opens the sealed per-item scores of the "
                             "hidden splits into per_item_scores.csv")


def campaign_columns(competition: dict) -> list[dict]:
    """The leaderboard's columns (key, title, sorting), first leaderboard first, in column order."""
    columns: list[dict] = []
    for board in competition.get("leaderboards") or []:
        for column in sorted(board.get("columns") or [], key=lambda c: c.get("index", 0)):
            if column["key"] not in {c["key"] for c in columns}:
                columns.append({"key": column["key"], "title": column.get("title", column["key"]),
                                "sorting": column.get("sorting", "desc")})
    return columns


def primary_metric(competition: dict, columns: list[dict]) -> str | None:
    """The key of the leaderboard's primary column (its ``primary_index``), else the first column."""
    for board in competition.get("leaderboards") or []:
        for column in board.get("columns") or []:
            if column.get("index") == board.get("primary_index", 0):
                return column["key"]
    return columns[0]["key"] if columns else None


def originals(submissions: list[dict], data_files: dict[int, str]) -> dict[int, int | None]:
    """Submission id -> the id it reruns (the earliest one made from the same upload), or None."""
    first: dict[tuple, int] = {}
    rerun_of: dict[int, int | None] = {}
    for submission in sorted(submissions, key=lambda s: (s.get("created_when") or "", s["id"])):
        upload = (submission.get("phase"), data_files.get(submission["id"]) or f"own-{submission['id']}")
        original = first.setdefault(upload, submission["id"])
        rerun_of[submission["id"]] = None if original == submission["id"] else original
    return rerun_of


def collect(platform: Platform, competition_id: str, out: Path, progress: Callable[[str], None] | None = None,
            keys: list[bytes] | None = None) -> int:
    """Write the campaign folder; the number of submissions. ``keys`` open sealed per-item scores."""
    from bundlekit.unpack import ArchiveError, safe_extract

    if out.exists() and any(out.iterdir()) and not (out / "competition.json").is_file():
        raise PlatformError(f"--out {out}: the folder holds other files; give a new folder or an earlier campaign folder "
                            "(which is replaced)")
    competition = platform.competition(competition_id)
    columns = campaign_columns(competition)
    phases = [{"id": p["id"], "name": p["name"]} for p in competition.get("phases") or []]
    submissions = []
    for phase in phases:
        submissions += [s for s in platform.submissions(phase["id"]) if not s.get("parent")]
    details, data_files = {}, {}
    for number, submission in enumerate(submissions, 1):
        if progress:
            progress(f"submission {number} of {len(submissions)}")
        details[submission["id"]] = platform.details(submission["id"])
        data_url = details[submission["id"]].get("data_file")
        data_files[submission["id"]] = urlsplit(data_url).path if data_url else None
    rerun_of = originals(submissions, data_files)
    staging = Path(tempfile.mkdtemp(prefix=".results-", dir=_parent(out)))
    try:
        (staging / "competition.json").write_text(json.dumps({
            "id": competition["id"], "title": competition.get("title"),
            "url": platform.competition_url(competition["id"]), "primary_metric": primary_metric(competition, columns),
            "columns": columns, "phases": phases}, indent=2) + "\n", encoding="utf-8")
        rows = []
        for submission in sorted(submissions, key=lambda s: s["id"]):
            record = _record(submission, details[submission["id"]], rerun_of[submission["id"]])
            folder = staging / "submissions" / str(record["id"])
            folder.mkdir(parents=True)
            (folder / "submission.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n",
                                                    encoding="utf-8")
            scoring_url = details[submission["id"]].get("scoring_result")
            if scoring_url:
                archive = folder / "scoring_output.zip"
                archive.write_bytes(platform.download(scoring_url, f"scoring output of submission {record['id']}"))
                try:
                    safe_extract(archive, folder / "scoring_output")
                except (ArchiveError, OSError) as error:
                    raise PlatformError(f"scoring output of submission {record['id']}: {error}") from None
                archive.unlink()
                open_sealed(folder / "scoring_output", keys or [])
            rows.append([record[key] for key in BASE_COLUMNS]
                        + [_cell(record["scores"].get(column["key"])) for column in columns])
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(BASE_COLUMNS + [column["key"] for column in columns])
        writer.writerows(rows)
        (staging / "submissions.csv").write_text(text.getvalue(), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(submissions)


def _record(submission: dict, details: dict, rerun_of: int | None) -> dict:
    organization = submission.get("organization")
    team = organization.get("name") if isinstance(organization, dict) else (organization or "")
    return {"id": submission["id"], "phase": submission.get("phase_name"), "owner": submission.get("owner"),
            "team": team, "date": submission.get("created_when"), "status": submission.get("status"),
            "scores": as_submitted(submission).scores,
            "fact_sheet_answers": submission.get("fact_sheet_answers") or details.get("fact_sheet_answers") or {},
            "rerun_of": rerun_of}


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def _parent(out: Path) -> Path:
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def run_command(args: argparse.Namespace) -> int:
    def body(platform: Platform) -> int:
        try:
            keys = bundle_keys(args.bundle) if args.bundle else []
        except BundleError as error:
            raise PlatformError(f"--bundle: {error}") from None
        show = progress_printer()
        try:
            count = collect(platform, args.competition, args.out, progress=show, keys=keys)
        finally:
            end_progress(show)
        print(f"collected {count} submission(s) into {args.out}", file=sys.stderr)
        return 0

    return guarded("results", body)
