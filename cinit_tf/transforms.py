"""Transforms of the initial embedding, applied before training (docs/method.md#transforms).

Each returns a NEW embedding and leaves its input untouched; `apply_transform` also returns what
it chose (frequencies, signals), which the store keeps with the trial so that no study replays a draw. Frequencies follow
signals.fourier_norms: F_k = Σ_n e^{-2πi kn/p} E_n (eq. 1), k = 1..floor((p-1)/2), where
k and p - k are one circle; numpy's rfft/irfft use the same sign, so the rfft row k is F_k
and irfft restores F_{p-k} as its conjugate, keeping the embedding real.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from cinit_tf.seeds import rng
from cinit_tf.signals import fourier_norms, n_frequencies

RANDOM_AS_MANY = "random as many as mean+1std"  # the control of "mean+1std": as many frequencies, drawn at random
KEEP_RULES = ("mean+1std", "top-1 final", "top-2 final", "random 1", "random 2", RANDOM_AS_MANY)
CONSTRUCT_EPS = 1e-6  # paper §4.2 "Manual Construction": every other frequency has signal ε


def _embedding_copy(E) -> tuple[np.ndarray, np.dtype]:
    """A float64 working copy, and the dtype to hand back (the input's, when it is a float)."""
    E = E.numpy() if hasattr(E, "numpy") else E
    E = np.asarray(E)
    if E.ndim != 2:
        raise ValueError(f"an embedding has shape (p, d), got {E.shape}")
    dtype = E.dtype if np.issubdtype(E.dtype, np.floating) else np.dtype(np.float64)
    return np.array(E, dtype=np.float64, copy=True), dtype


def _check_frequency(k: int, p: int) -> int:
    K = n_frequencies(p)
    if not 1 <= int(k) <= K:
        raise ValueError(f"frequency must be in 1..{K} for p={p}, got {k}")
    return int(k)


def fourier_scale(E, k: int, s: float) -> np.ndarray:
    """Multiply F_k and F_{p-k} by s and invert (Fig. 5b): signal_k becomes s² · signal_k,
    every other frequency (and the mean) is unchanged."""
    X, dtype = _embedding_copy(E)
    p = X.shape[0]
    k = _check_frequency(k, p)
    F = np.fft.rfft(X, axis=0)
    F[k] *= s  # irfft mirrors it onto F_{p-k}
    return np.fft.irfft(F, n=p, axis=0).astype(dtype)


def fourier_keep(
    E, keep: Collection[int], keep_zero: bool = True, keep_nyquist: bool = False
) -> np.ndarray:
    """Zero every frequency not in `keep` (Fig. 6d, App. G); k in keep keeps both k and p - k.

    keep_zero keeps F_0 (the mean embedding); App. G's "set all frequencies except k_1 to 0"
    would drop it, paper §4.4 does not say, so it is a flag. For even p the Nyquist term k = p/2 is
    not a circle and not among the signals a rule can name; it is dropped unless keep_nyquist.
    """
    X, dtype = _embedding_copy(E)
    p = X.shape[0]
    kept = {_check_frequency(k, p) for k in keep}
    F = np.fft.rfft(X, axis=0)
    mask = np.zeros(F.shape[0], dtype=bool)
    mask[sorted(kept)] = True
    mask[0] = keep_zero
    if p % 2 == 0:
        mask[p // 2] = keep_nyquist
    F[~mask] = 0.0
    return np.fft.irfft(F, n=p, axis=0).astype(dtype)


def _above_mean_plus_std(E) -> np.ndarray:
    """0-based indices of the frequencies whose initial signal exceeds mean + 1 std (population std)."""
    signal = fourier_norms(E)
    return np.flatnonzero(signal > signal.mean() + signal.std())


def _random_frequencies(
    p: int, n: int, seed: int | None, rule: str, final_norms=None
) -> np.ndarray:
    """n 0-based frequencies drawn uniformly without replacement from the "keep_rule" stream of `seed`;
    with final_norms, among the frequencies other than its two largest."""
    if seed is None:
        raise ValueError(f"rule {rule!r} needs a seed")
    pool = np.arange(n_frequencies(p))
    if final_norms is not None:
        top2 = np.argsort(-np.asarray(final_norms, dtype=np.float64), kind="stable")[:2]
        pool = np.setdiff1d(pool, top2)
    if n > pool.size:
        raise ValueError(f"rule {rule!r} draws {n} frequencies from {pool.size}")
    return rng("keep_rule", seed).choice(pool, size=n, replace=False)


def keep_rule(E, rule: str, seed: int | None = None, final_norms=None) -> tuple[int, ...]:
    """The frequencies (sorted, 1-based) a named rule keeps, for fourier_keep.

    "mean+1std": initial signal_k > mean + 1 std over the K frequencies (paper §4.4; population std).
    "top-1 final", "top-2 final": the 1 or 2 largest signals of final_norms, the final Fourier
        norms of an earlier, unablated run from the same start (App. G, k_1 and k_2).
    "random 1", "random 2": 1 or 2 frequencies drawn uniformly without replacement from the
        "keep_rule" stream of `seed` (App. G, controls C and D). With final_norms, the draw is
        among the frequencies other than its two largest (App. G: "other" frequencies than k_1, k_2).
    "random as many as mean+1std": as many frequencies as "mean+1std" keeps on the same E, drawn
        like "random n" (so a drawn frequency may be one "mean+1std" keeps): the control that tells
        keeping the high-signal frequencies from keeping few of them.
    """
    if rule not in KEEP_RULES:
        raise ValueError(f"unknown keep rule {rule!r}; expected one of {KEEP_RULES}")
    p = np.shape(E)[0]
    if rule == "mean+1std":
        chosen = _above_mean_plus_std(E)
    elif rule.startswith("top-"):
        if final_norms is None:
            raise ValueError(f"rule {rule!r} needs final_norms from a previous run")
        n = int(rule[len("top-")])
        final = np.asarray(final_norms, dtype=np.float64)
        chosen = np.argsort(-final, kind="stable")[:n]
    elif rule == RANDOM_AS_MANY:
        chosen = _random_frequencies(p, len(_above_mean_plus_std(E)), seed, rule, final_norms)
    else:
        chosen = _random_frequencies(p, int(rule.split()[1]), seed, rule, final_norms)
    return tuple(sorted(int(i) + 1 for i in chosen))


def construct_two(p: int, d: int, s: float, r: float, seed: int, eps: float = CONSTRUCT_EPS):
    """An embedding made in Fourier space (paper §4.2, Fig. 5c): two random frequencies with signal
    s (k_top) and r · s (k_second), every other k >= 1 with signal eps.

    "Signal" is ||F_k||² as in signals.fourier_norms. Each F_k is a standard complex Gaussian
    vector in C^d rescaled to its signal, i.e. a uniformly random direction and phase, which
    makes a generic ellipse rather than a segment. F_0 = 0 (no mean), and for even p the
    Nyquist term is 0. Randomness comes from the "construct_two" stream of `seed`.
    Returns (E of shape (p, d), (k_top, k_second)).
    """
    K = n_frequencies(p)
    if K < 2:
        raise ValueError(f"p={p} has fewer than two frequencies")
    if s < 0 or r < 0 or eps < 0:
        raise ValueError(f"signals are non-negative, got s={s}, r={r}, eps={eps}")
    g = rng("construct_two", seed)
    k_top, k_second = (int(k) + 1 for k in g.choice(K, size=2, replace=False))
    signal = np.full(K, float(eps))
    signal[k_top - 1] = s
    signal[k_second - 1] = r * s
    z = g.standard_normal((K, d)) + 1j * g.standard_normal((K, d))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    F = np.zeros((p // 2 + 1, d), dtype=np.complex128)
    F[1 : K + 1] = np.sqrt(signal)[:, None] * z
    return np.fft.irfft(F, n=p, axis=0), (k_top, k_second)


def apply_transform(
    spec: dict, E: np.ndarray, seed: int, source_final=None
) -> tuple[np.ndarray | None, dict]:
    """The initial embedding an experiment file's `[transform]` asks for, from the drawn embedding E,
    and what the transform chose, as plain JSON values.

    `source_final`: for a fourier_keep with a `source_case`, the final Fourier norms of the same
    seeds' trial in that case (an earlier stage of the experiment).

    Returns (None, {}) for "none" (train from E as drawn). Randomness (a "random" frequency, a random
    keep set, construct_two's frequencies) comes from `seed`, the trial's embedding seed, so every
    trial sharing an embedding gets the same transformed embedding. What was chosen:
    fourier_scale {"k", "s"}; fourier_keep {"kept": [k, ...], "keep_zero"}; construct_two
    {"k_top", "k_second", "signal_top", "signal_second"}.
    """
    name = spec.get("name", "none")
    if name == "none":
        return None, {}
    if name == "fourier_scale":
        k = spec["k"]
        if k == "random":
            k = int(rng("fourier_scale_k", seed).integers(1, (E.shape[0] - 1) // 2 + 1))
        k, s = int(k), float(spec["s"])
        return fourier_scale(E, k, s), {"k": k, "s": s}
    if name == "fourier_keep":
        if "final" in spec["rule"] and source_final is None:
            raise ValueError(
                f"keep rule {spec['rule']!r} needs the final signals of an earlier run (transform.source_case)"
            )
        kept, keep_zero = (
            keep_rule(E, spec["rule"], seed=seed, final_norms=source_final),
            bool(spec.get("keep_zero", True)),
        )
        return fourier_keep(E, kept, keep_zero=keep_zero), {
            "kept": list(kept),
            "keep_zero": keep_zero,
        }
    if name == "construct_two":
        p, d = E.shape
        s, r = float(spec["s"]), float(spec["r"])
        built, (k_top, k_second) = construct_two(
            p, d, s, r, seed, eps=float(spec.get("eps", CONSTRUCT_EPS))
        )
        return built, {
            "k_top": k_top,
            "k_second": k_second,
            "signal_top": s,
            "signal_second": r * s,
        }
    raise ValueError(f"unknown transform {name!r}")
