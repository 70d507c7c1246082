"""Figures of the min-signal section (§5, Fig. 8 and App. C, Fig. 10): the min, mean and max of the completeness
signals of random initial embeddings against d, per task, and their concentration as 1/√d.

Each case is one task's draws (studies.min_signal_vs_dim.measure_task): its "label", "p", grid "ds", "per_d"
({d: [draw_stats]}, each draw's "norm_*", "exp_*" and "spread"), "candidates" and the spread's log-log "slope".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.figures import sweeps as sweep_figures
from cinit_tf.measures import sweeps
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure

COLOURS = {"min": "tab:blue", "mean": "tab:green", "max": "tab:red"}


def _mark_p(ax, c) -> None:
    if c["p"] in c["ds"]:
        ax.axvline(c["p"], color="grey", ls=":", lw=1)
        ax.annotate(
            f"d = p = {c['p']}",
            (c["p"], 0.97),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color="grey",
            xytext=(3, 0),
            textcoords="offset points",
            va="top",
        )


def _y_axis(ax, values) -> None:
    """Log scale when the values span more than a factor of 10, plain numbers on the ticks either way."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator

    v = np.asarray([x for x in values if np.isfinite(x) and x > 0])
    if v.size and v.max() / v.min() > 10:
        ax.set_yscale("log")
        if (
            v.max() / v.min() < 100
        ):  # under two decades a tick per decade leaves one or two numbers: label 2 and 5 too
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(
            FormatStrFormatter("")
        )  # minor ticks unlabelled: labels would overprint


def figure_fig8(cases: list, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 3.4), squeeze=False)
    for ax, c in zip(axes[0], cases):
        sweep_figures.draw_band(
            ax,
            c["ds"],
            [[s["norm_min"] for s in c["per_d"][d]] for d in c["ds"]],
            COLOURS["min"],
            "min over candidates (median of draws)",
        )
        sweep_figures.log2_ticks(ax, c["ds"])
        _y_axis(ax, [s["norm_min"] for d in c["ds"] for s in c["per_d"][d]])
        _mark_p(ax, c)
        ax.set_xlabel("embedding dimension d (log scale)")
        ax.set_ylabel("min of signal / mean signal")
        ax.set_title(f"{c['label']}: {c['candidates']} candidates", fontsize=9)
        ax.legend(loc="best")
    return plotting.finish(
        fig,
        out_dir,
        "min_signal.png",
        "Mirrors Fig. 8: the smallest normalised signal (signal / mean over all candidates) of each random "
        "initial embedding against d, per task; line = median over the draws, band = 5th–95th percentile of "
        "the draws. The dotted line marks d = p.",
    )


def _band_legend(ax) -> None:
    """A legend whose every entry shows its band with its line: where the bands overlap, each is named by its colour."""
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    bands = [(Patch(color=h.get_color(), alpha=0.3, lw=0), h) for h in handles]
    ax.legend(bands, [f"{label}: median, 5–95% band" for label in labels], loc="best", fontsize=7.5)


def figure_fig10(cases: list, out_dir: Path, view: str) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 3.6), squeeze=False)
    prefix = "norm" if view == "normalised" else "exp"
    for ax, c in zip(axes[0], cases):
        for key, marker in (("max", "^"), ("mean", "o"), ("min", "v")):
            sweep_figures.draw_band(
                ax,
                c["ds"],
                [[s[f"{prefix}_{key}"] for s in c["per_d"][d]] for d in c["ds"]],
                COLOURS[key],
                f"{key} over candidates",
                marker=marker,
            )
        sweep_figures.log2_ticks(ax, c["ds"])
        _y_axis(
            ax, [s[f"{prefix}_{k}"] for d in c["ds"] for s in c["per_d"][d] for k in ("min", "max")]
        )
        ax.axhline(1.0, color="black", lw=0.6, ls="--")
        _mark_p(ax, c)
        ax.set_xlabel("embedding dimension d (log scale)")
        ax.set_ylabel(
            "signal / mean over candidates"
            if view == "normalised"
            else "signal / its N(0, 1) expectation"
        )
        ax.set_title(c["label"], fontsize=9)
        _band_legend(ax)
    if view == "normalised":
        return plotting.finish(
            fig,
            out_dir,
            "min_mean_max_normalised.png",
            "Mirrors Fig. 10: min, mean and max over all candidates of the normalised signal (signal / mean over "
            "candidates) of each random initial embedding against d; line = median over draws, band = 5th–95th "
            "percentile of the draws, each band in its line's colour (the legend pairs them). The mean is exactly 1 here by construction.",
        )
    return plotting.finish(
        fig,
        out_dir,
        "min_mean_max_expectation.png",
        "Our view, not in the paper: the same min, mean and max divided by the expectation of one candidate's "
        "signal under E ~ N(0, 1) (p·d, 2d·bits·4^(bits−1), (2dm/p)·m(m²−1)/6), a normalisation that does not "
        "force the mean to 1; line = median over draws, band = 5th–95th percentile of the draws, each band in its line's colour "
        "(the legend pairs them; where bands overlap their tints mix). The dashed line is 1.",
    )


def figure_concentration(cases: list, out_dir: Path, asymptotic_d: int) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 6.2), squeeze=False)
    for j, c in enumerate(cases):
        ax = axes[0][j]
        sweep_figures.draw_band(
            ax,
            c["ds"],
            [[s["spread"] for s in c["per_d"][d]] for d in c["ds"]],
            "tab:purple",
            "(max − min) / mean (median of draws)",
        )
        s = c["slope"]
        if np.isfinite(s["slope"]):
            big = [d for d in c["ds"] if d >= asymptotic_d]
            med = sweeps.band([v["spread"] for v in c["per_d"][big[0]]])[0]
            ref = [med * math.sqrt(big[0] / d) for d in big]
            ax.plot(big, ref, color="black", ls="--", lw=1, label="∝ 1/√d")
        sweep_figures.log2_ticks(ax, c["ds"])
        ax.set_yscale("log")
        from matplotlib.ticker import FormatStrFormatter, NullFormatter

        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("embedding dimension d (log scale)")
        ax.set_ylabel("relative spread (log)")
        ax.set_title(
            f"{c['label']}: log-log slope {formatting.fmt(s['slope'])} for d ≥ {asymptotic_d}",
            fontsize=9,
        )
        ax.legend(loc="best")
        ax = axes[1][j]
        sweep_figures.draw_band(
            ax,
            c["ds"],
            [[v["spread"] * math.sqrt(d) for v in c["per_d"][d]] for d in c["ds"]],
            "tab:purple",
            "spread × √d (median of draws)",
        )
        sweep_figures.log2_ticks(ax, c["ds"])
        ax.set_ylim(bottom=0)
        ax.set_xlabel("embedding dimension d (log scale)")
        ax.set_ylabel("(max − min) / mean × √d")
        ax.legend(loc="best")
    return plotting.finish(
        fig,
        out_dir,
        "concentration.png",
        "Our check, not in the paper: the relative spread (max − min) / mean of each draw's signals (top, log-log, "
        "with a 1/√d reference from the first d ≥ 8) and the same times √d (bottom). A flat bottom curve means the "
        "spread shrinks as 1/√d, the concentration of a sum of d independent Gaussian coordinates; line = median "
        "over draws, band = 5th–95th percentile.",
    )
