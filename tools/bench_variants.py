"""Which engine variants keep every member's float32 bits, and what each one costs in speed.

    python tools/bench_variants.py [--task modadd] [--steps 200] [--repeats 2]
                                   [--flags none xla_cpu_use_thunk_runtime=false ...] [--members 1 2 4 8]
                                   [--group 2] [--ceiling]

Each variant runs in its own process (XLA reads XLA_FLAGS once): one group of the paper's config
(tools/bench.py) is loaded, compiled, reloaded and trained `--steps` full-batch steps; the process
prints its model-steps per second and a hash of each member's weights after training. Variants are
XLA flag sets (at the engine's automatic group size; "none", or flags without their leading "--",
joined by commas) and group sizes (with no flags); repeats are
interleaved, so a machine whose load drifts moves every variant alike. A variant keeps the bits when
the hash of every member it shares with the reference (first variant) is equal. With --ceiling,
the dense layers' matmuls alone (forward and both gradients, the engine's shapes and einsums) are
timed in the same rotation: a step that spent nothing on anything else could go no faster with
these kernels. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

FLAGS = [
    "none",
    "xla_cpu_use_thunk_runtime=false",
    "xla_cpu_enable_concurrency_optimized_scheduler=true",
    "xla_cpu_use_xnnpack=true",
    "xla_cpu_use_onednn=true",
    "xla_cpu_prefer_vector_width=512",
    "xla_cpu_max_isa=AVX2",
    "xla_cpu_use_fusion_emitters=false",
]


def xla_flags(variant: str) -> str:
    """'none' -> '', 'a=1,b=2' -> '--a=1 --b=2'."""
    return "" if variant == "none" else " ".join("--" + f for f in variant.split(",") if f)


def one(task_name: str, members: int, steps: int) -> dict:
    """Train one group in this process; rate and per-member weight hashes."""
    sys.path.insert(0, os.path.dirname(__file__))
    from bench import PAPER  # noqa: PLC0415 (TensorFlow only in the child)

    from cinit_tf.training import PopulationTrainer  # noqa: PLC0415
    from cinit_tf.trial import TrainConfig, Trial  # noqa: PLC0415

    task, kw = PAPER[task_name]
    config = TrainConfig(**kw, first_steps=0, steps=steps, log_every=steps)
    trainer = PopulationTrainer(task, config, members)
    trials = [Trial(i, i, i) for i in range(members)]
    trainer.load(trials)
    trainer.run(2)  # compile
    trainer.load(trials)
    start = time.perf_counter()
    trainer.run(steps)
    weights = [v.numpy() for v in trainer._weights]
    seconds = time.perf_counter() - start
    hashes = [
        hashlib.sha1(b"".join(w[m].tobytes() for w in weights)).hexdigest()[:12]
        for m in range(members)
    ]
    return {"model_steps_per_s": members * steps / seconds, "hashes": hashes}


def ceiling(task_name: str, members: int, steps: int) -> dict:
    """Model-steps/s of the dense layers' matmuls alone (forward, and both gradients of each), the engine's
    shapes and einsums, in one compiled loop: what a step could not beat if everything else took no time."""
    sys.path.insert(0, os.path.dirname(__file__))
    from bench import PAPER, tf  # noqa: PLC0415

    task, kw = PAPER[task_name]
    pairs, width, classes = task.n_train(0.8), 100, task.classes
    rng = tf.random.Generator.from_seed(0)
    h1 = rng.uniform((members, pairs, width))
    w2, w3 = (
        rng.uniform((members, width, width)) * 0.1,
        rng.uniform((members, width, classes)) * 0.1,
    )

    @tf.function(jit_compile=True)
    def loop(h1, w2, w3):
        def body(i, h1, w2, w3):
            h2 = tf.einsum("nbh,nhk->nbk", h1, w2)
            out = tf.einsum("nbh,nhc->nbc", h2, w3)
            d_w3 = tf.einsum("nbh,nbc->nhc", h2, out)
            g2 = tf.einsum("nbc,nhc->nbh", out, w3)
            d_w2 = tf.einsum("nbh,nbk->nhk", h1, g2)
            g1 = tf.einsum("nbk,nhk->nbh", g2, w2)
            return i + 1, h1 + 1e-9 * g1, w2 - 1e-9 * d_w2, w3 - 1e-9 * d_w3

        return tf.while_loop(lambda i, *_: i < steps, body, (tf.constant(0), h1, w2, w3))[1:]

    loop(h1, w2, w3)[0].numpy()
    start = time.perf_counter()
    loop(h1, w2, w3)[0].numpy()
    return {"model_steps_per_s": members * steps / (time.perf_counter() - start), "hashes": []}


def child(variant: dict, task: str, steps: int) -> dict:
    env = dict(os.environ, XLA_FLAGS=variant["flags"], TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, __file__, "--child", task, str(variant["members"]), str(steps)]
    cmd += ["--matmuls-only"] if variant.get("matmuls_only") else []
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="modadd", choices=["modadd", "remainder", "xor"])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument(
        "--flags", nargs="*", default=FLAGS, help="XLA flag sets; the first is the reference"
    )
    ap.add_argument(
        "--group",
        type=int,
        default=2,
        help="group size for the flag variants (modadd's automatic group on a CPU)",
    )
    ap.add_argument(
        "--members",
        type=int,
        nargs="*",
        default=[1, 2, 4, 8, 16],
        help="group sizes to compare (no flags)",
    )
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also time the dense layers' matmuls alone (no bits compared)",
    )
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--matmuls-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        fn = ceiling if args.matmuls_only else one
        print(json.dumps(fn(args.child[0], int(args.child[1]), int(args.child[2]))))
        return {}
    variants = [{"flags": xla_flags(f), "members": args.group} for f in args.flags]
    variants += [{"flags": "", "members": m} for m in args.members if m != args.group]
    variants += [{"flags": "", "members": args.group, "matmuls_only": True}] if args.ceiling else []
    rates = {i: [] for i in range(len(variants))}
    hashes = {}
    for _ in range(args.repeats):
        for i, v in enumerate(variants):
            r = child(v, args.task, args.steps)
            rates[i].append(r["model_steps_per_s"])
            hashes.setdefault(i, r["hashes"])
    ref = hashes[0]
    rows = []
    for i, v in enumerate(variants):
        shared = min(len(ref), len(hashes[i]))
        same = hashes[i][:shared] == ref[:shared] if shared else None
        rate = statistics.median(rates[i])
        rows.append(
            {
                **v,
                "model_steps_per_s": [round(x, 1) for x in rates[i]],
                "median": round(rate, 1),
                "same_bits": same,
            }
        )
        bits = {True: "same", False: "DIFFER", None: "n/a"}[same]
        what = "matmuls only (the ceiling)" if v.get("matmuls_only") else v["flags"] or "(no flags)"
        print(
            f"{v['members']:3d} members  {rate:7.1f} model-steps/s  bits {bits:6s}  {what}",
            file=sys.stderr,
        )
    out = {"task": args.task, "steps": args.steps, "repeats": args.repeats, "variants": rows}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
