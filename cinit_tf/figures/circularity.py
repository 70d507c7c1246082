"""Fig. 13a and 13b of the circularity study (App. E): the curve against d with its nulls, and survival.

Figures only: each takes the numbers `circularity.measure` computed and draws them; method:
docs/method.md#circularity-app-e-eq-2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.figures import sweeps as sweep_figures
from cinit_tf.measures import circularity_nulls, survival
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure

NULL_STYLE = {"marker": "x", "ls": "--"}  # how the selection null is drawn beside the measured band


def figure_13a(s: dict, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    ds, p = s["ds"], s["p"]
    fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.0))
    for ax, key, what in ((axes[0], "mean", "mean over k"), (axes[1], "max", "max over k")):
        for prefix, colour, label, style in (
            ("", "tab:blue", "measured c_k", {}),
            ("control_", "tab:orange", "u_k from an independent draw", {"marker": "s"}),
            ("null_", "black", "selection null (simulated N(0, 1) matrices)", NULL_STYLE),
        ):
            values = [s["per_d"][d][prefix + key] for d in ds]
            sweep_figures.draw_band(ax, ds, values, colour, f"{label}, {what}", **style)
        if key == "mean":
            xs = np.geomspace(ds[0], ds[-1], 100)
            ax.plot(
                xs,
                circularity_nulls.heuristic_null(p, xs),
                color="grey",
                lw=1,
                ls=":",
                label="d / (d + p)",
            )
            ax.axhline(
                circularity_nulls.chance_level(p),
                color="tab:orange",
                lw=0.8,
                ls=":",
                label=f"chance 2/(p − 1) = {formatting.fmt(circularity_nulls.chance_level(p))}",
            )
        sweep_figures.log2_ticks(ax, ds)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("embedding dimension d (log scale)")
        ax.set_ylabel(f"circularity c_k, {what}")
        ax.set_title(f"Fig. 13a: {what} (p = {p})")
        ax.legend(loc="upper left", fontsize=8)
    ax = axes[2]
    sweep_figures.draw_band(
        ax, ds, [s["per_d"][d]["pca"] for d in ds], "tab:green", "PCA circularity (top 4 PCs)"
    )
    sweep_figures.log2_ticks(ax, ds)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("embedding dimension d (log scale)")
    ax.set_ylabel("PCA circularity (Zhong et al.)")
    ax.set_title("PCA variant of the same draws")
    ax.legend(loc="upper left", fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "circularity_vs_d.png",
        "Mirrors Fig. 13a: circularity c_k (eq. 2, u_k fitted to the same embedding) of random initial embeddings, "
        "mean (left) and max (middle) over k, against d; beside it the selection null simulated on independent "
        "N(0, 1) matrices, its heuristic d/(d + p), and the control with u_k from an independent draw (chance level "
        "2/(p − 1)); the null of the max is the max over k on the same simulated matrices. Right: the PCA variant (top 4 principal components, each at its best frequency). Line = median "
        "over draws, band = 5th–95th percentile.",
    )


def figure_13b(runs: list, a_circ: tuple, a_sig: tuple, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.8))
    surv = np.concatenate([r["survived"] for r in runs])
    for ax, key, label, a in (
        (axes[0], "circularity", "initial circularity c_k", a_circ),
        (axes[1], "signal", "initial signal ‖F_k‖²", a_sig),
    ):
        x = np.concatenate([r[key] for r in runs])
        bins = np.linspace(np.nanmin(x), np.nanmax(x), 25)
        for group, colour, word in ((~surv, "tab:blue", "died"), (surv, "tab:orange", "survived")):
            count = f"{word} (n = {int(group.sum())})"
            ax.hist(x[group], bins=bins, density=True, alpha=0.55, color=colour, label=count)
        ax.set_xlabel(label)
        ax.set_ylabel("density")
        ax.set_title(
            f"AUC = {formatting.fmt(a[0])} [{formatting.fmt(a[1])}, {formatting.fmt(a[2])}]"
        )
        ax.legend(loc="best", fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "circularity_vs_survival.png",
        f"Mirrors Fig. 13b: initial c_k (left) of the frequencies that survive training (τ = {formatting.fmt(survival.TAU)}) and "
        "of those that die, pooled over the valid trained runs; right, the initial signal ‖F_k‖² of the same "
        "frequencies. Titles give the AUC for survival with its 95% bootstrap CI over runs. Fig. 13b's caption says "
        '"by their gradients" while the text says circularity; we show circularity.',
    )
