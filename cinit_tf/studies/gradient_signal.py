"""§4.3, Fig. 6a–c: the initial gradient Δ_k as a second completeness signal on modular addition.

The paper's claim: Δ_k(i) = signal_k(after step i) − signal_k(before step i), which folds the
embedding gradient and weight decay together, is higher for frequencies that go on to survive
(Fig. 6a, step 4); survival rate rises with Δ at steps 1–4 (Fig. 6b); frequencies high in both
the initial signal and Δ survive most (Fig. 6c); a linear SVM separating survived from dead
frequencies on (signal, Δ) reaches 83.8% accuracy.

Trials: independent seeds, embeddings as drawn. Per trial and frequency k: the initial signal
(step 0), Δ_k at steps 1–4 (signals.gradient_signal on the norms recorded at every one of the
first steps), and whether k survives (final signal ≥ τ · max, docs/method.md#survival-rule). One sample per
(trial, frequency).

The SVM (docs/method.md#verdict-rules): one metric chosen in advance, the balanced accuracy of a
class-balanced LinearSVC on standardised (signal, Δᵢ), cross-validated with folds split by trial
(samples of one trial are not independent), with a 95% CI from a bootstrap over trials; plain
accuracy stands beside the majority-class baseline. Δ is split into its weight-decay part, exactly
((1 − lr·wd)² − 1)·signal_k(before the step) for AdamW's decoupled decay, and its backprop part (the
rest); the SVM is reported on Δ, on the backprop part alone and, when recorded, on the backprop
gradient's own Fourier norms ‖FFT(∂L/∂E)_k‖², at each of steps 1–4.

Verdict rule (fixed here, before any numbers): see VERDICT_RULE, declared in DECLARATION.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.readout import SURVIVAL_TAU, survivors
from cinit_tf.section import Declaration, Figure, Section
from cinit_tf.signals import gradient_signal
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _modadd as M
from cinit_tf.studies import _verdicts as V
from cinit_tf.studies._modadd import TAUS

PAPER_ACCURACY = 0.838
STEPS = (1, 2, 3, 4)
HEADLINE_STEP = 4
ALPHA = V.ALPHA
FOLDS = 5
CV_SEED = 0
BOOTSTRAP = 2000  # resamples of trials for the CI of a cross-validated accuracy
N_BINS = 8  # quantile bins of Δ for the survival-rate curves (Fig. 6b)
FEATURE_SETS = (("signal + Δ₄", (0, 1)), ("signal alone", (0,)), ("Δ₄ alone", (1,)))

VERDICT_RULE = (
    f"eight claims on the pooled (trial, frequency) samples of the valid trials (finite training), survival at τ = "
    f"{SURVIVAL_TAU:g}; the headline is the weakest. For each step i = 1–4: (a) the SVM number: one metric chosen in "
    f"advance, the balanced accuracy of a class-balanced linear SVM on (initial signal, Δᵢ), {FOLDS}-fold cross-validated "
    "with folds split by trial, with a 95% CI from a bootstrap over trials; reproduced when the paper's "
    f"{PAPER_ACCURACY * 100:g}% lies in that CI, partly when it does not but the SVM beats chance (CI above 50%), not "
    "reproduced otherwise (the paper does not say which accuracy it reports; plain accuracy is shown beside the "
    "majority baseline, not judged). (b) Fig. 6b's direction: survival rises with Δᵢ, Spearman ρ(Δᵢ, survived) positive "
    f"at p < {ALPHA:g} with its Fisher-z 95% CI; positive but not significant → partly; zero or negative → not reproduced. "
    f"Not assessable when fewer than {V.MIN_VALID_SHARE:.0%} of the trials (or fewer than 3) are valid."
)

CLAIM = (
    "Besides a high initial signal, frequencies that can quickly grow into circles are more likely to survive. With "
    "the gradient taken as the change in a frequency's signal over one step (Δ, embedding gradient and weight decay "
    "together), survivors have higher Δ at step 4 (Fig. 6a), survival rate rises with Δ at steps 1–4 (Fig. 6b), "
    "frequencies high in both initial signal and Δ survive most (Fig. 6c), and a linear SVM separating survived from "
    "dead frequencies reaches 83.8% accuracy."
)

PAPER_NUMBER = "linear SVM on (initial signal, Δ) separates survived from dead frequencies with 83.8% accuracy (sample size not given)"

DECLARATION = Declaration(
    paper_ref="§4.3, Fig. 6a–c",
    order=7,
    title="The initial gradient as a second completeness signal",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- the SVM (tested on synthetic data)


def majority_baseline(y) -> float:
    """Accuracy of always predicting the commoner class."""
    y = np.asarray(y, dtype=bool)
    if y.size == 0:
        return float("nan")
    share = float(y.mean())
    return max(share, 1.0 - share)


def _pipeline(balanced: bool, seed: int):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    # Standardising inside the pipeline keeps each fold's scaling to its own training part.
    return make_pipeline(StandardScaler(),
                         LinearSVC(C=1.0, class_weight="balanced" if balanced else None, max_iter=20000, random_state=seed))


def svm_accuracies(X, y, balanced: bool = False, folds: int = FOLDS, seed: int = CV_SEED, groups=None) -> dict:
    """A linear SVM on standardised X predicting y: cross-validated and training accuracy and balanced accuracy.

    Folds are stratified and shuffled with `seed`; with `groups`, no group is split across folds (samples of one
    trial share its MLP and split, so they are not independent). Returns {"cv_accuracy", "cv_balanced_accuracy",
    "train_accuracy", "train_balanced_accuracy", "coef", "intercept", "n", "positives"}; coef and intercept are of
    the fit on all samples, in standardised units.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict

    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=bool).astype(int)
    out = {"n": int(y.size), "positives": int(y.sum()), "cv_accuracy": float("nan"), "cv_balanced_accuracy": float("nan"),
           "train_accuracy": float("nan"), "train_balanced_accuracy": float("nan"), "coef": [], "intercept": float("nan")}
    minority = min(int(y.sum()), int(y.size - y.sum()))
    if minority == 0:
        return out  # one class only: nothing to separate
    model = _pipeline(balanced, seed).fit(X, y)
    fitted = model.predict(X)
    out["train_accuracy"] = float(accuracy_score(y, fitted))
    out["train_balanced_accuracy"] = float(balanced_accuracy_score(y, fitted))
    svc = model[-1]
    out["coef"] = [float(c) for c in svc.coef_.ravel()]
    out["intercept"] = float(svc.intercept_[0])
    enough = minority >= folds and (groups is None or np.unique(groups).size >= folds)
    if enough:
        if groups is None:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            predicted = cross_val_predict(_pipeline(balanced, seed), X, y, cv=splitter)
        else:
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
            predicted = cross_val_predict(_pipeline(balanced, seed), X, y, cv=splitter, groups=np.asarray(groups))
        out["cv_accuracy"] = float(accuracy_score(y, predicted))
        out["cv_balanced_accuracy"] = float(balanced_accuracy_score(y, predicted))
    return out


def cv_predictions(X, y, groups, balanced: bool = True, folds: int = FOLDS, seed: int = CV_SEED):
    """Cross-validated predictions of the (class-balanced) SVM with folds split by `groups`; None when too few."""
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    y = np.asarray(y, dtype=bool).astype(int)
    minority = min(int(y.sum()), int(y.size - y.sum()))
    if minority < folds or np.unique(groups).size < folds:
        return None
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(_pipeline(balanced, seed), X, y, cv=splitter, groups=np.asarray(groups))


def balanced_accuracy(y, predicted) -> float:
    """Mean of the true-positive and true-negative rates (nan when a class is absent)."""
    y, predicted = np.asarray(y, dtype=bool), np.asarray(predicted, dtype=bool)
    if y.all() or (~y).all():
        return float("nan")
    return float(0.5 * (np.mean(predicted[y]) + np.mean(~predicted[~y])))


def bootstrap_ci(y, predicted, groups, metric, n: int = BOOTSTRAP, seed: int = CV_SEED) -> tuple[float, float]:
    """95% percentile CI of metric(y, predicted) under resampling whole trials (groups) with replacement."""
    y, predicted, groups = np.asarray(y), np.asarray(predicted), np.asarray(groups)
    ids = np.unique(groups)
    index = {g: np.flatnonzero(groups == g) for g in ids}
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        take = np.concatenate([index[g] for g in rng.choice(ids, size=ids.size, replace=True)])
        v = metric(y[take], predicted[take])
        if np.isfinite(v):
            values.append(v)
    if not values:
        return (float("nan"), float("nan"))
    return (float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975)))


def accuracy(y, predicted) -> float:
    y, predicted = np.asarray(y, dtype=bool), np.asarray(predicted, dtype=bool)
    return float(np.mean(y == predicted)) if y.size else float("nan")


def judged_svm(X, y, groups) -> dict:
    """The declared metric and its CI, with plain accuracy beside: {"balanced", "balanced_ci", "accuracy",
    "accuracy_ci", "plain_svm_accuracy"}; nan when too few samples of a class."""
    out = {"balanced": float("nan"), "balanced_ci": [float("nan")] * 2, "accuracy": float("nan"),
           "accuracy_ci": [float("nan")] * 2, "plain_svm_accuracy": float("nan")}
    pred = cv_predictions(X, y, groups, balanced=True)
    if pred is None:
        return out
    out["balanced"] = balanced_accuracy(y, pred)
    out["balanced_ci"] = list(bootstrap_ci(y, pred, groups, balanced_accuracy))
    out["accuracy"] = accuracy(y, pred)
    plain = cv_predictions(X, y, groups, balanced=False)
    if plain is not None:
        out["plain_svm_accuracy"] = accuracy(y, plain)
        out["accuracy_ci"] = list(bootstrap_ci(y, plain, groups, accuracy))
    return out


def svm_claim(step: int, fit: dict) -> V.Claim:
    """Claim (a) at one step: the paper's 83.8% in our CI of the class-balanced SVM's balanced accuracy."""
    name = f"SVM on (signal, Δ{step}) reaches the paper's accuracy"
    b, (lo, hi) = fit["balanced"], fit["balanced_ci"]
    if not np.isfinite(b) or not np.isfinite(lo):
        return V.Claim(name, V.NOT_ASSESSABLE, "too few survivors or dead frequencies for a cross-validated SVM")
    detail = (f"balanced accuracy {_pct(b)} (95% CI {_pct(lo)}–{_pct(hi)}, bootstrap over trials) against the paper's "
              f"{PAPER_ACCURACY * 100:g}%")
    if lo <= 0.5:
        return V.Claim(name, V.NOT_REPRODUCED, detail + "; not above chance (50%)")
    if lo <= PAPER_ACCURACY <= hi:
        return V.Claim(name, V.REPRODUCED, detail + "; inside")
    return V.Claim(name, V.PARTLY, detail + "; above chance, but the paper's number lies outside")


def rises_claim(step: int, delta, alive) -> V.Claim:
    """Claim (b) at one step: survival rises with Δ (Spearman, Fisher-z CI, p < ALPHA)."""
    return V.trend(f"survival rises with Δ{step} (Fig. 6b)", delta, np.asarray(alive, dtype=float), +1,
                   f"Spearman ρ(Δ{step}, survived)")


def svm_table(features: np.ndarray, y, groups=None) -> dict:
    """svm_accuracies for each feature set of FEATURE_SETS, plain and class-balanced."""
    out = {}
    for name, columns in FEATURE_SETS:
        X = features[:, list(columns)]
        out[name] = {"plain": svm_accuracies(X, y), "balanced": svm_accuracies(X, y, balanced=True)}
        if groups is not None:
            out[name]["plain_grouped"] = svm_accuracies(X, y, groups=groups)
            out[name]["balanced_grouped"] = svm_accuracies(X, y, balanced=True, groups=groups)
    return out


# ---------------------------------------------------------------- data


def samples(trials) -> dict:
    """Pooled per-(trial, frequency) arrays: initial signal, Δ at STEPS, survival at each τ, trial index."""
    signal, deltas, decays, grads, surv, group = [], [], [], [], {tau: [] for tau in TAUS}, []
    for i, t in enumerate(sorted(trials, key=lambda t: t.id)):
        r = t.result
        norms = np.asarray(r.fourier_norms, dtype=float)
        signal.append(norms[0])
        deltas.append(gradient_signal(norms, list(STEPS), recorded_steps=r.steps))
        decays.append(np.stack([weight_decay_part(norms, r.steps, step, t.settings["train"]) for step in STEPS]))
        g = getattr(r, "gradient_norms", None)
        if g is not None:
            row = {int(st): j for j, st in enumerate(r.steps)}
            grads.append(np.stack([np.asarray(g, dtype=float)[row[step - 1]] for step in STEPS]))
        for tau in TAUS:
            surv[tau].append(survivors(norms[-1], tau))
        group.append(np.full(norms.shape[1], i))
    delta = np.concatenate(deltas, axis=1)
    decay = np.concatenate(decays, axis=1)
    return {
        "signal": np.concatenate(signal),
        "delta": delta,  # (len(STEPS), samples)
        "decay": decay,  # weight-decay part of delta, exactly
        "backprop": delta - decay,  # the rest: what the loss gradient (through Adam) did
        "gradient_norms": np.concatenate(grads, axis=1) if len(grads) == len(trials) and grads else None,
        "survived": {tau: np.concatenate(v) for tau, v in surv.items()},
        "group": np.concatenate(group),
        "trials": len(trials),
        "K": int(signal[0].size) if signal else 0,
    }


def weight_decay_part(norms, recorded_steps, step: int, train: dict) -> np.ndarray:
    """The weight-decay part of Δ_k at `step`: AdamW's decoupled decay multiplies E by (1 − lr·wd) each step, so it
    alone changes signal_k by ((1 − lr·wd)² − 1)·signal_k(before the step); the rest of Δ is backprop's."""
    row = {int(st): j for j, st in enumerate(recorded_steps)}
    lr, wd = float(train.get("lr", 0.01)), float(train.get("weight_decay", 0.0))
    if train.get("freeze_embedding"):
        wd = 0.0
    return ((1.0 - lr * wd) ** 2 - 1.0) * np.asarray(norms, dtype=float)[row[step - 1]]


def binned_rate(x, y, n_bins: int = N_BINS) -> dict:
    """Survival rate in quantile bins of x: {"centre": mean x per bin, "rate", "n"}; ties kept in one bin."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size == 0:
        return {"centre": [], "rate": [], "n": []}
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(len(edges) - 2, 0))
    out = {"centre": [], "rate": [], "n": []}
    for b in range(max(len(edges) - 1, 1)):
        m = which == b
        if m.any():
            out["centre"].append(float(x[m].mean()))
            out["rate"].append(float(y[m].mean()))
            out["n"].append(int(m.sum()))
    return out


# ---------------------------------------------------------------- figures


def figure_distribution(data, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    d4 = data["delta"][STEPS.index(HEADLINE_STEP)]
    alive = data["survived"][SURVIVAL_TAU]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    bins = np.histogram_bin_edges(d4, bins=40)
    for mask, colour, name in ((~alive, "tab:blue", "dead"), (alive, "tab:orange", "survived")):
        if mask.any():  # an empty class has no density to draw
            ax.hist(d4[mask], bins=bins, density=True, alpha=0.55, color=colour, label=f"{name} (n = {int(mask.sum())})")
    ax.set_xlabel(f"Δ at step {HEADLINE_STEP} (signal after − before the step)")
    ax.set_ylabel("density")
    ax.set_title(f"Gradient signal at step {HEADLINE_STEP}, by survival")
    ax.legend(loc="best")
    return G.finish(fig, out_dir, "delta_step4_distribution.png",
                  f"Distribution of Δ at step {HEADLINE_STEP} over all (trial, frequency) samples, survivors (orange) and "
                  f"dead frequencies (blue), each normalised to unit area; survival at τ = {SURVIVAL_TAU:g}. Mirrors Fig. 6a.")


def figure_rates(data, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    alive = data["survived"][SURVIVAL_TAU]
    fig, axes = plt.subplots(1, 2, figsize=(10.8, 3.8), sharey=True)
    for ax, key, name in ((axes[0], "delta", "Δ (signal after − before the step)"),
                          (axes[1], "backprop", "backprop part of Δ (Δ minus its weight-decay part)")):
        for j, step in enumerate(STEPS):
            b = binned_rate(data[key][j], alive)
            ax.plot(b["centre"], b["rate"], marker="o", ms=3.5, label=f"step {step}")
        ax.axhline(float(alive.mean()) if alive.size else 0.0, color="grey", ls=":", lw=1, label="overall survival rate")
        ax.set_xlabel(f"{name}, mean of each bin")
        ax.set_title(f"Survival rate against the {'full Δ' if key == 'delta' else 'backprop part'} ({N_BINS} quantile bins)")
    axes[0].set_ylabel("survival rate")
    top = max(0.5, 1.15 * max((max(binned_rate(data[k][j], alive)["rate"] or [0]) for k in ("delta", "backprop")
                                for j in range(len(STEPS))), default=0.5))
    axes[0].set_ylim(0, min(1.02, top))
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return G.finish(fig, out_dir, "survival_rate_vs_delta.png",
                  f"Survival rate of frequencies against their gradient signal at steps 1–4: samples split into {N_BINS} "
                  "equal-count bins per step, each point a bin at its mean. Left: the full Δ, as the paper's Fig. 6b; right: "
                  "its backprop part, after removing the weight-decay part ((1 − lr·wd)² − 1)·signal, which is larger for "
                  "the high-signal frequencies that tend to survive.")


def figure_plane(data, svm: dict, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    s0 = data["signal"]
    d4 = data["delta"][STEPS.index(HEADLINE_STEP)]
    alive = data["survived"][SURVIVAL_TAU]
    fig, ax = plt.subplots(figsize=(5.4, 4.2))
    ax.scatter(s0[~alive], d4[~alive], s=6, color="tab:blue", alpha=0.4, lw=0, label=f"dead (n = {int((~alive).sum())})")
    ax.scatter(s0[alive], d4[alive], s=9, color="tab:orange", alpha=0.85, lw=0, label=f"survived (n = {int(alive.sum())})")
    # The decision lines of the fits on all samples, back in the original units.
    for key, colour, text in (("plain", "black", "linear SVM"), ("balanced", "tab:red", "class-balanced linear SVM")):
        fit = svm["signal + Δ₄"][key]
        if len(fit["coef"]) == 2 and fit["coef"][1] != 0 and s0.size > 1:
            mu = np.array([s0.mean(), d4.mean()])
            sd = np.array([s0.std(), d4.std()])
            xs = np.linspace(s0.min(), s0.max(), 50)
            w, b = fit["coef"], fit["intercept"]
            ys = mu[1] - sd[1] * (w[0] * (xs - mu[0]) / sd[0] + b) / w[1]
            inside = (ys >= d4.min()) & (ys <= d4.max())
            if inside.any():
                ax.plot(xs[inside], ys[inside], color=colour, lw=1.2, ls="--", label=f"{text} boundary")
    ax.set_xlabel("initial signal ‖F_k‖² (step 0)")
    ax.set_ylabel(f"Δ at step {HEADLINE_STEP}")
    ax.set_title("Survived and dead frequencies by initial signal and gradient")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return G.finish(fig, out_dir, "signal_delta_plane.png",
                  f"Each (trial, frequency) sample at its initial signal and Δ at step {HEADLINE_STEP}, survivors orange, "
                  "dead blue; dashed: the decision boundaries of the plain and the class-balanced linear SVM fitted on "
                  "all samples. Mirrors Fig. 6c.")


# ---------------------------------------------------------------- analysis


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def analyse(record: dict, trials: list, out_dir: Path) -> Section:
    out_dir = Path(out_dir)
    all_trials = sorted(trials, key=lambda t: t.id)
    trials, excluded = C.split_valid(all_trials)
    claim_names = [f"SVM on (signal, Δ{i}) reaches the paper's accuracy" for i in STEPS] + \
                  [f"survival rises with Δ{i} (Fig. 6b)" for i in STEPS]
    if not V.assessable(len(trials), len(all_trials)):
        return C.unassessable_section(record, all_trials, trials, excluded, claim_names, C.paper_setting_deviations(all_trials))
    data = samples(trials)
    settling = M.settling(trials, M.settling_step(trials))
    alive = data["survived"][SURVIVAL_TAU]
    groups = data["group"]
    features = np.column_stack([data["signal"], data["delta"][STEPS.index(HEADLINE_STEP)]])
    svm = svm_table(features, alive, groups=groups)
    baseline = majority_baseline(alive)

    per_step, svm_claims, rise_claims = [], [], []
    variants = [("Δ (full change)", "delta"), ("backprop part of Δ", "backprop"), ("weight-decay part of Δ", "decay")]
    if data["gradient_norms"] is not None:
        variants.append(("‖FFT(∂L/∂E)_k‖² before the step", "gradient_norms"))
    variant_rows = []
    for j, step in enumerate(STEPS):
        d = data["delta"][j]
        fit = judged_svm(np.column_stack([data["signal"], d]), alive, groups)
        svm_claims.append(svm_claim(step, fit))
        rise_claims.append(rises_claim(step, d, alive))
        rho = C.spearman(d, alive)
        per_step.append({"step": step, "spearman": rho, "svm": fit,
                         "mean_survived": float(d[alive].mean()) if alive.any() else float("nan"),
                         "mean_dead": float(d[~alive].mean()) if (~alive).any() else float("nan"),
                         "decay_share": float(np.mean(np.abs(data["decay"][j])) / max(np.mean(np.abs(d)), 1e-300))})
        for label, key in variants:
            x = data[key][j]
            f = fit if key == "delta" else judged_svm(np.column_stack([data["signal"], x]), alive, groups)
            r = C.spearman(x, alive)
            variant_rows.append([str(step), label, _pct(f["balanced"]), f"{_pct(f['balanced_ci'][0])}–{_pct(f['balanced_ci'][1])}",
                                 _pct(f["plain_svm_accuracy"]), C.fmt(r["rho"]), C.fmt_p(r["p"])])
    claims = svm_claims + rise_claims
    head = per_step[STEPS.index(HEADLINE_STEP)]
    rho_signal = C.spearman(data["signal"], alive)
    rho_signal_delta = C.spearman(data["signal"], features[:, 1])
    signal_only = judged_svm(data["signal"], alive, groups)

    n = data["signal"].size
    hf = head["svm"]
    our = (f"class-balanced linear SVM on (signal, Δ₄), CV by trial: balanced accuracy {_pct(hf['balanced'])} (95% CI "
           f"{_pct(hf['balanced_ci'][0])}–{_pct(hf['balanced_ci'][1])}); at steps 1–3 "
           + ", ".join(_pct(s_['svm']['balanced']) for s_ in per_step[:3])
           + f"; signal alone {_pct(signal_only['balanced'])}; plain SVM accuracy {_pct(hf['plain_svm_accuracy'])} against a "
           f"majority baseline of {_pct(baseline)}; {n} samples = {data['trials']} trials × {data['K']} frequencies, "
           f"{int(alive.sum())} survivors")
    short = (f"balanced SVM acc. at steps 1–4: " + ", ".join(_pct(s_["svm"]["balanced"]) for s_ in per_step)
             + f" (plain {_pct(hf['plain_svm_accuracy'])}, baseline {_pct(baseline)}); n = {data['trials']} trials × {data['K']}")

    rows = []
    for name, _ in FEATURE_SETS:
        s_ = svm[name]
        rows.append([name, _pct(s_["plain"]["cv_accuracy"]), _pct(s_["plain"]["train_accuracy"]),
                     _pct(s_["balanced"]["cv_balanced_accuracy"]), _pct(s_["balanced"]["train_balanced_accuracy"]),
                     _pct(s_["plain_grouped"]["cv_accuracy"]), _pct(s_["balanced_grouped"]["cv_balanced_accuracy"])])
    rows.append(["majority class (no model)", _pct(baseline), _pct(baseline), "50.0%", "50.0%", _pct(baseline), "50.0%"])
    svm_md = C.md_table(["features", "SVM: CV accuracy", "SVM: training accuracy", "balanced SVM: CV balanced acc.",
                         "balanced SVM: training balanced acc.", "SVM: CV accuracy, folds by trial",
                         "balanced SVM: CV balanced acc., folds by trial (the judged metric)"], rows)
    variant_md = C.md_table(["step i", "second feature beside the initial signal", "balanced SVM: CV balanced acc.",
                             "95% CI", "plain SVM: CV acc.", "Spearman ρ(feature, survived)", "p"], variant_rows)
    step_rows = [[f"{s_['step']}", C.fmt(s_["spearman"]["rho"]), C.fmt_p(s_["spearman"]["p"]), s_["mean_survived"], s_["mean_dead"],
                  _pct(s_["decay_share"])] for s_ in per_step]
    step_md = C.md_table(["step i", "Spearman ρ(Δᵢ, survived)", "p", "mean Δᵢ, survivors", "mean Δᵢ, dead",
                          "mean |weight-decay part| / mean |Δᵢ|"], step_rows)

    tau_rows = []
    for tau in TAUS:
        y = data["survived"][tau]
        f = judged_svm(features, y, groups)
        tau_rows.append([f"{tau:g}", int(y.sum()), C.fmt(y.sum() / max(data["trials"], 1)), _pct(majority_baseline(y)),
                         _pct(f["plain_svm_accuracy"]), _pct(f["balanced"])])
    tau_md = C.md_table(["τ", "survivors", "survivors per trial", "majority baseline", "SVM CV acc.", "balanced SVM CV balanced acc."],
                        tau_rows)

    steps = C.steps_of(trials)
    train = trials[0].settings["train"]
    ran = C.profile_lines(record, all_trials)
    ran.append(f"Samples: every frequency k = 1..{data['K']} of every valid trial, {n} in all; survival read off the final "
               f"embedding after {', '.join(map(str, steps))} steps at τ = {SURVIVAL_TAU:g}.")
    ran.append(f"SVM: scikit-learn LinearSVC (C = 1, squared hinge loss, class_weight = balanced for the judged metric) on "
               f"features standardised within each fold; {FOLDS}-fold cross-validation stratified by survival with folds split "
               f"by trial, shuffled with seed {CV_SEED}; 95% CIs by resampling trials {BOOTSTRAP} times.")
    ran.append("Gradient norms ‖FFT(∂L/∂E)_k‖² recorded at steps 0–4 (train.gradient_steps)." if data["gradient_norms"] is not None
               else "No gradient norms recorded in this run (train.gradient_steps = 0): the split of Δ uses the recorded signals only.")

    deviations = [
        M.short_budget_deviation(trials),
        "The paper does not give the number of trials behind Fig. 6, which step's Δ the SVM uses, nor the SVM's "
        "scaling, regularisation, class weighting or validation, nor which accuracy it reports. We chose one metric in "
        "advance (balanced accuracy of the class-balanced SVM, folds by trial) and test it at each of steps 1–4; plain "
        f"accuracy is shown beside the majority baseline ({C.method('verdict-rules')}).",
        f"Split of Δ (ours): AdamW's decoupled weight decay multiplies E by (1 − lr·wd) = {1 - float(train['lr']) * float(train['weight_decay']):g} "
        "each step, so its part of Δ_k is exactly ((1 − lr·wd)² − 1)·signal_k(before the step); the backprop part is the rest "
        "(the loss gradient through Adam, and its cross-term with the decay).",
        f"Survival: final signal ≥ τ · max with τ = {SURVIVAL_TAU:g} ({C.method('survival-rule')}, our rule); the τ table under What we saw "
        f"shows τ = {', '.join(f'{t:g}' for t in TAUS)}.",
        *C.paper_setting_deviations(trials),
        *C.common_deviations(trials),
        C.STATISTICS_NOTE,
    ]

    findings = [
        "**The judged metric at each step, and Δ split into its parts.** For each step i, the class-balanced SVM on "
        "(initial signal, feature), cross-validated with folds by trial:",
        variant_md,
        f"The initial signal alone gives a balanced accuracy of {_pct(signal_only['balanced'])} (95% CI "
        f"{_pct(signal_only['balanced_ci'][0])}–{_pct(signal_only['balanced_ci'][1])}).",
        "**Δ at steps 1–4 against survival.**",
        step_md,
        "**Every SVM at step 4** (plain and class-balanced, stratified folds and folds by trial):",
        svm_md,
        f"Initial signal against survival: Spearman ρ = {C.fmt(rho_signal['rho'])} ({C.fmt_p(rho_signal['p'])}); initial "
        f"signal against Δ₄: ρ = {C.fmt(rho_signal_delta['rho'])} ({C.fmt_p(rho_signal_delta['p'])}) (the weight-decay part "
        "of Δ is proportional to the signal, so the two features are not independent).",
        "**Survival threshold τ.**",
        tau_md,
        M.settling_text(settling),
        *C.health_findings(all_trials, convergence_matters=False),
    ]

    figures = [figure_distribution(data, out_dir), figure_rates(data, out_dir), figure_plane(data, svm, out_dir)]

    return Section(
        our_number=our,
        verdict=V.headline(claims),
        what_we_ran=ran,
        deviations=deviations,
        findings=findings,
        figures=figures,
        summary={"svm": svm, "majority_baseline": baseline, "per_step": per_step, "samples": n, "trials": data["trials"],
                 "survivors": int(alive.sum()), "spearman_signal_survival": rho_signal, "settling": settling,
                 "signal_only": signal_only, "claims": {c.name: c.verdict for c in claims},
                 "valid": len(trials), "excluded_trials": len(all_trials) - len(trials)},
        short_number=short,
        claims=claims,
        excluded=C.exclusion_lines(len(all_trials), excluded),
    )
