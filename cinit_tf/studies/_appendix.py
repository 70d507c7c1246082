"""Helpers the appendix studies share (§5 Fig. 8, App. C, D, E): the AUC with a bootstrap interval over
runs, percentile bands over draws, a "stays the same" rule for a level that should not move with d,
a log-log slope and base-2 axes. Which trials are valid is `_common.split_valid`.

Pure functions on stored trials (`cinit_tf.store.StoredTrial`) or arrays; figures only through
`_figures`. Method: docs/method.md#verdict-rules, #statistics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from cinit_tf.studies import _common as C
from cinit_tf.studies import _verdicts as V

BAND = (5.0, 95.0)  # percentiles of the spread over draws drawn around a median


# ---------------------------------------------------------------- AUC


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


# ---------------------------------------------------------------- bands and levels


def band(values) -> tuple[float, float, float]:
    """(median, 5th percentile, 95th percentile) of the finite values: a spread that never leaves their range."""
    a = np.asarray(values, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return (float("nan"),) * 3
    lo, hi = np.percentile(a, BAND)
    return float(np.median(a)), float(lo), float(hi)


def draw_band(ax, xs: Sequence[float], per_x: Sequence[Iterable[float]], colour, label: str, marker: str = "o",
              ls: str = "-") -> None:
    """Median over draws at each x, with the 5–95% band of the draws shaded (bounds are draws, so never below 0)."""
    stats = np.array([band(v) for v in per_x])
    ax.fill_between(xs, stats[:, 1], stats[:, 2], color=colour, alpha=0.18, lw=0)
    ax.plot(xs, stats[:, 0], color=colour, marker=marker, ms=3.5, lw=1.4, ls=ls, label=label)




def log2_ticks(ax, values: Sequence[float]) -> None:
    """A base-2 log x axis whose ticks are exactly the grid values, printed as integers."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(values))
    labels, last = [], None
    for v in values:
        # A label closer than a factor 1.4 to the previous one (59 and 64, 100 and 128) would overprint it: the tick stays, unlabelled.
        show = last is None or v / last >= 1.4
        labels.append((str(int(v)) if float(v).is_integer() else C.fmt(v)) if show else "")
        last = v if show else last
    ax.set_xticklabels(labels, fontsize=8)
    ax.minorticks_off()


def claim_counts(claims: Sequence[V.Claim]) -> str:
    """"2 reproduced, 1 partly" — how the sub-claims fell, for the index line."""
    out = []
    for v in reversed(V.ORDER):
        n = sum(c.verdict == v for c in claims)
        if n:
            out.append(f"{n} {v}")
    return ", ".join(out) if out else "no claims"


def finite_or_nan(x) -> float:
    return float(x) if x is not None and math.isfinite(float(x)) else float("nan")
