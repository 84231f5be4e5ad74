"""How ``bundlekit run`` shows its results: one submission's row, or a ranked table."""

from __future__ import annotations

from pathlib import Path

from bundlekit.bundle_model import Column
from bundlekit.run.result import RunResult


def _format_value(value: float | None, column: Column) -> str:
    return "-" if value is None else f"{value:.{column.precision}f}"


def print_one(result: RunResult, columns: list[Column]) -> None:
    """One submission: its status, leaderboard row, step times, warnings and where its logs are."""
    status = "finished" if result.status == "finished" else f"FAILED: {result.reason}"
    print(f"{result.submission}: {status}")
    shown = {column.key: column for column in columns if not column.hidden}
    cells = [f"{title} {_format_value(value, shown[key])}" for key, title, value in result.leaderboard if key in shown]
    if cells:
        print("  " + " | ".join(cells))
    times = ", ".join(f"{name.removesuffix('_s')} {result.times[name]:.1f} s"
                      for name in ("prediction_s", "scoring_s") if name in result.times)
    if times:
        print(f"  {times}")
    if result.note:
        print(f"  {result.note}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    print(f"  logs: {result.logs_dir}")
    if result.detailed_results:
        print(f"  detailed results: {result.detailed_results}")


def _sort_key(result: RunResult, column: Column | None) -> tuple[int, float]:
    if column is None or result.status != "finished":
        return (1, 0.0)
    value = dict((key, v) for key, _, v in result.leaderboard).get(column.key)
    if value is None:
        return (1, 0.0)
    return (0, -value if column.sorting != "asc" else value)


def print_table(results: list[RunResult], columns: list[Column]) -> None:
    """Several submissions, ranked by the first shown column; then their warnings and the logs' folder."""
    shown = [column for column in columns if not column.hidden]
    first = shown[0] if shown else None
    ordered = sorted(results, key=lambda r: _sort_key(r, first))
    header = ["#", "submission", *(column.title for column in shown), "status"]
    rows = []
    for rank, result in enumerate(ordered, start=1):
        values = dict((key, value) for key, _, value in result.leaderboard)
        status = "finished" if result.status == "finished" else f"FAILED: {result.reason}"
        rows.append([
            str(rank) if result.status == "finished" else "-", Path(result.submission).name,
            *(_format_value(values.get(column.key), column) for column in shown), status,
        ])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    for result in ordered:
        for warning in result.warnings:
            print(f"warning: {Path(result.submission).name}: {warning}")
    print(f"logs: {Path(ordered[0].logs_dir).parent}")
