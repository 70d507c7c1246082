"""The circles of an embedding: its projection on the plane of a frequency (eq. 1), the frequency that
dominates a set of token-indexed columns (a principal component, a pair of them), and a circle drawn with
its tokens joined in their order around it (t, t + Δ, t + 2Δ, … with Δ = k⁻¹ mod p, §4.1).
"""

from __future__ import annotations

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.measures import survival
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


def draw_circle(ax, xy, k: int, p: int, lim: float | None = None):
    """Draw the (p, 2) points `xy` of frequency k: joined around the circle, coloured by position; returns Δ."""
    import matplotlib

    delta = survival.inverse_mod(k, p)
    order = (np.arange(p) * delta) % p  # tokens in order around the circle of frequency k
    loop = np.append(order, order[0])
    ax.plot(xy[loop, 0], xy[loop, 1], color="grey", lw=0.5, alpha=0.6)
    colours = matplotlib.colormaps["twilight"](np.arange(p) / p)
    ax.scatter(xy[order, 0], xy[order, 1], c=colours, s=10, zorder=3, lw=0)
    for j in range(3):
        t = int(order[j])
        plotting.label_point(ax, str(t), xy[t])
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=8)
    return delta
