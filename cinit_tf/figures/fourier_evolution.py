"""Fig. 3a, 3b, 4 of the fourier_evolution study (§4.1): the Fourier norms of typical runs over training, the
example run's snapshots projected on the plane of a dead and of a surviving frequency, its final embedding's
principal components against its top Fourier circles, and the survival rate by initial rank.

Figures only, on the valid runs and the snapshots `fourier_evolution.measure` keeps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import circles as circle_figures
from cinit_tf.figures import plotting
from cinit_tf.measures import circles as circle_geometry
from cinit_tf.measures import survival
from cinit_tf.readout import principal_components
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure

MAX_PAIRS = 5  # Fig. 4 shows 10 principal components, 5 pairs
EXAMPLE_PANELS = 6  # Fig. 3a's panels: the example run and the next typical ones


def figure_evolution(runs: list, out_dir: Path) -> Figure:
    import matplotlib

    plt = plotting.setup_matplotlib()
    shown = runs[:EXAMPLE_PANELS]
    fig, axes = plotting.panel_grid(plt, len(shown), 2, 7.0, 3.4)
    cmap = matplotlib.colormaps["tab10"]
    for ax, t in zip(axes, shown):
        steps, norms = plotting.log_norms(t)
        mask = survival.survivor_mask(t, survival.TAU)
        ranks = survival.initial_ranks(survival.initial_signal(t))
        for k in np.flatnonzero(~mask):
            ax.plot(steps, norms[:, k], color="grey", lw=0.6, alpha=0.5)
        for j, k in enumerate(np.flatnonzero(mask)):
            ax.plot(
                steps,
                norms[:, k],
                color=cmap(j % 10),
                lw=1.6,
                label=f"k = {k + 1} (initial rank {ranks[k]})",
            )
        ax.plot([], [], color="grey", lw=0.6, label="dead frequencies")
        plotting.norm_axes(ax, f"seed {t.seeds[0]}: {int(mask.sum())} survivors")
    return plotting.finish(
        fig,
        out_dir,
        "fourier_norms_over_training.png",
        f"Mirrors Fig. 3a: ‖F_k‖² of every frequency over training, log scale, for {len(shown)} typical runs (survivor "
        f"count nearest the median; the first is the example run of the next figures). Survivors at the end (τ = "
        f"{formatting.fmt(survival.TAU)}) in colour, with their rank by initial signal (1 = highest); dead frequencies grey.",
    )


def figure_snapshots(
    snapshots: list[tuple[int, np.ndarray]], dead: int, alive: int, p: int, out_dir: Path
) -> Figure:
    plt = plotting.setup_matplotlib()
    n = len(snapshots)
    fig, axes = plt.subplots(2, n, figsize=(2.4 * n, 5.6), squeeze=False)
    for row, (k, name) in enumerate(((dead, "dead"), (alive, "surviving"))):
        planes = [circle_geometry.fourier_plane(E, k) for _, E in snapshots]
        lim = 1.1 * max(float(np.abs(xy).max()) for xy in planes) or 1.0
        for col, ((step, _), xy) in enumerate(zip(snapshots, planes)):
            ax = axes[row][col]
            delta = circle_figures.draw_circle(ax, xy, k, p, lim)
            ax.set_title(f"{name} k = {k}, step {step}", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"Im F_k direction (Δ = {delta})")
            ax.set_xlabel("Re F_k direction", fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "fourier_projections.png",
        "Mirrors Fig. 3b: snapshots of the example run's centred embedding (kept during its training) projected on the plane of Re F_k and Im F_k "
        "(that step's own F_k), for the dead frequency with the highest initial signal (top) and the surviving "
        "frequency with the highest final signal (bottom). Axes are shared along a row, so shrinking is visible. "
        "Tokens are joined in their order around the circle (t, t + Δ, t + 2Δ, … with Δ = k⁻¹ mod p), "
        "coloured by that position; the first three are labelled (a label that would cover other text is moved or left out).",
    )


def figure_pca(trial, p: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    final = survival.final_signal(trial)
    n_surv = int(survival.survivor_mask(trial, survival.TAU).sum())
    pairs = int(np.clip(n_surv, 2, MAX_PAIRS))
    pcs = principal_components(trial.result.final_embedding, 2 * pairs)
    pairs = min(pairs, pcs.shape[1] // 2)
    top = (np.argsort(-final, kind="stable") + 1)[:pairs]
    fig, axes = plt.subplots(2, pairs, figsize=(2.6 * pairs, 5.4), squeeze=False)
    for i in range(pairs):
        ax = axes[0][i]
        xy = pcs[:, 2 * i : 2 * i + 2]
        k = circle_geometry.dominant_frequency(xy)
        delta = circle_figures.draw_circle(ax, xy, k, p)
        ax.set_title(f"PC{2 * i + 1}–PC{2 * i + 2}: nearest k = {k}, Δ = {delta}", fontsize=8)
        ax.set_xlabel(f"PC{2 * i + 1}", fontsize=8)
        ax.set_ylabel(f"PC{2 * i + 2}", fontsize=8)
        ax = axes[1][i]
        k = int(top[i])
        delta = circle_figures.draw_circle(
            ax, circle_geometry.fourier_plane(trial.result.final_embedding, k), k, p
        )
        ax.set_title(f"Fourier k = {k} (#{i + 1} by final ‖F_k‖²), Δ = {delta}", fontsize=8)
        ax.set_xlabel("Re F_k direction", fontsize=8)
        ax.set_ylabel("Im F_k direction", fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "pca_vs_fourier.png",
        f"Mirrors Fig. 4, for seed {trial.seeds[0]}: top, the final embedding on its first "
        f"{2 * pairs} principal components in pairs; bottom, on the planes of its top {pairs} frequencies by final "
        "‖F_k‖², descending. Tokens are joined in order around the circle, t → t + Δ; for a PC pair, k is the "
        "frequency carrying most of its power and Δ = k⁻¹ mod p.",
    )


def figure_ranks(runs: list, K: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    ax.bar(
        np.arange(1, K + 1),
        survival.survival_by_initial_rank(runs, survival.TAU),
        color="tab:orange",
        label="survived",
    )
    plotting.rank_axes(
        ax, f"Which initial ranks survive ({len(runs)} runs, τ = {formatting.fmt(survival.TAU)})"
    )
    return plotting.finish(
        fig,
        out_dir,
        "survivor_initial_ranks.png",
        'Our summary of Fig. 3a\'s "survivors start high" over all runs: for each rank of initial signal, the '
        "share of runs in which the frequency of that rank survived.",
    )
