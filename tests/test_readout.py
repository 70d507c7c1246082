"""Reading off the learned representation (docs/method.md#read-offs) from final embeddings built by hand."""

import itertools

import numpy as np
import pytest

from cinit_tf import readout, signals


def random_rotation(d, seed):
    Q, R = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return Q * np.sign(np.diag(R))


def line_of_clusters(q, p, d, noise, seed):
    """Remainder i's tokens sit around position (index of i in q) on a random line in R^d."""
    g = np.random.default_rng(seed)
    m = len(q)
    position = np.empty(m)
    position[list(q)] = np.arange(m)
    direction = random_rotation(d, seed)[0]
    E = np.outer(position[np.arange(p) % m], direction) + noise * g.normal(size=(p, d))
    return E + g.normal(size=d)


def cube(M, d, seed, scale=2.0):
    """Token t at scale·(M·t) on the unit cube, rotated into R^d and shifted."""
    g = np.random.default_rng(seed)
    bits = M.shape[0]
    vertices = ((np.arange(2**bits)[:, None] >> np.arange(bits)) & 1) @ M.T.astype(int) % 2
    padded = np.zeros((2**bits, d))
    padded[:, :bits] = scale * vertices
    return padded @ random_rotation(d, seed) + g.normal(size=d)


def cross_polytope(d, seed, noise=0.0):
    """Tokens 0..3 at +e_0..+e_3, tokens 4..7 at their antipodes, rotated into R^d."""
    g = np.random.default_rng(seed)
    E = np.zeros((8, d))
    E[:4, :4] = np.eye(4)
    E[4:, :4] = -np.eye(4)
    return (E + noise * g.normal(size=E.shape)) @ random_rotation(d, seed)


# --- remainder -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_line_of_clusters_reads_off_its_order_and_it_scores_top(seed):
    m = 6
    q = tuple(np.random.default_rng(100 + seed).permutation(m).tolist())
    E = line_of_clusters(q, p=60, d=8, noise=0.05, seed=seed)
    learned = readout.learned_permutation(E, m)
    assert learned.q == min(q, q[::-1])
    assert learned.line_share > 0.99
    scores = signals.permutation_scores(E, m)
    assert {int(n) for n in np.flatnonzero(scores == scores.max())} == {
        readout.permutation_index(q),
        readout.permutation_index(q[::-1]),
    }
    assert signals.top_percent(scores, scores[readout.permutation_index(learned.q)]) == 0.0


def test_cluster_blob_has_low_line_share():
    E = np.random.default_rng(4).normal(size=(100, 8))
    assert readout.learned_permutation(E, 10).line_share < 0.6


def test_permutation_index_is_itertools_position():
    for n, q in enumerate(itertools.permutations(range(5))):
        assert readout.permutation_index(q, 5) == n
    assert readout.permutation_index(tuple(range(10))[::-1]) == 3628799
    with pytest.raises(ValueError):
        readout.permutation_index((0, 0, 1))


def test_canonical_permutation_identifies_reversal():
    assert readout.canonical_permutation((3, 1, 0, 2)) == (2, 0, 1, 3)
    assert readout.canonical_permutation((2, 0, 1, 3)) == (2, 0, 1, 3)


# --- xor -------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", [0, 41, 100, 167])
def test_cube_reads_off_its_alpha_and_it_scores_top(which):
    matrices, alphas = signals.arrangements(3)
    E = cube(matrices[which], d=8, seed=which)
    learned = readout.learned_arrangement(E, 3)
    np.testing.assert_array_equal(alphas[learned.index], alphas[which])
    assert learned.fit == pytest.approx(1.0, abs=1e-12)
    g = signals.arrangement_scores(E, 3)
    top = np.flatnonzero(g == g.max())
    assert len(top) == 6 and all(np.array_equal(alphas[n], alphas[which]) for n in top)
    assert signals.top_percent(g, g[learned.index]) == 0.0
    assert readout.final_shape(E, 3) == "cube"


def test_noisy_cube_is_still_a_cube():
    matrices, _ = signals.arrangements(3)
    E = cube(matrices[7], d=8, seed=3) + 0.05 * np.random.default_rng(9).normal(size=(8, 8))
    assert readout.final_shape(E, 3) == "cube"


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_cross_polytope_is_classified_as_such(noise):
    E = cross_polytope(d=8, seed=5, noise=noise)
    fit = readout.learned_arrangement(E, 3).fit
    assert 0.65 < fit < readout.CUBE_MIN_FIT  # an ambiguous cube read-off
    assert readout.final_shape(E, 3) == "cross_polytope"


def test_random_embedding_is_other():
    E = np.random.default_rng(12).normal(size=(8, 8))
    assert readout.final_shape(E, 3) == "other"


# --- modular addition -----------------------------------------------------------


def test_survivors():
    norms = np.array([100.0, 5.0, 4.99, 0.0, 50.0])
    np.testing.assert_array_equal(readout.survivors(norms), [True, True, False, False, True])
    np.testing.assert_array_equal(
        readout.survivors(norms, tau=0.2), [True, False, False, False, True]
    )
    batch = np.array([[1.0, 0.01, 0.5], [0.0, 3.0, 0.2]])
    np.testing.assert_array_equal(
        readout.survivors(batch), [[True, False, True], [False, True, True]]
    )


def test_principal_components_of_a_tilted_plane():
    # An ellipse with axes 3 and 1 in a tilted plane of R^5, plus an offset: its principal components are
    # the ellipse's own coordinates (up to sign), longest first, and nothing is left for a third.
    basis, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(5, 2)))
    angle = 2 * np.pi * np.arange(40) / 40
    coords = np.column_stack([3 * np.cos(angle), np.sin(angle)])
    X = readout.principal_components(coords @ basis.T + 7.0, 3)
    assert X.shape == (40, 3)
    np.testing.assert_allclose(np.abs(X[:, :2]), np.abs(coords), atol=1e-9)
    np.testing.assert_allclose(X[:, 2], 0.0, atol=1e-9)
