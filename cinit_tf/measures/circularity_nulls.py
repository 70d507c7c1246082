"""The circularity score c_k (eq. 2) along given directions, and the two nulls it is read against.

- The selection null: the score on independent N(0, 1) matrices (stream "circularity_null"), which any
  Gaussian matrix reaches because u_k = Re(F_k)/‖Re(F_k)‖ is fitted to it; roughly d/(d + p).
- The independent-direction control: u_k fitted to an independent N(0, 1) matrix (stream
  "circularity_control"), a direction that knows nothing of E; its mean is 2/(p − 1) at every d (exact).

Pure functions on arrays; method: docs/method.md#circularity-app-e-eq-2.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.seeds import rng
from cinit_tf.signals import circularity, n_frequencies

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
