"""Figures of token clusters (§3.1, Fig. 1a): embeddings coloured by cluster with their centres, and how much of a
line the centres form.

A cluster is the tokens of one remainder a mod m; its centre is their mean (signals.cluster_centres).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.figures import rank as rank_figures
from cinit_tf.readout import principal_components
from cinit_tf.signals import cluster_centres
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure


def figure_embeddings(trials, rows: dict, m: int, out_dir: Path) -> Figure:
    """Initial and final embedding of each trial on its own first two principal components, coloured by a mod m.

    `rows` maps a trial id to its numbers: "seed", the learned order "q", its PC-1 "line_share" and "top_percent".
    """
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(len(trials), 2, figsize=(8, 3.6 * len(trials)), squeeze=False)
    colours = plt.get_cmap("tab10" if m <= 10 else "tab20")
    for row, t in zip(axes, trials):
        r = rows[t.id]
        residue = np.arange(t.result.initial_embedding.shape[0]) % m
        for ax, E, when in (
            (row[0], t.result.initial_embedding, "initial"),
            (row[1], t.result.final_embedding, "final"),
        ):
            X = principal_components(E, 2)
            for i in range(m):
                ax.scatter(
                    X[residue == i, 0],
                    X[residue == i, 1],
                    s=10,
                    color=colours(i % colours.N),
                    label=f"{i}",
                )
            centres = _pca_centres(E, m)
            for i, (x, y) in enumerate(centres):
                ax.scatter(
                    [x],
                    [y],
                    s=60,
                    marker="X",
                    color=colours(i % colours.N),
                    edgecolors="black",
                    linewidths=0.6,
                    zorder=3,
                )
                plotting.label_point(
                    ax, str(i), (x, y), weight="bold", color=colours(i % colours.N), zorder=4
                )
            ax.set_xlabel("PC 1 of this embedding")
            ax.set_ylabel("PC 2")
            title = f"seed {r['seed']}: {when} embedding"
            if when == "final":
                title += f"\nq = {''.join(map(str, r['q']))}, PC-1 share of centres {formatting.fmt(r['line_share'], 2)}"
            else:
                title += f"\nlearned q ranks top {formatting.fmt(r['top_percent'], 2)}% here"
            ax.set_title(title)
        row[1].legend(title="a mod m", loc="center left", bbox_to_anchor=(1.01, 0.5), ncol=1)
    return plotting.finish(
        fig,
        out_dir,
        "fig1a_embeddings.png",
        f"Mirrors Fig. 1a. Initial (left) and final (right) embeddings of {len(trials)} seeds, each projected on its own first "
        "two principal components and coloured by remainder; crosses (numbered by remainder where the number fits clear of "
        "other text) are the cluster centres Ē_i. "
        "Seeds chosen to be typical: the generalised ones whose learned top-% lies nearest the median.",
    )


def _pca_centres(E, m: int) -> np.ndarray:
    """The centres in the coordinates of the embedding's own first two principal components."""
    E = np.asarray(E, dtype=float)
    mean = E.mean(axis=0)
    _, _, Vt = np.linalg.svd(E - mean, full_matrices=False)
    return (cluster_centres(E, m) - mean) @ Vt[:2].T


def figure_line_share(
    rows: list[dict], other_rows: list[dict], line_like: float, out_dir: Path
) -> Figure:
    """The final centres' variance share on PC 1 (and PC 1 + PC 2) per trial, `line_like` marked; the share against top-%.

    Each row holds "line_share", "plane_share", "generalised", "top_percent" and "head"; `other_rows` (another output
    head) are outlined beside `rows`.
    """
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    share = np.array([r["line_share"] for r in rows])
    plane = np.array([r["plane_share"] for r in rows])
    bins = np.linspace(0, 1, 41)
    for values, colour, alpha, components in (
        (share, "C2", 0.8, "PC 1"),
        (plane, "C4", 0.6, "PC 1 + PC 2"),
    ):
        axes[0].hist(
            values,
            bins=bins,
            color=colour,
            alpha=alpha,
            label=f"{components} (mean {formatting.fmt(values.mean(), 2)})",
        )
    if other_rows:
        other = np.array([r["line_share"] for r in other_rows])
        axes[0].hist(
            other,
            bins=bins,
            histtype="step",
            lw=2,
            color="k",
            label=f'PC 1, head "{other_rows[0]["head"]}" (n = {len(other)}, mean {formatting.fmt(other.mean(), 2)})',
        )
    axes[0].axvline(line_like, color="k", ls=":", lw=1, label=f"line threshold {line_like:g}")
    from matplotlib.ticker import MaxNLocator

    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_xlabel("share of the final centres' variance (1 on PC 1 = a line)")
    axes[0].set_ylabel("trials")
    axes[0].set_xlim(0, 1)
    axes[0].set_ylim(
        0, axes[0].get_ylim()[1] * 1.6
    )  # headroom: the legend sits above the bars, not on them
    axes[0].legend(loc="upper left", fontsize=8)
    gen = np.array([r["generalised"] for r in rows])
    tp = np.array([r["top_percent"] for r in rows])
    axes[1].scatter(share[gen], tp[gen], s=18, color="C2", label="generalised")
    if (~gen).any():  # no empty legend entry for a class with no trials
        axes[1].scatter(
            share[~gen], tp[~gen], s=22, marker="x", color="C1", label="never 100% test acc."
        )
    axes[1].set_xlim(0, 1)
    rank_figures.against_top_percent(
        axes[1], "share of the final centres' variance on PC 1", "top-% of learned q (initial)"
    )
    return plotting.finish(
        fig,
        out_dir,
        "line_share.png",
        "How much of a line the final clusters form (Fig. 1a shows a line): the share of the final centres' variance "
        "on their first principal component, and on the first two together, per trial of the main head (left; the "
        "other head's PC-1 share as a black outline when it was run); the first against the learned order's top-% (right).",
    )
