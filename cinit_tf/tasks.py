"""The paper's three algorithmic tasks (docs/method.md#tasks): every ordered pair (a, b), its label, a seeded split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cinit_tf.seeds import rng

TASK_NAMES = ("remainder", "xor", "modadd")


@dataclass(frozen=True)
class Task:
    """A task over tokens 0..p-1; `labels[a * p + b]` is the class of the pair (a, b)."""

    name: str
    p: int
    classes: int
    m: int | None = None  # remainder divisor
    head: str = (
        "two"  # remainder: "two" output logits, or "p" (the paper's App. A; labels stay 0/1)
    )
    bits: int | None = None  # xor width

    def pairs(self) -> np.ndarray:
        """All p² ordered pairs, row a*p + b holding (a, b)."""
        a, b = np.divmod(np.arange(self.p * self.p), self.p)
        return np.stack([a, b], axis=1).astype(np.int32)

    def labels(self) -> np.ndarray:
        a, b = self.pairs().T
        if self.name == "remainder":
            y = (a % self.m == b % self.m).astype(np.int32)
        elif self.name == "xor":
            y = np.bitwise_xor(a, b)
        else:
            y = (a + b) % self.p
        return y.astype(np.int32)

    def n_train(self, train_fraction: float) -> int:
        return int(round(train_fraction * self.p * self.p))

    def split(self, split_seed: int, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices (into `pairs()`) of the train and test pairs.

        A seeded random permutation of all p² pairs; the first round(fraction·p²) train.
        """
        order = rng("split", split_seed).permutation(self.p * self.p).astype(np.int32)
        n = self.n_train(train_fraction)
        return np.sort(order[:n]), np.sort(order[n:])


def make_task(
    name: str,
    p: int | None = None,
    m: int | None = None,
    bits: int | None = None,
    head: str = "two",
) -> Task:
    """Build a task from its paper parameters; p is derived from bits for XOR."""
    if name == "remainder":
        if p is None or m is None:
            raise ValueError("remainder needs p and m")
        if p < 2 or m < 2:
            raise ValueError(f"remainder needs p >= 2 and m >= 2, got p={p}, m={m}")
        if head not in ("two", "p"):
            raise ValueError(f'remainder head is "two" or "p", got {head!r}')
        # The label is binary either way; with p logits the other p - 2 classes are never a target.
        return Task("remainder", p=p, classes=2 if head == "two" else p, m=m, head=head)
    if name == "xor":
        if bits is None:
            raise ValueError("xor needs bits")
        if bits < 1:
            raise ValueError(f"xor needs bits >= 1, got {bits}")
        return Task("xor", p=2**bits, classes=2**bits, bits=bits)
    if name == "modadd":
        if p is None:
            raise ValueError("modadd needs p")
        if p < 2:
            raise ValueError(f"modadd needs p >= 2, got {p}")
        return Task("modadd", p=p, classes=p)
    raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASK_NAMES)}")
