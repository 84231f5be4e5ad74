"""The ``bundlekit check`` command line."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from bundlekit.check.checker import check_bundle
from bundlekit.check.problems import RULES, format_problems, set_apart, suggest


def rule_list(text: str) -> list[str]:
    """``RULE[,RULE]`` as a list of known rule ids (an argparse type)."""
    rules = [rule.strip() for rule in text.split(",") if rule.strip()]
    unknown = [rule for rule in rules if rule not in RULES]
    if unknown:
        hints = [f"{rule} (did you mean {hint}?)" if (hint := suggest(rule, sorted(RULES))) else rule
                 for rule in unknown]
        raise argparse.ArgumentTypeError(f"unknown rule id {', '.join(hints)}; the ids are the bracketed words "
                                         "of the checker's output")
    return rules


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, metavar="BUNDLE", help="the bundle: a zip or a folder")
    parser.add_argument("--json", action="store_true", help="print the problems as JSON")
    parser.add_argument("--strict", action="store_true", help="count warnings as errors in the exit status")
    parser.add_argument("--accept", type=rule_list, action="extend", default=[], metavar="RULE[,RULE]",
                        help="count the warnings of these rules in one line instead of listing them "
                             "(never errors; repeatable)")


def run_command(args: argparse.Namespace) -> int:
    problems = check_bundle(args.bundle)
    accepted = dict.fromkeys(args.accept, "")
    shown, hidden = set_apart(problems, accepted)
    errors = sum(p.severity == "error" for p in shown)
    if args.json:
        report = {"bundle": str(args.bundle), "errors": errors, "warnings": len(shown) - errors,
                  "problems": [asdict(p) for p in shown], "accepted": [asdict(p) for p in hidden]}
        print(json.dumps(report, indent=2))
    else:
        print(format_problems(problems, accepted, by="--accept"))
    failing = errors + (len(shown) - errors if args.strict else 0)
    return 1 if failing else 0
