"""What a claim is, and the one rule that judges a qualitative claim (docs/method.md#verdict-rules).

A claim is a record (`Claim`): its kind, value, 95% interval, n, p, margin with its source, the
expected sign, the verdict and a reason code; `render` writes the report's sentence from the record
alone and `problems` says what an incomplete record lacks. A qualitative claim (a direction, a trend,
a share or a rate) is judged by `judge` against the smallest effect the paper's words imply (its
`Margin`): reproduced when the interval is clear of 0 at p < `ALPHA` and reaches the margin; partly
when clear of 0 but wholly short of it (or not significant); not reproduced when it holds 0 but lies
short of the margin; not assessable when it holds both, with the n that would decide (`decide_n`).
`rejudge` recomputes a verdict from a summary.json record. The rules that build claims of each kind
are in `cinit_tf.stats.verdicts`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from cinit_tf.stats import formatting

REPRODUCED = "reproduced"


PARTLY = "partly"


NOT_REPRODUCED = "not reproduced"


NOT_ASSESSABLE = "not assessable"


ORDER = (NOT_ASSESSABLE, NOT_REPRODUCED, PARTLY, REPRODUCED)  # weakest first
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_ASSESSABLE)  # the order a report lists them in


ALPHA = 0.01  # significance a qualitative claim needs


KINDS = ("direction", "trend", "share", "rate", "number", "level", "observation")


# Why a claim got its verdict: one code per outcome of a rule (docs/method.md#verdict-rules).
REASONS = {
    "beyond_margin": "clear of {zero} at p < {alpha:g} and reaching the margin: an effect of the paper's size is compatible",
    "short_of_margin": "clear of {zero} but wholly short of the margin: real, but smaller than the paper implies",
    "not_significant": "clear of {zero} but not at p < {alpha:g}",
    "rules_out_margin": "the interval holds {zero} and lies short of the margin: it rules out an effect of the paper's size",
    "opposite": "the interval lies wholly on the other side of {zero}: it rules out an effect of the paper's size",
    "too_wide": "the interval holds both {zero} and the margin: the data cannot tell",
    "too_few_valid": "too few valid trials to judge",
    "no_estimate": "no estimate",
    "compatible": "the paper's number is compatible with ours",
    "incompatible": "the direction holds but the paper's number is not compatible with ours",
    "direction_fails": "the direction of the claim does not hold",
    "inside_band": "inside the declared band",
    "band_unresolved": "no value outside the declared band, but too few pinned inside it",
    "outside_band": "outside the declared band",
    "observed": "observed",
    "partly_observed": "observed in part",
    "not_monotone": "the trend holds, but the curve rises significantly between adjacent points",
    "precondition_fails": "the claim's declared precondition does not hold",
    "not_observed": "not observed",
}


@dataclass(frozen=True)
class Margin:
    """The smallest effect a claim's words imply, in the claim's own units, and where it comes from.

    Declared in the study before any number is computed; `source` quotes the paper's passage (or
    names the convention) so that a reader can check the margin against the paper's own words.
    """

    value: float  # > 0, in the claim's units, oriented so that the claimed direction is positive
    source: str  # the paper's words (quoted) or the convention, and the reading of them

    def __post_init__(self):
        if not (
            isinstance(self.value, (int, float)) and math.isfinite(self.value) and self.value > 0
        ):
            raise ValueError(f"a margin must be a finite number > 0, got {self.value!r}")


@dataclass(frozen=True)
class Claim:
    """One sub-claim of a section as a record: what it says, the numbers its rule read, the verdict and why.

    `render` writes its sentence from these fields; `note` is the study's own context (counts, what
    the number is read from), written first and never parsed. A claim without a number says why in `note`.
    """

    name: str  # e.g. "learned q ranks high"
    verdict: str  # one of ORDER
    note: str = ""  # the study's context, appended to the rendered sentence
    value: float | None = None  # the claim's own number (an effect, a rate, a mean)
    ci: tuple[float, float] | None = None  # its 95% interval
    paper: str = ""  # the paper's number for this claim, where it gives one
    kind: str = "observation"  # one of KINDS
    reason: str = ""  # one of REASONS
    n: int | None = None  # the sample the interval is over
    p: float | None = None  # the test's p-value, where the rule uses one
    margin: float | None = None  # the smallest effect the paper implies, claimed direction positive
    margin_source: str = ""  # where the margin comes from (quoted)
    expected_sign: int = 0  # +1 / -1: the claimed direction of `value` (0: not a direction claim)
    needs_n: int | None = (
        None  # not assessable: the n at which the interval would decide against the margin
    )
    effect: str = ""  # what `value` is, e.g. "Spearman ρ(d, log₁₀ loss)"
    offset: float = (
        0.0  # the value the claimed direction is measured from (½ for a rate, 0 otherwise)
    )

    @property
    def detail(self) -> str:
        return render(self)

    def line(self) -> str:
        return f"{self.name}: **{self.verdict}** — {self.detail}"

    def record(self) -> dict:
        """Every field, as summary.json keeps it (the rendered sentence as `detail`)."""
        out = dataclasses.asdict(self)
        out["ci"] = list(self.ci) if self.ci is not None else None
        out["detail"] = self.detail
        return out


QUALITATIVE = ("direction", "trend", "share", "rate")  # kinds judged by `judge` against a margin


UNJUDGED = (
    "too_few_valid",
    "no_estimate",
    "precondition_fails",
)  # reasons a claim can have without a number


# The reasons `judge` gives (`no_estimate` aside): a record with one of them can be judged again from its fields.
JUDGED = (
    "beyond_margin",
    "short_of_margin",
    "not_significant",
    "rules_out_margin",
    "opposite",
    "too_wide",
)


def problems(c: Claim) -> list[str]:
    """What a claim's record lacks (empty when complete): a known verdict, kind and reason; a number with its
    interval and n, or a note saying why not; a qualitative claim's margin > 0 with its source and sign."""
    out = []
    if c.verdict not in ORDER:
        out.append(f"verdict {c.verdict!r} is not one of {', '.join(ORDER)}")
    if c.kind not in KINDS:
        out.append(f"kind {c.kind!r} is not one of {', '.join(KINDS)}")
    if c.reason not in REASONS:
        out.append(f"reason {c.reason!r} is not one of {', '.join(REASONS)}")
    if c.value is None and not c.note:
        out.append("no number and no note saying why")
    if c.value is not None and c.n is None:
        out.append("a number without its n")
    if c.kind in QUALITATIVE and c.reason not in UNJUDGED:
        if c.margin is None or not c.margin > 0 or not c.margin_source:
            out.append("a qualitative claim without a margin > 0 and its source")
        if c.expected_sign not in (1, -1):
            out.append("a qualitative claim without its expected sign")
    return out


def rejudge(record: dict) -> str | None:
    """The verdict a qualitative claim's record in summary.json implies under `judge`, from its fields alone
    (value, ci, p, expected_sign, margin, n, offset); None for a record `judge` did not decide (a number, level or
    observation claim, one not judged for want of valid trials or of its precondition, or one a study's own rule
    lowered after judging, such as a trend that is not monotone)."""
    if record.get("kind") not in QUALITATIVE or record.get("reason") not in JUDGED:
        return None
    ci = record.get("ci") or [None, None]
    nan = float("nan")
    value, lo, hi = (nan if x is None else float(x) for x in (record.get("value"), ci[0], ci[1]))
    verdict, _, _ = judge(
        value,
        lo,
        hi,
        record.get("p"),
        int(record["expected_sign"]),
        float(record["margin"]),
        record.get("n"),
        float(record.get("offset") or 0.0),
    )
    return verdict


def render(c: Claim) -> str:
    """The report's sentence for a claim, from its record alone: the study's note, the number with its interval,
    n and p, the margin and where it comes from, and why the rule gave its verdict."""
    parts = [c.note] if c.note else []
    if c.value is not None:
        number = f"{c.effect or 'value'} = {formatting.fmt(c.value)}"
        inside = []
        if c.ci is not None:
            inside.append(f"95% CI [{formatting.fmt(c.ci[0])}, {formatting.fmt(c.ci[1])}]")
        if c.n is not None:
            inside.append(f"n = {c.n}")
        parts.append(number + (f" ({', '.join(inside)})" if inside else ""))
        if c.p is not None:
            parts.append(formatting.fmt_p(c.p))
    zero = "½" if c.offset == 0.5 else formatting.fmt(c.offset)
    if c.margin is not None and c.expected_sign:
        if c.offset:
            side = f"claimed {'above' if c.expected_sign > 0 else 'below'} {zero} by at least {formatting.fmt(c.margin)}"
        else:
            side = f"claimed sign {'+' if c.expected_sign > 0 else '−'}, margin {formatting.fmt(c.margin)}"
        parts.append(f"{side} ({c.margin_source})")
    if c.reason:
        why = REASONS.get(c.reason, c.reason).format(alpha=ALPHA, zero=zero)
        if c.reason == "too_wide" and c.needs_n is not None:
            why += f" (needs ≈ {c.needs_n} to decide against the margin; n = {c.n} now)"
        parts.append(why)
    return "; ".join(parts)


def headline(claims: Sequence[Claim]) -> str:
    """The section's verdict: the weakest of its claims (not assessable < not reproduced < partly < reproduced)."""
    if not claims:
        return NOT_ASSESSABLE
    return min((c.verdict for c in claims), key=ORDER.index)


Z_ALPHA = 2.5758293035489004  # two-sided normal quantile at ALPHA = 0.01


Z_POWER = 0.8416212335729143  # the normal quantile of 80% power


def decide_n(n: int | None, value: float, lo: float, hi: float, margin: float) -> int | None:
    """Oriented (claimed side positive): the n at which an interval as wide relative to √n would decide
    against the margin, i.e. lie clear of 0 or wholly short of the margin, whichever comes first:
    N = n · (half-width / max(value, margin − value))². None without an n or a width."""
    half = (hi - lo) / 2
    target = max(value, margin - value)
    if not n or not (half > 0) or not math.isfinite(half):
        return None
    return max(n + 1, math.ceil(n * (half / target) ** 2))


def judge(
    value: float,
    lo: float,
    hi: float,
    p: float | None,
    expected_sign: int,
    margin: float,
    n: int | None = None,
    offset: float = 0.0,
) -> tuple[str, str, int | None]:
    """The four-outcome rule of a qualitative claim: (verdict, reason, needs_n).

    Oriented so that the claimed direction is positive (x → expected_sign · (x − offset)), with the
    95% CI [lo, hi] and the margin m > 0 the paper implies:
    lo > 0, p < ALPHA, hi ≥ m → reproduced; lo > 0 and hi < m → partly (short of the margin);
    lo > 0, hi ≥ m, p ≥ ALPHA → partly (not significant); lo ≤ 0 and hi < m → not reproduced (the
    interval rules out the paper's effect; "opposite" when hi < 0); lo ≤ 0 and hi ≥ m → not
    assessable, with the n that would decide it. Anything not finite → not assessable (no estimate).
    """
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign!r}")
    if not (margin > 0 and math.isfinite(margin)):
        raise ValueError(f"a margin must be a finite number > 0, got {margin!r}")
    numbers = (value, lo, hi)
    if any(x is None or math.isnan(x) for x in numbers) or not math.isfinite(value):
        return NOT_ASSESSABLE, "no_estimate", None
    v = expected_sign * (value - offset)
    a, b = sorted((expected_sign * (lo - offset), expected_sign * (hi - offset)))
    significant = p is not None and math.isfinite(p) and p < ALPHA
    if a > 0:
        if b < margin:
            return PARTLY, "short_of_margin", None
        return (
            (REPRODUCED, "beyond_margin", None)
            if significant
            else (PARTLY, "not_significant", None)
        )
    if b < margin:
        return NOT_REPRODUCED, ("opposite" if b < 0 else "rules_out_margin"), None
    return NOT_ASSESSABLE, "too_wide", decide_n(n, v, a, b, margin)
