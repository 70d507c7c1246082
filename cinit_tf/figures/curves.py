"""Curves over training steps on an axis: a median with its interquartile band, each frequency's curve, and a
paired scatter against the diagonal."""

from __future__ import annotations

import numpy as np

from cinit_tf.measures import curves as curve_stats


def frequency_curves(ax, steps, Gk, mask, lo=None, hi=None) -> None:
    """Each frequency's curve (columns of Gk) over the steps in [lo, hi]: survivors (`mask`) in colour, dead ones grey."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    w = np.ones(steps.size, bool) if lo is None else (steps >= lo) & (steps <= hi)
    for k in np.flatnonzero(~mask):
        ax.plot(steps[w], Gk[w, k], color="grey", lw=0.6, alpha=0.6)
    for j, k in enumerate(np.flatnonzero(mask)):
        ax.plot(steps[w], Gk[w, k], color=cmap(j % 10), lw=1.4, label=f"k = {k + 1} (survives)")
    ax.plot([], [], color="grey", lw=0.6, label="dead frequencies")


def paired_scatter(ax, groups, xlabel: str, ylabel: str, equal: str) -> None:
    """Paired values, one point per seed: `groups` is [(label, colour, xs, ys)]; the dashed line y = x (`equal`)
    spans every finite value with a margin of 0.2, and both axes share its limits."""
    values = [v for _, _, xs, ys in groups for v in (*xs, *ys) if np.isfinite(v)]
    lo, hi = (min(values) - 0.2, max(values) + 0.2) if values else (-1.0, 1.0)
    for label, colour, xs, ys in groups:
        ax.scatter(xs, ys, s=16, color=colour, alpha=0.8, label=label)
    ax.plot([lo, hi], [lo, hi], color="grey", ls="--", lw=1, label=equal)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", fontsize=7)


def band(ax, steps, curves, colour, label: str, lw: float = 1.6) -> None:
    """Median over seeds as a line and the interquartile range as a shaded band, on an axis the caller set up."""
    q = curve_stats.quantile_band(curves)
    ax.fill_between(steps, q[0], q[2], color=colour, alpha=0.2, lw=0)
    ax.plot(steps, q[1], color=colour, lw=lw, label=label)
