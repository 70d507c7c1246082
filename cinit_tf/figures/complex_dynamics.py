"""Fig. 14 of the complex-dynamics study (App. F): the example run beside a contrast run, and survival by initial
rank.

Figures only: each takes the run classes `complex_dynamics.measure` computed (`classify` plus the trial, its seed
and survivor count) and draws them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.measures import survival
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure


def _run_panel(ax, c: dict, title: str, highlight: bool):
    t = c["trial"]
    steps, norms = plotting.log_norms(t)
    mask = survival.survivor_mask(t, survival.TAU)
    ranks = c["ranks"]
    marked = {}
    if highlight:
        dead = min(c["dead_high"], key=lambda k: ranks[k - 1])
        live = max(c["live_low"], key=lambda k: ranks[k - 1])
        marked = {
            dead: ("tab:red", f"k = {dead}: initial rank {ranks[dead - 1]}, dies"),
            live: ("tab:green", f"k = {live}: initial rank {ranks[live - 1]}, survives"),
        }
    for k in range(1, norms.shape[1] + 1):
        if k in marked:
            continue
        alive = bool(mask[k - 1])
        ax.plot(
            steps,
            norms[:, k - 1],
            color="tab:blue" if alive else "grey",
            lw=1.0 if alive else 0.6,
            alpha=0.9 if alive else 0.45,
        )
    for k, (colour, label) in marked.items():
        ax.plot(steps, norms[:, k - 1], color=colour, lw=2.0, ls=":", label=label)
    ax.plot([], [], color="tab:blue", lw=1.0, label="other survivors" if marked else "survivors")
    ax.plot(
        [],
        [],
        color="grey",
        lw=0.6,
        label="other dead frequencies" if marked else "dead frequencies",
    )
    plotting.norm_axes(ax, title)


def figure_example(
    typical: dict | None, example: dict, high_top: int, out_dir: Path, n_plain: int = 0, n: int = 0
) -> Figure:
    plt = plotting.setup_matplotlib()
    panels = ([typical] if typical else []) + [example]
    fig, axes = plt.subplots(1, len(panels), figsize=(7.4 * len(panels), 3.9), squeeze=False)
    i = 0
    if typical:
        _run_panel(
            axes[0][0],
            typical,
            f"(a) seed {typical['seed']} (contrast, {n_plain} of {n} runs): top {high_top} at init all survive",
            False,
        )
        i = 1
    _run_panel(
        axes[0][i],
        example,
        f"({'b' if typical else 'a'}) seed {example['seed']} (most extreme case): high dies, low survives",
        True,
    )
    return plotting.finish(
        fig,
        out_dir,
        "complex_dynamics_example.png",
        "Mirrors Fig. 14: ‖F_k‖² over training, log scale. "
        + (
            f"(a) for contrast, a run in which the top {high_top} frequencies at initialisation all survive and none below "
            f"the median does — such runs are {n_plain} of {n}, not the typical case — of those, the one whose survivor "
            "count is nearest their median; "
            if typical
            else ""
        )
        + f"({'b' if typical else 'a'}) the most extreme case, chosen by rule: of the runs in which a frequency ranked "
        f"among the top {high_top} at initialisation dies (dotted red) while one starting below the median survives "
        "(dotted green), the one whose dying frequency had the best initial rank.",
    )


def figure_ranks(classes: list[dict], K: int, high_top: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(6.2, 3.4))
    ranks = np.arange(1, K + 1)
    colours = [
        "tab:red" if r <= high_top else ("tab:green" if r > (K + 1) / 2 else "tab:blue")
        for r in ranks
    ]
    from matplotlib.patches import Patch

    ax.bar(
        ranks,
        survival.survival_by_initial_rank([c["trial"] for c in classes], survival.TAU),
        color=colours,
    )
    handles = [
        Patch(color="tab:red", label=f"high (rank ≤ {high_top})"),
        Patch(color="tab:blue", label="middle"),
        Patch(color="tab:green", label="low (below the median)"),
    ]
    plotting.rank_axes(
        ax,
        f"Survival by initial rank over {len(classes)} runs (τ = {formatting.fmt(survival.TAU)})",
        handles=handles,
    )
    return plotting.finish(
        fig,
        out_dir,
        "survival_by_initial_rank.png",
        "Our summary, not in the paper: how often the frequency of each initial rank survived. Red bars below 1 "
        "are runs in which a high frequency died; green bars above 0 are runs in which a low one survived.",
    )
