"""The host loop of a population: each slot trains one trial until it stops, then takes the next one.

Every slot keeps its own clock: the trial in it started at some global step and measures at its
own record steps (`TrainConfig.record_steps`, counted from its start). The loop runs the compiled
program up to the earliest next measurement of any slot, measures every slot at once, and hands
each slot whose step it is its measurement. A trial stops when its stopping rule says so
(`cinit_tf.stopping`: settled, max_steps or diverged); its slot then takes the next pending trial
(`PopulationTrainer.refill`), so that a population of trials of different lengths keeps every slot
busy, the way a server batches requests of different lengths (docs/method.md#population-training).
When every slot stops at once (trials of one fixed length) the next trials load as a fresh group.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cinit_tf.stopping import StopRule
from cinit_tf.trial import TrialResult



@dataclass
class _Slot:
    index: int  # into the trials
    start: int  # global step at which it started
    schedule: np.ndarray  # its record steps, counted from its start
    rule: StopRule
    initial: np.ndarray
    at: int = 0  # position of its next record step in `schedule`
    log: dict = field(default_factory=lambda: collections.defaultdict(list))
    snapshot_steps: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)

    def next_global(self) -> int:
        return self.start + int(self.schedule[self.at])


def train_slots(
    trainer,
    trials: list,
    *,
    on_start: Callable[[int, int], None] | None = None,
    on_measure: Callable[[dict[int, int], dict], None] | None = None,
    on_done: Callable[[int, TrialResult], None] | None = None,
    loaded: bool = False,
) -> list[TrialResult]:
    """Train every trial in the trainer's slots, refilling freed slots; results in the trials' order.

    loaded: the first trials are already in the slots (`trainer.load(trials[:members])`, then perhaps
    changed by a test): train them from there instead of loading them again.

    on_start(index, slot): trial `index` starts in `slot`.
    on_measure(steps, measurements): `steps` = {slot: its own step} of the slots measured now;
    measurements have every slot on axis 0 (read only the slots in `steps`).
    on_done(index, result): trial `index` has stopped; its result (stored by the runner at once).
    """
    config = trainer.config
    schedule = config.record_steps()
    keep = set(config.snapshot_steps().tolist())
    pending = collections.deque(range(len(trials)))
    results: list = [None] * len(trials)
    slots: list[_Slot | None] = [None] * trainer.members
    now = 0

    def start(assign: dict[int, int], load: str) -> None:
        if load == "fresh":
            trainer.load([trials[i] for _, i in sorted(assign.items())])
        elif load == "refill":
            trainer.refill({s: trials[i] for s, i in assign.items()})
        embeddings = trainer.embeddings()
        for s, i in assign.items():
            slots[s] = _Slot(i, now, schedule, StopRule.of(config), embeddings[s].copy())
            if on_start is not None:
                on_start(i, s)

    start({s: pending.popleft() for s in range(min(trainer.members, len(pending)))}, "loaded" if loaded else "fresh")
    while any(slots):
        target = min(sl.next_global() for sl in slots if sl is not None)
        if target > now:
            trainer.run(target - now)
            now = target
        m = trainer.measure()
        embeddings = trainer.embeddings() if keep else None
        measured, stopped = {}, []
        for s, sl in enumerate(slots):
            if sl is None or sl.next_global() != now:
                continue
            step = int(sl.schedule[sl.at])
            sl.at += 1
            measured[s] = step
            for key, v in m.items():
                sl.log[key].append(v[s])
            norms = m["fourier_norms"][s] if "fourier_norms" in m else None
            reason = sl.rule.observe(step, float(m["train_loss"][s]), float(m["test_loss"][s]), norms)
            if reason is None and sl.at == len(sl.schedule):
                reason = "max_steps"
            if step in keep or (reason and keep):
                sl.snapshot_steps.append(step)
                sl.snapshots.append(embeddings[s].copy())
            if reason:
                stopped.append((s, step, reason))
        if on_measure is not None:
            on_measure(measured, m)
        finals = trainer.embeddings() if stopped else None
        for s, step, reason in stopped:
            sl = slots[s]
            results[sl.index] = _result(sl, finals[s].copy(), step, reason)
            slots[s] = None
            if on_done is not None:
                on_done(sl.index, results[sl.index])
        if stopped and pending:
            free = [s for s, sl in enumerate(slots) if sl is None]
            fresh = len(free) == trainer.members  # all stopped together: a fresh group, as fixed-length trials load
            if fresh:
                now = 0  # a load zeroes the step count
            start({s: pending.popleft() for s in free[: len(pending)]}, "fresh" if fresh else "refill")
    return results


def _result(sl: _Slot, final: np.ndarray, stop_step: int, reason: str) -> TrialResult:
    steps = np.asarray(sl.schedule[: sl.at], dtype=np.int64)
    curves = {key: np.stack(v) for key, v in sl.log.items()}
    acc, loss = curves["test_acc"], curves["train_loss"]
    conv = np.flatnonzero(acc >= 1.0 - 1e-9)
    bad = np.flatnonzero(~np.isfinite(loss))
    return TrialResult(
        steps=steps,
        train_loss=curves["train_loss"],
        train_acc=curves["train_acc"],
        test_loss=curves["test_loss"],
        test_acc=curves["test_acc"],
        fourier_norms=curves.get("fourier_norms"),
        initial_embedding=sl.initial,
        final_embedding=final,
        convergence_step=int(steps[conv[0]]) if conv.size else None,
        nonfinite_step=int(steps[bad[0]]) if bad.size else None,
        gradient_norms=curves.get("gradient_norms"),
        snapshot_steps=np.array(sl.snapshot_steps, dtype=np.int64) if sl.snapshot_steps else None,
        snapshots=np.stack(sl.snapshots) if sl.snapshots else None,
        stop_step=stop_step,
        stop_reason=reason,
        train_collapsed=curves.get("train_collapsed"),
    )
