"""Fig. 16 of the fourier_gradients study (App. H): the backpropagated embedding gradient in the Fourier basis
for the example seed, its survivors' and dead frequencies' means over seeds, and what moves the signals step by
step (weight decay against the update).

Figures only, on the valid trials `fourier_gradients.measure` keeps; the steps they mark (`after_step`, the
peak window, the zoom) come from the section's `[analysis]`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import curves as curve_figures
from cinit_tf.figures import plotting
from cinit_tf.measures import survival
from cinit_tf.measures import weight_decay as decay_parts
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure

GRADIENT_LABEL = "‖FFT(∂L/∂E)_k‖²"


def _gradient_norms(trial) -> tuple[np.ndarray, np.ndarray]:
    """(steps, ‖FFT(∂L/∂E)_k‖² per record and frequency) of a trial."""
    steps = np.asarray(trial.result.steps, dtype=np.int64)
    return steps, np.asarray(trial.result.gradient_norms, dtype=np.float64)


def figure_example(trial, seed: int, after_step: int, zoom_from: int, out_dir: Path) -> Figure:
    """Fig. 16 for one seed: every frequency's gradient over training (left) and steps zoom_from..after_step."""
    plt = plotting.setup_matplotlib()
    steps, Gk = _gradient_norms(trial)
    mask = survival.survivor_mask(trial)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.0))
    curve_figures.frequency_curves(left, steps, Gk, mask)
    left.set_xlabel("training step")
    left.set_ylabel(GRADIENT_LABEL)
    left.set_title(f"Fig. 16 (left): seed {seed}, every frequency")
    left.axvline(after_step, color="black", ls=":", lw=1)
    left.legend(loc="upper right", fontsize=7)
    curve_figures.frequency_curves(right, steps, Gk, mask, zoom_from, after_step)
    right.set_xlabel("training step")
    right.set_ylabel(GRADIENT_LABEL)
    right.set_title(f"Fig. 16 (right): steps {zoom_from}–{after_step}")
    right.legend(loc="upper right", fontsize=7)
    return plotting.finish(
        fig,
        out_dir,
        "fourier_gradients_example.png",
        f"Mirrors Fig. 16: the backpropagated embedding gradient in the Fourier basis, ‖FFT(∂L/∂E)_k‖² for every "
        f"frequency k over training (linear axes, as the paper's), for seed {seed}: the seed whose "
        "peak step is nearest the median peak step over seeds (the lower seed on ties). Frequencies that "
        f"survive at the end (τ = {formatting.fmt(survival.TAU)}) in colour, dead ones grey; right, steps {zoom_from} to "
        f"{after_step} on their own scale. The dotted line marks step {after_step}.",
    )


def _log_axes(ax, after_step: int, ylabel: str, title: str) -> None:
    """Step `after_step` marked, both axes log, labels and the legend: the frame of the two figures over seeds."""
    ax.axvline(after_step, color="black", ls=":", lw=1, label=f"step {after_step}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step (log; step 0 drawn at 1)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=7)


def figure_median(
    trials: list, peak_lo: int, peak_hi: int, after_step: int, out_dir: Path
) -> Figure:
    """Over seeds: the mean gradient of a run's survivors and of its dead frequencies, median and IQR."""
    plt = plotting.setup_matplotlib()
    steps = np.asarray(trials[0].result.steps, dtype=np.int64)
    same = [t for t in trials if np.array_equal(np.asarray(t.result.steps), steps)]
    surv, dead = [], []
    for t in same:
        Gk = _gradient_norms(t)[1]
        mask = survival.survivor_mask(t)
        surv.append(Gk[:, mask].mean(axis=1) if mask.any() else np.full(steps.size, np.nan))
        dead.append(Gk[:, ~mask].mean(axis=1) if (~mask).any() else np.full(steps.size, np.nan))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    x = plotting.log_steps(steps)
    curve_figures.band(
        ax, x, surv, "tab:orange", f"survivors' mean (median and IQR over {len(same)} seeds)"
    )
    curve_figures.band(ax, x, dead, "tab:grey", "dead frequencies' mean (median and IQR)")
    ax.axvspan(
        max(peak_lo, 1),
        peak_hi,
        color="tab:green",
        alpha=0.08,
        lw=0,
        label=f'"near step 100": {peak_lo}–{peak_hi}',
    )
    _log_axes(
        ax,
        after_step,
        f"mean {GRADIENT_LABEL} (log)",
        "Fig. 16 over seeds: survivors against dead frequencies",
    )
    return plotting.finish(
        fig,
        out_dir,
        "fourier_gradients_median.png",
        "Our summary of Fig. 16 over seeds: per step, the mean of ‖FFT(∂L/∂E)_k‖² over a run's surviving "
        "frequencies (orange) and over its dead ones (grey); lines are the median over seeds, bands the "
        "interquartile range (quantiles, so a band never goes below zero on the log axis).",
    )


def figure_decay(trials: list, after_step: int, out_dir: Path) -> Figure:
    """Per step, Σ_k |change of signal_k| from weight decay, from the update, and from a plain gradient step."""
    plt = plotting.setup_matplotlib()
    rows = {"weight decay": [], "backprop (Adam update)": [], "plain gradient step": []}
    ref = None
    for t in trials:
        r = t.result
        train = t.settings["train"]
        lr, wd = float(train["lr"]), float(train["weight_decay"])
        at, wd_part, bp_part = decay_parts.step_parts(r.steps, r.fourier_norms, lr, wd, 0)
        if ref is None:
            ref = at
        if not np.array_equal(at, ref):
            continue
        F = np.asarray(r.fourier_norms, dtype=np.float64)
        steps, all_Gk = _gradient_norms(t)
        idx = np.searchsorted(steps, at)
        Gk = all_Gk[idx]
        rows["weight decay"].append(np.abs(wd_part).sum(axis=1))
        rows["backprop (Adam update)"].append(np.abs(bp_part).sum(axis=1))
        # First order, a plain gradient step lr·G_k changes signal_k by at most 2·lr·‖F_k‖·‖G_k‖.
        rows["plain gradient step"].append((2 * lr * np.sqrt(F[idx] * Gk)).sum(axis=1))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    x = plotting.log_steps(ref)
    for (label, curves), colour in zip(rows.items(), ("tab:blue", "tab:red", "tab:purple")):
        curve_figures.band(ax, x, curves, colour, f"{label} (median, IQR over {len(curves)} seeds)")
    _log_axes(
        ax,
        after_step,
        "Σ_k |change of signal_k| in one step (log)",
        "What moves the signals: weight decay against the update",
    )
    return plotting.finish(
        fig,
        out_dir,
        "weight_decay_vs_backprop.png",
        "App. H's last sentence in the per-step change of the signals (shown, not judged: the claim compares "
        "the forces): per step, Σ_k of the weight-decay part ((1 − lr·wd)² − 1)·signal_k "
        "of the change of signal_k (blue) and of the rest of the recorded change, the Adam update made from the "
        "backpropagated gradient (red), in absolute value; purple, the first-order change a plain gradient step "
        "lr·∂L/∂E would make, 2·lr·‖F_k‖·‖FFT(∂L/∂E)_k‖, for scale. Median and IQR over seeds.",
    )
