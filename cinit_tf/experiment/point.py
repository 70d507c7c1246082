"""One trial's tables ([task], [train], [transform], [seeds]): each value within its rule, the keys a
variant allows, defaults filled, and the checks that span several keys. The loader
(`cinit_tf.experiment.config`) calls `check_point` on the file, on every case and on every grid point."""

from __future__ import annotations

import dataclasses
import json
import math

from cinit_tf.experiment.merge import Where
from cinit_tf.experiment.schema import DISCRIMINATORS, MAX_P, RUN_ONLY, VARIANTS, section_keys, spec
from cinit_tf.settings import REQUIRED, Choice
from cinit_tf.signals import n_frequencies
from cinit_tf.trial import MAX_RECORDS, TrainConfig


def check_fields(
    table: dict, path: tuple, fields: dict, where: Where, what: str, partial: bool = False
) -> dict:
    """Each value within its rule, required ones present (unless partial), defaults filled."""
    out = {}
    for key, (default, rule) in fields.items():
        if key in table:
            out[key] = where.apply(rule, table[key], path + (key,))
        elif default is not REQUIRED:
            out[key] = default
        elif not partial:
            needs = " and ".join(k for k, (d, _) in fields.items() if d is REQUIRED)
            where.fail(path + (key,), f"missing ({what} needs {needs})")
    return out


def check_variant(value, section: str, where: Where, partial: bool = False) -> dict:
    """task, transform or seeds: the discriminator picks which keys are allowed."""
    path = (section,)
    table = where.table(value, path)
    disc, default = DISCRIMINATORS[section]
    variants = VARIANTS[section]
    allowed = section_keys(section)
    for key in table:
        if key not in allowed:
            where.unknown(path + (key,), allowed)
    if disc not in table and default is None:
        if partial:  # a case may still name it
            return {}
        where.fail(path + (disc,), f"missing (expected one of {', '.join(variants)})")
    kind = where.apply(Choice(tuple(variants)), table.get(disc, default), path + (disc,))
    fields = spec(variants[kind])
    noun = (
        f"{section} {json.dumps(kind)}"
        if disc == "name"
        else f"{section} {disc} {json.dumps(kind)}"
    )
    for key in table:
        if key != disc and key not in fields:
            where.fail(
                path + (key,), f"not a key of {noun} (its keys: {', '.join([disc, *fields])})"
            )
    return {disc: kind, **check_fields(table, path, fields, where, noun, partial)}


def check_train(value, where: Where) -> dict:
    path = ("train",)
    table = where.table(value, path)
    fields = spec(TrainConfig)
    for key in table:
        if key in RUN_ONLY:
            where.fail(
                path + (key,),
                f"belongs in [run] as run.{key} (how to execute is not part of a trial's identity)",
            )
        if key not in fields:
            where.unknown(path + (key,), list(fields))
    return check_fields(table, path, fields, where, "train")


def check_point(doc: dict, where: Where, partial: bool = False) -> dict:
    """One trial's task, train, transform and seeds tables, normalised and with defaults filled.

    partial: check what is there (keys, values, which transform suits which task) but let a case or
    a grid supply missing keys and decide what depends on them; run before expanding cases and grid,
    so that a value the grid replaces everywhere is still checked and errors name no grid point.
    """
    if "task" not in doc:
        if partial:
            task = {}
        else:
            where.fail(
                ("task",),
                'missing (expected a [task] table, e.g. name = "modadd", p = 59, here or in every case)',
            )
    else:
        task = check_variant(doc["task"], "task", where, partial)
    if task.get("p", 0) > MAX_P:
        # A limit of ours, not of the task: p² pairs are held in memory at every measurement.
        where.fail(
            ("task", "p"),
            f"expected p <= {MAX_P} (p² = {task['p'] ** 2} pairs is too many to train on), got {task['p']}",
        )
    train = check_train(doc.get("train", {}), where)
    transform = check_variant(doc.get("transform", {}), "transform", where, partial)
    seeds = check_variant(doc.get("seeds", {}), "seeds", where, partial)
    if transform["name"] != "none" and task.get("name", "modadd") != "modadd":
        where.fail(
            ("transform", "name"),
            f'transform {json.dumps(transform["name"])} applies only to task "modadd", '
            f"but task.name is {json.dumps(task['name'])}",
        )
    if partial:
        return {}
    check_records(train, where)
    check_until(train, task, where)
    if train["until"] != "steps" and train["settle_window"] < train["log_every"]:
        # The rule compares records across the window: a window shorter than the gap between two records
        # holds one, so every trial would settle at its first measurements.
        where.fail(
            ("train", "settle_window"),
            f"expected at least train.log_every = {train['log_every']} (the window "
            f"must span two measurements for until = {json.dumps(train['until'])}), got {train['settle_window']}",
        )
    if task["name"] == "remainder" and task["m"] > task["p"]:
        where.fail(("task", "m"), f"expected m <= p = {task['p']}, got {task['m']}")
    if transform["name"] != "none":
        K = n_frequencies(task["p"])
        k = transform.get("k")
        if isinstance(k, int) and k > K:
            where.fail(
                ("transform", "k"), f"expected a frequency in 1..{K} for p = {task['p']}, got {k}"
            )
        if transform["name"] == "construct_two" and K < 2:
            where.fail(
                ("transform", "name"),
                f"construct_two needs two frequencies, i.e. task.p >= 5, got p = {task['p']}",
            )
    return {"task": task, "train": train, "transform": transform, "seeds": seeds}


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
