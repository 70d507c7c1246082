"""A sweep over sizes on an axis: the median of many draws with its 5–95% band, on a base-2 axis whose ticks are
the grid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from cinit_tf.measures import sweeps
from cinit_tf.stats import formatting


def draw_band(
    ax,
    xs: Sequence[float],
    per_x: Sequence[Iterable[float]],
    colour,
    label: str,
    marker: str = "o",
    ls: str = "-",
) -> None:
    """Median over draws at each x, with the 5–95% band of the draws shaded (bounds are draws, so never below 0)."""
    stats = np.array([sweeps.band(v) for v in per_x])
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
        labels.append((str(int(v)) if float(v).is_integer() else formatting.fmt(v)) if show else "")
        last = v if show else last
    ax.set_xticklabels(labels, fontsize=8)
    ax.minorticks_off()
