"""The paper's model (SPEC §3) for a whole population: every weight carries a leading member axis.

Member n computes  logits = relu(relu([E_a, E_b]·W1 + b1)·W2 + b2)·W3 + b3  with its own weights.
The first layer is factored: [E_a, E_b]·W1 = (E·W1_top)[a] + (E·W1_bottom)[b], so it costs one
(p × d)·(d × width) product per member instead of one per pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from cinit_tf.seeds import rng


@dataclass(frozen=True)
class Shape:
    """What every member of a population shares."""

    p: int
    d: int
    width: int
    classes: int


def initial_embedding(shape: Shape, embedding_seed: int) -> np.ndarray:
    """W_E ~ N(0, 1), from the embedding stream only."""
    return rng("embedding", embedding_seed).standard_normal((shape.p, shape.d))


def initial_mlp(shape: Shape, mlp_seed: int) -> dict[str, np.ndarray]:
    """Dense weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default, from the MLP stream."""
    g = rng("mlp", mlp_seed)

    def uniform(fan_in, size):
        bound = 1.0 / np.sqrt(fan_in)
        return g.uniform(-bound, bound, size=size)

    d, h, c = shape.d, shape.width, shape.classes
    w1 = uniform(2 * d, (2 * d, h))  # one Dense over concat[E_a, E_b]: fan_in is 2d
    return {
        "w1a": w1[:d],
        "w1b": w1[d:],
        "b1": uniform(2 * d, (h,)),
        "w2": uniform(h, (h, h)),
        "b2": uniform(h, (h,)),
        "w3": uniform(h, (h, c)),
        "b3": uniform(h, (c,)),
    }


MLP_WEIGHTS = ("w1a", "w1b", "b1", "w2", "b2", "w3", "b3")


class PopulationModel(keras.Model):
    """N members of identical shape as one Keras model; `call` maps pairs (N, n, 2) to logits (N, n, classes)."""

    def __init__(self, members: int, shape: Shape, train_embedding: bool = True, dtype: str = "float32", **kwargs):
        super().__init__(dtype=dtype, **kwargs)
        self.members = members
        self.shape_ = shape
        n, p, d, h, c = members, shape.p, shape.d, shape.width, shape.classes
        self.embedding = self.add_weight(shape=(n, p, d), initializer="zeros", trainable=train_embedding, name="embedding")
        shapes = {"w1a": (n, d, h), "w1b": (n, d, h), "b1": (n, h), "w2": (n, h, h), "b2": (n, h), "w3": (n, h, c), "b3": (n, c)}
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
        h = tf.gather(top, pairs[..., 0], batch_dims=1) + tf.gather(bottom, pairs[..., 1], batch_dims=1)
        h = tf.nn.relu(h + self.b1[:, None, :])
        h = tf.nn.relu(tf.einsum("nbh,nhk->nbk", h, tf.convert_to_tensor(self.w2)) + self.b2[:, None, :])
        return tf.einsum("nbh,nhc->nbc", h, tf.convert_to_tensor(self.w3)) + self.b3[:, None, :]
