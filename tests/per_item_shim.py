"""Per-item scores (contract C1) recomputed in the tests, to check the scoring programs' own files.

:func:`per_item` computes a run's per-item columns from the task's readers and metric
functions, apart from the programs' ``evaluate``; :func:`install` wraps
``scoring_common.program.score_submission`` so that every in-process scoring of the tests
checks the ``per_item_scores.csv`` the program wrote against it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bundlekit import BUNDLES_DIR
from bundlekit.build import load_module, module_name
from bundlekit.report.per_item import read_per_item, read_scoring_output
from scoring_common.seal import reference_key
from scoring_common.report import natural_order

TITLE_PREFIX = {"ImageCLEFfusion-int": "fusion-int", "ImageCLEFfusion-div": "fusion-div",
                "ImageCLEFfusion-cap": "fusion-cap", "ImageCLEFfusion-mem": "fusion-mem"}


def _score_module(task: str):
    return load_module(BUNDLES_DIR / task / "scoring_program" / "score.py", module_name(task, "score"))


def per_item(task: str, ref_dir: Path, run_path: Path) -> tuple[list[str], dict[str, list[float]]]:
    """Item ids (natural order) and the C1 columns of one run of ``task``."""
    m = _score_module(task)
    if task == "fusion-int":
        reference = m.read_ranking_reference(ref_dir / m.GROUNDTRUTH_FILE)
        score = m.read_ranking_run(run_path, reference)
        tie_rank = m.tie_rank_from_ids(reference.doc_ids)
        ap = {k: m.average_precision(reference.query, score, tie_rank, reference.relevant, reference.n_relevant, k)
              for k in (10, None)}
        order = natural_order(reference.query_ids)
        return ([reference.query_ids[q] for q in order],
                {"map_at_10": [float(ap[10][q]) for q in order], "map": [float(ap[None][q]) for q in order]})
    if task == "fusion-div":
        reference = m.read_diversity_reference(ref_dir)
        run = m.read_trec_run(run_path, reference.query_ids, max_per_query=m.MAX_RANKED_PER_QUERY)
        relevant, cluster = m.judge_run(run, reference)
        scores = m.diversity_at(run.query, run.position, relevant, cluster, reference.n_clusters, (20,))[20]
        order = natural_order(reference.query_ids)
        return ([reference.query_ids[q] for q in order],
                {"f1_at_20": [float(scores.f1[q]) for q in order], "cr_at_20": [float(scores.cluster_recall[q]) for q in order],
                 "p_at_20": [float(scores.precision[q]) for q in order]})
    if task == "fusion-cap":
        vocabulary: dict[str, int] = {}
        images_path = ref_dir / m.IMAGES_FILE
        image_index = m.read_image_list(images_path) if images_path.is_file() else None
        image_index, truth = m.read_groundtruth(ref_dir / m.GROUNDTRUTH_FILE, vocabulary, image_index)
        run = m.read_run(run_path, image_index, vocabulary)
        curated = m.read_concept_list(ref_dir / m.SECONDARY_CONCEPTS_FILE, vocabulary)
        n = len(image_index)
        primary = m.set_f1(truth.image, truth.concept, run.image, run.concept, n)
        secondary = m.set_f1(*m.keep_concepts(truth.image, truth.concept, curated),
                             *m.keep_concepts(run.image, run.concept, curated), n)
        ids = [None] * n
        for image, code in image_index.items():
            ids[code] = image
        order = natural_order(ids)
        return ([ids[i] for i in order],
                {"f1": [float(primary.f1[i]) for i in order], "f1_secondary": [float(secondary.f1[i]) for i in order]})
    if task == "fusion-mem":
        reference = m.read_tabular_reference(ref_dir / m.GROUNDTRUTH_FILE, m.NAMES, "regression")
        predicted = m.read_tabular_run(run_path, reference, m.NAMES)
        order = natural_order(reference.item_ids)
        return ([reference.item_ids[i] for i in order],
                {"prediction": [float(predicted[i]) for i in order], "truth": [float(reference.target[i]) for i in order]})
    raise ValueError(f"no per-item shim for {task}")


def install(monkeypatch) -> None:
    """Make every in-process scoring check the program's per_item_scores.csv against :func:`per_item`."""
    import scoring_common.program as program

    original = program.score_submission

    def scoring_with_per_item(task, input_dir, output_dir):
        scores = original(task, input_dir, output_dir)
        name = next(v for k, v in TITLE_PREFIX.items() if task.title.startswith(k))
        res = Path(input_dir) / "res"
        run = next(p for p in sorted(res.iterdir()) if p.is_file() and p.name not in ("metadata", "timing.json"))
        ids, columns = per_item(name, Path(input_dir) / "ref", run)
        written = read_scoring_output(Path(output_dir), [reference_key(Path(input_dir) / "ref")])
        assert list(written.item_ids) == ids and list(written.columns) == list(columns), output_dir
        for key, values in columns.items():
            np.testing.assert_allclose(written.columns[key], np.array(values, dtype=float), rtol=0, atol=1e-12)
        return scores

    monkeypatch.setattr(program, "score_submission", scoring_with_per_item)


def check_means(path: Path, scores: dict[str, float]) -> None:
    """C1's promise: each column's mean over non-empty cells is the scores.json value."""
    table = read_per_item(path)
    if table.is_correlation:
        return
    for key, values in table.columns.items():
        assert math.isclose(float(np.nanmean(values)), scores[key], abs_tol=1e-9), key
