"""Survivor counts of single runs against a swept setting (d, p, weight decay), valid runs and runs that never
generalised told apart: App. D's Fig. 11 and 12. The runs are measures.count_runs.CountRun.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.figures import sweeps as sweep_figures
from cinit_tf.measures import survival, sweeps
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure

WD_PANELS = (
    (0.0, 0.1, "small"),
    (0.1, 1.0, "middle"),
    (1.0, float("inf"), "large"),
)  # Fig. 12's three panels


def _scatter(ax, runs, key, jitter_scale: float, log2: bool = False):
    """Each run a dot (valid: filled; not generalising: red x), the mean of the valid runs joined by a line."""
    xs = sorted({r.setting(key) for r in runs})
    for r in runs:
        j = (zlib.crc32(r.id.encode()) % 7 - 3) * jitter_scale
        x = r.setting(key) * (2**j if log2 else 1) + (0 if log2 else j)
        c = r.count
        if c is None:
            continue
        if r.valid and not r.final:
            ax.scatter([x], [c], s=22, facecolors="none", edgecolors="tab:blue", lw=1.0, zorder=3)
        elif r.valid:
            ax.scatter([x], [c], s=14, color="tab:blue", alpha=0.6, lw=0, zorder=3)
        else:
            ax.scatter([x], [c], s=22, color="tab:red", marker="x", lw=1.2, zorder=4)
    means = [
        (
            x,
            np.mean([r.count for r in runs if r.setting(key) == x and r.valid and r.final]),
        )
        for x in xs
        if any(r.valid and r.final for r in runs if r.setting(key) == x)
    ]
    if means:
        ax.plot(
            [m[0] for m in means],
            [m[1] for m in means],
            color="tab:blue",
            lw=1.3,
            label="mean of valid runs",
        )
    ax.scatter([], [], s=14, color="tab:blue", alpha=0.6, lw=0, label="valid run")
    if any(r.valid and not r.final for r in runs):
        ax.scatter(
            [],
            [],
            s=22,
            facecolors="none",
            edgecolors="tab:blue",
            lw=1.0,
            label="capped before its survivor set settled (count not final; left out)",
        )
    if any(not r.valid for r in runs):
        ax.scatter(
            [], [], s=22, color="tab:red", marker="x", lw=1.2, label="did not generalise (excluded)"
        )
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"surviving circles (τ = {formatting.fmt(survival.TAU)})")


def figure_11(sw: dict, centre, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.0), squeeze=False)
    ax = axes[0][0]
    if sw["d"]:
        _scatter(ax, sw["d"], "d", 0.03, log2=True)
        sweep_figures.log2_ticks(ax, sorted({r.d for r in sw["d"]}))
    ax.set_xlabel("embedding dimension d (log scale)")
    ax.set_title(
        f"Fig. 11a: p = {centre.centre_p}, wd = {formatting.fmt(centre.centre_weight_decay)}"
    )
    for ax, name, title in (
        (axes[0][1], "prime p", "Fig. 11b: prime p"),
        (axes[0][2], "all p", "Fig. 11c: all p sampled"),
    ):
        runs = sw[name]
        if runs:
            _scatter(ax, runs, "p", 0.4)
            if name == "all p":
                comp = [r for r in runs if not sweeps.is_prime(r.p) and r.count is not None]
                ax.scatter(
                    [r.p for r in comp],
                    [r.count for r in comp],
                    s=40,
                    facecolors="none",
                    edgecolors="black",
                    lw=0.8,
                    zorder=5,
                    label="composite p (ringed)",
                )
        ax.set_xlabel("modulus p")
        ax.set_title(
            f"{title}: d = {centre.centre_d}, wd = {formatting.fmt(centre.centre_weight_decay)}"
        )
    for ax in axes[0]:
        ax.legend(loc="best", fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "circles_vs_d_and_p.png",
        f"Mirrors Fig. 11: surviving circles at the end of training (τ = {formatting.fmt(survival.TAU)}) against d (a), prime p (b) "
        "and every sampled p (c, composite p ringed); each dot one run (spread horizontally a little so that equal "
        "counts stay visible), the line the mean of the valid runs, red crosses runs that never reached 100% test "
        "accuracy (excluded from the claims). K = ⌊(p − 1)/2⌋, the number of frequencies, lies above every count "
        "and is given in the tables.",
    )


def figure_12(runs: list, centre, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(
        2, 3, figsize=(14.0, 6.4), squeeze=False, sharey="row"
    )  # one count axis for the three ranges
    counts = [r.count for r in runs if r.count is not None]
    K = max((r.K for r in runs), default=0)
    show_k = (
        bool(counts) and max(counts) >= K / 2
    )  # K drawn only where it is in view; the tables give K everywhere
    for j, (lo, hi, name) in enumerate(WD_PANELS):
        part = [r for r in runs if lo <= r.wd <= hi]
        top = hi if np.isfinite(hi) else max([r.wd for r in part] + [lo + 1.0])
        width = top - lo
        ax = axes[0][j]
        if part:
            _scatter(ax, part, "wd", 0.006 * width)
            if show_k:
                ax.axhline(K, color="grey", ls=":", lw=1, label=f"K = {K} (all frequencies)")
        ax.set_title(
            f"Fig. 12, {name} weight decays (p = {centre.centre_p}, d = {centre.centre_d})"
        )
        ax.set_xlabel("weight decay")
        if ax.get_legend_handles_labels()[
            0
        ]:  # an empty panel (no runs in this range) has no legend
            ax.legend(loc="best", fontsize=8)
        ax = axes[1][j]
        for r in part:
            ax.scatter(
                [r.wd],
                [r.test_acc],
                s=14,
                color="tab:green" if r.generalised else "tab:red",
                marker="o" if r.generalised else "x",
                zorder=3,
            )
        if any(r.generalised for r in part):
            ax.scatter([], [], s=14, color="tab:green", label="reached 100% test accuracy")
        if any(not r.generalised for r in part):
            ax.scatter([], [], s=14, color="tab:red", marker="x", label="never reached 100%")
        ax.set_ylim(-0.02, 1.05)
        for row in (0, 1):
            axes[row][j].set_xlim(lo - 0.05 * width, top + 0.05 * width)
        ax.set_xlabel("weight decay")
        ax.set_ylabel("final test accuracy")
        if part:
            ax.legend(loc="best", fontsize=8)
    axes[0][0].set_ylim(0, 1.05 * K if show_k else max(counts + [1]) * 1.05)
    return plotting.finish(
        fig,
        out_dir,
        "circles_vs_weight_decay.png",
        f"Mirrors Fig. 12: surviving circles (τ = {formatting.fmt(survival.TAU)}, top) and the final test accuracy of the same runs "
        "(bottom) against the weight decay, in three ranges like the paper's panels (small, middle, large; the "
        "boundary values appear in both neighbouring panels); the panels of a row share their y axis. Red crosses: runs "
        "that never reached 100% test accuracy; hollow "
        "circles: runs that reached the step cap before their survivor set settled, whose count is not final "
        "and is left out of the weight-decay claim and of the mean line.",
    )
