"""Rules on how the document holds together: tasks, solutions, phases and their dates, leaderboards, fact sheet."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bundlekit.check.base import CheckerBase, is_true, items
from bundlekit.check.problems import join_path
from bundlekit.platform_rules import DATE_HINT, parse_utc_date
from scoring_common.check_submission import METADATA_NAMES

#: Above this, a public Codabench queue cuts the phase's time limit anyway.
PUBLIC_QUEUE_TIME_LIMIT = 600


def _dateutil_reading(value: Any) -> datetime | None:
    """How the platform (dateutil, month first) reads a non-ISO date text, or None when it cannot."""
    from dateutil import parser  # noqa: PLC0415

    try:
        return parser.parse(value).replace(tzinfo=None) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        return None


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


class StructureRules(CheckerBase):
    """task.*, solution.*, phase.*, date.*, leaderboard.*, column.*, fact-sheet.*."""

    def unique_indexes(self, key: str, rule: str, consequence: str) -> set[int]:
        """The integer indexes of the items listed under ``key``; an error for each index given twice."""
        seen: dict[int, int] = {}
        item = key.removesuffix("s")
        for i, entry in items(self.doc.get(key)):
            index = entry.get("index")
            if isinstance(index, int) and not isinstance(index, bool):
                if index in seen:
                    self.error(rule, join_path(join_path(key, i), "index"), f"{item} index {index} is also used by "
                               f"{key}[{seen[index]}]; {consequence}", f"give every {item} its own index")
                seen.setdefault(index, i)
        return set(seen)

    def check_tasks(self) -> set[int]:
        indexes = self.unique_indexes("tasks", "task.duplicate-index", "the platform rejects duplicate task indexes")
        for i, task in items(self.doc.get("tasks")):
            path = join_path("tasks", i)
            if "key" in task:
                continue  # a task already on the platform: its files are not read
            self.check_program(join_path(path, "scoring_program"), task.get("scoring_program"), "scoring program")
            if "ingestion_program" in task:
                self.check_program(join_path(path, "ingestion_program"), task["ingestion_program"], "ingestion program")
            for key in ("input_data", "reference_data"):
                if key in task:
                    self.check_data(join_path(path, key), task[key])
            if is_true(task.get("ingestion_only_during_scoring")):
                self.warning("task.ingestion-during-scoring", join_path(path, "ingestion_only_during_scoring"),
                             "the worker runs the ingestion and the scoring programs one after the other, never "
                             "together: programs that wait for each other through /app/shared deadlock",
                             "run the ingestion in the prediction step")
        return indexes

    def check_solutions(self, task_indexes: set[int]) -> None:
        self.unique_indexes("solutions", "solution.duplicate-index", "the platform identifies solutions by their "
                            "index, so the two collide")
        for i, solution in items(self.doc.get("solutions")):
            path = join_path("solutions", i)
            self.check_task_references(path, solution.get("tasks"), task_indexes, "solution")
            if "key" in solution:
                continue
            archive = self.archive(join_path(path, "path"), solution.get("path"))
            if archive is None or not self.first_look(archive, "solution"):
                continue
            metadata = next((n for n in METADATA_NAMES if archive.tree.is_file(n)), None)
            if metadata is not None:
                self.check_command(join_path(path, "path"), archive.tree, metadata, "solution", required=False)

    def check_task_references(self, path: str, references: Any, task_indexes: set[int], owner: str) -> None:
        if not isinstance(references, list) or not isinstance(self.doc.get("tasks"), list):
            return  # no task list to refer to: the schema said so
        for j, reference in enumerate(references):
            if isinstance(reference, int) and not isinstance(reference, bool) and reference not in task_indexes:
                known = ", ".join(map(str, sorted(task_indexes))) or "none"
                self.error("task.dangling-reference", join_path(join_path(path, "tasks"), j),
                           f"the {owner} refers to task {reference}, which does not "
                           f"exist (task indexes: {known})", "use the index of a task listed under tasks")

    def check_phases(self, task_indexes: set[int]) -> set[int]:
        """Phase checks; returns the task indexes of the final phase."""
        phases = items(self.doc.get("phases"))
        self.unique_indexes("phases", "phase.duplicate-index", "the platform orders phases by index, so the order "
                            "of the two is undefined")
        timeline: list[tuple[int, dict, datetime | None, datetime | None]] = []
        for i, phase in phases:
            path = join_path("phases", i)
            self.check_task_references(path, phase.get("tasks"), task_indexes, "phase")
            limit = phase.get("execution_time_limit")
            if isinstance(limit, int) and limit > PUBLIC_QUEUE_TIME_LIMIT:
                self.warning("phase.time-limit", join_path(path, "execution_time_limit"),
                             f"{limit} s is above the {PUBLIC_QUEUE_TIME_LIMIT} s "
                             "a public Codabench queue allows; there the limit is cut to it", "use at most 600 s or "
                             "run the competition on your own queue")
            if "public_data" in phase:
                self.archive(join_path(path, "public_data"), phase["public_data"])
            if "starting_kit" in phase:
                self.check_starting_kit(join_path(path, "starting_kit"), phase["starting_kit"])
            start = self.phase_date(path, phase, "start")
            end = self.phase_date(path, phase, "end")
            if start and end and end <= start:
                self.error("phase.end-before-start", join_path(path, "end"),
                           f"phase {self.name(phase, i)} ends ({_show(end)}) before it starts "
                           f"({_show(start)})", "make the end later than the start")
            timeline.append((i, phase, start, end))
        # The platform orders phases by their `index` (0 when absent), keeping the yaml order otherwise.
        timeline.sort(key=lambda entry: entry[1]["index"] if isinstance(entry[1].get("index"), int) else 0)
        if timeline and is_true(timeline[0][1].get("auto_migrate_to_this_phase")):
            first = timeline[0][0]
            self.error("phase.auto-migrate-first", join_path(join_path("phases", first), "auto_migrate_to_this_phase"),
                       "the first phase cannot receive migrated submissions; the platform rejects the bundle",
                       "remove it from the first phase")
        for (i, before, _, before_end), (j, after, after_start, _) in zip(timeline, timeline[1:]):
            if before.get("end") in (None, ""):
                self.error("phase.no-end", join_path(join_path("phases", i), "end"),
                           f"phase {self.name(before, i)} has no end but phase "
                           f"{self.name(after, j)} follows it", f"end {self.name(before, i)} before "
                           f"{self.name(after, j)} starts")
            elif before_end and after_start and after_start < before_end:
                self.error("phase.overlap", join_path(join_path("phases", j), "start"), f"phase {self.name(after, j)} starts "
                           f"({_show(after_start)}) before {self.name(before, i)} ends ({_show(before_end)}); "
                           "phases may not overlap", f"start {self.name(after, j)} after {_show(before_end)}")
            elif before_end and after_start and after_start == before_end:
                self.error("phase.touch", join_path(join_path("phases", j), "start"),
                           f"phase {self.name(after, j)} starts at the instant "
                           f"{self.name(before, i)} ends ({_show(before_end)}); the platform rejects it",
                           f"start {self.name(after, j)} one minute later ({_show(before_end + timedelta(minutes=1))})")
        if not timeline:
            return set(task_indexes)
        final_tasks = timeline[-1][1].get("tasks")
        return {t for t in final_tasks if isinstance(t, int)} if isinstance(final_tasks, list) else set(task_indexes)

    @staticmethod
    def name(phase: dict, position: int) -> str:
        return f"'{phase['name']}'" if isinstance(phase.get("name"), str) else f"phases[{position}]"

    def phase_date(self, path: str, phase: dict, key: str) -> datetime | None:
        value = phase.get(key)
        if value in (None, ""):
            return None
        try:
            moment, offset = parse_utc_date(value)
        except (ValueError, OverflowError) as exc:
            reason, _, fix = str(exc).partition("; ")
            read = _dateutil_reading(value)
            if read is not None:
                reason += f": the platform reads it month first ({_show(read)}), many readers day first"
                fix = f"write {_show(read)} if that is the date meant"
            self.error("date.invalid", join_path(path, key), reason, fix or DATE_HINT)
            return None
        if offset:  # the platform drops the offset: it reads the local time as UTC
            read = moment + offset
            self.warning("date.offset", join_path(path, key),
                         f"the time zone offset of '{value}' is dropped, not converted: the "
                         f"platform reads {_show(read)} UTC", f"write the date in UTC ({_show(moment)})")
            return read
        return moment

    # --- leaderboards and fact sheet --------------------------------------------------

    def check_leaderboards(self) -> None:
        boards = items(self.doc.get("leaderboards"))
        for i, board in boards[1:]:
            title = board.get("title", f"leaderboards[{i}]")
            self.warning("leaderboard.orphaned", join_path("leaderboards", i),
                         f"every phase shows the first leaderboard only: '{title}' is "
                         "orphaned", "merge its columns into the first leaderboard")
        for i, board in boards:
            path = join_path("leaderboards", i)
            columns = items(board.get("columns"))
            keys: dict[str, int] = {}
            indexes: dict[int, int] = {}
            for j, column in columns:
                column_path = join_path(join_path(path, "columns"), j)
                key, index = column.get("key"), column.get("index")
                if isinstance(key, str):
                    if key in keys:
                        self.error("column.duplicate-key", join_path(column_path, "key"),
                                   f"column key '{key}' is also used by columns[{keys[key]}]",
                                   "give every column its own key")
                    keys.setdefault(key, j)
                if isinstance(index, int) and not isinstance(index, bool):
                    if index in indexes:
                        self.error("column.duplicate-index", join_path(column_path, "index"),
                                   f"column index {index} is also used by "
                                   f"columns[{indexes[index]}]", "give every column its own index")
                    indexes.setdefault(index, j)
            for j, column in columns:
                self.check_computed_column(join_path(join_path(path, "columns"), j), column, set(indexes))
            primary = board.get("primary_index", 0)
            if columns and isinstance(primary, int) and indexes and primary not in indexes:
                where = join_path(path, "primary_index") if "primary_index" in board else join_path(path, "columns")
                self.error("leaderboard.no-primary", where,
                           f"no column has index {primary}, the leaderboard's primary index"
                           f"{'' if 'primary_index' in board else ' (0 by default)'}: the leaderboard cannot be shown",
                           f"number the main column {primary} or set primary_index to one of {sorted(indexes)}")

    def check_computed_column(self, path: str, column: dict, indexes: set[int]) -> None:
        computation, sources = column.get("computation"), column.get("computation_indexes")
        if computation is not None and not sources:
            self.error("column.computation", join_path(path, "computation_indexes"),
                       f"the column computes '{computation}' but lists no "
                       "computation_indexes", "list the indexes of the columns it combines")
            return
        if sources and computation is None:
            self.error("column.computation", join_path(path, "computation"),
                       "the column lists computation_indexes but no computation",
                       "add computation: avg (or sum, min, max)")
            return
        if not sources:
            return
        if isinstance(sources, str):
            try:
                sources = [int(s) for s in sources.split(",")]
            except ValueError:
                self.error("column.computation", join_path(path, "computation_indexes"),
                           f"'{sources}' is not a list of column indexes",
                           "write a list such as [1, 2]")
                return
        if not isinstance(sources, list):
            return
        own = column.get("index")
        for k, source in enumerate(sources):
            if not isinstance(source, int):
                continue
            if source == own:
                self.error("column.computation", join_path(join_path(path, "computation_indexes"), k),
                           "the column refers to itself",
                           "list other columns' indexes only")
            elif source not in indexes:
                self.error("column.computation", join_path(join_path(path, "computation_indexes"), k),
                           f"no column has index {source}",
                           f"use indexes of this leaderboard's columns ({', '.join(map(str, sorted(indexes)))})")

    def check_fact_sheet(self) -> None:
        sheet = self.doc.get("fact_sheet")
        if not isinstance(sheet, dict):
            return
        for key, question in sheet.items():
            if isinstance(question, dict) and "key" in question and question["key"] != key:
                self.error("fact-sheet.key", join_path(join_path("fact_sheet", str(key)), "key"),
                           f"the question's key '{question['key']}' "
                           f"differs from its name '{key}'; the platform rejects the bundle", f"write key: {key}")
