"""The host loop of a population: each slot trains one trial until it stops, then takes the next one.

Every slot keeps its own clock: the trial in it started at some global step and measures at its
own record steps (`TrainConfig.record_steps`, counted from its start). The loop runs the compiled
program up to the earliest next measurement of any slot, measures every slot at once, and hands
each slot whose step it is its measurement. A trial stops when its stopping rule says so
(`cinit_tf.stopping`: settled, max_steps or diverged); its slot then takes the next pending trial
(`PopulationTrainer.refill`), so that a population of trials of different lengths keeps every slot
busy, the way a server batches requests of different lengths (docs/method.md#population-training).
When every slot stops at once (trials of one fixed length) the next trials load as a fresh group.

Which slot a trial takes depends on when the trials before it stopped, and in float32 a trial's
bits may depend on its slot (docs/method.md#population-training). A run that resumes a population
an earlier run left unfinished therefore replays the earlier run's schedule: the trials already
stored (`stored`, their positions in the population and their stop steps) hold their slots on the
host until their stop step, without training, so every trial left to train takes the slot it
took in the run that was interrupted, in a group of the same size.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cinit_tf.stopping import StopRule
from cinit_tf.trial import TrialResult

# A compiled call runs uninterrupted (a signal is handled when it returns), so the host runs the steps between
# two measurements in pieces of about this many seconds: SIGTERM or Ctrl-C then ends a run within about a piece,
# whatever log_every is. Pieces change no number (each step is the same compiled step; no recompilation).
PIECE_SECONDS = 1.0
FIRST_PIECE = 8  # steps of the first piece, before the rate is known


def next_piece(
    left: int, last_steps: int, last_seconds: float, seconds: float = PIECE_SECONDS
) -> int:
    """Steps of the next compiled call: about `seconds` at the rate of the last piece, at least 1, at most `left`."""
    if last_steps <= 0 or not last_seconds > 0:
        return max(1, min(left, FIRST_PIECE))
    return max(1, min(left, int(last_steps * seconds / last_seconds)))


def run_in_pieces(trainer, steps: int, rate: list) -> None:
    """`trainer.run(steps)` as consecutive calls of about PIECE_SECONDS each; `rate` = [steps, seconds] of the last
    piece, carried from call to call."""
    left = int(steps)
    while left > 0:
        piece = next_piece(left, *rate)
        start = time.perf_counter()
        trainer.run(piece)
        rate[:] = [piece, time.perf_counter() - start]
        left -= piece


@dataclass
class _Slot:
    index: (
        int | None
    )  # into the trials; None: a stored trial, which only holds the slot until `until`
    start: int  # global step at which it started
    schedule: np.ndarray  # its record steps, counted from its start
    rule: StopRule | None
    initial: np.ndarray | None
    until: int = 0  # a stored trial's stop step
    at: int = 0  # position of its next record step in `schedule`
    log: dict = field(default_factory=lambda: collections.defaultdict(list))
    snapshot_steps: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)

    def next_global(self) -> int:
        return self.start + int(self.schedule[self.at])

    @property
    def trains(self) -> bool:
        return self.index is not None


def population_order(trials: int, stored: dict[int, int]) -> list[tuple[int | None, int]]:
    """The population in its order: (trial index, 0) for a trial to train, (None, stop step) for a stored one.

    stored: {position in the population: stop step} of the trials an earlier run stored; the trials to
    train fill the other positions in their order.
    """
    total = trials + len(stored)
    bad = sorted(k for k in stored if not 0 <= k < total)
    if bad:
        raise ValueError(
            f"stored positions must lie in 0..{total - 1} (the population's {total} trials), got {bad}"
        )
    negative = sorted(k for k, step in stored.items() if step < 0)
    if negative:
        raise ValueError(
            f"stop steps must be >= 0, got {[stored[k] for k in negative]} at {negative}"
        )
    fresh = iter(range(trials))
    return [(None, int(stored[k])) if k in stored else (next(fresh), 0) for k in range(total)]


def train_slots(
    trainer,
    trials: list,
    *,
    stored: dict[int, int] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_measure: Callable[[dict[int, int], dict], None] | None = None,
    on_done: Callable[[int, TrialResult], None] | None = None,
    loaded: bool = False,
) -> list[TrialResult]:
    """Train every trial in the trainer's slots, refilling freed slots; results in the trials' order.

    stored: {position in the population: stop step} of trials of the same population an earlier run
    stored; they hold their slots until their stop step, untrained, so each trial here takes the slot
    an uninterrupted run gives it (`population_order`).
    loaded: the first trials are already in the slots (`trainer.load(trials[:members])`, then perhaps
    changed by a test): train them from there instead of loading them again.

    on_start(index, slot): trial `index` starts in `slot`.
    on_measure(steps, measurements): `steps` = {slot: its own step} of the slots measured now;
    measurements have every slot on axis 0 (read only the slots in `steps`).
    on_done(index, result): trial `index` has stopped; its result (stored by the runner at once).
    """
    stored = dict(stored or {})
    if loaded and stored:
        raise ValueError("a loaded population has no stored trials to replay")
    config = trainer.config
    schedule = config.record_steps()
    keep = set(config.snapshot_steps().tolist())
    pending = collections.deque(population_order(len(trials), stored))
    results: list = [None] * len(trials)
    slots: list[_Slot | None] = [None] * trainer.members
    now = 0
    rate = [0, 0.0]  # steps and seconds of the last compiled piece (run_in_pieces)

    def start(assign: dict[int, tuple[int | None, int]], load: str) -> None:
        fresh = {s: i for s, (i, _) in assign.items() if i is not None}
        if fresh and load == "fresh":
            # every slot gets a trial: a slot no trial of this run takes trains a copy of one, ignored
            filler = next(iter(fresh.values()))
            trainer.load([trials[fresh.get(s, filler)] for s in range(trainer.members)])
        elif fresh and load == "refill":
            trainer.refill({s: trials[i] for s, i in fresh.items()})
        embeddings = trainer.embeddings() if fresh else None
        for s, (i, until) in assign.items():
            if i is None:
                slots[s] = _Slot(None, now, schedule, None, None, until=until)
                continue
            slots[s] = _Slot(i, now, schedule, StopRule.of(config), embeddings[s].copy())
            if on_start is not None:
                on_start(i, s)

    start(
        {s: pending.popleft() for s in range(min(trainer.members, len(pending)))},
        "loaded" if loaded else "fresh",
    )
    while any(slots):
        target = min(sl.next_global() for sl in slots if sl is not None)
        if target > now:
            # while only stored trials hold the slots, the clock moves on without training
            if _training(slots):
                run_in_pieces(trainer, target - now, rate)
            now = target
        due = [s for s, sl in enumerate(slots) if sl is not None and sl.next_global() == now]
        measured, stopped, m = _take_measurements(trainer, slots, due, keep)
        if measured and on_measure is not None:
            on_measure(measured, m)
        _release(trainer, slots, stopped, results, on_done)
        if stopped and pending:
            free = [s for s, sl in enumerate(slots) if sl is None]
            # all stopped together: a fresh group, as fixed-length trials load
            fresh = len(free) == trainer.members
            if fresh:
                now = 0  # a load zeroes the step count
            # while no trial of this run trains, the others hold nothing: the new trials load as a whole group
            start(
                {s: pending.popleft() for s in free[: len(pending)]},
                "fresh" if fresh or not _training(slots) else "refill",
            )
    return results


def _training(slots: list) -> bool:
    """Whether any slot holds a trial of this run (not only stored ones)."""
    return any(sl is not None and sl.trains for sl in slots)


def _release(trainer, slots: list, stopped: list, results: list, on_done) -> None:
    """Free the slots that stopped; a trial of this run gets its result (and `on_done`)."""
    finals = trainer.embeddings() if any(reason for *_, reason in stopped) else None
    for s, step, reason in stopped:
        sl = slots[s]
        slots[s] = None
        if sl.trains:
            results[sl.index] = _result(sl, finals[s].copy(), step, reason)
            if on_done is not None:
                on_done(sl.index, results[sl.index])


def _take_measurements(trainer, slots: list, due: list[int], keep: set):
    """The slots `due` at their next scheduled step: each training slot logs the trainer's measurement
    and asks its stop rule; a stored trial's slot is released at its stop step. Returns ({slot: step}
    measured, [(slot, step, stop reason or None for a released stored trial)] stopped, the measurement)."""
    measure = any(slots[s].trains for s in due)
    m = trainer.measure() if measure else None
    embeddings = trainer.embeddings() if keep and measure else None
    measured, stopped = {}, []
    for s in due:
        sl = slots[s]
        step = int(sl.schedule[sl.at])
        sl.at += 1
        if not sl.trains:
            if step >= sl.until or sl.at == len(sl.schedule):
                stopped.append((s, step, None))
            continue
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
    return measured, stopped, m


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
