"""Create a competition from a bundle zip: `bundlekit publish BUNDLE.zip`.

Uploads the zip the way the platform's browser page does (dataset record, presigned
upload, completion), waits until the platform has unpacked it, and prints the new
competition's id and URL, or the platform's exact reason for refusing the bundle.
Credentials: CODABENCH_URL with CODABENCH_TOKEN (or CODABENCH_USERNAME and CODABENCH_PASSWORD).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bundlekit.platform.client import Platform, end_progress, progress_printer
from bundlekit.platform.common import guarded


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, metavar="BUNDLE.zip", help="the bundle zip (dist/<task>.zip)")


def run_command(args: argparse.Namespace) -> int:
    def body(platform: Platform) -> int:
        started = time.monotonic()
        show = progress_printer()
        try:
            competition_id = platform.publish(args.bundle, progress=show)
        finally:
            end_progress(show)
        print(f"published {args.bundle.name} in {time.monotonic() - started:.0f} s", file=sys.stderr)
        print(f"{competition_id} {platform.competition_url(competition_id)}")
        return 0

    return guarded("publish", body)
