"""The circles of an embedding: its projection on the plane of a frequency (eq. 1), the frequency that
dominates a set of token-indexed columns (a principal component, a pair of them), and a circle drawn with
its tokens joined in their order around it (t, t + Δ, t + 2Δ, … with Δ = k⁻¹ mod p, §4.1).
"""

from __future__ import annotations

import numpy as np

from cinit_tf.signals import n_frequencies


def fourier_plane(E, k: int) -> np.ndarray:
    """The centred embedding projected on the plane of Re F_k and Im F_k (eq. 1), as (p, 2) coordinates.

    The plane's basis is Re F_k and the part of Im F_k orthogonal to it, both normalised, so the
    picture is the embedding's own geometry in that plane, not a rescaled one.
    """
    E = np.asarray(E, dtype=np.float64)
    p = E.shape[0]
    X = E - E.mean(axis=0)
    F = np.exp(-2j * np.pi * k * np.arange(p) / p) @ X
    basis = []
    for v in (F.real, F.imag):
        for b in basis:
            v = v - (v @ b) * b
        n = np.linalg.norm(v)
        basis.append(v / n if n > 0 else np.zeros_like(v))
    return X @ np.stack(basis, axis=1)


def dominant_frequency(columns) -> int:
    """The frequency k in 1..K carrying most power of these token-indexed columns (p, m) together."""
    columns = np.asarray(columns, dtype=np.float64).reshape(np.shape(columns)[0], -1)
    p = columns.shape[0]
    power = np.sum(np.abs(np.fft.rfft(columns, axis=0)) ** 2, axis=1)[1 : n_frequencies(p) + 1]
    return int(np.argmax(power)) + 1
