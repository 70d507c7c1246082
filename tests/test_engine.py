"""The population engine: equivalence with independent runs, seeds, learning, AdamW, non-finite members."""

import numpy as np
import pytest
import tensorflow as tf

from cinit_tf.model import PopulationModel
from cinit_tf.seeds import rng
from cinit_tf.tasks import make_task
from cinit_tf.training import PopulationTrainer, train_population
from cinit_tf.trial import Shape, TrainConfig, Trial, initial_embedding, initial_mlp

SMALL = {
    "modadd": (make_task("modadd", p=23), dict(d=16, weight_decay=0.5)),
    "xor": (make_task("xor", bits=3), dict(d=8, weight_decay=3.0)),
    "remainder": (make_task("remainder", p=30, m=5), dict(d=8, weight_decay=3.0)),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_population_equals_independent_runs(name):
    """N members trained as one program == the same N trials trained one by one (float64, 60 steps)."""
    task, kw = SMALL[name]
    config = TrainConfig(steps=60, log_every=10, dtype="float64", group_size=4, **kw)
    trials = [Trial(i, 10 + i, 20 + i) for i in range(4)]
    together = train_population(task, config, trials)
    for trial, member in zip(trials, together):
        alone = train_population(task, config, [trial])[0]
        assert len(member.steps) >= 15
        np.testing.assert_allclose(member.final_embedding, alone.final_embedding, rtol=0, atol=1e-9)
        for curve in ("train_loss", "test_loss", "train_acc", "test_acc"):
            np.testing.assert_allclose(
                getattr(member, curve), getattr(alone, curve), rtol=0, atol=1e-9
            )
        # training moved the embedding well beyond the tolerance, so equality is not vacuous
        assert np.abs(member.final_embedding - member.initial_embedding).max() > 1e-2


def test_groups_equal_whole_population():
    task, kw = SMALL["modadd"]
    trials = [Trial(i, i, i) for i in range(5)]
    whole = train_population(
        task, TrainConfig(steps=30, dtype="float64", group_size=5, **kw), trials
    )
    grouped = train_population(
        task, TrainConfig(steps=30, dtype="float64", group_size=2, **kw), trials
    )
    for a, b in zip(whole, grouped):
        np.testing.assert_allclose(a.final_embedding, b.final_embedding, atol=1e-9)
        np.testing.assert_allclose(a.fourier_norms, b.fourier_norms, rtol=1e-9)


def test_factored_forward_equals_concatenated_mlp():
    """The factored first layer computes exactly relu(concat[E_a, E_b]·W1 + b1) (docs/method.md#model)."""
    task = make_task("modadd", p=11)
    shape = Shape(p=11, d=6, width=7, classes=11)
    model = PopulationModel(2, shape, dtype="float64")
    Es = [initial_embedding(shape, s) for s in (1, 2)]
    mlps = [initial_mlp(shape, s) for s in (3, 4)]
    model.set_members(np.stack(Es), mlps)
    pairs = task.pairs()
    logits = model(tf.constant(np.stack([pairs, pairs]))).numpy()
    for n in range(2):
        w = mlps[n]
        x = np.concatenate([Es[n][pairs[:, 0]], Es[n][pairs[:, 1]]], axis=1)
        h = np.maximum(x @ np.concatenate([w["w1a"], w["w1b"]]) + w["b1"], 0)
        h = np.maximum(h @ w["w2"] + w["b2"], 0)
        np.testing.assert_allclose(logits[n], h @ w["w3"] + w["b3"], atol=1e-12)


def test_same_seeds_same_result():
    task, kw = SMALL["xor"]
    config = TrainConfig(steps=40, **kw)
    a = train_population(task, config, [Trial(3, 4, 5), Trial(6, 7, 8)])
    b = train_population(task, config, [Trial(3, 4, 5), Trial(6, 7, 8)])
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.final_embedding, y.final_embedding)
        np.testing.assert_array_equal(x.train_loss, y.train_loss)


def test_seed_streams_are_independent():
    """Same embedding seed, different MLP/split seeds: identical initial embeddings, different MLP and split."""
    task = make_task("modadd", p=13)
    shape = Shape(p=13, d=4, width=5, classes=13)
    trainer = PopulationTrainer(task, TrainConfig(steps=1, d=4, width=5), members=2)
    trainer.load(
        [
            Trial(embedding_seed=7, mlp_seed=1, split_seed=1),
            Trial(embedding_seed=7, mlp_seed=2, split_seed=2),
        ]
    )
    E = trainer.model.embedding.numpy()
    np.testing.assert_array_equal(E[0], E[1])
    np.testing.assert_allclose(E[0], initial_embedding(shape, 7), rtol=1e-6)
    w2 = trainer.model.w2.numpy()
    assert not np.allclose(w2[0], w2[1])
    train_pairs = trainer.split_pairs("train")
    assert not np.array_equal(train_pairs[0], train_pairs[1])
    # equal integers in different streams give unrelated draws
    assert not np.allclose(
        rng("embedding", 7).standard_normal(5), rng("mlp", 7).standard_normal(5), atol=0.1
    )


def test_xor_population_learns():
    """8 members, 3-bit XOR at the paper's settings (d=8, wd=3, lr=0.01): most reach 100% test accuracy by 3,000 steps."""
    task = make_task("xor", bits=3)
    config = TrainConfig(steps=3000, d=8, weight_decay=3.0, log_every=1000)
    results = train_population(task, config, [Trial(i, i, i) for i in range(8)])
    converged = [r.convergence_step for r in results if r.convergence_step is not None]
    assert len(converged) >= 6, [r.convergence_step for r in results]
    assert all(r.nonfinite_step is None for r in results)
    assert max(r.test_loss[-1] for r in results if r.convergence_step is not None) < 0.5


def test_recorded_fourier_signals_match_numpy_dft():
    task = make_task("modadd", p=17)
    config = TrainConfig(steps=25, d=12, weight_decay=0.5, log_every=5)
    results = train_population(task, config, [Trial(1, 2, 3), Trial(4, 5, 6)])
    for r in results:
        assert list(r.steps[:11]) == list(range(11)) and r.steps[-1] == 25
        assert r.fourier_norms.shape == (len(r.steps), 8)
        for step_index, E in ((0, r.initial_embedding), (-1, r.final_embedding)):
            direct = (np.abs(np.fft.fft(E.astype(np.float64), axis=0)) ** 2).sum(axis=1)[1:9]
            np.testing.assert_allclose(r.fourier_norms[step_index], direct, rtol=1e-4)
        assert not np.allclose(r.fourier_norms[0], r.fourier_norms[-1])


def test_weight_decay_is_decoupled():
    """A weight with zero gradient shrinks by exactly (1 - lr·wd) per step."""
    task, kw = SMALL["xor"]
    config = TrainConfig(steps=5, lr=0.01, **kw)
    trainer = PopulationTrainer(task, config, members=2)
    trainer.load([Trial(0, 0, 0), Trial(1, 1, 1)])
    # hidden unit 3 of member 1 never fires, so its outgoing weights in W2 get no gradient
    b1 = trainer.model.b1.numpy()
    b1[1, 3] = -1e4
    trainer.model.b1.assign(b1)
    before = trainer.model.w2.numpy()
    trainer.run(5)
    after = trainer.model.w2.numpy()
    factor = (1 - config.lr * config.weight_decay) ** 5
    np.testing.assert_allclose(after[1, 3], before[1, 3] * factor, rtol=1e-5)
    assert not np.allclose(
        after[1, 4], before[1, 4] * factor, rtol=1e-3
    )  # a live unit moves otherwise


def test_frozen_embedding_stays_put_and_mlp_learns():
    task, kw = SMALL["xor"]
    r = train_population(
        task, TrainConfig(steps=50, freeze_embedding=True, **kw), [Trial(0, 0, 0)]
    )[0]
    np.testing.assert_array_equal(r.initial_embedding, r.final_embedding)
    assert r.train_loss[-1] < r.train_loss[0]


def test_explicit_initial_embedding_and_nonfinite_member():
    """A member whose loss goes non-finite is flagged; the others carry on exactly as alone."""
    task, kw = SMALL["modadd"]
    config = TrainConfig(steps=20, dtype="float64", **kw)
    bad = initial_embedding(Shape(task.p, kw["d"], 100, task.classes), 0)
    bad[3, 2] = np.nan
    good = Trial(5, 5, 5)
    results = train_population(task, config, [Trial(0, 0, 0, initial_embedding=bad), good])
    assert results[0].nonfinite_step == 0
    assert results[1].nonfinite_step is None
    alone = train_population(task, config, [good])[0]
    np.testing.assert_allclose(results[1].final_embedding, alone.final_embedding, atol=1e-9)


def test_wrong_initial_embedding_shape_is_refused():
    task, kw = SMALL["xor"]
    with pytest.raises(ValueError, match="shape"):
        train_population(
            task, TrainConfig(steps=1, **kw), [Trial(0, 0, 0, initial_embedding=np.zeros((3, 3)))]
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_in_graph_fourier_norms_equal_numpy_signals(dtype):
    """The engine measures signal_k with tf.signal inside the compiled loop; the studies use numpy."""
    from cinit_tf.losses import fourier_norms_tf
    from cinit_tf.signals import fourier_norms

    E = rng("test", 0).standard_normal((3, 23, 7)).astype(dtype)
    in_graph = tf.function(fourier_norms_tf, jit_compile=True)(tf.constant(E)).numpy()
    np.testing.assert_allclose(
        in_graph, fourier_norms(E), rtol=1e-5 if dtype == "float32" else 1e-12
    )
    np.testing.assert_allclose(fourier_norms(E[1]), fourier_norms(E)[1])


def test_trainers_are_reused_across_calls_of_one_shape():
    """Steps and the measurement schedule are host-side: a second call with other steps compiles nothing new."""
    from cinit_tf import training

    task, kw = SMALL["xor"]
    built = []
    original = training.PopulationTrainer.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    a = train_population(
        task, TrainConfig(steps=3, group_size=2, **kw), [Trial(0, 0, 0), Trial(1, 1, 1)]
    )
    first = training._trainer(task, TrainConfig(steps=3, group_size=2, **kw), 2, None)
    training.PopulationTrainer.__init__ = counting
    try:
        b = train_population(
            task,
            TrainConfig(steps=7, log_every=2, group_size=2, **kw),
            [Trial(0, 0, 0), Trial(1, 1, 1)],
        )
        again = training._trainer(
            task, TrainConfig(steps=7, log_every=2, group_size=2, **kw), 2, None
        )
    finally:
        training.PopulationTrainer.__init__ = original
    assert built == []  # no trainer was constructed for the second call
    assert again is first
    assert a[0].steps[-1] == 3 and b[0].steps[-1] == 7
    # the reused trainer starts from scratch: the first 3 steps are the same
    np.testing.assert_array_equal(a[0].train_loss[:4], b[0].train_loss[:4])


def _manual_embedding_gradient(trainer, task):
    """tape.gradient of the population loss (sum of members' mean train CE) with respect to the embedding."""
    pairs = trainer.split_pairs("train")
    labels = task.labels()[pairs[..., 0] * task.p + pairs[..., 1]]
    with tf.GradientTape() as tape:
        logits = trainer.model(tf.constant(pairs))
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant(labels), logits=logits
        )
        loss = tf.reduce_sum(tf.reduce_mean(ce, axis=1))
    return tape.gradient(loss, trainer.model.embedding.value).numpy()


def test_recorded_fourier_gradient_equals_numpy_fft_of_tape_gradient():
    task = make_task("modadd", p=17)
    config = TrainConfig(
        steps=6, d=8, width=16, log_every=3, first_steps=0, gradient_steps=4, dtype="float64"
    )
    trainer = PopulationTrainer(task, config, members=2)
    trainer.load([Trial(1, 2, 3), Trial(4, 5, 6)])
    before = _manual_embedding_gradient(trainer, task)
    results = trainer.train()
    after = _manual_embedding_gradient(trainer, task)
    for i, r in enumerate(results):
        assert list(r.steps) == [0, 1, 2, 3, 4, 6] and r.gradient_norms.shape == (6, 8)
        for row, G in ((0, before[i]), (-1, after[i])):
            direct = (np.abs(np.fft.fft(G, axis=0)) ** 2).sum(axis=1)[1:9]
            np.testing.assert_allclose(r.gradient_norms[row], direct, rtol=1e-10)
        assert np.all(r.gradient_norms[0] > 0)


def test_recorded_gradient_excludes_weight_decay():
    """A member whose hidden units are all dead gets no loss gradient: it records zeros while decay shrinks E."""
    task = make_task("modadd", p=13)
    config = TrainConfig(
        steps=5, d=6, width=8, weight_decay=1.0, first_steps=5, gradient_steps=5, dtype="float64"
    )
    trainer = PopulationTrainer(task, config, members=2)
    trainer.load([Trial(0, 0, 0), Trial(1, 1, 1)])
    b1 = trainer.model.b1.numpy()
    b1[1] = -1e6  # member 1: relu(·) = 0 for every pair, so no gradient reaches W1 or E
    trainer.model.b1.assign(b1)
    dead = trainer.train()[1]
    assert np.all(dead.gradient_norms == 0.0)
    shrink = (1 - config.lr * config.weight_decay) ** 2  # per step, on signal_k = ||F_k||²
    np.testing.assert_allclose(
        dead.fourier_norms[1:], dead.fourier_norms[:-1] * shrink, rtol=1e-8
    )  # lr is a float32 variable


def test_snapshots_keep_the_embedding_at_their_steps():
    task = make_task("modadd", p=11)
    config = TrainConfig(steps=7, d=4, width=8, log_every=3, first_steps=1, snapshot_every=2)
    r = train_population(task, config, [Trial(0, 0, 0)])[0]
    assert list(r.steps) == [0, 1, 2, 3, 4, 6, 7]
    assert list(r.snapshot_steps) == [0, 1, 2, 4, 6, 7]
    np.testing.assert_array_equal(r.snapshots[0], r.initial_embedding)
    np.testing.assert_array_equal(r.snapshots[-1], r.final_embedding)
    from cinit_tf.signals import fourier_norms

    np.testing.assert_allclose(fourier_norms(r.snapshots[2]), r.fourier_norms[2], rtol=1e-4)
    assert r.gradient_norms is None


def test_gradient_recording_is_for_modular_addition_only():
    with pytest.raises(ValueError, match="modular addition"):
        train_population(
            make_task("xor", bits=2), TrainConfig(steps=1, d=4, gradient_steps=2), [Trial(0, 0, 0)]
        )


def test_load_sets_every_slot_and_a_fresh_optimizer_in_one_call():
    """`load` (one graph call) leaves what set_members and eager assignments would: the initial weights,
    the splits' pairs and labels, zero moments and step count, and the configured learning rate."""
    from cinit_tf.model import MLP_WEIGHTS

    task, kw = SMALL["modadd"]
    config = TrainConfig(steps=5, lr=0.003, **kw)
    trainer = PopulationTrainer(task, config, members=3)
    trials = [Trial(1, 2, 3), Trial(4, 5, 6)]
    trainer.load(trials)
    trainer.run(4)  # move the weights and the optimizer away from a fresh start
    trainer.load(trials)
    slots = trials + [trials[0]]
    expected = PopulationModel(3, trainer.shape)
    expected.set_members(
        np.stack([initial_embedding(trainer.shape, t.embedding_seed) for t in slots]),
        [initial_mlp(trainer.shape, t.mlp_seed) for t in slots],
    )
    for key in ("embedding", *MLP_WEIGHTS):
        np.testing.assert_array_equal(
            getattr(trainer.model, key).numpy(), getattr(expected, key).numpy()
        )
    for n, t in enumerate(slots):
        train, test = task.split(t.split_seed, config.train_fraction)
        np.testing.assert_array_equal(trainer.split_pairs("train")[n], task.pairs()[train])
        np.testing.assert_array_equal(trainer.split_pairs("test")[n], task.pairs()[test])
        np.testing.assert_array_equal(
            trainer._data["train_labels"].numpy()[n], task.labels()[train]
        )
    assert int(trainer.optimizer.iterations.numpy()) == 0
    assert np.isclose(float(trainer.optimizer.learning_rate.numpy()), 0.003)
    for v in trainer.optimizer.variables:
        if v is not trainer.optimizer.iterations and "learning_rate" not in v.name:
            assert not np.any(v.numpy()), v.name
