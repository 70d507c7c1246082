"""Training a population of trials as one compiled program (SPEC §3).

The host decides *when* to measure (steps 0..`first_steps` exactly, then every `log_every` and
`eval_every`); the compiled side runs k optimizer steps in one call and returns measurements.
Members never interact: the population loss is the sum of per-member mean losses, so each
member's gradient is its own, and AdamW is elementwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from cinit_tf.model import PopulationModel, Shape, initial_embedding, initial_mlp
from cinit_tf.signals import fourier_norms_tf
from cinit_tf.tasks import Task

METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")


@dataclass(frozen=True)
class TrainConfig:
    """Model and optimizer settings shared by every member of a population (SPEC §3 defaults)."""

    steps: int = 1000
    d: int = 128
    width: int = 100
    lr: float = 0.01
    weight_decay: float = 0.5
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    train_fraction: float = 0.8
    freeze_embedding: bool = False
    log_every: int = 100
    eval_every: int = 100
    first_steps: int = 10  # every step 0..first_steps is measured: the gradient signal needs steps 1-4
    dtype: str = "float32"
    jit_compile: bool = True
    group_size: int | None = None  # members per compiled program; None = auto_group_size

    def record_steps(self) -> np.ndarray:
        """The steps after which measurements are taken (0 = before training)."""
        s = set(range(0, min(self.first_steps, self.steps) + 1))
        s |= set(range(self.log_every, self.steps + 1, self.log_every))
        s |= set(range(self.eval_every, self.steps + 1, self.eval_every))
        s.add(self.steps)
        return np.array(sorted(s), dtype=np.int64)


@dataclass(frozen=True)
class Trial:
    """One member's seeds: three independent streams, and optionally an explicit initial embedding."""

    embedding_seed: int
    mlp_seed: int
    split_seed: int
    initial_embedding: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass
class TrialResult:
    """What one member's training produced; every curve is indexed by `steps`."""

    steps: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    fourier_norms: np.ndarray | None  # (len(steps), K) for modular addition, else None
    initial_embedding: np.ndarray
    final_embedding: np.ndarray
    convergence_step: int | None  # first measured step with 100% test accuracy
    nonfinite_step: int | None  # first measured step whose train loss was not finite

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        out["convergence_step"] = np.array(-1 if self.convergence_step is None else self.convergence_step)
        out["nonfinite_step"] = np.array(-1 if self.nonfinite_step is None else self.nonfinite_step)
        return out

    @classmethod
    def from_arrays(cls, a) -> "TrialResult":
        conv, bad = int(a["convergence_step"]), int(a["nonfinite_step"])
        return cls(
            steps=a["steps"],
            train_loss=a["train_loss"],
            train_acc=a["train_acc"],
            test_loss=a["test_loss"],
            test_acc=a["test_acc"],
            fourier_norms=a["fourier_norms"] if "fourier_norms" in a else None,
            initial_embedding=a["initial_embedding"],
            final_embedding=a["final_embedding"],
            convergence_step=None if conv < 0 else conv,
            nonfinite_step=None if bad < 0 else bad,
        )


def make_optimizer(config: TrainConfig) -> keras.optimizers.AdamW:
    """AdamW with every hyperparameter explicit: Keras' defaults (epsilon 1e-7, wd 0.004) are not the paper's."""
    return keras.optimizers.AdamW(
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

    def __init__(self, task: Task, config: TrainConfig, members: int, strategy: tf.distribute.Strategy | None = None):
        self.task, self.config, self.members = task, config, members
        self.shape = Shape(p=task.p, d=config.d, width=config.width, classes=task.classes)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self.record_fourier = task.name == "modadd"
        self.n_train = task.n_train(config.train_fraction)
        self.n_test = task.p * task.p - self.n_train
        with self.strategy.scope():
            self.model = PopulationModel(members, self.shape, train_embedding=not config.freeze_embedding, dtype=config.dtype)
            self.optimizer = make_optimizer(config)
            self.optimizer.build(self.model.trainable_variables)
            n = members
            self._data = {
                name: tf.Variable(tf.zeros((n, size, 2) if name.endswith("pairs") else (n, size), tf.int32), trainable=False, name=name)
                for name, size in (("train_pairs", self.n_train), ("train_labels", self.n_train), ("test_pairs", self.n_test), ("test_labels", self.n_test))
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

    def _ce_and_correct(self, pairs, labels):
        logits = self.model(pairs)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), ce.dtype)
        return ce, correct

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
        grads = self._grads() if self.replicas == 1 else self._on_replica_device(self._replica_grads)
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
            ce, correct = self._ce_and_correct(self._local(f"{split}_pairs"), self._local(f"{split}_labels"))
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
            sums = {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in per_replica.items()}
        out = {k: v / (self.n_train if k.startswith("train") else self.n_test) for k, v in sums.items()}
        if self.record_fourier:
            out["fourier_norms"] = fourier_norms_tf(tf.convert_to_tensor(self.model.embedding))
        return out

    # ---- host side -----------------------------------------------------------------------
    def load(self, trials: list[Trial]) -> None:
        """Fill the slots with trials (fewer trials than slots: the rest repeat the first, and are ignored)."""
        if not 0 < len(trials) <= self.members:
            raise ValueError(f"a population of {self.members} slots takes 1..{self.members} trials, got {len(trials)}")
        self.trials = list(trials)
        slots = self.trials + [self.trials[0]] * (self.members - len(self.trials))
        embeddings = []
        for t in slots:
            E = initial_embedding(self.shape, t.embedding_seed) if t.initial_embedding is None else np.asarray(t.initial_embedding)
            if E.shape != (self.shape.p, self.shape.d):
                raise ValueError(f"initial embedding has shape {E.shape}, expected {(self.shape.p, self.shape.d)}")
            embeddings.append(E)
        self.model.set_members(np.stack(embeddings), [initial_mlp(self.shape, t.mlp_seed) for t in slots])
        splits = [self.task.split(t.split_seed, self.config.train_fraction) for t in slots]
        for split, col in (("train", 0), ("test", 1)):
            idx = np.stack([s[col] for s in splits])
            self._data[f"{split}_pairs"].assign(self._pairs[idx])
            self._data[f"{split}_labels"].assign(self._labels[idx])
        # A fresh optimizer state (step count and moments); the learning rate is a variable too, keep it.
        for v in self.optimizer.variables:
            if v is not self.optimizer._learning_rate:
                v.assign(tf.zeros_like(v))

    def train(self, callback: Callable[[int, dict], None] | None = None) -> list[TrialResult]:
        """Train the loaded trials for `config.steps`; `callback(step, measurements)` sees every measurement."""
        k = len(self.trials)
        initial = self.model.embedding.numpy()[:k].copy()
        steps = self.config.record_steps()
        log = {name: [] for name in (*METRICS, "fourier_norms")}
        done = 0
        for s in steps:
            if s > done:
                self._run(tf.constant(int(s - done), tf.int32))
                done = int(s)
            m = {key: v.numpy()[:k] for key, v in self._measure().items()}
            for key, v in m.items():
                log[key].append(v)
            if callback is not None:
                callback(int(s), m)
        final = self.model.embedding.numpy()[:k].copy()
        curves = {key: np.stack(v, axis=1) for key, v in log.items() if v}
        results = []
        for i in range(k):
            acc, loss = curves["test_acc"][i], curves["train_loss"][i]
            conv = np.flatnonzero(acc >= 1.0 - 1e-9)
            bad = np.flatnonzero(~np.isfinite(loss))
            results.append(
                TrialResult(
                    steps=steps,
                    **{key: curves[key][i] for key in METRICS},
                    fourier_norms=curves["fourier_norms"][i] if self.record_fourier else None,
                    initial_embedding=initial[i],
                    final_embedding=final[i],
                    convergence_step=int(steps[conv[0]]) if conv.size else None,
                    nonfinite_step=int(steps[bad[0]]) if bad.size else None,
                )
            )
        return results


@functools.lru_cache(maxsize=None)
def make_strategy(name: str) -> tf.distribute.Strategy | None:
    """"mirrored": MirroredStrategy over the GPUs, or over the logical CPUs where there is none; else None.

    One per process: two MirroredStrategy objects in one process can collide in their collective keys.
    """
    if name != "mirrored":
        return None
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy(devices=[d.name for d in (gpus or tf.config.list_logical_devices("CPU"))])


# On a CPU a population is memory-bound once its activations (members x pairs x width) leave the
# cache, so it runs in groups whose hidden activations stay near this size (tools/bench.py --groups).
CPU_ACTIVATION_BUDGET_BYTES = 5 * 2**19  # 2.5 MiB: on the 2-core reference machine groups of 2 beat 1, 3, 4, 6 and 64


def auto_group_size(task: Task, config: TrainConfig, members: int) -> int:
    """Members per compiled program: all of them on a GPU; cache-sized groups on a CPU."""
    if config.group_size:
        return min(config.group_size, members)
    if tf.config.list_logical_devices("GPU"):
        return members
    per_member = task.n_train(config.train_fraction) * config.width * np.dtype(config.dtype).itemsize
    return int(max(1, min(members, CPU_ACTIVATION_BUDGET_BYTES // per_member)))


def train_population(
    task: Task,
    config: TrainConfig,
    trials: list[Trial],
    callback: Callable[[int, dict], None] | None = None,
    strategy: tf.distribute.Strategy | None = None,
    trainer: PopulationTrainer | None = None,
) -> list[TrialResult]:
    """Train every trial, `auto_group_size` members at a time.

    `callback(step, measurements)` receives each group's measurements, members on axis 0.
    """
    size = auto_group_size(task, config, len(trials))
    if trainer is None:
        trainer = PopulationTrainer(task, config, size, strategy=strategy)
    results = []
    for start in range(0, len(trials), trainer.members):
        trainer.load(trials[start : start + trainer.members])
        results.extend(trainer.train(callback))
    return results
