"""Curves over training steps and summaries over seeds: quantile bands, medians with their interquartile
range, a paired signed-rank test, the value of a curve at a step, the first step a curve reaches a level,
the spikes of a loss curve, its time-averaged log, and a later bump of a decaying curve.

Pure functions on arrays or on stored trials (`cinit_tf.store.StoredTrial`); figures only through
`band`, which draws on an axis it is given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

QUANTILES = (0.25, 0.5, 0.75)  # median and interquartile range: a band that never goes below zero on a log axis


def seed_of(trial) -> int:
    return int(trial.settings["seeds"]["embedding"])


def quantile_band(curves, quantiles: Sequence[float] = QUANTILES) -> np.ndarray:
    """Per column, the given quantiles over rows (seeds), ignoring non-finite entries: shape (len(quantiles), n)."""
    a = np.asarray(curves, dtype=np.float64)
    a = np.where(np.isfinite(a), a, np.nan)
    out = np.full((len(quantiles), a.shape[1]), np.nan)
    has = np.any(np.isfinite(a), axis=0)
    if has.any():
        out[:, has] = np.nanquantile(a[:, has], quantiles, axis=0)
    return out


def value_at(steps, curve, step: int) -> float:
    """The curve at the last record at or before `step`; nan when nothing was recorded that late."""
    steps = np.asarray(steps)
    if steps[-1] < step:
        return float("nan")
    return float(np.asarray(curve, dtype=np.float64)[int(np.searchsorted(steps, step, side="right")) - 1])


def first_step_at_or_below(steps, curve, level: float) -> float:
    """The first recorded step at which the curve is <= level; nan when it never is."""
    c = np.asarray(curve, dtype=np.float64)
    hit = np.flatnonzero(np.isfinite(c) & (c <= level))
    return float(np.asarray(steps)[hit[0]]) if hit.size else float("nan")


def count_spikes(curve, rise: float, start_below: float) -> int:
    """Spikes of a loss curve: maximal runs of records above `rise` × the running minimum before them.

    Counting starts at the first record at or below `start_below`, so the rise of a test loss while
    the model memorises (before it generalises) is not a spike.
    """
    loss = np.asarray(curve, dtype=np.float64)
    start = np.flatnonzero(np.isfinite(loss) & (loss <= start_below))
    if not start.size:
        return 0
    low, spikes, inside = loss[start[0]], 0, False
    for x in loss[start[0] + 1:]:
        up = bool(x > rise * low)
        spikes += up and not inside
        inside = up
        low = min(low, x)
    return spikes


def time_mean_log10(steps, curve, floor: float) -> float:
    """⟨log10 y⟩: the time average of log10 of a curve over the steps (trapezoids between records; y floored first).

    nan when fewer than two records span a positive number of steps, or a value is non-finite.
    """
    steps = np.asarray(steps, dtype=np.float64)
    y = np.log10(np.maximum(np.asarray(curve, dtype=np.float64), floor))
    if steps.size < 2 or steps[-1] <= steps[0] or not np.isfinite(y).all():
        return float("nan")
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(steps)) / (steps[-1] - steps[0]))


def second_bump(steps, g, i_peak: int, until: int) -> tuple[float, float]:
    """(step, height) of a later bump: the highest g up to `until` after g has fallen below half its peak and then
    first stopped falling. Our reading of a decay's shape; (nan, nan) when g never rises again before `until`.
    """
    steps, g = np.asarray(steps), np.asarray(g, dtype=np.float64)
    end = int(np.searchsorted(steps, until, side="right"))
    half = np.flatnonzero(g[i_peak:end] <= g[i_peak] / 2)
    if not half.size:
        return float("nan"), float("nan")
    low = i_peak + int(half[0])
    rising = np.flatnonzero(np.diff(g[low:end]) > 0)
    if not rising.size:
        return float("nan"), float("nan")
    start = low + int(rising[0]) + 1
    j = start + int(np.argmax(g[start:end]))
    return float(steps[j]), float(g[j])


def band(ax, steps, curves, colour, label: str, lw: float = 1.6) -> None:
    """Median over seeds as a line and the interquartile range as a shaded band, on an axis the caller set up."""
    q = quantile_band(curves)
    ax.fill_between(steps, q[0], q[2], color=colour, alpha=0.2, lw=0)
    ax.plot(steps, q[1], color=colour, lw=lw, label=label)
