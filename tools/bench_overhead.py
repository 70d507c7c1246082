"""What the one entry point costs over the bare compiled loop: train_population (load, measure at the
first and last step, results) against load + run only, on the paper's modular-addition config.

    python tools/bench_overhead.py [--trials 16] [--steps 34]
"""

import argparse
import time

from cinit_tf.tasks import make_task
from cinit_tf.training import PopulationTrainer, auto_group_size, train_population
from cinit_tf.trial import TrainConfig, Trial


def best_of(f, n=3):
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--steps", type=int, default=34)
    args = ap.parse_args()
    task = make_task("modadd", p=59)
    config = TrainConfig(
        d=128, weight_decay=0.5, first_steps=0, steps=args.steps, log_every=args.steps
    )
    trials = [Trial(i, i, i) for i in range(args.trials)]
    g = auto_group_size(task, config, len(trials))
    train_population(task, config, trials[:g])  # compile the entry point's trainer
    bare = PopulationTrainer(task, config, g)
    bare.load(trials[:g])
    bare.run(5)  # compile the bare trainer

    def loop():
        for first in range(0, len(trials), g):
            bare.load(trials[first : first + g])
            bare.run(args.steps)
        bare.optimizer.iterations.numpy()

    entry = best_of(lambda: train_population(task, config, trials))
    plain = best_of(loop)
    print(
        f"{len(trials)} trials x {args.steps} steps, groups of {g}: train_population {entry:.3f} s, "
        f"load + run only {plain:.3f} s, overhead {100 * (entry / plain - 1):+.1f}%"
    )


if __name__ == "__main__":
    main()
