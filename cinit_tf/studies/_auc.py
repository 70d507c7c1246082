"""The area under the ROC curve of a score for a binary outcome, with a bootstrap interval that resamples runs.

Pure functions on arrays. Method: docs/method.md#statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def auc(scores, labels) -> float:
    """Area under the ROC curve of `scores` for the positive `labels`: Mann–Whitney U / (n₁·n₀), ties counted half.

    0.5 = no better than chance; nan when one class is empty.
    """
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=bool).ravel()
    keep = np.isfinite(s)
    s, y = s[keep], y[keep]
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(s)
    u = float(ranks[y].sum()) - n1 * (n1 + 1) / 2.0
    return u / (n1 * n0)


def bootstrap_auc(per_run: Sequence[tuple[np.ndarray, np.ndarray]], resamples: int, seed: int = 0,
                  level: float = 0.95) -> tuple[float, float, float]:
    """(AUC pooled over runs, lo, hi): a percentile bootstrap CI that resamples whole runs with replacement.

    Frequencies of one run share an MLP, a split and an embedding, so the run is the unit of resampling.
    `per_run` holds (scores, labels) of each run. The resampling stream is fixed by `seed`, so a report
    regenerates byte for byte.
    """
    if not per_run:
        return float("nan"), float("nan"), float("nan")
    scores = [np.asarray(s, dtype=np.float64).ravel() for s, _ in per_run]
    labels = [np.asarray(y, dtype=bool).ravel() for _, y in per_run]
    point = auc(np.concatenate(scores), np.concatenate(labels))
    g = np.random.default_rng(seed)
    n = len(per_run)
    values = []
    for _ in range(resamples):
        pick = g.integers(0, n, n)
        values.append(auc(np.concatenate([scores[i] for i in pick]), np.concatenate([labels[i] for i in pick])))
    values = np.asarray(values)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return point, float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    return point, float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
