"""§4.2, Fig. 5c: an embedding built from two frequencies, of signal s and r · s; which survive?

The paper's claim: with two randomly chosen frequencies of signal s (the largest) and r · s (the
second), r in [0, 1], and every other frequency at ε = 1e-6, the largest always survives, the
second survives more often as r grows, and the model sometimes revives a frequency that started
at ε instead of keeping only the two frontrunners (Fig. 5c).

Trials: transform construct_two (signals.fourier_norms convention: signal = ‖F_k‖²) over a grid of
r; the two frequencies, directions and phases come from the trial's embedding seed, so with the
"independent" layout trial i meets the same two frequencies at every r, with the same MLP and
split; the store keeps the two frequencies the transform chose with each trial. Per trial: whether
k_top and k_second survive (final signal ≥ τ · max, docs/method.md#survival-rule), and how many of
the other frequencies survive (revivals).

Verdict rule (fixed here, before any numbers): see VERDICT_RULE, declared in DECLARATION.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures.manual_construction import figure_rates, figure_revivals
from cinit_tf.measures import survival
from cinit_tf.measures.survival import TAUS
from cinit_tf.prose import survival_sections as survival_text
from cinit_tf.readout import SURVIVAL_TAU, survivors
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import NOT_ASSESSABLE, NOT_REPRODUCED, REPRODUCED, Claim, Margin
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section

# "Always" (§4.2) read as a survival rate compatible with at least 95%: a finite sample cannot tell 100%
# from a rare failure, so the rate's interval must reach 95% (not 100%), and clear ½.
TOP_ALWAYS = 0.95
TOP_SOURCE = (
    '§4.2: "the frequency with the highest signal always survives"; "always" read, since a finite '
    "sample cannot tell 100% from a rare failure, as a rate pooled over r whose 95% CI reaches"
)
# §4.2 states the second's rise without a number: the conventional smallest correlation.
SECOND_MARGIN = Margin(
    verdicts.CONVENTIONAL_RHO.value,
    '§4.2: "the second-highest frequency increases in survival rate as its signal '
    f'increases"; {verdicts.CONVENTIONAL_RHO.source}',
)
TOP_CLAIM = "the top frequency always survives"
SECOND_CLAIM = "the second survives more often as r grows"
REVIVAL_CLAIM = "the model sometimes revives a frequency that started at ε"
CLAIM_NAMES = (TOP_CLAIM, SECOND_CLAIM, REVIVAL_CLAIM)

VERDICT_RULE = (
    f"three claims on the valid trials (finite training), survival at τ = {SURVIVAL_TAU:g}; the headline is "
    f"the weakest. ({TOP_CLAIM}) pooled over r, the top's survival rate ({TOP_SOURCE} "
    f"{TOP_ALWAYS * 100:g}%): {verdicts.rate_outcomes(True, TOP_ALWAYS, TOP_SOURCE)}. ({SECOND_CLAIM}) Spearman ρ "
    "between r and the survival (0/1) of the frequency of signal r · s, with its Fisher-z 95% CI, margin "
    f"ρ = {SECOND_MARGIN.value:g} ({SECOND_MARGIN.source}): {verdicts.direction_outcomes('positive')}. "
    f'({REVIVAL_CLAIM}) "sometimes" (§4.2: "the model sometimes chooses to revive them rather than always '
    'choosing the two clear frontrunners"): some but not all trials (pooled over r) revive a frequency '
    "that started at ε → reproduced (with the share's Wilson CI); none, or every one → not reproduced; an "
    "existence claim, so no margin applies. Not assessable when fewer than "
    f"{verdicts.MIN_VALID_SHARE:.0%} of the trials (or fewer than 3) are valid."
)

CLAIM = (
    "An embedding constructed in Fourier space with two random frequencies of signal s and r · s (r ∈ [0, 1]) and "
    "every other frequency at ε = 1e-6: the frequency with the highest signal always survives, the second survives "
    "more often as r grows, and the model sometimes revives frequencies that started near 0 rather than always "
    "keeping the two frontrunners (Fig. 5c)."
)

PAPER_NUMBER = "top survives always; second's survival rate rises with r; revivals sometimes (Fig. 5c; s, grid of r and trials not given)"

DECLARATION = Declaration(
    paper_ref="§4.2, Fig. 5c",
    title="Manually constructed embeddings: two frequencies of ratio r",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- data


def constructed_frequencies(trial) -> tuple[int, int]:
    """(k_top, k_second) as the transform chose them, stored with the trial.

    At r = 1 the two have equal signal and the stored norms cannot tell them apart, and at r = 0 the second has
    none, so the labels come from the construction; `check_frequencies` confirms them against the norms.
    """
    return int(writeup.chosen(trial, "k_top")), int(writeup.chosen(trial, "k_second"))


def trial_rows(trials) -> list[dict]:
    rows = []
    for t in sorted(trials, key=lambda t: t.id):
        norms = np.asarray(t.result.fourier_norms, dtype=float)
        k_top, k_second = constructed_frequencies(t)
        r = float(t.settings["transform"]["r"])
        row = {
            "id": t.id,
            "r": r,
            "k_top": k_top,
            "k_second": k_second,
            "embedding_seed": t.seeds[0],
            "initial": norms[0],
            "eps": float(t.settings["transform"]["eps"]),
            "s": float(t.settings["transform"]["s"]),
        }
        for tau in TAUS:
            alive = survivors(norms[-1], tau)
            others = np.delete(alive, [k_top - 1, k_second - 1])
            row[tau] = {
                "top": bool(alive[k_top - 1]),
                "second": bool(alive[k_second - 1]),
                "revived": int(others.sum()),
                "survivors": int(alive.sum()),
            }
        rows.append(row)
    return rows


def check_frequencies(rows) -> dict:
    """The construction against the stored initial norms: k_top is the largest signal (r < 1), k_second the second
    (0 < r < 1, when r · s exceeds ε), and no other frequency is far above ε. {"checked", "agree", "disagree": [ids]}"""
    out = {"checked": 0, "agree": 0, "disagree": []}
    for row in rows:
        norms = row["initial"]
        order = np.argsort(-norms, kind="stable") + 1
        ok = True
        if row["r"] < 1:
            ok &= int(order[0]) == row["k_top"]
        if 0 < row["r"] < 1 and row["r"] * row["s"] > row["eps"]:
            ok &= int(order[1]) == row["k_second"]
        if row["r"] == 1:
            ok &= {int(order[0]), int(order[1])} == {row["k_top"], row["k_second"]}
        rest = np.delete(norms, [row["k_top"] - 1, row["k_second"] - 1])
        # The float32 embedding adds round-off to every signal, so the margin is relative to s rather than to ε.
        ok &= bool(np.all(rest <= 1e-4 * row["s"]))
        out["checked"] += 1
        if ok:
            out["agree"] += 1
        else:
            out["disagree"].append(row["id"])
    return out


def per_r(rows, tau: float = SURVIVAL_TAU) -> list[dict]:
    out = []
    for r in sorted({row["r"] for row in rows}):
        rs = [row for row in rows if row["r"] == r]
        out.append(
            {
                "r": r,
                "n": len(rs),
                "top": float(np.mean([x[tau]["top"] for x in rs])),
                "second": float(np.mean([x[tau]["second"] for x in rs])),
                "any_revival": float(np.mean([x[tau]["revived"] > 0 for x in rs])),
                "revived_mean": float(np.mean([x[tau]["revived"] for x in rs])),
                "survivors_mean": float(np.mean([x[tau]["survivors"] for x in rs])),
            }
        )
    return out


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class ConstructionMeasured(Measured):
    """Per-trial rows, the survival rates at each r and τ, and the checks behind them."""

    rows: list = field(default_factory=list)  # trial_rows of the valid trials
    per_tau: dict = field(default_factory=dict)  # {τ: per_r(rows, τ)}
    spearman: dict = field(default_factory=dict)  # ρ(r, second survived) at τ = SURVIVAL_TAU
    any_revival: float = float("nan")  # share of trials reviving a frequency that started at ε
    check: dict = field(default_factory=dict)  # check_frequencies
    settling: dict = field(default_factory=dict)  # survival.settling


def revival_claim(k: int, n: int) -> Claim:
    """ "Sometimes": some but not all of n trials revive a frequency that started at ε (an existence claim)."""
    if n == 0:
        return Claim(
            REVIVAL_CLAIM,
            NOT_ASSESSABLE,
            "no trials",
            kind="observation",
            reason="too_few_valid",
            n=0,
        )
    numbers = dict(
        value=k / n,
        ci=inference.share_ci(k, n),
        n=n,
        kind="observation",
        effect="share of trials reviving one",
    )
    note = f"{k} of {n} trials revive a frequency that started at ε"
    if 0 < k < n:
        return Claim(
            REVIVAL_CLAIM,
            REPRODUCED,
            note + "; some but not all",
            reason="observed",
            **numbers,
        )
    why = "; none" if k == 0 else '; every one, not "sometimes"'
    return Claim(REVIVAL_CLAIM, NOT_REPRODUCED, note + why, reason="not_observed", **numbers)


def claims_of(rows) -> list:
    """The three declared claims from the per-trial rows."""
    top = [bool(row[SURVIVAL_TAU]["top"]) for row in rows]
    revived = [row[SURVIVAL_TAU]["revived"] > 0 for row in rows]
    return [
        verdicts.rate_claim(TOP_CLAIM, sum(top), len(top), True, TOP_ALWAYS, "(all r)", TOP_SOURCE),
        verdicts.trend(
            SECOND_CLAIM,
            [row["r"] for row in rows],
            [float(row[SURVIVAL_TAU]["second"]) for row in rows],
            +1,
            "Spearman ρ(r, second survived)",
            margin=SECOND_MARGIN,
        ),
        revival_claim(sum(revived), len(revived)),
    ]


def measure(trials, options=None) -> ConstructionMeasured:
    """The three claims over the valid trials: pure, no text and no figures."""
    m = writeup.begin(trials, CLAIM_NAMES, options, cls=ConstructionMeasured)
    if not m.assessable:
        return m
    rows = m.rows = trial_rows(m.valid)
    m.per_tau = {tau: per_r(rows, tau) for tau in TAUS}
    m.check = check_frequencies(rows)
    m.settling = survival.settling(m.valid, survival.settling_step(m.valid))
    m.spearman = inference.spearman(
        [row["r"] for row in rows], [float(row[SURVIVAL_TAU]["second"]) for row in rows]
    )
    m.any_revival = (
        float(np.mean([row[SURVIVAL_TAU]["revived"] > 0 for row in rows])) if rows else float("nan")
    )
    m.claims = claims_of(rows)
    return m


# ---------------------------------------------------------------- write


def _numbers(m: ConstructionMeasured) -> tuple[str, str]:
    """(our number, its short form for the index)."""
    table, rho, any_revival = m.per_tau[SURVIVAL_TAU], m.spearman, m.any_revival
    if not table:
        return "no trials", "no trials"
    min_top = min(x["top"] for x in table)
    lo, hi = table[0], table[-1]
    top_range = sorted(
        {formatting.fmt(100 * min_top), formatting.fmt(100 * max(x["top"] for x in table))},
        key=float,
    )
    our = (
        f"top survives in {'–'.join(top_range)}% of trials at each r; second "
        f"rises from {formatting.fmt(100 * lo['second'])}% at r = {formatting.fmt(lo['r'])} to {formatting.fmt(100 * hi['second'])}% at r = "
        f"{formatting.fmt(hi['r'])} (Spearman ρ = {formatting.fmt(rho['rho'])}, {formatting.fmt_p(rho['p'])}); a revival in "
        f"{formatting.fmt(100 * any_revival)}% of trials; {len(m.rows)} trials, {lo['n']} per r"
    )
    top_short = (
        "top 100% at each r"
        if min_top == 1
        else f"top ≥ {formatting.fmt(100 * min_top)}% at each r"
    )
    short = (
        f"{top_short}; second {formatting.fmt(100 * lo['second'])}% → {formatting.fmt(100 * hi['second'])}% "
        f"(r {formatting.fmt(lo['r'])} → {formatting.fmt(hi['r'])}); revivals {formatting.fmt(100 * any_revival)}%"
    )
    return our, short


def _what_we_ran(m: ConstructionMeasured, record: dict) -> list[str]:
    rows, table = m.rows, m.per_tau[SURVIVAL_TAU]
    s_values = sorted({row["s"] for row in rows})
    p_d = sorted({(int(t.settings["task"]["p"]), int(t.settings["train"]["d"])) for t in m.valid})
    ran = writeup.profile_lines(record, m.trials)
    ran.append(
        f"r ∈ {{{', '.join(formatting.fmt(x['r']) for x in table)}}}, s = {', '.join(f'{s:g}' for s in s_values)}, "
        f"ε = {', '.join(formatting.fmt(e) for e in sorted({row['eps'] for row in rows}))}; (p, d) = "
        f"{', '.join(f'({p}, {d})' for p, d in p_d)}."
    )
    ran.append(
        "Trial i has the same embedding seed (so the same two frequencies, directions and phases), MLP and split "
        "at every r: the sweep over r is paired."
    )
    return ran


def _deviations() -> list[str]:
    """The section's own deviations (`survival_text.section` adds those every survival section states)."""
    return [
        "The paper does not give s. Ours makes the constructed embedding as large as a drawn one at r = 1: "
        "2s = ⌊(p−1)/2⌋ · p · d, the expected total signal of an N(0, 1) embedding over k = 1..⌊(p−1)/2⌋ "
        "(each frequency's expected ‖F_k‖² is p · d).",
        "The paper does not give its grid of r or its number of trials; ours are under What we ran.",
        "The two frequencies are drawn from k = 1..⌊(p−1)/2⌋ (each stands for the circle k, p − k); directions and "
        'phases are uniformly random in C^d; the mean (k = 0) is 0. The paper says only "randomly sample 2 out of p '
        'frequencies".',
        f"\"Always\" is our ≥ {TOP_ALWAYS * 100:g}% (the rate's 95% CI reaching it), pooled over r (each r's "
        'rate is in the table). At r = 1 the two frequencies have equal signal; "top" '
        'and "second" are the construction\'s labels. At r = 0 the second frequency starts at 0 (below ε); its survival '
        "is counted as the second's, not as a revival.",
    ]


def _findings(m: ConstructionMeasured) -> list[str]:
    table, check = m.per_tau[SURVIVAL_TAU], m.check
    rows_md = [
        [
            formatting.fmt(x["r"]),
            x["n"],
            f"{100 * x['top']:.1f}%",
            f"{100 * x['second']:.1f}%",
            f"{100 * x['any_revival']:.1f}%",
            x["revived_mean"],
            x["survivors_mean"],
        ]
        for x in table
    ]
    tau_md = [
        [f"{tau:g}"]
        + [
            f"{100 * x['top']:.0f}% / {100 * x['second']:.0f}% / {100 * x['any_revival']:.0f}%"
            for x in m.per_tau[tau]
        ]
        for tau in TAUS
    ]
    return [
        formatting.md_table(
            [
                "r",
                "trials",
                "top survives",
                "second survives",
                "trials with a revival",
                "revived per trial (mean)",
                "survivors per trial (mean)",
            ],
            rows_md,
        ),
        "**Survival threshold τ** (top / second / trials with a revival, at each r):",
        formatting.md_table(["τ"] + [f"r = {formatting.fmt(x['r'])}" for x in table], tau_md),
        survival_text.frequency_check_text(
            f"The constructed frequencies were checked against the stored initial signals of {check['checked']} trials "
            "(largest and second largest where r tells them apart; every other signal below 1e-4 · s)",
            check,
            ", ".join(f"`{i[:12]}`" for i in check["disagree"][:10]),
        ),
    ]


def write(m: ConstructionMeasured, record: dict, out_dir: Path) -> Section:
    """The report section: the survival rates at each r in words, tables and the two figures."""
    if not m.assessable:
        return writeup.section(m, record)
    out_dir = Path(out_dir)
    figures = [figure_rates(m.per_tau[SURVIVAL_TAU], out_dir), figure_revivals(m.rows, out_dir)]
    text = survival_text.SectionText(
        _numbers(m), _what_we_ran(m, record), _deviations(), _findings(m)
    )
    summary = {
        "per_r": {str(tau): m.per_tau[tau] for tau in TAUS},
        "spearman_second": m.spearman,
        "any_revival": m.any_revival,
        "frequency_check": dict(m.check),
    }
    return survival_text.section(m, record, text, figures, summary)
