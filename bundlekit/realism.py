"""`bundlekit realism`: the stand-in data measured beside the real tasks' figures.

For every task and edition of stand-in data, the command generates the data (seed 2023,
as the default build), scores every inducer and every shipped baseline with the task's
own metric (``fusion_io.primary_metric``, equal to the scoring program's), and writes a
markdown table per task: the figures the task pages and the benchmark's literature give
(``REAL_FIGURES``) beside the stand-in ones. ``docs/realism.md`` is its output
(``bundlekit realism --out docs/realism.md``); ``--check`` compares a file with what the
command would write, so a test can keep the two in step. ``--readme README.md`` rewrites
the README's baseline tables (the blocks after ``<!-- baselines: TASK -->``) from the
default build's ``dist/<task>.baselines.json`` and the bundle's leaderboard columns.

Figures, per split where it matters:

- sizes and label rates: items per split, what share is positive;
- chance: the primary metric of a random ranking (mean over ``RANDOM_DRAWS`` draws);
- best and median inducer on test; dev-to-test agreement: Spearman's correlation of the
  inducers' dev and test scores (can the dev split tell good inducers from bad ones?);
- bound: what no fusion of these inducers can pass (task specific, see ``_bounds``);
- baselines: every shipped solution fitted on dev, scored on test, and its gain (%) over
  the best inducer of test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from bundlekit import BUNDLES_DIR, REPO_ROOT, layers
from bundlekit.bundle_model import COMPETITION_YAML, read_document
from bundlekit.build import available_tasks, load_module, load_task, module_name
from scoring_common.program import COST_KEYS

SPLITS = ("dev", "test")
SEED = 2023
#: Random rankings averaged for the chance figure.
RANDOM_DRAWS = 20

#: What the real tasks show, by task, edition and figure (text as it appears in the table).
#: Sources: the task pages of ImageCLEFfusion 2022-2023, the MediaEval 2017 interestingness
#: and MediaEval memorability overviews, the ImageCLEFmedical 2023 caption overview, D4.6.
REAL_FIGURES: dict[str, dict[str, str]] = {
    "fusion-int": {
        "sizes": "2023: 1826 / 609 keyframes; 2022: 1877 / 558; trailers of about 80 to 100 keyframes",
        "label rate": "about 1 keyframe in 10 interesting",
        "chance": "random ranking near 0.04 MAP@10",
        "best inducer": "weak: every real inducer far below the fusions",
        "agreement": "not published (few test videos: low)",
        "bound": "not published",
        "gain": "top team +131.7 % over the best inducer; averaging helps a little",
    },
    "fusion-div": {
        "sizes": "2023: 104 / 35 queries, about 300 photos per pool; 2022: 60 / 63",
        "label rate": "about two thirds of a pool relevant, 10 to 25 clusters per query",
        "chance": "not published",
        "best inducer": "not in the task pages; the top team gained +18.7 % over it",
        "agreement": "not published",
        "bound": "not published",
        "gain": "top team +18.7 % over the best inducer",
    },
    "fusion-cap": {
        "sizes": "2023: 6101 / 1500 images, 84 inducers",
        "label rate": "about 4 to 5 concepts per image; modality concepts on most images",
        "chance": "not applicable (sets, not rankings)",
        "best inducer": "below the best ImageCLEFmedical 2023 concept-detection runs (F1 about 0.5: the third of "
                        "nine teams reached 0.4998, VCMI working notes)",
        "agreement": "not published",
        "bound": "far above every fusion: runs of one team share their errors",
        "gain": "learned fusion a real but bounded gain; voting weak",
    },
    "fusion-mem": {
        "sizes": "1000 / 500 videos (MediaEval short-term memorability)",
        "label rate": "scores near 0.86 on average, squeezed against 1",
        "chance": "Spearman 0 by construction",
        "best inducer": "Spearman 0.70 to 0.75 short-term (D4.6), near the ceiling",
        "agreement": "not published",
        "bound": "annotation-noise ceiling about 0.72 to 0.78",
        "gain": "small: the best systems are near the ceiling",
    },
}
FIGURES = ("sizes", "label rate", "chance", "best inducer", "agreement", "bound", "gain")


def measure(task: str, edition: str, seed: int = SEED) -> dict[str, str]:
    """The stand-in figures of ``task``'s ``edition``, formatted as they appear in the table."""
    source = BUNDLES_DIR / task
    hooks = load_module(source / "task.py", module_name(task, "task"))
    fusion_io = load_module(layers.source_file(source, hooks.TASK, "ingestion_program/fusion_io.py"),
                            module_name(task, "fusion_io"))
    with tempfile.TemporaryDirectory(prefix=f"realism-{task}-") as scratch:
        data = Path(scratch)
        hooks.generate_data(data, edition=edition, seed=seed, progress=lambda message: None)
        X = {split: fusion_io.load_inducers(data / split / "input_data") for split in SPLITS}
        y = {split: fusion_io.load_truth(data / split / "reference_data") for split in SPLITS}
        inducers = {split: dict((name, fusion_io.primary_metric(prediction, y[split]))
                                for name, prediction in hooks.inducer_predictions(X[split])) for split in SPLITS}
        baselines = _baselines(task, layers.layered_copy(source, hooks.TASK), fusion_io, X, y)
        figures = hooks.realism_figures(data, X, y, fusion_io, edition, seed)
    test = np.array(list(inducers["test"].values()))
    best = float(test.max())
    names = sorted(inducers["dev"])
    agreement = _spearman(np.array([inducers["dev"][n] for n in names]), np.array([inducers["test"][n] for n in names]))
    figures["best inducer"] = f"best {best:.3f}, median {float(np.median(test)):.3f} ({len(names)} inducers)"
    figures["agreement"] = f"{agreement:.2f}"
    figures["gain"] = "; ".join(f"{name} {score:.3f} ({100 * (score - best) / best:+.1f} %)"
                                for name, score in baselines.items())
    return figures


def _baselines(task: str, layered: Path, fusion_io: ModuleType, X: dict, y: dict) -> dict[str, float]:
    """Test score of every shipped solution (fitted on dev), by name; the best-inducer one left out.

    ``layered`` holds the task's programs and solutions, its own or its kind's (bundlekit/layers.py).
    """
    from threadpoolctl import threadpool_limits  # noqa: PLC0415 - only when the baselines run

    previous = sys.modules.get("fusion_io")
    sys.modules["fusion_io"] = fusion_io
    try:
        scores = {}
        for folder in sorted(p for p in (layered / "solutions").iterdir() if (p / "fusion.py").is_file()):
            if folder.name == "best-inducer":
                continue
            solution = load_module(folder / "fusion.py", module_name(task, f"solution_{folder.name}"))
            # One thread for the numeric libraries, as the ingestion gives the participant's code:
            # the last digits of some fits depend on how many threads sum them.
            with threadpool_limits(limits=1):
                model = solution.Fusion().fit(X["dev"], y["dev"])
                prediction = model.predict(X["test"])
            scores[folder.name] = float(fusion_io.primary_metric(prediction, y["test"]))
        return scores
    finally:
        if previous is None:
            sys.modules.pop("fusion_io", None)
        else:
            sys.modules["fusion_io"] = previous


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ranks = [np.argsort(np.argsort(v, kind="stable"), kind="stable").astype(float) for v in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


def realism_table(tasks: list[str], seed: int = SEED) -> str:
    """The markdown of ``docs/realism.md`` for ``tasks``."""
    lines = ["# Realism of the stand-in data", "",
             "Written by `bundlekit realism --out docs/realism.md`; do not edit by hand. For every task and",
             "edition, the figures the real task shows (task pages, the benchmarks' overviews) beside the",
             f"stand-in data of the default build (seed {seed}), measured with the task's own metric. Test",
             "split unless said; the baselines are fitted on dev; gains are over the best inducer of test.", ""]
    for task in tasks:
        hooks = load_module(BUNDLES_DIR / task / "task.py", module_name(task, "task"))
        editions = sorted(hooks.EDITIONS, reverse=True)
        lines += [f"## {task}", "", "| figure | real task | " + " | ".join(f"stand-in {e}" for e in editions) + " |",
                  "|---|---|" + "---|" * len(editions)]
        measured = {edition: measure(task, edition, seed) for edition in editions}
        for figure in FIGURES:
            cells = [REAL_FIGURES[task][figure]] + [measured[e][figure] for e in editions]
            lines.append(f"| {figure} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def readme_baseline_tables(readme: str, dist: Path) -> str:
    """``readme`` with every ``<!-- baselines: TASK -->`` table and best-inducer line rewritten from ``dist``.

    A table lists each baseline's test scores in the leaderboard's columns (execution
    time left out), 4 decimals (the gain 2), as ``dist/<task>.baselines.json`` holds them.
    """
    lines = readme.split("\n")
    marker = "<!-- baselines: "
    for index in [i for i, line in enumerate(lines) if line.startswith(marker)]:
        task = lines[index][len(marker):].split(" ")[0]
        built = json.loads((dist / f"{task}.baselines.json").read_text(encoding="utf-8"))
        document = read_document((dist / task / COMPETITION_YAML).read_bytes())
        columns = [c for c in document["leaderboards"][0]["columns"] if c["key"] not in COST_KEYS]
        end = index + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        # The method cells written by hand are kept; a new baseline gets its docstring's first sentence.
        written = {cells[0]: cells[1] for cells in ([c.strip() for c in line.strip("|").split("|")]
                                                    for line in lines[index + 3:end]) if len(cells) > 1}
        table = ["| baseline | method | " + " | ".join(c["title"] for c in columns) + " |",
                 "|---|---|" + "---:|" * len(columns)]
        for name, scores in sorted(built["solutions"].items()):
            method = written.get(name) or _docstring_summary_of(layers.source_file(
                BUNDLES_DIR / task, load_task(BUNDLES_DIR / task, task)[1], f"solutions/{name}/fusion.py"))
            cells = [f"{scores['test'][c['key']]:.{2 if c['key'] == 'gain_pct' else 4}f}" for c in columns]
            table.append(f"| {name} | {method} | " + " | ".join(cells) + " |")
        lines[index + 1:end] = table
        for back in range(index - 1, max(index - 4, -1), -1):
            if lines[back].startswith(f"`{task}` (best inducer on test:"):
                lines[back] = f"`{task}` (best inducer on test: `{built['best_inducers']['test']['best_inducer']}`)"
    return "\n".join(lines)


def _docstring_summary_of(path: Path) -> str:
    """The solution's method as the README words it: its docstring's first sentence, lower-cased start."""
    import ast  # noqa: PLC0415

    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or path.parent.name
    first = " ".join(doc.split("\n\n")[0].split()).rstrip(".")
    return first[0].lower() + first[1:]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tasks", nargs="*", metavar="TASK", help="tasks to measure (default: all with stand-in data)")
    parser.add_argument("--out", type=Path, help="write the markdown there (default: print it)")
    parser.add_argument("--check", type=Path, metavar="FILE",
                        help="exit 1 when FILE differs from what the command would write")
    parser.add_argument("--readme", type=Path, metavar="README",
                        help="instead, rewrite README's baseline tables from the default build in --dist")
    parser.add_argument("--dist", type=Path, default=REPO_ROOT / "dist", help="build output (default dist/)")


def run_command(args: argparse.Namespace) -> int:
    if args.readme is not None:
        try:
            text = readme_baseline_tables(args.readme.read_text(encoding="utf-8"), args.dist)
        except OSError as exc:
            print(f"bundlekit realism: {exc}; build the bundles first (bundlekit build)", file=sys.stderr)
            return 1
        args.readme.write_text(text, encoding="utf-8")
        return 0
    tasks = args.tasks or [t for t in available_tasks() if t in REAL_FIGURES]
    unknown = [t for t in tasks if t not in REAL_FIGURES]
    if unknown:
        print(f"bundlekit realism: no real figures for {', '.join(unknown)}; tasks: {', '.join(REAL_FIGURES)}",
              file=sys.stderr)
        return 2
    text = realism_table(tasks) + "\n"
    if args.check is not None:
        if args.check.read_text(encoding="utf-8") != text:
            print(f"bundlekit realism: {args.check} is out of date; run bundlekit realism --out {args.check}",
                  file=sys.stderr)
            return 1
        return 0
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0
