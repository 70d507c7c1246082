"""AdamW's decoupled weight decay in a recorded change of the Fourier signals: its exact part over one step,
the rest (the update made from the backpropagated gradient), and the share of the two; and the two forces
behind them, the decay force wd·‖F_k(E)‖ against the backpropagated gradient ‖F_k(∂L/∂E)‖.

AdamW multiplies the embedding E, hence every Fourier component F_k, by (1 − lr·wd) before the Adam update, so
over one step signal_k = ‖F_k‖² changes by exactly ((1 − lr·wd)² − 1)·signal_k from weight decay. Adam divides
the gradient by its running RMS, so its update has a size of about lr whatever the gradient's size: where a
signal holds its level the update cancels the decay, and the share of weight decay in the change tends to 1/2
by construction. The forces are compared before that rescaling. Pure functions on arrays.
"""

from __future__ import annotations

import numpy as np


def decay_factor(lr: float, wd: float) -> float:
    """((1 − lr·wd)² − 1): the exact one-step change of signal_k from AdamW's decoupled decay, per unit signal."""
    return (1.0 - lr * wd) ** 2 - 1.0


def step_parts(
    steps, norms, lr: float, wd: float, after: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(from-steps, weight-decay part, backprop part) of each recorded one-step change of signal_k from a step >= `after`.

    Only consecutive records (step i to i + 1) enter; parts have shape (changes, K).
    """
    steps = np.asarray(steps, dtype=np.int64)
    F = np.asarray(norms, dtype=np.float64)
    keep = (np.diff(steps) == 1) & (steps[:-1] >= after)
    change = (F[1:] - F[:-1])[keep]
    wd_part = decay_factor(lr, wd) * F[:-1][keep]
    return steps[:-1][keep], wd_part, change - wd_part


def decay_share(wd_part, bp_part, columns=None) -> float:
    """S = Σ|weight-decay part| / (Σ|weight-decay part| + Σ|backprop part|) over the given frequency columns; nan if empty."""
    w, b = (
        np.abs(np.asarray(wd_part, dtype=np.float64)),
        np.abs(np.asarray(bp_part, dtype=np.float64)),
    )
    if columns is not None:
        w, b = w[:, columns], b[:, columns]
    total = w.sum() + b.sum()
    return float(w.sum() / total) if w.size and total > 0 else float("nan")


# ---------------------------------------------------------------- the two forces on the embedding


def forces(fourier_norms, gradient_norms, wd: float) -> tuple[np.ndarray, np.ndarray]:
    """(decay force wd·‖F_k(E)‖, backpropagated gradient ‖F_k(∂L/∂E)‖) per record and frequency.

    Both inputs are the recorded *squared* norms ‖F_k‖² of the engine's one transform (`fourier_norms_tf`:
    unnormalised rfft over the tokens, summed over the embedding dimensions), so square roots give the norms
    on one scale. wd·E is the gradient of the decay term (wd/2)·‖E‖², the force AdamW's decoupled decay
    applies (the step lr·wd·E); ∂L/∂E is the force the loss applies before Adam rescales it.
    """
    F = np.asarray(fourier_norms, dtype=np.float64)
    G = np.asarray(gradient_norms, dtype=np.float64)
    return wd * np.sqrt(np.maximum(F, 0.0)), np.sqrt(np.maximum(G, 0.0))


def log_force_ratio(decay, gradient, columns=None) -> np.ndarray:
    """Per record, log10(Σ_k decay force / Σ_k gradient) over the given frequency columns (each side summed over
    k before the ratio): above 0 where the decay force is the larger. +inf for a zero gradient, nan with no columns."""
    d, g = np.asarray(decay, dtype=np.float64), np.asarray(gradient, dtype=np.float64)
    if columns is not None:
        d, g = d[:, columns], g[:, columns]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(d.sum(axis=1)) - np.log10(g.sum(axis=1))


def median_log(values) -> float:
    """The median of the values that are not nan (±inf kept: a zero gradient is a decay force infinitely larger); nan if none."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(np.median(v)) if v.size else float("nan")
