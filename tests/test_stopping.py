"""Stopping rules on constructed curves: when each rule stops, and why (cinit_tf.stopping)."""

import math

import numpy as np
import pytest

from cinit_tf.stopping import StopRule


def feed(rule, steps, train, test=None, norms=None):
    """The first (step, reason) at which `rule` stops, or None."""
    test = train if test is None else test
    for i, s in enumerate(steps):
        reason = rule.observe(
            int(s), float(train[i]), float(test[i]), None if norms is None else norms[i]
        )
        if reason:
            return int(s), reason
    return None


def test_a_fixed_count_stops_at_its_last_step_only():
    steps = np.arange(0, 1001, 100)
    flat = np.full(steps.size, 0.5)
    assert feed(StopRule("steps", 100, 0.0, 1000), steps, flat) == (1000, "max_steps")


def test_loss_settles_once_neither_loss_falls_more_than_the_tolerance_over_the_window():
    steps = np.arange(0, 5001, 100)
    # falls one decade per 1000 steps until 2000, then flat: settled one window after 2000
    train = 10.0 ** (-np.minimum(steps, 2000) / 1000)
    assert feed(StopRule("loss_settled", 1000, 0.01, 5000), steps, train) == (3000, "settled")
    # the test loss still falls after the train loss has settled: not settled until it too stops
    test = 10.0 ** (-np.minimum(steps, 3500) / 1000)
    assert feed(StopRule("loss_settled", 1000, 0.01, 5000), steps, train, test) == (4500, "settled")
    # a slow fall of 0.05 decades per 1000 steps: settled under a tolerance of 0.1, never under 0.01
    slow = 10.0 ** -(steps * 0.05 / 1000)
    assert feed(StopRule("loss_settled", 1000, 0.1, 5000), steps, slow) == (1000, "settled")
    assert feed(StopRule("loss_settled", 1000, 0.01, 5000), steps, slow) == (5000, "max_steps")


def test_a_spike_or_a_rise_within_the_window_is_not_settled_and_a_loss_at_zero_is():
    steps = np.arange(0, 6001, 100)
    # falls one decade per 1000 steps until 2500, flat after, a one-record spike to 1e-1 at 3000: at 3000 the best
    # has stopped improving (2500 to 3000), but the rule does not stop on the spike; it stops at the next
    # measurement, back at the level (comparing only the measurements at 2500 and 3000 would stop on the spike)
    falling = 10.0 ** -(np.minimum(steps, 2500) / 1000)
    spiked = np.where(steps == 3000, 1e-1, falling)
    assert feed(StopRule("loss_settled", 500, 0.05, 6000), steps, falling) == (3000, "settled")
    assert feed(StopRule("loss_settled", 500, 0.05, 6000), steps, spiked) == (3100, "settled")
    # the same spike in the test loss alone holds the stop too
    assert feed(StopRule("loss_settled", 500, 0.05, 6000), steps, falling, spiked) == (
        3100,
        "settled",
    )
    # a test loss that was not finite once is skipped, not carried into every later comparison
    holed = np.where(steps == 1000, np.nan, falling)
    assert feed(StopRule("loss_settled", 500, 0.05, 6000), steps, falling, holed) == (
        3000,
        "settled",
    )
    # a rise that lasts longer than the window: the best has stopped improving, but the loss is not at it; the run
    # goes on until it is back within the tolerance of its best (here at 4500), or to its cap
    elevated = np.where((steps >= 3000) & (steps < 4500), 1e-1, falling)
    assert feed(StopRule("loss_settled", 500, 0.05, 6000), steps, elevated) == (4500, "settled")
    assert feed(
        StopRule("loss_settled", 500, 0.05, 6000), steps, np.where(steps >= 3000, 1e-1, falling)
    ) == (6000, "max_steps")
    # a rise of more than the tolerance within every window is at no level: the run goes on to its cap
    rising = 1.0 + steps / 1000
    assert feed(StopRule("loss_settled", 1000, 0.0, 3000), steps, rising) == (3000, "max_steps")
    zero = np.where(steps < 500, 1.0, 0.0)
    assert feed(StopRule("loss_settled", 1000, 0.0, 3000), steps, zero) == (1500, "settled")


def test_a_non_finite_training_loss_stops_at_once_under_every_rule():
    steps = np.arange(0, 1001, 100)
    loss = np.where(steps < 300, 1.0, np.nan)
    for until in ("steps", "loss_settled"):
        assert feed(StopRule(until, 500, 0.01, 1000), steps, loss) == (300, "diverged")
    assert feed(StopRule("steps", 500, 0.0, 1000), steps, np.where(steps < 600, 1.0, math.inf)) == (
        600,
        "diverged",
    )


def test_survivors_settle_when_the_set_has_not_changed_for_the_window():
    steps = np.arange(0, 4001, 100)
    K = 5
    # frequency 4 decays below τ·max (0.05) at step 1200; nothing changes afterwards
    norms = np.ones((steps.size, K))
    norms[:, 4] = np.where(steps < 1200, 1.0, 0.01)
    losses = np.ones(steps.size)
    assert feed(StopRule("survivors_settled", 2000, 0.0, 4000), steps, losses, norms=norms) == (
        3200,
        "settled",
    )
    # a set that keeps changing never settles
    flicker = np.ones((steps.size, K))
    flicker[::3, 2] = 0.01
    assert feed(StopRule("survivors_settled", 500, 0.0, 4000), steps, losses, norms=flicker) == (
        4000,
        "max_steps",
    )


def test_survivors_need_fourier_signals_and_unknown_rules_are_refused():
    with pytest.raises(ValueError, match="modular addition"):
        StopRule("survivors_settled", 100, 0.0, 1000).observe(0, 1.0, 1.0, None)
    with pytest.raises(ValueError, match="until must be one of"):
        StopRule("accuracy_settled", 100, 0.0, 1000)


def test_a_survivor_set_must_stand_as_long_as_weight_decay_takes_to_kill_a_frequency():
    from cinit_tf.stopping import decay_steps
    from cinit_tf.trial import TrainConfig

    # lr 0.01: ln 20 / (−2 ln(1 − 0.01·wd)) steps — 299 at wd 0.5, 14,978 at wd 0.01, never at wd 0
    assert round(decay_steps(TrainConfig(weight_decay=0.5))) == 299
    assert round(decay_steps(TrainConfig(weight_decay=0.01))) == 14978
    assert decay_steps(TrainConfig(weight_decay=0.0)) == math.inf
    assert decay_steps(TrainConfig(weight_decay=0.5, freeze_embedding=True)) == 0.0
    steps = np.arange(0, 30001, 500)
    pruned = np.ones((steps.size, 5))
    pruned[steps >= 1000, 4] = 0.01  # frequency 4 dies at step 1000; the set stands from then on
    losses = np.ones(steps.size)
    small = TrainConfig(
        steps=30000, until="survivors_settled", settle_window=2000, weight_decay=0.01
    )
    assert feed(StopRule.of(small), steps, losses, norms=pruned) == (
        16000,
        "settled",
    )  # 1000 + 14,978 on a 500 grid
    large = TrainConfig(
        steps=30000, until="survivors_settled", settle_window=2000, weight_decay=0.5
    )
    assert feed(StopRule.of(large), steps, losses, norms=pruned) == (
        3000,
        "settled",
    )  # 1000 + the window
    none = TrainConfig(steps=30000, until="survivors_settled", settle_window=2000, weight_decay=0.0)
    assert feed(StopRule.of(none), steps, losses, norms=pruned) == (30000, "max_steps")
    # every frequency alive from the start: pruning has not begun, whatever the weight decay (at wd 0.1 a run
    # that had learned nothing yet kept all 29 for its first 2,000 steps) -- unless the embedding is frozen
    same = np.ones((steps.size, 5))
    for config in (small, large):
        assert feed(StopRule.of(config), steps, losses, norms=same) == (30000, "max_steps")
    frozen = TrainConfig(
        steps=30000,
        until="survivors_settled",
        settle_window=2000,
        weight_decay=0.5,
        freeze_embedding=True,
    )
    assert feed(StopRule.of(frozen), steps, losses, norms=same) == (2000, "settled")


def test_loss_settled_reads_its_definition_on_random_curves():
    """The rule keeps the best before the window as a running minimum: the same stops as the definition applied
    to every record each time (random walks with spikes and a NaN hole in the test loss)."""

    def reference(steps, train, test, window, tol, cap):
        logs = np.log10(np.stack([train, test], axis=1))
        for j, s in enumerate(steps):
            if s >= window:
                i = int(np.searchsorted(steps[: j + 1], s - window, side="right"))
                if i and all(
                    np.fmin.reduce(logs[i : j + 1, k]) >= np.fmin.reduce(logs[:i, k]) - tol
                    and logs[j, k]
                    <= min(np.fmin.reduce(logs[:i, k]), np.fmin.reduce(logs[i : j + 1, k])) + tol
                    for k in range(2)
                ):
                    return int(s), "settled"
            if s >= cap:
                return int(s), "max_steps"

    g = np.random.default_rng(3)
    steps = np.arange(0, 8001, 100)
    for _ in range(40):
        walk = 10.0 ** np.cumsum(g.normal(-0.02, 0.05, (2, steps.size)), axis=1)
        walk[1, g.integers(steps.size)] *= 1e3  # a spike
        walk[1, g.integers(steps.size)] = np.nan  # a hole
        window, tol = int(g.choice([300, 1000])), float(g.choice([0.02, 0.1]))
        assert feed(
            StopRule("loss_settled", window, tol, 8000), steps, walk[0], walk[1]
        ) == reference(steps, walk[0], walk[1], window, tol, 8000)
