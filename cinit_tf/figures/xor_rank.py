"""Figures of the XOR rank section (§3.2, Fig. 2): the initial and final embeddings with the learned cube's edges,
every arrangement's initial signal g(α) with the learned and control arrangements marked, the learned
arrangement's top-% overall and per final shape, and how much of a cube the final embedding is.

Each row is one trial's numbers (studies.xor_rank.measure_trial): "seed", the learned "arrangement" and the
"control_arrangement", their "top_percent" and "control_top_percent", the final "shape" and its "fit" r.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.figures import rank as rank_figures
from cinit_tf.measures.rank import FINAL_SHAPES
from cinit_tf.readout import CUBE_MIN_FIT, principal_components
from cinit_tf.signals import arrangement_scores, arrangements
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure


def token_label(t: int, bits: int) -> str:
    """Token t as the paper writes it (bit j of t is coordinate j; most significant first)."""
    return format(t, f"0{bits}b")


def shape_name(shape: str) -> str:
    """A final shape as the report writes it: "cross-polytope" for "cross_polytope"."""
    return shape.replace("_", "-")


def _edges(index: int, bits: int) -> list[tuple[int, int]]:
    """The cube's edges under an arrangement: token pairs at squared cube distance 1."""
    _, alphas = arrangements(bits)
    a = alphas[index]
    p = a.shape[0]
    return [(i, j) for i in range(p) for j in range(i + 1, p) if a[i, j] == 1]


def _embedding_panel(ax, E, edges: list, bits: int, colours) -> None:
    """One embedding on its own first three principal components, the learned cube's edges in grey."""
    X = principal_components(E, 3)
    for i, j in edges:
        ax.plot(*X[[i, j]].T, color="0.55", lw=1)
    # tokens told apart by colour (one key below): labels at close points would overlap
    for i in range(2**bits):
        ax.scatter(*X[i], s=30, color=colours(i), label=token_label(i, bits))
    ax.set_xlabel("PC 1", labelpad=-6)
    ax.set_ylabel("PC 2", labelpad=-6)
    ax.set_zlabel("PC 3", labelpad=-6)
    ax.tick_params(labelsize=8, pad=-2)


def figure_embeddings(trials, rows: dict, bits: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig = plt.figure(figsize=(9, 4.2 * len(trials)))
    p = 2**bits
    colours = plt.get_cmap("tab10")
    for k, t in enumerate(trials):
        r = rows[t.id]
        edges = _edges(r["arrangement"], bits)
        for c, (E, when) in enumerate(
            ((t.result.initial_embedding, "initial"), (t.result.final_embedding, "final"))
        ):
            ax = fig.add_subplot(len(trials), 2, 2 * k + c + 1, projection="3d")
            _embedding_panel(ax, E, edges, bits, colours)
            if when == "initial":
                title = (
                    f"seed {r['seed']}: initial embedding\nlearned arrangement ranks top "
                    f"{formatting.fmt(r['top_percent'], 2)}%"
                )
            else:
                title = (
                    f"seed {r['seed']}: final embedding ({shape_name(r['shape'])})\nfit r = "
                    f"{formatting.fmt(r['fit'], 3)}"
                )
            ax.set_title(title, fontsize=9)
    fig.legend(
        *ax.get_legend_handles_labels(), title="token", loc="lower center", ncol=p, frameon=False
    )
    return plotting.finish(
        fig,
        out_dir,
        "fig2a_embeddings.png",
        "Mirrors Fig. 2a. Initial (left) and final (right) embeddings, each projected on its own first three "
        "principal components, tokens coloured as in the key below (binary); grey lines join the tokens that share "
        "an edge of the learned cube arrangement (α = 1), drawn on the initial embedding too. One seed per final "
        "shape present (cube, cross-polytope, other), the one whose learned top-% lies nearest that shape's "
        "median, then the most typical of the rest up to the number of seeds asked for.",
        rect=(0, 0.7 / fig.get_figheight(), 1, 1),
    )


def figure_signal_histograms(trials, rows: dict, bits: int, out_dir: Path) -> Figure:
    def draw_arrangements(ax, t) -> rank_figures.SignalMarks:
        r = rows[t.id]
        g0 = arrangement_scores(t.result.initial_embedding, bits)
        ax.hist(g0, bins=40, color="0.7", label=f"all {len(g0)} arrangements")
        return rank_figures.SignalMarks(
            g0[r["arrangement"]],
            g0[r["control_arrangement"]],
            f"learned (top {formatting.fmt(r['top_percent'], 2)}%)",
            f"random, control (top {formatting.fmt(r['control_top_percent'], 2)}%)",
            f"seed {r['seed']}: final {shape_name(r['shape'])}, fit r = {formatting.fmt(r['fit'], 3)}",
        )

    return rank_figures.signal_histograms(
        trials,
        draw_arrangements,
        ("initial signal g(α)", "arrangements"),
        out_dir,
        "fig2b_signal_histograms.png",
        f"Mirrors Fig. 2b. Histogram of the initial signal g(α) of all 168 arrangements for {len(trials)} seeds "
        "(each of the 28 distinct α counts 6 times), with the learned arrangement (red) and the random control "
        "(blue, dashed) marked. Seeds chosen to be typical: those whose learned top-% lies nearest the median "
        "over all trials.",
    )


def figure_top_percent(
    rows: list[dict], paper_mean: float, paper_std: float, out_dir: Path
) -> Figure:
    plt = plotting.setup_matplotlib()
    present = [s for s in FINAL_SHAPES if any(r["shape"] == s for r in rows)]
    fig, axes = plotting.panel_grid(plt, 1 + len(present), 2, 5.5, 3.8)
    bins = np.linspace(0, 100, 21)
    rank_figures.learned_against_control(axes[0], rows, paper_mean, paper_std, bins)
    axes[0].set_title(f"All trials (n = {len(rows)})")
    for ax, shape in zip(axes[1:], present):
        sub = [r for r in rows if r["shape"] == shape]
        rank_figures.learned_against_control(ax, sub, paper_mean, paper_std, bins)
        ax.set_title(f"Final shape: {shape_name(shape)} (n = {len(sub)})")
    return plotting.finish(
        fig,
        out_dir,
        "top_percent.png",
        "Distribution of the top-% of the learned arrangement's initial signal among all 168 (0 = highest), "
        "against a random arrangement per trial, overall and per final shape; the grey band is the paper's "
        "mean ± std (§3.2, Fig. 2b's summary statistic).",
    )


def figure_fit(rows: list[dict], out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    colours = {"cube": "C2", "cross_polytope": "C1", "other": "C7"}
    low = min(0.7, math.floor(20 * min(r["fit"] for r in rows)) / 20)
    bins = np.linspace(low, 1.0, int(round((1.0 - low) / 0.01)) + 1)
    for shape in FINAL_SHAPES:
        sub = [r for r in rows if r["shape"] == shape]
        if sub:
            axes[0].hist(
                [r["fit"] for r in sub],
                bins=bins,
                color=colours[shape],
                alpha=0.8,
                label=f"{shape_name(shape)} (n = {len(sub)})",
            )
            axes[1].scatter(
                [r["fit"] for r in sub],
                [r["top_percent"] for r in sub],
                s=18,
                color=colours[shape],
                label=shape_name(shape),
            )
    axes[0].axvline(
        CUBE_MIN_FIT, color="k", ls="--", lw=1, label=f"cube threshold r = {CUBE_MIN_FIT:g}"
    )
    axes[0].set_xlabel("fit r of the best arrangement to the final squared distances")
    axes[0].set_ylabel("trials")
    from matplotlib.ticker import MaxNLocator

    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend()
    rank_figures.against_top_percent(
        axes[1], "fit r of the best arrangement", "top-% of the learned arrangement (initial)"
    )
    return plotting.finish(
        fig,
        out_dir,
        "final_shape.png",
        "How much of a cube the final embedding is (Fig. 2a shows cubes): the Pearson r between the best "
        "arrangement's α and the final squared distances, coloured by final shape (left), and against the learned "
        "arrangement's top-% (right).",
    )
