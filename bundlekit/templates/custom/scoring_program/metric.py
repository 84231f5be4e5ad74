"""The metric of __TASK_NAME__.

TODO(organiser): write your task's metric in task_metric below, give PRIMARY the key of
its primary value, and test it in tests/test_metric___TASK_ID__.py (hand-computed golden
values, edge cases, a cross-check against an independent implementation). The stub is a placeholder that works: a score derived from the mean
absolute error.

What the rest of the kit relies on:
- task_metric returns every key of competition.yaml's leaderboard columns except
  gain_pct and time_s (the scoring program adds those), each a finite float;
- the PRIMARY value is higher-is-better and positive for the best inducer: the build
  picks the best inducer by the largest primary value, and the gain divides by it (turn
  an error into a score, e.g. 1 / (1 + error), and show the error as a secondary column
  sorted ascending);
- numpy only: this file runs in the scoring container;
- ingestion_program/fusion_io.py's primary_metric computes the same primary value (for
  the best-inducer baseline and participants' local validation).
"""

from __future__ import annotations

import numpy as np

#: Key of the primary metric (a leaderboard column key; the gain is computed from it).
PRIMARY = "score"


def task_metric(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Score predicted values against the ground truth.

    TODO(organiser): replace this placeholder. It returns the mean absolute error and a
    score that grows as the error shrinks:

    .. math:: MAE = \\frac{1}{n} \\sum_{i=1}^{n} |y_i - \\hat y_i|, \\qquad
              score = \\frac{1}{1 + MAE}

    Parameters
    ----------
    y_true, y_pred : numpy.ndarray of float, shape (n,)
        Ground-truth and predicted values of the split's items, aligned, finite, ``n >= 1``.

    Returns
    -------
    dict of str to float
        ``score`` (primary, in (0, 1], higher is better) and ``mae`` (lower is better).
    """
    mae = float(np.mean(np.abs(np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64))))
    return {"score": 1.0 / (1.0 + mae), "mae": mae}
