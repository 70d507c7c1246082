"""Verdict rules every study applies (docs/method.md#verdict-rules): declared before the numbers.

A section's claims are checked one by one, each with a `Claim`; its headline verdict is the weakest
of them (`headline`). The rules:

- a *number* claim is reproduced when the paper's number is statistically compatible with ours:
  two samples (Welch's t-test, 95% CI of the difference) where the paper gives its spread and sample
  size (`number_vs_sample`); our 95% CI, or a margin declared in advance, where it gives a bare
  number (`number_vs_value`). It is *partly* reproduced when the direction holds but the number
  does not, *not reproduced* when the direction fails;
- a *qualitative* claim (a direction, a trend, a share or a rate: "rises", "faster", "most runs",
  "near 100%") is judged by `judge` against the smallest effect the paper's words imply (its
  `Margin`, declared and quoted in the study): reproduced when its 95% CI is clear of 0 at
  p < `ALPHA` and reaches the margin; partly when clear of 0 but wholly short of the margin (or not
  significant); not reproduced when the CI holds 0 but lies short of the margin (it rules out an
  effect of the paper's size); not assessable when the CI holds both 0 and the margin, with the n
  that would decide it (`decide_n`);
- *not assessable* also when fewer than a declared share of the trials are valid (`assessable`):
  invalid trials (non-finite, or not generalising where the claim needs it) are excluded from every
  statistic and counted in the report.

`direction_outcomes` and `rate_outcomes` put the outcomes of `direction` and `rate_claim` into the
words of a study's VERDICT_RULE, so that a rule's text cannot drift from what the rule does.

Every rule returns a `Claim` record (kind, value, CI, n, p, margin, reason code, verdict); `render`
writes its sentence, and summary.json keeps every field (`Claim.record`). Everything here is pure:
numbers in, `Claim` out, so every rule has known-answer tests.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np

from cinit_tf.stats import formatting, inference
from cinit_tf.stats.claims import (
    ALPHA,
    NOT_ASSESSABLE,
    NOT_REPRODUCED,
    PARTLY,
    REPRODUCED,
    Z_ALPHA,
    Z_POWER,
    Claim,
    Margin,
    judge,
)

MIN_VALID_SHARE = 0.5  # default share of valid trials below which a claim is not assessable


def assessable(
    n_valid: int, n_total: int, min_share: float = MIN_VALID_SHARE, min_count: int = 3
) -> bool:
    """Enough valid trials to judge a claim: at least `min_count` and at least `min_share` of all."""
    return n_total > 0 and n_valid >= min_count and n_valid >= min_share * n_total


def not_assessable(
    name: str, n_valid: int, n_total: int, why: str = "valid", kind: str = "observation"
) -> Claim:
    return Claim(
        name,
        NOT_ASSESSABLE,
        f"only {n_valid} of {n_total} trials are {why}; too few to judge",
        kind=kind,
        reason="too_few_valid",
        n=n_valid,
    )


def _paper_sample(mean: float, std: float, n: int) -> str:
    return f"{formatting.fmt(mean)} ± {formatting.fmt(std)} (n = {n})"


def number_vs_sample(
    name: str,
    ours: Iterable[float],
    paper_mean: float,
    paper_std: float,
    paper_n: int,
    direction_holds: bool,
) -> Claim:
    """A number the paper gives as mean ± std over n: Welch's test of our sample against the paper's.

    Compatible (p >= 0.05, i.e. the 95% CI of the difference contains 0) → reproduced, if the
    direction holds; incompatible but the direction holds → partly; direction fails → not reproduced.
    """
    a = np.asarray([v for v in ours if v is not None and math.isfinite(v)], dtype=float)
    paper = _paper_sample(paper_mean, paper_std, paper_n)
    if a.size < 2:
        return Claim(
            name,
            NOT_ASSESSABLE,
            f"{a.size} valid value(s); Welch's test needs at least 2",
            paper=paper,
            kind="number",
            reason="too_few_valid",
            n=int(a.size),
        )
    m, s, n = float(a.mean()), float(a.std(ddof=1)), int(a.size)
    w = inference.welch_moments(m, s, n, paper_mean, paper_std, paper_n)
    _, m_lo, m_hi, _ = inference.mean_ci(a)
    diff, p, (lo, hi) = w["difference"], w["p"], w["ci95"]
    note = (
        f"ours {formatting.fmt(m)} ± {formatting.fmt(s)} against the paper's {paper}: difference {formatting.fmt(diff)}, "
        f"95% CI [{formatting.fmt(lo)}, {formatting.fmt(hi)}], Welch {formatting.fmt_p(p)} (compatible at p ≥ 0.05)"
    )
    numbers = dict(
        value=m, ci=(m_lo, m_hi), paper=paper, kind="number", n=n, p=p, effect="mean", note=note
    )
    if not direction_holds:
        return Claim(name, NOT_REPRODUCED, reason="direction_fails", **numbers)
    if p >= 0.05:
        return Claim(name, REPRODUCED, reason="compatible", **numbers)
    return Claim(name, PARTLY, reason="incompatible", **numbers)


def number_vs_value(
    name: str,
    ours: Iterable[float],
    paper_value: float,
    direction_holds: bool,
    margin: float | None = None,
    margin_why: str = "",
) -> Claim:
    """A bare number from the paper: reproduced when it lies in our 95% CI (widened by a margin declared
    in advance, with its reason); partly when the direction holds but it lies outside; not reproduced
    when the direction fails."""
    m, lo, hi, n = inference.mean_ci(ours)
    if n == 0:
        return Claim(
            name,
            NOT_ASSESSABLE,
            "no valid value",
            paper=formatting.fmt(paper_value),
            kind="number",
            reason="too_few_valid",
            n=0,
        )
    wlo, whi = (lo, hi) if margin is None else (lo - margin, hi + margin)
    note = f"against the paper's {formatting.fmt(paper_value)}"
    if margin is not None:
        note += f", with a band of ±{formatting.fmt(margin)} declared in advance ({margin_why})"
    numbers = dict(
        value=m,
        ci=(lo, hi),
        paper=formatting.fmt(paper_value),
        kind="number",
        n=n,
        effect="mean",
        note=note,
    )
    if not direction_holds:
        return Claim(name, NOT_REPRODUCED, reason="direction_fails", **numbers)
    if wlo <= paper_value <= whi:
        return Claim(name, REPRODUCED, reason="compatible", **numbers)
    return Claim(name, PARTLY, reason="incompatible", **numbers)


CONVENTIONAL_RHO = Margin(
    0.1,
    "a trend the paper states without a number: the conventional smallest "
    "correlation worth the name (Cohen's 'small', |ρ| = 0.1), a convention of ours",
)


def direction_outcomes(sign: str) -> str:
    """`direction`'s outcomes in words, for a VERDICT_RULE; `sign` is the direction the claim needs ("positive")."""
    return (
        f"oriented so that {sign} counts, with the 95% CI [lo, hi] and the declared margin m: lo > 0 at p < "
        f"{ALPHA:g} and hi ≥ m → reproduced; lo > 0 but hi < m (real, smaller than the paper implies), or lo > 0 "
        f"at p ≥ {ALPHA:g} → partly; lo ≤ 0 and hi < m (an effect of the paper's size ruled out) → not reproduced; "
        "lo ≤ 0 and hi ≥ m → not assessable (the data cannot tell, with the n that would decide against the margin)"
    )


def direction(
    name: str,
    effect: float,
    lo: float,
    hi: float,
    p: float | None,
    expected_sign: int,
    effect_name: str,
    *,
    margin: Margin,
    n: int | None = None,
    note: str = "",
    kind: str = "direction",
    offset: float = 0.0,
) -> Claim:
    """A qualitative claim judged by `judge` against its declared margin; the record keeps every number."""
    value = None if effect is None else float(effect)
    lo = float("nan") if lo is None else float(lo)
    hi = float("nan") if hi is None else float(hi)
    verdict, reason, needs = judge(
        float("nan") if value is None else value, lo, hi, p, expected_sign, margin.value, n, offset
    )
    finite = value is not None and math.isfinite(value)
    return Claim(
        name,
        verdict,
        note if finite else (note or f"{effect_name} undefined (too few or constant values)"),
        value=value if finite else None,
        ci=(lo, hi) if finite else None,
        kind=kind,
        reason=reason,
        n=n,
        p=None if p is None or not math.isfinite(p) else float(p),
        margin=margin.value,
        margin_source=margin.source,
        expected_sign=expected_sign,
        needs_n=needs,
        effect=effect_name,
        offset=offset,
    )


def detectable_rho(n: int, alpha_z: float = Z_ALPHA, power_z: float = Z_POWER) -> float:
    """The smallest |ρ| that n points detect with 80% power at p < ALPHA (Fisher z, SE 1.03/√(n−3)); nan below 4."""
    if n < 4:
        return float("nan")
    return math.tanh((alpha_z + power_z) * 1.03 / math.sqrt(n - 3))


def points_for_rho(rho: float) -> int:
    """Points needed to detect |ρ| with 80% power at p < ALPHA (the inverse of `detectable_rho`)."""
    return math.ceil(((Z_ALPHA + Z_POWER) * 1.03 / math.atanh(min(abs(rho), 0.999999))) ** 2 + 3)


def trend(
    name: str,
    x: Iterable[float],
    y: Iterable[float],
    expected_sign: int,
    what: str = "Spearman ρ",
    *,
    margin: Margin,
    note: str = "",
) -> Claim:
    """A monotone-trend claim ("rises with d"): Spearman's ρ with its 95% CI (Fisher z), judged against the
    margin (by default the conventional |ρ| = 0.1). The note states the smallest |ρ| its n detects."""
    rho, lo, hi, p, n = inference.spearman_ci(x, y)
    power = (
        f"with n = {n} the smallest |ρ| detectable (80% power, p < {ALPHA:g}) is ≈ {formatting.fmt(detectable_rho(n))}"
        if n >= 4
        else ""
    )
    note = "; ".join(x for x in (note, power) if x)
    return direction(
        name, rho, lo, hi, p, expected_sign, what, margin=margin, n=n, note=note, kind="trend"
    )


# ---------------------------------------------------------------- rates, shares, levels and ranks


def rate_outcomes(high: bool, bound: float, source: str) -> str:
    """`rate_claim`'s outcomes in words, for a VERDICT_RULE: `source` quotes the paper's words ("near 100%",
    "rarely"), `bound` is their reading."""
    side = "above" if high else "below"
    return (
        f"the rate against ½ with its Wilson 95% CI and the exact binomial p, the margin being {source} "
        f"{'≥' if high else '≤'} {bound * 100:g}%: the CI wholly {side} ½ at p < {ALPHA:g} and reaching "
        f"{bound * 100:g}% → reproduced; wholly {side} ½ but short of {bound * 100:g}% (or p ≥ {ALPHA:g}) → partly; "
        f"holding ½ and short of {bound * 100:g}% → not reproduced; holding both → not assessable (with the n "
        "that would decide)"
    )


def rate_claim(
    name: str,
    k: int,
    n: int,
    high: bool,
    bound: float,
    what: str,
    source: str,
    verb: str = "survived",
    kind: str = "rate",
) -> Claim:
    """A claim that a rate is near 1 (`high`) or near 0: `bound` (e.g. 0.9) is "near" declared in advance,
    `source` the paper's words it reads. Judged by `judge` on the rate against ½ with the margin |bound − ½|
    (Wilson 95% CI, exact binomial p)."""
    if n <= 0:
        return Claim(
            name, NOT_ASSESSABLE, f"no trials {what}", kind=kind, reason="too_few_valid", n=0
        )
    _, _, _, p = inference.share_vs_half(k, n)
    lo, hi = inference.share_ci(k, n)
    note = f"{k} of {n} trials {what} {verb}"
    margin = Margin(abs(bound - 0.5), f"{source} {'≥' if high else '≤'} {100 * bound:g}%")
    return direction(
        name,
        k / n,
        lo,
        hi,
        p,
        1 if high else -1,
        "rate",
        margin=margin,
        n=n,
        note=note,
        kind=kind,
        offset=0.5,
    )


def share_claim(name: str, k: int, n: int, what: str, bound: float, source: str) -> Claim:
    """A shape claim as a share of runs ("the embedding forms a cube"): the share against ½ (exact binomial
    test, Wilson CI), with the margin read from the paper's words as a share `bound` > ½."""
    claim = rate_claim(name, k, n, True, bound, f"({what})", source, verb="", kind="share")
    return dataclasses.replace(claim, note=f"{k} of {n} runs are {what}", effect="share")


def rank_claim(
    learned, control, paper_mean: float, paper_std: float, paper_n: int, name: str
) -> tuple[Claim, dict]:
    """The rank claim: Welch against the paper's sample; direction = learned below control (Mann–Whitney, p < ALPHA)."""
    mw = inference.mann_whitney_less(learned, control)
    better = bool(np.isfinite(mw["p"]) and mw["p"] < ALPHA)
    claim = number_vs_sample(name, learned, paper_mean, paper_std, paper_n, direction_holds=better)
    direction = (
        f"direction: learned {formatting.fmt_mean_std(learned)} against control {formatting.fmt_mean_std(control)}, "
        f"Mann–Whitney U = {formatting.fmt(mw['u'])}, one-sided {formatting.fmt_p(mw['p'])} "
        f"({'holds' if better else 'fails'} at p < {ALPHA:g})"
    )
    claim = dataclasses.replace(claim, note="; ".join(x for x in (claim.note, direction) if x))
    return claim, {"mann_whitney": mw, "better_than_control": better}


def level_claim(
    name: str, per_x: dict, level: float, margin: float, margin_why: str, what: str
) -> Claim:
    """ "Stays at `level`" at every x, judged by each x's 95% CI of the mean against the band level ± margin.

    At each x the CI lies inside the band (the level is pinned to within the margin), misses the band
    entirely (the level moved), or neither (too few values to tell). No x outside and at least half of
    them inside → reproduced; no x outside but fewer than half inside → partly; any x outside → not
    reproduced; an x with fewer than 2 values → not assessable. A wide CI therefore never counts as flat.
    """
    inside, outside, rows = [], [], []
    for x, values in sorted(per_x.items()):
        m, lo, hi, n = inference.mean_ci(values)
        if n < 2:
            return Claim(
                name,
                NOT_ASSESSABLE,
                f"{n} valid value(s) at {what} = {formatting.fmt(x)}; a CI needs 2",
                kind="level",
                reason="too_few_valid",
                n=n,
                paper=f"{formatting.fmt(level)} ± {formatting.fmt(margin)}",
            )
        if level - margin <= lo and hi <= level + margin:
            inside.append(x)
        elif hi < level - margin or lo > level + margin:
            outside.append(x)
        rows.append((abs(m - level), x, m, lo, hi, n))
    _, x, m, lo, hi, n = max(rows)
    band = f"{formatting.fmt(level)} ± {formatting.fmt(margin)}"
    numbers = dict(
        value=m,
        ci=(lo, hi),
        paper=band,
        kind="level",
        n=n,
        effect=f"farthest mean ({what} = {formatting.fmt(x)})",
    )
    detail = (
        f"the 95% CI of the mean lies inside {formatting.fmt(level)} ± {formatting.fmt(margin)} ({margin_why}) at {len(inside)} of "
        f"{len(per_x)} values of {what}, misses it at {len(outside)}"
        + (f" ({what} = {', '.join(formatting.fmt(v) for v in outside)})" if outside else "")
    )
    if outside:
        return Claim(
            name, NOT_REPRODUCED, detail + "; the level moved", reason="outside_band", **numbers
        )
    if len(inside) >= len(per_x) / 2:
        return Claim(name, REPRODUCED, detail, reason="inside_band", **numbers)
    return Claim(
        name,
        PARTLY,
        detail + "; too few values pin the level down",
        reason="band_unresolved",
        **numbers,
    )
