"""When a trial is over: the stopping rules of `[train] until` (docs/method.md#stopping-rules).

A trial stops at the first measurement where one of these holds, checked in this order:

- diverged: its training loss is not finite (nothing it records afterwards could be read);
- settled: what its experiment measures has stopped changing (the rule of `until`);
- max_steps: it has trained `steps` steps (the only reason under `until = "steps"`).

The rules read only what the engine measures anyway, on the host, between compiled calls; no
TensorFlow here, so they are tested on constructed curves.
"""

from __future__ import annotations

import math

import numpy as np

from cinit_tf.readout import survivors
from cinit_tf.trial import UNTIL_RULES


class StopRule:
    """One trial's stopping state, fed its measurements in step order by `observe`."""

    def __init__(self, until: str, window: int, tolerance: float, max_steps: int):
        if until not in UNTIL_RULES:
            raise ValueError(f"until must be one of {UNTIL_RULES}, got {until!r}")
        self.until, self.window, self.tolerance, self.max_steps = until, window, tolerance, max_steps
        self.steps: list[int] = []
        self.losses: list[tuple[float, float]] = []  # (log10 train loss, log10 test loss)
        self.mask: np.ndarray | None = None
        self.mask_since = 0  # first step of the current unbroken run of equal survivor sets

    @classmethod
    def of(cls, config) -> "StopRule":
        return cls(config.until, config.settle_window, config.settle_tolerance, config.steps)

    def observe(self, step: int, train_loss: float, test_loss: float, fourier_norms=None) -> str | None:
        """Record one measurement; the reason to stop after it (one of STOP_REASONS), or None to go on."""
        if not math.isfinite(train_loss):
            return "diverged"
        if self.until == "loss_settled":
            self.steps.append(step)
            self.losses.append((_log10(train_loss), _log10(test_loss)))
            if self._loss_settled(step):
                return "settled"
        elif self.until == "survivors_settled":
            if fourier_norms is None:
                raise ValueError('until = "survivors_settled" reads the Fourier signals: modular addition only')
            mask = survivors(np.asarray(fourier_norms)[None])[0]
            if self.mask is None or not np.array_equal(mask, self.mask):
                self.mask, self.mask_since = mask, step
            elif step - self.mask_since >= self.window:
                return "settled"
        return "max_steps" if step >= self.max_steps else None

    def _loss_settled(self, step: int) -> bool:
        """Neither loss fell by more than `tolerance` decades since the last measurement at or before step - window."""
        if step < self.window:
            return False
        i = int(np.searchsorted(self.steps, step - self.window, side="right")) - 1
        then, now = self.losses[i], self.losses[-1]
        return all(a == b or a - b <= self.tolerance for a, b in zip(then, now))


def _log10(x: float) -> float:
    """log10 of a loss; a loss of exactly 0 counts as -inf (it cannot fall further), NaN stays NaN."""
    return math.log10(x) if x > 0 else (-math.inf if x == 0 else math.nan)

