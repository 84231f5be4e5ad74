"""Check a competition bundle: `bundlekit check BUNDLE` lists every problem, with a fix.

BUNDLE is a directory or a zip, ours or anyone's. Each problem names its place in
``competition.yaml`` as a dotted path (``phases[1].start``), says what is wrong and how
to fix it. Errors make the upload or the runs fail on Codabench or AI4MediaBench;
warnings are legal but likely mistakes or differences between the two platforms. The exit status is 1 when there are errors (or warnings,
with ``--strict``).

Every problem has a stable rule id (:data:`RULES`), shown in brackets. A task's build
acknowledges the warnings that are there by design (``ACCEPTED_WARNINGS`` in its
task.py), and ``--accept RULE[,RULE]`` does the same here: the accepted warnings are
counted in one summary line instead of listed. Accepting a rule never hides an error.

What a JSON Schema can say (keys, types, lengths, allowed values) is in
``bundlekit/schema/competition.schema.json``; the cross-checks (files, programs, dates,
references, leaks) are below. Archives inside the bundle are read in place, never
extracted.
"""

# The rules, grouped by subject: the bundle and its yaml (bundle_rules), platforms and image
# (platform_keys), pages, programs and data (programs), tasks, phases and leaderboards
# (structure), leaks; docs/architecture.md lists them.

from bundlekit.check.checker import check_bundle
from bundlekit.check.cli import configure_parser, rule_list, run_command
from bundlekit.check.pages import TEMPLATE_PLACEHOLDER, TODO_MARKER
from bundlekit.check.problems import RULES, Problem, format_problems, set_apart

__all__ = [
    "RULES", "TEMPLATE_PLACEHOLDER", "TODO_MARKER", "Problem", "check_bundle", "configure_parser",
    "format_problems", "rule_list", "run_command", "set_apart",
]
