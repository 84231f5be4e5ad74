"""Every rule, group by group, over one bundle."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from bundlekit.check.bundle_rules import load_document, open_bundle, schema_problems
from bundlekit.check.leaks import LeakRules
from bundlekit.check.pages import PageRules
from bundlekit.check.platform_keys import PlatformRules
from bundlekit.check.problems import Problem, sort_key
from bundlekit.check.programs import ProgramRules
from bundlekit.check.structure import StructureRules


class BundleChecker(PlatformRules, PageRules, ProgramRules, StructureRules, LeakRules):
    """The cross-checks of a loaded document, in the order they have always run."""

    def run(self) -> list[Problem]:
        self.problems += schema_problems(self.doc)
        self.check_contact_email()
        self.check_platform_keys()
        self.check_docker_image()
        self.check_documents()
        task_indexes = self.check_tasks()
        self.check_solutions(task_indexes)
        final_tasks = self.check_phases(task_indexes)
        self.check_leaderboards()
        self.check_fact_sheet()
        self.check_leaks(final_tasks)
        return self.problems


def check_bundle(path: Path) -> list[Problem]:
    """Every problem of the bundle at ``path`` (a directory or a zip), errors first, then by path."""
    problems: list[Problem] = []
    with ExitStack() as stack:
        root = open_bundle(Path(path), problems, stack)
        document = load_document(root, problems) if root is not None else None
        if document is not None:
            problems += BundleChecker(root, document, stack).run()
    return sorted(set(problems), key=sort_key)
