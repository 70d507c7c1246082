"""Completeness signals (docs/method.md#signals) on embeddings whose answer is known by construction."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cinit_tf import signals

FAST = settings(max_examples=25, deadline=None)


def direct_dft_norms(E):
    """signal_k from eq. 1 written out as a matrix product, independent of any FFT."""
    E = np.asarray(E, dtype=np.float64)
    p = E.shape[-2]
    K = (p - 1) // 2
    n = np.arange(p)
    k = np.arange(1, K + 1)
    basis = np.exp(-2j * np.pi * np.outer(k, n) / p)  # (K, p)
    F = np.einsum("kn,...nd->...kd", basis, E)
    return np.sum(np.abs(F) ** 2, axis=-1)


def circle(p, d, k, radius=1.0, seed=0):
    """Token n at radius·(cos, sin)(2πkn/p) in a random 2-plane of R^d, plus a random offset."""
    g = np.random.default_rng(seed)
    a, b = np.linalg.qr(g.normal(size=(d, 2)))[0].T
    t = 2 * np.pi * k * np.arange(p) / p
    return radius * (np.outer(np.cos(t), a) + np.outer(np.sin(t), b)) + g.normal(size=d)


def random_rotation(d, seed):
    Q, R = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return Q * np.sign(np.diag(R))


# --- Fourier norm ----------------------------------------------------------------------------


@pytest.mark.parametrize("p,k", [(59, 7), (16, 3), (31, 15)])
def test_circle_has_all_its_signal_at_its_frequency(p, k):
    E = circle(p, 6, k, radius=2.0)
    norms = signals.fourier_norms(E)
    assert norms.shape == (signals.n_frequencies(p),)
    # F_k = (p/2)·r·(a - i b): ||F_k||² = 2 (p r / 2)²
    assert norms[k - 1] == pytest.approx(2 * (p * 2.0 / 2) ** 2, rel=1e-10)
    others = np.delete(norms, k - 1)
    assert np.all(others < 1e-18 * norms[k - 1])


def test_fourier_norms_match_direct_dft_single_and_batch():
    g = np.random.default_rng(3)
    E = g.normal(size=(23, 5))
    np.testing.assert_allclose(signals.fourier_norms(E), direct_dft_norms(E), rtol=1e-10)
    batch = g.normal(size=(4, 23, 5))
    got = signals.fourier_norms(batch)
    assert got.shape == (4, 11)
    np.testing.assert_allclose(got, direct_dft_norms(batch), rtol=1e-10)
    np.testing.assert_allclose(got[2], signals.fourier_norms(batch[2]), rtol=1e-12)
    stored = batch.astype(np.float32)  # as a trial stores its embeddings
    got32 = signals.fourier_norms(stored)
    assert (
        got32.dtype == np.float64
    )  # measured in float64 like every other signal, not in the input's float32
    np.testing.assert_allclose(got32, direct_dft_norms(stored.astype(np.float64)), rtol=1e-12)


@FAST
@given(
    p=st.integers(5, 40), d=st.integers(1, 6), members=st.integers(1, 3), seed=st.integers(0, 10**6)
)
def test_property_fourier_norms_equal_direct_dft(p, d, members, seed):
    E = np.random.default_rng(seed).normal(size=(members, p, d))
    np.testing.assert_allclose(signals.fourier_norms(E), direct_dft_norms(E), rtol=1e-9, atol=1e-9)


# --- circularity -----------------------------------------------------------------------------


def test_circle_has_circularity_one_at_its_frequency():
    p, k = 59, 7
    c = signals.circularity(circle(p, 8, k))
    assert c.shape == (29,)
    assert c[k - 1] == pytest.approx(1.0, abs=1e-12)


def test_pure_sine_along_one_direction_is_circular_too():
    # F_k is purely imaginary here, so Re(F_k) is rounding noise pointing anywhere (partly along
    # the other frequencies' directions): the score must still be 1, through Im(F_k)
    p, k = 31, 4
    Q = random_rotation(5, 0)
    t = 2 * np.pi * np.arange(p) / p
    E = (
        np.outer(3 * np.sin(k * t), Q[0])
        + np.outer(np.cos(9 * t), Q[1])
        + np.outer(np.cos(2 * t), Q[2])
    )
    c = signals.circularity(E)
    assert c[k - 1] == pytest.approx(1.0, abs=1e-9)
    assert c[8] == pytest.approx(1.0, abs=1e-9) and c[1] == pytest.approx(1.0, abs=1e-9)


def test_circularity_of_random_embedding_is_in_unit_interval_and_below_one():
    c = signals.circularity(np.random.default_rng(1).normal(size=(59, 16)))
    assert np.all((c >= 0) & (c <= 1 + 1e-12))
    assert c.max() < 0.9


def test_circularity_matches_written_out_eq_2():
    g = np.random.default_rng(2)
    p, k = 17, 3
    E = g.normal(size=(p, 4))
    F = np.exp(-2j * np.pi * k * np.arange(p) / p) @ E
    u = F.real / np.linalg.norm(F.real)
    X = (E - E.mean(axis=0)) @ u
    expected = (
        2
        * abs(sum(X[j] * np.exp(2j * np.pi * j * k / p) for j in range(p))) ** 2
        / (p * np.sum(X**2))
    )
    assert signals.circularity(E)[k - 1] == pytest.approx(expected, rel=1e-10)


def test_pca_circularity_one_for_two_circles_and_low_for_noise():
    p = 59
    E = np.zeros((p, 6))
    t = 2 * np.pi * np.arange(p) / p
    E[:, 0], E[:, 1] = 3 * np.cos(5 * t), 3 * np.sin(5 * t)
    E[:, 2], E[:, 3] = np.cos(11 * t), np.sin(11 * t)
    E = E @ random_rotation(6, 4)
    assert signals.pca_circularity(E) == pytest.approx(1.0, abs=1e-9)
    assert signals.pca_circularity(np.random.default_rng(0).normal(size=(p, 6))) < 0.6


# --- gradient signal -------------------------------------------------------------------------


def test_gradient_signal_is_difference_of_consecutive_records():
    history = np.array([[10.0, 5.0], [11.0, 4.0], [13.0, 4.5], [12.0, 6.0]])
    np.testing.assert_array_equal(signals.gradient_signal(history, 1), [1.0, -1.0])
    np.testing.assert_array_equal(
        signals.gradient_signal(history, [1, 3]), [[1.0, -1.0], [-1.0, 1.5]]
    )
    # records at explicit steps, the first step i's "before" being the record of step i-1
    np.testing.assert_array_equal(
        signals.gradient_signal(history[1:], 2, recorded_steps=[1, 2, 3]), [2.0, 0.5]
    )
    with pytest.raises(ValueError):
        signals.gradient_signal(history, 0)
    with pytest.raises(ValueError):
        signals.gradient_signal(history, 4)
    with pytest.raises(ValueError):
        signals.gradient_signal(history[[0, 2]], 2, recorded_steps=[0, 2])


# --- permutation score -----------------------------------------------------------------------


@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_permutation_scores_brute_force_in_itertools_order(m):
    E = np.random.default_rng(m).normal(size=(4 * m + 1, 3))
    scores = signals.permutation_scores(E, m)
    assert scores.shape == (math.factorial(m),) and scores.dtype == np.float64
    centres = np.array([E[np.arange(len(E)) % m == i].mean(axis=0) for i in range(m)])
    for n, q in enumerate(itertools.permutations(range(m))):
        f = sum(
            np.sum((centres[q[i]] - centres[q[j]]) ** 2) * (j - i)
            for i in range(m)
            for j in range(i + 1, m)
        )
        assert scores[n] == pytest.approx(f, rel=1e-12)


def test_blocked_permutation_scores_match_single_block():
    # m = 7 with blocks of 4! rows walks 210 prefixes: the same order and values as one block
    E = np.random.default_rng(7).normal(size=(30, 4))
    one = signals.permutation_scores(E, 7, block_size=7)
    blocked = signals.permutation_scores(E, 7, block_size=4)
    np.testing.assert_allclose(blocked, one, rtol=1e-13)
    perms = list(itertools.permutations(range(7)))
    for n in (0, 1, 119, 2500, 5039):
        assert blocked[n] == pytest.approx(signals.permutation_score(E, perms[n]), rel=1e-12)


def test_lexicographic_permutations_equal_itertools():
    for r in range(1, 7):
        np.testing.assert_array_equal(
            signals.lexicographic_permutations(r),
            np.array(list(itertools.permutations(range(r)))).reshape(-1, r),
        )


def test_reversed_permutation_scores_exactly_equal():
    m = 6
    scores = signals.permutation_scores(np.random.default_rng(5).normal(size=(40, 8)), m)
    index = {q: n for n, q in enumerate(itertools.permutations(range(m)))}
    for q, n in index.items():
        assert scores[n] == scores[index[q[::-1]]]


@FAST
@given(seed=st.integers(0, 10**6), m=st.integers(3, 6), d=st.integers(2, 6))
def test_property_permutation_score_invariant_under_reversal_and_rotation(seed, m, d):
    g = np.random.default_rng(seed)
    E = g.normal(size=(3 * m + 2, d))
    scores = signals.permutation_scores(E, m)
    rotated = signals.permutation_scores(E @ random_rotation(d, seed + 1), m)
    np.testing.assert_allclose(rotated, scores, rtol=1e-10)
    q = tuple(g.permutation(m))
    assert signals.permutation_score(E, q) == pytest.approx(
        signals.permutation_score(E, q[::-1]), rel=1e-12
    )


# --- cube-arrangement score ------------------------------------------------------------------


def test_168_arrangements_of_3_bits_give_28_alphas_six_each():
    matrices, alphas = signals.arrangements(3)
    assert matrices.shape == (168, 3, 3) and alphas.shape == (168, 8, 8)
    assert len({m.tobytes() for m in matrices}) == 168
    # every matrix invertible over GF(2): odd integer determinant
    assert np.all(np.round(np.linalg.det(matrices.astype(float))).astype(int) % 2 == 1)
    _, counts = np.unique(alphas.reshape(168, -1), axis=0, return_counts=True)
    assert len(counts) == 28 and np.all(counts == 6)
    assert signals.arrangements(2)[0].shape[0] == 6
    assert signals.arrangements(4)[0].shape[0] == 20160


def test_alpha_is_squared_distance_on_the_cube():
    matrices, alphas = signals.arrangements(3)
    bits = (np.arange(8)[:, None] >> np.arange(3)) & 1
    for M, alpha in zip(matrices[::17], alphas[::17]):
        vertices = bits @ M.T.astype(int) % 2  # row t is M·t
        np.testing.assert_array_equal(alpha, ((vertices[:, None] - vertices[None]) ** 2).sum(-1))


def test_arrangement_scores_brute_force():
    E = np.random.default_rng(11).normal(size=(8, 5))
    _, alphas = signals.arrangements(3)
    g = signals.arrangement_scores(E, 3)
    for n in range(0, 168, 13):
        expected = sum(
            np.sum((E[i] - E[j]) ** 2) * alphas[n, i, j] for i in range(8) for j in range(i + 1, 8)
        )
        assert g[n] == pytest.approx(expected, rel=1e-12)
    # arrangements sharing an α tie exactly
    key = [a.tobytes() for a in alphas]
    for n in range(168):
        for other in range(n + 1, 168):
            if key[n] == key[other]:
                assert g[n] == g[other]


@FAST
@given(seed=st.integers(0, 10**6), d=st.integers(2, 8))
def test_property_arrangement_score_invariant_under_rotation_and_translation(seed, d):
    g = np.random.default_rng(seed)
    E = g.normal(size=(8, d))
    moved = E @ random_rotation(d, seed + 1) + g.normal(scale=5.0, size=d)
    np.testing.assert_allclose(
        signals.arrangement_scores(moved, 3), signals.arrangement_scores(E, 3), rtol=1e-9
    )


# --- comparing with all candidates -----------------------------------------------------------


def test_normalised_and_top_percent():
    np.testing.assert_allclose(signals.normalised([1.0, 2.0, 3.0, 6.0]), [1 / 3, 2 / 3, 1.0, 2.0])
    scores = [5.0, 1.0, 3.0, 3.0, 9.0, 2.0, 7.0, 3.0, 0.0, 4.0]
    assert signals.top_percent(scores, 9.0) == 0.0
    assert signals.top_percent(scores, 3.0) == 40.0  # 5, 9, 7, 4; the ties do not count
    assert signals.top_percent(scores, 0.0) == 90.0
    assert signals.top_percent(scores, -1.0) == 100.0
