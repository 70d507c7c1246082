"""What a study over a grid of sizes (d, p) draws and counts: the median of many draws at each grid value
with their 5–95% percentile band, a base-2 axis whose ticks are the grid, and how its claims fell.

Pure functions on arrays and claims; drawing only on a matplotlib axis handed in (figures are finished
by `_figures`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cinit_tf.stats.claims import ORDER, Claim

BAND = (5.0, 95.0)  # percentiles of the spread over draws drawn around a median


def band(values) -> tuple[float, float, float]:
    """(median, 5th percentile, 95th percentile) of the finite values: a spread that never leaves their range."""
    a = np.asarray(values, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return (float("nan"),) * 3
    lo, hi = np.percentile(a, BAND)
    return float(np.median(a)), float(lo), float(hi)


def claim_counts(claims: Sequence[Claim]) -> str:
    """ "2 reproduced, 1 partly" — how the sub-claims fell, for the index line of a study with many of them."""
    out = []
    for v in reversed(ORDER):
        n = sum(c.verdict == v for c in claims)
        if n:
            out.append(f"{n} {v}")
    return ", ".join(out) if out else "no claims"


def is_prime(n: int) -> bool:
    """Whether a grid value (a modulus p) is prime: composite p are marked apart in tables and figures."""
    return n >= 2 and all(n % q for q in range(2, int(n**0.5) + 1))
