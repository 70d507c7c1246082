"""Figures every study draws the same way: deterministic pyplot, metadata-free PNGs, panel grids,
Fourier norms over training.

Identical data give identical bytes, so a regenerated report's figures do not change.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cinit_tf.writeup.section import Figure


def setup_matplotlib():
    """pyplot on the Agg backend with fixed, deterministic settings; returns the pyplot module."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "legend.fontsize": 8.5,
            "xtick.labelsize": 8.5,
            "ytick.labelsize": 8.5,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "svg.hashsalt": "cinit_tf",
            "path.simplify": False,
        }
    )
    return plt


def save_figure(fig, path: str | Path) -> Path:
    """Save a PNG without timestamp/version metadata (so identical data give identical bytes) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return path


POINT_LABEL = "point-label"
# Offsets (points) tried in turn for a point label that would cover another text: right-up first, then round the point.
_LABEL_OFFSETS = ((3, 3), (3, -10), (-10, 3), (-10, -10), (8, 0), (-14, 0), (0, 8), (0, -13))


def label_point(ax, text: str, xy, **kw):
    """A label beside the point `xy`, moved or dropped by `finish` if it would cover another text."""
    kw = {"fontsize": 8, **kw}
    return ax.annotate(
        text, xy, xytext=_LABEL_OFFSETS[0], textcoords="offset points", gid=POINT_LABEL, **kw
    )


def _resolve_point_labels(fig) -> None:
    """Move each point label to the first offset where it covers no text already shown; drop it if none is free."""
    labels = [
        t for t in fig.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == POINT_LABEL)
    ]
    if not labels:
        return
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        ax.apply_aspect()  # an equal-aspect axes takes its final box only now; labels are placed in that box
    placed = [t.get_window_extent(renderer) for t in texts(fig) if t.get_gid() != POINT_LABEL]
    for label in labels:
        for offset in _LABEL_OFFSETS:
            label.set_position(offset)
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(b) for b in placed):
                placed.append(box)
                break
        else:
            label.set_visible(False)


def texts(fig) -> list:
    """The figure's visible, non-empty texts other than tick labels: titles, axis labels, legends, annotations."""
    from matplotlib.text import Text

    ticks = {
        id(t) for ax in fig.axes for axis in _axes_of(ax) for t in axis.get_ticklabels(which="both")
    }
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in ticks
    ]


def _axes_of(ax) -> list:
    return [getattr(ax, f"{n}axis") for n in "xyz" if hasattr(ax, f"{n}axis")]


def finish(fig, out_dir: str | Path, filename: str, caption: str, rect=None) -> Figure:
    """Lay the figure out (within `rect`, when given), place its point labels clear of other text, save it as
    `out_dir/filename` and return it as the report lists it."""
    fig.tight_layout(**({} if rect is None else {"rect": rect}))
    _resolve_point_labels(fig)
    save_figure(fig, Path(out_dir) / filename)
    return Figure(filename, caption)


def companion_curves(ax, trial, twin, colour, seed, floor: float) -> None:
    """A standard-loss run's test loss (dashed, a cross at its first collapsed step) and its exact-loss twin's
    (solid), both floored at `floor`; the twin may be None."""

    def curve(t):
        return np.asarray(t.result.steps), np.maximum(
            np.asarray(t.result.test_loss, dtype=np.float64), floor
        )

    steps, loss = curve(trial)
    ax.plot(steps, loss, color=colour, ls="--", lw=1.1, label=f"seed {seed}: standard float32 loss")
    if twin is not None:
        ax.plot(*curve(twin), color=colour, lw=1.4, label=f"seed {seed}: exact loss")
    step = trial.result.collapse_step  # None when never collapsed or not recorded
    if step is not None:
        i = int(np.searchsorted(steps, step))
        ax.plot([step], [loss[i]], marker="x", color=colour, ms=7, mew=1.6, ls="none")


def panel_grid(plt, n: int, cols: int, width: float, height: float):
    """(fig, axes) for n panels in rows of `cols`, each width × height inches; axes beyond n are hidden."""
    cols = max(1, min(n, cols))
    rows = max(1, math.ceil(n / cols))
    fig, grid = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    axes = list(grid.flat)
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def log_steps(steps) -> np.ndarray:
    """Steps for a log-scaled axis: step 0 drawn at 1."""
    return np.maximum(np.asarray(steps, dtype=float), 1.0)


def log_norms(trial) -> tuple[np.ndarray, np.ndarray]:
    """(steps, Fourier norms) of a trial ready for log-log axes: step 0 at 1, norms floored at 1e-30."""
    return log_steps(trial.result.steps), np.maximum(
        np.asarray(trial.result.fourier_norms, dtype=np.float64), 1e-30
    )


def norm_axes(ax, title: str) -> None:
    """The axes of a Fourier-norms-over-training panel (Fig. 3a, Fig. 14): log-log, labelled."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step (log; step 0 drawn at 1)")
    ax.set_ylabel("Fourier norm ‖F_k‖² (log)")
    ax.set_title(title)
    # Beside the panel: inside it, the legend would cover the curves that fall to the lower left.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)


def rank_axes(ax, title: str, handles=None) -> None:
    """The axes of a survival-by-initial-rank bar chart (our summary of Fig. 3a and Fig. 14); the legend beside the
    bars (it would cover the tall ones), from explicit `handles` when given."""
    ax.set_xlabel("rank of the frequency's initial signal within its run (1 = highest)")
    ax.set_ylabel("share of runs in which it survived")
    ax.set_title(title)
    ax.set_ylim(0, 1.05)
    if handles is not None:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    elif ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def count_axis(ax, headroom: float = 1.4) -> None:
    """A y axis of counts: integer ticks, and room above the tallest bar for a legend that must not cover data."""
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi * headroom)
