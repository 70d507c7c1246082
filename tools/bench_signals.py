"""Cost of the remainder task's permutation score over all 10! permutations (docs/method.md#signals).

    python tools/bench_signals.py [--repeats N]

Time: wall seconds of signals.permutation_scores on a p = 100, d = 8, N(0, 1) embedding
(the paper's remainder setting, m = 10), best of `repeats` calls after one warm-up call.
Memory: peak extra memory of one call in MiB, measured with tracemalloc (NumPy reports its
array buffers to it), in a separate call so that tracing does not slow the timed ones. The
m! float64 result alone is 27.7 MiB of it. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cinit_tf.seeds import rng  # noqa: E402
from cinit_tf.signals import permutation_scores  # noqa: E402


def bench_permutation_scores(m: int = 10, repeats: int = 3) -> dict:
    """{"permutation_scores_m10_s": seconds, "permutation_scores_m10_peak_mb": MiB (tracemalloc)}."""
    E = rng("embedding", 0).standard_normal((100, 8))
    permutation_scores(E, m)  # warm-up: first-touch page faults, lazy imports
    seconds = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        permutation_scores(E, m)
        seconds = min(seconds, time.perf_counter() - start)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        permutation_scores(E, m)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        f"permutation_scores_m{m}_s": round(seconds, 4),
        f"permutation_scores_m{m}_peak_mb": round((peak - base) / 2**20, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(bench_permutation_scores(repeats=args.repeats)))


if __name__ == "__main__":
    main()
