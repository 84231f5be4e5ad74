"""``fusion_io.py`` derived from a task's declaration, for a task of a standard kind that ships none.

A task's ``ingestion_program/fusion_io.py`` declares its prediction type
(``scoring_common/predictions/``) and exposes the type's methods as the module's
functions, the API participants use (``fusion_io.load_inducers``, ``check_prediction``,
``primary_metric``...). When neither the task nor its kind's template has a ``fusion_io.py``
(the ranking, classification, multilabel and retrieval kinds have none), the layers
(``bundlekit.layers``) write one from ``TASK`` (:func:`derived_fusion_io`): the
kind picks the type, ``item_columns`` its columns, ``classes`` the classes, the primary
metric (``metrics[0]``) the local metric and its cutoff. A task whose primary metric no
standard one matches ships its own.
"""

from __future__ import annotations

import re
from bundlekit.declaration import DeclarationError, TaskDeclaration

#: Where a task's fusion_io.py sits, relative to the task folder.
FUSION_IO = "ingestion_program/fusion_io.py"
#: ``<metric>_at_<k>``: the cutoff of a primary metric such as ``map_at_10`` or ``f1_at_20``.
_CUTOFF = re.compile(r"_at_(\d+)\Z")
#: Primary metrics of the regression kind: key -> function of ``scoring_common.metrics.regression``.
REGRESSION_METRICS = {"spearman": "spearman", "pearson": "pearson", "rmse": "rmse"}
#: Primary metrics of the classification kind: key -> method of ``ItemClasses``.
CLASSIFICATION_METRICS = {"macro_f1": "macro_f1", "accuracy": "accuracy"}

#: Item words that read better spelled out in messages.
_WORDS = {"doc": "document", "img": "image", "vid": "video"}
#: How every fusion_io exposes its type's functions and names.
EXPORT = ("#: The type's functions and names: load_inducers, load_truth, check_prediction, write_run, "
          "RUN_FILE_NAME...\n#: (``PREDICTION.module_names()``).\nglobals().update(PREDICTION.module_names())")


def derived_fusion_io(declaration: TaskDeclaration) -> str:
    """The text of the ``fusion_io.py`` of a task of a standard kind (deterministic).

    Raises
    ------
    DeclarationError
        On a primary metric the kind's type cannot compute, or item columns the kind cannot use.
    """
    kind, columns, primary = declaration.kind, tuple(declaration.item_columns), declaration.metrics[0]
    metric_import = ""
    if kind == "ranking":
        _expect_columns(declaration, 2)
        module, type_name = "per_item", "ItemScores"
        arguments = f"item_columns={columns!r}, item={_word(columns[1])!r}, cutoff={_cutoff(declaration, 10)}"
    elif kind == "regression":
        _expect_columns(declaration, 1)
        module, type_name = "per_item", "ItemValues"
        arguments = f"item_columns={columns!r}, item={_word(columns[0])!r}"
        function = _known_metric(declaration, REGRESSION_METRICS)
        metric_import = f"from scoring_common.metrics.regression import {function}\n"
    elif kind == "classification":
        _expect_columns(declaration, 1)
        _known_metric(declaration, CLASSIFICATION_METRICS)
        module, type_name = "per_item", "ItemClasses"
        arguments = (f"item_columns={columns!r}, item={_word(columns[0])!r}, classes=CLASSES, "
                     f"primary={primary.key!r}")
    elif kind == "retrieval":
        _expect_columns(declaration, 2)
        module, type_name = "ranked_lists", "RankedLists"
        arguments = f"item_column={columns[1]!r}, item={_word(columns[1])!r}, cutoff={_cutoff(declaration, 20)}"
    elif kind == "multilabel":
        _expect_columns(declaration, 1)
        module, type_name = "label_sets", "LabelSets"
        arguments = f"item_column={columns[0]!r}, item={_word(columns[0])!r}"
    else:
        raise DeclarationError(f"kind {kind!r}: no prediction type to derive fusion_io.py from; ship "
                               "ingestion_program/fusion_io.py")
    lines = [
        f'"""The {declaration.name} data as pandas objects, for a participant\'s ``Fusion`` and for the kit.',
        "",
        f"Derived by the build from task.py's declaration (kind {kind}): the prediction type",
        f"``{type_name}`` of ``scoring_common/predictions/{module}.py`` documents every function.",
        '"""',
        "",
        *([metric_import.rstrip("\n")] if metric_import else []),
        f"from scoring_common.predictions.{module} import {type_name}",
        "",
    ]
    if kind == "classification":
        lines += ["#: The task's classes, in the scoring program's order.",
                  f"CLASSES = {tuple(declaration.classes or ())!r}"]
    lines += [f"PREDICTION = {type_name}({arguments})", f"PRIMARY_METRIC_TITLE = {primary.title!r}", EXPORT]
    if kind == "regression":
        lines += ["", "",
                  "def primary_metric(prediction, y) -> float:",
                  f'    """The leaderboard\'s primary metric, {primary.title}, of ``prediction`` against ``y``."""',
                  f"    return float({function}(y.to_numpy(dtype='float64'), PREDICTION.aligned(prediction, y)))"]
    return "\n".join(lines) + "\n"


def _expect_columns(declaration: TaskDeclaration, count: int) -> None:
    if len(declaration.item_columns) != count:
        raise DeclarationError(f"item_columns {tuple(declaration.item_columns)!r}: the {declaration.kind} kind "
                               f"takes {count} item column(s) to derive fusion_io.py; declare {count} or ship "
                               "ingestion_program/fusion_io.py")


def _cutoff(declaration: TaskDeclaration, default: int) -> int:
    """The cutoff of the primary metric (``map_at_10`` -> 10), else ``default``."""
    match = _CUTOFF.search(declaration.metrics[0].key)
    return int(match.group(1)) if match else default


def _known_metric(declaration: TaskDeclaration, known: dict[str, str]) -> str:
    key = declaration.metrics[0].key
    if key not in known:
        raise DeclarationError(f"metrics: the primary metric {key!r} is not one fusion_io.py can be derived for "
                               f"({', '.join(known)}); ship ingestion_program/fusion_io.py with its primary_metric")
    return known[key]


def _word(column: str) -> str:
    """What an item is called in messages: its id column without ``_id`` (``video_id`` -> ``video``)."""
    word = column[:-3] if column.endswith("_id") and len(column) > 3 else column
    return _WORDS.get(word, word)
