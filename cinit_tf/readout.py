"""Reading off what a trained model learned from its final embedding (docs/method.md#read-offs).

Pure functions: final embedding (p, d) or recorded histories in, plain values out.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from cinit_tf.signals import (
    arrangement_pairs,
    cluster_centres,
    squared_distances,
)

# Final XOR shapes (docs/method.md#read-offs). A clean cube fits its best arrangement at r ≈ 0.999; a 4-D
# cross-polytope, where several α tie, fits the best cube only at r ≈ 0.75–0.8.
CUBE_MIN_FIT = 0.95
# Cross-polytope: every token's farthest token is mutual (antipodal pairs), lies at least this
# many times farther (squared distance) than the mean of its other tokens (ideal: 2) ...
CROSS_MIN_FAR_RATIO = 1.5
# ... and its squared distances to the other p - 2 tokens vary by at most this coefficient of
# variation (ideal: 0; a cube's non-antipodal distances 1,1,1,2,2,2 have 1/3).
CROSS_MAX_SPREAD = 0.2

SURVIVAL_TAU = 0.05  # docs/method.md#survival-rule: k survives when final signal_k >= τ · max_k final signal_k (our rule)


class PermutationReadout(NamedTuple):
    q: tuple[int, ...]  # canonical: the lexicographically smaller of q and reversed q
    line_share: float  # share of the centres' variance on their first principal component


class ArrangementReadout(NamedTuple):
    index: int  # into arrangements(bits)
    fit: float  # Pearson r over i<j of α and the final squared distances (cube quality)


def canonical_permutation(q) -> tuple[int, ...]:
    """q and reversed q are one line read from either end (and have equal f): keep the smaller."""
    q = tuple(int(v) for v in q)
    return min(q, q[::-1])


def learned_permutation(E_final, m: int) -> PermutationReadout:
    """The order q of the final cluster centres along their first principal component (docs/method.md#read-offs).

    q_0 is the remainder whose centre projects lowest. line_share tells how much of a line
    the centres form; it must be reported, not assumed.
    """
    centres = cluster_centres(E_final, m)
    centred = centres - centres.mean(axis=0)
    _, sv, Vt = np.linalg.svd(centred, full_matrices=False)
    total = float(np.sum(sv**2))
    share = float(sv[0] ** 2 / total) if total > 0 else float("nan")
    order = np.argsort(centred @ Vt[0], kind="stable")
    return PermutationReadout(canonical_permutation(order), share)


def permutation_index(q, m: int | None = None) -> int:
    """Position of q in itertools.permutations(range(m)) (its Lehmer code), so that
    signals.permutation_scores(E, m)[permutation_index(q)] is f(q)."""
    q = [int(v) for v in q]
    m = len(q) if m is None else m
    if sorted(q) != list(range(m)):
        raise ValueError(f"{q} is not a permutation of range({m})")
    index = 0
    for i, v in enumerate(q):
        smaller_later = sum(1 for w in q[i + 1 :] if w < v)
        index += smaller_later * math.factorial(m - 1 - i)
    return index


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row of x with y."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean()
    denominator = np.sqrt(np.sum(xc**2, axis=-1) * np.sum(yc**2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, xc @ yc / denominator, np.nan)


def arrangement_fits(E_final, bits: int) -> np.ndarray:
    """Pearson r over i<j between each arrangement's α and the final squared distances."""
    alpha_pairs, distances = arrangement_pairs(E_final, bits)
    return _pearson(alpha_pairs.astype(np.float64), distances)


def learned_arrangement(E_final, bits: int) -> ArrangementReadout:
    """The arrangement whose α best correlates with the final squared distances (docs/method.md#read-offs).

    Arrangements sharing an α (axis orders) tie exactly; the first in arrangements(bits)
    order is returned. Rank it with signals.arrangement_scores, where ties score alike.
    """
    fits = arrangement_fits(E_final, bits)
    best = int(np.nanargmax(fits))
    return ArrangementReadout(best, float(fits[best]))


def final_shape(E_final, bits: int) -> str:
    """ "cube", "cross_polytope" or "other" for a final XOR embedding (docs/method.md#read-offs).

    Rule: "cube" when the best arrangement fits at r >= CUBE_MIN_FIT. Otherwise
    "cross_polytope" when the tokens form 2^(bits-1) antipodal pairs: each token's farthest
    token has it as farthest too, that far squared distance is >= CROSS_MIN_FAR_RATIO times
    the mean of the token's other squared distances, and those other distances have a
    coefficient of variation <= CROSS_MAX_SPREAD (roughly equidistant). Otherwise "other".
    """
    if learned_arrangement(E_final, bits).fit >= CUBE_MIN_FIT:
        return "cube"
    D = squared_distances(E_final)
    p = D.shape[0]
    partner = np.argmax(D, axis=1)
    if not np.array_equal(partner[partner], np.arange(p)):
        return "other"
    others = np.ones_like(D, dtype=bool)
    others[np.arange(p), np.arange(p)] = False
    others[np.arange(p), partner] = False
    rest = D[others].reshape(p, p - 2)
    mean_rest = rest.mean(axis=1)
    if np.any(mean_rest <= 0):
        return "other"
    far_ratio = D[np.arange(p), partner] / mean_rest
    spread = rest.std(axis=1) / mean_rest
    if np.all(far_ratio >= CROSS_MIN_FAR_RATIO) and np.all(spread <= CROSS_MAX_SPREAD):
        return "cross_polytope"
    return "other"


def survivors(final_norms, tau: float = SURVIVAL_TAU) -> np.ndarray:
    """Boolean mask over frequencies (last axis): final signal_k >= τ · max_k final signal_k (docs/method.md#survival-rule).

    A batch (members, K) is judged member by member; the number of circles is mask.sum(-1).
    """
    norms = np.asarray(final_norms, dtype=np.float64)
    return norms >= tau * norms.max(axis=-1, keepdims=True)


def principal_components(E, n: int) -> np.ndarray:
    """The centred embedding projected on its first n principal components, (p, n)."""
    X = np.asarray(E, dtype=np.float64)
    X = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    return X @ Vt[:n].T
