"""§5, Fig. 8 and App. C, Fig. 10: the completeness signals of random initial embeddings against d.

The paper's claim: over 100 random initialisations per d, the minimum of the normalised completeness
signals rises with the embedding dimension d on all three tasks (Fig. 8), the maximum falls and the
average stays the same (Fig. 10); fewer ill-formed representations at large d is offered as the reason
frozen embeddings of larger d fit better (§5).

Trials: one case per task, a grid over d, `train.steps = 0` (nothing trains; each trial draws its
initial embedding W_E ~ N(0, 1) and stores it). Every candidate is scored on it: f(q) over all m!
orders (remainder), g over all arrangements (XOR), signal_k over k = 1..K (modular addition).

Three views of one draw's scores s (docs/method.md#normalised-signals-5-app-c):
- normalised, s / mean(s) (the paper's): its mean is 1 at every d by construction;
- s / E[s] under E ~ N(0, 1) (its expectation, linear in d): a view whose mean is free to move;
- the spread (max − min) / mean, and the spread × √d: each score is a sum over d independent
  coordinates, so it concentrates around its mean with relative spread ∝ 1/√d, which alone makes the
  min rise and the max fall.

Verdict rule: see VERDICT_RULE (per task: min rises, max falls, mean flat; headline = weakest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures.min_signal_vs_dim import figure_concentration, figure_fig8, figure_fig10
from cinit_tf.measures import candidate_signals, sweeps
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import NOT_ASSESSABLE, Claim, Margin
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section

TASK_NAMES = {
    "remainder": "remainder (f over all m! orders)",
    "xor": "XOR (g over all arrangements)",
    "modadd": "modular addition (signal_k, k = 1..K)",
}
MARGIN = 0.05  # "stays the same": within 5% of its level
MARGIN_SOURCE = 'Fig. 10: "the average stays the same", read as within 5% of its level'
ASYMPTOTIC_D = 8  # the 1/√d law is fitted from this d on (small d is far from the Gaussian limit)
# The rise of the min and the fall of the max carry no number: the conventional smallest correlation.
MIN_MARGIN = Margin(
    verdicts.CONVENTIONAL_RHO.value,
    'Fig. 8: "The minimum signal of our constructed “completeness” metrics increases with '
    f'the dimension"; {verdicts.CONVENTIONAL_RHO.source}',
)
MAX_MARGIN = Margin(
    verdicts.CONVENTIONAL_RHO.value,
    'App. C: "the maximum signal decreases over dimensionality" (Fig. 10: "The maximum '
    f'decreases"); {verdicts.CONVENTIONAL_RHO.source}',
)

VERDICT_RULE = (
    "Per task (remainder, XOR, modular addition), three claims, with one point per (draw, d): (1) min "
    "rises: Spearman ρ between d and each draw's smallest normalised signal (signal / mean over the "
    f"candidates) with its Fisher-z 95% CI, margin ρ = {MIN_MARGIN.value:g} ({MIN_MARGIN.source}): "
    f"{verdicts.direction_outcomes('positive')}. (2) max falls: the same for each draw's largest normalised signal, "
    f"with ρ negative, margin |ρ| = {MAX_MARGIN.value:g} ({MAX_MARGIN.source}). (3) mean flat: in the "
    "normalised view the mean is exactly 1 at every d by construction, so it is judged on the signal divided "
    "by its expectation under E ~ N(0, 1): at each d the 95% CI of the mean over draws is compared with the "
    f"band 1 ± {MARGIN} ({MARGIN_SOURCE}); no d whose CI misses the band and at least half of the d values "
    "with the CI inside it → reproduced; none missing but fewer than half inside (too few draws) → partly; a "
    "CI missing the band at any d → not reproduced. Invalid draws (a non-finite embedding) are excluded and "
    "counted; a task with fewer than half of its draws valid (or fewer than 3) is not assessable. The "
    "headline is the weakest of the nine claims."
)

CLAIM = (
    "Computing the completeness signals of random initial embeddings (§3, §4) over 100 initialisations per dimension d, "
    "the minimum signal rises with d on all three tasks (Fig. 8), while the maximum falls and the average stays the same "
    '(Fig. 10). The paper reads this as fewer poorly formed, "incomplete" representations at larger d, less noise for the '
    "MLP (the reason frozen embeddings of larger d fit better, §5), and, since the most complete representation is less "
    "advantageous, more representations with a chance to be learned (App. C, D)."
)

PAPER_NUMBER = "min of the normalised signals rises with d, max falls, mean stays the same, on all three tasks (Fig. 8, 10; 100 initialisations; no number given)"

DECLARATION = Declaration(
    paper_ref="§5, Fig. 8; App. C, Fig. 10",
    title="Min, mean and max of the completeness signals of random embeddings against d (all tasks, no training)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- the three views of a draw


def draw_stats(scores, expected: float, extremes: tuple[float, float, float] | None = None) -> dict:
    """One draw's numbers in the three views: normalised (by the mean), by the expectation, and the spread.

    From the scores themselves, or from their (min, mean, max) when `extremes` is given.
    """
    if extremes is None:
        s = np.asarray(scores, dtype=np.float64)
        extremes = (float(s.min()), float(s.mean()), float(s.max()))
    lo, mean, hi = extremes
    return {
        "norm_min": lo / mean,
        "norm_max": hi / mean,
        "norm_mean": 1.0,
        "exp_min": lo / expected,
        "exp_mean": mean / expected,
        "exp_max": hi / expected,
        "spread": (hi - lo) / mean,
    }


# ---------------------------------------------------------------- per task


def task_claims(label: str, per_d: dict) -> list[Claim]:
    """One task's three claims from its draws' views ({d: [draw_stats]}), one point per (draw, d)."""
    ds = sorted(per_d)
    points = [(d, s) for d in ds for s in per_d[d]]
    x = [d for d, _ in points]
    return [
        verdicts.trend(
            f"{label}: min rises", x, [s["norm_min"] for _, s in points], +1, margin=MIN_MARGIN
        ),
        verdicts.trend(
            f"{label}: max falls", x, [s["norm_max"] for _, s in points], -1, margin=MAX_MARGIN
        ),
        verdicts.level_claim(
            f"{label}: mean flat (signal / its N(0, 1) expectation)",
            {d: [s["exp_mean"] for s in per_d[d]] for d in ds},
            1.0,
            MARGIN,
            MARGIN_SOURCE,
            "d",
        ),
    ]


def measure_task(label: str, trials: list) -> dict:
    """One task's draws: per d, each draw's three views; the claims, the spread's log-log slope and the table."""
    task = dict(trials[0].settings["task"])
    valid, excluded = writeup.split_valid(trials, needs_generalised=False)
    per_d: dict[int, list[dict]] = {}
    for t in valid:
        d = int(t.settings["train"]["d"])
        per_d.setdefault(d, []).append(
            draw_stats(
                None,
                candidate_signals.expected_score(task, d),
                candidate_signals.extremes(t.result.initial_embedding, task),
            )
        )
    ds = sorted(per_d)
    points = [(d, s) for d in ds for s in per_d[d]]
    if not verdicts.assessable(len(valid), len(trials)):
        claims = [
            verdicts.not_assessable(f"{label}: {what}", len(valid), len(trials), kind=kind)
            for what, kind in (
                ("min rises", "trend"),
                ("max falls", "trend"),
                ("mean flat", "level"),
            )
        ]
    else:
        claims = task_claims(label, per_d)
    big = [(d, s["spread"]) for d, s in points if d >= ASYMPTOTIC_D]
    slope = inference.loglog_slope([d for d, _ in big], [v for _, v in big])
    table = {
        d: {key: sweeps.band([s[key] for s in per_d[d]]) for key in per_d[d][0]}
        | {"n": len(per_d[d])}
        for d in ds
    }
    for d in ds:
        table[d]["spread_sqrt_d"] = sweeps.band([s["spread"] * math.sqrt(d) for s in per_d[d]])
        table[d]["exp_mean_ci"] = inference.mean_ci([s["exp_mean"] for s in per_d[d]])
    return {
        "label": label,
        "task": task,
        "p": writeup.task_p(task),
        "ds": ds,
        "per_d": per_d,
        "claims": claims,
        "slope": slope,
        "table": table,
        "n": len(trials),
        "valid": len(valid),
        "excluded": excluded,
        "candidates": candidate_signals.candidates(task),
    }


# ---------------------------------------------------------------- text


def task_table(c) -> str:
    rows = []
    for d in c["ds"]:
        t = c["table"][d]

        def med(key, t=t):
            m, lo, hi = t[key]
            return f"{formatting.fmt(m)} [{formatting.fmt(lo)}, {formatting.fmt(hi)}]"

        m, lo, hi, _ = t["exp_mean_ci"]
        rows.append(
            [
                str(d) + (" (= p)" if d == c["p"] else ""),
                t["n"],
                med("norm_min"),
                med("norm_max"),
                f"{formatting.fmt(m, 4)} [{formatting.fmt(lo, 4)}, {formatting.fmt(hi, 4)}]",
                med("spread"),
                med("spread_sqrt_d"),
            ]
        )
    return formatting.md_table(
        [
            "d",
            "draws",
            "min / mean: median [5%, 95%]",
            "max / mean: median [5%, 95%]",
            "mean / N(0,1) expectation: mean [95% CI]",
            "(max − min) / mean",
            "× √d",
        ],
        rows,
    )


def merged_exclusions(cases) -> dict:
    """{reason (task): excluded trials} over the tasks; a draw is invalid only when its embedding is not finite."""
    out = {}
    for c in cases:
        for why, ts in c["excluded"].items():
            out[f"{why} ({c['label']})"] = ts
    return out


def _draws(c) -> str:
    n = sorted({c["table"][d]["n"] for d in c["ds"]})
    return str(n[0]) if len(n) == 1 else f"{n[0]}–{n[-1]}"


# ---------------------------------------------------------------- measure and write


@dataclass(kw_only=True)
class MinSignalMeasured(Measured):
    """Per task, in the paper's order: `measure_task` of its draws."""

    cases: list = field(default_factory=list)


def measure(trials: list, options=None) -> MinSignalMeasured:
    everything = sorted(trials, key=lambda t: t.id)
    groups = writeup.group_trials(everything, lambda t: t.settings["task"]["name"])
    order = [n for n in writeup.TASK_ORDER if n in groups] + [
        n for n in groups if n not in writeup.TASK_ORDER
    ]
    cases = [measure_task(name, groups[name]) for name in order]
    valid, _ = writeup.split_valid(everything)
    m = MinSignalMeasured(
        trials=everything,
        valid=valid,
        excluded=merged_exclusions(cases),
        options=options,
        cases=cases,
        claims=[cl for c in cases for cl in c["claims"]],
    )
    # Each task is judged on its own draws: the study is unassessable when too few draws are valid and no task can be judged.
    m.assessable = verdicts.assessable(len(valid), len(everything)) or any(
        c.verdict != NOT_ASSESSABLE for c in m.claims
    )
    return m


def _numbers(cases: list, claims: list) -> tuple[str, str]:
    """(our number, the index's short form)."""

    def end_text(c, key):
        lo_d, hi_d = c["ds"][0], c["ds"][-1]
        return f"{formatting.fmt(c['table'][lo_d][key][0])} at d = {lo_d} → {formatting.fmt(c['table'][hi_d][key][0])} at d = {hi_d}"

    our = "; ".join(
        f"{c['label']}: min/mean {end_text(c, 'norm_min')}, max/mean {end_text(c, 'norm_max')} (medians over "
        f"{_draws(c)} draws per d), "
        f"spread ∝ d^{formatting.fmt(c['slope']['slope'], 2)}"
        for c in cases
    )
    slopes = [c["slope"]["slope"] for c in cases]
    short = "; ".join(
        f"{c['label']}: min {formatting.fmt(c['table'][c['ds'][0]]['norm_min'][0], 2)}→{formatting.fmt(c['table'][c['ds'][-1]]['norm_min'][0], 2)}, "
        f"max {formatting.fmt(c['table'][c['ds'][0]]['norm_max'][0], 3)}→{formatting.fmt(c['table'][c['ds'][-1]]['norm_max'][0], 3)}"
        for c in cases
    ) + (
        f"; spread ∝ d^({formatting.fmt(min(slopes), 2)} to {formatting.fmt(max(slopes), 2)}) ({sweeps.claim_counts(claims)})"
    )
    return our, short


DEVIATIONS = (
    f"Normalisation ({formatting.method('normalised-signals-5-app-c')}): each draw's signals are divided by their mean over all "
    'candidates, the paper\'s reading of "normalised". The mean of a normalised vector is then exactly 1 at every d, so '
    'Fig. 10\'s "average stays the same" holds by construction in that view and is not evidence; we judge it on the '
    "signals divided by their expectation under E ~ N(0, 1) instead, and add the spread (max − min) / mean.",
    "Remainder: the min, mean and max of f over all 10! = 3,628,800 orders of each draw are exact but computed without "
    "listing the orders: f(q) is a sum of cut weights along the chain of q's prefix sets, so the extreme orders follow by "
    "dynamic programming over the 2^10 subsets, and the mean is m(m²−1)/6 times the mean squared distance of the centres "
    "(a test checks all three against scoring every order, which takes ~0.2 s per draw on an idle core; the report "
    "then takes seconds instead of ~4 CPU-minutes). Cluster centres are the mean over each class's tokens. "
    "XOR: all 168 arrangement matrices (28 distinct α); modular addition: signal_k for k = 1..29 (k = 0, the mean, excluded).",
    "The paper does not list its grid of d; ours is 1, 2, 4, …, 256 with each task's p added (8, 59, 100).",
    "Spread over draws is shown as the 5th–95th percentile band of the draws around their median (it cannot leave the "
    "range of the values, so it never goes below 0 on the log axes); the paper does not say what its spread shows.",
    "Initialisation W_E ~ N(0, 1) entrywise (PyTorch's nn.Embedding default; the paper does not state it). Every signal here "
    "is a quadratic form of that Gaussian matrix, which is what makes the concentration argument exact.",
    writeup.STATISTICS_NOTE,
)


def _concentration_text(cases: list) -> str:
    """What the rise of the min and the fall of the max are made of: the 1/√d concentration of a sum of d coordinates."""

    def slope_text(c):
        s = c["slope"]
        return f"{formatting.fmt(s['slope'])} (95% CI [{formatting.fmt(s['lo'])}, {formatting.fmt(s['hi'])}], n = {s['n']})"

    return (
        "**What the rise of the min and the fall of the max are made of.** Each candidate's signal is a sum over the d "
        "coordinates of the embedding of independent terms (for signal_k, ‖F_k‖² = Σ_j |F_k^j|², each |F_k^j|² an "
        "exponential variable of mean p; f and g are likewise sums over coordinates of squared Gaussian differences). By the "
        "law of large numbers every candidate's score concentrates around the same expectation as d grows, with relative "
        "fluctuations ∝ 1/√d, so the min of the candidates must rise towards the mean and the max fall towards it. The fitted "
        "log-log slope of the spread (max − min) / mean against d, from d = 8 on, is "
        + "; ".join(f"{c['label']} {slope_text(c)}" for c in cases)
        + " (−0.5 is the 1/√d law)"
        + (
            ", and spread × √d levels off (table, last column; Figure 4). The paper's figures are therefore what any i.i.d. "
            "Gaussian matrix gives; nothing in them depends on the tasks' structure beyond the number of candidates."
            if all(c["slope"]["lo"] <= -0.4 and c["slope"]["hi"] >= -0.6 for c in cases)
            else "; at least one task's slope lies outside [−0.6, −0.4], so the 1/√d law does not describe every task here."
        )
        + " The paper's reading — fewer ill-formed representations at larger d, hence less noise for the MLP and "
        "more representations with a chance to be learned — is an interpretation of this concentration, not a separate "
        "measured effect: these numbers cannot tell it apart from the plain 1/√d law, and testing it would need an outcome "
        "(frozen-embedding loss, number of learned circles) that the min predicts beyond what d itself predicts."
    )


def write(m: MinSignalMeasured, record: dict, out_dir: Path) -> Section:
    if not m.assessable:
        return writeup.section(m, record, deviations=list(DEVIATIONS))
    out_dir = Path(out_dir)
    cases = [
        c for c in m.cases if c["ds"]
    ]  # a task whose every draw is invalid has no number and no curve
    our, short = _numbers(cases, m.claims)
    ran = writeup.profile_lines(record, m.trials, case_order=list(writeup.TASK_ORDER))
    ran.append(
        "`train.steps = 0`: no training; each trial draws its initial embedding W_E ~ N(0, 1) from its embedding "
        "seed and stores it. Draw i of every d has embedding seed i and reads the same random stream, so the draws "
        "at different d are nested, not independent: for one seed the p × d matrix's entries, read row by row, begin "
        "with the p × d' entries of every smaller d' (the d = 1 draw is the first p entries of the d = 2 draw). "
        "Each d's draws are still exact N(0, 1) matrices, so the per-d medians, bands and means are unaffected; but "
        "the points of one seed at different d share entries and may be correlated, so the trend tests and the "
        "log-log slope, which pool (d, draw) points as if independent, give approximate p-values and CIs."
    )
    for c in cases:
        ran.append(
            f"{c['label']}: {c['candidates']} candidates scored per draw; d ∈ {{{', '.join(map(str, c['ds']))}}} "
            f"(p = {c['p']})."
        )
    findings = []
    for c in cases:
        findings += [
            f"**{TASK_NAMES.get(c['label'], c['label'])}**, p = {c['p']}: per d, the median and 5th–95th percentile over draws "
            "of the normalised min and max, the mean of the signals over their N(0, 1) expectation (mean over draws with its "
            "95% CI), and the relative spread alone and times √d.",
            task_table(c),
        ]
    findings.append(_concentration_text(cases))
    figures = [
        figure_fig8(cases, out_dir),
        figure_fig10(cases, out_dir, "normalised"),
        figure_fig10(cases, out_dir, "expectation"),
        figure_concentration(cases, out_dir, ASYMPTOTIC_D),
    ]
    summary = {
        "tasks": {
            c["label"]: {
                "p": c["p"],
                "candidates": c["candidates"],
                "ds": c["ds"],
                "trials": c["n"],
                "valid": c["valid"],
                "spread_slope": c["slope"],
                "per_d": {str(d): {k: v for k, v in c["table"][d].items()} for d in c["ds"]},
            }
            for c in m.cases
        },
    }
    return writeup.section(
        m,
        record,
        our_number=our,
        short_number=short,
        what_we_ran=ran,
        deviations=list(DEVIATIONS),
        findings=findings,
        figures=figures,
        summary=summary,
    )
