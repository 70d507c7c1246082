"""Figures of the remainder rank section (§3.1, Fig. 1b): every order's initial signal f(q) with the learned and
control orders marked, and the distribution of the learned order's top-%. The embeddings (Fig. 1a) and how much of
a line the centres form are in `figures.clusters`.

Each row is one trial's numbers (studies.remainder_rank.measure_trial): "seed", the learned order "q" and the
control order "control_q", their "top_percent" and "control_top_percent", "generalised" and the alternative
read-off's "f_final_top_percent".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.figures import rank as rank_figures
from cinit_tf.readout import permutation_index
from cinit_tf.signals import permutation_scores
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure


def figure_signal_histograms(trials, rows: dict, m: int, out_dir: Path) -> Figure:
    def draw_orders(ax, t) -> rank_figures.SignalMarks:
        r = rows[t.id]
        f0 = permutation_scores(t.result.initial_embedding, m)
        counts, edges = np.histogram(f0, bins=120)
        ax.stairs(counts, edges, fill=True, color="0.7", label=f"all {len(f0):,} orders q")
        return rank_figures.SignalMarks(
            f0[permutation_index(r["q"], m)],
            f0[permutation_index(r["control_q"], m)],
            f"learned q (top {formatting.fmt(r['top_percent'], 2)}%)",
            f"random q, control (top {formatting.fmt(r['control_top_percent'], 2)}%)",
            f"seed {r['seed']}" + ("" if r["generalised"] else " (never reached 100% test acc.)"),
        )

    return rank_figures.signal_histograms(
        trials,
        draw_orders,
        ("initial signal f(q)", "orders q"),
        out_dir,
        "fig1b_signal_histograms.png",
        f"Mirrors Fig. 1b. Histogram of the initial signal f(q) of all {math.factorial(m):,} orders for "
        f"{len(trials)} seeds, with the learned order (red) and the random control order (blue, dashed) marked. "
        "Seeds chosen to be typical: those whose learned top-% lies nearest the median.",
    )


def figure_top_percent(
    rows: list[dict], paper_mean: float, paper_std: float, out_dir: Path
) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    bins = np.linspace(0, 100, 21)
    rank_figures.learned_against_control(
        axes[0], rows, paper_mean, paper_std, bins, "learned q", "random q (control)"
    )
    axes[0].set_title("All trials: learned order against the control")
    rank_figures.top_percent_histogram(
        axes[1],
        [
            ("generalised", [r["top_percent"] for r in rows if r["generalised"]], "C2"),
            (
                "never 100% test acc.",
                [r["top_percent"] for r in rows if not r["generalised"]],
                "C1",
            ),
            ("argmax of final f (alt. read-off)", [r["f_final_top_percent"] for r in rows], "C4"),
        ],
        paper_mean,
        paper_std,
        bins,
    )
    axes[1].set_title("Learned order by outcome, and the alternative read-off")
    return plotting.finish(
        fig,
        out_dir,
        "top_percent.png",
        "Distribution of the top-% of the learned order's initial signal (0 = the highest of all orders); the grey "
        "band is the paper's mean ± std (§3.1, Fig. 1b's summary statistic). Left: learned against a random "
        "order per trial. Right: trials that generalised and those that did not, and the order maximising f on "
        "the final embedding.",
    )
