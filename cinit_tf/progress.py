"""The run's progress bar: model-steps (optimizer steps × members), with a rate and ETA measured after compilation."""

from __future__ import annotations

import time


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """A bar of model-steps (optimizer steps × members), with a rate and ETA measured after compilation.

    The first time a shape trains in this process its first measured interval includes tracing and
    XLA compilation, which later groups of that shape do not pay; that interval counts toward the
    bar but not toward the rate, so the ETA is the steady rate's.
    """

    def __init__(self, total: int, desc: str, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            desc=desc,
            disable=not enabled or total == 0,
            dynamic_ncols=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} model-steps [{elapsed}{postfix}]",
            unit_scale=total >= 10_000,
        )
        self.seen: set = set()
        self.rate_steps, self.rate_time = 0, 0.0
        self.trials = ""

    def population_start(self, shape) -> None:
        self.fresh = shape not in self.seen
        self.seen.add(shape)
        self.last: dict[int, int] = {}
        self.t = time.monotonic()

    def slot_start(self, slot: int) -> None:
        self.last[slot] = 0

    def measure(self, steps: dict[int, int]) -> None:
        """Slots measured at their own steps ({slot: step}): the steps each trained since its last measurement."""
        now = time.monotonic()
        n = sum(step - self.last.get(slot, 0) for slot, step in steps.items())
        self.last.update(steps)
        if self.fresh:
            self.fresh = (
                n == 0
            )  # the compiling interval ends at the first measurement after some training
        else:
            self.rate_steps += n
            self.rate_time += now - self.t
        self.t = now
        self.bar.update(n)
        self._postfix()

    def trial_done(self, unused_steps: int, text: str) -> None:
        """A trial stopped, `unused_steps` before its cap: the bar's total no longer counts them."""
        if unused_steps > 0 and self.bar.total:
            self.bar.total -= unused_steps
            self.bar.refresh()
        self.trials = text
        self._postfix()

    def add(self, steps: int) -> None:
        """Change the total by `steps`: trials finished elsewhere leave it, newly needed ones join it."""
        if steps and self.bar.total is not None:
            self.bar.total = max(self.bar.n, self.bar.total + steps)
            self.bar.refresh()

    def _postfix(self) -> None:
        if self.rate_steps and self.rate_time > 0:
            rate = self.rate_steps / self.rate_time
            eta = f"eta {_clock((self.bar.total - self.bar.n) / rate)} at {rate:,.0f} model-steps/s"
        else:
            eta = "eta after the first compiled steps"
        self.bar.set_postfix_str(
            f"<{eta}, trials {self.trials}" if self.trials else f"<{eta}", refresh=False
        )

    def close(self) -> None:
        self.bar.close()
