"""AdamW with one step count per member, so that a freed slot of a population can start a new trial.

Keras' AdamW keeps one step count for all its variables, and Adam's bias correction depends on it:
a trial put into a slot of a population that has already trained N steps would be corrected as if
it were at step N + 1. `MemberAdamW` stores the step at which each member started
(`member_start`, one entry per slot) and corrects member n by `iterations - member_start[n] + 1`,
its own step; the arithmetic is otherwise Keras' own, in the same order (docs/method.md#optimizer,
#population-training). With every member started together it computes what Keras' AdamW computes;
a test keeps the two equal.
"""

from __future__ import annotations

from cinit_tf.framework import keras, tf


class MemberAdamW(keras.optimizers.AdamW):
    """keras.optimizers.AdamW whose bias correction counts each member's steps from its own start.

    Every variable it updates has the members on axis 0.
    """

    def __init__(self, members: int, **kwargs):
        super().__init__(**kwargs)
        self.members = members

    def build(self, variables):
        super().build(variables)
        # int64 like `iterations`; zeroed with every other optimizer variable when a population loads
        self.member_start = self.add_variable(
            shape=(self.members,), dtype="int64", name="member_start"
        )

    def update_step(self, gradient, variable, learning_rate):
        ops = keras.ops
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        own = ops.cast(self.iterations - self.member_start + 1, variable.dtype)  # (members,)
        local_step = ops.reshape(own, (self.members,) + (1,) * (len(variable.shape) - 1))
        beta_1_power = ops.power(ops.cast(self.beta_1, variable.dtype), local_step)
        beta_2_power = ops.power(ops.cast(self.beta_2, variable.dtype), local_step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        self.assign_sub(
            variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        )

    def slot_state(self) -> list:
        """The per-member state a refilled slot resets: the moments of every variable."""
        return [*self._momentums, *self._velocities]


def restart_slots(optimizer: MemberAdamW, mask: tf.Tensor) -> None:
    """Zero the moments of the slots where `mask` (members,) holds and start their step count now (in a graph)."""
    for v in optimizer.slot_state():
        value = v.value  # the backend tf.Variable behind the Keras variable
        where = tf.reshape(mask, (-1,) + (1,) * (len(value.shape) - 1))
        value.assign(tf.where(where, tf.zeros_like(value), value))
    start = optimizer.member_start.value
    now = tf.fill(tf.shape(start), tf.cast(optimizer.iterations, start.dtype))
    start.assign(tf.where(mask, now, start))
