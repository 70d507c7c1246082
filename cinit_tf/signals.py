"""Completeness signals of an embedding (SPEC §4): pure functions, array in, array out."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def n_frequencies(p: int) -> int:
    """Frequencies k = 1..floor((p-1)/2): k and p-k are one circle, k = 0 is the mean."""
    return (p - 1) // 2


def fourier_norms_tf(E: tf.Tensor) -> tf.Tensor:
    """signal_k = ||F_k||² (eq. 1) for k = 1..floor((p-1)/2), on (..., p, d); traceable under XLA."""
    p = E.shape[-2]
    x = tf.linalg.matrix_transpose(E)  # (..., d, p): rfft runs over the token axis
    F = tf.signal.rfft(x) if x.dtype == tf.float32 else tf.signal.rfft(x, fft_length=[p])
    power = tf.math.real(F) ** 2 + tf.math.imag(F) ** 2
    return tf.reduce_sum(power[..., 1 : n_frequencies(p) + 1], axis=-2)


def fourier_norms(E) -> np.ndarray:
    """signal_k for k = 1..floor((p-1)/2) of an embedding (p, d) or a batch (..., p, d), via tf.signal."""
    E = tf.convert_to_tensor(E)
    if not E.dtype.is_floating:
        E = tf.cast(E, tf.float64)
    return fourier_norms_tf(E).numpy()
