"""The circularity score c_k (eq. 2) along given directions, the two nulls it is read against, and the
measurements of App. E built on them.

- The selection null: the score on independent N(0, 1) matrices (stream "circularity_null"), which any
  Gaussian matrix reaches because u_k = Re(F_k)/‖Re(F_k)‖ is fitted to it; roughly d/(d + p) (heuristic:
  X = E_c E_cᵀ c_k carries the sinusoid c_k with weight ≈ d against noise of energy ≈ d·p).
- The independent-direction control: u_k fitted to an independent N(0, 1) matrix (stream
  "circularity_control"), a direction that knows nothing of E; then X is isotropic Gaussian noise in the
  p − 1 centred dimensions and c_k is the share of its energy on frequency k's two dimensions, with mean
  2/(p − 1) at every d (exact).
- Fig. 13a: each initial draw's c_k against d beside both (`sweep`), and its difference from the null
  (`excess`); Fig. 13b: initial c_k and signal against survival (`survival_data`), with the run bootstrap
  statistics of what c_k adds given the signal (`survival_statistics`).

Pure functions on arrays and stored trials; method: docs/method.md#circularity-app-e-eq-2.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.measures import survival
from cinit_tf.seeds import rng
from cinit_tf.signals import circularity, fourier_norms, n_frequencies, pca_circularity
from cinit_tf.stats import bootstrap as trial_bootstrap
from cinit_tf.stats import inference

NULL_STREAM, CONTROL_STREAM = "circularity_null", "circularity_control"


def fitted_directions(E) -> np.ndarray:
    """u_k = Re(F_k)/‖Re(F_k)‖ for k = 1..K, shape (K, d): the directions `signals.circularity` fits to E."""
    E = np.asarray(E, dtype=np.float64)
    K = n_frequencies(E.shape[0])
    F = np.fft.rfft(E, axis=0)[1 : K + 1]
    re = F.real
    return re / np.linalg.norm(re, axis=1, keepdims=True)


def circularity_along(E, U) -> np.ndarray:
    """c_k (eq. 2) of the centred embedding projected on the given unit directions U (K, d), row k-1 for frequency k."""
    E = np.asarray(E, dtype=np.float64)
    p = E.shape[0]
    X = (E - E.mean(axis=0)) @ np.asarray(U, dtype=np.float64).T  # (p, K)
    k = np.arange(1, X.shape[1] + 1)
    phase = np.exp(2j * np.pi * np.outer(np.arange(p), k) / p)
    power = np.abs(np.sum(X * phase, axis=0)) ** 2
    return 2.0 * power / (p * np.sum(X**2, axis=0))


def control_circularity(E, seed: int) -> np.ndarray:
    """c_k with u_k fitted to an independent N(0, 1) matrix of E's shape (stream "circularity_control", `seed`)."""
    E = np.asarray(E, dtype=np.float64)
    other = rng(CONTROL_STREAM, seed).standard_normal(E.shape)
    return circularity_along(E, fitted_directions(other))


def selection_null(p: int, d: int, draws: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean over k, max over k) of c_k for `draws` independent N(0, 1) matrices (p, d) (stream "circularity_null")."""
    c = np.array(
        [
            circularity(rng(NULL_STREAM, d * 1_000_000 + i).standard_normal((p, d)))
            for i in range(draws)
        ]
    )
    return np.nanmean(c, axis=1), np.nanmax(c, axis=1)


def heuristic_null(p: int, d) -> np.ndarray:
    """d / (d + p): the heuristic level of the fitted-direction score on pure noise."""
    d = np.asarray(d, dtype=np.float64)
    return d / (d + p)


def chance_level(p: int) -> float:
    """E[c_k] for a direction independent of E: the share of an isotropic vector's energy in 2 of p − 1 dimensions."""
    return 2.0 / (p - 1)


# ---------------------------------------------------------------- Fig. 13a


def sweep(initial: list, null_draws: int) -> dict:
    """Per d: each draw's mean and max c_k, its PCA circularity, the control's mean and max, and the simulated null."""
    p = int(initial[0].settings["task"]["p"])
    per_d: dict[int, dict[str, list]] = {}
    for t in initial:
        d = int(t.settings["train"]["d"])
        E = np.asarray(t.result.initial_embedding, dtype=np.float64)
        c = circularity(E)
        ctrl = control_circularity(E, t.seeds[0] * 10_000 + d)
        row = per_d.setdefault(
            d, {k: [] for k in ("mean", "max", "pca", "control_mean", "control_max")}
        )
        row["mean"].append(float(np.nanmean(c)))
        row["max"].append(float(np.nanmax(c)))
        row["pca"].append(pca_circularity(E))
        row["control_mean"].append(float(np.mean(ctrl)))
        row["control_max"].append(float(np.max(ctrl)))
    ds = sorted(per_d)
    for d in ds:
        null_mean, null_max = selection_null(p, d, null_draws)
        per_d[d]["null_mean"], per_d[d]["null_max"] = null_mean.tolist(), null_max.tolist()
    return {"p": p, "ds": ds, "per_d": per_d}


def excess(s: dict) -> dict:
    """Per d: measured mean c_k minus the null's, with its Welch 95% CI and the one-sided p that it lies above."""
    out = {}
    for d in s["ds"]:
        a, b = s["per_d"][d]["mean"], s["per_d"][d]["null_mean"]
        w = inference.welch_contrast([a, b], (1.0, -1.0))
        diff, (lo, hi) = w["difference"], w["ci95"]
        # The t statistic has the sign of the difference: its upper tail is half the two-sided p on that side.
        p_greater = w["p"] / 2 if diff > 0 else 1 - w["p"] / 2
        out[d] = {
            "diff": diff,
            "lo": lo,
            "hi": hi,
            "p_greater": p_greater,
            "n": len(a),
            "n_null": len(b),
        }
    return out


# ---------------------------------------------------------------- Fig. 13b


def survival_data(trained: list) -> list[dict]:
    """Per valid trained run: initial c_k, initial signal_k and the survivor mask (τ = 0.05)."""
    out = []
    for t in trained:
        E = np.asarray(t.result.initial_embedding, dtype=np.float64)
        out.append(
            {
                "id": t.id,
                "circularity": circularity(E),
                "signal": fourier_norms(E),
                "survived": survival.survivor_mask(t, survival.TAU),
            }
        )
    return out


def _standardised(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - float(np.mean(x))) / sd if sd > 0 else np.zeros_like(x)


def survival_statistics(runs: list[dict], n_boot: int, strata: int) -> tuple:
    """(AUC of initial c_k for survival, AUC of the initial signal, the logistic fit of survival on both
    standardised (None with one class only), the AUC of c_k within `strata` quantile bins of the signal, the
    Spearman ρ of c_k and the signal over the pooled (run, k) pairs), each with a bootstrap over whole runs."""
    auc_circularity = inference.bootstrap_auc(
        [(r["circularity"], r["survived"]) for r in runs], n_boot, seed=0
    )
    auc_signal = inference.bootstrap_auc(
        [(r["signal"], r["survived"]) for r in runs], n_boot, seed=1
    )
    circ, sig, alive = (
        np.concatenate([r[k] for r in runs]) for k in ("circularity", "signal", "survived")
    )
    groups = np.concatenate([np.full(r["survived"].size, i) for i, r in enumerate(runs)])
    added = None
    if alive.any() and not alive.all():
        both = np.column_stack([_standardised(sig), _standardised(circ)])
        added = trial_bootstrap.logistic(both, alive, groups, n_boot, seed=2)
    within = trial_bootstrap.stratified_auc(circ, alive, sig, groups, strata, n_boot, seed=3)
    pooled = trial_bootstrap.spearman(circ, sig, groups, n_boot, seed=4)[0]
    return auc_circularity, auc_signal, added, within, pooled
