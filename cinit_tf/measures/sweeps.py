"""What a study over a grid of sizes (d, p) draws and counts: the median of many draws at each grid value
with their 5–95% percentile band, a base-2 axis whose ticks are the grid, and how its claims fell.

Pure functions on arrays and claims; drawing only on a matplotlib axis handed in (figures are finished
by `_figures`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from cinit_tf.stats import formatting, verdicts

BAND = (5.0, 95.0)  # percentiles of the spread over draws drawn around a median


def band(values) -> tuple[float, float, float]:
    """(median, 5th percentile, 95th percentile) of the finite values: a spread that never leaves their range."""
    a = np.asarray(values, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return (float("nan"),) * 3
    lo, hi = np.percentile(a, BAND)
    return float(np.median(a)), float(lo), float(hi)


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
        labels.append((str(int(v)) if float(v).is_integer() else formatting.fmt(v)) if show else "")
        last = v if show else last
    ax.set_xticklabels(labels, fontsize=8)
    ax.minorticks_off()


def claim_counts(claims: Sequence[verdicts.Claim]) -> str:
    """ "2 reproduced, 1 partly" — how the sub-claims fell, for the index line of a study with many of them."""
    out = []
    for v in reversed(verdicts.ORDER):
        n = sum(c.verdict == v for c in claims)
        if n:
            out.append(f"{n} {v}")
    return ", ".join(out) if out else "no claims"


def is_prime(n: int) -> bool:
    """Whether a grid value (a modulus p) is prime: composite p are marked apart in tables and figures."""
    return n >= 2 and all(n % q for q in range(2, int(n**0.5) + 1))
