"""Verdict rules every study applies (docs/method.md#verdict-rules): declared before the numbers.

A section's claims are checked one by one, each with a `Claim`; its headline verdict is the weakest
of them (`headline`). The rules:

- a *number* claim is reproduced when the paper's number is statistically compatible with ours:
  two samples (Welch's t-test, 95% CI of the difference) where the paper gives its spread and sample
  size (`number_vs_sample`); our 95% CI, or a margin declared in advance, where it gives a bare
  number (`number_vs_value`). It is *partly* reproduced when the direction holds but the number
  does not, *not reproduced* when the direction fails;
- a *qualitative* claim (a direction: "rises", "falls", "faster") is reproduced when its direction
  holds at p < `ALPHA` with an effect size and its CI (`direction`); a direction seen but not
  significant is *partly*; the opposite direction, or nothing, is *not reproduced*;
- *not assessable* when fewer than a declared share of the trials are valid (`assessable`): invalid
  trials (non-finite, or not generalising where the claim needs it) are excluded from every
  statistic and counted in the report.

Everything here is pure: numbers in, `Claim` out, so every rule has known-answer tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
NOT_ASSESSABLE = "not assessable"
ORDER = (NOT_ASSESSABLE, NOT_REPRODUCED, PARTLY, REPRODUCED)  # weakest first
ALPHA = 0.01  # significance a qualitative claim needs
MIN_VALID_SHARE = 0.5  # default share of valid trials below which a claim is not assessable


@dataclass(frozen=True)
class Claim:
    """One sub-claim of a section: what it says, the verdict its rule gave, and the numbers behind it."""

    name: str  # e.g. "learned q ranks high"
    verdict: str  # one of ORDER
    detail: str  # the numbers the rule used, in a sentence

    def line(self) -> str:
        return f"{self.name}: **{self.verdict}** — {self.detail}"


def headline(claims: Sequence[Claim]) -> str:
    """The section's verdict: the weakest of its claims (not assessable < not reproduced < partly < reproduced)."""
    if not claims:
        return NOT_ASSESSABLE
    return min((c.verdict for c in claims), key=ORDER.index)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.3g}"


def _fmt_p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "p = n/a"
    return "p < 1e-6" if p < 1e-6 else f"p = {p:.2g}"


def assessable(n_valid: int, n_total: int, min_share: float = MIN_VALID_SHARE, min_count: int = 3) -> bool:
    """Enough valid trials to judge a claim: at least `min_count` and at least `min_share` of all."""
    return n_total > 0 and n_valid >= min_count and n_valid >= min_share * n_total


def not_assessable(name: str, n_valid: int, n_total: int, why: str = "valid") -> Claim:
    return Claim(name, NOT_ASSESSABLE, f"only {n_valid} of {n_total} trials are {why}; too few to judge")


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, lo, hi, n) of the finite values: Student-t interval; (m, m, m, 1) for one value."""
    from scipy import stats

    a = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    n = int(a.size)
    if n == 0:
        return (float("nan"),) * 3 + (0,)
    m = float(a.mean())
    if n < 2:
        return m, m, m, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(a.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half, n


def number_vs_sample(name: str, ours: Iterable[float], paper_mean: float, paper_std: float, paper_n: int,
                     direction_holds: bool) -> Claim:
    """A number the paper gives as mean ± std over n: Welch's test of our sample against the paper's.

    Compatible (p >= 0.05, i.e. the 95% CI of the difference contains 0) → reproduced, if the
    direction holds; incompatible but the direction holds → partly; direction fails → not reproduced.
    """
    from scipy import stats

    a = np.asarray([v for v in ours if v is not None and math.isfinite(v)], dtype=float)
    if a.size < 2:
        return Claim(name, NOT_ASSESSABLE, f"{a.size} valid value(s); Welch's test needs at least 2")
    m, s, n = float(a.mean()), float(a.std(ddof=1)), int(a.size)
    va, vb = s * s / n, paper_std * paper_std / paper_n
    se = math.sqrt(va + vb)
    diff = m - paper_mean
    if se == 0:
        p, lo, hi = (1.0 if diff == 0 else 0.0), diff, diff
    else:
        df = (va + vb) ** 2 / ((va * va / (n - 1) if n > 1 else 0) + (vb * vb / (paper_n - 1) if paper_n > 1 else 0))
        t = diff / se
        p = float(2 * stats.t.sf(abs(t), df))
        half = float(stats.t.ppf(0.975, df)) * se
        lo, hi = diff - half, diff + half
    detail = (f"ours {_fmt(m)} ± {_fmt(s)} (n = {n}) against the paper's {_fmt(paper_mean)} ± {_fmt(paper_std)} "
              f"(n = {paper_n}): difference {_fmt(diff)}, 95% CI [{_fmt(lo)}, {_fmt(hi)}], Welch {_fmt_p(p)}")
    if not direction_holds:
        return Claim(name, NOT_REPRODUCED, detail + "; the direction of the claim does not hold")
    if p >= 0.05:
        return Claim(name, REPRODUCED, detail + "; compatible")
    return Claim(name, PARTLY, detail + "; the direction holds but the number is not compatible")


def number_vs_value(name: str, ours: Iterable[float], paper_value: float, direction_holds: bool,
                    margin: float | None = None, margin_why: str = "") -> Claim:
    """A bare number from the paper: reproduced when it lies in our 95% CI (widened by a margin declared
    in advance, with its reason); partly when the direction holds but it lies outside; not reproduced
    when the direction fails."""
    m, lo, hi, n = mean_ci(ours)
    if n == 0:
        return Claim(name, NOT_ASSESSABLE, "no valid value")
    wlo, whi = (lo, hi) if margin is None else (lo - margin, hi + margin)
    detail = f"ours {_fmt(m)} (n = {n}, 95% CI [{_fmt(lo)}, {_fmt(hi)}]) against the paper's {_fmt(paper_value)}"
    if margin is not None:
        detail += f", with a margin of ±{_fmt(margin)} declared in advance ({margin_why})"
    if not direction_holds:
        return Claim(name, NOT_REPRODUCED, detail + "; the direction of the claim does not hold")
    if wlo <= paper_value <= whi:
        return Claim(name, REPRODUCED, detail + "; inside")
    return Claim(name, PARTLY, detail + "; the direction holds but the paper's number lies outside")


def direction(name: str, effect: float, lo: float, hi: float, p: float, expected_sign: int, effect_name: str,
              alpha: float = ALPHA) -> Claim:
    """A qualitative claim: the effect (with its 95% CI and p-value) must have the expected sign at p < alpha.

    Expected sign and p < alpha → reproduced; expected sign but p >= alpha → partly; zero or the
    opposite sign → not reproduced; no finite effect → not assessable.
    """
    if effect is None or not math.isfinite(effect):
        return Claim(name, NOT_ASSESSABLE, f"{effect_name} undefined (too few or constant values)")
    detail = f"{effect_name} = {_fmt(effect)} (95% CI [{_fmt(lo)}, {_fmt(hi)}]), {_fmt_p(p)}; needs sign {'+' if expected_sign > 0 else '−'} at p < {alpha:g}"
    if np.sign(effect) != np.sign(expected_sign):
        return Claim(name, NOT_REPRODUCED, detail + "; the opposite direction (or none)")
    if p is not None and math.isfinite(p) and p < alpha:
        return Claim(name, REPRODUCED, detail)
    return Claim(name, PARTLY, detail + "; the direction holds but is not significant")


def spearman_ci(x: Iterable[float], y: Iterable[float]) -> tuple[float, float, float, float, int]:
    """(rho, lo, hi, p, n): Spearman's rank correlation with a Fisher-z 95% CI (SE = 1.03/√(n−3))."""
    from scipy import stats

    x, y = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan"), float("nan"), float("nan"), n
    rho, p = stats.spearmanr(x, y)
    rho = float(np.clip(rho, -0.999999, 0.999999))
    z, se = math.atanh(rho), 1.03 / math.sqrt(n - 3)
    return rho, math.tanh(z - 1.96 * se), math.tanh(z + 1.96 * se), float(p), n


def trend(name: str, x: Iterable[float], y: Iterable[float], expected_sign: int, what: str = "Spearman ρ") -> Claim:
    """A monotone-trend claim ("rises with d") tested by Spearman's ρ with its CI, at p < ALPHA."""
    rho, lo, hi, p, n = spearman_ci(x, y)
    return direction(name, rho, lo, hi, p, expected_sign, f"{what} (n = {n})")
