"""The rank studies' histogram of the top-% of a learned candidate's initial signal, with the paper's band and the
learned and control marks."""

from __future__ import annotations

import numpy as np

from cinit_tf.stats import formatting


def top_percent_histogram(
    ax, groups: list[tuple[str, list, str]], paper_mean: float, paper_std: float, bins
) -> None:
    """Overlaid step histograms of top-% groups with their means, and the paper's mean ± std as a band."""
    ax.axvspan(
        max(paper_mean - paper_std, 0),
        paper_mean + paper_std,
        color="0.85",
        label=f"paper {paper_mean:g} ± {paper_std:g}",
    )
    ax.axvline(paper_mean, color="0.4", lw=1)
    for label, values, colour in groups:
        if not len(values):
            continue
        ax.hist(
            values,
            bins=bins,
            histtype="step",
            lw=1.8,
            color=colour,
            label=f"{label} (n = {len(values)}, mean {formatting.fmt(np.mean(values))})",
        )
        ax.axvline(np.mean(values), color=colour, ls="--", lw=1)
    ax.set_xlabel("top-% of the initial signal among all candidates (0 = highest)")
    ax.set_ylabel("trials")
    ax.set_xlim(0, 100)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, ax.get_ylim()[1] * 1.35)  # headroom: the legend sits above the bars, not on them
    ax.legend(loc="upper right")


def mark_learned_and_control(
    ax, learned: float, control: float, learned_label: str, control_label: str
) -> None:
    """The learned candidate (red) and the random control (blue, dashed) on a histogram of all candidates' signals."""
    ax.axvline(learned, color="C3", lw=2, label=learned_label)
    ax.axvline(control, color="C0", lw=1.5, ls="--", label=control_label)
