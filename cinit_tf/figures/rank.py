"""What the rank studies (§3.1 remainder, §3.2 XOR) draw alike: the histogram of the top-% of a learned candidate's
initial signal with the paper's band, and one trial's histogram of every candidate's initial signal with the learned
and control marks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure


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


def learned_against_control(
    ax,
    rows: list[dict],
    paper_mean: float,
    paper_std: float,
    bins,
    learned: str = "learned",
    control: str = "random (control)",
) -> None:
    """`top_percent_histogram` of the rows' learned top-% (red) against their control's (blue)."""
    top_percent_histogram(
        ax,
        [
            (learned, [r["top_percent"] for r in rows], "C3"),
            (control, [r["control_top_percent"] for r in rows], "C0"),
        ],
        paper_mean,
        paper_std,
        bins,
    )


def against_top_percent(ax, xlabel: str, ylabel: str) -> None:
    """The axes of a scatter of a per-trial number (x) against the learned candidate's top-% (y)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(-2, 100)
    ax.legend()


@dataclass(frozen=True)
class SignalMarks:
    """What one trial's panel of a signal histogram marks: the learned candidate's and the control's initial signal."""

    learned: float
    control: float
    learned_label: str
    control_label: str
    title: str


def signal_histograms(
    trials,
    draw_candidates: Callable[..., SignalMarks],
    axis_labels: tuple[str, str],
    out_dir: Path,
    filename: str,
    caption: str,
) -> Figure:
    """One panel per trial: `draw_candidates(ax, trial)` draws the histogram of every candidate's initial signal
    and returns its marks, the learned candidate (red) and the random control (blue, dashed)."""
    plt = plotting.setup_matplotlib()
    fig, axes = plotting.panel_grid(plt, len(trials), 2, 5, 3.4)
    for ax, t in zip(axes, trials):
        marks = draw_candidates(ax, t)
        ax.axvline(marks.learned, color="C3", lw=2, label=marks.learned_label)
        ax.axvline(marks.control, color="C0", lw=1.5, ls="--", label=marks.control_label)
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
        ax.set_title(marks.title)
        plotting.count_axis(ax, 1.45)
        ax.legend(loc="upper left")
    return plotting.finish(fig, out_dir, filename, caption)
