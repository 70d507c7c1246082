"""The paper's model (docs/method.md#model) for a whole population: every weight carries a leading member axis.

Member n computes  logits = relu(relu([E_a, E_b]·W1 + b1)·W2 + b2)·W3 + b3  with its own weights.
The first layer is factored: [E_a, E_b]·W1 = (E·W1_top)[a] + (E·W1_bottom)[b], so it costs one
(p × d)·(d × width) product per member instead of one per pair.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.framework import keras, tf
from cinit_tf.trial import Shape

MLP_WEIGHTS = ("w1a", "w1b", "b1", "w2", "b2", "w3", "b3")


class PopulationModel(keras.Model):
    """N members of identical shape as one Keras model; `call` maps pairs (N, n, 2) to logits (N, n, classes)."""

    def __init__(
        self,
        members: int,
        shape: Shape,
        train_embedding: bool = True,
        dtype: str = "float32",
        **kwargs,
    ):
        super().__init__(dtype=dtype, **kwargs)
        n, p, d, h, c = members, shape.p, shape.d, shape.width, shape.classes
        self.embedding = self.add_weight(
            shape=(n, p, d), initializer="zeros", trainable=train_embedding, name="embedding"
        )
        shapes = {
            "w1a": (n, d, h),
            "w1b": (n, d, h),
            "b1": (n, h),
            "w2": (n, h, h),
            "b2": (n, h),
            "w3": (n, h, c),
            "b3": (n, c),
        }
        for key in MLP_WEIGHTS:
            setattr(self, key, self.add_weight(shape=shapes[key], initializer="zeros", name=key))

    def set_members(self, embeddings: np.ndarray, mlps: list[dict[str, np.ndarray]]) -> None:
        """Load every member's initial embedding (N, p, d) and MLP weights."""
        self.embedding.assign(np.asarray(embeddings, dtype=self.dtype))
        for key in MLP_WEIGHTS:
            getattr(self, key).assign(np.stack([m[key] for m in mlps]).astype(self.dtype))

    def call(self, pairs):
        E = tf.convert_to_tensor(self.embedding)
        top = tf.einsum("npd,ndh->nph", E, tf.convert_to_tensor(self.w1a))
        bottom = tf.einsum("npd,ndh->nph", E, tf.convert_to_tensor(self.w1b))
        h = tf.gather(top, pairs[..., 0], batch_dims=1) + tf.gather(
            bottom, pairs[..., 1], batch_dims=1
        )
        h = tf.nn.relu(h + self.b1[:, None, :])
        h = tf.nn.relu(
            tf.einsum("nbh,nhk->nbk", h, tf.convert_to_tensor(self.w2)) + self.b2[:, None, :]
        )
        return tf.einsum("nbh,nhc->nbc", h, tf.convert_to_tensor(self.w3)) + self.b3[:, None, :]
