"""§4.4, Fig. 6d: keep only the frequencies with a high initial signal; does training converge faster?

The paper's claim: zeroing every frequency of the initial embedding except those whose signal is
more than one standard deviation above the mean (a "winning ticket" of circles) makes training
reach 100% test accuracy much sooner, over 100 seeds, with 95% confidence intervals (Fig. 6d),
because the kept circles have high initial norms. Keeping *few* frequencies of any kind might do as
much (winning_tickets: two random circles train as fast as the two winning ones), hence our control.

Trials: three cases over the same seeds, `original` (as drawn), `ablated` (fourier_keep "mean+1std")
and `random` (fourier_keep "random as many as mean+1std": as many frequencies as `ablated` keeps for
that embedding, drawn from the embedding seed and stored with the trial); trial i of every case shares
embedding, MLP and split seeds. Without `random` its claim is not assessable. Per trial: the
convergence step (first evaluated step with 100% test accuracy), or none within the budget.

Verdict rule (fixed here, before any numbers): see VERDICT_RULE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Figure, Measured, Section

ORIGINAL, ABLATED, RANDOM = "original", "ablated", "random"
CASES = (ORIGINAL, ABLATED, RANDOM)
PAPER_SEEDS = 100
# A kept frequency keeps its signal; a zeroed one is left with float32 round-off, far below this share of the maximum.
KEPT_SHARE = 1e-6
PERFECT = 0.95  # "still achieving perfect test accuracy": at least this share of ablated trials reach 100%
PERFECT_SOURCE = '§4.4: "while still achieving perfect test accuracy", read as'
# Margins, in steps, as shares of a scale the run itself sets (steps depend on the setup, the paper's words do not):
# "significantly accelerates training" (§4.4), with "a significant decrease in convergence time" drawn in Fig. 6d,
# read as at least a tenth of the original's steps; and the credit §4.4 gives the kept circles ("given that circles
# with high initial norms are more likely to be learned, this initialization method significantly accelerates
# training") read as: a random choice of as many frequencies loses at least a quarter of that speed-up.
FASTER_SHARE = 0.1
FASTER_SOURCE = (
    '§4.4: "significantly accelerates training" / Fig. 6d "a significant decrease in convergence time", '
    "read as at least {share:.0%} of the original's mean steps"
)
SURVIVORS_SHARE = 0.25
SURVIVORS_SOURCE = (
    '§4.4 credits the speed-up to the kept circles: "given that circles with high initial norms are more '
    'likely to be learned, this initialization method significantly accelerates training", read as: a '
    "random choice of as many frequencies loses at least {share:.0%} of the measured speed-up"
)
FASTER_CLAIM = "the ablated embedding reaches 100% test accuracy in fewer steps"
PERFECT_CLAIM = "the ablated embedding still reaches perfect test accuracy"
SURVIVORS_CLAIM = "the survivors, not just fewer frequencies, speed training up"
CLAIM_NAMES = (FASTER_CLAIM, PERFECT_CLAIM, SURVIVORS_CLAIM)

VERDICT_RULE = (
    "three claims over the valid seeds (every case's trial of the seed finite), the headline being the weakest. "
    f"({FASTER_CLAIM}) over the pairs in which both reach 100% test accuracy: the mean paired difference of convergence "
    "steps (ablated − original), with its Student-t 95% CI and a two-sided Wilcoxon signed-rank test, margin "
    f"{FASTER_SOURCE.format(share=FASTER_SHARE)}: {verdicts.direction_outcomes('negative')}. ({PERFECT_CLAIM}) the share of ablated trials reaching 100% test accuracy "
    f"within the budget: {verdicts.rate_outcomes(True, PERFECT, PERFECT_SOURCE)}. "
    f"({SURVIVORS_CLAIM}; ours, a control the paper does not run) over the seeds in which both the ablated and the random "
    "arm (as many frequencies as the ablation keeps for that seed, drawn at random) reach 100% test accuracy: the mean "
    "paired difference of convergence steps (ablated − random), with its Student-t 95% CI and a one-sided Wilcoxon "
    f"signed-rank test (ablated faster), margin {SURVIVORS_SOURCE.format(share=SURVIVORS_SHARE)} (original − ablated, "
    f"mean over the pairs of the first claim): {verdicts.direction_outcomes('negative')}; not assessable when the run has no "
    "random arm or no speed-up to credit. For both paired claims seeds where only one arm converged are counted, not tested. Not assessable when fewer "
    f"than {verdicts.MIN_VALID_SHARE:.0%} of the seeds (or fewer than 3) are valid."
)

CLAIM = (
    "Keeping only the frequencies whose initial signal lies more than one standard deviation above the mean, and "
    'zeroing the rest before training, "significantly accelerates training while still achieving perfect test '
    'accuracy": over 100 random seeds the number of steps to reach 100% test accuracy drops markedly (Fig. 6d, '
    "mean with a 95% confidence interval). The paper's reason: \"circles with high initial norms are more likely to be "
    'learned" — the speed-up is credited to keeping the *right* frequencies, not to keeping few of them.'
)

PAPER_NUMBER = "a significant decrease in steps to 100% test accuracy (Fig. 6d, 95% CI; 100 seeds; no number given in the text)"

DECLARATION = Declaration(
    paper_ref="§4.4, Fig. 6d",
    title="Training only the high-signal frequencies: steps to perfect test accuracy",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- the paired test (tested on known data)


def paired_convergence(original, ablated, alternative: str = "two-sided") -> dict:
    """Paired comparison of convergence steps; None (or nan) means the trial never reached 100% test accuracy.

    Only pairs where both converged enter the Wilcoxon signed-rank test of ablated − original (a step count that
    does not exist has no difference; `alternative` "less": the ablated arm is faster); the others are counted by
    which side converged, never dropped silently. `original` is whichever arm the ablated one is compared with.
    """

    if len(original) != len(ablated):
        raise ValueError(
            f"{len(original)} original and {len(ablated)} ablated steps: pairs need equal lengths"
        )

    def converged(v):
        return v is not None and math.isfinite(float(v))

    both = [
        (float(o), float(a)) for o, a in zip(original, ablated) if converged(o) and converged(a)
    ]
    diff = np.array([a - o for o, a in both], dtype=float)
    pairs = [(converged(o), converged(a)) for o, a in zip(original, ablated)]
    out = {
        "pairs": len(original),
        "both_converged": len(both),
        "only_original_converged": pairs.count((True, False)),
        "only_ablated_converged": pairs.count((False, True)),
        "neither_converged": pairs.count((False, False)),
        "ablated_faster": int(np.sum(diff < 0)),
        "ablated_slower": int(np.sum(diff > 0)),
        "ties": int(np.sum(diff == 0)),
        "median_difference": float(np.median(diff)) if diff.size else float("nan"),
        "mean_difference": float(diff.mean()) if diff.size else float("nan"),
    }
    # Zero differences are dropped (scipy's "wilcox"); with none left there is nothing to test.
    test = inference.signed_rank(diff, alternative=alternative)
    out["statistic"], out["p"] = test["statistic"], test["p"]
    return out


# ---------------------------------------------------------------- data


def seed_key(trial) -> tuple[int, int, int]:
    s = trial.settings["seeds"]
    return (int(s["embedding"]), int(s["mlp"]), int(s["split"]))


def steps_or_nan(trial) -> float:
    step = trial.result.convergence_step
    return float("nan") if step is None else float(step)


def kept_frequencies(trial) -> int:
    """How many frequencies the initial embedding holds: those the ablation kept (all of them when unablated)."""
    norms = np.asarray(trial.result.fourier_norms[0], dtype=float)
    return int(np.count_nonzero(norms > KEPT_SHARE * norms.max()))


def arms_of(trials) -> dict:
    """{case: its trials of the seeds present in every case, in seed order}; the random case is optional."""
    by_case = writeup.group_trials(trials, lambda t: t.settings.get("case", ""))
    missing = [c for c in (ORIGINAL, ABLATED) if c not in by_case]
    if missing:
        raise ValueError(
            f"convergence_ablation needs cases {ORIGINAL!r} and {ABLATED!r}; missing {missing}"
        )
    maps = {c: {seed_key(t): t for t in by_case[c]} for c in CASES if c in by_case}
    keys = sorted(set.intersection(*(set(m) for m in maps.values())))
    return {c: [m[k] for k in keys] for c, m in maps.items()}


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class ConvergenceMeasured(Measured):
    """The valid seeds, each arm's convergence steps, and the paired comparisons."""

    pairs: int = 0  # seeds present in every case, valid or not
    original: list = field(default_factory=list)  # the valid seeds' trials, in seed order
    ablated: list = field(default_factory=list)
    random: list = field(default_factory=list)  # empty when the run has no random case
    budget: int = 0
    log_every: list = field(default_factory=list)
    first_steps: list = field(default_factory=list)
    arms: dict = field(
        default_factory=dict
    )  # {case: steps, stats, never, n, never_fraction, median, kept}
    paired: dict = field(default_factory=dict)  # paired_convergence, ablated against original
    difference: dict = field(
        default_factory=dict
    )  # mean paired difference (ablated − original): mean, ci95, n
    ratio: float = float("nan")  # ablated / original mean steps
    paired_random: dict = field(
        default_factory=dict
    )  # paired_convergence, ablated against random ("random" keys)
    difference_random: dict = field(
        default_factory=dict
    )  # mean paired difference (ablated − random)
    kept_match: dict = field(
        default_factory=dict
    )  # per seed, random keeps as many as ablated; survivors drawn


def split_valid_seeds(trials) -> tuple[dict, dict, int]:
    """({case: valid trials in seed order}, {reason: [excluded trials]}, number of seeds). A seed is valid when every
    case's trial of it trained finitely; the finite trials of a broken seed are excluded with their own reason."""
    arms = arms_of(trials)
    valid, excluded = {c: [] for c in arms}, {}
    for group in zip(*arms.values()):
        if all(writeup.is_finite_trial(t) for t in group):
            for c, t in zip(arms, group):
                valid[c].append(t)
            continue
        for t in group:
            why = (
                "non-finite training loss or embedding (diverged)"
                if not writeup.is_finite_trial(t)
                else "a trial of the same seeds in another case diverged"
            )
            excluded.setdefault(why, []).append(t)
    return valid, excluded, len(arms[ORIGINAL])


def _arm(ts: list) -> dict:
    """One case's convergence steps (nan: never converged) and the frequencies its initial embeddings hold."""
    steps = np.array([steps_or_nan(t) for t in ts])
    never = int(np.sum(~np.isfinite(steps)))
    finite, kept = steps[np.isfinite(steps)], [kept_frequencies(t) for t in ts]
    (mean, lo, hi, n), (k_mean, k_lo, k_hi, k_n) = (
        inference.mean_ci(finite),
        inference.mean_ci(kept),
    )
    return {
        "steps": steps.tolist(),
        "never": never,
        "n": len(ts),
        "stats": {"mean": mean, "std": inference.mean_std(finite)[1], "n": n, "ci95": [lo, hi]},
        "never_fraction": never / len(ts) if ts else float("nan"),
        "median": float(np.nanmedian(steps)) if np.isfinite(steps).any() else float("nan"),
        "kept": {
            "mean": k_mean,
            "std": inference.mean_std(kept)[1],
            "n": k_n,
            "ci95": [k_lo, k_hi],
        },
    }


def _compare(m: ConvergenceMeasured, other: str, alternative: str) -> tuple[dict, dict]:
    """(paired_convergence of ablated against `other`, mean paired difference ablated − other with its 95% CI)."""
    o_steps, a_steps = (np.array(m.arms[c]["steps"], dtype=float) for c in (other, ABLATED))
    paired = paired_convergence(
        [v if np.isfinite(v) else None for v in o_steps],
        [v if np.isfinite(v) else None for v in a_steps],
        alternative,
    )
    diffs = [a - o for o, a in zip(o_steps, a_steps) if np.isfinite(o) and np.isfinite(a)]
    mean, lo, hi, _ = inference.mean_ci(diffs)
    return paired, {"mean": mean, "ci95": [lo, hi], "n": len(diffs)}


def kept_match(ablated: list, random: list) -> dict:
    """Per seed: does the random initial embedding hold as many frequencies as the ablated one (initial signals), and
    how many survivors the random draw holds (each transform's stored choice; seeds without one left out)."""
    same = sum(kept_frequencies(a) == kept_frequencies(r) for a, r in zip(ablated, random))
    chosen = [
        (
            set(getattr(a, "chosen", {}).get("kept", [])),
            set(getattr(r, "chosen", {}).get("kept", [])),
        )
        for a, r in zip(ablated, random)
    ]
    overlap = [len(a & r) for a, r in chosen if a and r]
    mean, lo, hi, n = inference.mean_ci(overlap)
    return {
        "same_count": int(same),
        "n": len(ablated),
        "overlap": {"mean": mean, "ci95": [lo, hi], "n": n},
    }


def _versus_random(m: ConvergenceMeasured) -> verdicts.Claim:
    if RANDOM not in m.arms:
        return verdicts.Claim(
            SURVIVORS_CLAIM,
            verdicts.NOT_ASSESSABLE,
            f"this run has no {RANDOM!r} case (as many frequencies as the "
            "ablation keeps, drawn at random): nothing to tell the survivors from fewer frequencies",
            kind="direction",
            reason="no_estimate",
        )
    m.paired_random, m.difference_random = _compare(m, RANDOM, "less")
    m.paired_random = {k.replace("original", "random"): v for k, v in m.paired_random.items()}
    m.kept_match = kept_match(m.ablated, m.random)
    d = m.difference_random
    speedup = -float(m.difference["mean"])
    if not (np.isfinite(speedup) and speedup > 0):
        return verdicts.Claim(
            SURVIVORS_CLAIM,
            verdicts.NOT_ASSESSABLE,
            "no speed-up of the ablated over the original arm to credit to the survivors",
            kind="direction",
            reason="no_estimate",
        )
    margin = verdicts.Margin(
        SURVIVORS_SHARE * speedup,
        SURVIVORS_SOURCE.format(share=SURVIVORS_SHARE) + f", {formatting.fmt(speedup)} steps",
    )
    return verdicts.direction(
        SURVIVORS_CLAIM,
        d["mean"],
        *d["ci95"],
        m.paired_random["p"],
        -1,
        "mean paired difference ablated − random, steps",
        margin=margin,
        n=d["n"],
        note=f"{d['n']} seeds where both converged; p: one-sided Wilcoxon signed-rank, ablated faster",
    )


def measure(trials, options=None) -> ConvergenceMeasured:
    """The three claims over the valid seeds: pure, no text and no figures."""
    everything = sorted(trials, key=lambda t: t.id)
    valid, excluded, n_seeds = split_valid_seeds(everything)
    m = ConvergenceMeasured(
        trials=everything,
        valid=sorted((t for ts in valid.values() for t in ts), key=lambda t: t.id),
        excluded=excluded,
        options=options,
        pairs=n_seeds,
        original=valid[ORIGINAL],
        ablated=valid[ABLATED],
        random=valid.get(RANDOM, []),
    )
    if not verdicts.assessable(len(m.original), n_seeds):
        m.assessable = False
        m.claims = [
            verdicts.not_assessable(
                name,
                len(m.valid),
                len(everything),
                f"valid (at least {verdicts.MIN_VALID_SHARE:.0%} and 3 are needed)",
            )
            for name in CLAIM_NAMES
        ]
        return m
    train = [t.settings["train"] for t in m.valid]
    m.budget = max(int(s["steps"]) for s in train)
    m.log_every = sorted({int(s["log_every"]) for s in train})
    m.first_steps = sorted({int(s["first_steps"]) for s in train})
    m.arms = {case: _arm(ts) for case, ts in valid.items()}
    m.paired, m.difference = _compare(m, ORIGINAL, "two-sided")
    so, sa = m.arms[ORIGINAL]["stats"], m.arms[ABLATED]["stats"]
    m.ratio = sa["mean"] / so["mean"] if so["n"] and sa["n"] and so["mean"] > 0 else float("nan")
    d = m.difference
    if so["n"] and np.isfinite(so["mean"]) and so["mean"] > 0:
        margin = verdicts.Margin(
            FASTER_SHARE * so["mean"],
            FASTER_SOURCE.format(share=FASTER_SHARE) + f", {formatting.fmt(so['mean'])} steps",
        )
        faster = verdicts.direction(
            FASTER_CLAIM,
            d["mean"],
            *d["ci95"],
            m.paired["p"],
            -1,
            "mean paired difference ablated − original, steps",
            margin=margin,
            n=d["n"],
            note=f"{d['n']} pairs where both converged; p: two-sided Wilcoxon signed-rank",
        )
    else:
        faster = verdicts.Claim(
            FASTER_CLAIM,
            verdicts.NOT_ASSESSABLE,
            "no original trial reached 100% test accuracy: no scale for the speed-up",
            kind="direction",
            reason="no_estimate",
        )
    n_abl, never = m.arms[ABLATED]["n"], m.arms[ABLATED]["never"]
    perfect = verdicts.rate_claim(
        PERFECT_CLAIM,
        n_abl - never,
        n_abl,
        True,
        PERFECT,
        "(ablated)",
        PERFECT_SOURCE,
        verb="reached 100% test accuracy within the budget",
    )
    m.claims = [faster, perfect, _versus_random(m)]
    return m


# ---------------------------------------------------------------- figures


LABELS = {
    ORIGINAL: "original embedding",
    ABLATED: "kept: signal > mean + 1 std",
    RANDOM: "kept: as many, random",
}
COLOURS = {ORIGINAL: "tab:blue", ABLATED: "tab:orange", RANDOM: "tab:green"}


def figure_bars(arms: dict, budget: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(arms), 3.9))
    for x, name in enumerate(arms):
        a, s = arms[name], arms[name]["stats"]
        values = [v for v in a["steps"] if np.isfinite(v)]
        jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(len(values))
        ax.scatter(x + jitter, sorted(values), s=8, color=COLOURS[name], alpha=0.4, lw=0)
        if s["n"]:
            lo, hi = s["ci95"]
            lo = max(
                lo, 0.0
            )  # a step count is never negative: the interval is cut at 0 (said in the caption)
            ax.bar(
                x,
                s["mean"],
                width=0.55,
                color=COLOURS[name],
                alpha=0.35,
                label=f"{name}: mean {formatting.fmt(s['mean'])}, 95% CI [{formatting.fmt(lo)}, {formatting.fmt(hi)}], n = {s['n']}",
            )
            ax.errorbar(
                x,
                s["mean"],
                yerr=[[s["mean"] - lo], [hi - s["mean"]]],
                color="black",
                capsize=6,
                lw=1.5,
            )
        never = a["never"]
        if never:
            ax.scatter(
                [x],
                [budget],
                marker="x",
                color="red",
                s=30,
                label=f"{name}: {never} never converged (drawn at the budget, {budget})",
            )
    ax.set_xticks(range(len(arms)), [LABELS[name] for name in arms], fontsize=8)
    ax.set_ylabel("steps to 100% test accuracy")
    ax.set_ylim(bottom=0)
    ax.set_title("Convergence before and after the ablation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8)
    control = (
        " and with as many frequencies kept, drawn at random (green, our control)"
        if RANDOM in arms
        else ""
    )
    return plotting.finish(
        fig,
        out_dir,
        "convergence_steps.png",
        "Steps to reach 100% test accuracy with the embedding as drawn (blue), with only the frequencies "
        f"whose initial signal exceeds mean + 1 std kept (orange){control}: bar = mean over the trials that "
        "converged, black bar = 95% Student-t confidence interval (cut at 0 steps), dots = seeds. Mirrors Fig. 6d.",
    )


def _pairs_panel(ax, x_steps, y_steps, budget: int, x_label: str) -> None:
    x = np.where(np.isfinite(x_steps), x_steps, budget)
    y = np.where(np.isfinite(y_steps), y_steps, budget)
    censored = ~(np.isfinite(x_steps) & np.isfinite(y_steps))
    ax.scatter(
        x[~censored], y[~censored], s=14, color="tab:purple", alpha=0.7, label="both converged"
    )
    if censored.any():
        ax.scatter(
            x[censored],
            y[censored],
            s=22,
            marker="x",
            color="red",
            label=f"one or both never converged (at the budget, {budget})",
        )
    top = max(float(np.max(x)) if x.size else 1.0, float(np.max(y)) if y.size else 1.0, 1.0) * 1.05
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="equal steps")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"{x_label}: steps to 100% test accuracy")
    ax.set_ylabel("ablated embedding: steps to 100% test accuracy")
    ax.legend(loc="upper left", fontsize=8)


def figure_pairs(m: ConvergenceMeasured, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    others = [(ORIGINAL, "original embedding")] + (
        [(RANDOM, "as many random frequencies")] if RANDOM in m.arms else []
    )
    fig, axes = plotting.panel_grid(plt, len(others), 2, 4.2, 4.0)
    for ax, (case, label) in zip(axes, others):
        _pairs_panel(
            ax,
            *(np.array(m.arms[c]["steps"], dtype=float) for c in (case, ABLATED)),
            m.budget,
            label,
        )
        ax.set_title(f"Each seed: ablated against {case}", fontsize=10)
    control = (
        " Right: the same seeds' ablated step against the step with as many frequencies kept at random "
        "(our control); below the line the survivors converged sooner."
        if RANDOM in m.arms
        else ""
    )
    return plotting.finish(
        fig,
        out_dir,
        "convergence_pairs.png",
        "Left: each seed's convergence step without (x) and with (y) the ablation; below the dashed line the "
        f"ablated embedding converged sooner. Our paired view of Fig. 6d, which shows only the means.{control}",
    )


# ---------------------------------------------------------------- write


def _ci_text(s: dict) -> str:
    if not s["n"]:
        return "n/a (no trial converged)"
    lo, hi = s["ci95"]
    return f"{formatting.fmt(s['mean'])} steps (95% CI [{formatting.fmt(lo)}, {formatting.fmt(hi)}], n = {s['n']})"


def _deviations(m: ConvergenceMeasured) -> list[str]:
    n = len(m.original)
    control = (
        [
            f"The `{RANDOM}` arm is ours (the paper has no control): per seed it keeps as many frequencies as the "
            "ablation keeps, drawn uniformly among all K (so it may draw survivors), from the embedding seed; the draw "
            "is stored with the trial. It tells keeping the high-signal frequencies from keeping few of them."
        ]
        if m.random
        else [f"This run has no `{RANDOM}` arm: the survivors are not told from fewer frequencies."]
    )
    return [
        f"{n} seeds here, {PAPER_SEEDS} in the paper."
        if n != PAPER_SEEDS
        else f"{PAPER_SEEDS} seeds, as in the paper.",
        "The keep rule is signal_k > mean + 1 std over the K = ⌊(p−1)/2⌋ frequencies of the initial embedding, "
        "with the population standard deviation (ddof = 0); the paper does not say which standard deviation.",
        'The mean embedding (frequency 0) is kept (keep_zero = true): the paper\'s "remove the rest" does not say '
        "whether the mean is a frequency to remove.",
        *control,
        "Mean and confidence interval are over the trials that reached 100% test accuracy within the budget; trials "
        "that never did are counted and reported separately, and pairs with one such trial are left out of the paired "
        "tests and counted. The paper does not say how (or whether) it met trials that never converged.",
        "The paired Wilcoxon signed-rank tests are ours; the paper shows 95% confidence intervals only.",
        *writeup.paper_setting_deviations(m.valid),
        *writeup.common_deviations(m.valid),
        writeup.STATISTICS_NOTE,
    ]


def _paired_line(paired: dict, other: str, test: str) -> str:
    return (
        f"Ablated against {other}: {paired['pairs']} seeds; both converged {paired['both_converged']}, only the "
        f"{other} {paired[f'only_{other}_converged']}, only the ablated {paired['only_ablated_converged']}, neither "
        f"{paired['neither_converged']}. Where both converged, the ablated embedding was faster in "
        f"{paired['ablated_faster']}, slower in {paired['ablated_slower']}, tied in {paired['ties']}; median paired "
        f"difference {formatting.fmt(paired['median_difference'])} steps, mean {formatting.fmt(paired['mean_difference'])} "
        f"({test} Wilcoxon W = {formatting.fmt(paired['statistic'])}, {formatting.fmt_p(paired['p'])})."
    )


def _findings(m: ConvergenceMeasured) -> list[str]:
    arms, o, a = m.arms, m.arms[ORIGINAL], m.arms[ABLATED]

    def row(name, cell):
        return [name, *(cell(arm) for arm in arms.values())]

    def ci(x):
        return f"[{formatting.fmt(x['ci95'][0])}, {formatting.fmt(x['ci95'][1])}]"

    lines = [
        formatting.md_table(
            ["", *arms],
            [
                row("trials", lambda x: x["n"]),
                row("reached 100% test accuracy", lambda x: x["n"] - x["never"]),
                row(
                    "never within the budget",
                    lambda x: f"{x['never']} ({formatting.fmt(100 * x['never_fraction'])}%)",
                ),
                row("mean steps (converged)", lambda x: x["stats"]["mean"]),
                row("95% CI", lambda x: ci(x["stats"])),
                row("std", lambda x: x["stats"]["std"]),
                row("median steps", lambda x: x["median"]),
                row("frequencies in the initial embedding (mean)", lambda x: x["kept"]["mean"]),
            ],
        ),
        _paired_line(m.paired, ORIGINAL, "two-sided"),
        f"The ablation kept {formatting.fmt(a['kept']['mean'])} frequencies on average (95% CI {ci(a['kept'])}) of "
        f"{formatting.fmt(o['kept']['mean'])}.",
    ]
    if RANDOM in arms:
        k, ov = m.kept_match, m.kept_match["overlap"]
        lines += [
            _paired_line(m.paired_random, RANDOM, "one-sided (ablated faster)"),
            f"The random arm held as many frequencies as the ablated one in {k['same_count']} of {k['n']} seeds; "
            f"its draw included {formatting.fmt(ov['mean'])} survivors on average (95% CI {ci(ov)}, n = {ov['n']} seeds "
            "with a stored choice).",
        ]
    return lines + writeup.health_findings(m.trials, convergence_matters=False)


def _numbers(m: ConvergenceMeasured) -> tuple[str, str]:
    """(our number, the short one) for the report."""
    o, a, paired, budget = m.arms[ORIGINAL], m.arms[ABLATED], m.paired, m.budget
    our = (
        f"steps to 100% test accuracy: original {_ci_text(o['stats'])}, ablated {_ci_text(a['stats'])} "
        f"(ablated/original mean {formatting.fmt(m.ratio)}); paired Wilcoxon {formatting.fmt_p(paired['p'])} over {paired['both_converged']} "
        f"pairs; never converged within {budget} steps: original {o['never']}/{o['n']}, ablated {a['never']}/{a['n']}"
    )
    short = (
        f"{formatting.fmt(o['stats']['mean'])} → {formatting.fmt(a['stats']['mean'])} steps (×{formatting.fmt(m.ratio, 2)}), "
        f"Wilcoxon {formatting.fmt_p(paired['p'])}, n = {paired['both_converged']} pairs"
    )
    if RANDOM in m.arms:
        r, pr = m.arms[RANDOM], m.paired_random
        our += (
            f"; as many random frequencies: {_ci_text(r['stats'])}, never {r['never']}/{r['n']}; ablated − random "
            f"mean {formatting.fmt(m.difference_random['mean'])} steps, one-sided Wilcoxon {formatting.fmt_p(pr['p'])} over "
            f"{pr['both_converged']} seeds"
        )
        short += f"; random {formatting.fmt(r['stats']['mean'])} steps, survivors vs random {formatting.fmt_p(pr['p'])}"
    return our, short


def write(m: ConvergenceMeasured, record: dict, out_dir: Path) -> Section:
    """The report section: the numbers of `measure` in words, tables and the two figures."""
    if not m.assessable:
        return writeup.section(m, record)
    out_dir = Path(out_dir)
    our, short = _numbers(m)
    ran = writeup.profile_lines(record, m.trials, case_order=list(m.arms))
    ran.append(
        f"{len(m.original)} seeds: each trained from its embedding as drawn (`{ORIGINAL}`), from the same "
        f"embedding with only the frequencies whose initial signal exceeds mean + 1 std kept (`{ABLATED}`)"
        + (
            f", and with as many frequencies kept, drawn at random from the embedding seed (`{RANDOM}`)"
            if RANDOM in m.arms
            else ""
        )
        + ", with the same MLP and split seeds."
    )
    ran.append(
        f"Test accuracy evaluated at every step up to step {', '.join(map(str, m.first_steps))} and then every "
        f"{', '.join(map(str, m.log_every))} steps, so a convergence step is exact to that resolution; "
        f"budget {m.budget} steps."
    )
    figures = [figure_bars(m.arms, m.budget, out_dir), figure_pairs(m, out_dir)]
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=ran,
        deviations=_deviations(m),
        findings=_findings(m),
        figures=figures,
        summary={
            "arms": m.arms,
            "paired": m.paired,
            "budget": m.budget,
            "ratio_of_means": m.ratio,
            "mean_paired_difference": m.difference,
            "paired_random": m.paired_random,
            "mean_paired_difference_vs_random": m.difference_random,
            "kept_match": m.kept_match,
            "claims": {c.name: c.verdict for c in m.claims},
            "valid_pairs": len(m.original),
            "pairs": m.pairs,
        },
        short_number=short,
    )
