"""The `bundlekit` command line: one subcommand per module, each imported lazily."""

from __future__ import annotations

import argparse
import importlib
import sys

from bundlekit import __version__

#: subcommand -> (module, one-line help)
COMMANDS = {
    "demo": ("bundlekit.demo", "build every bundle and run its baselines like the platform (make demo)"),
    "build": ("bundlekit.build", "build bundles into dist/ (same as build_bundles.py)"),
    "check": ("bundlekit.check", "list every problem of a bundle (directory or zip)"),
    "run": ("bundlekit.run", "run submissions the way the platform's compute worker does"),
    "image": ("bundlekit.image", "build the kit's pinned Docker image"),
    "new": ("bundlekit.scaffold", "create a new task bundle from a template"),
    "report": ("bundlekit.report", "the campaign's evidence: overview tables, significance tests, plots"),
    "inducers": ("bundlekit.inducers", "the inducers' scores, correlations, complementarity and oracle bounds"),
    "publish": ("bundlekit.platform.publish", "create a competition on Codabench / AI4MediaBench from a bundle zip"),
    "submit": ("bundlekit.platform.submit", "submit a zip to a phase of a live competition (--wait for the scores)"),
    "smoke": ("bundlekit.platform.smoke", "submit every baseline of a bundle and compare the platform's scores"),
    "results": ("bundlekit.platform.results", "collect every submission of a competition into a folder"),
    "rerun": ("bundlekit.platform.rerun", "rerun every submission of a phase; old and new scores side by side"),
    "realism": ("bundlekit.realism", "measure the stand-in data beside the real tasks (docs/realism.md)"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (the others may be slow to import)."""
    parser = argparse.ArgumentParser(prog="bundlekit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"bundlekit {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name != command:
            subparsers.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=help_text, description=module.__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure_parser(sub)
        sub.set_defaults(handler=module.run_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("bundlekit: interrupted", file=sys.stderr)
        return 130
