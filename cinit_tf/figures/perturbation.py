"""Fig. 5b of the perturbation study (§4.2): survival of one scaled frequency against its initial deviation z, one
line per embedding, and where each perturbed frequency ended.

Figures only, on the lines, z bins and per-trial rows `perturbation.measure` builds; method:
docs/method.md#survival-rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.readout import SURVIVAL_TAU
from cinit_tf.writeup.section import Figure


def figure_lines(line_data, bins, far: float, out_dir: Path) -> Figure:
    """One line per embedding (its rate at each scale factor against z), the pooled z bins, and z = ±`far`, the
    deviation the section's claims call far above or below the mean."""
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    colours = plt.get_cmap("tab10")
    for i, ln in enumerate(line_data):
        pts = sorted(ln["points"], key=lambda p: p["z"])
        ax.plot(
            [p["z"] for p in pts],
            [p["rate"] for p in pts],
            marker="o",
            ms=3.5,
            lw=1.2,
            color=colours(i % 10),
            label=f"embedding seed {ln['embedding_seed']}, k = {ln['k']} ({pts[0]['n'] if pts else 0} trials per point)",
        )
    zs = [p["z"] for ln in line_data for p in ln["points"]]
    drawn = False
    for b in bins:
        if not b["n"]:
            continue
        # The open outer bins are drawn out to the furthest point of the data.
        lo = b["lo"] if np.isfinite(b["lo"]) else min(zs)
        hi = b["hi"] if np.isfinite(b["hi"]) else max(zs)
        ax.hlines(
            b["rate"],
            lo,
            hi,
            color="black",
            lw=2.2,
            alpha=0.45,
            label=None if drawn else "all trials pooled, by bin of z",
        )
        drawn = True
    ax.axvline(-far, color="grey", ls=":", lw=1)
    ax.axvline(far, color="grey", ls=":", lw=1)
    ax.axvline(0, color="grey", ls="-", lw=0.6)
    ax.set_ylim(-0.03, 1.08)
    ax.set_xlabel("deviation of the perturbed frequency: (signal_k − mean others) / std others")
    ax.set_ylabel(f"survival rate of k (τ = {SURVIVAL_TAU:g})")
    ax.set_title("Survival of one scaled frequency against its initial deviation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "survival_vs_deviation.png",
        "Survival rate of the perturbed frequency against its deviation from the mean of the other initial "
        "signals, in units of their standard deviation, one line per embedding (each point one scale factor s, "
        f"its rate over that embedding's MLP and split seeds); grey bars: all trials pooled in bins of z; dotted: "
        f"z = ±{far:g}. Mirrors Fig. 5b.",
    )


def figure_final_share(rows, out_dir: Path) -> Figure:
    """Each trial's final share of the largest signal against its initial z, dead and surviving apart."""
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    z = np.array([r["z"] for r in rows], dtype=float)
    share = np.array([r["final_share"] for r in rows], dtype=float)
    alive = np.array([r["survived"][SURVIVAL_TAU] for r in rows], dtype=bool)
    floor = 1e-8
    for survived, colour, alpha, label in (
        (False, "tab:blue", 0.6, "k dead"),
        (True, "tab:orange", 0.8, "k survived"),
    ):
        which = alive == survived
        shown = np.maximum(share[which], floor)
        ax.scatter(z[which], shown, s=10, color=colour, alpha=alpha, label=label)
    ax.axhline(SURVIVAL_TAU, color="black", ls="--", lw=1, label=f"τ = {SURVIVAL_TAU:g}")
    ax.set(
        yscale="log",
        xlabel="initial deviation z of the perturbed frequency",
        ylabel="final signal_k / max final signal",
        title="Where each perturbed frequency ended",
    )
    ax.legend(loc="lower right")
    return plotting.finish(
        fig,
        out_dir,
        "final_share_vs_deviation.png",
        f"Each trial: the perturbed frequency's final signal as a share of the largest final signal (floored at "
        f"{floor:g} for drawing) against its initial deviation z; above the dashed line it survives. Our view "
        "behind Fig. 5b, which shows rates only.",
    )
