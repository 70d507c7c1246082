"""Training a population of trials as one compiled program (docs/method.md#population-training).

`train_population` is the one way in: the runner, the benchmark and the tests all train through
it, and nothing else loops over groups. The host decides *when* to measure
(`TrainConfig.record_steps`); the compiled side runs k optimizer steps in one call and returns
measurements. Members never interact: the population loss is the sum of per-member mean losses,
so each member's gradient is its own, and AdamW is elementwise.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Callable

import numpy as np

from cinit_tf import framework, losses
from cinit_tf.framework import tf
from cinit_tf.memory import group_size, training_device
from cinit_tf.model import MLP_WEIGHTS, PopulationModel
from cinit_tf.optimizer import MemberAdamW, restart_slots
from cinit_tf.slots import train_slots
from cinit_tf.tasks import Task
from cinit_tf.trial import (
    Shape,
    TrainConfig,
    Trial,
    TrialResult,
    initial_embedding,
    initial_mlp,
)


def make_optimizer(config: TrainConfig, members: int) -> MemberAdamW:
    """AdamW with every hyperparameter explicit (Keras' defaults, epsilon 1e-7 and wd 0.004, are not the
    paper's), counting each member's steps from its own start (cinit_tf.optimizer)."""
    return MemberAdamW(
        members,
        learning_rate=config.lr,
        weight_decay=config.weight_decay,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        epsilon=config.epsilon,
        amsgrad=False,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        gradient_accumulation_steps=None,
    )


def _replica_device() -> str:
    """The device of the replica being traced (MirroredStrategy traces each replica under its own)."""
    return tf.distribute.get_replica_context().replica_id_in_sync_group.device


class PopulationTrainer:
    """A compiled population of `members` slots; `load` fills them with trials, `train` runs them.

    Reloading keeps the compiled programs, so groups of a large population (and the many
    populations of one experiment) pay for XLA compilation once per shape.
    """

    def __init__(
        self,
        task: Task,
        config: TrainConfig,
        members: int,
        strategy: tf.distribute.Strategy | None = None,
    ):
        self.task, self.config, self.members = task, config, members
        self.shape = Shape(p=task.p, d=config.d, width=config.width, classes=task.classes)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self.record_fourier = task.name == "modadd"
        self.record_gradients = config.gradient_steps > 0
        if self.record_gradients and not self.record_fourier:
            raise ValueError(
                "gradient_steps records the embedding gradient in the Fourier basis: modular addition only"
            )
        self.n_train = task.n_train(config.train_fraction)
        self.n_test = task.p * task.p - self.n_train
        with self.strategy.scope():
            self.model = PopulationModel(
                members, self.shape, train_embedding=not config.freeze_embedding, dtype=config.dtype
            )
            self.optimizer = make_optimizer(config, members)
            self.optimizer.build(self.model.trainable_variables)
            n = members
            self._data = {
                name: tf.Variable(
                    tf.zeros((n, size, 2) if name.endswith("pairs") else (n, size), tf.int32),
                    trainable=False,
                    name=name,
                )
                for name, size in (
                    ("train_pairs", self.n_train),
                    ("train_labels", self.n_train),
                    ("test_pairs", self.n_test),
                    ("test_labels", self.n_test),
                )
            }
        self._pairs = task.pairs()
        self._labels = task.labels()
        jit = config.jit_compile
        if self.replicas == 1:
            self._run = tf.function(self._replica_steps, jit_compile=jit)
        else:
            # XLA compiles for one device: each replica's forward and backward pass is compiled,
            # the all-reduce of the gradients (inside optimizer.apply) runs between them.
            self._replica_grads = tf.function(self._grads, jit_compile=jit)
            self._replica_sums = tf.function(self._replica_measure, jit_compile=jit)
            self._run = tf.function(self._mirrored_steps)
        self._measure = tf.function(self._measure_all, jit_compile=jit and self.replicas == 1)
        # Loading is one graph call (not XLA: assignments only), not ~30 eager assignments: a group of
        # a large population trains few steps between loads, so their per-op overhead showed (docs/performance.md).
        self._weights = [self.model.embedding] + [getattr(self.model, key) for key in MLP_WEIGHTS]
        self._assign = tf.function(self._assign_all)
        self._refill = tf.function(self._refill_all)

    # ---- compiled side -------------------------------------------------------------------
    def _local(self, name):
        """This replica's share of a data tensor (the whole of it on one device)."""
        x = self._data[name]
        if self.replicas == 1:
            return tf.convert_to_tensor(x)
        rid = tf.distribute.get_replica_context().replica_id_in_sync_group
        size = x.shape[1]
        bounds = tf.cast(tf.linspace(0.0, float(size), self.replicas + 1), tf.int32)
        return x[:, bounds[rid] : bounds[rid + 1]]

    def _ce_and_correct(self, pairs, labels, collapsed: bool = False):
        """Per-pair loss (the configured cross-entropy) and correctness; with `collapsed`, also whether
        each pair's standard cross-entropy is exactly 0 (softmax collapse, whichever loss trains)."""
        logits = self.model(pairs)
        ce = losses.cross_entropy(labels, logits, self.config.loss)
        correct = tf.cast(
            tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), ce.dtype
        )
        if not collapsed:
            return ce, correct
        standard = ce if self.config.loss == "standard" else losses.cross_entropy(labels, logits)
        return ce, correct, tf.cast(tf.equal(standard, 0.0), ce.dtype)

    def _grads(self):
        pairs, labels = self._local("train_pairs"), self._local("train_labels")
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            ce, _ = self._ce_and_correct(pairs, labels)
            # Sum over members of each member's mean loss: member n's gradient is exactly its own.
            # Dividing by the full train size keeps replica shares summing to the full-batch gradient.
            loss = tf.reduce_sum(ce) / self.n_train
        return tape.gradient(loss, variables)

    def train_step(self):
        """One full-batch AdamW step of every member on its own train split."""
        grads = (
            self._grads() if self.replicas == 1 else self._on_replica_device(self._replica_grads)
        )
        self.optimizer.apply(grads, self.model.trainable_variables)

    @staticmethod
    def _repeat(step, n):
        """`step()` n times. An explicit while_loop: XLA would take the bound of `for _ in tf.range(n)`
        as a compile-time constant and compile again for every new chunk length."""

        def body(i):
            step()
            return (i + 1,)

        tf.while_loop(lambda i: i < n, body, (tf.constant(0, tf.int32),))

    def _replica_steps(self, n):
        self._repeat(self.train_step, n)

    def _mirrored_steps(self, n):
        self._repeat(lambda: self.strategy.run(self.train_step), n)

    def _replica_measure(self):
        out = {}
        for split in ("train", "test"):
            if split == "train" and self.record_gradients:
                # The backpropagated gradient of the training loss with respect to the embedding, at
                # the current parameters: what the next step's Adam update is made from. AdamW's
                # decoupled weight decay is not part of the loss, so it is not in this gradient.
                E = self.model.embedding.value  # the backend tf.Variable behind the Keras variable
                with tf.GradientTape() as tape:
                    tape.watch(E)  # also when the embedding is frozen
                    ce, correct, collapsed = self._ce_and_correct(
                        self._local("train_pairs"), self._local("train_labels"), True
                    )
                    loss = tf.reduce_sum(ce) / self.n_train
                out["embedding_gradient"] = tape.gradient(loss, E)
            elif split == "train":
                ce, correct, collapsed = self._ce_and_correct(
                    self._local("train_pairs"), self._local("train_labels"), True
                )
            else:
                ce, correct = self._ce_and_correct(
                    self._local(f"{split}_pairs"), self._local(f"{split}_labels")
                )
            if split == "train":
                out["train_collapsed"] = tf.reduce_sum(collapsed, axis=1)
            out[f"{split}_loss"] = tf.reduce_sum(ce, axis=1)
            out[f"{split}_acc"] = tf.reduce_sum(correct, axis=1)
        return out

    @staticmethod
    def _on_replica_device(fn):
        """Call a compiled per-replica function placed on this replica's device (XLA compiles for one)."""
        with tf.device(_replica_device()):
            return fn()

    def _measure_all(self):
        if self.replicas == 1:
            sums = self._replica_measure()
        else:
            per_replica = self.strategy.run(lambda: self._on_replica_device(self._replica_sums))
            sums = {
                k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in per_replica.items()
            }
        gradient = sums.pop("embedding_gradient", None)
        out = {
            k: v / (self.n_train if k.startswith("train") else self.n_test) for k, v in sums.items()
        }
        if gradient is not None:
            out["gradient_norms"] = losses.fourier_norms_tf(tf.convert_to_tensor(gradient))
        if self.record_fourier:
            out["fourier_norms"] = losses.fourier_norms_tf(
                tf.convert_to_tensor(self.model.embedding)
            )
        return out

    def _assign_all(self, weights, data):
        """Set every weight and data slot, and zero the optimizer's state (step count, moments, learning rate)."""
        for variable, value in zip(self._weights, weights):
            variable.assign(value)
        for name, value in data.items():
            self._data[name].assign(value)
        for v in self.optimizer.variables:
            v.assign(tf.zeros_like(v))

    def _refill_all(self, mask, weights, data):
        """Set the weights and data of the slots where `mask` holds, zero their moments and start their step count now."""
        for variable, value in zip(self._weights, weights):
            where = tf.reshape(mask, (-1,) + (1,) * (len(value.shape) - 1))
            variable.assign(tf.where(where, value, variable))
        for name, value in data.items():
            where = tf.reshape(mask, (-1,) + (1,) * (len(value.shape) - 1))
            self._data[name].assign(tf.where(where, value, self._data[name]))
        restart_slots(self.optimizer, mask)

    # ---- host side -----------------------------------------------------------------------
    def _arrays(self, slots: list[Trial]) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """Stacked initial weights and data splits of one trial per slot."""
        embeddings = []
        for t in slots:
            E = (
                initial_embedding(self.shape, t.embedding_seed)
                if t.initial_embedding is None
                else np.asarray(t.initial_embedding)
            )
            if E.shape != (self.shape.p, self.shape.d):
                raise ValueError(
                    f"initial embedding has shape {E.shape}, expected {(self.shape.p, self.shape.d)}"
                )
            embeddings.append(E)
        mlps = [initial_mlp(self.shape, t.mlp_seed) for t in slots]
        dtype = self.model.dtype  # the casts of PopulationModel.set_members
        weights = [np.asarray(np.stack(embeddings), dtype=dtype)] + [
            np.stack([m[key] for m in mlps]).astype(dtype) for key in MLP_WEIGHTS
        ]
        splits = [self.task.split(t.split_seed, self.config.train_fraction) for t in slots]
        data = {}
        for split, col in (("train", 0), ("test", 1)):
            idx = np.stack([s[col] for s in splits])
            data[f"{split}_pairs"], data[f"{split}_labels"] = self._pairs[idx], self._labels[idx]
        return weights, data

    def load(self, trials: list[Trial]) -> None:
        """Fill the slots with trials (fewer trials than slots: the rest repeat the first, and are ignored)."""
        if not 0 < len(trials) <= self.members:
            raise ValueError(
                f"a population of {self.members} slots takes 1..{self.members} trials, got {len(trials)}"
            )
        self.trials = list(trials)
        weights, data = self._arrays(
            self.trials + [self.trials[0]] * (self.members - len(self.trials))
        )
        # A fresh optimizer state (step counts and moments). The learning rate is one of the
        # optimizer's variables too: everything is zeroed, then it is set again.
        self._assign(weights, data)
        self.optimizer.learning_rate = self.config.lr

    def refill(self, slots: dict[int, Trial]) -> None:
        """Start new trials in some slots ({slot: trial}) while the others train on, in one graph call.

        A refilled slot gets its trial's initial weights and data, zeroed moments, and a step count
        that starts now (cinit_tf.optimizer.MemberAdamW): it trains as it would have from a fresh load.
        """
        order = sorted(slots)
        if not order or order[0] < 0 or order[-1] >= self.members:
            raise ValueError(f"slots to refill must be in 0..{self.members - 1}, got {order}")
        picked = [slots[s] for s in order]
        weights, data = self._arrays(picked)
        index = np.array(order)
        full_w = [np.zeros((self.members,) + w.shape[1:], w.dtype) for w in weights]
        full_d = {k: np.zeros((self.members,) + v.shape[1:], v.dtype) for k, v in data.items()}
        for full, part in zip(full_w + list(full_d.values()), weights + list(data.values())):
            full[index] = part
        mask = np.zeros(self.members, dtype=bool)
        mask[index] = True
        self._refill(tf.constant(mask), full_w, full_d)

    def run(self, n: int) -> None:
        """n optimizer steps of every loaded member, in one compiled call, without measuring."""
        self._run(tf.constant(int(n), tf.int32))

    def measure(self) -> dict[str, np.ndarray]:
        """Every slot's measurements now (members on axis 0), as numpy arrays."""
        return {key: v.numpy() for key, v in self._measure().items()}

    def embeddings(self) -> np.ndarray:
        """Every slot's embedding now, (members, p, d)."""
        return self.model.embedding.numpy()

    def split_pairs(self, split: str) -> np.ndarray:
        """The loaded members' (a, b) pairs of one split ("train" or "test"), members on axis 0."""
        return self._data[f"{split}_pairs"].numpy()

    def train(self, callback: Callable[[int, dict], None] | None = None) -> list[TrialResult]:
        """Train the loaded trials to their end; `callback(step, measurements)` sees every measurement."""
        on_measure = (
            None if callback is None else (lambda steps, m: callback(max(steps.values()), m))
        )
        return train_slots(self, self.trials, on_measure=on_measure, loaded=True)


@functools.cache
def make_strategy(name: str) -> tf.distribute.Strategy | None:
    """ "mirrored": MirroredStrategy over the GPUs, or over the logical CPUs where there is none; else None.

    One per process: two MirroredStrategy objects in one process can collide in their collective keys.
    """
    if name != "mirrored":
        return None
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy(
        devices=[d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    )


def auto_group_size(task: Task, config: TrainConfig, members: int) -> int:
    """Members per compiled program (cinit_tf.memory.group_size, the rule the memory estimate shares)."""
    return group_size(task, config, members, training_device(framework.gpu_count()))


_TRAINERS: collections.OrderedDict = collections.OrderedDict()
_CACHED_TRAINERS = 4  # compiled populations kept per process (each holds its weights and programs)


def trainer_key(task: Task, config: TrainConfig, members: int, strategy=None) -> tuple:
    """What decides a compiled program: task, shape, optimizer, members per group, strategy.

    Steps and the measurement schedule are host-side, so they are not part of it (gradient
    recording is, on or off). Equal keys share one trainer; the runner uses the key to tell
    which groups pay for compilation.
    """
    return (
        task,
        dataclasses.replace(
            config,
            steps=1,
            log_every=1,
            first_steps=0,
            snapshot_every=0,
            gradient_steps=min(config.gradient_steps, 1),
            until="steps",
            settle_window=1,
            settle_tolerance=0.0,
        ),
        members,
        id(strategy),
    )


def _trainer(task: Task, config: TrainConfig, members: int, strategy) -> PopulationTrainer:
    """A trainer for this shape and optimizer, reused across calls: XLA compiles once per shape."""
    key = trainer_key(task, config, members, strategy)
    trainer = _TRAINERS.pop(key, None)
    if trainer is None:
        trainer = PopulationTrainer(task, config, members, strategy=strategy)
    trainer.config = config
    _TRAINERS[key] = trainer
    while len(_TRAINERS) > _CACHED_TRAINERS:
        _TRAINERS.popitem(last=False)
    return trainer


def train_population(
    task: Task,
    config: TrainConfig,
    trials: list[Trial],
    *,
    stored: dict[int, int] | None = None,
    strategy: tf.distribute.Strategy | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_measure: Callable[[dict[int, int], dict], None] | None = None,
    on_done: Callable[[int, TrialResult], None] | None = None,
) -> list[TrialResult]:
    """Train every trial in `auto_group_size` slots, each slot taking the next trial when its own stops;
    returns the results in the trials' order (cinit_tf.slots.train_slots, which documents the callbacks).

    stored: {position in the population: stop step} of the population's trials an earlier run already
    stored. The group size is that of the whole population, stored trials included, and they hold their
    slots until their stop step (untrained), so a resumed run trains each trial in the group size and
    slot an uninterrupted run gives it: in float32 both shape a trial's bits (docs/method.md#population-training).
    The runner stores each result from `on_done` at once, so a killed run loses only the trials in flight.
    """
    if not trials:
        return []
    stored = dict(stored or {})
    size = auto_group_size(task, config, len(trials) + len(stored))
    trainer = _trainer(task, config, size, strategy)
    return train_slots(
        trainer, trials, stored=stored, on_start=on_start, on_measure=on_measure, on_done=on_done
    )
