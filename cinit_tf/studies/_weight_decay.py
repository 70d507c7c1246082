"""AdamW's decoupled weight decay in a recorded change of the Fourier signals: its exact part over one step,
the rest (the update made from the backpropagated gradient), and the share of the two.

AdamW multiplies the embedding E, hence every Fourier component F_k, by (1 − lr·wd) before the Adam update, so
over one step signal_k = ‖F_k‖² changes by exactly ((1 − lr·wd)² − 1)·signal_k from weight decay. Pure
functions on arrays.
"""

from __future__ import annotations

import numpy as np


def decay_factor(lr: float, wd: float) -> float:
    """((1 − lr·wd)² − 1): the exact one-step change of signal_k from AdamW's decoupled decay, per unit signal."""
    return (1.0 - lr * wd) ** 2 - 1.0


def step_parts(steps, norms, lr: float, wd: float, after: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    w, b = np.abs(np.asarray(wd_part, dtype=np.float64)), np.abs(np.asarray(bp_part, dtype=np.float64))
    if columns is not None:
        w, b = w[:, columns], b[:, columns]
    total = w.sum() + b.sum()
    return float(w.sum() / total) if w.size and total > 0 else float("nan")
