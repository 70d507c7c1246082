"""Initial-embedding transforms (docs/method.md#transforms), checked through the Fourier signals they change,
and what `apply_transform` says it chose checked against the embedding it returns."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cinit_tf import transforms
from cinit_tf.seeds import rng
from cinit_tf.signals import fourier_norms, n_frequencies

FAST = settings(max_examples=25, deadline=None)


def embedding(p=59, d=8, seed=0):
    return np.random.default_rng(seed).normal(size=(p, d))


# --- fourier_keep ----------------------------------------------------------------------------


@pytest.mark.parametrize("p", [59, 16])
def test_fourier_keep_leaves_exactly_the_kept_frequencies(p):
    E = embedding(p=p)
    before = E.copy()
    keep = {2, 5}
    kept = transforms.fourier_keep(E, keep)
    np.testing.assert_array_equal(E, before)  # input untouched
    old, new = fourier_norms(E), fourier_norms(kept)
    k = np.arange(1, n_frequencies(p) + 1)
    is_kept = np.isin(k, list(keep))
    np.testing.assert_allclose(new[is_kept], old[is_kept], rtol=1e-10)
    assert np.all(new[~is_kept] < 1e-20 * old[is_kept].min())
    np.testing.assert_allclose(kept.mean(axis=0), E.mean(axis=0), atol=1e-12)
    if p % 2 == 0:  # the Nyquist term is gone unless asked for
        alternating = (-1.0) ** np.arange(p)
        assert np.all(np.abs(alternating @ kept) < 1e-10)
        np.testing.assert_allclose(
            alternating @ transforms.fourier_keep(E, keep, keep_nyquist=True),
            alternating @ E,
            rtol=1e-10,
        )


def test_fourier_keep_can_drop_the_mean():
    E = embedding() + 3.0
    kept = transforms.fourier_keep(E, [4], keep_zero=False)
    np.testing.assert_allclose(kept.mean(axis=0), 0.0, atol=1e-12)
    assert fourier_norms(kept)[3] == pytest.approx(fourier_norms(E)[3], rel=1e-10)
    with pytest.raises(ValueError):
        transforms.fourier_keep(E, [0])
    with pytest.raises(ValueError):
        transforms.fourier_keep(E, [30])


# --- fourier_scale ---------------------------------------------------------------------------


@pytest.mark.parametrize("s", [0.0, 0.5, 3.0])
def test_fourier_scale_multiplies_exactly_one_signal_by_s_squared(s):
    E = embedding(seed=1)
    before = E.copy()
    k = 11
    scaled = transforms.fourier_scale(E, k, s)
    np.testing.assert_array_equal(E, before)
    old, new = fourier_norms(E), fourier_norms(scaled)
    assert new[k - 1] == pytest.approx(s**2 * old[k - 1], rel=1e-10, abs=1e-18)
    np.testing.assert_allclose(np.delete(new, k - 1), np.delete(old, k - 1), rtol=1e-10)
    np.testing.assert_allclose(scaled.mean(axis=0), E.mean(axis=0), atol=1e-12)
    assert scaled.dtype == E.dtype


def test_fourier_scale_keeps_float32():
    E = embedding(seed=2).astype(np.float32)
    assert transforms.fourier_scale(E, 3, 2.0).dtype == np.float32


@FAST
@given(
    p=st.integers(5, 60),
    d=st.integers(1, 6),
    s=st.floats(0.0, 10.0),
    seed=st.integers(0, 10**6),
    data=st.data(),
)
def test_property_fourier_scale_and_keep(p, d, s, seed, data):
    E = embedding(p=p, d=d, seed=seed)
    K = n_frequencies(p)
    k = data.draw(st.integers(1, K))
    old = fourier_norms(E)
    expected = old.copy()
    expected[k - 1] *= s**2
    np.testing.assert_allclose(
        fourier_norms(transforms.fourier_scale(E, k, s)), expected, rtol=1e-9, atol=1e-9
    )
    keep = data.draw(st.sets(st.integers(1, K), min_size=1, max_size=K))
    mask = np.isin(np.arange(1, K + 1), list(keep))
    np.testing.assert_allclose(
        fourier_norms(transforms.fourier_keep(E, keep)),
        np.where(mask, old, 0.0),
        rtol=1e-9,
        atol=1e-9,
    )


# --- construct_two ---------------------------------------------------------------------------


@pytest.mark.parametrize("r", [0.0, 0.3, 1.0])
def test_construct_two_has_the_requested_signals(r):
    p, d, s = 59, 16, 400.0
    E, (k_top, k_second) = transforms.construct_two(p, d, s, r, seed=3)
    assert E.shape == (p, d) and k_top != k_second
    norms = fourier_norms(E)
    assert norms[k_top - 1] == pytest.approx(s, rel=1e-10)
    assert norms[k_second - 1] == pytest.approx(r * s, rel=1e-10, abs=1e-12)
    assert norms[k_second - 1] / norms[k_top - 1] == pytest.approx(r, abs=1e-12)
    rest = np.delete(norms, [k_top - 1, k_second - 1])
    np.testing.assert_allclose(rest, transforms.CONSTRUCT_EPS, rtol=1e-6)
    np.testing.assert_allclose(E.mean(axis=0), 0.0, atol=1e-12)


def test_construct_two_is_seeded():
    a, ka = transforms.construct_two(31, 4, 10.0, 0.5, seed=1)
    b, kb = transforms.construct_two(31, 4, 10.0, 0.5, seed=1)
    np.testing.assert_array_equal(a, b)
    assert ka == kb
    c, _ = transforms.construct_two(31, 4, 10.0, 0.5, seed=2)
    assert not np.allclose(a, c)


# --- keep rules ------------------------------------------------------------------------------


def from_signals(signal, p: int, d: int = 4, seed: int = 0) -> np.ndarray:
    """An embedding whose Fourier signals are exactly `signal` (random directions and phases, no mean)."""
    K = n_frequencies(p)
    g = np.random.default_rng(seed)
    z = g.normal(size=(K, d)) + 1j * g.normal(size=(K, d))
    F = np.zeros((p // 2 + 1, d), dtype=complex)
    F[1 : K + 1] = (
        np.sqrt(np.asarray(signal, dtype=float))[:, None]
        * z
        / np.linalg.norm(z, axis=1, keepdims=True)
    )
    E = np.fft.irfft(F, n=p, axis=0)
    np.testing.assert_allclose(fourier_norms(E), signal, rtol=1e-10)
    return E


def test_keep_rule_mean_plus_one_std():
    p = 31
    signal = np.ones(n_frequencies(p))
    signal[[2, 8]] = [40.0, 25.0]  # mean ≈ 3.1, std ≈ 8.3: only these two exceed mean + std
    signal[5] = 9.0  # above the mean, below mean + std
    assert transforms.keep_rule(from_signals(signal, p), "mean+1std") == (3, 9)


# Constructed signals over K = 15 (p = 31) and the frequencies (1-based) above mean + 1 std, worked out by hand.
ABOVE = [
    (
        {2: 40.0, 8: 25.0, 5: 9.0},
        (3, 9),
    ),  # mean ≈ 5.7, std ≈ 11.0: 40 and 25 exceed 16.8, 9 does not
    ({11: 30.0}, (12,)),  # mean ≈ 2.9, std ≈ 7.2: only the 30 exceeds 10.2
    ({0: 9.0, 4: 9.0, 7: 9.0, 13: 9.0}, (1, 5, 8, 14)),  # four 9s among ones: mean ≈ 3.1, std ≈ 3.5
]


@pytest.mark.parametrize("high, survivors", ABOVE)
def test_keep_rule_random_as_many_draws_as_many_as_mean_plus_one_std(high, survivors):
    p = 31
    K = n_frequencies(p)
    signal = np.ones(K)
    for k, v in high.items():
        signal[k] = v
    E = from_signals(signal, p, seed=len(high))
    assert transforms.keep_rule(E, "mean+1std") == survivors
    rule = transforms.RANDOM_AS_MANY
    draws = [transforms.keep_rule(E, rule, seed=s) for s in range(40)]
    assert all(
        len(k) == len(survivors) and len(set(k)) == len(k) and all(1 <= f <= K for f in k)
        for k in draws
    )
    assert all(list(k) == sorted(k) for k in draws)
    assert [
        transforms.keep_rule(E, rule, seed=s) for s in range(40)
    ] == draws  # seeded: the same seed, the same draw
    assert len(set(draws)) > 5  # a draw, not a constant
    # Among all K frequencies, the survivors included: every frequency is drawn by some seed.
    wide = [transforms.keep_rule(E, rule, seed=s) for s in range(300)]
    assert set().union(*wide) == set(range(1, K + 1))
    # The draw is the "keep_rule" stream of the seed, as the "random n" rules draw it.
    expected = rng("keep_rule", 7).choice(K, size=len(survivors), replace=False)
    assert transforms.keep_rule(E, rule, seed=7) == tuple(sorted(int(i) + 1 for i in expected))


def test_keep_rule_random_as_many_needs_a_seed_and_avoids_a_source_top_two():
    E = from_signals(np.r_[np.ones(13), 50.0, 40.0], 31)
    assert transforms.keep_rule(E, "mean+1std") == (14, 15)
    with pytest.raises(ValueError, match="needs a seed"):
        transforms.keep_rule(E, transforms.RANDOM_AS_MANY)
    final = np.zeros(15)
    final[[0, 6]] = [5.0, 9.0]
    draws = [
        transforms.keep_rule(E, transforms.RANDOM_AS_MANY, seed=s, final_norms=final)
        for s in range(40)
    ]
    assert all(len(k) == 2 and not {1, 7} & set(k) for k in draws)


def test_keep_rule_top_final_and_random():
    E = embedding(p=31)
    final = np.zeros(15)
    final[[6, 12, 3]] = [5.0, 9.0, 1.0]
    assert transforms.keep_rule(E, "top-1 final", final_norms=final) == (13,)
    assert transforms.keep_rule(E, "top-2 final", final_norms=final) == (7, 13)
    with pytest.raises(ValueError):
        transforms.keep_rule(E, "top-1 final")
    one = transforms.keep_rule(E, "random 1", seed=4)
    two = transforms.keep_rule(E, "random 2", seed=4)
    assert len(one) == 1 and len(two) == 2 and all(1 <= k <= 15 for k in one + two)
    assert transforms.keep_rule(E, "random 2", seed=4) == two
    draws = {transforms.keep_rule(E, "random 2", seed=s) for s in range(20)}
    assert len(draws) > 5
    with pytest.raises(ValueError):
        transforms.keep_rule(E, "random 1")
    with pytest.raises(ValueError):
        transforms.keep_rule(E, "top-3 final", final_norms=final)


# --- apply_transform: the embedding and what was chosen ----------------------------------------


def _jsonable(chosen: dict) -> dict:
    import json

    return json.loads(json.dumps(chosen))


def test_apply_none_chooses_nothing():
    assert transforms.apply_transform({"name": "none"}, embedding(), 3) == (None, {})


@pytest.mark.parametrize("k", ["random", 7])
def test_apply_fourier_scale_returns_the_k_it_scaled(k):
    E = embedding(p=23, d=16)
    for seed in range(6):
        scaled, chosen = transforms.apply_transform(
            {"name": "fourier_scale", "k": k, "s": 3.0}, E, seed
        )
        assert _jsonable(chosen) == chosen and set(chosen) == {"k", "s"} and chosen["s"] == 3.0
        ratio = fourier_norms(scaled) / fourier_norms(E)
        assert ratio[chosen["k"] - 1] == pytest.approx(9.0)
        np.testing.assert_allclose(np.delete(ratio, chosen["k"] - 1), 1.0, rtol=1e-9)
        if k != "random":
            assert chosen["k"] == k
    draws = {
        transforms.apply_transform({"name": "fourier_scale", "k": "random", "s": 2.0}, E, seed)[1][
            "k"
        ]
        for seed in range(20)
    }
    assert len(draws) > 3  # a draw, not a constant


@pytest.mark.parametrize("rule", ["mean+1std", "random 2", transforms.RANDOM_AS_MANY])
def test_apply_fourier_keep_returns_the_frequencies_left_nonzero(rule):
    E = embedding(p=31, d=8, seed=5)
    for seed in range(4):
        kept_E, chosen = transforms.apply_transform(
            {"name": "fourier_keep", "rule": rule, "keep_zero": False}, E, seed
        )
        assert _jsonable(chosen) == chosen and chosen["keep_zero"] is False
        after = fourier_norms(kept_E)
        nonzero = [int(k) + 1 for k in np.flatnonzero(after > 1e-12 * after.max())]
        assert chosen["kept"] == nonzero and len(nonzero) >= 1
        np.testing.assert_allclose(
            kept_E.mean(axis=0), 0.0, atol=1e-12
        )  # keep_zero = false drops the mean


def test_apply_random_as_many_stores_a_seeded_draw_of_the_survivors_count():
    spec = {"name": "fourier_keep", "rule": transforms.RANDOM_AS_MANY, "keep_zero": True}
    counts, draws = set(), set()
    for seed in range(12):
        E = embedding(p=31, d=8, seed=seed)
        survivors = transforms.keep_rule(E, "mean+1std")
        kept_E, chosen = transforms.apply_transform(spec, E, seed)
        assert len(chosen["kept"]) == len(survivors) and chosen["keep_zero"] is True
        again_E, again = transforms.apply_transform(spec, E.copy(), seed)
        assert again == chosen
        np.testing.assert_array_equal(again_E, kept_E)
        np.testing.assert_allclose(kept_E, transforms.fourier_keep(E, chosen["kept"]), atol=1e-12)
        np.testing.assert_allclose(kept_E.mean(axis=0), E.mean(axis=0), atol=1e-12)
        counts.add(len(survivors))
        draws.add(tuple(chosen["kept"]) != survivors)
    assert (
        len(counts) > 1 and True in draws
    )  # the count follows the embedding; the draw is not the survivors


def test_apply_construct_two_returns_the_frequencies_it_built():
    p, d, s, r = 29, 8, 100.0, 0.4
    for seed in range(4):
        E, chosen = transforms.apply_transform(
            {"name": "construct_two", "s": s, "r": r, "eps": 1e-6}, np.zeros((p, d)), seed
        )
        assert _jsonable(chosen) == chosen
        assert set(chosen) == {"k_top", "k_second", "signal_top", "signal_second"}
        norms = fourier_norms(E)
        assert norms[chosen["k_top"] - 1] == pytest.approx(s, rel=1e-10) == chosen["signal_top"]
        assert norms[chosen["k_second"] - 1] == pytest.approx(r * s, rel=1e-10)
        assert chosen["signal_second"] == pytest.approx(r * s)
        order = np.argsort(-norms) + 1
        assert (int(order[0]), int(order[1])) == (chosen["k_top"], chosen["k_second"])


def test_apply_unknown_transform_and_final_rules_are_refused():
    with pytest.raises(ValueError, match="unknown transform"):
        transforms.apply_transform({"name": "fourier_twist"}, embedding(), 0)
    with pytest.raises(ValueError, match="earlier run"):
        transforms.apply_transform({"name": "fourier_keep", "rule": "top-1 final"}, embedding(), 0)
