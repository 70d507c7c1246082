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
from pathlib import Path

import numpy as np

from cinit_tf.section import Declaration, Figure, Section
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V

ALPHA = V.ALPHA
ORIGINAL, ABLATED = "original", "ablated"
PAPER_SEEDS = 100
# A kept frequency keeps its signal; a zeroed one is left with float32 round-off, far below this share of the maximum.
KEPT_SHARE = 1e-6
PERFECT = 0.95  # "still achieving perfect test accuracy": at least this share of ablated trials reach 100%
FASTER_CLAIM = "the ablated embedding reaches 100% test accuracy in fewer steps"
PERFECT_CLAIM = "the ablated embedding still reaches perfect test accuracy"

VERDICT_RULE = (
    "two claims over the valid seed pairs (both trials of the pair finite), the headline being the weaker. "
    f"({FASTER_CLAIM}) over the pairs in which both reach 100% test accuracy: the mean paired difference of convergence "
    "steps (ablated − original), with its Student-t 95% CI, must be negative with a two-sided Wilcoxon signed-rank test "
    f"at p < {ALPHA:g} → reproduced; negative but not significant → partly; zero or positive → not reproduced. "
    f"({PERFECT_CLAIM}) the share of ablated trials reaching 100% test accuracy within the budget must be above ½ (exact "
    f"binomial test, p < {ALPHA:g}) → else not reproduced; \"perfect\" is declared as ≥ {PERFECT * 100:g}% of trials: "
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
    order=8,
    title="Training only the high-signal frequencies: steps to perfect test accuracy",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- statistics (tested on known data)


def mean_ci95(values) -> dict:
    """{"mean", "std", "n", "ci95": [lo, hi]} of the finite values: Student-t interval, mean ± t_{0.975, n−1}·s/√n."""
    a = np.asarray([float(v) for v in values], dtype=float)
    a = a[np.isfinite(a)]
    mean, std, n = C.mean_std(a)
    lo, hi = C.ci95(a)
    return {"mean": mean, "std": std, "n": n, "ci95": [lo, hi]}


def paired_convergence(original, ablated) -> dict:
    """Paired comparison of convergence steps; None (or nan) means the trial never reached 100% test accuracy.

    Only pairs where both converged enter the Wilcoxon signed-rank test (a step count that does not exist has no
    difference); the others are counted by which side converged, never dropped silently.
    """
    from scipy import stats

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
    # scipy drops zero differences (zero_method "wilcox"); with none left there is nothing to test.
    if np.count_nonzero(diff) >= 1:
        res = stats.wilcoxon(diff, alternative="two-sided")
        out["statistic"], out["p"] = float(res.statistic), float(res.pvalue)
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


# ---------------------------------------------------------------- analysis


def _ci_text(s: dict) -> str:
    if not s["n"]:
        return "n/a (no trial converged)"
    lo, hi = s["ci95"]
    return f"{C.fmt(s['mean'])} steps (95% CI [{C.fmt(lo)}, {C.fmt(hi)}], n = {s['n']})"


def analyse(record: dict, trials: list, out_dir: Path) -> Section:
    out_dir = Path(out_dir)
    all_trials = sorted(trials, key=lambda t: t.id)
    keys_all, orig_all, abl_all = pairs_of(all_trials)
    excluded: dict = {}
    keys, orig, abl = [], [], []
    for k, o, a in zip(keys_all, orig_all, abl_all):
        if C.is_finite_trial(o) and C.is_finite_trial(a):
            keys.append(k), orig.append(o), abl.append(a)
        else:
            for t in (o, a):
                why = ("non-finite training loss or embedding (diverged)" if not C.is_finite_trial(t)
                       else "its pair's other trial diverged")
                excluded.setdefault(why, []).append(t)
    if not V.assessable(len(keys), len(keys_all)):
        return C.unassessable_section(record, all_trials, orig + abl, excluded, [FASTER_CLAIM, PERFECT_CLAIM],
                                      C.paper_setting_deviations(all_trials))
    trials = orig + abl
    budget = max(int(t.settings["train"]["steps"]) for t in trials)
    # Test accuracy is measured every log_every steps; records written before the single schedule kept it as eval_every.
    log_every = sorted({int(t.settings["train"].get("eval_every", t.settings["train"].get("log_every"))) for t in trials})
    first_steps = sorted({int(t.settings["train"]["first_steps"]) for t in trials})
    orig_steps = np.array([steps_or_nan(t) for t in orig])
    abl_steps = np.array([steps_or_nan(t) for t in abl])
    arms = {}
    for name, ts, steps in ((ORIGINAL, orig, orig_steps), (ABLATED, abl, abl_steps)):
        never = int(np.sum(~np.isfinite(steps)))
        arms[name] = {"steps": steps.tolist(), "stats": mean_ci95(steps), "never": never, "n": len(ts),
                      "never_fraction": never / len(ts) if ts else float("nan"),
                      "median": float(np.nanmedian(steps)) if np.isfinite(steps).any() else float("nan"),
                      "kept": mean_ci95([kept_frequencies(t) for t in ts])}
    paired = paired_convergence([None if not np.isfinite(v) else v for v in orig_steps],
                                [None if not np.isfinite(v) else v for v in abl_steps])

    diffs = [a - o for o, a in zip(orig_steps, abl_steps) if np.isfinite(o) and np.isfinite(a)]
    m_diff, d_lo, d_hi, _ = S.mean_ci(diffs)
    faster = V.direction(FASTER_CLAIM, m_diff, d_lo, d_hi, paired["p"], -1,
                         f"mean paired difference ablated − original, steps ({len(diffs)} pairs where both converged; p: "
                         "two-sided Wilcoxon signed-rank)")
    n_abl = arms[ABLATED]["n"]
    perfect = V.rate_claim(PERFECT_CLAIM, n_abl - arms[ABLATED]["never"], n_abl, True, PERFECT, "(ablated)", ALPHA,
                           verb="reached 100% test accuracy within the budget")
    claims = [faster, perfect]

    so, sa = arms[ORIGINAL]["stats"], arms[ABLATED]["stats"]
    ratio = sa["mean"] / so["mean"] if so["n"] and sa["n"] and so["mean"] > 0 else float("nan")
    our = (f"steps to 100% test accuracy: original {_ci_text(so)}, ablated {_ci_text(sa)} "
           f"(ablated/original mean {C.fmt(ratio)}); paired Wilcoxon {C.fmt_p(paired['p'])} over {paired['both_converged']} "
           f"pairs; never converged within {budget} steps: original {arms[ORIGINAL]['never']}/{arms[ORIGINAL]['n']}, "
           f"ablated {arms[ABLATED]['never']}/{arms[ABLATED]['n']}")
    short = (f"{C.fmt(so['mean'])} → {C.fmt(sa['mean'])} steps (×{C.fmt(ratio, 2)}), "
             f"Wilcoxon {C.fmt_p(paired['p'])}, n = {paired['both_converged']} pairs")

    ran = C.profile_lines(record, all_trials)
    ran.append(f"{len(keys)} seed pairs: each seed trained from its embedding as drawn (`{ORIGINAL}`) and from the same "
               f"embedding with only the frequencies whose initial signal exceeds mean + 1 std kept (`{ABLATED}`), with "
               "the same MLP and split seeds.")
    ran.append(f"Test accuracy evaluated at every step up to step {', '.join(map(str, first_steps))} and then every "
               f"{', '.join(map(str, log_every))} steps, so a convergence step is exact to that resolution; "
               f"budget {budget} steps.")

    deviations = [
        f"{len(keys)} seeds here, {PAPER_SEEDS} in the paper." if len(keys) != PAPER_SEEDS else
        f"{PAPER_SEEDS} seeds, as in the paper.",
        "The keep rule is signal_k > mean + 1 std over the K = ⌊(p−1)/2⌋ frequencies of the initial embedding, "
        "with the population standard deviation (ddof = 0); the paper does not say which standard deviation.",
        "The mean embedding (frequency 0) is kept (keep_zero = true): the paper's \"remove the rest\" does not say "
        "whether the mean is a frequency to remove.",
        "Mean and confidence interval are over the trials that reached 100% test accuracy within the budget; trials "
        "that never did are counted and reported separately, and pairs with one such trial are left out of the paired "
        "test and counted. The paper does not say how (or whether) it met trials that never converged.",
        "The paired Wilcoxon signed-rank test is ours; the paper shows 95% confidence intervals only.",
        *C.paper_setting_deviations(trials),
        *C.common_deviations(trials),
        C.STATISTICS_NOTE,
    ]

    findings = [
        C.md_table(
            ["", "original", "ablated"],
            [["trials", arms[ORIGINAL]["n"], arms[ABLATED]["n"]],
             ["reached 100% test accuracy", arms[ORIGINAL]["n"] - arms[ORIGINAL]["never"], arms[ABLATED]["n"] - arms[ABLATED]["never"]],
             ["never within the budget", f"{arms[ORIGINAL]['never']} ({C.fmt(100 * arms[ORIGINAL]['never_fraction'])}%)",
              f"{arms[ABLATED]['never']} ({C.fmt(100 * arms[ABLATED]['never_fraction'])}%)"],
             ["mean steps (converged)", so["mean"], sa["mean"]],
             ["95% CI", f"[{C.fmt(so['ci95'][0])}, {C.fmt(so['ci95'][1])}]", f"[{C.fmt(sa['ci95'][0])}, {C.fmt(sa['ci95'][1])}]"],
             ["std", so["std"], sa["std"]],
             ["median steps", arms[ORIGINAL]["median"], arms[ABLATED]["median"]],
             ["frequencies in the initial embedding (mean)", arms[ORIGINAL]["kept"]["mean"], arms[ABLATED]["kept"]["mean"]]]),
        f"Pairs: {paired['pairs']}; both converged {paired['both_converged']}, only the original "
        f"{paired['only_original_converged']}, only the ablated {paired['only_ablated_converged']}, neither "
        f"{paired['neither_converged']}. Of the pairs where both converged, the ablated embedding was faster in "
        f"{paired['ablated_faster']}, slower in {paired['ablated_slower']}, tied in {paired['ties']}; median paired "
        f"difference {C.fmt(paired['median_difference'])} steps, mean {C.fmt(paired['mean_difference'])} "
        f"(Wilcoxon W = {C.fmt(paired['statistic'])}, {C.fmt_p(paired['p'])}).",
        f"The ablation kept {C.fmt(arms[ABLATED]['kept']['mean'])} frequencies on average "
        f"(95% CI [{C.fmt(arms[ABLATED]['kept']['ci95'][0])}, {C.fmt(arms[ABLATED]['kept']['ci95'][1])}]) "
        f"of {C.fmt(arms[ORIGINAL]['kept']['mean'])}.",
        *C.health_findings(all_trials, convergence_matters=False),
    ]

    figures = [figure_bars(arms, budget, out_dir), figure_pairs(orig_steps, abl_steps, budget, out_dir)]

    return Section(
        our_number=our,
        verdict=V.headline(claims),
        what_we_ran=ran,
        deviations=deviations,
        findings=findings,
        figures=figures,
        summary={"arms": arms, "paired": paired, "budget": budget, "ratio_of_means": ratio,
                 "mean_paired_difference": {"mean": m_diff, "ci95": [d_lo, d_hi], "n": len(diffs)},
                 "claims": {c.name: c.verdict for c in claims}, "valid_pairs": len(keys), "pairs": len(keys_all)},
        short_number=short,
        claims=claims,
        excluded=C.exclusion_lines(len(all_trials), excluded),
    )
