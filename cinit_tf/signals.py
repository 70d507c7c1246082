"""Completeness signals of an embedding (docs/method.md#signals): pure NumPy functions, array in, array out.

Every function takes an embedding E of shape (p, d) (NumPy array or tensor) and
returns NumPy arrays; nothing here trains or draws random numbers.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np


def n_frequencies(p: int) -> int:
    """Frequencies k = 1..floor((p-1)/2): k and p-k are one circle, k = 0 is the mean."""
    return (p - 1) // 2


def fourier_norms(E) -> np.ndarray:
    """signal_k = ||F_k||² (eq. 1) for k = 1..floor((p-1)/2) of an embedding (p, d) or a batch (..., p, d).

    Column k-1 holds frequency k. A batch (members, p, d) gives (members, K). numpy's rfft uses the
    sign of eq. 1, F_k = Σ_n e^{-2πi kn/p} E_n; the engine computes the same in-graph with tf.signal
    (a test keeps the two equal).
    """
    # float64 whatever the input, as every other measure here: the stored embeddings are float32, and
    # a float32 FFT would give the same stored run slightly different signals in different studies.
    E = np.asarray(E.numpy() if hasattr(E, "numpy") else E, dtype=np.float64)
    p = E.shape[-2]
    F = np.fft.rfft(E, axis=-2)
    power = F.real**2 + F.imag**2
    return power[..., 1 : n_frequencies(p) + 1, :].sum(axis=-1)


def as_embedding(E) -> np.ndarray:
    """A (p, d) float64 array from an array or tensor; the measures below are in float64."""
    E = np.asarray(E.numpy() if hasattr(E, "numpy") else E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"an embedding has shape (p, d), got {E.shape}")
    return E


def squared_distances(E) -> np.ndarray:
    """D_ij = ||E_i - E_j||², from differences rather than the Gram identity so that D is exactly
    symmetric, has an exact zero diagonal and does not move under translation of E."""
    E = as_embedding(E)
    diff = E[:, None, :] - E[None, :, :]
    return np.einsum("ijd,ijd->ij", diff, diff)


# ---------------------------------------------------------------------------------------------
# Remainder task: permutation score (paper §3.1)


def cluster_centres(E, m: int) -> np.ndarray:
    """Ē_i = mean of E_j over tokens j ≡ i (mod m), for i = 0..m-1; shape (m, d)."""
    E = as_embedding(E)
    p = E.shape[0]
    if not 2 <= m <= p:
        raise ValueError(f"need 2 <= m <= p, got m={m}, p={p}")
    residue = np.arange(p) % m
    sums = np.zeros((m, E.shape[1]))
    np.add.at(sums, residue, E)
    return sums / np.bincount(residue, minlength=m)[:, None]


def lexicographic_permutations(r: int) -> np.ndarray:
    """All permutations of range(r) as rows of an (r!, r) array, in itertools.permutations order.

    Built level by level: the permutations of range(n) are, for each first element a in turn,
    a followed by the permutations of range(n) without a; relabelling the range(n-1) block with
    the sorted remaining elements keeps its lexicographic order.
    """
    perms = np.zeros((1, 0), dtype=np.intp)
    for n in range(1, r + 1):
        blocks = []
        for a in range(n):
            rest = np.delete(np.arange(n), a)
            blocks.append(np.column_stack([np.full(len(perms), a), rest[perms]]))
        perms = np.concatenate(blocks)
    return perms


def _cut_weights(D: np.ndarray) -> np.ndarray:
    """C[S] = Σ_{a∈S, b∉S} D_ab for every subset S of range(m), indexed by its bit mask.

    Since (j - i) = #{t : i <= t < j}, f(q) = Σ_{i<j} D[q_i, q_j] (j - i) is the sum over the
    m - 1 cuts t of C[{q_0..q_t}]: m - 1 table look-ups per permutation instead of m(m-1)/2
    products. C is symmetrised with its complement so that C[S] == C[~S] bit for bit.
    """
    m = D.shape[0]
    inside = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(np.float64)
    C = np.einsum("sa,ab,sb->s", inside, D, 1.0 - inside)
    return (C + C[::-1]) / 2.0  # mask ^ (2^m - 1) is the reversed index


def _scores_of_block(perms: np.ndarray, C: np.ndarray) -> np.ndarray:
    """f for each row of `perms` from the cut table. Cuts are added in mirrored pairs
    (t, m-2-t): reversing q maps cut t onto the complement of cut m-2-t, so f(q) and
    f(reversed q) add the same pairs in the same order and agree exactly, not just to rounding."""
    masks = np.cumsum(np.left_shift(1, perms), axis=1)[:, :-1]
    cuts = C[masks]
    n_cuts = cuts.shape[1]
    half = n_cuts // 2
    total = (cuts[:, :half] + cuts[:, ::-1][:, :half]).sum(axis=1)
    if n_cuts % 2:
        total = total + cuts[:, half]
    return total


def permutation_scores(E, m: int, block_size: int = 8) -> np.ndarray:
    """f(q) = Σ_{0<=i<j<m} ||Ē_{q_i} - Ē_{q_j}||² (j - i) for ALL m! permutations q (paper §3.1).

    Returns a float64 array of length m!, entry n belonging to the n-th tuple of
    itertools.permutations(range(m)) (see readout.permutation_index). The permutations are
    produced in blocks that share a prefix of length m - block_size, so memory stays at a
    few blocks of block_size! rows besides the m!-long result.
    """
    centres = cluster_centres(E, m)
    C = _cut_weights(squared_distances(centres))
    r = min(m, block_size)
    suffixes = lexicographic_permutations(r)
    out = np.empty(math.factorial(m), dtype=np.float64)
    everything = set(range(m))
    start = 0
    # itertools.permutations(range(m), m - r) yields prefixes in lexicographic order, and within
    # a prefix the suffix block is lexicographic, so the concatenation is itertools order.
    for prefix in itertools.permutations(range(m), m - r):
        remaining = np.array(sorted(everything.difference(prefix)), dtype=np.intp)
        block = np.empty((len(suffixes), m), dtype=np.intp)
        block[:, : m - r] = prefix
        block[:, m - r :] = remaining[suffixes]
        out[start : start + len(block)] = _scores_of_block(block, C)
        start += len(block)
    return out


def permutation_score(E, q) -> float:
    """f(q) for one permutation q, summed pair by pair as written in paper §3.1 (reference form)."""
    m = len(q)
    D = squared_distances(cluster_centres(E, m))
    return float(sum(D[q[i], q[j]] * (j - i) for i in range(m) for j in range(i + 1, m)))


# ---------------------------------------------------------------------------------------------
# XOR task: cube-arrangement score (paper §3.2)

MAX_ARRANGEMENT_BITS = 4  # 2^(bits²) candidate matrices are enumerated; 5 bits would be 3.4e7


@functools.cache
def arrangements(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The invertible bits×bits matrices M over GF(2) and their α matrices (paper §3.2).

    Token t (bit j of t is coordinate j) sits at cube vertex M·t; α_ij = popcount(M·(i XOR j))
    is then the squared distance of tokens i and j on the unit cube. Order: increasing integer
    whose binary digits are M's entries read row by row, entry (0, 0) most significant.
    Returns (matrices (n, bits, bits) uint8, alphas (n, 2^bits, 2^bits) int64), read-only;
    n = 168 for bits = 3.
    """
    if not 1 <= bits <= MAX_ARRANGEMENT_BITS:
        raise ValueError(f"bits must be in 1..{MAX_ARRANGEMENT_BITS}, got {bits}")
    p = 2**bits
    n_entries = bits * bits
    codes = np.arange(2**n_entries)
    entries = (codes[:, None] >> np.arange(n_entries - 1, -1, -1)) & 1
    M = entries.reshape(-1, bits, bits).astype(np.int64)
    token_bits = (np.arange(p)[:, None] >> np.arange(bits)) & 1  # (p, bits)
    images = np.einsum("nab,tb->nta", M, token_bits) % 2
    vertex = images @ (1 << np.arange(bits))  # (n, p): integer label of M·t
    # M is invertible over GF(2) exactly when t -> M·t is a bijection of the vertices.
    invertible = np.all(np.sort(vertex, axis=1) == np.arange(p), axis=1)
    M, vertex = M[invertible], vertex[invertible]
    popcount = np.array([bin(v).count("1") for v in range(p)])
    alphas = popcount[vertex[:, :, None] ^ vertex[:, None, :]]  # M·i XOR M·j = M·(i XOR j)
    matrices = M.astype(np.uint8)
    alphas = alphas.astype(np.int64)
    matrices.flags.writeable = False
    alphas.flags.writeable = False
    return matrices, alphas


def arrangement_pairs(E, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Every arrangement's α over the token pairs i < j, and the embedding's squared distances over the
    same pairs: what the initial score g and the final fit both read."""
    E = as_embedding(E)
    p = 2**bits
    if E.shape[0] != p:
        raise ValueError(f"an XOR embedding of {bits} bits has {p} tokens, got {E.shape[0]}")
    _, alphas = arrangements(bits)
    upper = np.triu_indices(p, k=1)
    return alphas[:, upper[0], upper[1]], squared_distances(E)[upper]


def arrangement_scores(E, bits: int) -> np.ndarray:
    """g(α) = Σ_{i<j} ||E_i - E_j||² α_ij for every arrangement, in arrangements(bits) order.

    The 168 matrices of 3 bits share 28 distinct α (6 axis orders each); g is computed once per
    distinct α and copied, so equal α have bit-identical scores and rank ties are exact.
    """
    alpha_pairs, distances = arrangement_pairs(E, bits)
    distinct, which = np.unique(alpha_pairs, axis=0, return_inverse=True)
    g = distinct.astype(np.float64) @ distances
    return g[np.ravel(which)]


# ---------------------------------------------------------------------------------------------
# Modular addition: gradient signal (paper §4.3) and circularity (App. E)


def gradient_signal(norm_history, step, recorded_steps=None) -> np.ndarray:
    """Δ_k(i) = signal_k(after step i) - signal_k(before step i) (paper §4.3).

    norm_history: (n_records, K) (or (n_records, ..., K)); row r holds the Fourier norms
    recorded after step recorded_steps[r]. Without recorded_steps, row r is after step r
    (row 0 = the initial embedding), which is how the training engine records steps 0..10.
    step: an int i >= 1, giving (..., K), or a sequence of them, giving (len(step), ..., K).
    Both step i and step i - 1 must have been recorded.
    """
    history = np.asarray(norm_history, dtype=np.float64)
    recorded = np.arange(len(history)) if recorded_steps is None else np.asarray(recorded_steps)
    if len(recorded) != len(history):
        raise ValueError(f"{len(history)} records but {len(recorded)} recorded steps")
    row = {int(s): r for r, s in enumerate(recorded)}

    def delta(i: int) -> np.ndarray:
        if i < 1 or i not in row or i - 1 not in row:
            raise ValueError(
                f"gradient signal at step {i} needs the norms at steps {i - 1} and {i}"
            )
        return history[row[i]] - history[row[i - 1]]

    if np.ndim(step) == 0:
        return delta(int(step))
    return np.stack([delta(int(i)) for i in step])


def _circle_score(X: np.ndarray, k) -> np.ndarray:
    """c = 2 |Σ_j X_j e^{2πi jk/p}|² / (p Σ_j X_j²) (eq. 2) for real, centred X of shape (p, n),
    column c at frequency k[c]. In [0, 1] by Parseval, since X_k and X_{p-k} have equal modulus."""
    p = X.shape[0]
    k = np.asarray(k)
    phase = np.exp(2j * np.pi * np.outer(np.arange(p), k) / p)
    power = np.abs(np.sum(X * phase, axis=0)) ** 2
    energy = np.sum(X**2, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(energy > 0, 2.0 * power / (p * energy), np.nan)


def circularity(E) -> np.ndarray:
    """c_k for k = 1..floor((p-1)/2) (App. E, eq. 2), entry k-1 for frequency k.

    X_{k,j} = (E_j - mean E)·u_k with u_k the unit vector along Re(F_k) (our reading of "projected
    onto the Fourier basis"). When Re(F_k) vanishes (a pure sine along one direction), u_k
    follows Im(F_k) instead; when F_k is exactly zero there is no direction and c_k is NaN.
    1 for a pure sinusoid at k.
    """
    E = as_embedding(E)
    p = E.shape[0]
    K = n_frequencies(p)
    F = np.fft.rfft(E, axis=0)[1 : K + 1]  # (K, d)
    re, im = F.real, F.imag
    re_norm = np.linalg.norm(re, axis=1)
    im_norm = np.linalg.norm(im, axis=1)
    scale = np.maximum(re_norm, im_norm)
    use_im = re_norm <= 1e-12 * scale
    direction = np.where(use_im[:, None], im, re)
    length = np.where(use_im, im_norm, re_norm)
    with np.errstate(invalid="ignore", divide="ignore"):
        U = direction / length[:, None]
    X = (E - E.mean(axis=0)) @ U.T  # (p, K)
    c = _circle_score(X, np.arange(1, K + 1))
    return np.where(scale > 0, c, np.nan)


def pca_circularity(E, n_components: int = 4) -> float:
    """Circularity of Zhong et al. ("the clock and the pizza"): project the centred embedding on
    its top n_components principal components; score each projection with eq. 2 at the
    frequency where it is highest; average over the components."""
    E = as_embedding(E)
    p = E.shape[0]
    centred = E - E.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    n = min(n_components, Vt.shape[0])
    X = centred @ Vt[:n].T  # (p, n)
    ks = np.arange(1, n_frequencies(p) + 1)
    per_component = [np.nanmax(_circle_score(X[:, [c]], ks)) for c in range(n)]
    return float(np.mean(per_component))


# ---------------------------------------------------------------------------------------------
# Comparing a learned candidate with all others (docs/method.md#signals, paper §5 and App. C)


def normalised(scores) -> np.ndarray:
    """scores / mean(scores): the mean over all candidates becomes 1 for every d (App. C, Fig. 10)."""
    scores = np.asarray(scores, dtype=np.float64)
    return scores / scores.mean()


def top_percent(scores, value) -> float:
    """100 · #(candidates strictly above `value`) / #candidates; "top 15%" is 15.

    Strictly above, so a candidate tied with the learned one (its reversal, or an arrangement
    with the same α) does not push it down.
    """
    scores = np.asarray(scores)
    return 100.0 * np.count_nonzero(scores > value) / scores.size
