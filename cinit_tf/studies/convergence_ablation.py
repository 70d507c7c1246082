"""§4.4, Fig. 6d: keep only the frequencies with a high initial signal; does training converge faster?

The paper's claim: zeroing every frequency of the initial embedding except those whose signal is
more than one standard deviation above the mean (a "winning ticket" of circles) makes training
reach 100% test accuracy much sooner, over 100 seeds, with 95% confidence intervals (Fig. 6d).

Trials: two cases over the same seeds, `original` (the embedding as drawn) and `ablated`
(transform fourier_keep, rule "mean+1std"), so trial i of one case and trial i of the other share
their embedding, MLP and split seeds and differ only in the ablation. Per trial: the convergence
step (the first evaluated step with 100% test accuracy), or none within the step budget.

Verdict rule (fixed here, before any numbers): see VERDICT_RULE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.section import Declaration, Figure, Measured, Section
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V

ORIGINAL, ABLATED = "original", "ablated"
PAPER_SEEDS = 100
# A kept frequency keeps its signal; a zeroed one is left with float32 round-off, far below this share of the maximum.
KEPT_SHARE = 1e-6
PERFECT = 0.95  # "still achieving perfect test accuracy": at least this share of ablated trials reach 100%
FASTER_CLAIM = "the ablated embedding reaches 100% test accuracy in fewer steps"
PERFECT_CLAIM = "the ablated embedding still reaches perfect test accuracy"
CLAIM_NAMES = (FASTER_CLAIM, PERFECT_CLAIM)

VERDICT_RULE = (
    "two claims over the valid seed pairs (both trials of the pair finite), the headline being the weaker. "
    f"({FASTER_CLAIM}) over the pairs in which both reach 100% test accuracy: the mean paired difference of convergence "
    "steps (ablated − original), with its Student-t 95% CI, must be negative with a two-sided Wilcoxon signed-rank test "
    f"at p < {V.ALPHA:g} → reproduced; negative but not significant → partly; zero or positive → not reproduced. "
    f"({PERFECT_CLAIM}) the share of ablated trials reaching 100% test accuracy within the budget must be above ½ (exact "
    f"binomial test, p < {V.ALPHA:g}) → else not reproduced; \"perfect\" is declared as ≥ {PERFECT * 100:g}% of trials: "
    f"reproduced when the share's Wilson 95% CI reaches {PERFECT * 100:g}%, partly when it does not. Not assessable when "
    f"fewer than {V.MIN_VALID_SHARE:.0%} of the pairs (or fewer than 3) are valid."
)

CLAIM = (
    "Keeping only the frequencies whose initial signal lies more than one standard deviation above the mean, and "
    "zeroing the rest before training, \"significantly accelerates training while still achieving perfect test "
    "accuracy\": over 100 random seeds the number of steps to reach 100% test accuracy drops markedly (Fig. 6d, "
    "mean with a 95% confidence interval)."
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


def paired_convergence(original, ablated) -> dict:
    """Paired comparison of convergence steps; None (or nan) means the trial never reached 100% test accuracy.

    Only pairs where both converged enter the Wilcoxon signed-rank test (a step count that does not exist has no
    difference); the others are counted by which side converged, never dropped silently.
    """

    if len(original) != len(ablated):
        raise ValueError(f"{len(original)} original and {len(ablated)} ablated steps: pairs need equal lengths")

    def converged(v):
        return v is not None and math.isfinite(float(v))

    both = [(float(o), float(a)) for o, a in zip(original, ablated) if converged(o) and converged(a)]
    diff = np.array([a - o for o, a in both], dtype=float)
    out = {
        "pairs": len(original),
        "both_converged": len(both),
        "only_original_converged": sum(1 for o, a in zip(original, ablated) if converged(o) and not converged(a)),
        "only_ablated_converged": sum(1 for o, a in zip(original, ablated) if converged(a) and not converged(o)),
        "neither_converged": sum(1 for o, a in zip(original, ablated) if not converged(o) and not converged(a)),
        "ablated_faster": int(np.sum(diff < 0)),
        "ablated_slower": int(np.sum(diff > 0)),
        "ties": int(np.sum(diff == 0)),
        "median_difference": float(np.median(diff)) if diff.size else float("nan"),
        "mean_difference": float(diff.mean()) if diff.size else float("nan"),
        "statistic": float("nan"),
        "p": float("nan"),
    }
    # Zero differences are dropped (scipy's "wilcox"); with none left there is nothing to test.
    test = S.signed_rank(diff, alternative="two-sided")
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


def pairs_of(trials) -> tuple[list, list, list]:
    """(seed keys, original trials, ablated trials) of the seeds present in both cases, in seed order."""
    by_case = C.group_trials(trials, lambda t: t.settings.get("case", ""))
    missing = [c for c in (ORIGINAL, ABLATED) if c not in by_case]
    if missing:
        raise ValueError(f"convergence_ablation needs cases {ORIGINAL!r} and {ABLATED!r}; missing {missing}")
    orig = {seed_key(t): t for t in by_case[ORIGINAL]}
    abl = {seed_key(t): t for t in by_case[ABLATED]}
    keys = sorted(set(orig) & set(abl))
    return keys, [orig[k] for k in keys], [abl[k] for k in keys]


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class ConvergenceMeasured(Measured):
    """The valid seed pairs, each arm's convergence steps, and the paired comparison."""

    pairs: int = 0  # seeds present in both cases, valid or not
    original: list = field(default_factory=list)  # the valid pairs' trials, in seed order
    ablated: list = field(default_factory=list)
    budget: int = 0
    log_every: list = field(default_factory=list)
    first_steps: list = field(default_factory=list)
    arms: dict = field(default_factory=dict)  # {case: steps, stats, never, n, never_fraction, median, kept}
    paired: dict = field(default_factory=dict)  # paired_convergence
    difference: dict = field(default_factory=dict)  # mean paired difference (ablated − original): mean, ci95, n
    ratio: float = float("nan")  # ablated / original mean steps


def split_valid_pairs(trials) -> tuple[list, dict, int]:
    """(valid (original, ablated) pairs in seed order, {reason: [excluded trials]}, number of pairs).

    The claims compare the two trials of a seed, so a pair is valid only when both trained finitely;
    the finite trial of a broken pair is excluded with its own reason.
    """
    _, orig_all, abl_all = pairs_of(trials)
    pairs, excluded = [], {}
    for o, a in zip(orig_all, abl_all):
        if C.is_finite_trial(o) and C.is_finite_trial(a):
            pairs.append((o, a))
            continue
        for t in (o, a):
            why = ("non-finite training loss or embedding (diverged)" if not C.is_finite_trial(t)
                   else "its pair's other trial diverged")
            excluded.setdefault(why, []).append(t)
    return pairs, excluded, len(orig_all)


def _arm(ts: list) -> dict:
    """One case's convergence steps (nan: never converged) and the frequencies its initial embeddings hold."""
    steps = np.array([steps_or_nan(t) for t in ts])
    never = int(np.sum(~np.isfinite(steps)))
    finite, kept = steps[np.isfinite(steps)], [kept_frequencies(t) for t in ts]
    (mean, lo, hi, n), (k_mean, k_lo, k_hi, k_n) = S.mean_ci(finite), S.mean_ci(kept)
    return {"steps": steps.tolist(), "never": never, "n": len(ts),
            "stats": {"mean": mean, "std": S.mean_std(finite)[1], "n": n, "ci95": [lo, hi]},
            "never_fraction": never / len(ts) if ts else float("nan"),
            "median": float(np.nanmedian(steps)) if np.isfinite(steps).any() else float("nan"),
            "kept": {"mean": k_mean, "std": S.mean_std(kept)[1], "n": k_n, "ci95": [k_lo, k_hi]}}


def measure(trials, options=None) -> ConvergenceMeasured:
    """Both claims over the valid seed pairs: pure, no text and no figures."""
    everything = sorted(trials, key=lambda t: t.id)
    pairs, excluded, n_pairs = split_valid_pairs(everything)
    orig, abl = [o for o, _ in pairs], [a for _, a in pairs]
    m = ConvergenceMeasured(trials=everything, valid=sorted(orig + abl, key=lambda t: t.id), excluded=excluded,
                            options=options, pairs=n_pairs, original=orig, ablated=abl)
    if not V.assessable(len(pairs), n_pairs):
        m.assessable = False
        m.claims = [V.not_assessable(name, len(m.valid), len(everything),
                                     f"valid (at least {V.MIN_VALID_SHARE:.0%} and 3 are needed)") for name in CLAIM_NAMES]
        return m
    train = [t.settings["train"] for t in m.valid]
    m.budget = max(int(s["steps"]) for s in train)
    m.log_every = sorted({int(s["log_every"]) for s in train})
    m.first_steps = sorted({int(s["first_steps"]) for s in train})
    m.arms = {ORIGINAL: _arm(orig), ABLATED: _arm(abl)}
    o_steps, a_steps = (np.array(m.arms[name]["steps"], dtype=float) for name in (ORIGINAL, ABLATED))
    m.paired = paired_convergence([v if np.isfinite(v) else None for v in o_steps],
                                  [v if np.isfinite(v) else None for v in a_steps])
    diffs = [a - o for o, a in zip(o_steps, a_steps) if np.isfinite(o) and np.isfinite(a)]
    mean, lo, hi, _ = S.mean_ci(diffs)
    m.difference = {"mean": mean, "ci95": [lo, hi], "n": len(diffs)}
    so, sa = m.arms[ORIGINAL]["stats"], m.arms[ABLATED]["stats"]
    m.ratio = sa["mean"] / so["mean"] if so["n"] and sa["n"] and so["mean"] > 0 else float("nan")
    faster = V.direction(FASTER_CLAIM, mean, lo, hi, m.paired["p"], -1,
                         f"mean paired difference ablated − original, steps ({len(diffs)} pairs where both converged; p: "
                         "two-sided Wilcoxon signed-rank)")
    n_abl, never = m.arms[ABLATED]["n"], m.arms[ABLATED]["never"]
    perfect = V.rate_claim(PERFECT_CLAIM, n_abl - never, n_abl, True, PERFECT, "(ablated)", V.ALPHA,
                           verb="reached 100% test accuracy within the budget")
    m.claims = [faster, perfect]
    return m


# ---------------------------------------------------------------- figures


def figure_bars(arms: dict, budget: int, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    colours = {ORIGINAL: "tab:blue", ABLATED: "tab:orange"}
    for x, name in enumerate((ORIGINAL, ABLATED)):
        a = arms[name]
        s = a["stats"]
        values = [v for v in a["steps"] if np.isfinite(v)]
        jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(len(values))
        ax.scatter(x + jitter, sorted(values), s=8, color=colours[name], alpha=0.4, lw=0)
        if s["n"]:
            lo, hi = s["ci95"]
            lo = max(lo, 0.0)  # a step count is never negative: the interval is cut at 0 (said in the caption)
            ax.bar(x, s["mean"], width=0.55, color=colours[name], alpha=0.35,
                   label=f"{name}: mean {C.fmt(s['mean'])}, 95% CI [{C.fmt(lo)}, {C.fmt(hi)}], n = {s['n']}")
            ax.errorbar(x, s["mean"], yerr=[[s["mean"] - lo], [hi - s["mean"]]], color="black", capsize=6, lw=1.5)
        never = a["never"]
        if never:
            ax.scatter([x], [budget], marker="x", color="red", s=30,
                       label=f"{name}: {never} never converged (drawn at the budget, {budget})")
    ax.set_xticks([0, 1], ["original embedding", "kept: signal > mean + 1 std"])
    ax.set_ylabel("steps to 100% test accuracy")
    ax.set_ylim(bottom=0)
    ax.set_title("Convergence before and after the ablation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8)
    return G.finish(fig, out_dir, "convergence_steps.png",
                  "Steps to reach 100% test accuracy with the embedding as drawn (blue) and with only the frequencies "
                  "whose initial signal exceeds mean + 1 std kept (orange): bar = mean over the trials that converged, "
                  "black bar = 95% Student-t confidence interval (cut at 0 steps), dots = seeds. Mirrors Fig. 6d.")


def figure_pairs(orig_steps, abl_steps, budget: int, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    o = np.where(np.isfinite(orig_steps), orig_steps, budget)
    a = np.where(np.isfinite(abl_steps), abl_steps, budget)
    censored = ~(np.isfinite(orig_steps) & np.isfinite(abl_steps))
    ax.scatter(o[~censored], a[~censored], s=14, color="tab:purple", alpha=0.7, label="both converged")
    if censored.any():
        ax.scatter(o[censored], a[censored], s=22, marker="x", color="red",
                   label=f"one or both never converged (at the budget, {budget})")
    top = max(float(np.max(o)) if o.size else 1.0, float(np.max(a)) if a.size else 1.0, 1.0) * 1.05
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="equal steps")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("original embedding: steps to 100% test accuracy")
    ax.set_ylabel("ablated embedding: steps to 100% test accuracy")
    ax.set_title("Each seed with and without the ablation")
    ax.legend(loc="upper left")
    return G.finish(fig, out_dir, "convergence_pairs.png",
                  "Each seed's convergence step without (x) and with (y) the ablation; below the dashed line the "
                  "ablated embedding converged sooner. Our paired view of Fig. 6d, which shows only the means.")


# ---------------------------------------------------------------- write


def _ci_text(s: dict) -> str:
    if not s["n"]:
        return "n/a (no trial converged)"
    lo, hi = s["ci95"]
    return f"{C.fmt(s['mean'])} steps (95% CI [{C.fmt(lo)}, {C.fmt(hi)}], n = {s['n']})"


def _deviations(m: ConvergenceMeasured) -> list[str]:
    n = len(m.original)
    return [
        f"{n} seeds here, {PAPER_SEEDS} in the paper." if n != PAPER_SEEDS else f"{PAPER_SEEDS} seeds, as in the paper.",
        "The keep rule is signal_k > mean + 1 std over the K = ⌊(p−1)/2⌋ frequencies of the initial embedding, "
        "with the population standard deviation (ddof = 0); the paper does not say which standard deviation.",
        "The mean embedding (frequency 0) is kept (keep_zero = true): the paper's \"remove the rest\" does not say "
        "whether the mean is a frequency to remove.",
        "Mean and confidence interval are over the trials that reached 100% test accuracy within the budget; trials "
        "that never did are counted and reported separately, and pairs with one such trial are left out of the paired "
        "test and counted. The paper does not say how (or whether) it met trials that never converged.",
        "The paired Wilcoxon signed-rank test is ours; the paper shows 95% confidence intervals only.",
        *C.paper_setting_deviations(m.valid),
        *C.common_deviations(m.valid),
        C.STATISTICS_NOTE,
    ]


def _findings(m: ConvergenceMeasured) -> list[str]:
    o, a, paired = m.arms[ORIGINAL], m.arms[ABLATED], m.paired
    so, sa = o["stats"], a["stats"]
    return [
        C.md_table(
            ["", "original", "ablated"],
            [["trials", o["n"], a["n"]],
             ["reached 100% test accuracy", o["n"] - o["never"], a["n"] - a["never"]],
             ["never within the budget", f"{o['never']} ({C.fmt(100 * o['never_fraction'])}%)",
              f"{a['never']} ({C.fmt(100 * a['never_fraction'])}%)"],
             ["mean steps (converged)", so["mean"], sa["mean"]],
             ["95% CI", f"[{C.fmt(so['ci95'][0])}, {C.fmt(so['ci95'][1])}]", f"[{C.fmt(sa['ci95'][0])}, {C.fmt(sa['ci95'][1])}]"],
             ["std", so["std"], sa["std"]],
             ["median steps", o["median"], a["median"]],
             ["frequencies in the initial embedding (mean)", o["kept"]["mean"], a["kept"]["mean"]]]),
        f"Pairs: {paired['pairs']}; both converged {paired['both_converged']}, only the original "
        f"{paired['only_original_converged']}, only the ablated {paired['only_ablated_converged']}, neither "
        f"{paired['neither_converged']}. Of the pairs where both converged, the ablated embedding was faster in "
        f"{paired['ablated_faster']}, slower in {paired['ablated_slower']}, tied in {paired['ties']}; median paired "
        f"difference {C.fmt(paired['median_difference'])} steps, mean {C.fmt(paired['mean_difference'])} "
        f"(Wilcoxon W = {C.fmt(paired['statistic'])}, {C.fmt_p(paired['p'])}).",
        f"The ablation kept {C.fmt(a['kept']['mean'])} frequencies on average "
        f"(95% CI [{C.fmt(a['kept']['ci95'][0])}, {C.fmt(a['kept']['ci95'][1])}]) of {C.fmt(o['kept']['mean'])}.",
        *C.health_findings(m.trials, convergence_matters=False),
    ]


def write(m: ConvergenceMeasured, record: dict, out_dir: Path) -> Section:
    """The report section: the numbers of `measure` in words, tables and the two figures."""
    if not m.assessable:
        return C.section(m, record, deviations=C.paper_setting_deviations(m.trials))
    out_dir = Path(out_dir)
    o, a, paired, budget = m.arms[ORIGINAL], m.arms[ABLATED], m.paired, m.budget
    our = (f"steps to 100% test accuracy: original {_ci_text(o['stats'])}, ablated {_ci_text(a['stats'])} "
           f"(ablated/original mean {C.fmt(m.ratio)}); paired Wilcoxon {C.fmt_p(paired['p'])} over {paired['both_converged']} "
           f"pairs; never converged within {budget} steps: original {o['never']}/{o['n']}, ablated {a['never']}/{a['n']}")
    short = (f"{C.fmt(o['stats']['mean'])} → {C.fmt(a['stats']['mean'])} steps (×{C.fmt(m.ratio, 2)}), "
             f"Wilcoxon {C.fmt_p(paired['p'])}, n = {paired['both_converged']} pairs")
    ran = C.profile_lines(record, m.trials)
    ran.append(f"{len(m.original)} seed pairs: each seed trained from its embedding as drawn (`{ORIGINAL}`) and from the "
               f"same embedding with only the frequencies whose initial signal exceeds mean + 1 std kept (`{ABLATED}`), "
               "with the same MLP and split seeds.")
    ran.append(f"Test accuracy evaluated at every step up to step {', '.join(map(str, m.first_steps))} and then every "
               f"{', '.join(map(str, m.log_every))} steps, so a convergence step is exact to that resolution; "
               f"budget {budget} steps.")
    o_steps, a_steps = np.array(o["steps"], dtype=float), np.array(a["steps"], dtype=float)
    figures = [figure_bars(m.arms, budget, out_dir), figure_pairs(o_steps, a_steps, budget, out_dir)]
    return C.section(
        m, record,
        our_number=our,
        what_we_ran=ran,
        deviations=_deviations(m),
        findings=_findings(m),
        figures=figures,
        summary={"arms": m.arms, "paired": paired, "budget": budget, "ratio_of_means": m.ratio,
                 "mean_paired_difference": m.difference, "claims": {c.name: c.verdict for c in m.claims},
                 "valid_pairs": len(m.original), "pairs": m.pairs},
        short_number=short,
    )
