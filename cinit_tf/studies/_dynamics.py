"""Curves over training steps that the App. G and App. H studies share: quantile bands over seeds, the
example seed chosen by a stated rule, paired and one-sample signed-rank tests, and valid trials.

Pure functions on arrays or on stored trials (`cinit_tf.store.StoredTrial`); figures only through
`band`, which draws on an axis it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

QUANTILES = (0.25, 0.5, 0.75)  # median and interquartile range: a band that never goes below zero on a log axis


def seed_of(trial) -> int:
    return int(trial.settings["seeds"]["embedding"])


def split_valid(trials: Sequence) -> tuple[list, list]:
    """(trials whose training loss stayed finite, trials whose did not), each in seed order."""
    ordered = sorted(trials, key=lambda t: (seed_of(t), t.id))
    good = [t for t in ordered if t.result.nonfinite_step is None]
    bad = [t for t in ordered if t.result.nonfinite_step is not None]
    return good, bad


def quantile_band(curves, quantiles: Sequence[float] = QUANTILES) -> np.ndarray:
    """Per column, the given quantiles over rows (seeds), ignoring non-finite entries: shape (len(quantiles), n)."""
    a = np.asarray(curves, dtype=np.float64)
    a = np.where(np.isfinite(a), a, np.nan)
    out = np.full((len(quantiles), a.shape[1]), np.nan)
    has = np.any(np.isfinite(a), axis=0)
    if has.any():
        out[:, has] = np.nanquantile(a[:, has], quantiles, axis=0)
    return out


def median_example(items: Sequence, values: Sequence[float]):
    """The item whose value is nearest the median of the finite values (the first in order on ties); None if none is finite.

    The rule every figure of these studies states for its example seed: a typical run, not a chosen one.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if not finite.any():
        return None
    med = float(np.median(v[finite]))
    dist = np.where(finite, np.abs(v - med), np.inf)
    return items[int(np.argmin(dist))]


def median_iqr(values) -> dict:
    """{"median", "q1", "q3", "n"} of the finite values (nan when there is none)."""
    a = np.asarray([float(x) for x in values], dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"median": float("nan"), "q1": float("nan"), "q3": float("nan"), "n": 0}
    q1, med, q3 = np.quantile(a, QUANTILES)
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "n": int(a.size)}


def signed_rank(differences, alternative: str = "two-sided") -> dict:
    """Wilcoxon signed-rank test of differences against 0 (paired seeds, or values minus a reference).

    Non-finite differences are left out and counted; zero differences are dropped by scipy's default
    ("wilcox"). {"n", "left_out", "positive", "negative", "zero", "median", "statistic", "p"}; p is nan
    when no non-zero difference is left.
    """
    from scipy import stats

    d = np.asarray([float(x) for x in differences], dtype=np.float64)
    finite = d[np.isfinite(d)]
    out = {"n": int(finite.size), "left_out": int(d.size - finite.size),
           "positive": int(np.sum(finite > 0)), "negative": int(np.sum(finite < 0)), "zero": int(np.sum(finite == 0)),
           "median": float(np.median(finite)) if finite.size else float("nan"),
           "statistic": float("nan"), "p": float("nan")}
    if np.count_nonzero(finite) >= 1:
        res = stats.wilcoxon(finite, alternative=alternative)
        out["statistic"], out["p"] = float(res.statistic), float(res.pvalue)
    return out


def first_step_at_or_below(steps, curve, level: float) -> float:
    """The first recorded step at which the curve is <= level; nan when it never is."""
    c = np.asarray(curve, dtype=np.float64)
    hit = np.flatnonzero(np.isfinite(c) & (c <= level))
    return float(np.asarray(steps)[hit[0]]) if hit.size else float("nan")


def log10_or_nan(x: float, floor: float = 0.0) -> float:
    """log10 of a positive number (raised to `floor` first when given); nan otherwise."""
    x = max(float(x), floor)
    return math.log10(x) if x > 0 and math.isfinite(x) else float("nan")


def band(ax, steps, curves, colour, label: str, lw: float = 1.6) -> None:
    """Median over seeds as a line and the interquartile range as a shaded band, on an axis the caller set up."""
    q = quantile_band(curves)
    ax.fill_between(steps, q[0], q[2], color=colour, alpha=0.2, lw=0)
    ax.plot(steps, q[1], color=colour, lw=lw, label=label)
