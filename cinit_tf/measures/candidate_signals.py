"""Every candidate's completeness signal on one embedding, exactly, and its expectation under E ~ N(0, 1):
f(q) over all m! orders (remainder), g over all arrangements (XOR), signal_k over k = 1..K (modular
addition). Method: docs/method.md#normalised-signals-5-app-c.
"""

from __future__ import annotations

import math

import numpy as np

from cinit_tf.signals import (
    arrangement_scores,
    cluster_centres,
    fourier_norms,
    n_frequencies,
    permutation_scores,
    squared_distances,
)


def cut_table(E, m: int) -> np.ndarray:
    """C[S] = Σ_{a∈S, b∉S} ‖Ē_a − Ē_b‖² for every subset S of the m cluster centres, indexed by bit mask."""
    D = squared_distances(cluster_centres(E, m))
    inside = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(np.float64)
    return np.einsum("sa,ab,sb->s", inside, D, 1.0 - inside)


def order_extremes(E, m: int) -> tuple[float, float, float]:
    """(min, mean, max) of f(q) over all m! orders q, exactly, without listing them.

    Since j − i counts the cuts between positions i and j, f(q) = Σ_{t=1}^{m−1} C({q_0, …, q_{t−1}}), a sum along a
    chain of prefix sets ∅ ⊂ S_1 ⊂ … ⊂ S_{m−1}; the best and worst chains follow by dynamic programming over the 2^m
    subsets (m·2^m steps instead of m!). The mean over orders is Σ_{i<j} (j − i) = m(m²−1)/6 times the mean of
    ‖Ē_a − Ē_b‖² over pairs. A test checks all three against `signals.permutation_scores`, which lists every order.
    """
    C_ = cut_table(E, m)
    full = 2**m - 1
    lo = np.full(2**m, np.inf)
    hi = np.full(2**m, -np.inf)
    lo[0] = hi[0] = 0.0
    for S in range(1, 2**m):
        members = [a for a in range(m) if S >> a & 1]
        lo[S] = min(lo[S ^ (1 << a)] for a in members)
        hi[S] = max(hi[S ^ (1 << a)] for a in members)
        if S != full:
            lo[S] += C_[S]
            hi[S] += C_[S]
    D = squared_distances(cluster_centres(E, m))
    mean = m * (m * m - 1) / 6 * float(D[np.triu_indices(m, 1)].mean())
    return float(lo[full]), mean, float(hi[full])


def nth_permutation(index: int, m: int) -> tuple[int, ...]:
    """The order q scored at `index` by `signals.permutation_scores`: the index-th tuple of
    itertools.permutations(range(m)) (the inverse of readout.permutation_index)."""
    rest, q = list(range(m)), []
    for i in range(m - 1, -1, -1):
        digit, index = divmod(index, math.factorial(i))
        q.append(rest.pop(digit))
    return tuple(q)


def candidate_scores(E, task: dict) -> np.ndarray:
    """Every candidate's signal on the embedding E: all m! orders, all arrangements, or all K frequencies."""
    E = np.asarray(E, dtype=np.float64)
    if task["name"] == "remainder":
        return permutation_scores(E, int(task["m"]))
    if task["name"] == "xor":
        return arrangement_scores(E, int(task["bits"]))
    if task["name"] == "modadd":
        return fourier_norms(E)
    raise ValueError(f"unknown task {task['name']!r}")


def expected_score(task: dict, d: int) -> float:
    """E[signal] of one candidate for E ~ N(0, 1) entrywise (every candidate has the same expectation).

    modadd: E‖F_k‖² = p·d (each of the d coordinates of F_k has variance p).
    xor: E‖E_i − E_j‖² = 2d and Σ_{i<j} α_ij = bits·4^(bits−1), so E g = 2d·bits·4^(bits−1).
    remainder: E‖Ē_a − Ē_b‖² = d (1/n_a + 1/n_b) with n_a tokens of residue a, and each pair of positions
    i < j is equally likely for a pair of centres, so E f = [Σ_{i<j} (j − i)] · mean_{a<b} E‖Ē_a − Ē_b‖²;
    with m dividing p this is (2dm/p)·m(m²−1)/6 (docs/method.md#normalised-signals-5-app-c).
    """
    name = task["name"]
    if name == "modadd":
        return float(int(task["p"]) * d)
    if name == "xor":
        bits = int(task["bits"])
        return float(2 * d * bits * 4 ** (bits - 1))
    if name == "remainder":
        p, m = int(task["p"]), int(task["m"])
        n = np.bincount(np.arange(p) % m, minlength=m).astype(np.float64)
        pair = d * (1 / n[:, None] + 1 / n[None, :])
        mean_pair = float(pair[np.triu_indices(m, 1)].mean())
        return m * (m * m - 1) / 6 * mean_pair
    raise ValueError(f"unknown task {name!r}")


def extremes(E, task: dict) -> tuple[float, float, float]:
    """(min, mean, max) of every candidate's signal on E; for the remainder task over all m! orders, exactly (`order_extremes`)."""
    if task["name"] == "remainder":
        return order_extremes(np.asarray(E, dtype=np.float64), int(task["m"]))
    s = candidate_scores(E, task)
    return float(s.min()), float(s.mean()), float(s.max())


def candidates(task: dict) -> int:
    name = task["name"]
    if name == "remainder":
        return math.factorial(int(task["m"]))
    if name == "xor":
        return 168 if int(task["bits"]) == 3 else -1
    return n_frequencies(int(task["p"]))
