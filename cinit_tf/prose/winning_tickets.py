"""The tables and report text of the winning-tickets study (App. G, Fig. 15): the arms' table, the findings,
the deviations from the paper, what we ran and our number.

Each tabulates or writes out what `winning_tickets.measure` computed; no claim is judged here.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.figures.tickets import ARM_TEXT
from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures import survival
from cinit_tf.measures.tickets import (
    ARMS,
    CASES,
    COMPANIONS,
    FLOAT32_STEP,
    FULL,
    LEVELS,
    PAPER_LOSS,
    SPIKE_FROM,
    SPIKE_RISE,
    TicketRun,
    level_med,
)
from cinit_tf.stats import formatting, inference
from cinit_tf.stats.claims import headline
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health


def arm_row(arm: str, runs: list[TicketRun]) -> list:
    """One arm's row of the report's table, over its valid runs."""
    valid = [r for r in runs if r.valid]

    def med(key):
        return inference.median_iqr([getattr(r, key) for r in valid])

    def to(lv):
        got = [r.to[f"{lv:g}"] for r in valid if np.isfinite(r.to[f"{lv:g}"])]
        if not got:
            return f"never (0/{len(valid)})"
        return f"{formatting.fmt(inference.median_iqr(got)['median'])} ({len(got)}/{len(valid)})"

    def mean(key):
        return float(np.mean([getattr(r, key) for r in valid])) if valid else float("nan")

    low, level, circles = med("lowest"), level_med(valid), med("circles")
    return [
        f"{arm}: {ARM_TEXT[arm]}",
        f"{len(valid)}/{len(runs)}",
        f"{formatting.fmt(low['median'])} [{formatting.fmt(low['q1'])}, {formatting.fmt(low['q3'])}]",
        formatting.fmt(med("lowest_step")["median"]),
        f"{formatting.fmt(level['median'])} [{formatting.fmt(level['q1'])}, {formatting.fmt(level['q3'])}]",
        formatting.fmt(med("mean_log_loss")["median"]),
        *[to(lv) for lv in LEVELS],
        formatting.fmt(mean("final_acc")),
        f"{formatting.fmt(circles['median'])} (mean {formatting.fmt(mean('circles'))})",
        f"{formatting.fmt(mean('spikes'))} ({sum(r.spikes > 0 for r in valid)}/{len(valid)})",
    ]


def k_text(trials: list) -> str:
    """Where k₁ and k₂ come from: the end of each seed's full run, which is the paper's only when that is
    30,000 steps."""
    full = [t for t in trials if t.case == FULL]
    if full and min(t.budget for t in full) >= survival.PAPER_STEPS:
        settled = sum(t.result.stop_reason == "settled" for t in full)
        if not settled:
            return (
                f"k₁ and k₂ are read off each seed's `full` run after {survival.PAPER_STEPS:,} steps, as the "
                "paper's are."
            )
        return (
            f"k₁ and k₂ are read off each seed's `full` run where it stopped: {settled} of {len(full)} "
            f"settled before the {survival.PAPER_STEPS:,}-step cap, where the paper reads them after "
            f"{survival.PAPER_STEPS:,} steps."
        )
    return (
        f"k₁ and k₂ are read off the `full` run at the end of our shorter budget, not after "
        f"{survival.PAPER_STEPS:,} steps; a survivor set that is still changing could name different circles."
    )


def budget_text(budget: list) -> str:
    steps = ", ".join(map(str, budget))
    if budget and max(budget) >= survival.PAPER_STEPS:
        return (
            f"Claim (1) is judged within the paper's budget ({steps} steps at most; runs that settled "
            "stopped earlier)."
        )
    return f"Claim (1) is judged at our budget of {steps} steps, not the paper's {survival.PAPER_STEPS:,}."


def learned_text(m) -> str:
    """How many runs of each arm reached each loss level: whether two random circles learn at all (claims 4,
    6)."""

    def reached(arm):
        runs = [r for r in m.runs_of[arm] if r.valid]
        return ", ".join(
            f"≤ {lv:g} in {sum(np.isfinite(r.to[f'{lv:g}']) for r in runs)} of {len(runs)}"
            for lv in LEVELS
        )

    return (
        "Which runs learned (lowest test loss reached): "
        + "; ".join(f"{arm} ({ARM_TEXT[arm]}) {reached(arm)}" for arm in CASES)
        + "."
    )


def revival_text(runs: list[dict], spike_rise: float) -> str:
    """Whether A (`runs`, its run stats) still revives other circles with the exact loss, where float32's
    collapse cannot make the spikes the paper sees beside the revival, and whether its reviving runs spike."""
    exact = [r for r in runs if r.valid and r.loss == "exact"]
    if not exact:
        return (
            "No A run trained with the exact loss: whether A revives without softmax collapse is not "
            "measured."
        )
    more = [r for r in exact if r.circles > 1]
    text = (
        "A with the exact loss (no softmax collapse in training; the paper sees periodic test-loss "
        f"spikes as A's representation grows): {len(more)} of {len(exact)} A runs end with more than one "
        "circle; "
        f"{sum(r.spikes > 0 for r in exact)} of {len(exact)} show a test-loss spike (above "
        f"{spike_rise:g}× the running minimum)"
    )
    if not more:
        return text + "."
    return (
        text + f", and {sum(r.spikes == 0 for r in more)} of the {len(more)} that revive do so "
        "without any spike."
    )


def companion_text(m) -> str:
    """The standard-loss runs beside the arms in one sentence (`_curves.companion_sentence`)."""
    dtypes = {t.settings["train"].get("dtype", "float32") for t in m.trials if t.case in COMPANIONS}
    dtype = ", ".join(sorted(dtypes)) or "float32"
    runs = f"runs trained with the standard {dtype} loss ({', '.join(COMPANIONS)}; not judged)"
    return curve_stats.companion_sentence(
        m.companion, runs, "the exact-loss run of the same seed (full, B)"
    )


def deviations(trials: list, near: float) -> list[str]:
    """The report's deviations from the paper (`near`: the factor above 1e-7 that counts as near it)."""
    n_seeds = len({curve_stats.seed_of(t) for t in trials if t.case in CASES})
    return [
        f"The paper shows one embedding; we run {n_seeds} seeds and test each claim paired over seeds.",
        "The mean embedding (k = 0) is zeroed too (keep_zero = false), as the paper's \"set all frequencies except for "
        'k₁ to 0" says; only the kept circles remain.',
        "The random frequencies of C and D are drawn among the frequencies other than k₁ and k₂ (ours: the paper's "
        '"randomly select" could hit a winning circle, which would not be a control).',
        k_text(trials),
        "Float32: with the standard cross-entropy a pair's loss is either exactly 0 or at least log(1 + "
        f"2⁻²³) ≈ {FLOAT32_STEP:.3g}, so the paper's 1e-7 is float32's per-pair floor, where a handful of "
        "pairs carry the loss and the rest are exact zeros. The arms train with the exact loss, which "
        f"resolves losses far below it ({formatting.method('the-exact-loss')}); two standard-loss cases beside them "
        f'show the paper\'s likely setting. "Near 1e-7" is read as ≤ {PAPER_LOSS * near:g} (a factor '
        f"{near:g}); lower counts as reaching it.",
        f'"Faster" ({formatting.method("winning_tickets-app-g")}) is judged by the time-averaged log10 test loss, '
        'which ranks lower-and-sooner first and needs no censoring; "near 1e-7", "struggles" and B '
        "against D by the level, the mean log10 test loss over the last tenth of the budget; the paper "
        "compares the curves by eye. The steps to test loss ≤ 1e-2, 1e-4, 1e-6 are reported beside them (a "
        "run that never got there is counted, not dropped).",
        f"Loss spikes: maximal runs of records whose test loss is more than {SPIKE_RISE:g}× the lowest test loss "
        f"before them, counted from the first record at or below {SPIKE_FROM:g} (ours).",
        f"Circles at the end: the survival rule ({formatting.method('survival-rule')}), τ = {formatting.fmt(survival.TAU)}.",
        *writeup.paper_setting_deviations([t for t in trials if t.case == FULL]),
        *writeup.common_deviations(trials),
        writeup.STATISTICS_NOTE,
    ]


def our_number(m, our_level: float) -> str:
    """The report's number of `winning_tickets.measure`: each arm's level, steps to `our_level` and
    ⟨log10 test loss⟩ (medians over seeds), and A's circles at the end."""
    level, speed, mll = m.level, m.speed, m.mean_log_loss
    a_circ = [r.circles for r in m.runs_of["A"] if r.valid]
    a_mean = float(np.mean(a_circ)) if a_circ else float("nan")
    return (
        "test loss over the last tenth of the budget (10^level, median over seeds): "
        + ", ".join(f"{arm} {formatting.fmt(level[arm]['median'])}" for arm in CASES)
        + "; steps to "
        f"{our_level:g} (median, budget if never): full {formatting.fmt(speed[FULL]['median'])}, B {formatting.fmt(speed['B']['median'])}, "
        f"C {formatting.fmt(speed['C']['median'])}, D {formatting.fmt(speed['D']['median'])}; ⟨log10 test loss⟩ (median): "
        + ", ".join(f"{arm} {formatting.fmt(mll[arm]['median'])}" for arm in CASES)
        + "; A ends with "
        f"{formatting.fmt(a_mean)} circles on average; {len(m.by_seed)} seeds, {', '.join(map(str, m.budget))} steps"
    )


def what_we_ran(m, record: dict) -> list[str]:
    """What we ran: the profile and cases, how the arms derive from each seed's full run, the test-loss
    resolution."""
    ran = writeup.profile_lines(record, m.trials, case_order=(*CASES, *COMPANIONS))
    ran.append(
        f"{len(m.by_seed)} seeds, each trained five times from the same initial embedding, MLP and split: `full` as "
        "drawn, then A–D from that embedding with every frequency zeroed except the kept ones (k₁, k₂ = the two "
        "largest final signals of the seed's `full` run; the random ones drawn among the other frequencies)."
    )
    log_every = sorted({int(t.settings["train"]["log_every"]) for t in m.trials})
    ran.append(
        f"Test loss measured every {', '.join(map(str, log_every))} steps (and after each of the first steps), so "
        "steps to a loss level are exact to that resolution."
    )
    return ran


def findings(m) -> list[str]:
    """The report's tables and findings of `winning_tickets.measure`'s numbers."""

    def paired_text(label, key, test):
        what = "lowest test loss" if key == "lowest" else "level"
        return (
            f"{label} in log10 {what}: median {formatting.fmt(test['median'])} over {test['n']} seeds "
            f"(lower in {test['negative']}, higher in {test['positive']}; two-sided Wilcoxon {formatting.fmt_p(test['p'])})"
        )

    def circles(arm, kept):
        return formatting.md_table(
            ["seed", kept, "survivors at the end", "revived"],
            [
                [
                    str(r.seed),
                    ", ".join(map(str, r.kept)),
                    ", ".join(map(str, r.survivors)),
                    ", ".join(map(str, r.revived)) or "none",
                ]
                for r in m.runs_of[arm]
                if r.valid
            ],
        )

    return [
        formatting.md_table(
            [
                "arm",
                "valid",
                "lowest test loss, median [IQR]",
                "step of lowest (median)",
                "test loss over the last tenth (10^level), median [IQR]",
                "⟨log10 test loss⟩ (median)",
                *[f"steps to ≤ {lv:g} (median; reached)" for lv in LEVELS],
                "final test acc (mean)",
                "circles at the end (median)",
                "spikes per run (mean; runs with any)",
            ],
            [arm_row(arm, m.runs_of[arm]) for arm in CASES],
        ),
        "Still falling at the end (the lowest test loss is at the last record of a run that did not settle): "
        + ", ".join(f"{arm} {k} of {n}" for arm, (k, n) in m.still.items())
        + " runs. "
        + budget_text(m.budget),
        "Paired over seeds: "
        + "; ".join(
            paired_text(f"{arm} − full", k, m.paired[arm][k])
            for arm in ARMS
            for k in ("lowest", "level")
        )
        + "; "
        + paired_text("B − D (beside claim 6)", "lowest", m.b_against_d)
        + ".",
        learned_text(m),
        revival_text(m.runs_of["A"], SPIKE_RISE),
        "A revives circles: " + circles("A", "kept (k₁)"),
        "B keeps its circles: " + circles("B", "kept (k₁, k₂)"),
        *([companion_text(m)] if m.companions else []),
        *health.health_findings(m.trials, convergence_matters=False),
    ]


def short_number(claims: list, short_names: tuple) -> str:
    """The index's number: the claim that set the headline (the weakest; on a tie B against D, the point), and why."""
    worst = headline(claims)
    i = next(i for i in (5, *range(len(claims))) if claims[i].verdict == worst)
    c = claims[i]
    number = (
        f"{c.effect or 'value'} {formatting.fmt(c.value)}" if c.value is not None else "no number"
    )
    if c.ci is not None and c.value is not None:
        number += f" [{formatting.fmt(c.ci[0])}, {formatting.fmt(c.ci[1])}]"
    return f"{short_names[i]}: {number} ({worst}{', ' + c.reason.replace('_', ' ') if c.reason else ''})"
