"""Checks of a `[train]` table that span several of its keys (the loader, `cinit_tf.experiment.config`, calls them)."""

from __future__ import annotations

import dataclasses
import json
import math

from cinit_tf.experiment.merge import Where
from cinit_tf.trial import MAX_RECORDS, TrainConfig


def check_records(train: dict, where: Where) -> None:
    """Every measurement of a trial is kept in memory and on disk: refuse a schedule that makes too many."""
    config = TrainConfig(**train)
    n = config.n_records()
    if n <= MAX_RECORDS:
        return
    first = min(config.first_steps, config.steps) + 1
    if first + 1 > MAX_RECORDS:
        key, advice = "first_steps", f"set a smaller first_steps, at most {MAX_RECORDS - 2}"
    else:
        every = max(1, math.ceil(config.steps / (MAX_RECORDS - first - 1)))
        while dataclasses.replace(config, log_every=every).n_records() > MAX_RECORDS:
            every += 1
        key, advice = "log_every", f"set log_every >= {every}"
    where.fail(
        ("train", key),
        f"{config.steps} steps measured every {config.log_every} (and after each of the first {config.first_steps}) "
        f"make {n} measurements per trial, more than {MAX_RECORDS} ({advice})",
    )


def check_until(train: dict, task: dict, where: Where) -> None:
    """A stopping rule that can decide: a window shorter than the cap, a rule the task can measure."""
    until = train["until"]
    if until == "steps":
        return
    if train["settle_window"] >= train["steps"]:
        where.fail(
            ("train", "settle_window"),
            f"expected fewer steps than train.steps = {train['steps']} (the cap of "
            f"until = {json.dumps(until)}), got {train['settle_window']}",
        )
    if until == "survivors_settled" and task["name"] != "modadd":
        where.fail(
            ("train", "until"),
            f'"survivors_settled" reads the Fourier signals of modular addition, '
            f'but task.name is {json.dumps(task["name"])} (use "loss_settled")',
        )
    if until == "survivors_settled" and train["settle_tolerance"] != TrainConfig.settle_tolerance:
        where.fail(
            ("train", "settle_tolerance"),
            'applies to until = "loss_settled" only (survivor sets are compared exactly)',
        )
