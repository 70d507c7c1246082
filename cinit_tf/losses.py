"""What the engine computes in the graph besides the model: the per-pair cross-entropy (the framework's,
or the exact form that keeps 1 - p of the target class) and the Fourier signals of an embedding.
Traceable under XLA."""

from __future__ import annotations

import numpy as np

from cinit_tf.framework import tf
from cinit_tf.signals import n_frequencies
from cinit_tf.trial import LOSSES


def fourier_norms_tf(E: tf.Tensor) -> tf.Tensor:
    """signal_k = ||F_k||² (eq. 1) for k = 1..floor((p-1)/2), on (..., p, d); traceable under XLA.

    The in-graph twin of `cinit_tf.signals.fourier_norms` (tf.signal; a test keeps them equal), and like
    it computed in float64 whatever the training precision: every signal a study reads (the initial
    ranking, survivors, the settling rule, the choice of k1 and k2) is in one precision
    (docs/method.md#signals-in-one-precision).
    """
    p = E.shape[-2]
    x = tf.cast(tf.linalg.matrix_transpose(E), tf.float64)  # (..., d, p): rfft runs over the tokens
    F = tf.signal.rfft(x, fft_length=[p])
    power = tf.math.real(F) ** 2 + tf.math.imag(F) ** 2
    return tf.reduce_sum(power[..., 1 : n_frequencies(p) + 1], axis=-2)


def exact_cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """-log p_y written as softplus(logsumexp_{j != y}(z_j - z_y)) (docs/method.md#the-exact-loss).

    The standard form, logsumexp(z) - z_y, rounds to exactly 0 once p_y rounds to 1 (in float32 when
    1 - p_y < ~6e-8), and so does the target's gradient p_y - 1, while the other classes' gradients
    p_j do not. Here the loss is log1p of the off-target sum, so it stays positive, and autodiff gives
    the target's gradient as -sigmoid(s) = -(1 - p_y), held without cancellation.
    """
    z = logits - tf.gather(logits, labels[..., None], axis=-1, batch_dims=len(labels.shape))
    target = tf.one_hot(labels, tf.shape(logits)[-1], on_value=True, off_value=False)
    off = tf.where(target, tf.constant(-np.inf, logits.dtype), z)
    return tf.math.softplus(tf.reduce_logsumexp(off, axis=-1))


def cross_entropy(labels: tf.Tensor, logits: tf.Tensor, kind: str = "standard") -> tf.Tensor:
    """Per-pair cross-entropy: the framework's ("standard") or `exact_cross_entropy` ("exact")."""
    if kind == "exact":
        return exact_cross_entropy(labels, logits)
    if kind != "standard":
        raise ValueError(f"unknown loss {kind!r}: expected one of {LOSSES}")
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
