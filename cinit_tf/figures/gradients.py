"""Fig. 6a–c of the gradient_signal study (§4.3): Δ at step 4 by survival, survival rate against Δ at steps 1–4,
and the (initial signal, Δ₄) plane with the SVMs' boundaries.

Figures only, on the pooled samples `gradient_signal.samples` builds; method: docs/method.md#gradient-signal-43.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.readout import SURVIVAL_TAU
from cinit_tf.writeup.section import Figure

STEPS = (1, 2, 3, 4)
HEADLINE_STEP = 4
N_BINS = 8  # quantile bins of Δ for the survival-rate curves (Fig. 6b)


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


def figure_distribution(data, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    d4 = data["delta"][STEPS.index(HEADLINE_STEP)]
    alive = data["survived"][SURVIVAL_TAU]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    bins = np.histogram_bin_edges(d4, bins=40)
    for mask, colour, name in ((~alive, "tab:blue", "dead"), (alive, "tab:orange", "survived")):
        if mask.any():  # an empty class has no density to draw
            ax.hist(
                d4[mask],
                bins=bins,
                density=True,
                alpha=0.55,
                color=colour,
                label=f"{name} (n = {int(mask.sum())})",
            )
    ax.set_xlabel(f"Δ at step {HEADLINE_STEP} (signal after − before the step)")
    ax.set_ylabel("density")
    ax.set_title(f"Gradient signal at step {HEADLINE_STEP}, by survival")
    ax.legend(loc="best")
    return plotting.finish(
        fig,
        out_dir,
        "delta_step4_distribution.png",
        f"Distribution of Δ at step {HEADLINE_STEP} over all (trial, frequency) samples, survivors (orange) and "
        f"dead frequencies (blue), each normalised to unit area; survival at τ = {SURVIVAL_TAU:g}. Mirrors Fig. 6a.",
    )


def figure_rates(data, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    alive = data["survived"][SURVIVAL_TAU]
    fig, axes = plt.subplots(1, 2, figsize=(10.8, 3.8), sharey=True)
    for ax, key, name in (
        (axes[0], "delta", "Δ (signal after − before the step)"),
        (axes[1], "backprop", "backprop part of Δ (Δ minus its weight-decay part)"),
    ):
        for j, step in enumerate(STEPS):
            b = binned_rate(data[key][j], alive)
            ax.plot(b["centre"], b["rate"], marker="o", ms=3.5, label=f"step {step}")
        ax.axhline(
            float(alive.mean()) if alive.size else 0.0,
            color="grey",
            ls=":",
            lw=1,
            label="overall survival rate",
        )
        ax.set_xlabel(f"{name}, mean of each bin")
        ax.set_title(
            f"Survival rate against the {'full Δ' if key == 'delta' else 'backprop part'} ({N_BINS} quantile bins)"
        )
    axes[0].set_ylabel("survival rate")
    top = max(
        0.5,
        1.15
        * max(
            (
                max(binned_rate(data[k][j], alive)["rate"] or [0])
                for k in ("delta", "backprop")
                for j in range(len(STEPS))
            ),
            default=0.5,
        ),
    )
    axes[0].set_ylim(0, min(1.02, top))
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return plotting.finish(
        fig,
        out_dir,
        "survival_rate_vs_delta.png",
        f"Survival rate of frequencies against their gradient signal at steps 1–4: samples split into {N_BINS} "
        "equal-count bins per step, each point a bin at its mean. Left: the full Δ, as the paper's Fig. 6b; right: "
        "its backprop part, after removing the weight-decay part ((1 − lr·wd)² − 1)·signal, which is larger for "
        "the high-signal frequencies that tend to survive.",
    )


def figure_plane(data, svm: dict, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    s0 = data["signal"]
    d4 = data["delta"][STEPS.index(HEADLINE_STEP)]
    alive = data["survived"][SURVIVAL_TAU]
    fig, ax = plt.subplots(figsize=(5.4, 4.2))
    ax.scatter(
        s0[~alive],
        d4[~alive],
        s=6,
        color="tab:blue",
        alpha=0.4,
        lw=0,
        label=f"dead (n = {int((~alive).sum())})",
    )
    ax.scatter(
        s0[alive],
        d4[alive],
        s=9,
        color="tab:orange",
        alpha=0.85,
        lw=0,
        label=f"survived (n = {int(alive.sum())})",
    )
    # The decision lines of the fits on all samples, back in the original units.
    for key, colour, text in (
        ("plain", "black", "linear SVM"),
        ("balanced", "tab:red", "class-balanced linear SVM"),
    ):
        fit = svm["signal + Δ₄"][key]
        if len(fit["coef"]) == 2 and fit["coef"][1] != 0 and s0.size > 1:
            mu = np.array([s0.mean(), d4.mean()])
            sd = np.array([s0.std(), d4.std()])
            xs = np.linspace(s0.min(), s0.max(), 50)
            w, b = fit["coef"], fit["intercept"]
            ys = mu[1] - sd[1] * (w[0] * (xs - mu[0]) / sd[0] + b) / w[1]
            inside = (ys >= d4.min()) & (ys <= d4.max())
            if inside.any():
                ax.plot(
                    xs[inside], ys[inside], color=colour, lw=1.2, ls="--", label=f"{text} boundary"
                )
    ax.set_xlabel("initial signal ‖F_k‖² (step 0)")
    ax.set_ylabel(f"Δ at step {HEADLINE_STEP}")
    ax.set_title("Survived and dead frequencies by initial signal and gradient")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return plotting.finish(
        fig,
        out_dir,
        "signal_delta_plane.png",
        f"Each (trial, frequency) sample at its initial signal and Δ at step {HEADLINE_STEP}, survivors orange, "
        "dead blue; dashed: the decision boundaries of the plain and the class-balanced linear SVM fitted on "
        "all samples. Mirrors Fig. 6c.",
    )
