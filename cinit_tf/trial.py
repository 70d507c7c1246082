"""What one trial is: its training settings, its seeds and initial weights, and what training produced.

No TensorFlow here: the config loader, the store, the studies and the report all use these types,
and reading results must not pay for the framework. The engine (`cinit_tf.training`) consumes them.
Method: docs/method.md#model, #optimizer, #seeds-and-splits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cinit_tf.seeds import rng
from cinit_tf.settings import Bool, Choice, Float, Int, setting

MAX_RECORDS = 200_000  # measurements per trial: every one is kept in memory and on disk
UNTIL_RULES = (
    "steps",
    "loss_settled",
    "survivors_settled",
)  # cinit_tf.stopping, docs/method.md#stopping-rules
STOP_REASONS = ("settled", "max_steps", "diverged")
# The one floor under which a loss is read (log10 of 0 is not a number): a float32 mean over the train or
# test pairs of a standard cross-entropy is exactly 0 once every pair collapsed, or at least about
# log(1 + 2⁻²³)/(pairs) ≈ 1e-10 at p = 59 when one pair has not; 1e-10 reads an exact 0 as "below what the
# standard float32 loss resolves", and is far below every level a claim reads (1e-7 and up).
LOSS_FLOOR = 1e-10
LOSSES = ("standard", "exact")  # cinit_tf.losses.cross_entropy, docs/method.md#the-exact-loss


def log10_loss(x: float) -> float:
    """log10 of a loss floored at LOSS_FLOOR; NaN (and a negative) stays NaN, +inf stays +inf."""
    return math.log10(max(x, LOSS_FLOOR)) if x >= 0 else math.nan


@dataclass(frozen=True)
class TrainConfig:
    """Model, optimizer and measurement settings shared by every member of a population.

    The fields with a rule are the `[train]` table of an experiment file (their defaults are the
    file's defaults); `jit_compile` and `group_size` are how to execute, set from `[run]`.
    """

    steps: int = setting(
        Int(0), 1000, doc="optimizer steps (full batch); 0 = only measure the initial embedding"
    )
    d: int = setting(Int(1), 128, doc="embedding width")
    width: int = setting(Int(1), 100, doc="hidden width of both MLP layers")
    lr: float = setting(Float(0.0, lo_open=True), 0.01, doc="AdamW learning rate")
    weight_decay: float = setting(Float(0.0), 0.5, doc="AdamW decoupled weight decay")
    beta_1: float = setting(Float(0.0, 1.0, hi_open=True), 0.9)
    beta_2: float = setting(Float(0.0, 1.0, hi_open=True), 0.999)
    epsilon: float = setting(Float(0.0, lo_open=True), 1e-8)
    train_fraction: float = setting(
        Float(0.0, 1.0, lo_open=True, hi_open=True), 0.8, doc="share of the p² pairs trained on"
    )
    freeze_embedding: bool = setting(Bool(), False, doc="train only the MLP (paper §5)")
    log_every: int = setting(
        Int(1), 100, doc="measure every this many steps (besides steps 0..first_steps and the last)"
    )
    first_steps: int = setting(
        Int(0), 10, doc="measure after every one of the first steps (the gradient signal needs 1-4)"
    )
    dtype: str = setting(Choice(("float32", "float64")), "float32")
    gradient_steps: int = setting(
        Int(0),
        0,
        new=True,
        doc="modular addition: also measure ||FFT(dL/dE)_k||² (backprop only, no weight decay) after every "
        "one of the first this many steps, then at each measurement; 0 = off",
    )
    snapshot_every: int = setting(
        Int(0),
        0,
        new=True,
        doc="keep the embedding every this many steps (and after steps 0..first_steps); 0 = off",
    )
    until: str = setting(
        Choice(UNTIL_RULES),
        "steps",
        new=True,
        doc='when a trial stops before `steps` (then its cap): "steps" never; '
        '"loss_settled" when neither loss\'s best improved more than settle_tolerance decades over the last settle_window steps '
        'and both sit within settle_tolerance of their best so far; "survivors_settled" (modular addition) when the set of surviving '
        "frequencies has not changed for settle_window steps, nor for as long as weight decay alone takes to kill one, and has lost one. "
        "A trial whose training loss is not finite stops at once, whatever the rule",
    )
    settle_window: int = setting(
        Int(1), 1000, new=True, doc="steps over which a settling rule looks back; less than steps"
    )
    settle_tolerance: float = setting(
        Float(0.0),
        0.01,
        new=True,
        doc="loss_settled: decades by which either loss's best may "
        "still improve over settle_window, and its current value sit above its best so far, and count as settled",
    )
    loss: str = setting(
        Choice(LOSSES),
        "standard",
        new=True,
        doc='the cross-entropy trained on and measured: "standard" '
        "(the framework's softmax cross-entropy, the paper's likely setting: in float32 a pair whose target probability "
        'rounds to 1 has loss and target gradient exactly 0) or "exact" (softplus of the off-target logsumexp relative '
        "to the target logit: keeps 1 - p, so the loss and the target's gradient stay nonzero)",
    )
    jit_compile: bool = True
    group_size: int | None = None  # members per compiled program; None = automatic

    def _dense(self) -> int:
        """Every step up to this one is measured."""
        return min(max(self.first_steps, self.gradient_steps), self.steps)

    def record_steps(self) -> np.ndarray:
        """The steps after which measurements are taken (0 = before training), sorted.

        Steps 0..max(first_steps, gradient_steps), every `log_every`-th and `snapshot_every`-th step,
        and the last. Built from ranges, so its size is the number of measurements, never the
        number of steps.
        """
        parts = [
            np.arange(0, self._dense() + 1, dtype=np.int64),
            np.arange(self.log_every, self.steps + 1, self.log_every, dtype=np.int64),
            np.array([self.steps], dtype=np.int64),
        ]
        if self.snapshot_every:
            parts.append(
                np.arange(self.snapshot_every, self.steps + 1, self.snapshot_every, dtype=np.int64)
            )
        return np.unique(np.concatenate(parts))

    def n_records(self) -> int:
        """len(record_steps()), counted without building it (for validating huge settings)."""
        dense = self._dense()

        def multiples(every: int) -> int:  # multiples of `every` in (dense, steps]
            return self.steps // every - dense // every

        count = dense + 1 + multiples(self.log_every)
        if self.snapshot_every:
            both = math.lcm(self.log_every, self.snapshot_every)
            count += multiples(self.snapshot_every) - multiples(both)
        covered = (
            self.steps <= dense
            or self.steps % self.log_every == 0
            or (self.snapshot_every and self.steps % self.snapshot_every == 0)
        )
        return count + (0 if covered else 1)

    def snapshot_steps(self) -> np.ndarray:
        """The measured steps whose embedding is kept: 0..first_steps, every snapshot_every-th, the last."""
        if not self.snapshot_every:
            return np.zeros(0, dtype=np.int64)
        s = self.record_steps()
        return s[(s <= self.first_steps) | (s % self.snapshot_every == 0) | (s == self.steps)]


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
    gradient_norms: np.ndarray | None = (
        None  # (len(steps), K): ||FFT(dL/dE)_k||² at each step's parameters, if recorded
    )
    snapshot_steps: np.ndarray | None = None  # steps whose embedding was kept, if any
    snapshots: np.ndarray | None = None  # (len(snapshot_steps), p, d)
    stop_step: int | None = (
        None  # the step it stopped after (its last measurement); None: steps[-1]
    )
    stop_reason: str = "max_steps"  # one of STOP_REASONS (cinit_tf.stopping)
    # Share of training pairs whose standard cross-entropy is exactly 0 in the training precision (the
    # target's probability rounds to 1: softmax collapse), at each measurement; None: not recorded
    # (trials stored before the record existed).
    train_collapsed: np.ndarray | None = None

    def __post_init__(self):
        if self.stop_step is None and len(self.steps):
            self.stop_step = int(self.steps[-1])

    @property
    def collapse_step(self) -> int | None:
        """The first measured step at which any training pair's standard loss was exactly 0; None: never (or not recorded)."""
        if self.train_collapsed is None:
            return None
        hit = np.flatnonzero(np.asarray(self.train_collapsed) > 0)
        return int(self.steps[hit[0]]) if hit.size else None

    @property
    def collapse_share(self) -> float:
        """The share of training pairs collapsed at the last measurement; nan when not recorded."""
        if self.train_collapsed is None or not len(self.train_collapsed):
            return float("nan")
        return float(np.asarray(self.train_collapsed)[-1])

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        out["convergence_step"] = np.array(
            -1 if self.convergence_step is None else self.convergence_step
        )
        out["nonfinite_step"] = np.array(-1 if self.nonfinite_step is None else self.nonfinite_step)
        out["stop_step"] = np.array(self.stop_step)
        out["stop_reason"] = np.array(self.stop_reason)
        return out

    @classmethod
    def from_arrays(cls, a) -> TrialResult:
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
            gradient_norms=a["gradient_norms"] if "gradient_norms" in a else None,
            snapshot_steps=a["snapshot_steps"] if "snapshot_steps" in a else None,
            snapshots=a["snapshots"] if "snapshots" in a else None,
            # trials stored before stopping rules existed trained to their last step
            stop_step=int(a["stop_step"]) if "stop_step" in a else None,
            stop_reason=str(a["stop_reason"])
            if "stop_reason" in a
            else ("diverged" if bad >= 0 else "max_steps"),
            train_collapsed=a["train_collapsed"] if "train_collapsed" in a else None,
        )


@dataclass
class StoredTrial:
    """A finished trial: the settings that identify it, what training produced, and what its
    transform chose (docs/method.md#transforms). The questions every study asks of a trial's
    settings are answered here, once."""

    id: str
    settings: dict
    result: TrialResult
    chosen: dict = field(default_factory=dict)

    @property
    def case(self) -> str:
        """The experiment case the trial belongs to ("" when the file has none)."""
        return self.settings.get("case", "")

    @property
    def budget(self) -> int:
        """Its step budget: the fixed length, or the cap of a run trained until settled."""
        return int(self.settings["train"]["steps"])

    @property
    def until(self) -> str:
        """Its stopping rule: "steps" (fixed length) or what it trained until."""
        return self.settings["train"].get("until", "steps")

    @property
    def loss(self) -> str:
        """The cross-entropy it trained with ("standard" for trials stored before the setting existed)."""
        return self.settings["train"].get("loss", "standard")

    @property
    def until_settled(self) -> bool:
        """Trained until a settling rule held (or the cap), rather than for a fixed number of steps."""
        return self.until != "steps"

    @property
    def settled(self) -> bool:
        """It stopped because its settling rule held (not at the cap, not on a non-finite loss)."""
        return self.result.stop_reason == "settled"

    @property
    def seeds(self) -> tuple[int, int, int]:
        """Its (embedding, MLP, split) seeds."""
        s = self.settings["seeds"]
        return int(s["embedding"]), int(s["mlp"]), int(s["split"])
