"""The exact cross-entropy (train.loss = "exact") against float64, and the softmax-collapse record."""

import numpy as np
import pytest
import tensorflow as tf

from cinit_tf.losses import cross_entropy
from cinit_tf.tasks import make_task
from cinit_tf.training import PopulationTrainer
from cinit_tf.trial import TrainConfig, Trial


def _float64_reference(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """−log p_y and its gradient in float64, computed as log1p of the off-target sum (no cancellation)."""
    z = logits.astype(np.float64)
    zy = np.take_along_axis(z, labels[..., None], axis=-1)
    off = np.exp(z - zy)
    np.put_along_axis(off, labels[..., None], 0.0, axis=-1)
    s = off.sum(-1)
    loss = np.log1p(s)
    p = np.exp(z - zy) / (1.0 + s)[..., None]  # softmax, written from the target's logit
    grad = p.copy()
    np.put_along_axis(
        grad, labels[..., None], -(s / (1.0 + s))[..., None], axis=-1
    )  # p_y − 1 = −(1 − p_y)
    return loss, grad


def _loss_and_grad(logits: np.ndarray, labels: np.ndarray, kind: str):
    z = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = cross_entropy(tf.constant(labels), z, kind)
        total = tf.reduce_sum(loss)
    return loss.numpy(), tape.gradient(total, z).numpy()


def test_exact_loss_keeps_what_the_standard_float32_loss_rounds_to_zero():
    # Pair 0: the target leads by 20 to 40: the standard float32 loss is exactly 0. Pair 1: an ordinary pair.
    logits = np.array([[[40.0, 20.0, 19.5, 0.0, -3.0], [1.0, 0.5, 2.0, -1.0, 0.0]]], np.float32)
    labels = np.array([[0, 2]], np.int32)
    standard, standard_grad = _loss_and_grad(logits, labels, "standard")
    exact, exact_grad = _loss_and_grad(logits, labels, "exact")
    want, want_grad = _float64_reference(logits, labels)
    assert (
        standard[0, 0] == 0.0 and standard_grad[0, 0, 0] == 0.0
    )  # collapsed: loss and target gradient lost
    assert exact[0, 0] > 0.0 and want[0, 0] > 0.0
    np.testing.assert_allclose(exact, want, rtol=1e-6)
    np.testing.assert_allclose(exact_grad, want_grad, rtol=1e-6, atol=1e-30)
    assert exact_grad[0, 0, 0] < 0.0 and exact_grad[0, 0, 0] == pytest.approx(
        want_grad[0, 0, 0], rel=1e-6
    )
    # Where nothing collapses the two losses agree to float32's rounding.
    np.testing.assert_allclose(exact[0, 1], standard[0, 1], rtol=1e-6)


def test_exact_loss_compiles_under_xla_and_in_float64():
    logits = np.array([[[30.0, 0.0, 1.0, -2.0]]], np.float64)
    labels = np.array([[0]], np.int32)
    compiled = tf.function(lambda y, z: cross_entropy(y, z, "exact"), jit_compile=True)
    want, _ = _float64_reference(logits, labels)
    np.testing.assert_allclose(
        compiled(tf.constant(labels), tf.constant(logits)).numpy(), want, rtol=1e-12
    )


def test_an_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="unknown loss"):
        cross_entropy(tf.constant([[0]]), tf.constant([[[1.0, 0.0]]]), "hinge")


@pytest.mark.parametrize("kind", ["standard", "exact"])
def test_every_measurement_records_the_share_of_collapsed_training_pairs(kind):
    """Logits made huge by scaling the last layer: the standard loss of most pairs rounds to 0. The record counts
    them whichever loss trains; the exact loss stays positive where the standard one is 0."""
    task = make_task("modadd", p=11)
    config = TrainConfig(steps=0, d=8, width=16, loss=kind, jit_compile=False)
    trainer = PopulationTrainer(task, config, members=2)
    trainer.load([Trial(0, 0, 0), Trial(1, 1, 1)])
    assert np.all(
        trainer.measure()["train_collapsed"] == 0.0
    )  # at initialisation nothing has collapsed
    trainer.run(300)  # full batch, lr 0.01: every member fits its train split
    fitted = trainer.measure()
    assert np.all(fitted["train_acc"] > 1.0 - 1e-6)  # a float32 mean of ones
    for v in (trainer.model.w3, trainer.model.b3):
        v.assign(
            v * 10.0
        )  # margins of ~30 to ~70: collapsed in float32, far above float32's smallest numbers
    m = trainer.measure()
    share = m["train_collapsed"]
    assert np.all((share > 0.5) & (share <= 1.0))
    # the record is the share of pairs whose standard float32 loss is exactly 0, member by member
    pairs, labels = trainer.split_pairs("train"), trainer._data["train_labels"].numpy()
    logits = trainer.model(tf.constant(pairs)).numpy()
    standard = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits).numpy()
    np.testing.assert_allclose(share, (standard == 0.0).mean(axis=1), rtol=1e-6)
    if kind == "exact":
        assert np.all(m["train_loss"] > 0.0)
    else:
        np.testing.assert_allclose(m["train_loss"], standard.mean(axis=1), rtol=1e-6)
