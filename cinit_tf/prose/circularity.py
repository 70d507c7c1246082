"""The tables and sentences of the circularity report: what `write` puts in words."""

from __future__ import annotations

import numpy as np

from cinit_tf.measures import circularity_nulls, survival
from cinit_tf.stats import bootstrap as trial_bootstrap
from cinit_tf.stats import formatting
from cinit_tf.writeup import common as writeup

# Described, not judged: how close the measured mean c_k lies to the selection null's at each d.
NULL_CLOSENESS = 0.02


def ran(m, record: dict) -> list[str]:
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


def deviations(m) -> list[str]:
    return [
        f"Circularity ({formatting.method('circularity-app-e-eq-2')}): X_k = (E − Ē)·u_k with u_k = Re(F_k)/‖Re(F_k)‖ is our reading "
        'of eq. 2\'s "embeddings projected onto the Fourier basis"; the paper does not fix the projection. The PCA variant '
        "(Zhong et al.) is shown beside it.",
        "The selection null (simulated, not derived; d/(d + p) drawn as a heuristic) and the independent-direction control "
        "(its chance level 2/(p − 1) is exact) are ours; the paper draws no null.",
        'Fig. 13b\'s caption says "Histogram of different frequencies by their gradients" while the text says the figure tests '
        "initial circularity; we show initial circularity (and, for comparison, the initial signal ‖F_k‖²).",
        f"Survival rule ({formatting.method('survival-rule')}, ours): final signal_k ≥ τ · max final signal, τ = {formatting.fmt(survival.TAU)}. "
        '"Inconclusive" is the paper\'s word for Fig. 13b; reading it as what circularity adds given the initial signal '
        f"(logistic regression, bootstrap over runs; {formatting.method('circularity-app-e')}) is ours, as are the AUCs.",
        "The paper does not list its grid of d for Fig. 13a; ours is 2, 4, …, 256 with d = p = 59 added.",
        *([survival.short_budget_deviation(m.trained_all)] if m.trained_all else []),
        *(writeup.paper_setting_deviations(m.trained_all) if m.trained_all else []),
        *writeup.common_deviations(m.trials),
        writeup.STATISTICS_NOTE,
    ]


def sweep_row(s: dict, d: int, e: dict) -> list:
    """One d of the Fig. 13a table: each per-draw list as mean ± std, the heuristic null, measured − null."""
    r, p = s["per_d"][d], s["p"]

    def spread(key: str) -> str:
        return formatting.fmt_mean_std(r[key]).split(" (n")[0]

    return [
        str(d) + (" (= p)" if d == p else ""),
        len(r["mean"]),
        spread("mean"),
        spread("null_mean"),
        formatting.fmt(float(circularity_nulls.heuristic_null(p, d))),
        f"{formatting.fmt(e.get('diff'))} [{formatting.fmt(e.get('lo'))}, {formatting.fmt(e.get('hi'))}]",
        *(spread(key) for key in ("max", "control_mean", "control_max", "pca")),
    ]


def sweep_findings(m) -> list[str]:
    s = m.sweep
    rows = [sweep_row(s, d, m.excess.get(d, {})) for d in s["ds"]]
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


def ci(lo: float, hi: float) -> str:
    """A 95% interval as the report prints it; none from fewer runs than a run bootstrap needs."""
    if np.isfinite(lo) and np.isfinite(hi):
        return f"[{formatting.fmt(lo)}, {formatting.fmt(hi)}]"
    return f"[no interval: a run bootstrap needs {trial_bootstrap.MIN_TRIALS} runs]"


def added_text(fit: dict | None, within: tuple, strata: int) -> str:
    """The logistic fit of claim 3 and the within-stratum AUC, in words."""
    if fit is None:
        return "No logistic fit: the pooled pairs hold one class only."
    (b0, bs, bc), (_, ls, lc), (_, hs, hc) = fit["coef"], fit["lo"], fit["hi"]
    return (
        f"**Circularity given the signal.** Logistic regression of survival on the standardised initial signal and "
        f"initial c_k (pooled over {fit['trials']} runs, {fit['n']} pairs; 95% CIs from {fit['requested']} resamples of whole "
        f"runs, {fit['resamples']} with an estimate{'' if fit['trials'] >= trial_bootstrap.MIN_TRIALS else ': too few runs to resample'}): intercept {formatting.fmt(b0)}, signal β_s = {formatting.fmt(bs)} "
        f"{ci(ls, hs)}, circularity β_c = {formatting.fmt(bc)} {ci(lc, hc)} per SD (log-odds). Within {strata} "
        f"quantile bins of the initial signal, the AUC of initial c_k for survival is {formatting.fmt(within[0])} "
        f"({ci(within[1], within[2])}, run bootstrap; the bins pooled by their survivor–death pairs): "
        "what c_k separates among frequencies of about the same signal."
    )


def survival_findings(m, strata: int) -> list[str]:
    a_circ, a_sig, rho = m.auc_circularity, m.auc_signal, m.pooled_spearman
    surv = np.concatenate([r["survived"] for r in m.runs])
    c_all = np.concatenate([r["circularity"] for r in m.runs])
    return [
        f"Fig. 13b, {len(m.runs)} valid runs, {int(surv.sum())} surviving and {int((~surv).sum())} dying (run, frequency) "
        f"pairs at τ = {formatting.fmt(survival.TAU)}: initial c_k of survivors {formatting.fmt_mean_std(c_all[surv])}, of the dead "
        f"{formatting.fmt_mean_std(c_all[~surv])}. AUC of initial circularity for survival {formatting.fmt(a_circ[0])} (95% bootstrap CI "
        f"[{formatting.fmt(a_circ[1])}, {formatting.fmt(a_circ[2])}]); AUC of the initial signal ‖F_k‖² on the same runs {formatting.fmt(a_sig[0])} "
        f"([{formatting.fmt(a_sig[1])}, {formatting.fmt(a_sig[2])}]). Initial c_k and initial signal_k are correlated over the pooled pairs "
        f"(Spearman ρ = {formatting.fmt(rho['rho'])}, 95% CI {ci(rho['lo'], rho['hi'])}, bootstrap {formatting.fmt_p(rho['p'])} "
        f"from resampling whole runs; n = {rho['n']} pairs in {rho['trials']} runs): the numerator of c_k, |u_k·F_k|² with "
        "u_k along Re(F_k), is at least ‖Re F_k‖², a part of signal_k, so c_k partly measures the signal itself, and its raw "
        "AUC carries the signal's.",
        added_text(m.added, m.auc_within, strata),
        survival.count_table(m.trained),
        survival.settling_text(m.settling),
    ]


def numbers(m) -> tuple[str, str]:
    """(our number, the index's short form)."""
    s, a_circ, a_sig = m.sweep, m.auc_circularity, m.auc_signal
    if s is not None:
        first, last = s["ds"][0], s["ds"][-1]
        (m0, m1), (n0, n1), (c0, c1) = (
            [np.mean(s["per_d"][d][key]) for d in (first, last)]
            for key in ("mean", "null_mean", "control_mean")
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
        f"c_k's logistic coefficient for survival given the signal {formatting.fmt(bc)} per SD {ci(lc, hc)}; "
        f"raw AUC of initial c_k {formatting.fmt(a_circ[0])} [{formatting.fmt(a_circ[1])}, {formatting.fmt(a_circ[2])}] vs initial signal "
        f"{formatting.fmt(a_sig[0])} [{formatting.fmt(a_sig[1])}, {formatting.fmt(a_sig[2])}] ({len(m.runs)} runs)"
    )
    return f"{curve}; {auc_text}", (
        f"{short_curve}; β c_k|signal {formatting.fmt(bc, 2)} [{formatting.fmt(lc, 2)}, {formatting.fmt(hc, 2)}], "
        f"raw AUC c_k {formatting.fmt(a_circ[0], 2)} vs signal {formatting.fmt(a_sig[0], 2)}"
    )


def excluded(m) -> list[str]:
    """The exclusions of the draws and of the runs, each group with its own count."""
    initial = writeup.exclusion_lines(len(m.initial_all), m.excluded_initial)
    trained = writeup.exclusion_lines(len(m.trained_all), m.excluded_trained)
    return [f"Initial draws (Fig. 13a): {x}" for x in initial] + [
        f"Trained runs (Fig. 13b; survival needs a run that generalises): {x}"
        for x in (trained if m.trained_all else [])
    ]


def rise_text(s: dict, rise: dict, ex: dict) -> str:
    """What the rise of Fig. 13a is made of: the explanation set beside the literal claims, not a judged claim."""
    ds, p = s["ds"], s["p"]
    ctrl, pca = rise["control_mean"], rise["pca"]
    ctrl_means = [float(np.mean(s["per_d"][d]["control_mean"])) for d in ds]
    holds = [d for d, e in ex.items() if e["lo"] <= 0 <= e["hi"]]
    within = [d for d, e in ex.items() if -NULL_CLOSENESS <= e["lo"] and e["hi"] <= NULL_CLOSENESS]
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
        f"d in twenty. Here it holds 0 at {len(holds)} of {len(ex)} values of d and lies within ±{NULL_CLOSENESS} at "
        f"{len(within)} (largest difference: d = {d_w}, {formatting.fmt(w['diff'])} [{formatting.fmt(w['lo'])}, {formatting.fmt(w['hi'])}], "
        f"{w['n']} draws against {w['n_null']} null matrices). The rise of Fig. 13a is therefore what a direction fitted to "
        "more coordinates gives any Gaussian matrix: it says that such a direction fits a sinusoid better, not that the "
        "embedding holds more circular structure. The paper's reading — higher-dimensional embeddings encoding more "
        "complex information at initialisation — is an interpretation of this selection effect, not a separate measured "
        "effect: these numbers cannot tell it apart, and testing it would need an outcome (survival, the final circles) "
        "that c_k predicts beyond what d and the signal themselves predict."
    )
