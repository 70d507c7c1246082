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

Verdict rule: VERDICT_RULE below (four claims; headline = weakest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.rules import Int, setting
from cinit_tf.section import Declaration, Figure, Measured, Section
from cinit_tf.signals import circularity, fourier_norms, pca_circularity
from cinit_tf.studies import _circularity_nulls as N
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _modadd as M
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _sweeps as W
from cinit_tf.studies import _verdicts as V

MARGIN = 0.02  # "nothing beyond the selection effect": the measured mean c_k within 0.02 of the null's
WEAK_AUC = 0.1  # |AUC − 0.5| below this is a weak effect (AUC 0.4–0.6)


@dataclass(frozen=True)
class CircularityAnalysis:
    """The `[analysis]` table: how many null matrices to simulate, how many bootstrap resamples."""

    null_draws: int = setting(Int(2), 200, doc="Gaussian matrices simulated per d for the selection-effect null")
    bootstrap: int = setting(Int(10), 2000, doc="bootstrap resamples of the trained runs for the AUC intervals")


VERDICT_RULE = (
    "Four claims. (1) Mean circularity rises with d (Fig. 13a): Spearman ρ between d and each initial draw's mean of c_k "
    f"over k is positive with p < {V.ALPHA} (Fisher-z 95% CI) → reproduced; positive but p ≥ {V.ALPHA} → partly; otherwise "
    "→ not reproduced. (2) Max circularity rises with d: the same with each draw's max over k. (3) The rise is more than "
    "the selection effect (the paper's reading: higher-dimensional embeddings encode more at initialisation): at each d the "
    "measured mean c_k is compared with the simulated selection null (the same score on independent N(0, 1) matrices) by "
    f"a one-sided Welch test; measured above the null at p < {V.ALPHA}/(number of d values) (Bonferroni) at some d → reproduced; the 95% CI of the difference inside "
    f"±{MARGIN} (declared margin) at every d → not reproduced (the rise is the selection effect); otherwise → partly "
    "(inconclusive). (4) Whether initial circularity predicts survival is inconclusive (Fig. 13b): AUC of the initial "
    "c_k for survival at τ = 0.05, pooled over the valid trained runs (finite, reaching 100% test accuracy), with a "
    "95% bootstrap CI over runs: the CI contains 0.5 → reproduced (inconclusive, as the paper says); the CI excludes 0.5 "
    f"but |AUC − 0.5| < {WEAK_AUC} → partly (a weak but detectable effect); the CI excludes 0.5 and |AUC − 0.5| ≥ {WEAK_AUC} "
    "→ not reproduced (circularity does predict survival, or death). Fewer than half of the trained runs valid (or fewer "
    "than 3) → not assessable. The headline is the weakest of the four."
)

CLAIM = (
    "Circularity (eq. 2, computed per Fourier frequency instead of per principal component as in Zhong et al.) of random "
    "initial embeddings increases with the embedding dimension: over 50 initial embeddings per d, both the mean and the "
    "maximum over frequencies rise (Fig. 13a), \"confirming our observation that higher-dimensional embedding encodes more "
    "complex information at initialization\". Whether a frequency whose initial embedding is closer to a circle is more "
    "likely to survive is inconclusive (Fig. 13b)."
)

PAPER_NUMBER = "mean and max c_k rise with d (Fig. 13a; 50 draws per d, no number given); survival against initial circularity inconclusive (Fig. 13b; no number)"

CLAIM_NAMES = ("mean c_k rises with d", "max c_k rises with d", "the rise is more than the selection effect",
               "initial circularity does not clearly predict survival (inconclusive)")

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
        ctrl = N.control_circularity(E, int(t.settings["seeds"]["embedding"]) * 10_000 + d)
        row = per_d.setdefault(d, {k: [] for k in ("mean", "max", "pca", "control_mean", "control_max")})
        row["mean"].append(float(np.nanmean(c)))
        row["max"].append(float(np.nanmax(c)))
        row["pca"].append(pca_circularity(E))
        row["control_mean"].append(float(np.mean(ctrl)))
        row["control_max"].append(float(np.max(ctrl)))
    ds = sorted(per_d)
    for d in ds:
        null_mean, null_max = N.selection_null(p, d, null_draws)
        per_d[d]["null_mean"], per_d[d]["null_max"] = null_mean.tolist(), null_max.tolist()
    return {"p": p, "ds": ds, "per_d": per_d}


def excess(s: dict) -> dict:
    """Per d: measured mean c_k minus the null's, with its Welch 95% CI and the one-sided p that it lies above."""
    out = {}
    for d in s["ds"]:
        a, b = s["per_d"][d]["mean"], s["per_d"][d]["null_mean"]
        w = S.welch_contrast([a, b], (1.0, -1.0))
        diff, (lo, hi) = w["difference"], w["ci95"]
        # The t statistic has the sign of the difference: its upper tail is half the two-sided p on that side.
        p_greater = w["p"] / 2 if diff > 0 else 1 - w["p"] / 2
        out[d] = {"diff": diff, "lo": lo, "hi": hi, "p_greater": p_greater, "n": len(a), "n_null": len(b)}
    return out


def selection_claim(ex: dict) -> V.Claim:
    name = CLAIM_NAMES[2]
    if not ex:
        return V.Claim(name, V.NOT_ASSESSABLE, "no initial draws")
    alpha = V.ALPHA / len(ex)  # Bonferroni over the values of d: one chance excess among many is not a finding
    above = [d for d, e in ex.items() if e["diff"] > 0 and e["p_greater"] < alpha]
    within = [d for d, e in ex.items() if -MARGIN <= e["lo"] and e["hi"] <= MARGIN]
    worst = max(ex.items(), key=lambda kv: max(abs(kv[1]["lo"]), abs(kv[1]["hi"])))
    detail = (f"measured minus null mean c_k: above the null at one-sided Welch p < {V.ALPHA}/{len(ex)} (Bonferroni) at "
              f"{len(above)} of {len(ex)} values of d"
              + (f" (d = {', '.join(map(str, above))})" if above else "")
              + f"; 95% CI of the difference inside ±{MARGIN} at {len(within)} of {len(ex)}; widest: d = {worst[0]}, "
              f"{C.fmt(worst[1]['diff'])} [{C.fmt(worst[1]['lo'])}, {C.fmt(worst[1]['hi'])}]")
    if above:
        return V.Claim(name, V.REPRODUCED, detail)
    if len(within) == len(ex):
        return V.Claim(name, V.NOT_REPRODUCED, detail + "; the measured curve is the selection effect")
    return V.Claim(name, V.PARTLY, detail + "; inconclusive")


# ---------------------------------------------------------------- Fig. 13b


def survival_data(trained: list) -> list[dict]:
    """Per valid trained run: initial c_k, initial signal_k and the survivor mask (τ = 0.05)."""
    out = []
    for t in trained:
        E = np.asarray(t.result.initial_embedding, dtype=np.float64)
        out.append({"id": t.id, "circularity": circularity(E), "signal": fourier_norms(E),
                    "survived": M.survivor_mask(t, M.TAU)})
    return out


def auc_claim(a: tuple, n_valid: int, n_total: int) -> V.Claim:
    name = CLAIM_NAMES[3]
    if not V.assessable(n_valid, n_total):
        return V.not_assessable(name, n_valid, n_total, "valid (finite and generalising)")
    value, lo, hi = a
    detail = f"AUC = {C.fmt(value)} (95% bootstrap CI over runs [{C.fmt(lo)}, {C.fmt(hi)}], {n_valid} runs)"
    if not np.isfinite(value):
        return V.Claim(name, V.NOT_ASSESSABLE, detail + "; no survivors or no deaths")
    if lo <= 0.5 <= hi:
        return V.Claim(name, V.REPRODUCED, detail + "; the CI contains 0.5")
    if abs(value - 0.5) < WEAK_AUC:
        return V.Claim(name, V.PARTLY, detail + f"; the CI excludes 0.5 but |AUC − 0.5| < {WEAK_AUC}: weak but detectable")
    return V.Claim(name, V.NOT_REPRODUCED, detail + f"; |AUC − 0.5| ≥ {WEAK_AUC}: initial circularity predicts survival")


# ---------------------------------------------------------------- figures


def figure_13a(s: dict, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    ds, p = s["ds"], s["p"]
    fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.0))
    for ax, key, what in ((axes[0], "mean", "mean over k"), (axes[1], "max", "max over k")):
        W.draw_band(ax, ds, [s["per_d"][d][key] for d in ds], "tab:blue", f"measured c_k, {what}")
        W.draw_band(ax, ds, [s["per_d"][d][f"control_{key}"] for d in ds], "tab:orange",
                    f"u_k from an independent draw, {what}", marker="s")
        W.draw_band(ax, ds, [s["per_d"][d][f"null_{key}"] for d in ds], "black",
                    f"selection null (simulated N(0, 1) matrices), {what}", marker="x", ls="--")
        if key == "mean":
            xs = np.geomspace(ds[0], ds[-1], 100)
            ax.plot(xs, N.heuristic_null(p, xs), color="grey", lw=1, ls=":", label="d / (d + p)")
            ax.axhline(N.chance_level(p), color="tab:orange", lw=0.8, ls=":", label=f"chance 2/(p − 1) = {C.fmt(N.chance_level(p))}")
        W.log2_ticks(ax, ds)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("embedding dimension d (log scale)")
        ax.set_ylabel(f"circularity c_k, {what}")
        ax.set_title(f"Fig. 13a: {what} (p = {p})")
        ax.legend(loc="upper left", fontsize=8)
    ax = axes[2]
    W.draw_band(ax, ds, [s["per_d"][d]["pca"] for d in ds], "tab:green", "PCA circularity (top 4 PCs)")
    W.log2_ticks(ax, ds)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("embedding dimension d (log scale)")
    ax.set_ylabel("PCA circularity (Zhong et al.)")
    ax.set_title("PCA variant of the same draws")
    ax.legend(loc="upper left", fontsize=8)
    return G.finish(fig, out_dir, "circularity_vs_d.png",
                    "Mirrors Fig. 13a: circularity c_k (eq. 2, u_k fitted to the same embedding) of random initial embeddings, "
                    "mean (left) and max (middle) over k, against d; beside it the selection null simulated on independent "
                    "N(0, 1) matrices, its heuristic d/(d + p), and the control with u_k from an independent draw (chance level "
                    "2/(p − 1)); the null of the max is the max over k on the same simulated matrices. Right: the PCA variant (top 4 principal components, each at its best frequency). Line = median "
                    "over draws, band = 5th–95th percentile.")


def figure_13b(runs: list, a_circ: tuple, a_sig: tuple, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.8))
    surv = np.concatenate([r["survived"] for r in runs])
    for ax, key, label, a in ((axes[0], "circularity", "initial circularity c_k", a_circ),
                              (axes[1], "signal", "initial signal ‖F_k‖²", a_sig)):
        x = np.concatenate([r[key] for r in runs])
        bins = np.linspace(np.nanmin(x), np.nanmax(x), 25)
        ax.hist(x[~surv], bins=bins, density=True, alpha=0.55, color="tab:blue", label=f"died (n = {int((~surv).sum())})")
        ax.hist(x[surv], bins=bins, density=True, alpha=0.55, color="tab:orange", label=f"survived (n = {int(surv.sum())})")
        ax.set_xlabel(label)
        ax.set_ylabel("density")
        ax.set_title(f"AUC = {C.fmt(a[0])} [{C.fmt(a[1])}, {C.fmt(a[2])}]")
        ax.legend(loc="best", fontsize=8)
    return G.finish(fig, out_dir, "circularity_vs_survival.png",
                    f"Mirrors Fig. 13b: initial c_k (left) of the frequencies that survive training (τ = {C.fmt(M.TAU)}) and "
                    "of those that die, pooled over the valid trained runs; right, the initial signal ‖F_k‖² of the same "
                    "frequencies. Titles give the AUC for survival with its 95% bootstrap CI over runs. Fig. 13b's caption says "
                    "\"by their gradients\" while the text says circularity; we show circularity.")


# ---------------------------------------------------------------- text


def rise_text(s: dict, rise: dict, claim) -> str:
    """What the rise of Fig. 13a is made of, in the words the numbers allow."""
    ds, p = s["ds"], s["p"]
    ctrl, pca = rise["control_mean"], rise["pca"]
    ctrl_means = [float(np.mean(s["per_d"][d]["control_mean"])) for d in ds]
    text = ("**What the rise is made of.** The initial embedding is an N(0, 1) matrix and u_k is fitted to it, so the "
            "score rises with d for any Gaussian matrix (the selection null; d/(d + p) roughly). With u_k taken from an "
            f"independent draw, the mean c_k lies between {C.fmt(min(ctrl_means))} and {C.fmt(max(ctrl_means))} over d "
            f"(chance 2/(p − 1) = {C.fmt(N.chance_level(p))}; Spearman ρ with d = {C.fmt(ctrl[0])}, {C.fmt_p(ctrl[3])}), and the "
            f"PCA variant, whose principal directions of a Gaussian matrix are uniformly random in token space, has Spearman "
            f"ρ = {C.fmt(pca[0])} with d ({C.fmt_p(pca[3])}). ")
    if claim is None or claim.verdict == V.NOT_ASSESSABLE:
        return text + "Whether anything beyond the selection effect remains could not be judged."
    if claim.verdict == V.NOT_REPRODUCED:
        return text + (f"Measured and null agree to within ±{MARGIN} at every d (verdict line 3): nothing beyond the selection "
                       "effect remains. The rise of Fig. 13a says that a direction fitted to more coordinates fits a sinusoid "
                       "better, not that the embedding holds more circular structure.")
    if claim.verdict == V.REPRODUCED:
        return text + "The measured mean c_k exceeds the selection null at some d (verdict line 3): something beyond the selection effect remains there."
    return text + (f"Measured and null are not separated at any d, but the difference is not pinned within ±{MARGIN} everywhere "
                   "(verdict line 3): more draws would be needed to say that nothing beyond the selection effect remains.")


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class CircularityMeasured(Measured):
    """Fig. 13a's initial draws over d with their nulls; Fig. 13b's survival against initial circularity."""

    initial_all: list = field(default_factory=list)  # the initial draws (train.steps = 0), in id order
    trained_all: list = field(default_factory=list)  # the trained runs, in id order
    initial: list = field(default_factory=list)  # the valid draws: finite
    trained: list = field(default_factory=list)  # the valid runs: finite and reaching 100% test accuracy
    excluded_initial: dict = field(default_factory=dict)  # {reason: draws}
    excluded_trained: dict = field(default_factory=dict)  # {reason: runs}
    sweep: dict | None = None  # `sweep` of the valid draws; None without any
    excess: dict = field(default_factory=dict)  # `excess`: per d, measured minus null mean c_k
    rise: dict = field(default_factory=dict)  # {"control_mean", "pca": S.spearman_ci with d}
    runs: list = field(default_factory=list)  # `survival_data` of the valid runs
    auc_circularity: tuple = (float("nan"),) * 3  # (AUC, lo, hi) of initial c_k for survival
    auc_signal: tuple = (float("nan"),) * 3  # the same for the initial signal ‖F_k‖²
    pooled_spearman: dict | None = None  # S.spearman of initial c_k and signal_k over the pooled (run, k) pairs
    settling: dict | None = None  # M.settling of the valid runs


def _measure_sweep(m: CircularityMeasured) -> list:
    """Fig. 13a's claims (1–3), with the sweep, its excess over the null and the rise of the control and the PCA variant."""
    if m.initial:
        s = m.sweep = sweep(m.initial, m.options.null_draws)
        m.rise = {key: S.spearman_ci([d for d in s["ds"] for _ in s["per_d"][d][key]],
                                     [v for d in s["ds"] for v in s["per_d"][d][key]]) for key in ("control_mean", "pca")}
    if m.sweep is None or not V.assessable(len(m.initial), len(m.initial_all)):
        return [V.not_assessable(name, len(m.initial), len(m.initial_all)) for name in CLAIM_NAMES[:3]]
    s = m.sweep
    x = [d for d in s["ds"] for _ in s["per_d"][d]["mean"]]
    m.excess = excess(s)
    return [V.trend(CLAIM_NAMES[0], x, [v for d in s["ds"] for v in s["per_d"][d]["mean"]], +1),
            V.trend(CLAIM_NAMES[1], x, [v for d in s["ds"] for v in s["per_d"][d]["max"]], +1),
            selection_claim(m.excess)]


def _measure_survival(m: CircularityMeasured) -> V.Claim:
    """Fig. 13b's claim (4), with the AUCs of initial c_k and of the initial signal, and the settling check."""
    m.runs = survival_data(m.trained)
    if m.runs:
        m.auc_circularity = S.bootstrap_auc([(r["circularity"], r["survived"]) for r in m.runs], m.options.bootstrap, seed=0)
        m.auc_signal = S.bootstrap_auc([(r["signal"], r["survived"]) for r in m.runs], m.options.bootstrap, seed=1)
        m.pooled_spearman = S.spearman(np.concatenate([r["circularity"] for r in m.runs]),
                                       np.concatenate([r["signal"] for r in m.runs]))
        m.settling = M.settling(m.trained, M.settling_step(m.trained))
    return auc_claim(m.auc_circularity, len(m.trained), len(m.trained_all))


def measure(trials: list, options: CircularityAnalysis | None) -> CircularityMeasured:
    everything = sorted(trials, key=lambda t: t.id)
    initial_all = [t for t in everything if int(t.settings["train"]["steps"]) == 0]
    trained_all = [t for t in everything if int(t.settings["train"]["steps"]) > 0]
    initial, ex_initial = C.split_valid(initial_all, needs_generalised=False)
    trained, ex_trained = C.split_valid(trained_all, needs_generalised=True)
    excluded = ({f"{why} (initial draws)": ts for why, ts in ex_initial.items()}
                | {f"{why} (trained runs)": ts for why, ts in ex_trained.items()})
    m = CircularityMeasured(trials=everything, valid=sorted(initial + trained, key=lambda t: t.id), excluded=excluded,
                            options=options or CircularityAnalysis(), initial_all=initial_all, trained_all=trained_all,
                            initial=initial, trained=trained, excluded_initial=ex_initial, excluded_trained=ex_trained)
    m.claims = [*_measure_sweep(m), _measure_survival(m)]
    # Claims 1–3 are judged on the draws, 4 on the runs: unassessable when too few trials are valid and neither can be.
    m.assessable = V.assessable(len(m.valid), len(everything)) or any(c.verdict != V.NOT_ASSESSABLE for c in m.claims)
    return m


# ---------------------------------------------------------------- write


def _ran(m: CircularityMeasured, record: dict) -> list[str]:
    s, opts, ran = m.sweep, m.options, C.profile_lines(record, m.trials)
    if s is not None:
        ran.append(f"Initial embeddings (`train.steps = 0`, nothing trains): p = {s['p']}, d ∈ {{{', '.join(map(str, s['ds']))}}}, "
                   f"{len(m.initial) // max(len(s['ds']), 1)} draws per d (embedding seeds 0, 1, …). Selection null: "
                   f"{opts.null_draws} independent N(0, 1) matrices per d (stream `{N.NULL_STREAM}`); control: u_k from one "
                   f"independent N(0, 1) matrix per draw (stream `{N.CONTROL_STREAM}`).")
    if m.trained_all:
        t0 = m.trained_all[0].settings
        ran.append(f"Trained runs: p = {t0['task']['p']}, d = {t0['train']['d']}, weight decay {t0['train']['weight_decay']}, "
                   f"{', '.join(map(str, C.steps_of(m.trained_all)))} steps, {len(m.trained_all)} independent seeds; AUC "
                   f"intervals from {opts.bootstrap} bootstrap resamples of the runs.")
    return ran


def _deviations(m: CircularityMeasured) -> list[str]:
    return [
        f"Circularity ({C.method('circularity-app-e-eq-2')}): X_k = (E − Ē)·u_k with u_k = Re(F_k)/‖Re(F_k)‖ is our reading "
        "of eq. 2's \"embeddings projected onto the Fourier basis\"; the paper does not fix the projection. The PCA variant "
        "(Zhong et al.) is shown beside it.",
        "The selection null (simulated, not derived; d/(d + p) drawn as a heuristic) and the independent-direction control "
        "(its chance level 2/(p − 1) is exact) are ours; the paper draws no null.",
        "Fig. 13b's caption says \"Histogram of different frequencies by their gradients\" while the text says the figure tests "
        "initial circularity; we show initial circularity (and, for comparison, the initial signal ‖F_k‖²).",
        f"Survival rule ({C.method('survival-rule')}, ours): final signal_k ≥ τ · max final signal, τ = {C.fmt(M.TAU)}. "
        "\"Inconclusive\" is the paper's word for Fig. 13b; the AUC, its bootstrap CI over runs and the thresholds of the rule are ours.",
        "The paper does not list its grid of d for Fig. 13a; ours is 2, 4, …, 256 with d = p = 59 added.",
        *([M.short_budget_deviation(m.trained_all)] if m.trained_all else []),
        *(C.paper_setting_deviations(m.trained_all) if m.trained_all else []),
        *C.common_deviations(m.trials),
        C.STATISTICS_NOTE,
    ]


def _sweep_findings(m: CircularityMeasured) -> list[str]:
    s, rows = m.sweep, []
    for d in s["ds"]:
        r, e = s["per_d"][d], m.excess.get(d, {})
        rows.append([str(d) + (" (= p)" if d == s["p"] else ""), len(r["mean"]), C.fmt_mean_std(r["mean"]).split(" (n")[0],
                     C.fmt_mean_std(r["null_mean"]).split(" (n")[0], C.fmt(float(N.heuristic_null(s["p"], d))),
                     f"{C.fmt(e.get('diff'))} [{C.fmt(e.get('lo'))}, {C.fmt(e.get('hi'))}]",
                     C.fmt_mean_std(r["max"]).split(" (n")[0], C.fmt_mean_std(r["control_mean"]).split(" (n")[0],
                     C.fmt_mean_std(r["control_max"]).split(" (n")[0], C.fmt_mean_std(r["pca"]).split(" (n")[0]])
    return [
        "Fig. 13a, per d (mean ± std over draws): the measured mean and max of c_k over k; the selection null (mean c_k of "
        "independent N(0, 1) matrices) and its heuristic d/(d + p); measured minus null with the Welch 95% CI; the control "
        f"with u_k from an independent draw (chance {C.fmt(N.chance_level(s['p']))}); and the PCA variant.",
        C.md_table(["d", "draws", "mean c_k", "null mean c_k", "d/(d+p)", "measured − null [95% CI]", "max c_k",
                    "control mean c_k", "control max c_k", "PCA circularity"], rows),
        rise_text(s, m.rise, m.claims[2]),
    ]


def _survival_findings(m: CircularityMeasured) -> list[str]:
    a_circ, a_sig, rho = m.auc_circularity, m.auc_signal, m.pooled_spearman
    surv = np.concatenate([r["survived"] for r in m.runs])
    c_all = np.concatenate([r["circularity"] for r in m.runs])
    return [
        f"Fig. 13b, {len(m.runs)} valid runs, {int(surv.sum())} surviving and {int((~surv).sum())} dying (run, frequency) "
        f"pairs at τ = {C.fmt(M.TAU)}: initial c_k of survivors {C.fmt_mean_std(c_all[surv])}, of the dead "
        f"{C.fmt_mean_std(c_all[~surv])}. AUC of initial circularity for survival {C.fmt(a_circ[0])} (95% bootstrap CI "
        f"[{C.fmt(a_circ[1])}, {C.fmt(a_circ[2])}]); AUC of the initial signal ‖F_k‖² on the same runs {C.fmt(a_sig[0])} "
        f"([{C.fmt(a_sig[1])}, {C.fmt(a_sig[2])}]). Initial c_k and initial signal_k are correlated over the pooled pairs "
        f"(Spearman ρ = {C.fmt(rho['rho'])}, {C.fmt_p(rho['p'])}, n = {rho['n']}): the numerator of c_k, |u_k·F_k|² with "
        "u_k along Re(F_k), is at least ‖Re F_k‖², a part of signal_k, so c_k partly measures the signal itself.",
        M.count_table(m.trained),
        M.settling_text(m.settling),
    ]


def _numbers(m: CircularityMeasured) -> tuple[str, str]:
    """(our number, the index's short form)."""
    s, a_circ, a_sig = m.sweep, m.auc_circularity, m.auc_signal
    if s is not None:
        first, last = s["ds"][0], s["ds"][-1]
        m0, m1 = np.mean(s["per_d"][first]["mean"]), np.mean(s["per_d"][last]["mean"])
        n0, n1 = np.mean(s["per_d"][first]["null_mean"]), np.mean(s["per_d"][last]["null_mean"])
        c0, c1 = np.mean(s["per_d"][first]["control_mean"]), np.mean(s["per_d"][last]["control_mean"])
        curve = (f"mean c_k {C.fmt(m0)} at d = {first} → {C.fmt(m1)} at d = {last} (selection null {C.fmt(n0)} → {C.fmt(n1)}; "
                 f"independent-direction control {C.fmt(c0)} → {C.fmt(c1)})")
        short_curve = f"mean c_k {C.fmt(m0, 2)}→{C.fmt(m1, 2)} = null {C.fmt(n0, 2)}→{C.fmt(n1, 2)}"
    else:
        curve = short_curve = "no initial draws"
    auc_text = (f"AUC of initial c_k for survival {C.fmt(a_circ[0])} [{C.fmt(a_circ[1])}, {C.fmt(a_circ[2])}] vs "
                f"initial signal {C.fmt(a_sig[0])} [{C.fmt(a_sig[1])}, {C.fmt(a_sig[2])}] ({len(m.runs)} runs)")
    return f"{curve}; {auc_text}", f"{short_curve}; AUC c_k {C.fmt(a_circ[0], 2)} vs signal {C.fmt(a_sig[0], 2)}"


def write(m: CircularityMeasured, record: dict, out_dir: Path) -> Section:
    if not m.assessable:
        return C.section(m, record, deviations=_deviations(m))
    out_dir, s = Path(out_dir), m.sweep
    findings = (_sweep_findings(m) if s is not None else []) + (_survival_findings(m) if m.runs else [])
    figures = ([figure_13a(s, out_dir)] if s is not None else []) + (
        [figure_13b(m.runs, m.auc_circularity, m.auc_signal, out_dir)] if m.runs else [])
    summary = {
        **({"settling": dict(m.settling)} if m.runs else {}),
        "sweep": None if s is None else {"p": s["p"], "ds": s["ds"], "per_d": {
            str(d): {k: S.mean_std(v)[:2] for k, v in s["per_d"][d].items()} for d in s["ds"]}},
        "excess": {str(d): e for d, e in m.excess.items()},
        "auc_circularity": m.auc_circularity, "auc_signal": m.auc_signal, "trained_valid": len(m.trained),
        "trained": len(m.trained_all), "initial_valid": len(m.initial), "initial": len(m.initial_all),
    }
    our, short = _numbers(m)
    excluded = ([f"Initial draws (Fig. 13a): {x}" for x in C.exclusion_lines(len(m.initial_all), m.excluded_initial)]
                + ([f"Trained runs (Fig. 13b; survival needs a run that generalises): {x}"
                    for x in C.exclusion_lines(len(m.trained_all), m.excluded_trained)] if m.trained_all else []))
    return C.section(m, record, our_number=our, short_number=short, what_we_ran=_ran(m, record), excluded=excluded,
                     deviations=_deviations(m), findings=findings, figures=figures, summary=summary)
