"""What the inducers offer: their scores, correlations, complementarity and the task's oracle bounds.

SOURCE is a built bundle (folder or zip: every split with its reference data, for
organisers) or a data folder: DIR/<split>/input_data and DIR/<split>/reference_data (the
organisers' data), or DIR/<split>/ holding both (the unzipped public data, whose dev split
carries its ground truth). Every inducer is written as a run and scored by the task's own
scoring program (its per_item_scores.csv gives the per-item scores), so the numbers are
those a participant submitting that inducer would get.

Per split: every inducer's metrics with the standard error of the primary metric for the
split's size; the inducers' pairwise Spearman correlation (heatmap) of their per-item
primary scores (of their predictions for correlation tasks); complementarity of pairs
(the per-item oracle of the pair and its gain over the better inducer; for correlation
tasks the prediction correlation and the Spearman of the pair's mean rank); the task's
oracle upper bounds (per-item best inducer; fusion-cap: union of the inducers
intersected with the truth; fusion-div: perfect relevance). The test split is analysed
only when its reference data is given (organisers). Outputs in --out: inducers.md, .tex,
.html, .json and CSV tables.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import math
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

from bundlekit import layers
from bundlekit.bundle_model import COMPETITION_YAML, BundleError, read_document

SPLITS = ("dev", "test")
#: Pairs listed in the complementarity table.
TOP_PAIRS = 10
#: Inducers among which complementarity is shown for correlation tasks (the best ones).
TOP_INDUCERS_FOR_PAIRS = 10


class InducerError(ValueError):
    """The source or the task cannot be analysed (one-line message)."""


@dataclass
class TaskCode:
    """The kit sources of a task: build hooks, ingestion helpers and scoring program."""

    name: str
    folder: Path
    hooks: ModuleType
    fusion_io: ModuleType
    scoring: ModuleType


@dataclass
class SplitData:
    """Where a split's inducers and reference data are: folders, or a bundle's zips extracted when first used."""

    name: str
    input_source: Path
    reference_source: Path | None
    scratch: Path | None = None
    _extracted: dict[str, Path] = field(default_factory=dict, repr=False)

    @property
    def has_reference(self) -> bool:
        return self.reference_source is not None

    @property
    def input_dir(self) -> Path:
        """The folder ``load_inducers`` reads (a bundle's ``predict/``)."""
        return self._folder("input", self.input_source, "predict")

    @property
    def reference_dir(self) -> Path | None:
        return None if self.reference_source is None else self._folder("reference", self.reference_source, None)

    def _folder(self, kind: str, source: Path, wanted: str | None) -> Path:
        if source.is_dir() or self.scratch is None:
            return source
        if kind not in self._extracted:
            self._extracted[kind] = _unwrapped(_extract(source, self.scratch / f"{self.name}-{kind}"), wanted)
        return self._extracted[kind]


@dataclass
class InducerScores:
    """One prediction scored by the task's scoring program."""

    name: str
    scores: dict[str, float]
    per_item: Any  # bundlekit.report.per_item.ItemScores


@dataclass
class BundleInfo:
    """A bundle opened for the report: its yaml, its splits and the task code."""

    yaml_doc: dict
    task: TaskCode
    splits: dict[str, SplitData]
    scratch: tempfile.TemporaryDirectory = field(repr=False)

    def apply_to(self, campaign: Any) -> None:
        """Give a folder of local runs the bundle's title, leaderboard columns and primary metric."""
        board = (self.yaml_doc.get("leaderboards") or [{}])[0]
        columns = sorted(board.get("columns") or [], key=lambda c: c.get("index", 0))
        if campaign.layout == "local" and columns:
            campaign.title = str(self.yaml_doc.get("title", campaign.title))
            campaign.columns = [{"key": str(c["key"]), "title": str(c.get("title", c["key"])),
                                 "sorting": str(c.get("sorting", "desc"))} for c in columns]
            campaign.primary_metric = campaign.columns[0]["key"]

    def split_of_phase(self, phase: str) -> str:
        """The split a phase scores on (from its first task's reference data)."""
        tasks = {t.get("index"): t for t in self.yaml_doc.get("tasks") or []}
        for entry in self.yaml_doc.get("phases") or []:
            if entry.get("name") == phase and entry.get("tasks"):
                name = str(tasks.get(entry["tasks"][0], {}).get("reference_data", ""))
                split = name.split("_reference_data")[0]
                if split in self.splits:
                    return split
        raise InducerError(f"phase {phase!r}: the bundle has no such phase with a split's reference data; "
                           f"phases: {', '.join(str(p.get('name')) for p in self.yaml_doc.get('phases') or [])}")

    def best_inducer_run(self, phase: str, primary: str) -> Any:
        """The best inducer of the phase's split (its ``baseline.json``), scored, as a report Run."""
        import json  # noqa: PLC0415

        from bundlekit.report.campaign import Run  # noqa: PLC0415

        split = self.splits[self.split_of_phase(phase)]
        if split.reference_dir is None or not (split.reference_dir / "baseline.json").is_file():
            raise InducerError(f"split {split.name}: no baseline.json in the reference data; pass --baseline")
        name = json.loads((split.reference_dir / "baseline.json").read_text(encoding="utf-8"))["best_inducer"]
        for scored in score_inducers(self.task, split, only=name):
            return Run(id=scored.name, team="best inducer", phase=phase, date=None,
                       scores=scored.scores, per_item=scored.per_item)
        raise InducerError(f"split {split.name}: the best inducer {name!r} is not among the inducers")


# --------------------------------------------------------------------------- locating the task and the data


def resolve_task(source: Path, task: str | None, bundles_dir: Path | None = None) -> TaskCode:
    """Load a task's sources: ``task`` (a task of the project's bundles/ or a folder with task.py), else SOURCE's name."""
    from bundlekit.build import load_module, module_name  # noqa: PLC0415
    from bundlekit.project import find_bundles_dir  # noqa: PLC0415

    candidates = [Path(task)] if task and Path(task).is_dir() else []
    name = task or source.name.removesuffix(".zip")
    candidates.append(find_bundles_dir(bundles_dir) / name)
    folder = next((c for c in candidates if (c / "task.py").is_file()), None)
    if folder is None:
        raise InducerError(f"task {name!r}: no task source (bundles/{name}/task.py); name it with --task "
                           f"(a task of bundles/ or a folder holding task.py)")
    key = folder.name
    hooks = load_module(folder / "task.py", module_name(key, "task"))
    # The task's own programs, else its kind's (bundlekit/layers.py).
    program = functools.partial(layers.source_file, folder, hooks.TASK)
    return TaskCode(
        name=key,
        folder=folder,
        hooks=hooks,
        fusion_io=load_module(program("ingestion_program/fusion_io.py"), module_name(key, "fusion_io")),
        scoring=load_module(program("scoring_program/score.py"), module_name(key, "score")),
    )


def _extract(archive: Path, target: Path) -> Path:
    with zipfile.ZipFile(archive) as handle:
        handle.extractall(target)
    return target


def _unwrapped(folder: Path, wanted: str | None = None) -> Path:
    """``folder/…/wanted`` if such a folder exists (data zips wrap their content), else ``folder``."""
    if wanted:
        found = sorted(p for p in folder.rglob(wanted) if p.is_dir())
        if found:
            return found[0]
    return folder


def open_splits(source: Path, scratch: Path) -> tuple[dict, dict[str, SplitData]]:
    """The competition.yaml (empty for a data folder) and the splits of SOURCE."""
    source = Path(source)
    if source.is_file() and zipfile.is_zipfile(source):
        source = _extract(source, scratch / "bundle")
    if not source.is_dir():
        raise InducerError(f"{source}: not a bundle (folder or zip) nor a data folder")
    if (source / "competition.yaml").is_file():
        try:
            yaml_doc = read_document((source / COMPETITION_YAML).read_bytes())
        except BundleError as error:
            raise InducerError(f"{source}/{error}") from None
        splits: dict[str, SplitData] = {}
        for entry in yaml_doc.get("tasks") or []:
            inputs, reference = entry.get("input_data"), entry.get("reference_data")
            if not isinstance(inputs, str) or "_input_data" not in inputs:
                continue
            split = inputs.split("_input_data")[0]
            has_reference = isinstance(reference, str) and (source / reference).is_file()
            splits[split] = SplitData(split, source / inputs, source / reference if has_reference else None, scratch)
        if not splits:
            raise InducerError(f"{source}/competition.yaml: no task with <split>_input_data.zip")
        return yaml_doc, splits
    splits = {}
    for split in SPLITS:
        folder = source / split
        if (folder / "input_data").is_dir():
            reference = folder / "reference_data"
            splits[split] = SplitData(split, folder / "input_data", reference if reference.is_dir() else None)
        elif folder.is_dir():
            splits[split] = SplitData(split, folder, folder)
    if not splits:
        raise InducerError(f"{source}: no competition.yaml and no dev/ or test/ folder; give a bundle or a data "
                           "folder (DIR/dev/input_data and DIR/dev/reference_data, or the unzipped public data)")
    return {}, splits


def open_bundle(source: Path, task: str | None, bundles_dir: Path | None = None) -> BundleInfo:
    """Open a bundle for the report (kept extracted until the process ends)."""
    scratch = tempfile.TemporaryDirectory(prefix="bundlekit-inducers-")
    yaml_doc, splits = open_splits(Path(source), Path(scratch.name))
    return BundleInfo(yaml_doc, resolve_task(Path(source), task, bundles_dir), splits, scratch)


# --------------------------------------------------------------------------- scoring


def score_run(task: TaskCode, reference_dir: Path, run: Path, work: Path) -> InducerScores:
    """Score one run file with the task's scoring program, in-process; read its per-item scores (C1)."""
    from bundlekit.report.per_item import PerItemError, read_scoring_output  # noqa: PLC0415
    from scoring_common.program import score_submission  # noqa: PLC0415
    from scoring_common.seal import reference_key  # noqa: PLC0415

    input_dir, output_dir = work / "input", work / "output"
    shutil.rmtree(work, ignore_errors=True)
    (input_dir / "res").mkdir(parents=True)
    output_dir.mkdir(parents=True)
    (input_dir / "ref").symlink_to(reference_dir.resolve(), target_is_directory=True)
    shutil.copyfile(run, input_dir / "res" / run.name)
    scores = score_submission(task.scoring.TASK, input_dir, output_dir)
    try:  # a hidden split's per-item scores are sealed with its reference data's key, which is here
        per_item = read_scoring_output(output_dir, [reference_key(reference_dir)])
    except PerItemError as exc:
        raise InducerError(f"the {task.name} scoring program's per-item scores: {exc} (contract C1)") from None
    return InducerScores(run.stem, dict(scores), per_item)


def score_prediction(task: TaskCode, split: SplitData, X: Any, name: str, prediction: Any, work: Path) -> InducerScores:
    """Write ``prediction`` as a run with the task's ``write_run`` and score it."""
    run = work / "run" / task.fusion_io.RUN_FILE_NAME
    run.parent.mkdir(parents=True, exist_ok=True)
    task.fusion_io.write_run(prediction, X, run)
    scored = score_run(task, split.reference_dir, run, work / "scoring")
    scored.name = name
    return scored


def score_inducers(task: TaskCode, split: SplitData, only: str | None = None) -> Iterator[InducerScores]:
    """Every inducer of ``split`` (or the one named ``only``), scored by the task's scoring program."""
    from scoring_common.errors import InternalError, ParticipantError  # noqa: PLC0415

    if not split.has_reference:
        raise InducerError(f"split {split.name}: no reference data (the test reference is the organisers')")
    with tempfile.TemporaryDirectory(prefix="bundlekit-inducer-run-") as work_name:
        work = Path(work_name)
        try:
            X = task.fusion_io.load_inducers(split.input_dir)
            for name, prediction in task.hooks.inducer_predictions(X):
                if only is None or name == only:
                    yield score_prediction(task, split, X, name, prediction, work)
        except (ParticipantError, InternalError, OSError) as exc:
            raise InducerError(f"split {split.name}: {exc}") from None


# --------------------------------------------------------------------------- oracles


def _oracle_union(task: TaskCode, split: SplitData, X: Any) -> Any:
    """fusion-cap: per image, the true concepts that at least one inducer predicted."""
    import pandas as pd  # noqa: PLC0415

    truth = task.fusion_io.load_truth(split.reference_dir)
    found = set(zip(X["image_id"].tolist(), X["concept"].tolist()))
    images = list(X.attrs["images"])
    lists: dict[str, list[str]] = {image: [] for image in images}
    for image, concept in zip(truth["image_id"].tolist(), truth["concept"].tolist()):
        if (image, concept) in found and image in lists:
            lists[image].append(concept)
    return pd.Series(list(lists.values()), index=images, dtype=object)


def _oracle_relevance(task: TaskCode, split: SplitData, X: Any) -> Any:
    """fusion-div: every relevant photo any inducer ranked comes first, by mean reciprocal rank; no diversification."""
    truth = task.fusion_io.load_truth(split.reference_dir)
    pool = X.assign(rr=1.0 / (X["rank"] + 1.0)).groupby(["query_id", "photo_id"], sort=False)["rr"].mean().reset_index()
    relevant = set(zip(truth.loc[truth["rel"] == 1, "query_id"], truth.loc[truth["rel"] == 1, "photo_id"]))
    is_relevant = [(q, p) in relevant for q, p in zip(pool["query_id"].tolist(), pool["photo_id"].tolist())]
    return pool.assign(score=pool["rr"] + [2.0 if flag else 0.0 for flag in is_relevant])[["query_id", "photo_id", "score"]]


#: Task-specific oracle predictions: task name -> (label, builder).
ORACLES: dict[str, tuple[str, Callable[[TaskCode, SplitData, Any], Any]]] = {
    "fusion-cap": ("union of the inducers ∩ truth", _oracle_union),
    "fusion-div": ("perfect relevance (relevant photos first, no diversification)", _oracle_relevance),
}


# --------------------------------------------------------------------------- analysis


def analyse_split(task: TaskCode, split: SplitData, resamples: int, seed: int) -> dict[str, Any]:
    """Every number of one split: inducers, correlations, pairs, oracles, standard errors."""
    import numpy as np  # noqa: PLC0415

    from bundlekit.report import stats  # noqa: PLC0415
    from scoring_common.metrics.regression import average_ranks, spearman  # noqa: PLC0415

    scored = list(score_inducers(task, split))
    primary = _primary_key(task)
    correlation_task = scored[0].per_item.is_correlation
    descending = primary != "rmse"
    scored.sort(key=lambda s: (-s.scores[primary] if descending else s.scores[primary], s.name))
    names = [s.name for s in scored]
    n_items = len(scored[0].per_item.item_ids)
    indices = stats.bootstrap_indices(n_items, resamples, seed)

    inducer_rows = []
    for s in scored:
        if correlation_task:
            replicates = stats.statistic_replicates(lambda rows, s=s: s.per_item.metric(primary, rows), indices)
            se = float(np.nanstd(replicates, ddof=1))
            se_method = f"bootstrap, {resamples} resamples"
        else:
            se = stats.mean_standard_error(s.per_item.columns[primary])
            se_method = "s / sqrt(n)"
        inducer_rows.append({"inducer": s.name, "scores": s.scores, "se_primary": se, "se_method": se_method})

    if correlation_task:
        vectors = [s.per_item.columns["prediction"] for s in scored]
        truth = scored[0].per_item.columns["truth"]
    else:
        vectors = [s.per_item.columns[primary] for s in scored]
    present = ~np.any([np.isnan(v) for v in vectors], axis=0)
    matrix = [[1.0 if i == j else spearman(vectors[i][present], vectors[j][present]) for j in range(len(names))]
              for i in range(len(names))]
    off_diagonal = [matrix[i][j] for i in range(len(names)) for j in range(i + 1, len(names))]
    outputs = None if correlation_task else _output_correlation(task, split, names)

    pairs = []
    if correlation_task:
        top = range(min(TOP_INDUCERS_FOR_PAIRS, len(names)))
        for i in top:
            for j in top:
                if i < j:
                    fused = (average_ranks(vectors[i]) + average_ranks(vectors[j])) / 2.0
                    pairs.append({"a": names[i], "b": names[j], "correlation": matrix[i][j],
                                  "pair_mean_rank_" + primary: spearman(truth, fused)})
        pairs.sort(key=lambda p: (p["correlation"], p["a"], p["b"]))
    else:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                a, b = vectors[i][present], vectors[j][present]
                oracle = float(np.maximum(a, b).mean())
                better = max(float(a.mean()), float(b.mean()))
                pairs.append({"a": names[i], "b": names[j], "correlation": matrix[i][j],
                              "disagreement": float(np.mean(a != b)), "pair_oracle": oracle,
                              "oracle_gain": oracle - better})
        pairs.sort(key=lambda p: (-p["pair_oracle"], p["a"], p["b"]))

    oracles = []
    if not correlation_task:
        stacked = np.vstack([v[present] for v in vectors])
        oracles.append({"oracle": "best inducer per item", primary: float(stacked.max(axis=0).mean()),
                        "how": "mean over items of the best inducer's per-item score"})
    if task.name in ORACLES:
        label, builder = ORACLES[task.name]
        X = task.fusion_io.load_inducers(split.input_dir)
        with tempfile.TemporaryDirectory(prefix="bundlekit-oracle-") as work:
            result = score_prediction(task, split, X, label, builder(task, split, X), Path(work))
        oracles.append({"oracle": label, **result.scores, "how": "scored by the task's scoring program"})

    return {
        "split": split.name, "primary_metric": primary, "n_items": n_items, "n_inducers": len(names),
        "kind": "correlation" if correlation_task else "mean",
        "inducers": inducer_rows,
        "correlation": {"names": names, "matrix": matrix,
                        "of": "predictions" if correlation_task else f"per-item {primary}",
                        "median": float(np.median(off_diagonal)) if off_diagonal else math.nan,
                        "max": float(np.max(off_diagonal)) if off_diagonal else math.nan,
                        "min": float(np.min(off_diagonal)) if off_diagonal else math.nan},
        "output_correlation": outputs,
        "pairs": pairs[:TOP_PAIRS],
        "oracles": oracles,
        "standard_error": {"best_inducer": names[0], "se_primary": inducer_rows[0]["se_primary"],
                           "method": inducer_rows[0]["se_method"]},
    }


def _output_correlation(task: TaskCode, split: SplitData, names: list[str]) -> dict[str, float] | None:
    """Median, min and max pairwise Spearman of the inducers' raw scores, when they are one numeric column each."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    from scoring_common.metrics.regression import spearman  # noqa: PLC0415

    X = task.fusion_io.load_inducers(split.input_dir)
    if not isinstance(X, pd.DataFrame) or not all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes) \
            or set(map(str, X.columns)) != set(names):
        return None
    columns = [X[name].to_numpy(dtype=np.float64) for name in names]
    values = [spearman(columns[i], columns[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    if not values:
        return None
    return {"median": float(np.median(values)), "min": float(np.min(values)), "max": float(np.max(values))}


def _primary_key(task: TaskCode) -> str:
    """The primary metric: the first of the task's declared metrics (``TASK.metrics``, the leaderboard's first column)."""
    return task.hooks.TASK.primary.key


# --------------------------------------------------------------------------- output


def build_document(task: TaskCode, analyses: list[dict[str, Any]]) -> tuple[Any, dict]:
    """Tables and figures of the analyses, and the raw CSV tables."""
    from bundlekit.report import plots  # noqa: PLC0415
    from bundlekit.report.render import Document, Figure, Table, number  # noqa: PLC0415

    document = Document(title=f"{task.name}: what the inducers offer")
    csv_tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    for data in analyses:
        split, primary = data["split"], data["primary_metric"]
        keys = sorted({k for row in data["inducers"] for k in row["scores"]} - {"gain_pct"})
        keys.sort(key=lambda k: k != primary)
        corr = data["correlation"]
        document.paragraphs.append(
            f"{split} split: {data['n_inducers']} inducers over {data['n_items']} items. Best: "
            f"{data['standard_error']['best_inducer']}, standard error of its {primary} "
            f"{number(data['standard_error']['se_primary'])} ({data['standard_error']['method']}). Pairwise "
            f"Spearman correlation of the {corr['of']}: median {number(corr['median'], 2)}, max "
            f"{number(corr['max'], 2)}."
            + ("" if not data["output_correlation"] else
               f" Of their raw scores, row by row: median {number(data['output_correlation']['median'], 2)}, "
               f"max {number(data['output_correlation']['max'], 2)}."))
        document.parts.append(Table(
            f"Inducers on the {split} split", ["Inducer", *keys, f"SE of {primary}"],
            [[row["inducer"], *[number(row["scores"].get(k)) for k in keys], number(row["se_primary"])]
             for row in data["inducers"]], label=f"inducers-{split}",
            note="Scored by the task's scoring program as if submitted. SE: standard error of the primary metric "
                 f"for {data['n_items']} items ({data['standard_error']['method']})."))
        csv_tables[f"{split}-inducers"] = (["inducer", *keys, "se_primary"],
                                           [[row["inducer"], *[row["scores"].get(k) for k in keys], row["se_primary"]]
                                            for row in data["inducers"]])
        pair_keys = [k for k in data["pairs"][0] if k not in ("a", "b")] if data["pairs"] else []
        document.parts.append(Table(
            f"Most complementary pairs ({split})", ["Inducer A", "Inducer B", *pair_keys],
            [[p["a"], p["b"], *[number(p[k]) for k in pair_keys]] for p in data["pairs"]], label=f"pairs-{split}",
            note="pair_oracle: mean over items of the better of the two per item; oracle_gain: over the better "
                 "inducer of the pair; disagreement: share of items where their per-item scores differ. For "
                 "correlation tasks: pairs of the best inducers, least correlated first, with the metric of their "
                 "mean rank."))
        csv_tables[f"{split}-pairs"] = (["a", "b", *pair_keys], [[p["a"], p["b"], *[p[k] for k in pair_keys]]
                                                                 for p in data["pairs"]])
        oracle_keys = [k for k in keys if any(k in o for o in data["oracles"])]
        document.parts.append(Table(
            f"Oracle upper bounds ({split})", ["Oracle", *oracle_keys, "How"],
            [[o["oracle"], *[number(o.get(k)) for k in oracle_keys], o["how"]] for o in data["oracles"]]
            or [["none for this task", *["–" for _ in oracle_keys], ""]], label=f"oracles-{split}"))
        csv_tables[f"{split}-oracles"] = (["oracle", *oracle_keys], [[o["oracle"], *[o.get(k) for k in oracle_keys]]
                                                                     for o in data["oracles"]])
        csv_tables[f"{split}-correlation"] = (["inducer", *corr["names"]],
                                              [[name, *row] for name, row in zip(corr["names"], corr["matrix"])])
        document.parts.append(Figure(
            f"Scores of the inducers ({split})",
            plots.bars([row["inducer"] for row in data["inducers"]],
                       [row["scores"][primary] for row in data["inducers"]], f"{primary} of each inducer ({split})",
                       primary, [k == 0 for k in range(len(data["inducers"]))]),
            "Best first; the best inducer in red."))
        document.parts.append(Figure(
            f"Pairwise correlation ({split})",
            plots.heatmap(corr["names"], corr["matrix"], f"Spearman correlation of the {corr['of']} ({split})"),
            "Inducers in the order of the table (best first)."))
    return document, csv_tables


def configure_parser(parser: argparse.ArgumentParser) -> None:
    from bundlekit.project import add_bundles_dir_option  # noqa: PLC0415

    parser.add_argument("source", type=Path, help="bundle (folder or zip) or data folder")
    parser.add_argument("--split", choices=SPLITS, action="append",
                        help="split to analyse (repeatable; default: dev, and test when its reference data is given)")
    parser.add_argument("--task", help="task source (name under bundles/ or folder with task.py; default: SOURCE's name)")
    add_bundles_dir_option(parser)
    parser.add_argument("--out", type=Path, default=Path("inducers-report"), help="output folder (default inducers-report)")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples for correlation tasks' SE")
    parser.add_argument("--seed", type=int, default=2023, help="random seed (default 2023)")


def run_command(args: argparse.Namespace) -> int:
    from bundlekit.report.render import write_document  # noqa: PLC0415

    try:
        task = resolve_task(args.source, args.task, args.bundles_dir)
        with tempfile.TemporaryDirectory(prefix="bundlekit-inducers-") as scratch:
            _, splits = open_splits(args.source, Path(scratch))
            wanted = args.split or [s for s in SPLITS if s in splits and (s == "dev" or splits[s].has_reference)]
            missing = [s for s in wanted if s not in splits or not splits[s].has_reference]
            if missing:
                raise InducerError(f"split {missing[0]}: no reference data in {args.source} (the test reference is "
                                   "in the organisers' bundle or data only)")
            with contextlib.redirect_stdout(io.StringIO()):
                analyses = [analyse_split(task, splits[s], args.resamples, args.seed) for s in wanted]
    except InducerError as exc:
        print(f"bundlekit inducers: {exc}", file=sys.stderr)
        return 1
    document, csv_tables = build_document(task, analyses)
    data = {"task": task.name, "splits": analyses}
    for path in write_document(document, data, args.out, "inducers", csv_tables):
        print(path)
    return 0
