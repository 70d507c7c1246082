"""App. E, Fig. 13: circularity of random initial embeddings against d, and initial circularity against survival.

The paper's claims: the circularity c_k (eq. 2) of random initial embeddings, its mean and maximum over
the frequencies, rises with the embedding dimension d (Fig. 13a, 50 draws per d), which the paper reads
as higher-dimensional embeddings encoding more at initialisation; and whether a frequency with a higher
initial circularity is more likely to survive training is inconclusive (Fig. 13b).

Trials: case "initial" (train.steps = 0: the initial embedding W_E ~ N(0, 1) is drawn and stored, nothing
trains) over a grid of d at p = 59; case "trained": modular addition at the paper's settings (p = 59,
d = 128, weight decay 0.5), whose initial c_k are compared between the frequencies that survive and those
that die (survival rule, docs/method.md#survival-rule). A trial belongs to the first group when it trained
for 0 steps, to the second otherwise.

c_k projects the centred embedding on u_k = Re(F_k)/‖Re(F_k)‖, a direction fitted to the same embedding
(docs/method.md#circularity-app-e-eq-2). Two nulls sit beside the measured curve:
- the selection null: the same score on independent N(0, 1) matrices (simulated, `null_draws` per d, from
  the stream "circularity_null"), which any Gaussian matrix reaches because u_k is chosen from it; roughly
  d/(d + p) (heuristic: X = E_c E_cᵀ c_k carries the sinusoid c_k with weight ≈ d against noise of energy ≈ d·p);
- the independent-direction control: u_k taken from an independent Gaussian matrix (stream
  "circularity_control"), i.e. a direction that knows nothing of E; then X is isotropic Gaussian noise in the
  p − 1 centred dimensions and c_k is the share of its energy on frequency k's two dimensions, with mean
  2/(p − 1) at every d (exact).

Survival (Fig. 13b): initial c_k correlates with the initial signal ‖F_k‖² (the numerator of c_k holds
‖Re F_k‖², a part of it), and the signal predicts survival, so what c_k adds is read GIVEN the signal: a
logistic regression of survival on both, with an interval from resampling whole runs (_trial_bootstrap).

Verdict rule: VERDICT_RULE below (three claims; headline = weakest). The paper's reading of Fig. 13a
(higher-dimensional embeddings encode more) is set beside the literal claims as an explanation, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import circularity as circularity_figures
from cinit_tf.measures import circularity_nulls, survival
from cinit_tf.settings import Int, setting
from cinit_tf.signals import circularity, fourier_norms, pca_circularity
from cinit_tf.stats import bootstrap as trial_bootstrap
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section

MARGIN = 0.02  # described: the measured mean c_k within 0.02 of the null's
STRATA = 4  # quantile bins of the initial signal for the within-stratum AUC of c_k (described)
# Fig. 13a's rise carries no number: the conventional smallest correlation.
RISE_MARGIN = verdicts.Margin(
    verdicts.CONVENTIONAL_RHO.value,
    'App. E: "Indeed, circularity increases as dimensionality increases" ("Indeed" '
    f"adds no size); {verdicts.CONVENTIONAL_RHO.source}",
)
INCONCLUSIVE_SOURCE = (
    'App. E: "the evidence shown in Figure 13(b) is inconclusive as to whether larger '
    'initial circularity implies a better chance of the representation being learned"'
)


@dataclass(frozen=True)
class CircularityAnalysis:
    """The `[analysis]` table: how many null matrices to simulate, how many bootstrap resamples."""

    null_draws: int = setting(
        Int(2), 200, doc="Gaussian matrices simulated per d for the selection-effect null"
    )
    bootstrap: int = setting(
        Int(10), 2000, doc="bootstrap resamples of the trained runs for the intervals of Fig. 13b"
    )


VERDICT_RULE = (
    "Three claims. (1) Mean circularity rises with d (Fig. 13a): Spearman ρ between d and each initial "
    "draw's mean of c_k over k (draws are independent matrices) with its Fisher-z 95% CI, margin "
    f"ρ = {RISE_MARGIN.value:g} ({RISE_MARGIN.source}): {verdicts.direction_outcomes('positive')}. (2) Max "
    "circularity rises with d: the same with each draw's max over k. (3) Whether a larger initial "
    f"circularity implies a better chance of survival is inconclusive (Fig. 13b; {INCONCLUSIVE_SOURCE}). "
    "c_k correlates with the initial signal ‖F_k‖², which predicts survival, so a raw AUC of c_k would show "
    "the signal's effect; the paper's hypothesis is about circularity itself, so the claim is read as: "
    "circularity adds nothing clear to survival beyond the initial signal. Rule: logistic regression "
    "(maximum likelihood) of survival at τ = 0.05 on the standardised initial signal and the standardised "
    "initial c_k, pooled over the (run, frequency) pairs of the valid trained runs (finite, reaching 100% "
    "test accuracy); the 95% percentile CI of c_k's coefficient from bootstrap resamples of whole runs "
    "(fixed seed). The CI holds 0 → reproduced (the evidence is inconclusive, as the paper says: the "
    "paper's reading, no clear added effect, β_c = 0, is compatible with ours; the detail states the "
    "largest added effect the CI leaves open); wholly above 0 → not reproduced (given the signal, larger "
    "circularity does imply a better chance); wholly below 0 → partly (the paper's hypothesis fails, as it "
    "leaves it, but not inconclusively: given the signal, circularity goes with death). The claim is that "
    "the evidence cannot tell, so it has no margin and an interval holding 0 is never 'too wide' here. Not "
    "assessable: fewer than half of the trained runs valid (or fewer than "
    f"{trial_bootstrap.MIN_TRIALS}, the fewest a run bootstrap draws an interval from), no survivors or no deaths, or no "
    "estimate (the classes separate) on all the runs or in more than half of the resamples. Described, not "
    "judged: the raw AUC of c_k and of the signal, and the AUC of c_k within quartiles of the signal (run "
    "bootstrap). Not judged: the paper's reading of Fig. 13a, that the rise shows higher-dimensional "
    "embeddings encoding more at initialisation. The initial embeddings are N(0, 1) matrices, the very "
    "distribution of the selection null (the same score on independent N(0, 1) matrices), so measured and "
    "null are two draws of one distribution and a test of one against the other can only pass by chance; "
    "the null and an independent-direction control stand beside the curve as the explanation of the rise. "
    "The headline is the weakest of the three."
)

CLAIM = (
    "Circularity (eq. 2, computed per Fourier frequency instead of per principal component as in Zhong et al.) of random "
    "initial embeddings increases with the embedding dimension: over 50 initial embeddings per d, both the mean and the "
    'maximum over frequencies rise (Fig. 13a), "confirming our observation that higher-dimensional embedding encodes more '
    'complex information at initialization". Whether a frequency whose initial embedding is closer to a circle is more '
    "likely to survive is inconclusive (Fig. 13b)."
)

PAPER_NUMBER = "mean and max c_k rise with d (Fig. 13a; 50 draws per d, no number given); survival against initial circularity inconclusive (Fig. 13b; no number)"

CLAIM_NAMES = (
    "mean c_k rises with d",
    "max c_k rises with d",
    "initial circularity adds nothing clear to survival beyond the initial signal (inconclusive)",
)

DECLARATION = Declaration(
    paper_ref="App. E, Fig. 13",
    title="Circularity of random initial embeddings against d, and against survival (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=CircularityAnalysis,
)


# ---------------------------------------------------------------- Fig. 13a


def sweep(initial: list, null_draws: int) -> dict:
    """Per d: each draw's mean and max c_k, its PCA circularity, the control's mean and max, and the simulated null."""
    p = int(initial[0].settings["task"]["p"])
    per_d: dict[int, dict[str, list]] = {}
    for t in initial:
        d = int(t.settings["train"]["d"])
        E = np.asarray(t.result.initial_embedding, dtype=np.float64)
        c = circularity(E)
        ctrl = circularity_nulls.control_circularity(
            E, int(t.settings["seeds"]["embedding"]) * 10_000 + d
        )
        row = per_d.setdefault(
            d, {k: [] for k in ("mean", "max", "pca", "control_mean", "control_max")}
        )
        row["mean"].append(float(np.nanmean(c)))
        row["max"].append(float(np.nanmax(c)))
        row["pca"].append(pca_circularity(E))
        row["control_mean"].append(float(np.mean(ctrl)))
        row["control_max"].append(float(np.max(ctrl)))
    ds = sorted(per_d)
    for d in ds:
        null_mean, null_max = circularity_nulls.selection_null(p, d, null_draws)
        per_d[d]["null_mean"], per_d[d]["null_max"] = null_mean.tolist(), null_max.tolist()
    return {"p": p, "ds": ds, "per_d": per_d}


def excess(s: dict) -> dict:
    """Per d: measured mean c_k minus the null's, with its Welch 95% CI and the one-sided p that it lies above."""
    out = {}
    for d in s["ds"]:
        a, b = s["per_d"][d]["mean"], s["per_d"][d]["null_mean"]
        w = inference.welch_contrast([a, b], (1.0, -1.0))
        diff, (lo, hi) = w["difference"], w["ci95"]
        # The t statistic has the sign of the difference: its upper tail is half the two-sided p on that side.
        p_greater = w["p"] / 2 if diff > 0 else 1 - w["p"] / 2
        out[d] = {
            "diff": diff,
            "lo": lo,
            "hi": hi,
            "p_greater": p_greater,
            "n": len(a),
            "n_null": len(b),
        }
    return out


# ---------------------------------------------------------------- Fig. 13b


def survival_data(trained: list) -> list[dict]:
    """Per valid trained run: initial c_k, initial signal_k and the survivor mask (τ = 0.05)."""
    out = []
    for t in trained:
        E = np.asarray(t.result.initial_embedding, dtype=np.float64)
        out.append(
            {
                "id": t.id,
                "circularity": circularity(E),
                "signal": fourier_norms(E),
                "survived": survival.survivor_mask(t, survival.TAU),
            }
        )
    return out


def added_claim(fit: dict | None, n_valid: int, n_total: int) -> verdicts.Claim:
    """Claim 3: what initial c_k adds to survival given the initial signal (logistic coefficient, run
    bootstrap CI). The claim is the paper's "inconclusive": its reading, no clear added effect (β_c = 0), is
    compared with our interval as a number."""
    name = CLAIM_NAMES[2]
    paper = "inconclusive: no clear added effect (β_c = 0)"
    if not verdicts.assessable(n_valid, n_total):
        return verdicts.not_assessable(
            name, n_valid, n_total, "valid (finite and generalising)", kind="number"
        )
    if fit is None:
        return verdicts.Claim(
            name,
            verdicts.NOT_ASSESSABLE,
            "no survivors or no deaths among the (run, frequency) pairs",
            paper=paper,
            kind="number",
            reason="no_estimate",
            n=n_valid,
        )
    if fit["trials"] < trial_bootstrap.MIN_TRIALS:
        return verdicts.Claim(
            name,
            verdicts.NOT_ASSESSABLE,
            f"{fit['trials']} valid runs: a bootstrap over runs needs at "
            f"least {trial_bootstrap.MIN_TRIALS} for a 95% interval",
            paper=paper,
            kind="number",
            reason="too_few_valid",
            n=fit["trials"],
        )
    (_, bs, bc), (_, ls, lc), (_, hs, hc) = fit["coef"], fit["lo"], fit["hi"]
    missing = fit["requested"] - fit["resamples"]
    if (
        not (np.isfinite(bc) and np.isfinite(lc) and np.isfinite(hc))
        or fit["resamples"] < fit["requested"] / 2
    ):
        return verdicts.Claim(
            name,
            verdicts.NOT_ASSESSABLE,
            "no logistic estimate: the classes separate (on all the runs, "
            f"or in {missing} of {fit['requested']} resamples)",
            paper=paper,
            kind="number",
            reason="no_estimate",
            n=fit["trials"],
        )
    note = (
        f"β_c per SD of the standardised initial c_k given the standardised initial signal, its CI from "
        f"resampling whole runs ({fit['resamples']} of {fit['requested']} resamples with an estimate; n "
        f"counts runs, {fit['n']} pairs), beside the signal's own β_s = {formatting.fmt(bs)} {_ci(ls, hs)}"
    )
    numbers = dict(
        value=bc,
        ci=(lc, hc),
        n=fit["trials"],
        paper=paper,
        kind="number",
        effect="logistic coefficient β_c",
    )
    if lc <= 0 <= hc:
        widest = max(abs(lc), abs(hc))
        odds = formatting.fmt(float(np.exp(widest)))
        note += (
            "; the CI holds 0: circularity adds nothing clear beyond the signal (the CI leaves open "
            f"added effects up to |β_c| = {formatting.fmt(widest)}, an odds ratio of {odds} per SD)"
        )
        return verdicts.Claim(name, verdicts.REPRODUCED, note, reason="compatible", **numbers)
    if lc > 0:
        note += (
            "; the CI lies above 0: given the signal, a larger initial circularity implies a better "
            "chance of survival"
        )
        return verdicts.Claim(
            name, verdicts.NOT_REPRODUCED, note, reason="direction_fails", **numbers
        )
    note += (
        "; the CI lies below 0: given the signal, circularity goes with death (the hypothesis fails, "
        "but not inconclusively)"
    )
    return verdicts.Claim(name, verdicts.PARTLY, note, reason="incompatible", **numbers)


# ---------------------------------------------------------------- text


def rise_text(s: dict, rise: dict, ex: dict) -> str:
    """What the rise of Fig. 13a is made of: the explanation set beside the literal claims, not a judged claim."""
    ds, p = s["ds"], s["p"]
    ctrl, pca = rise["control_mean"], rise["pca"]
    ctrl_means = [float(np.mean(s["per_d"][d]["control_mean"])) for d in ds]
    holds = [d for d, e in ex.items() if e["lo"] <= 0 <= e["hi"]]
    within = [d for d, e in ex.items() if -MARGIN <= e["lo"] and e["hi"] <= MARGIN]
    d_w, w = max(
        ex.items(), key=lambda kv: abs(kv[1]["diff"]) if np.isfinite(kv[1]["diff"]) else -1.0
    )
    return (
        "**What the rise is made of.** The initial embedding is an N(0, 1) matrix and u_k is fitted to it, so the "
        "score rises with d for any Gaussian matrix (the selection null; d/(d + p) roughly). With u_k taken from an "
        f"independent draw, the mean c_k lies between {formatting.fmt(min(ctrl_means))} and {formatting.fmt(max(ctrl_means))} over d "
        f"(chance 2/(p − 1) = {formatting.fmt(circularity_nulls.chance_level(p))}; Spearman ρ with d = {formatting.fmt(ctrl[0])}, {formatting.fmt_p(ctrl[3])}), and the "
        f"PCA variant, whose principal directions of a Gaussian matrix are uniformly random in token space, has Spearman "
        f"ρ = {formatting.fmt(pca[0])} with d ({formatting.fmt_p(pca[3])}). The measured draws and the null are two samples of one "
        "distribution (both are N(0, 1) matrices scored the same way), so their difference (table, measured − null) "
        "checks the code and the sampling and is not evidence either way: a 95% interval misses 0 by chance at about one "
        f"d in twenty. Here it holds 0 at {len(holds)} of {len(ex)} values of d and lies within ±{MARGIN} at "
        f"{len(within)} (largest difference: d = {d_w}, {formatting.fmt(w['diff'])} [{formatting.fmt(w['lo'])}, {formatting.fmt(w['hi'])}], "
        f"{w['n']} draws against {w['n_null']} null matrices). The rise of Fig. 13a is therefore what a direction fitted to "
        "more coordinates gives any Gaussian matrix: it says that such a direction fits a sinusoid better, not that the "
        "embedding holds more circular structure. The paper's reading — higher-dimensional embeddings encoding more "
        "complex information at initialisation — is an interpretation of this selection effect, not a separate measured "
        "effect: these numbers cannot tell it apart, and testing it would need an outcome (survival, the final circles) "
        "that c_k predicts beyond what d and the signal themselves predict."
    )


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class CircularityMeasured(Measured):
    """Fig. 13a's initial draws over d with their nulls; Fig. 13b's survival against initial circularity."""

    initial_all: list = field(
        default_factory=list
    )  # the initial draws (train.steps = 0), in id order
    trained_all: list = field(default_factory=list)  # the trained runs, in id order
    initial: list = field(default_factory=list)  # the valid draws: finite
    trained: list = field(
        default_factory=list
    )  # the valid runs: finite and reaching 100% test accuracy
    excluded_initial: dict = field(default_factory=dict)  # {reason: draws}
    excluded_trained: dict = field(default_factory=dict)  # {reason: runs}
    sweep: dict | None = None  # `sweep` of the valid draws; None without any
    excess: dict = field(default_factory=dict)  # `excess`: per d, measured minus null mean c_k
    rise: dict = field(
        default_factory=dict
    )  # {"control_mean", "pca": inference.spearman_ci with d}
    runs: list = field(default_factory=list)  # `survival_data` of the valid runs
    auc_circularity: tuple = (float("nan"),) * 3  # (AUC, lo, hi) of initial c_k for survival
    auc_signal: tuple = (float("nan"),) * 3  # the same for the initial signal ‖F_k‖²
    added: dict | None = (
        None  # trial_bootstrap.logistic of survival on (standardised signal, standardised c_k); None with one class
    )
    auc_within: tuple = (
        float("nan"),
    ) * 3  # (AUC, lo, hi) of initial c_k within quartiles of the initial signal
    pooled_spearman: dict | None = (
        None  # trial_bootstrap.spearman of initial c_k and signal_k over the pooled (run, k) pairs
    )
    settling: dict | None = None  # survival.settling of the valid runs


def _measure_sweep(m: CircularityMeasured) -> list:
    """Fig. 13a's claims (1, 2), with the sweep, its difference from the null and the rise of the control and the PCA variant."""
    if m.initial:
        s = m.sweep = sweep(m.initial, m.options.null_draws)
        m.rise = {
            key: inference.spearman_ci(
                [d for d in s["ds"] for _ in s["per_d"][d][key]],
                [v for d in s["ds"] for v in s["per_d"][d][key]],
            )
            for key in ("control_mean", "pca")
        }
        m.excess = excess(s)
    if m.sweep is None or not verdicts.assessable(len(m.initial), len(m.initial_all)):
        return [
            verdicts.not_assessable(name, len(m.initial), len(m.initial_all), kind="trend")
            for name in CLAIM_NAMES[:2]
        ]
    return rise_claims(m.sweep)


def rise_claims(s: dict) -> list[verdicts.Claim]:
    """Claims 1–2 from a sweep ({"ds", "per_d": {d: {"mean", "max"}}}): each draw's mean and max c_k
    against d."""
    x = [d for d in s["ds"] for _ in s["per_d"][d]["mean"]]
    return [
        verdicts.trend(
            CLAIM_NAMES[0],
            x,
            [v for d in s["ds"] for v in s["per_d"][d]["mean"]],
            +1,
            margin=RISE_MARGIN,
        ),
        verdicts.trend(
            CLAIM_NAMES[1],
            x,
            [v for d in s["ds"] for v in s["per_d"][d]["max"]],
            +1,
            margin=RISE_MARGIN,
        ),
    ]


def _standardised(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - float(np.mean(x))) / sd if sd > 0 else np.zeros_like(x)


def _measure_survival(m: CircularityMeasured) -> verdicts.Claim:
    """Fig. 13b's claim (3): what c_k adds given the signal; the raw and within-stratum AUCs, the settling check."""
    m.runs = survival_data(m.trained)
    if m.runs:
        n_boot = m.options.bootstrap
        m.auc_circularity = inference.bootstrap_auc(
            [(r["circularity"], r["survived"]) for r in m.runs], n_boot, seed=0
        )
        m.auc_signal = inference.bootstrap_auc(
            [(r["signal"], r["survived"]) for r in m.runs], n_boot, seed=1
        )
        circ, sig, alive = (
            np.concatenate([r[k] for r in m.runs]) for k in ("circularity", "signal", "survived")
        )
        runs = np.concatenate([np.full(r["survived"].size, i) for i, r in enumerate(m.runs)])
        if alive.any() and not alive.all():
            m.added = trial_bootstrap.logistic(
                np.column_stack([_standardised(sig), _standardised(circ)]),
                alive,
                runs,
                n_boot,
                seed=2,
            )
        m.auc_within = trial_bootstrap.stratified_auc(
            circ, alive, sig, runs, STRATA, n_boot, seed=3
        )
        m.pooled_spearman = trial_bootstrap.spearman(circ, sig, runs, n_boot, seed=4)[0]
        m.settling = survival.settling(m.trained, survival.settling_step(m.trained))
    return added_claim(m.added, len(m.trained), len(m.trained_all))


def measure(trials: list, options: CircularityAnalysis | None) -> CircularityMeasured:
    everything = sorted(trials, key=lambda t: t.id)
    initial_all = [t for t in everything if int(t.settings["train"]["steps"]) == 0]
    trained_all = [t for t in everything if int(t.settings["train"]["steps"]) > 0]
    initial, ex_initial = writeup.split_valid(initial_all, needs_generalised=False)
    trained, ex_trained = writeup.split_valid(trained_all, needs_generalised=True)
    excluded = {f"{why} (initial draws)": ts for why, ts in ex_initial.items()} | {
        f"{why} (trained runs)": ts for why, ts in ex_trained.items()
    }
    m = CircularityMeasured(
        trials=everything,
        valid=sorted(initial + trained, key=lambda t: t.id),
        excluded=excluded,
        options=options or CircularityAnalysis(),
        initial_all=initial_all,
        trained_all=trained_all,
        initial=initial,
        trained=trained,
        excluded_initial=ex_initial,
        excluded_trained=ex_trained,
    )
    m.claims = [*_measure_sweep(m), _measure_survival(m)]
    # Claims 1–2 are judged on the draws, 3 on the runs: unassessable when too few trials are valid and neither can be.
    m.assessable = verdicts.assessable(len(m.valid), len(everything)) or any(
        c.verdict != verdicts.NOT_ASSESSABLE for c in m.claims
    )
    return m


# ---------------------------------------------------------------- write


def _ran(m: CircularityMeasured, record: dict) -> list[str]:
    s, opts, ran = m.sweep, m.options, writeup.profile_lines(record, m.trials)
    if s is not None:
        ran.append(
            f"Initial embeddings (`train.steps = 0`, nothing trains): p = {s['p']}, d ∈ {{{', '.join(map(str, s['ds']))}}}, "
            f"{len(m.initial) // max(len(s['ds']), 1)} draws per d (embedding seeds 0, 1, …). Selection null: "
            f"{opts.null_draws} independent N(0, 1) matrices per d (stream `{circularity_nulls.NULL_STREAM}`); control: u_k from one "
            f"independent N(0, 1) matrix per draw (stream `{circularity_nulls.CONTROL_STREAM}`)."
        )
    if m.trained_all:
        t0 = m.trained_all[0].settings
        ran.append(
            f"Trained runs: p = {t0['task']['p']}, d = {t0['train']['d']}, weight decay {t0['train']['weight_decay']}, "
            f"{', '.join(map(str, writeup.steps_of(m.trained_all)))} steps, {len(m.trained_all)} independent seeds; Fig. 13b's "
            f"intervals from {opts.bootstrap} bootstrap resamples of the runs."
        )
    return ran


def _deviations(m: CircularityMeasured) -> list[str]:
    return [
        f"Circularity ({writeup.method('circularity-app-e-eq-2')}): X_k = (E − Ē)·u_k with u_k = Re(F_k)/‖Re(F_k)‖ is our reading "
        'of eq. 2\'s "embeddings projected onto the Fourier basis"; the paper does not fix the projection. The PCA variant '
        "(Zhong et al.) is shown beside it.",
        "The selection null (simulated, not derived; d/(d + p) drawn as a heuristic) and the independent-direction control "
        "(its chance level 2/(p − 1) is exact) are ours; the paper draws no null.",
        'Fig. 13b\'s caption says "Histogram of different frequencies by their gradients" while the text says the figure tests '
        "initial circularity; we show initial circularity (and, for comparison, the initial signal ‖F_k‖²).",
        f"Survival rule ({writeup.method('survival-rule')}, ours): final signal_k ≥ τ · max final signal, τ = {formatting.fmt(survival.TAU)}. "
        '"Inconclusive" is the paper\'s word for Fig. 13b; reading it as what circularity adds given the initial signal '
        f"(logistic regression, bootstrap over runs; {writeup.method('circularity-app-e')}) is ours, as are the AUCs.",
        "The paper does not list its grid of d for Fig. 13a; ours is 2, 4, …, 256 with d = p = 59 added.",
        *([survival.short_budget_deviation(m.trained_all)] if m.trained_all else []),
        *(writeup.paper_setting_deviations(m.trained_all) if m.trained_all else []),
        *writeup.common_deviations(m.trials),
        writeup.STATISTICS_NOTE,
    ]


def _sweep_findings(m: CircularityMeasured) -> list[str]:
    s, rows = m.sweep, []
    for d in s["ds"]:
        r, e = s["per_d"][d], m.excess.get(d, {})
        rows.append(
            [
                str(d) + (" (= p)" if d == s["p"] else ""),
                len(r["mean"]),
                formatting.fmt_mean_std(r["mean"]).split(" (n")[0],
                formatting.fmt_mean_std(r["null_mean"]).split(" (n")[0],
                formatting.fmt(float(circularity_nulls.heuristic_null(s["p"], d))),
                f"{formatting.fmt(e.get('diff'))} [{formatting.fmt(e.get('lo'))}, {formatting.fmt(e.get('hi'))}]",
                formatting.fmt_mean_std(r["max"]).split(" (n")[0],
                formatting.fmt_mean_std(r["control_mean"]).split(" (n")[0],
                formatting.fmt_mean_std(r["control_max"]).split(" (n")[0],
                formatting.fmt_mean_std(r["pca"]).split(" (n")[0],
            ]
        )
    return [
        "Fig. 13a, per d (mean ± std over draws): the measured mean and max of c_k over k; the selection null (mean c_k of "
        "independent N(0, 1) matrices) and its heuristic d/(d + p); measured minus null with the Welch 95% CI; the control "
        f"with u_k from an independent draw (chance {formatting.fmt(circularity_nulls.chance_level(s['p']))}); and the PCA variant.",
        formatting.md_table(
            [
                "d",
                "draws",
                "mean c_k",
                "null mean c_k",
                "d/(d+p)",
                "measured − null [95% CI]",
                "max c_k",
                "control mean c_k",
                "control max c_k",
                "PCA circularity",
            ],
            rows,
        ),
        rise_text(s, m.rise, m.excess),
    ]


def _ci(lo: float, hi: float) -> str:
    """A 95% interval as the report prints it; none from fewer runs than a run bootstrap needs."""
    if np.isfinite(lo) and np.isfinite(hi):
        return f"[{formatting.fmt(lo)}, {formatting.fmt(hi)}]"
    return f"[no interval: a run bootstrap needs {trial_bootstrap.MIN_TRIALS} runs]"


def _added_text(fit: dict | None, within: tuple) -> str:
    """The logistic fit of claim 3 and the within-stratum AUC, in words."""
    if fit is None:
        return "No logistic fit: the pooled pairs hold one class only."
    (b0, bs, bc), (_, ls, lc), (_, hs, hc) = fit["coef"], fit["lo"], fit["hi"]
    return (
        f"**Circularity given the signal.** Logistic regression of survival on the standardised initial signal and "
        f"initial c_k (pooled over {fit['trials']} runs, {fit['n']} pairs; 95% CIs from {fit['requested']} resamples of whole "
        f"runs, {fit['resamples']} with an estimate{'' if fit['trials'] >= trial_bootstrap.MIN_TRIALS else ': too few runs to resample'}): intercept {formatting.fmt(b0)}, signal β_s = {formatting.fmt(bs)} "
        f"{_ci(ls, hs)}, circularity β_c = {formatting.fmt(bc)} {_ci(lc, hc)} per SD (log-odds). Within {STRATA} "
        f"quantile bins of the initial signal, the AUC of initial c_k for survival is {formatting.fmt(within[0])} "
        f"({_ci(within[1], within[2])}, run bootstrap; the bins pooled by their survivor–death pairs): "
        "what c_k separates among frequencies of about the same signal."
    )


def _survival_findings(m: CircularityMeasured) -> list[str]:
    a_circ, a_sig, rho = m.auc_circularity, m.auc_signal, m.pooled_spearman
    surv = np.concatenate([r["survived"] for r in m.runs])
    c_all = np.concatenate([r["circularity"] for r in m.runs])
    return [
        f"Fig. 13b, {len(m.runs)} valid runs, {int(surv.sum())} surviving and {int((~surv).sum())} dying (run, frequency) "
        f"pairs at τ = {formatting.fmt(survival.TAU)}: initial c_k of survivors {formatting.fmt_mean_std(c_all[surv])}, of the dead "
        f"{formatting.fmt_mean_std(c_all[~surv])}. AUC of initial circularity for survival {formatting.fmt(a_circ[0])} (95% bootstrap CI "
        f"[{formatting.fmt(a_circ[1])}, {formatting.fmt(a_circ[2])}]); AUC of the initial signal ‖F_k‖² on the same runs {formatting.fmt(a_sig[0])} "
        f"([{formatting.fmt(a_sig[1])}, {formatting.fmt(a_sig[2])}]). Initial c_k and initial signal_k are correlated over the pooled pairs "
        f"(Spearman ρ = {formatting.fmt(rho['rho'])}, 95% CI {_ci(rho['lo'], rho['hi'])}, bootstrap {formatting.fmt_p(rho['p'])} "
        f"from resampling whole runs; n = {rho['n']} pairs in {rho['trials']} runs): the numerator of c_k, |u_k·F_k|² with "
        "u_k along Re(F_k), is at least ‖Re F_k‖², a part of signal_k, so c_k partly measures the signal itself, and its raw "
        "AUC carries the signal's.",
        _added_text(m.added, m.auc_within),
        survival.count_table(m.trained),
        survival.settling_text(m.settling),
    ]


def _numbers(m: CircularityMeasured) -> tuple[str, str]:
    """(our number, the index's short form)."""
    s, a_circ, a_sig = m.sweep, m.auc_circularity, m.auc_signal
    if s is not None:
        first, last = s["ds"][0], s["ds"][-1]
        m0, m1 = np.mean(s["per_d"][first]["mean"]), np.mean(s["per_d"][last]["mean"])
        n0, n1 = np.mean(s["per_d"][first]["null_mean"]), np.mean(s["per_d"][last]["null_mean"])
        c0, c1 = (
            np.mean(s["per_d"][first]["control_mean"]),
            np.mean(s["per_d"][last]["control_mean"]),
        )
        curve = (
            f"mean c_k {formatting.fmt(m0)} at d = {first} → {formatting.fmt(m1)} at d = {last} (selection null {formatting.fmt(n0)} → {formatting.fmt(n1)}; "
            f"independent-direction control {formatting.fmt(c0)} → {formatting.fmt(c1)})"
        )
        short_curve = f"mean c_k {formatting.fmt(m0, 2)}→{formatting.fmt(m1, 2)} = null {formatting.fmt(n0, 2)}→{formatting.fmt(n1, 2)}"
    else:
        curve = short_curve = "no initial draws"
    bc = (m.added or {}).get("coef", [float("nan")] * 3)[2]
    lc, hc = (m.added["lo"][2], m.added["hi"][2]) if m.added else (float("nan"),) * 2
    auc_text = (
        f"c_k's logistic coefficient for survival given the signal {formatting.fmt(bc)} per SD {_ci(lc, hc)}; "
        f"raw AUC of initial c_k {formatting.fmt(a_circ[0])} [{formatting.fmt(a_circ[1])}, {formatting.fmt(a_circ[2])}] vs initial signal "
        f"{formatting.fmt(a_sig[0])} [{formatting.fmt(a_sig[1])}, {formatting.fmt(a_sig[2])}] ({len(m.runs)} runs)"
    )
    return f"{curve}; {auc_text}", (
        f"{short_curve}; β c_k|signal {formatting.fmt(bc, 2)} [{formatting.fmt(lc, 2)}, {formatting.fmt(hc, 2)}], "
        f"raw AUC c_k {formatting.fmt(a_circ[0], 2)} vs signal {formatting.fmt(a_sig[0], 2)}"
    )


def write(m: CircularityMeasured, record: dict, out_dir: Path) -> Section:
    if not m.assessable:
        return writeup.section(m, record, deviations=_deviations(m))
    out_dir, s = Path(out_dir), m.sweep
    findings = (_sweep_findings(m) if s is not None else []) + (
        _survival_findings(m) if m.runs else []
    )
    figures = ([circularity_figures.figure_13a(s, out_dir)] if s is not None else []) + (
        [circularity_figures.figure_13b(m.runs, m.auc_circularity, m.auc_signal, out_dir)]
        if m.runs
        else []
    )
    summary = {
        **({"settling": dict(m.settling)} if m.runs else {}),
        "sweep": None
        if s is None
        else {
            "p": s["p"],
            "ds": s["ds"],
            "per_d": {
                str(d): {k: inference.mean_std(v)[:2] for k, v in s["per_d"][d].items()}
                for d in s["ds"]
            },
        },
        "excess": {str(d): e for d, e in m.excess.items()},
        "auc_circularity": m.auc_circularity,
        "auc_signal": m.auc_signal,
        "added": m.added,
        "auc_within": m.auc_within,
        "trained_valid": len(m.trained),
        "trained": len(m.trained_all),
        "initial_valid": len(m.initial),
        "initial": len(m.initial_all),
    }
    our, short = _numbers(m)
    excluded = [
        f"Initial draws (Fig. 13a): {x}"
        for x in writeup.exclusion_lines(len(m.initial_all), m.excluded_initial)
    ] + (
        [
            f"Trained runs (Fig. 13b; survival needs a run that generalises): {x}"
            for x in writeup.exclusion_lines(len(m.trained_all), m.excluded_trained)
        ]
        if m.trained_all
        else []
    )
    return writeup.section(
        m,
        record,
        our_number=our,
        short_number=short,
        what_we_ran=_ran(m, record),
        excluded=excluded,
        deviations=_deviations(m),
        findings=findings,
        figures=figures,
        summary=summary,
    )
