"""When a trial is over: the stopping rules of `[train] until` (docs/method.md#stopping-rules).

A trial stops at the first measurement where one of these holds, checked in this order:

- diverged: its training loss is not finite (nothing it records afterwards could be read);
- settled: what its experiment measures has stopped changing (the rule of `until`; for survivor sets, also
  for as long as weight decay alone takes to kill a frequency, `decay_steps`);
- max_steps: it has trained `steps` steps (the only reason under `until = "steps"`).

The rules read only what the engine measures anyway, on the host, between compiled calls; no
TensorFlow here, so they are tested on constructed curves.
"""

from __future__ import annotations

import math

import numpy as np

from cinit_tf.readout import SURVIVAL_TAU, survivors
from cinit_tf.trial import UNTIL_RULES, log10_loss


class StopRule:
    """One trial's stopping state, fed its measurements in step order by `observe`."""

    def __init__(
        self,
        until: str,
        window: int,
        tolerance: float,
        max_steps: int,
        decay_steps: float = 0.0,
        must_prune: bool = True,
    ):
        if until not in UNTIL_RULES:
            raise ValueError(f"until must be one of {UNTIL_RULES}, got {until!r}")
        self.until, self.window, self.tolerance, self.max_steps = (
            until,
            window,
            tolerance,
            max_steps,
        )
        # survivors_settled: the set must also have stood for as long as weight decay alone takes to bring a
        # frequency from the largest signal below τ of it (`decay_steps`), or an unchanged set means nothing yet
        self.unchanged = max(window, decay_steps)
        # ... and it must differ from the first set measured: until a frequency has died, pruning has not begun
        # (an embedding that cannot change, frozen, is exempt)
        self.must_prune = must_prune
        self.first_mask: np.ndarray | None = None
        self.steps: list[int] = []
        self.losses: list[tuple[float, float]] = []  # (log10 train loss, log10 test loss)
        # loss_settled: the lowest of each loss over the records that have left the window, folded in as they
        # leave, so each measurement reads only the window's records (NaN until one has left)
        self.best_before = np.full(2, np.nan)
        self.left = 0  # records folded into best_before
        self.mask: np.ndarray | None = None
        self.mask_since = 0  # first step of the current unbroken run of equal survivor sets

    @classmethod
    def of(cls, config) -> StopRule:
        return cls(
            config.until,
            config.settle_window,
            config.settle_tolerance,
            config.steps,
            decay_steps(config),
            must_prune=not config.freeze_embedding,
        )

    def observe(
        self, step: int, train_loss: float, test_loss: float, fourier_norms=None
    ) -> str | None:
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
                raise ValueError(
                    'until = "survivors_settled" reads the Fourier signals: modular addition only'
                )
            mask = survivors(np.asarray(fourier_norms)[None])[0]
            if self.first_mask is None:
                self.first_mask = mask
            if self.mask is None or not np.array_equal(mask, self.mask):
                self.mask, self.mask_since = mask, step
            elif step - self.mask_since >= self.unchanged and not (
                self.must_prune and np.array_equal(mask, self.first_mask)
            ):
                return "settled"
        return "max_steps" if step >= self.max_steps else None

    def _loss_settled(self, step: int) -> bool:
        """Both losses have stopped falling and sit at their best level, not on a spike or a rise.

        For each loss: its lowest value over the last `window` steps is no more than `tolerance` decades below
        its lowest before them (the best has stopped improving), and the current value is within `tolerance` of
        the lowest value measured so far (a loss that has risen above its best, briefly or for long, may come
        back down: the run goes on, to its cap if need be).
        """
        if step < self.window:
            return False
        i = int(np.searchsorted(self.steps, step - self.window, side="right"))
        if i == 0:
            return False
        # fmin skips a NaN (a test loss that was not finite once) instead of spreading it; a NaN now never settles
        for record in self.losses[self.left : i]:
            self.best_before = np.fmin(self.best_before, record)
        self.left = i
        recent = np.asarray(self.losses[i:])
        for k in range(2):
            best_before, best_recent, now = (
                self.best_before[k],
                np.fmin.reduce(recent[:, k]),
                recent[-1, k],
            )
            if not (
                best_recent >= best_before - self.tolerance
                and now <= min(best_before, best_recent) + self.tolerance
            ):
                return False
        return True


def decay_steps(config) -> float:
    """Steps in which AdamW's decoupled decay alone shrinks a signal by τ (= SURVIVAL_TAU): signal ∝ (1 − lr·wd)^(2t).

    ln(1/τ) / (−2·ln(1 − lr·wd)) ≈ 1.5 / (lr·wd) at τ = 0.05 (300 steps at lr 0.01, wd 0.5; 15,000 at wd 0.01);
    infinite without weight decay (the set can then only settle at the cap), 0 when the embedding is frozen.
    """
    if config.freeze_embedding:
        return 0.0
    shrink = config.lr * config.weight_decay
    if shrink <= 0:
        return math.inf
    if shrink >= 1:
        return 1.0
    return math.log(1 / SURVIVAL_TAU) / (-2 * math.log1p(-shrink))


def _log10(x: float) -> float:
    """log10 of a loss floored at cinit_tf.trial.LOSS_FLOOR, as the studies read it (an exact 0 is -10, not
    -inf, so a run at float32's zero can settle there); NaN stays NaN."""
    return log10_loss(x)
