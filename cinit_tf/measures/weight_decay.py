"""AdamW's decoupled weight decay in a recorded change of the Fourier signals: its exact part over one step,
the rest (the update made from the backpropagated gradient), and the share of the two; and the two forces
behind them, the decay force wd·‖F_k(E)‖ against the backpropagated gradient ‖F_k(∂L/∂E)‖.

AdamW multiplies the embedding E, hence every Fourier component F_k, by (1 − lr·wd) before the Adam update, so
over one step signal_k = ‖F_k‖² changes by exactly ((1 − lr·wd)² − 1)·signal_k from weight decay. Adam divides
the gradient by its running RMS, so its update has a size of about lr whatever the gradient's size: where a
signal holds its level the update cancels the decay, and the share of weight decay in the change tends to 1/2
by construction. The forces are compared before that rescaling.

Also here, for the two sections that read the gradient against weight decay: a run's numbers from a step on
(`after_step_numbers`) and its backpropagated gradient in windows of steps, survivors against dead frequencies
(`gradient_window_means`), for fourier_gradients; Δ_k at the first steps pooled over (trial, frequency) with
its two parts (`delta_samples`), for gradient_signal. Pure: arrays or stored trials in, numbers out.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.measures.survival import TAUS
from cinit_tf.readout import survivors
from cinit_tf.signals import gradient_signal


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

    Both inputs are the recorded *squared* norms ‖F_k‖² of the engine's one transform (`cinit_tf.losses.fourier_norms_tf`:
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


def after_step_numbers(
    steps, fourier_norms, gradient_norms, lr: float, wd: float, after: int, survivors
) -> dict:
    """A run's weight decay from step `after` on, over all frequencies, the survivors (the mask `survivors` over k)
    and the dead ones: the share S of weight decay in the recorded one-step changes ("decay_share", ...), over
    "changes_after" changes, and the median over "records_after" records of log10(Σ_k decay force / Σ_k gradient)
    ("force", ...). A side without frequencies gives nan."""
    steps = np.asarray(steps, dtype=np.int64)
    _, wd_part, bp_part = step_parts(steps, fourier_norms, lr, wd, after)
    late = steps >= after
    decay, grad = forces(
        np.asarray(fourier_norms)[late], np.asarray(gradient_norms, dtype=np.float64)[late], wd
    )

    def share(columns) -> float:
        return decay_share(wd_part, bp_part, columns) if columns.any() else float("nan")

    def force(columns=None) -> float:
        if columns is not None and not columns.any():
            return float("nan")
        return median_log(log_force_ratio(decay, grad, columns))

    return {
        "decay_share": decay_share(wd_part, bp_part),
        "decay_share_survivors": share(survivors),
        "decay_share_dead": share(~survivors),
        "changes_after": int(wd_part.shape[0]),
        "force": force(),
        "force_survivors": force(survivors),
        "force_dead": force(~survivors),
        "records_after": int(late.sum()),
    }


def gradient_window_means(steps, gradient_norms, survivors, windows: dict) -> dict:
    """The backpropagated gradient ‖F_k(∂L/∂E)‖² of a run's survivors (the mask `survivors` over k) against its
    dead frequencies in windows of steps: {window: {"survivors": mean, "dead": mean}}, each the mean over the
    records in the window and the frequencies of that side, for each window of `windows` ({name: (first step,
    last step)}); nan where a window or a side is empty."""
    steps = np.asarray(steps, dtype=np.int64)
    G = np.asarray(gradient_norms, dtype=np.float64)
    out = {}
    for name, (lo, hi) in windows.items():
        w = (steps >= lo) & (steps <= hi)
        if not w.any() or not survivors.any() or survivors.all():
            out[name] = {"survivors": float("nan"), "dead": float("nan")}
        else:
            out[name] = {
                "survivors": float(G[w][:, survivors].mean()),
                "dead": float(G[w][:, ~survivors].mean()),
            }
    return out


def weight_decay_part(norms, recorded_steps, step: int, train: dict) -> np.ndarray:
    """The weight-decay part of Δ_k at `step` (signal_k after the step − before it) under a trial's `train`
    settings: AdamW's decoupled decay multiplies E by (1 − lr·wd) each step, so it alone changes signal_k by
    ((1 − lr·wd)² − 1)·signal_k(before the step); the rest of Δ is backprop's. A frozen embedding has none."""
    row = {int(st): j for j, st in enumerate(recorded_steps)}
    lr, wd = float(train.get("lr", 0.01)), float(train.get("weight_decay", 0.0))
    if train.get("freeze_embedding"):
        wd = 0.0
    return decay_factor(lr, wd) * np.asarray(norms, dtype=float)[row[step - 1]]


def delta_samples(trials, steps) -> dict:
    """Pooled per-(trial, frequency) arrays, trials in id order: the initial signal, Δ_k at each of `steps` with its
    weight-decay and backprop parts, the gradient norms before each step (None unless every trial recorded them),
    survival at each τ of TAUS and the trial index of each sample (`group`)."""
    signal, deltas, decays, grads, surv, group = [], [], [], [], {tau: [] for tau in TAUS}, []
    for i, t in enumerate(sorted(trials, key=lambda t: t.id)):
        r = t.result
        norms = np.asarray(r.fourier_norms, dtype=float)
        signal.append(norms[0])
        deltas.append(gradient_signal(norms, list(steps), recorded_steps=r.steps))
        decays.append(
            np.stack(
                [weight_decay_part(norms, r.steps, step, t.settings["train"]) for step in steps]
            )
        )
        g = getattr(r, "gradient_norms", None)
        if g is not None:
            row = {int(st): j for j, st in enumerate(r.steps)}
            grads.append(np.stack([np.asarray(g, dtype=float)[row[step - 1]] for step in steps]))
        for tau in TAUS:
            surv[tau].append(survivors(norms[-1], tau))
        group.append(np.full(norms.shape[1], i))
    delta = np.concatenate(deltas, axis=1)
    decay = np.concatenate(decays, axis=1)
    return {
        "signal": np.concatenate(signal),
        "delta": delta,  # (len(steps), samples)
        "decay": decay,  # weight-decay part of delta, exactly
        "backprop": delta - decay,  # the rest: what the loss gradient (through Adam) did
        "gradient_norms": np.concatenate(grads, axis=1)
        if len(grads) == len(trials) and grads
        else None,
        "survived": {tau: np.concatenate(v) for tau, v in surv.items()},
        "group": np.concatenate(group),
        "trials": len(trials),
        "K": int(signal[0].size) if signal else 0,
    }
