"""How a modular-addition run's test loss moves over a long budget, and where a stopping rule would stop it.

    python tools/loss_probe.py [--p 59] [--d 128] [--wd 0.5] [--lr 0.01] [--steps 30000] [--seeds 0 1]
                               [--frozen] [--until loss_settled --window 3000 --tolerance 0.05] [--every 2000]

Trains one population (trial i: embedding = MLP = split seed = seed i) with the engine, to `steps` or until
the rule says settled, and prints per seed one JSON line: log10 test loss every `every` steps, its lowest
value and where, the stop step and reason, and the steps spent above 1e-4 after the lowest point (a run whose
loss jumps back up and descends again). The last line: seconds and model-steps per second (with XLA).
Used to choose a file's settling window and cap from measurements before a long run.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from cinit_tf.tasks import make_task  # noqa: E402
from cinit_tf.training import train_population  # noqa: E402
from cinit_tf.trial import UNTIL_RULES, TrainConfig, Trial  # noqa: E402


def probe_line(seed: int, result, every: int) -> dict:
    steps, loss = np.asarray(result.steps), np.log10(np.asarray(result.test_loss, dtype=np.float64))
    lowest = int(np.nanargmin(loss))
    marks = range(0, int(steps[-1]) + 1, every)
    return {
        "seed": seed,
        "stop_step": int(result.stop_step),
        "stop_reason": result.stop_reason,
        "lowest": round(float(loss[lowest]), 2),
        "lowest_at": int(steps[lowest]),
        f"every_{every}": [
            round(float(loss[min(np.searchsorted(steps, k), len(steps) - 1)]), 2) for k in marks
        ],
        "steps_above_1e-4_after_lowest": int(
            np.sum(np.diff(steps)[lowest:][loss[lowest + 1 :] > -4])
        ),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=59)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--wd", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--frozen", action="store_true", help="freeze the embedding")
    ap.add_argument("--until", default="steps", choices=UNTIL_RULES)
    ap.add_argument("--window", type=int, default=1000)
    ap.add_argument("--tolerance", type=float, default=0.01)
    ap.add_argument("--every", type=int, default=2000)
    a = ap.parse_args(argv)
    config = TrainConfig(
        steps=a.steps,
        d=a.d,
        weight_decay=a.wd,
        lr=a.lr,
        freeze_embedding=a.frozen,
        until=a.until,
        settle_window=a.window,
        settle_tolerance=a.tolerance,
    )
    start = time.perf_counter()
    results = train_population(
        make_task("modadd", p=a.p), config, [Trial(s, s, s) for s in a.seeds]
    )
    seconds = time.perf_counter() - start
    for seed, r in zip(a.seeds, results):
        print(json.dumps(probe_line(seed, r, a.every)))
    used = sum(int(r.stop_step) for r in results)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "model_steps": used,
                "model_steps_per_s": round(used / seconds, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
