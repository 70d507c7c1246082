"""Training throughput of the population engine against a naive Keras reference.

    python tools/bench.py [--quick] [--members 1 16 64] [--groups 1 2 4 8] [--signals] [--mixed] [--resume]
                          [--seconds S]

Throughput is model-steps per second: optimizer steps x members / wall seconds, timed after a
warm-up call (compilation excluded), full batch, on the paper's configs (docs/method.md#tasks). The naive
reference is how a first implementation would train one model: a plain Keras model (Embedding,
concat, three Dense layers) and one `tf.function` per step, no XLA. Peak resident memory is the
process's high-water mark after each configuration (configurations run smallest first).
The last line printed is one JSON object; its "speedup_modadd_64", "speedup_remainder" and
"speedup_xor" are the ratios of 64 members to the naive loop of the same task; with --mixed (or
without --quick), "mixed_refill", "mixed_groups" and "mixed_fixed" are the useful model-steps/s of
64 trials whose lengths spread over 10x, trained with refilled slots, in groups to their longest
member, and all at the mean length (`mixed_lengths`). With --resume, "resume_<task>_exact" and
"resume_<task>_packed" are the useful model-steps/s of rerunning a population of mixed lengths killed
after half its trials were stored: replaying its schedule (exact), and packing the trials left into a
population of their own (`resume_cost`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from cinit_tf.tasks import make_task  # noqa: E402
from cinit_tf.training import auto_group_size, train_population  # noqa: E402
from cinit_tf.trial import TrainConfig, Trial  # noqa: E402

PAPER = {
    "modadd": (make_task("modadd", p=59), dict(d=128, weight_decay=0.5)),
    "xor": (make_task("xor", bits=3), dict(d=8, weight_decay=3.0)),
    "remainder": (make_task("remainder", p=100, m=10), dict(d=8, weight_decay=3.0)),
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(run_chunk, chunk: int, seconds: float) -> float:
    """Steps per second of `run_chunk(chunk)`, repeated for at least `seconds` after one warm-up call."""
    run_chunk(chunk)
    steps, start = 0, time.perf_counter()
    while True:
        run_chunk(chunk)
        steps += chunk
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps / elapsed


def naive(task, kw, seconds: float) -> float:
    """One plain Keras model, trained by a per-step tf.function without XLA."""
    config = TrainConfig(**kw)
    inputs = keras.Input((2,), dtype="int32")
    x = keras.layers.Flatten()(keras.layers.Embedding(task.p, config.d)(inputs))
    x = keras.layers.Dense(config.width, activation="relu")(x)
    x = keras.layers.Dense(config.width, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(task.classes)(x))
    optimizer = keras.optimizers.AdamW(
        learning_rate=config.lr,
        weight_decay=config.weight_decay,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        epsilon=config.epsilon,
    )  # Keras' own, as a naive loop uses it
    train, _ = task.split(0, config.train_fraction)
    pairs, labels = tf.constant(task.pairs()[train]), tf.constant(task.labels()[train])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=False)
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(pairs, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)

    def run(n):
        for _ in range(n):
            step()

    return timed(run, 10, seconds)


def population(
    task, kw, members: int, seconds: float, group_size: int | None = None
) -> tuple[float, int]:
    """The engine training `members` trials through `train_population`, the runner's own path, in
    groups as the engine chooses (or of `group_size`).

    Times the whole population (every group loaded, trained and measured at its first and last
    step, as a run does), after a warm-up call that compiles. Returns (model-steps/s, group size).
    """
    config = TrainConfig(**kw, group_size=group_size, first_steps=0)
    g = auto_group_size(task, config, members)
    trials = [Trial(i, i, i) for i in range(members)]

    def run(steps, count):
        start = time.perf_counter()
        train_population(
            task, dataclasses.replace(config, steps=steps, log_every=steps), trials[:count]
        )
        return time.perf_counter() - start

    run(5, g)  # compile
    group_rate = 20 / run(20, g)
    steps = max(10, int(seconds * group_rate * g / members))
    return members * steps / run(steps, members), g


def mixed_lengths(
    task, kw, members: int = 64, shortest: int = 100, spread: float = 10.0, every: int = 50
) -> dict:
    """Useful model-steps/s of `members` trials whose stop steps spread over `spread`× (shortest..spread·shortest).

    Three ways to train the same useful work, each timed after a compiling warm-up:
    "refill" — one train_population call; a slot freed by a stopped trial takes the next one
    (cinit_tf.slots); "groups" — what a population did before slots were refilled: each group of
    the engine's size trained to its longest member's end; "fixed" — the same number of trials all
    of the mean length (the fixed-length case the others are compared with). The stop steps are
    known (a stand-in rule stops trial i at its length), so all three do the same useful work.
    """
    from cinit_tf import slots
    from cinit_tf.stopping import StopRule

    rng = np.random.default_rng(0)
    lengths = (
        np.round(shortest * spread ** (np.arange(members) / (members - 1)) / every).astype(int)
        * every
    )
    lengths = rng.permutation(lengths)
    useful = int(lengths.sum())
    config = TrainConfig(**kw, first_steps=0, log_every=every, steps=int(lengths.max()))
    g = auto_group_size(task, config, members)
    trials = [Trial(i, i, i) for i in range(members)]
    real_of = slots.StopRule.of

    def refill():
        order = iter(lengths.tolist())
        slots.StopRule.of = staticmethod(lambda _: StopRule("steps", 1, 0.0, next(order)))
        try:
            train_population(task, config, trials)
        finally:
            slots.StopRule.of = real_of

    def groups():
        for first in range(0, members, g):
            longest = int(lengths[first : first + g].max())
            train_population(
                task, dataclasses.replace(config, steps=longest), trials[first : first + g]
            )

    mean = int(round(lengths.mean() / every)) * every

    def fixed():
        train_population(task, dataclasses.replace(config, steps=mean), trials)

    train_population(task, dataclasses.replace(config, steps=every), trials[:g])  # compile
    out = {
        "mixed_members": members,
        "mixed_lengths": f"{int(lengths.min())}..{int(lengths.max())}",
        "mixed_group": g,
    }
    for name, fn, work in (
        ("refill", refill, useful),
        ("groups", groups, useful),
        ("fixed", fixed, mean * members),
    ):
        start = time.perf_counter()
        fn()
        out[f"mixed_{name}"] = work / (time.perf_counter() - start)
    out["mixed_refill_over_fixed"] = out["mixed_refill"] / out["mixed_fixed"]
    out["mixed_refill_over_groups"] = out["mixed_refill"] / out["mixed_groups"]
    return out


def resume_cost(
    task, kw, members: int, shortest: int, spread: float = 10.0, every: int = 50, repeats: int = 2
) -> dict:
    """Useful model-steps/s of rerunning a population of mixed lengths after a kill, two ways.

    The population (`members` trials, stop steps spread over `spread`x from `shortest`, stopped by a
    stand-in rule as in `mixed_lengths`) trains until half of its trials have stopped and are stored; the
    rest (those in flight and those not started) are then trained again, timed, `repeats` times each way,
    interleaved: "exact" — `train_population(..., stored=...)`, the stored trials holding their slots until
    their stop step, so each trial left trains in the group size and slot of an uninterrupted run (what a
    rerun does: its float32 bits are the uninterrupted run's); "packed" — the trials left as a population of
    their own (what a rerun did before: a group of their count, slots in their order; other float32 bits).
    Useful work is the trials' own steps, the same both ways.
    """
    from cinit_tf import slots
    from cinit_tf.stopping import StopRule

    rng = np.random.default_rng(1)
    lengths = (
        np.round(shortest * spread ** (np.arange(members) / (members - 1)) / every).astype(int)
        * every
    )
    lengths = rng.permutation(lengths).tolist()
    config = TrainConfig(**kw, first_steps=0, log_every=every, steps=int(max(lengths)))
    trials = [Trial(i, i, i) for i in range(members)]
    real_of = slots.StopRule.of

    def train(which, stored=None, on_done=None):
        order = iter([lengths[i] for i in which])  # rules are made as trials start, in trial order
        slots.StopRule.of = staticmethod(lambda _: StopRule("steps", 1, 0.0, next(order)))
        try:
            train_population(
                task, config, [trials[i] for i in which], stored=stored, on_done=on_done
            )
        finally:
            slots.StopRule.of = real_of

    class Killed(Exception):
        pass

    done: list[int] = []

    def on_done(index, result):
        done.append(index)
        if len(done) == members // 2:
            raise Killed

    try:
        train(range(members), on_done=on_done)  # also compiles
    except Killed:
        pass
    left = [i for i in range(members) if i not in done]
    stored = {i: lengths[i] for i in done}
    useful = sum(lengths[i] for i in left)
    out = {
        f"resume_{task.name}_members": members,
        f"resume_{task.name}_left": len(left),
        f"resume_{task.name}_groups": f"{auto_group_size(task, config, members)} / {auto_group_size(task, config, len(left))}",
    }
    train_population(
        task, dataclasses.replace(config, steps=every), [trials[i] for i in left]
    )  # compiles packed
    times: dict = {"exact": [], "packed": []}
    for _ in range(repeats):
        for name, run in (("exact", lambda: train(left, stored)), ("packed", lambda: train(left))):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    for name, seconds in times.items():
        out[f"resume_{task.name}_{name}"] = useful / float(np.median(seconds))
        out[f"resume_{task.name}_{name}_each"] = [round(useful / t, 1) for t in seconds]
    out[f"resume_{task.name}_exact_over_packed"] = (
        out[f"resume_{task.name}_exact"] / out[f"resume_{task.name}_packed"]
    )
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short timings (whole run under 60 s)")
    ap.add_argument("--members", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument(
        "--groups",
        type=int,
        nargs="*",
        default=[],
        help="also time 64 members in groups of these sizes",
    )
    ap.add_argument("--signals", action="store_true", help="also time permutation_scores at m = 10")
    ap.add_argument(
        "--mixed",
        action="store_true",
        help="also time 64 trials of lengths spread over 10x (refilled slots)",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="also time rerunning a killed population of mixed lengths, exact (its schedule replayed) and packed",
    )
    ap.add_argument("--seconds", type=float, default=None, help="timing window per configuration")
    args = ap.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)

    out: dict = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "tensorflow": tf.__version__,
        "seconds_per_config": seconds,
    }
    task, kw = PAPER["modadd"]
    out["naive"] = naive(task, kw, seconds)
    out["naive_peak_rss_mb"] = peak_rss_mb()
    print(f"modadd naive                  {out['naive']:9.1f} model-steps/s", file=sys.stderr)
    for n in args.members:
        out[f"population_{n}"], out[f"population_{n}_group"] = population(task, kw, n, seconds)
        out[f"population_{n}_peak_rss_mb"] = peak_rss_mb()
        print(
            f"modadd population {n:3d} (groups of {out[f'population_{n}_group']:2d}) {out[f'population_{n}']:9.1f} model-steps/s",
            file=sys.stderr,
        )
    if "population_64" in out:
        out["speedup_64"] = out["population_64"] / out["naive"]
        out["population_64_one_group"], _ = population(task, kw, 64, seconds, group_size=64)
        print(
            f"modadd population  64 as one group  {out['population_64_one_group']:9.1f} model-steps/s",
            file=sys.stderr,
        )
    for g in args.groups:
        out[f"population_64_groups_of_{g}"], _ = population(task, kw, 64, seconds, group_size=g)
        print(
            f"modadd population  64 groups of {g:2d}  {out[f'population_64_groups_of_{g}']:9.1f} model-steps/s",
            file=sys.stderr,
        )
    for name in ("xor", "remainder"):
        task, kw = PAPER[name]
        out[f"{name}_naive"] = naive(task, kw, seconds / 2)
        out[f"{name}_population_64"], _ = population(task, kw, 64, seconds / 2)
        print(
            f"{name:9s} naive / population 64 {out[f'{name}_naive']:9.1f} / {out[f'{name}_population_64']:9.1f}",
            file=sys.stderr,
        )
    # The ratios to the naive loop, the figures the engine is judged by (docs/performance.md).
    if "population_64" in out:
        out["speedup_modadd_64"] = out["population_64"] / out["naive"]
    for name in ("remainder", "xor"):
        out[f"speedup_{name}"] = out[f"{name}_population_64"] / out[f"{name}_naive"]
    if args.mixed or not args.quick:
        task, kw = PAPER["modadd"]
        out.update(mixed_lengths(task, kw))
        print(
            f"modadd 64 mixed lengths {out['mixed_lengths']}: useful model-steps/s refill {out['mixed_refill']:.1f}, "
            f"groups to the longest {out['mixed_groups']:.1f}, fixed length {out['mixed_fixed']:.1f}",
            file=sys.stderr,
        )
    if args.resume:
        for name, members, shortest in (("xor", 64, 100), ("modadd", 16, 50)):
            task, kw = PAPER[name]
            r = resume_cost(task, kw, members, shortest)
            out.update(r)
            print(
                f"{name} rerun of {r[f'resume_{name}_left']} of {members} mixed-length trials (groups "
                f"{r[f'resume_{name}_groups']}): useful model-steps/s exact {r[f'resume_{name}_exact']:.1f}, "
                f"packed {r[f'resume_{name}_packed']:.1f}",
                file=sys.stderr,
            )
    if args.signals or not args.quick:
        from bench_signals import bench_permutation_scores

        out.update(bench_permutation_scores(m=10))
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in out.items()}))
    return out


if __name__ == "__main__":
    main()
