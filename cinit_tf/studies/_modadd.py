"""Modular-addition helpers the §4 studies share: survivors, survival rates, their correlation with the initial signal.

Pure functions on stored trials (`cinit_tf.store.StoredTrial`) or on arrays; no training, no figures.
Frequencies follow `cinit_tf.signals.fourier_norms`: column k-1 of a norms array is frequency k.
Every trial's `result.fourier_norms` holds one row per recorded step (`result.steps`), row 0 being
the initial embedding, so the initial and final signals are its first and last rows.

A stable interface for the study modules: add functions rather than change what one returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from cinit_tf.readout import SURVIVAL_TAU, survivors
from cinit_tf.studies import _common as C

# SPEC §5: the survival rule is ours, so every report shows how the counts move with τ.
TAUS = (0.01, 0.05, 0.2)
TAU = SURVIVAL_TAU
PAPER_CIRCLES = (3, 5)  # "different sets of 3-5 frequencies form the final representation" (§2, §4)


def initial_signal(trial) -> np.ndarray:
    """signal_k of the initial embedding, shape (K,)."""
    return np.asarray(trial.result.fourier_norms[0], dtype=np.float64)


def final_signal(trial) -> np.ndarray:
    """signal_k at the last recorded step, shape (K,)."""
    return np.asarray(trial.result.fourier_norms[-1], dtype=np.float64)


def row_at(trial, step: int) -> int:
    """Index of the last recorded step <= `step` (the record the trial had reached by then)."""
    steps = np.asarray(trial.result.steps)
    i = int(np.searchsorted(steps, step, side="right")) - 1
    if i < 0:
        raise ValueError(f"no record at or before step {step}")
    return i


def survivor_mask(trial, tau: float = TAU, step: int | None = None) -> np.ndarray:
    """Which frequencies survive (SPEC §5), judged at `step` (default: the last recorded step)."""
    norms = trial.result.fourier_norms
    row = norms[-1] if step is None else norms[row_at(trial, step)]
    return survivors(row, tau)


def survivor_counts(trials: Sequence, taus: Iterable[float] = TAUS) -> dict[float, np.ndarray]:
    """{τ: number of survivors of each trial}, trials in the order given."""
    return {float(tau): np.array([int(survivor_mask(t, tau).sum()) for t in trials], dtype=int) for tau in taus}


def count_summary(counts) -> dict:
    """Mean, sample std, range and n of survivor counts, and the share in the paper's 3-5."""
    counts = np.asarray(counts, dtype=int)
    m, s, n = C.mean_std(counts)
    lo, hi = PAPER_CIRCLES
    return {
        "mean": m, "std": s, "n": n,
        "min": int(counts.min()) if n else None, "max": int(counts.max()) if n else None,
        "share_3_to_5": float(np.mean((counts >= lo) & (counts <= hi))) if n else float("nan"),
        "histogram": {int(v): int(c) for v, c in zip(*np.unique(counts, return_counts=True))},
    }


def initial_ranks(signal) -> np.ndarray:
    """Rank of each frequency by its signal, 1 = highest; ties share the better rank."""
    signal = np.asarray(signal, dtype=np.float64)
    return 1 + np.sum(signal[None, :] > signal[:, None], axis=1)


def survival_rates(trials: Sequence, tau: float = TAU) -> dict:
    """Survival rate per (embedding, frequency): the share of an embedding's trials in which k survives (§4.2).

    Trials are grouped by their embedding seed (seeds layout "fixed_embedding": the embedding is
    fixed, MLP and split vary). Returns {"embeddings": seeds (E,), "trials": trials per embedding (E,),
    "signal": initial signal (E, K), "rate": survival rate (E, K)}, embeddings in seed order.
    Raises ValueError when trials sharing an embedding seed start from different embeddings
    (a transform or a task change would make the seed alone not identify the embedding).
    """
    groups = C.group_trials(trials, lambda t: int(t.settings["seeds"]["embedding"]))
    seeds, counts, signals, rates = [], [], [], []
    for seed, ts in groups.items():
        first = np.asarray(ts[0].result.initial_embedding)
        for t in ts[1:]:
            if not np.array_equal(np.asarray(t.result.initial_embedding), first):
                raise ValueError(f"trials of embedding seed {seed} start from different embeddings")
        seeds.append(seed)
        counts.append(len(ts))
        signals.append(initial_signal(ts[0]))
        rates.append(np.mean([survivor_mask(t, tau) for t in ts], axis=0))
    return {"embeddings": np.array(seeds, dtype=int), "trials": np.array(counts, dtype=int),
            "signal": np.array(signals), "rate": np.array(rates)}


def survival_rates_from_masks(masks) -> np.ndarray:
    """Survival rate per frequency from survivor masks of shape (trials, K): the mean over trials."""
    return np.asarray(masks, dtype=np.float64).mean(axis=0)


def pearson_with_p(x, y) -> dict:
    """Pearson r and its two-sided p-value over paired points, flattened: {"r", "p", "n"} (scipy.stats)."""
    return C.pearson(np.ravel(np.asarray(x, dtype=np.float64)), np.ravel(np.asarray(y, dtype=np.float64)))


def fisher_ci95(r: float, n: int) -> tuple[float, float]:
    """95% confidence interval of a Pearson r by Fisher's z transform; nan when n < 4 or |r| = 1."""
    if not (n >= 4 and np.isfinite(r) and abs(r) < 1):
        return (float("nan"), float("nan"))
    z, half = np.arctanh(r), 1.959963984540054 / np.sqrt(n - 3)
    return (float(np.tanh(z - half)), float(np.tanh(z + half)))


def inverse_mod(k: int, p: int) -> int:
    """Δ = k⁻¹ mod p, the token step between neighbours on the circle of frequency k (§4.1, footnote 2)."""
    return pow(int(k), -1, int(p))


def count_table(trials: Sequence, taus: Iterable[float] = TAUS) -> str:
    """A Markdown table of survivor counts per run for each τ (SPEC §5 sensitivity)."""
    rows = []
    for tau, counts in survivor_counts(trials, taus).items():
        s = count_summary(counts)
        rows.append([C.fmt(tau), f"{C.fmt(s['mean'])} ± {C.fmt(s['std'])}", f"{s['min']}–{s['max']}",
                     f"{C.fmt(100 * s['share_3_to_5'])}%", s["n"]])
    return C.md_table(["τ", "survivors per run (mean ± std)", "range", "runs with 3–5", "runs"], rows)
