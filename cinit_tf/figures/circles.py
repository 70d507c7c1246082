"""A circle of an embedding drawn on an axis, its tokens joined in their order around it."""

from __future__ import annotations

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.measures import survival


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
