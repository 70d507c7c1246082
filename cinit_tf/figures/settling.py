"""The settling check by longer runs, drawn: survivors at the main case's step count against the end of the longer
run, for each trial."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.measures import survival
from cinit_tf.readout import survivors
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure


def figure_settling(s: dict, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.6))
    for t in s["_long"]:
        steps = np.asarray(t.result.steps)
        norms = np.asarray(t.result.fourier_norms, dtype=np.float64)
        masks = survivors(norms, survival.TAU)
        final = masks[-1]
        label = f"seeds {t.settings['seeds']['embedding']}/{t.settings['seeds']['mlp']}"
        axes[0].plot(np.maximum(steps, 1), masks.sum(axis=1), lw=1.2, label=label)
        axes[1].plot(
            np.maximum(steps, 1), np.mean(masks == final[None, :], axis=1), lw=1.2, label=label
        )
    for ax in axes:
        ax.axvline(
            s["short_steps"],
            color="black",
            ls="--",
            lw=1,
            label=f"main case: {s['short_steps']} steps",
        )
        ax.set_xscale("log")
        ax.set_xlabel("training step (log; step 0 drawn at 1)")
        ax.legend(loc="best")
    axes[0].set_ylabel(f"survivors at that step (τ = {formatting.fmt(survival.TAU)})")
    axes[0].set_title("Survivor count over a longer run")
    axes[1].set_ylabel("share of frequencies labelled as at the end")
    axes[1].set_ylim(0, 1.05)
    axes[1].set_title("Agreement with the final survivor set")
    return plotting.finish(
        fig,
        out_dir,
        "settling.png",
        "Our check, not in the paper: for the longer runs, the number of survivors (left) and the share of "
        "frequencies whose survive/die label already equals the final one (right), at every recorded step; "
        "the dashed line is the main case's step count.",
    )
