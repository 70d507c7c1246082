"""A population that refills its freed slots: every trial is what it would be trained alone (cinit_tf.slots)."""

import itertools

import numpy as np
import pytest

from cinit_tf import slots
from cinit_tf.stopping import StopRule
from cinit_tf.tasks import make_task
from cinit_tf.training import train_population
from cinit_tf.trial import TrainConfig, Trial

TASK = make_task("modadd", p=23)
KW = dict(d=16, weight_decay=0.5, log_every=10, first_steps=2)
LENGTHS = [40, 10, 30, 20, 10, 50, 20]  # trial i stops after LENGTHS[i] steps
TRIALS = [Trial(i, 10 + i, 20 + i) for i in range(len(LENGTHS))]


@pytest.fixture
def stop_at_lengths(monkeypatch):
    """Trains with trial i stopping at LENGTHS[i]; returns [(trial, slot) in the order they started] and the results.

    Rules are made in the order trials start, which is trial order, so the k-th rule is trial k's.
    """

    def train(config, trials, group_size):
        made = itertools.count()
        with monkeypatch.context() as patch:
            patch.setattr(
                slots.StopRule,
                "of",
                staticmethod(lambda _: StopRule("steps", 1, 0.0, LENGTHS[next(made)])),
            )
            started = []
            results = train_population(
                TASK,
                TrainConfig(group_size=group_size, **config),
                trials,
                on_start=lambda i, s: started.append((i, s)),
            )
        return started, results

    return train


def test_a_refilled_population_equals_independent_runs(stop_at_lengths):
    """3 slots, 7 trials of 10–50 steps: slots are refilled mid-run, and each trial equals its own run (float64)."""
    config = dict(steps=50, dtype="float64", **KW)
    started, together = stop_at_lengths(config, TRIALS, 3)
    assert [i for i, _ in started] == list(range(7))
    assert [s for _, s in started][3:] != [0, 1, 2, 0], (
        "some slot must be refilled while others train on"
    )
    for i, (trial, member) in enumerate(zip(TRIALS, together)):
        alone = train_population(
            TASK, TrainConfig(steps=LENGTHS[i], dtype="float64", group_size=1, **KW), [trial]
        )[0]
        assert (
            member.stop_step == LENGTHS[i] == alone.stop_step and member.stop_reason == "max_steps"
        )
        np.testing.assert_array_equal(member.steps, alone.steps)
        np.testing.assert_allclose(
            member.initial_embedding, alone.initial_embedding, rtol=0, atol=0
        )
        np.testing.assert_allclose(member.final_embedding, alone.final_embedding, rtol=0, atol=1e-9)
        for curve in ("train_loss", "test_loss", "test_acc", "fourier_norms"):
            np.testing.assert_allclose(
                getattr(member, curve), getattr(alone, curve), rtol=1e-9, atol=1e-12
            )
        assert np.abs(member.final_embedding - member.initial_embedding).max() > 1e-3  # it trained


def test_a_refilled_slot_is_bit_for_bit_a_fresh_slot_in_float32(stop_at_lengths):
    """In float32 a trial started in a refilled slot equals, bit for bit, the trial loaded fresh into a population of the same size."""
    config = dict(steps=50, **KW)
    started, together = stop_at_lengths(config, TRIALS, 3)
    refilled = [i for i, s in started[3:]]
    assert refilled
    for i in refilled:
        # three trials, so the fresh population has three slots too (the group size changes float32 sums)
        fresh = train_population(
            TASK,
            TrainConfig(steps=LENGTHS[i], group_size=3, **KW),
            [TRIALS[i], TRIALS[0], TRIALS[1]],
        )[0]
        np.testing.assert_array_equal(together[i].final_embedding, fresh.final_embedding)
        np.testing.assert_array_equal(together[i].fourier_norms, fresh.fourier_norms)
        np.testing.assert_array_equal(together[i].train_loss, fresh.train_loss)


def test_a_diverged_member_stops_at_once_and_frees_its_slot():
    """A member whose loss is not finite stops at its first measurement; the next trial takes its slot at once."""
    bad = Trial(0, 0, 0, initial_embedding=np.full((23, 16), np.nan))
    trials = [TRIALS[0], bad, TRIALS[2], TRIALS[3]]
    config = TrainConfig(steps=40, group_size=2, **KW)
    started = []
    results = train_population(TASK, config, trials, on_start=lambda i, s: started.append((i, s)))
    assert (
        results[1].stop_reason == "diverged"
        and results[1].stop_step == 0
        and results[1].nonfinite_step == 0
    )
    assert started[:3] == [(0, 0), (1, 1), (2, 1)], (
        started
    )  # trial 2 took the diverged trial's slot at step 0
    alone = train_population(
        TASK, TrainConfig(steps=40, group_size=2, **KW), [TRIALS[2], TRIALS[3]]
    )[0]
    np.testing.assert_array_equal(results[2].final_embedding, alone.final_embedding)
    assert [r.stop_reason for r in results] == ["max_steps", "diverged", "max_steps", "max_steps"]


def test_loss_settled_trials_stop_where_their_own_curves_say():
    """The engine's stops under loss_settled are what the rule says about each stored curve, and no earlier."""
    config = TrainConfig(
        steps=600,
        until="loss_settled",
        settle_window=100,
        settle_tolerance=0.1,
        group_size=3,
        d=16,
        weight_decay=2.0,
        log_every=20,
        first_steps=0,
    )
    trials = [Trial(i, i, i) for i in range(5)]
    results = train_population(TASK, config, trials)
    for r in results:
        replay = StopRule.of(config)
        reasons = [
            replay.observe(int(s), float(a), float(b))
            for s, a, b in zip(r.steps, r.train_loss, r.test_loss)
        ]
        assert reasons[-1] == r.stop_reason and all(x is None for x in reasons[:-1])
        assert r.stop_step == r.steps[-1]
    assert {r.stop_reason for r in results} <= {"settled", "max_steps"}
    assert any(r.stop_reason == "settled" and r.stop_step < 600 for r in results), [
        (r.stop_step, r.stop_reason) for r in results
    ]


def test_population_order_puts_stored_trials_at_their_positions():
    assert slots.population_order(3, {1: 40, 4: 0}) == [
        (0, 0),
        (None, 40),
        (1, 0),
        (2, 0),
        (None, 0),
    ]
    assert slots.population_order(2, {}) == [(0, 0), (1, 0)]
    with pytest.raises(ValueError, match="positions must lie in 0..2"):
        slots.population_order(2, {3: 10})
    with pytest.raises(ValueError, match="stop steps must be >= 0"):
        slots.population_order(2, {0: -1})


def test_a_resumed_population_trains_each_trial_in_its_slot_of_the_uninterrupted_run(monkeypatch):
    """The first three trials to stop are stored (a kill), the rest trained again with them as `stored`:
    each takes the slot it had and stores the same float32 bits. Without XLA a member's sums depend on its
    slot, so the bits check the slots too; packed without the stored trials, some trial moves."""

    def train(trials, lengths, stored=None):
        made = iter(lengths)  # rules are made as trials start, in trial order
        started, order = {}, []
        with monkeypatch.context() as patch:
            patch.setattr(
                slots.StopRule, "of", staticmethod(lambda _: StopRule("steps", 1, 0.0, next(made)))
            )
            config = TrainConfig(steps=50, group_size=3, jit_compile=False, **KW)
            results = train_population(
                TASK,
                config,
                trials,
                stored=stored,
                on_start=lambda i, s: started.setdefault(i, s),
                on_done=lambda i, r: order.append(i),
            )
        return results, started, order

    whole, slot_of, order = train(TRIALS, LENGTHS)
    kept = sorted(order[:3])
    left = [i for i in range(len(TRIALS)) if i not in kept]
    resumed, started, _ = train(
        [TRIALS[i] for i in left], [LENGTHS[i] for i in left], {i: LENGTHS[i] for i in kept}
    )
    assert {left[k]: s for k, s in started.items()} == {i: slot_of[i] for i in left}
    for k, i in enumerate(left):
        assert (resumed[k].stop_step, resumed[k].stop_reason) == (
            whole[i].stop_step,
            whole[i].stop_reason,
        )
        for key in ("final_embedding", "train_loss", "test_loss", "fourier_norms", "steps"):
            np.testing.assert_array_equal(
                getattr(resumed[k], key), getattr(whole[i], key), err_msg=f"trial {i}: {key}"
            )
    _, packed, _ = train([TRIALS[i] for i in left], [LENGTHS[i] for i in left])
    assert {left[k]: s for k, s in packed.items()} != {i: slot_of[i] for i in left}


def test_steps_between_measurements_run_in_pieces_of_about_a_second():
    # The first piece is short; later ones follow the rate of the last (about PIECE_SECONDS each), never above
    # what is left and never below one step.
    assert slots.next_piece(1000, 0, 0.0) == slots.FIRST_PIECE
    assert slots.next_piece(3, 0, 0.0) == 3
    assert slots.next_piece(10_000, 8, 0.004) == 2000  # 8 steps in 4 ms: 2,000 steps a second
    assert slots.next_piece(500, 8, 0.004) == 500
    assert slots.next_piece(10_000, 8, 80.0) == 1  # slower than a second a step: one step at a time

    class Clocked:
        """A trainer whose steps take 1 ms each on a fake clock."""

        def __init__(self):
            self.calls, self.now = [], 0.0

        def run(self, n):
            self.calls.append(n)
            self.now += 0.001 * n

    trainer, rate = Clocked(), [0, 0.0]
    real = slots.time.perf_counter
    try:
        slots.time.perf_counter = lambda: trainer.now
        slots.run_in_pieces(trainer, 100_000, rate)
    finally:
        slots.time.perf_counter = real
    assert sum(trainer.calls) == 100_000  # every step, once
    assert (
        trainer.calls[0] == slots.FIRST_PIECE and max(trainer.calls) <= 1000
    )  # no call over about a second
    assert rate == [trainer.calls[-1], pytest.approx(0.001 * trainer.calls[-1])]


def test_pieces_change_no_number():
    """The same trials trained with the steps between measurements in one call and in pieces of 7: equal bits."""
    config = TrainConfig(
        steps=60, log_every=30, first_steps=0, d=8, width=16, weight_decay=0.5, group_size=2
    )
    trials = [Trial(0, 0, 0), Trial(1, 1, 1)]
    saved = slots.next_piece
    try:
        slots.next_piece = lambda left, *_: (
            left
        )  # one call for all the steps between two measurements
        whole = train_population(TASK, config, trials)
        slots.next_piece = lambda left, *_: min(left, 7)
        pieces = train_population(TASK, config, trials)
    finally:
        slots.next_piece = saved
    for a, b in zip(whole, pieces):
        np.testing.assert_array_equal(a.final_embedding, b.final_embedding)
        np.testing.assert_array_equal(a.test_loss, b.test_loss)
