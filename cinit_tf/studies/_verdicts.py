"""Verdict rules every study applies (docs/method.md#verdict-rules): declared before the numbers.

A section's claims are checked one by one, each with a `Claim`; its headline verdict is the weakest
of them (`headline`). The rules:

- a *number* claim is reproduced when the paper's number is statistically compatible with ours:
  two samples (Welch's t-test, 95% CI of the difference) where the paper gives its spread and sample
  size (`number_vs_sample`); our 95% CI, or a margin declared in advance, where it gives a bare
  number (`number_vs_value`). It is *partly* reproduced when the direction holds but the number
  does not, *not reproduced* when the direction fails;
- a *qualitative* claim (a direction: "rises", "falls", "faster") is reproduced when its direction
  holds at p < `ALPHA` with an effect size and its CI (`direction`); a direction whose CI is clear of
  0 but not significant is *partly*; a CI wholly on the opposite side is *not reproduced*; a CI
  holding both signs is *not assessable* (too few trials, with the n that would decide it);
- *not assessable* also when fewer than a declared share of the trials are valid (`assessable`):
  invalid trials (non-finite, or not generalising where the claim needs it) are excluded from every
  statistic and counted in the report.

`direction_outcomes` and `rate_outcomes` put the outcomes of `direction` and `rate_claim` into the
words of a study's VERDICT_RULE, so that a rule's text cannot drift from what the rule does.

Everything here is pure: numbers in, `Claim` out, so every rule has known-answer tests.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from cinit_tf.studies import _common as C
from cinit_tf.studies import _stats as S

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
    value: float | None = None  # the claim's own number (a mean, an effect, a rate), for checking a rerun against it
    ci: tuple[float, float] | None = None  # its 95% interval
    paper: str = ""  # the paper's number for this claim, where it gives one

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


def number_vs_sample(name: str, ours: Iterable[float], paper_mean: float, paper_std: float, paper_n: int,
                     direction_holds: bool) -> Claim:
    """A number the paper gives as mean ± std over n: Welch's test of our sample against the paper's.

    Compatible (p >= 0.05, i.e. the 95% CI of the difference contains 0) → reproduced, if the
    direction holds; incompatible but the direction holds → partly; direction fails → not reproduced.
    """
    a = np.asarray([v for v in ours if v is not None and math.isfinite(v)], dtype=float)
    if a.size < 2:
        return Claim(name, NOT_ASSESSABLE, f"{a.size} valid value(s); Welch's test needs at least 2")
    m, s, n = float(a.mean()), float(a.std(ddof=1)), int(a.size)
    w = S.welch_moments(m, s, n, paper_mean, paper_std, paper_n)
    _, m_lo, m_hi, _ = S.mean_ci(a)
    diff, p, (lo, hi) = w["difference"], w["p"], w["ci95"]
    detail = (f"ours {_fmt(m)} ± {_fmt(s)} (n = {n}) against the paper's {_fmt(paper_mean)} ± {_fmt(paper_std)} "
              f"(n = {paper_n}): difference {_fmt(diff)}, 95% CI [{_fmt(lo)}, {_fmt(hi)}], Welch {_fmt_p(p)}")
    if not direction_holds:
        return Claim(name, NOT_REPRODUCED, detail + "; the direction of the claim does not hold", value=m, ci=(m_lo, m_hi), paper=f"{_fmt(paper_mean)} ± {_fmt(paper_std)} (n = {paper_n})")
    if p >= 0.05:
        return Claim(name, REPRODUCED, detail + "; compatible", value=m, ci=(m_lo, m_hi), paper=f"{_fmt(paper_mean)} ± {_fmt(paper_std)} (n = {paper_n})")
    return Claim(name, PARTLY, detail + "; the direction holds but the number is not compatible", value=m, ci=(m_lo, m_hi), paper=f"{_fmt(paper_mean)} ± {_fmt(paper_std)} (n = {paper_n})")


def number_vs_value(name: str, ours: Iterable[float], paper_value: float, direction_holds: bool,
                    margin: float | None = None, margin_why: str = "") -> Claim:
    """A bare number from the paper: reproduced when it lies in our 95% CI (widened by a margin declared
    in advance, with its reason); partly when the direction holds but it lies outside; not reproduced
    when the direction fails."""
    m, lo, hi, n = S.mean_ci(ours)
    if n == 0:
        return Claim(name, NOT_ASSESSABLE, "no valid value")
    wlo, whi = (lo, hi) if margin is None else (lo - margin, hi + margin)
    detail = f"ours {_fmt(m)} (n = {n}, 95% CI [{_fmt(lo)}, {_fmt(hi)}]) against the paper's {_fmt(paper_value)}"
    if margin is not None:
        detail += f", with a margin of ±{_fmt(margin)} declared in advance ({margin_why})"
    if not direction_holds:
        return Claim(name, NOT_REPRODUCED, detail + "; the direction of the claim does not hold", value=m, ci=(lo, hi), paper=_fmt(paper_value))
    if wlo <= paper_value <= whi:
        return Claim(name, REPRODUCED, detail + "; inside", value=m, ci=(lo, hi), paper=_fmt(paper_value))
    return Claim(name, PARTLY, detail + "; the direction holds but the paper's number lies outside", value=m, ci=(lo, hi), paper=_fmt(paper_value))


Z_ALPHA = 2.5758293035489004  # two-sided normal quantile at ALPHA = 0.01
Z_POWER = 0.8416212335729143  # the normal quantile of 80% power
MODERATE_RHO = 0.3  # a moderate monotone trend: what "more data" is sized to detect when the estimate points the other way


def too_wide(n: int | None, effect: float, lo: float, hi: float) -> str:
    """Why an interval that holds both directions cannot judge, and about how many trials would.

    With the effect in the claimed direction, N is the sample at which an interval as wide relative to √n
    would exclude 0 at p < ALPHA: N ≈ n · (z_ALPHA · half-width / (1.96 · |effect|))².
    """
    half = (hi - lo) / 2
    if n and effect and half > 0:
        need = math.ceil(n * (Z_ALPHA * half / (1.959963984540054 * abs(effect))) ** 2)
        return f"interval too wide: needs ≈ {need} (n = {n} now)"
    return "interval too wide: more trials needed" + (f" (n = {n} now)" if n else "")


def direction_outcomes(sign: str) -> str:
    """`direction`'s outcomes in words, for a VERDICT_RULE; `sign` is the direction the claim needs ("positive")."""
    return (f"{sign} at p < {ALPHA:g} → reproduced; {sign} with the 95% CI clear of 0 but p ≥ {ALPHA:g} → partly; the CI "
            "wholly on the other side of 0 → not reproduced; the CI holding both signs → not assessable (interval too "
            "wide, with the n that would decide it)")


def direction(name: str, effect: float, lo: float, hi: float, p: float, expected_sign: int, effect_name: str,
              alpha: float = ALPHA, n: int | None = None, needs: str | None = None) -> Claim:
    """A qualitative claim: the effect (with its 95% CI and p-value) must have the expected sign at p < alpha.

    Three outcomes and "partly": expected sign at p < alpha → reproduced; the interval wholly on the
    opposite side of 0 (or no spread and no effect) → not reproduced; the interval holding both signs →
    not assessable, "interval too wide", with the sample that would decide it (`needs`, else `too_wide`);
    expected sign with an interval clear of 0 but p >= alpha → partly. No finite effect → not assessable.
    """
    if effect is None or not math.isfinite(effect):
        return Claim(name, NOT_ASSESSABLE, f"{effect_name} undefined (too few or constant values)")
    detail = f"{effect_name} = {_fmt(effect)} (95% CI [{_fmt(lo)}, {_fmt(hi)}]), {_fmt_p(p)}; needs sign {'+' if expected_sign > 0 else '−'} at p < {alpha:g}"
    numbers = {"value": effect, "ci": (lo, hi)}
    claimed = np.sign(effect) == np.sign(expected_sign)
    if claimed and p is not None and math.isfinite(p) and p < alpha:
        return Claim(name, REPRODUCED, detail, **numbers)
    opposite = (hi < 0) if expected_sign > 0 else (lo > 0)
    if opposite or (lo == hi and not claimed) or not (math.isfinite(lo) and math.isfinite(hi)) and not claimed:
        return Claim(name, NOT_REPRODUCED, detail + "; the opposite direction (or none)", **numbers)
    if lo <= 0 <= hi:
        why = needs or too_wide(n, effect if claimed else 0.0, lo, hi)
        side = "" if claimed else "; the estimate points the other way"
        return Claim(name, NOT_ASSESSABLE, detail + f"{side}; the interval holds both directions: not assessable ({why})",
                     **numbers)
    return Claim(name, PARTLY, detail + "; the direction holds but is not significant", **numbers)


def detectable_rho(n: int, alpha_z: float = Z_ALPHA, power_z: float = Z_POWER) -> float:
    """The smallest |ρ| that n points detect with 80% power at p < ALPHA (Fisher z, SE 1.03/√(n−3)); nan below 4."""
    if n < 4:
        return float("nan")
    return math.tanh((alpha_z + power_z) * 1.03 / math.sqrt(n - 3))


def points_for_rho(rho: float) -> int:
    """Points needed to detect |ρ| with 80% power at p < ALPHA (the inverse of `detectable_rho`)."""
    return math.ceil(((Z_ALPHA + Z_POWER) * 1.03 / math.atanh(min(abs(rho), 0.999999))) ** 2 + 3)


def trend(name: str, x: Iterable[float], y: Iterable[float], expected_sign: int, what: str = "Spearman ρ") -> Claim:
    """A monotone-trend claim ("rises with d") tested by Spearman's ρ with its CI, at p < ALPHA.

    The detail states the power the data had: the smallest |ρ| its n detects with 80% power at p < ALPHA;
    an interval holding both signs is not assessable, with the points needed to detect the observed ρ
    (or a moderate |ρ| = 0.3 when the estimate points the other way).
    """
    rho, lo, hi, p, n = S.spearman_ci(x, y)
    needs = None
    if math.isfinite(rho):
        target = rho if np.sign(rho) == np.sign(expected_sign) and abs(rho) >= 0.05 else MODERATE_RHO
        needs = f"interval too wide: needs ≈ {points_for_rho(target)} points to detect |ρ| = {_fmt(abs(target))} (n = {n} now)"
    claim = direction(name, rho, lo, hi, p, expected_sign, f"{what} (n = {n})", n=n, needs=needs)
    if n >= 4:
        claim = dataclasses.replace(claim, detail=claim.detail + f"; with n = {n} the smallest |ρ| detectable "
                                    f"(80% power, p < {ALPHA:g}) is ≈ {_fmt(detectable_rho(n))}")
    return claim


# ---------------------------------------------------------------- rates, shares, levels and ranks


def rate_outcomes(high: bool, bound: float, word: str) -> str:
    """`rate_claim`'s outcomes in words, for a VERDICT_RULE: `word` is the paper's ("near 100%", "rare"), `bound` its reading."""
    side, other = ("above", "below") if high else ("below", "above")
    return (f"the rate {side} ½ at p < {ALPHA:g} (exact binomial test) → reproduced when its Wilson 95% CI reaches "
            f"{'≥' if high else '≤'} {bound * 100:g}% (\"{word}\" declared as that bound), partly when it does not; {side} ½ "
            f"with the CI clear of ½ but p ≥ {ALPHA:g} → partly; the CI wholly {other} ½ → not reproduced; the CI holding "
            "½ → not assessable (too few trials, with the n that would decide it)")


def rate_claim(name: str, k: int, n: int, high: bool, bound: float, what: str, alpha: float = 0.01, verb: str = "survived"):
    """A claim that a rate is near 1 (`high`) or near 0: "near" is a bound declared in advance (e.g. ≥ 0.9).

    Not assessable with no trials, or when the Wilson 95% CI holds both sides of ½ (too few trials to tell the
    direction); not reproduced when the rate lies on the wrong side of ½; on the claimed side at p < alpha (exact
    binomial test), reproduced when the CI reaches the bound (compatible with "near"), partly otherwise.
    """
    if n <= 0:
        return Claim(name, NOT_ASSESSABLE, f"no trials {what}")
    _, _, _, p = S.share_vs_half(k, n)
    lo, hi = S.share_ci(k, n)
    side = (k / n > 0.5) if high else (k / n < 0.5)
    detail = (f"{k} of {n} trials {what} {verb}: {100 * k / n:.1f}% (Wilson 95% CI {100 * lo:.1f}–{100 * hi:.1f}%); "
              f"needs the rate {'above' if high else 'below'} ½ at p < {alpha:g} (exact binomial {C.fmt_p(p)}) and a CI reaching "
              f"{'≥' if high else '≤'} {100 * bound:g}%")
    if not (side and p < alpha):
        if lo <= 0.5 <= hi:  # the interval holds both sides of ½: the data cannot tell
            why = too_wide(n, k / n - 0.5, lo - 0.5, hi - 0.5)
            return Claim(name, NOT_ASSESSABLE, detail + f"; the interval holds both sides of ½: not assessable ({why})",
                         value=k / n, ci=(lo, hi))
        if side:
            return Claim(name, PARTLY, detail + "; the direction holds but is not significant", value=k / n, ci=(lo, hi))
        return Claim(name, NOT_REPRODUCED, detail + "; the direction does not hold", value=k / n, ci=(lo, hi))
    if (hi >= bound) if high else (lo <= bound):
        return Claim(name, REPRODUCED, detail, value=k / n, ci=(lo, hi))
    return Claim(name, PARTLY, detail + "; the direction holds but the rate is not near " + ("100%" if high else "0%"), value=k / n, ci=(lo, hi))


def share_claim(name: str, k: int, n: int, what: str) -> Claim:
    """A shape claim as a share of runs: the majority at p < ALPHA (exact binomial test against ½, Wilson CI)."""
    eff, lo, hi, p = S.share_vs_half(k, n)
    claim = direction(name, eff, lo, hi, p, +1, f"share of {what} − ½ ({k} of {n} runs)", n=n)
    return claim


def rank_claim(learned, control, paper_mean: float, paper_std: float, paper_n: int, name: str) -> tuple[Claim, dict]:
    """The rank claim: Welch against the paper's sample; direction = learned below control (Mann–Whitney, p < ALPHA)."""
    mw = S.mann_whitney_less(learned, control)
    better = bool(np.isfinite(mw["p"]) and mw["p"] < ALPHA)
    claim = number_vs_sample(name, learned, paper_mean, paper_std, paper_n, direction_holds=better)
    direction = (f"; direction: learned {C.fmt_mean_std(learned)} against control {C.fmt_mean_std(control)}, "
                 f"Mann–Whitney U = {C.fmt(mw['u'])}, one-sided {C.fmt_p(mw['p'])} "
                 f"({'holds' if better else 'fails'} at p < {ALPHA:g})")
    return dataclasses.replace(claim, detail=claim.detail + direction), {"mann_whitney": mw, "better_than_control": better}


def level_claim(name: str, per_x: dict, level: float, margin: float, margin_why: str, what: str) -> Claim:
    """"Stays at `level`" at every x, judged by each x's 95% CI of the mean against the band level ± margin.

    At each x the CI lies inside the band (the level is pinned to within the margin), misses the band
    entirely (the level moved), or neither (too few values to tell). No x outside and at least half of
    them inside → reproduced; no x outside but fewer than half inside → partly; any x outside → not
    reproduced; an x with fewer than 2 values → not assessable. A wide CI therefore never counts as flat.
    """
    inside, outside, rows = [], [], []
    for x, values in sorted(per_x.items()):
        m, lo, hi, n = S.mean_ci(values)
        if n < 2:
            return Claim(name, NOT_ASSESSABLE, f"{n} valid value(s) at {what} = {C.fmt(x)}; a CI needs 2")
        if level - margin <= lo and hi <= level + margin:
            inside.append(x)
        elif hi < level - margin or lo > level + margin:
            outside.append(x)
        rows.append((abs(m - level), x, m, lo, hi, n))
    _, x, m, lo, hi, n = max(rows)
    detail = (f"the 95% CI of the mean lies inside {C.fmt(level)} ± {C.fmt(margin)} ({margin_why}) at {len(inside)} of "
              f"{len(per_x)} values of {what}, misses it at {len(outside)}"
              + (f" ({what} = {', '.join(C.fmt(v) for v in outside)})" if outside else "")
              + f"; farthest mean: {what} = {C.fmt(x)}, {C.fmt(m, 4)} (95% CI [{C.fmt(lo, 4)}, {C.fmt(hi, 4)}], n = {n})")
    if outside:
        return Claim(name, NOT_REPRODUCED, detail + "; the level moved", value=m, ci=(lo, hi), paper=f"{C.fmt(level)} ± {C.fmt(margin)}")
    if len(inside) >= len(per_x) / 2:
        return Claim(name, REPRODUCED, detail, value=m, ci=(lo, hi), paper=f"{C.fmt(level)} ± {C.fmt(margin)}")
    return Claim(name, PARTLY, detail + "; too few values pin the level down", value=m, ci=(lo, hi), paper=f"{C.fmt(level)} ± {C.fmt(margin)}")
