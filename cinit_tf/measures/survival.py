"""Modular-addition helpers the §4 and App. F studies share: survivors, survival rates, their correlation
with the initial signal and how binomial noise lowers it, the one settling rule (has survival stopped moving by
the end of training?), and the text every survival section states around its own (`section`).

Pure functions on stored trials (`cinit_tf.store.StoredTrial`) or on arrays; no training, no figures.
Frequencies follow `cinit_tf.signals.fourier_norms`: column k-1 of a norms array is frequency k.
Every trial's `result.fourier_norms` holds one row per recorded step (`result.steps`), row 0 being
the initial embedding, so the initial and final signals are its first and last rows.
Method: docs/method.md#survival-rule.

A stable interface for the study modules: add functions rather than change what one returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from cinit_tf.readout import SURVIVAL_TAU, survivors
from cinit_tf.stats import formatting, inference
from cinit_tf.writeup import common as writeup

# The survival rule is ours (docs/method.md#survival-rule), so every report shows how the counts move with τ.
TAUS = (0.01, 0.05, 0.2)
TAU = SURVIVAL_TAU
PAPER_CIRCLES = (3, 5)  # "different sets of 3-5 frequencies form the final representation" (§2, §4)
PAPER_STEPS = 30000
SETTLING_SHARE = (
    2 / 3
)  # where a study without longer runs checks settling: two thirds into its step budget


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
    """Which frequencies survive (docs/method.md#survival-rule), judged at `step` (default: the last recorded step)."""
    norms = trial.result.fourier_norms
    row = norms[-1] if step is None else norms[row_at(trial, step)]
    return survivors(row, tau)


def survivor_counts(trials: Sequence, taus: Iterable[float] = TAUS) -> dict[float, np.ndarray]:
    """{τ: number of survivors of each trial}, trials in the order given."""
    return {
        float(tau): np.array([int(survivor_mask(t, tau).sum()) for t in trials], dtype=int)
        for tau in taus
    }


def count_summary(counts) -> dict:
    """Mean, sample std, range and n of survivor counts, and the share in the paper's 3-5."""
    counts = np.asarray(counts, dtype=int)
    m, s, n = inference.mean_std(counts)
    lo, hi = PAPER_CIRCLES
    return {
        "mean": m,
        "std": s,
        "n": n,
        "min": int(counts.min()) if n else None,
        "max": int(counts.max()) if n else None,
        "share_3_to_5": float(np.mean((counts >= lo) & (counts <= hi))) if n else float("nan"),
        "histogram": {int(v): int(c) for v, c in zip(*np.unique(counts, return_counts=True))},
    }


def initial_ranks(signal) -> np.ndarray:
    """Rank of each frequency by its signal, 1 = highest; ties share the better rank."""
    signal = np.asarray(signal, dtype=np.float64)
    return 1 + np.sum(signal[None, :] > signal[:, None], axis=1)


def survival_by_initial_rank(trials: Sequence, tau: float = TAU) -> np.ndarray:
    """Share of runs in which the frequency of each initial rank (1 = highest within its run) survived, shape (K,)."""
    trials = list(trials)
    if not trials:
        return np.zeros(0)
    K = initial_signal(trials[0]).size
    ranks = [initial_ranks(initial_signal(t))[survivor_mask(t, tau)] for t in trials]
    return np.bincount(np.concatenate(ranks), minlength=K + 1)[1:] / len(trials)


def survival_rates(trials: Sequence, tau: float = TAU) -> dict:
    """Survival rate per (embedding, frequency): the share of an embedding's trials in which k survives (§4.2).

    Trials are grouped by their embedding seed (seeds layout "fixed_embedding": the embedding is
    fixed, MLP and split vary). Returns {"embeddings": seeds (E,), "trials": trials per embedding (E,),
    "signal": initial signal (E, K), "rate": survival rate (E, K)}, embeddings in seed order.
    Raises ValueError when trials sharing an embedding seed start from different embeddings
    (a transform or a task change would make the seed alone not identify the embedding).
    """
    groups = writeup.group_trials(trials, lambda t: t.seeds[0])
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
    return {
        "embeddings": np.array(seeds, dtype=int),
        "trials": np.array(counts, dtype=int),
        "signal": np.array(signals),
        "rate": np.array(rates),
    }


def rate_correlation(rates: dict) -> dict:
    """The survival rates of `survival_rates` against their initial signal: Pearson (with Fisher CI) and Spearman over
    all (embedding, frequency) points, and Pearson on signals normalised per embedding."""
    signal, rate = rates["signal"], rates["rate"]
    out = inference.pearson(np.ravel(signal), np.ravel(rate))
    out["ci95"] = inference.pearson_ci(out["r"], out["n"])
    out["spearman"] = inference.spearman(np.ravel(signal), np.ravel(rate))
    # App. C's normalisation (signal / mean over the frequencies of its embedding) removes the
    # embedding-to-embedding scale, so this r measures the within-embedding ordering only.
    out["normalised"] = inference.pearson(
        np.ravel(signal / signal.mean(axis=1, keepdims=True)), np.ravel(rate)
    )
    return out


ATTENUATION_KEYS = (
    "reliability",
    "reliability_target",
    "noise",
    "variance",
    "factor_true",
    "factor_target",
)


def attenuation(rates: dict, target_trials: int) -> dict:
    """How much binomial noise lowers the `rate_correlation` r of `survival_rates` (docs/method.md#survival-rule):
    reliabilities and corrected r, at the rates' own trials and at `target_trials` per embedding.

    For point (e, k) with T_e trials and observed rate r̂: noise variance N = mean of r̂(1 − r̂)/(T_e − 1) (unbiased
    for π(1 − π)/T_e); observed variance S² of r̂ over points; reliability ρ_T = (S² − N)/S². At T' trials the noise
    would be N' = mean of r̂(1 − r̂)·T_e/(T_e − 1)/T', so ρ_T' = (S² − N)/(S² − N + N'). Then r with the true rates is
    r/√ρ_T and the r expected at T' trials is r·√(ρ_T'/ρ_T).
    """
    rate = np.asarray(rates["rate"], dtype=np.float64)
    T = np.asarray(rates["trials"], dtype=np.float64)[:, None] * np.ones_like(rate)
    ok = T > 1
    if not ok.any() or rate.size < 3:
        return dict.fromkeys(ATTENUATION_KEYS, float("nan"))
    pq = rate * (1 - rate)
    noise = float(np.mean((pq / np.where(ok, T - 1, np.inf))[ok]))
    pi_var = float(np.mean((pq * T / np.where(ok, T - 1, np.inf))[ok]))  # estimate of mean π(1 − π)
    S2 = float(np.var(rate, ddof=1))
    true = max(S2 - noise, 0.0)
    rel = true / S2 if S2 > 0 else float("nan")
    rel_t = true / (true + pi_var / target_trials) if true + pi_var > 0 else float("nan")
    return {
        "reliability": rel,
        "reliability_target": rel_t,
        "noise": noise,
        "variance": S2,
        "factor_true": 1 / np.sqrt(rel) if rel and rel > 0 else float("nan"),
        "factor_target": float(np.sqrt(rel_t / rel)) if rel and rel > 0 else float("nan"),
    }


def rate_by_initial_rank(rates: dict) -> np.ndarray:
    """Mean `survival_rates` rate of the frequency ranked r at initialisation within its embedding, r = 1..K."""
    signal, rate = rates["signal"], rates["rate"]
    K = signal.shape[1]
    out = np.zeros(K)
    for e in range(signal.shape[0]):
        order = np.argsort(-signal[e], kind="stable")
        out += rate[e][order]
    return out / signal.shape[0]


def inverse_mod(k: int, p: int) -> int:
    """Δ = k⁻¹ mod p, the token step between neighbours on the circle of frequency k (§4.1, footnote 2)."""
    return pow(int(k), -1, int(p))


def count_table(trials: Sequence, taus: Iterable[float] = TAUS) -> str:
    """A Markdown table of survivor counts per run for each τ (the survival rule's sensitivity)."""
    rows = []
    for tau, counts in survivor_counts(trials, taus).items():
        s = count_summary(counts)
        rows.append(
            [
                formatting.fmt(tau),
                f"{formatting.fmt(s['mean'])} ± {formatting.fmt(s['std'])}",
                f"{s['min']}–{s['max']}",
                f"{formatting.fmt(100 * s['share_3_to_5'])}%",
                s["n"],
            ]
        )
    return formatting.md_table(
        ["τ", "survivors per run (mean ± std)", "range", "runs with 3–5", "runs"], rows
    )


# ---------------------------------------------------------------- settling: the one rule every study uses


def settled_at(trial, tau: float = TAU) -> int:
    """The first recorded step from which the trial's survivor set stays equal to its final one."""
    masks = survivors(np.asarray(trial.result.fourier_norms, dtype=np.float64), tau)
    differs = np.flatnonzero(np.any(masks != masks[-1], axis=1))
    return int(trial.result.steps[differs[-1] + 1]) if differs.size else int(trial.result.steps[0])


def settling(trials: Sequence, step: int, tau: float = TAU) -> dict:
    """Survivors at `step` (each trial's last record at or before it) against survivors at the end of training.

    Training is cut short of the paper's 30,000 steps, so every survival report shows how much survival still
    moved late. {"step", "recorded_at": per trial, "runs", "same_set": trials whose survivor set did not change,
    "label_agreement": share of (trial, frequency) labels that did not change, "frequencies_changed": per trial,
    "settled_at": per trial, the first step from which its set is the final one}; trials in the order given.
    """
    recorded, changed, agree, same = [], [], [], 0
    for t in trials:
        at_step, at_end = survivor_mask(t, tau, step=step), survivor_mask(t, tau)
        recorded.append(int(np.asarray(t.result.steps)[row_at(t, step)]))
        changed.append(int(np.sum(at_step != at_end)))
        agree.append(float(np.mean(at_step == at_end)))
        same += bool(np.array_equal(at_step, at_end))
    return {
        "step": int(step),
        "recorded_at": recorded,
        "runs": len(trials),
        "same_set": same,
        "label_agreement": float(np.mean(agree)) if agree else float("nan"),
        "frequencies_changed": changed,
        "settled_at": [settled_at(t, tau) for t in trials],
    }


def split_cases(trials: Sequence, settling_case: str) -> tuple[list, list]:
    """(main trials, longer runs of the settling check): split on the case label, each sorted by id."""
    main = [t for t in trials if t.case != settling_case]
    long = [t for t in trials if t.case == settling_case]
    return sorted(main, key=lambda t: t.id), sorted(long, key=lambda t: t.id)


def settling_step(trials: Sequence) -> int:
    """The step at which a study without longer runs checks settling: SETTLING_SHARE of its shortest budget."""
    return int(SETTLING_SHARE * min(t.budget for t in trials))


def settling_text(s: dict, tau: float = TAU) -> str:
    """The finding that states a settling check: how many survivor sets and labels were final already at its step."""
    if not s["runs"]:
        return "No trials: nothing to say about how survival settled."
    recorded = ", ".join(map(str, sorted(set(s["recorded_at"]))))
    return (
        f"Settling ({formatting.method('survival-rule')}): survivors at step {recorded} against survivors at the end of "
        f"training (τ = {tau:g}): {100 * s['label_agreement']:.1f}% of (trial, frequency) labels were the same, and "
        f"{s['same_set']} of the {s['runs']} trials ({100 * s['same_set'] / s['runs']:.1f}%) had the same survivor set."
    )


def short_budget_deviation(trials: Sequence) -> str:
    """The deviation every survival study states when it trains for fewer steps than the paper."""
    return (
        f"Trials are trained for {', '.join(map(str, writeup.steps_of(trials)))} steps, not the paper's {PAPER_STEPS:,}; "
        "survival is read off the embedding at the end of that budget. How much survival still moved near the end "
        "is under What we saw."
    )
