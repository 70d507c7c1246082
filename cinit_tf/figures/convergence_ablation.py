"""Fig. 6d of the convergence-ablation study (§4.4): each arm's steps to 100% test accuracy, and each seed's pair.

Figures only: each takes the arms `convergence_ablation.measure` computed ({case: steps, stats, never, ...}) and
draws them. The case names live here, below the study, because both the figures and the study use them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure

# The arms, named as the experiment names its cases.
ORIGINAL, ABLATED, RANDOM = "original", "ablated", "random"
LABELS = {
    ORIGINAL: "original embedding",
    ABLATED: "kept: signal > mean + 1 std",
    RANDOM: "kept: as many, random",
}
COLOURS = {ORIGINAL: "tab:blue", ABLATED: "tab:orange", RANDOM: "tab:green"}


def figure_bars(arms: dict, budget: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(arms), 3.9))
    for x, name in enumerate(arms):
        a, s = arms[name], arms[name]["stats"]
        values = [v for v in a["steps"] if np.isfinite(v)]
        jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(len(values))
        ax.scatter(x + jitter, sorted(values), s=8, color=COLOURS[name], alpha=0.4, lw=0)
        if s["n"]:
            lo, hi = s["ci95"]
            lo = max(
                lo, 0.0
            )  # a step count is never negative: the interval is cut at 0 (said in the caption)
            ax.bar(
                x,
                s["mean"],
                width=0.55,
                color=COLOURS[name],
                alpha=0.35,
                label=f"{name}: mean {formatting.fmt(s['mean'])}, 95% CI [{formatting.fmt(lo)}, {formatting.fmt(hi)}], n = {s['n']}",
            )
            ax.errorbar(
                x,
                s["mean"],
                yerr=[[s["mean"] - lo], [hi - s["mean"]]],
                color="black",
                capsize=6,
                lw=1.5,
            )
        never = a["never"]
        if never:
            ax.scatter(
                [x],
                [budget],
                marker="x",
                color="red",
                s=30,
                label=f"{name}: {never} never converged (drawn at the budget, {budget})",
            )
    ax.set_xticks(range(len(arms)), [LABELS[name] for name in arms], fontsize=8)
    ax.set_ylabel("steps to 100% test accuracy")
    ax.set_ylim(bottom=0)
    ax.set_title("Convergence before and after the ablation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8)
    control = (
        " and with as many frequencies kept, drawn at random (green, our control)"
        if RANDOM in arms
        else ""
    )
    return plotting.finish(
        fig,
        out_dir,
        "convergence_steps.png",
        "Steps to reach 100% test accuracy with the embedding as drawn (blue), with only the frequencies "
        f"whose initial signal exceeds mean + 1 std kept (orange){control}: bar = mean over the trials that "
        "converged, black bar = 95% Student-t confidence interval (cut at 0 steps), dots = seeds. Mirrors Fig. 6d.",
    )


def _pairs_panel(ax, x_steps, y_steps, budget: int, x_label: str) -> None:
    x = np.where(np.isfinite(x_steps), x_steps, budget)
    y = np.where(np.isfinite(y_steps), y_steps, budget)
    censored = ~(np.isfinite(x_steps) & np.isfinite(y_steps))
    ax.scatter(
        x[~censored], y[~censored], s=14, color="tab:purple", alpha=0.7, label="both converged"
    )
    if censored.any():
        ax.scatter(
            x[censored],
            y[censored],
            s=22,
            marker="x",
            color="red",
            label=f"one or both never converged (at the budget, {budget})",
        )
    top = max(float(np.max(x)) if x.size else 1.0, float(np.max(y)) if y.size else 1.0, 1.0) * 1.05
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="equal steps")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"{x_label}: steps to 100% test accuracy")
    ax.set_ylabel("ablated embedding: steps to 100% test accuracy")
    ax.legend(loc="upper left", fontsize=8)


def figure_pairs(arms: dict, budget: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    others = [(ORIGINAL, "original embedding")] + (
        [(RANDOM, "as many random frequencies")] if RANDOM in arms else []
    )
    fig, axes = plotting.panel_grid(plt, len(others), 2, 4.2, 4.0)
    for ax, (case, label) in zip(axes, others):
        _pairs_panel(
            ax,
            *(np.array(arms[c]["steps"], dtype=float) for c in (case, ABLATED)),
            budget,
            label,
        )
        ax.set_title(f"Each seed: ablated against {case}", fontsize=10)
    control = (
        " Right: the same seeds' ablated step against the step with as many frequencies kept at random "
        "(our control); below the line the survivors converged sooner."
        if RANDOM in arms
        else ""
    )
    return plotting.finish(
        fig,
        out_dir,
        "convergence_pairs.png",
        "Left: each seed's convergence step without (x) and with (y) the ablation; below the dashed line the "
        f"ablated embedding converged sooner. Our paired view of Fig. 6d, which shows only the means.{control}",
    )
