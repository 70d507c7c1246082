"""The GPU suite (`pytest -m gpu`): placement, an XLA-compiled run and mirrored training on real GPUs.

Every test here is skipped, with the reason shown, where TensorFlow sees no GPU (see conftest.py).
"""

import numpy as np
import pytest
import tensorflow as tf

from cinit_tf.tasks import make_task
from cinit_tf.training import PopulationTrainer, make_strategy, train_population
from cinit_tf.trial import TrainConfig, Trial

pytestmark = pytest.mark.gpu


def test_population_weights_live_on_the_gpu():
    trainer = PopulationTrainer(make_task("xor", bits=3), TrainConfig(steps=1, d=8), members=4)
    assert "GPU" in trainer.model.embedding.value.device.upper()
    assert "GPU" in trainer.optimizer.iterations.value.device.upper()


def test_xla_compiled_smoke_run_learns_on_gpu():
    task = make_task("xor", bits=3)
    config = TrainConfig(steps=1500, d=8, weight_decay=3.0, jit_compile=True)
    results = train_population(task, config, [Trial(i, i, i) for i in range(8)])
    assert sum(r.convergence_step is not None for r in results) >= 6


def test_mirrored_over_all_gpus_equals_single_device():
    strategy = make_strategy("mirrored")
    assert strategy.num_replicas_in_sync == len(tf.config.list_logical_devices("GPU"))
    task = make_task("modadd", p=13)
    config = TrainConfig(steps=30, d=8, weight_decay=0.5, dtype="float64")
    trials = [Trial(i, i, i) for i in range(3)]
    for a, b in zip(
        train_population(task, config, trials, strategy=strategy),
        train_population(task, config, trials),
    ):
        np.testing.assert_allclose(a.final_embedding, b.final_embedding, atol=1e-9)
