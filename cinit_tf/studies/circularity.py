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

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cinit_tf.rules import Int
from cinit_tf.section import Declaration, Figure, Section
from cinit_tf.seeds import rng
from cinit_tf.signals import circularity, fourier_norms, n_frequencies, pca_circularity
from cinit_tf.studies import _appendix as A
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _modadd as M
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V

MARGIN = 0.02  # "nothing beyond the selection effect": the measured mean c_k within 0.02 of the null's
WEAK_AUC = 0.1  # |AUC − 0.5| below this is a weak effect (AUC 0.4–0.6)
NULL_STREAM, CONTROL_STREAM = "circularity_null", "circularity_control"


@dataclass(frozen=True)
class CircularityAnalysis:
    """The `[analysis]` table: how many null matrices to simulate, how many bootstrap resamples."""

    null_draws: int = C.option(200, Int(2), "Gaussian matrices simulated per d for the selection-effect null")
    bootstrap: int = C.option(2000, Int(10), "bootstrap resamples of the trained runs for the AUC intervals")


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

DECLARATION = Declaration(
    paper_ref="App. E, Fig. 13",
    order=12,
    title="Circularity of random initial embeddings against d, and against survival (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=CircularityAnalysis,
)


# ---------------------------------------------------------------- circularity along given directions


def fitted_directions(E) -> np.ndarray:
    """u_k = Re(F_k)/‖Re(F_k)‖ for k = 1..K, shape (K, d): the directions `signals.circularity` fits to E."""
    E = np.asarray(E, dtype=np.float64)
    K = n_frequencies(E.shape[0])
    F = np.fft.rfft(E, axis=0)[1 : K + 1]
    re = F.real
    return re / np.linalg.norm(re, axis=1, keepdims=True)


def circularity_along(E, U) -> np.ndarray:
    """c_k (eq. 2) of the centred embedding projected on the given unit directions U (K, d), row k-1 for frequency k."""
    E = np.asarray(E, dtype=np.float64)
    p = E.shape[0]
    X = (E - E.mean(axis=0)) @ np.asarray(U, dtype=np.float64).T  # (p, K)
    k = np.arange(1, X.shape[1] + 1)
    phase = np.exp(2j * np.pi * np.outer(np.arange(p), k) / p)
    power = np.abs(np.sum(X * phase, axis=0)) ** 2
    return 2.0 * power / (p * np.sum(X**2, axis=0))


def control_circularity(E, seed: int) -> np.ndarray:
    """c_k with u_k fitted to an independent N(0, 1) matrix of E's shape (stream "circularity_control", `seed`)."""
    E = np.asarray(E, dtype=np.float64)
    other = rng(CONTROL_STREAM, seed).standard_normal(E.shape)
    return circularity_along(E, fitted_directions(other))


def selection_null(p: int, d: int, draws: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean over k, max over k) of c_k for `draws` independent N(0, 1) matrices (p, d) (stream "circularity_null")."""
    c = np.array([circularity(rng(NULL_STREAM, d * 1_000_000 + i).standard_normal((p, d))) for i in range(draws)])
    return np.nanmean(c, axis=1), np.nanmax(c, axis=1)


def heuristic_null(p: int, d) -> np.ndarray:
    """d / (d + p): the heuristic level of the fitted-direction score on pure noise."""
    d = np.asarray(d, dtype=np.float64)
    return d / (d + p)


def chance_level(p: int) -> float:
    """E[c_k] for a direction independent of E: the share of an isotropic vector's energy in 2 of p − 1 dimensions."""
    return 2.0 / (p - 1)


# ---------------------------------------------------------------- Fig. 13a


def sweep(initial: list, null_draws: int) -> dict:
    """Per d: each draw's mean and max c_k, its PCA circularity, the control's mean and max, and the simulated null."""
    p = int(initial[0].settings["task"]["p"])
    per_d: dict[int, dict[str, list]] = {}
    for t in initial:
        d = int(t.settings["train"]["d"])
        E = np.asarray(t.result.initial_embedding, dtype=np.float64)
        c = circularity(E)
        ctrl = control_circularity(E, int(t.settings["seeds"]["embedding"]) * 10_000 + d)
        row = per_d.setdefault(d, {k: [] for k in ("mean", "max", "pca", "control_mean", "control_max")})
        row["mean"].append(float(np.nanmean(c)))
        row["max"].append(float(np.nanmax(c)))
        row["pca"].append(pca_circularity(E))
        row["control_mean"].append(float(np.mean(ctrl)))
        row["control_max"].append(float(np.max(ctrl)))
    ds = sorted(per_d)
    for d in ds:
        null_mean, null_max = selection_null(p, d, null_draws)
        per_d[d]["null_mean"], per_d[d]["null_max"] = null_mean.tolist(), null_max.tolist()
    return {"p": p, "ds": ds, "per_d": per_d}


def excess(s: dict) -> dict:
    """Per d: measured mean c_k minus the null's, with its Welch 95% CI and p-value."""
    from scipy import stats

    out = {}
    for d in s["ds"]:
        a, b = np.asarray(s["per_d"][d]["mean"]), np.asarray(s["per_d"][d]["null_mean"])
        diff = float(a.mean() - b.mean())
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = float(np.sqrt(va + vb))
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)) if se > 0 else 1.0
        half = float(stats.t.ppf(0.975, df)) * se
        p_greater = float(stats.t.sf(diff / se, df)) if se > 0 else (0.0 if diff > 0 else 1.0)
        out[d] = {"diff": diff, "lo": diff - half, "hi": diff + half, "p_greater": p_greater, "n": int(a.size), "n_null": int(b.size)}
    return out


def selection_claim(ex: dict) -> V.Claim:
    name = "the rise is more than the selection effect"
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
    name = "initial circularity does not clearly predict survival (inconclusive)"
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
        A.draw_band(ax, ds, [s["per_d"][d][key] for d in ds], "tab:blue", f"measured c_k, {what}")
        A.draw_band(ax, ds, [s["per_d"][d][f"control_{key}"] for d in ds], "tab:orange",
                    f"u_k from an independent draw, {what}", marker="s")
        A.draw_band(ax, ds, [s["per_d"][d][f"null_{key}"] for d in ds], "black",
                    f"selection null (simulated N(0, 1) matrices), {what}", marker="x", ls="--")
        if key == "mean":
            xs = np.geomspace(ds[0], ds[-1], 100)
            ax.plot(xs, heuristic_null(p, xs), color="grey", lw=1, ls=":", label="d / (d + p)")
            ax.axhline(chance_level(p), color="tab:orange", lw=0.8, ls=":", label=f"chance 2/(p − 1) = {C.fmt(chance_level(p))}")
        A.log2_ticks(ax, ds)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("embedding dimension d (log scale)")
        ax.set_ylabel(f"circularity c_k, {what}")
        ax.set_title(f"Fig. 13a: {what} (p = {p})")
        ax.legend(loc="upper left", fontsize=8)
    ax = axes[2]
    A.draw_band(ax, ds, [s["per_d"][d]["pca"] for d in ds], "tab:green", "PCA circularity (top 4 PCs)")
    A.log2_ticks(ax, ds)
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


def rise_text(s: dict, ex: dict, claim) -> str:
    """What the rise of Fig. 13a is made of, in the words the numbers allow."""
    ds, p = s["ds"], s["p"]
    x = [d for d in ds for _ in s["per_d"][d]["control_mean"]]
    ctrl = S.spearman_ci(x, [v for d in ds for v in s["per_d"][d]["control_mean"]])
    pca = S.spearman_ci([d for d in ds for _ in s["per_d"][d]["pca"]], [v for d in ds for v in s["per_d"][d]["pca"]])
    ctrl_means = [float(np.mean(s["per_d"][d]["control_mean"])) for d in ds]
    text = ("**What the rise is made of.** The initial embedding is an N(0, 1) matrix and u_k is fitted to it, so the "
            "score rises with d for any Gaussian matrix (the selection null; d/(d + p) roughly). With u_k taken from an "
            f"independent draw, the mean c_k lies between {C.fmt(min(ctrl_means))} and {C.fmt(max(ctrl_means))} over d "
            f"(chance 2/(p − 1) = {C.fmt(chance_level(p))}; Spearman ρ with d = {C.fmt(ctrl[0])}, {C.fmt_p(ctrl[3])}), and the "
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


# ---------------------------------------------------------------- analysis


def analyse(record: dict, trials: list, out_dir: Path) -> Section:
    out_dir = Path(out_dir)
    opts = C.analysis_of(record, CircularityAnalysis)
    initial_all = sorted((t for t in trials if int(t.settings["train"]["steps"]) == 0), key=lambda t: t.id)
    trained_all = sorted((t for t in trials if int(t.settings["train"]["steps"]) > 0), key=lambda t: t.id)
    initial, ex_initial = C.split_valid(initial_all, needs_generalised=False)
    trained, ex_trained = C.split_valid(trained_all, needs_generalised=True)

    claims, findings, figures, summary = [], [], [], {}
    s = sweep(initial, opts.null_draws) if initial else None
    if s is not None and V.assessable(len(initial), len(initial_all)):
        x = [d for d in s["ds"] for _ in s["per_d"][d]["mean"]]
        claims.append(V.trend("mean c_k rises with d", x, [v for d in s["ds"] for v in s["per_d"][d]["mean"]], +1))
        claims.append(V.trend("max c_k rises with d", x, [v for d in s["ds"] for v in s["per_d"][d]["max"]], +1))
        ex = excess(s)
        claims.append(selection_claim(ex))
    else:
        ex = {}
        for what in ("mean c_k rises with d", "max c_k rises with d", "the rise is more than the selection effect"):
            claims.append(V.not_assessable(what, len(initial), len(initial_all)))

    runs = survival_data(trained)
    if runs:
        per_run_c = [(r["circularity"], r["survived"]) for r in runs]
        per_run_s = [(r["signal"], r["survived"]) for r in runs]
        a_circ = A.bootstrap_auc(per_run_c, opts.bootstrap, seed=0)
        a_sig = A.bootstrap_auc(per_run_s, opts.bootstrap, seed=1)
    else:
        a_circ = a_sig = (float("nan"),) * 3
    claims.append(auc_claim(a_circ, len(trained), len(trained_all)))
    verdict = V.headline(claims)

    # -------- what we ran
    ran = C.profile_lines(record, trials)
    if s is not None:
        ran.append(f"Initial embeddings (`train.steps = 0`, nothing trains): p = {s['p']}, d ∈ {{{', '.join(map(str, s['ds']))}}}, "
                   f"{len(initial) // max(len(s['ds']), 1)} draws per d (embedding seeds 0, 1, …). Selection null: "
                   f"{opts.null_draws} independent N(0, 1) matrices per d (stream `{NULL_STREAM}`); control: u_k from one "
                   f"independent N(0, 1) matrix per draw (stream `{CONTROL_STREAM}`).")
    if trained_all:
        t0 = trained_all[0].settings
        ran.append(f"Trained runs: p = {t0['task']['p']}, d = {t0['train']['d']}, weight decay {t0['train']['weight_decay']}, "
                   f"{', '.join(map(str, C.steps_of(trained_all)))} steps, {len(trained_all)} independent seeds; AUC intervals from "
                   f"{opts.bootstrap} bootstrap resamples of the runs.")

    deviations = [
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
        *([M.short_budget_deviation(trained_all)] if trained_all else []),
        *(C.paper_setting_deviations(trained_all) if trained_all else []),
        *C.common_deviations(trials),
        C.STATISTICS_NOTE,
    ]

    # -------- what we saw
    if s is not None:
        rows = []
        for d in s["ds"]:
            r = s["per_d"][d]
            e = ex.get(d, {})
            rows.append([str(d) + (" (= p)" if d == s["p"] else ""), len(r["mean"]), C.fmt_mean_std(r["mean"]).split(" (n")[0],
                         C.fmt_mean_std(r["null_mean"]).split(" (n")[0], C.fmt(float(heuristic_null(s["p"], d))),
                         f"{C.fmt(e.get('diff'))} [{C.fmt(e.get('lo'))}, {C.fmt(e.get('hi'))}]",
                         C.fmt_mean_std(r["max"]).split(" (n")[0], C.fmt_mean_std(r["control_mean"]).split(" (n")[0],
                         C.fmt_mean_std(r["control_max"]).split(" (n")[0], C.fmt_mean_std(r["pca"]).split(" (n")[0]])
        findings += [
            "Fig. 13a, per d (mean ± std over draws): the measured mean and max of c_k over k; the selection null (mean c_k of "
            "independent N(0, 1) matrices) and its heuristic d/(d + p); measured minus null with the Welch 95% CI; the control "
            f"with u_k from an independent draw (chance {C.fmt(chance_level(s['p']))}); and the PCA variant.",
            C.md_table(["d", "draws", "mean c_k", "null mean c_k", "d/(d+p)", "measured − null [95% CI]", "max c_k",
                        "control mean c_k", "control max c_k", "PCA circularity"], rows),
            rise_text(s, ex, claims[2] if len(claims) > 2 else None),
        ]
    if runs:
        surv = np.concatenate([r["survived"] for r in runs])
        c_all = np.concatenate([r["circularity"] for r in runs])
        s_all = np.concatenate([r["signal"] for r in runs])
        rho = C.spearman(c_all, s_all)
        sett = M.settling(trained, M.settling_step(trained))
        findings += [
            f"Fig. 13b, {len(runs)} valid runs, {int(surv.sum())} surviving and {int((~surv).sum())} dying (run, frequency) "
            f"pairs at τ = {C.fmt(M.TAU)}: initial c_k of survivors {C.fmt_mean_std(c_all[surv])}, of the dead "
            f"{C.fmt_mean_std(c_all[~surv])}. AUC of initial circularity for survival {C.fmt(a_circ[0])} (95% bootstrap CI "
            f"[{C.fmt(a_circ[1])}, {C.fmt(a_circ[2])}]); AUC of the initial signal ‖F_k‖² on the same runs {C.fmt(a_sig[0])} "
            f"([{C.fmt(a_sig[1])}, {C.fmt(a_sig[2])}]). Initial c_k and initial signal_k are correlated over the pooled pairs "
            f"(Spearman ρ = {C.fmt(rho['rho'])}, {C.fmt_p(rho['p'])}, n = {rho['n']}): the numerator of c_k, |u_k·F_k|² with "
            "u_k along Re(F_k), is at least ‖Re F_k‖², a part of signal_k, so c_k partly measures the signal itself.",
            M.count_table(trained),
            M.settling_text(sett),
        ]
        summary["settling"] = {k: v for k, v in sett.items()}

    if s is not None:
        figures.append(figure_13a(s, out_dir))
    if runs:
        figures.append(figure_13b(runs, a_circ, a_sig, out_dir))

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
                f"initial signal {C.fmt(a_sig[0])} [{C.fmt(a_sig[1])}, {C.fmt(a_sig[2])}] ({len(runs)} runs)")
    our = f"{curve}; {auc_text}"
    short = f"{short_curve}; AUC c_k {C.fmt(a_circ[0], 2)} vs signal {C.fmt(a_sig[0], 2)}"

    summary.update({
        "sweep": None if s is None else {"p": s["p"], "ds": s["ds"], "per_d": {
            str(d): {k: C.mean_std(v)[:2] for k, v in s["per_d"][d].items()} for d in s["ds"]}},
        "excess": {str(d): e for d, e in ex.items()},
        "auc_circularity": a_circ, "auc_signal": a_sig, "trained_valid": len(trained), "trained": len(trained_all),
        "initial_valid": len(initial), "initial": len(initial_all),
    })
    return Section(
        our_number=our,
        verdict=verdict,
        what_we_ran=ran,
        deviations=deviations,
        findings=findings,
        figures=figures,
        summary=summary,
        claims=claims,
        excluded=[f"Initial draws (Fig. 13a): {x}" for x in C.exclusion_lines(len(initial_all), ex_initial)]
        + ([f"Trained runs (Fig. 13b; survival needs a run that generalises): {x}"
            for x in C.exclusion_lines(len(trained_all), ex_trained)] if trained_all else []),
        short_number=short,
    )
