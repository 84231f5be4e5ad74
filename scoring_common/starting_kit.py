"""What every starting kit's ``make_submission.py`` does, for any task's ``fusion_io``.

Fit the participant's ``Fusion`` on the dev split and predict a split, exactly as the
ingestion program does, check the prediction with the same rules, and write a result
zip (the run at its root) or a code zip (``fusion.py`` and the ``metadata`` that marks
the zip as code). The task's ``fusion_io`` provides ``load_inducers``, ``load_truth``,
``check_prediction``, ``write_run``, ``RUN_FILE_NAME``, ``primary_metric`` and
``PRIMARY_METRIC_TITLE``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Sequence

from scoring_common.errors import ParticipantError
from scoring_common.submission_checks import CODE_SUBMISSION_METADATA, FUSION_FILE

SPLIT_NAMES = ("dev", "test")


def make_submission(fusion_io: ModuleType, usage: str, default_fusion: Path,
                    argv: Sequence[str] | None = None) -> int:
    """Command line of ``make_submission.py``; ``usage`` is its docstring. Returns the exit code."""
    parser = argparse.ArgumentParser(description=usage, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of the unzipped public data (holds dev/ and test/)")
    parser.add_argument("--fusion", type=Path, default=default_fusion,
                        help=f"file defining class Fusion (default: {default_fusion.name})")
    parser.add_argument("--split", choices=SPLIT_NAMES, default="test", help="split to predict (default: test)")
    parser.add_argument("--code", action="store_true", help="zip the code (fusion.py + metadata) instead of the run")
    parser.add_argument("--with", dest="extra", type=Path, action="append", default=[], metavar="FILE",
                        help="with --code: another file of yours to ship at the zip root (a helper module, weights)")
    parser.add_argument("--out", type=Path, default=Path("submission.zip"),
                        help="zip to write (default: submission.zip)")
    args = parser.parse_args(argv)
    reserved = {FUSION_FILE, "metadata", "metadata.yaml", "fusion_io.py", "scoring_common"}
    for extra in args.extra:
        if not args.code or not extra.is_file() or extra.name in reserved:
            parser.error(f"--with {extra}: give an existing file, not named {', '.join(sorted(reserved))}, "
                         "together with --code")

    fusion_class = load_fusion_class(args.fusion)
    dev_dir, split_dir = find_split(args.data, "dev"), find_split(args.data, args.split)
    X_dev, y_dev = fusion_io.load_inducers(dev_dir), fusion_io.load_truth(dev_dir)
    X = fusion_io.load_inducers(split_dir)
    started = time.perf_counter()
    try:
        model = fusion_class()
        model.fit(X_dev, y_dev)  # as the ingestion does: what fit returns is not used
        dev_prediction = fusion_io.check_prediction(model.predict(X_dev), X_dev)
        prediction = fusion_io.check_prediction(model.predict(X), X)
    except ParticipantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(f"fit and predict took {elapsed:.1f} s; {fusion_io.PRIMARY_METRIC_TITLE} on dev (fitted on dev, so "
          f"optimistic): {fusion_io.primary_metric(dev_prediction, y_dev):.4f}")

    with zipfile.ZipFile(args.out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if args.code:
            archive.write(args.fusion, FUSION_FILE)
            for extra in args.extra:
                archive.write(extra, extra.name)
            archive.writestr("metadata", CODE_SUBMISSION_METADATA)
        else:
            with tempfile.TemporaryDirectory() as scratch:
                run = Path(scratch) / fusion_io.RUN_FILE_NAME
                fusion_io.write_run(prediction, X, run)
                archive.write(run, fusion_io.RUN_FILE_NAME)
    kind = f"code ({FUSION_FILE} + metadata)" if args.code else f"the {args.split} run ({fusion_io.RUN_FILE_NAME})"
    print(f"wrote {args.out}: {kind}")
    return 0


def find_split(data_dir: Path, split: str) -> Path:
    """``DATA_DIR/<split>``, or ``DATA_DIR/<folder>/<split>`` when the zip was unpacked into a folder."""
    candidates = [data_dir / split] + sorted(p / split for p in data_dir.iterdir() if p.is_dir())
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"error: no {split}/ folder in {data_dir}; give the folder of the unzipped public data")


def load_fusion_class(path: Path) -> type:
    """The class ``Fusion`` of the file at ``path``."""
    folder = str(path.resolve().parent)
    if folder not in sys.path:  # its helper modules, as on the platform (the zip's root is on the path)
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("fusion", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not isinstance(getattr(module, "Fusion", None), type):
        raise SystemExit(f"error: {path} defines no class Fusion")
    return module.Fusion
