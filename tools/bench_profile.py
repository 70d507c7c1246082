"""Where a compiled training step spends its time: XLA's own per-op timing, grouped by part of the model.

    XLA_FLAGS="--xla_cpu_enable_xprof_traceme=true --xla_dump_to=DIR --xla_dump_hlo_as_text" \
        python tools/bench_profile.py --dump DIR [--task modadd] [--members 2] [--steps 20]

Loads one group of the paper's config (tools/bench.py), compiles it, then traces (tf.profiler) one
`run(steps)` call and one measurement. Each HLO op of the optimized program (from the XLA dump) is
put in a group by the TensorFlow op it came from (its `op_name` metadata); the per-op times of the
trace are summed per group. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench import (
    PAPER,  # noqa: E402
    tf,  # noqa: E402
)

from cinit_tf.training import PopulationTrainer  # noqa: E402
from cinit_tf.trial import TrainConfig, Trial  # noqa: E402

# (group, pattern on op_name), first match wins; op_names are TensorFlow's (gradient_tape/... = backward).
GROUPS = [
    ("AdamW update", r"adam_w/"),
    ("first layer: E·W1 products, backward", r"gradient_tape/.*population_model[^/]*/einsum(_1)?/"),
    (
        "first layer: gather gradient (scatter-add)",
        r"gradient_tape/.*(UnsortedSegmentSum|GatherV2|Reshape)",
    ),
    (
        "hidden layer 2 (width x width), backward",
        r"gradient_tape/.*population_model[^/]*/einsum_2/",
    ),
    ("output layer, backward", r"gradient_tape/.*population_model[^/]*/einsum_3/"),
    ("bias gradients (sums over pairs)", r"gradient_tape/.*population_model[^/]*/add"),
    ("ReLU backward", r"gradient_tape/.*ReluGrad"),
    ("loss (softmax cross-entropy), backward", r"gradient_tape/.*SparseSoftmax"),
    ("first layer: E·W1 products", r"population_model[^/]*/einsum(_1)?/"),
    ("first layer: gather", r"population_model[^/]*/GatherV2"),
    ("hidden layer 2 (width x width)", r"population_model[^/]*/einsum_2/"),
    ("output layer", r"population_model[^/]*/einsum_3/"),
    ("biases and ReLU", r"population_model[^/]*/(add|Relu)"),
    ("loss (softmax cross-entropy)", r"SparseSoftmax"),
    ("matmuls of a one-member program (forward and backward, all layers)", r"^<dot>$"),
]


def op_groups(hlo_text: str) -> dict[str, str]:
    """HLO instruction name -> group, for every instruction of an optimized module (fusions by their ops)."""
    comps, current = {}, None
    for line in hlo_text.splitlines():
        head = re.match(r"^(?:ENTRY )?%(\S+) \(", line)
        if head:
            current = comps.setdefault(head.group(1), [])
        elif current is not None and line.strip().startswith(("%", "ROOT %")):
            current.append(line)
    names = {}
    for lines in comps.values():
        for line in lines:
            m = re.match(r"\s*(?:ROOT )?%(\S+) = ", line)
            if not m:
                continue
            ops = re.findall(r'op_name="([^"]*)"', line)
            called = re.search(r"calls=%([\w.\-]+)", line)
            if not ops and called:
                ops = [
                    o
                    for sub in comps.get(called.group(1), [])
                    for o in re.findall(r'op_name="([^"]*)"', sub)
                ]
            if not ops and re.search(r"[\]}] dot\(", line):
                ops = [
                    "<dot>"
                ]  # one member: XLA drops the batch axis, and with it the dot's metadata
            names[m.group(1)] = ops
    out = {}
    for name, ops in names.items():
        group = "other (copies, loop control)"
        for g, pattern in GROUPS:
            if any(re.search(pattern, o) for o in ops):
                group = g
                break
        out[name] = group
    return out


def trace_ops(logdir: str) -> dict[str, float]:
    """Seconds per HLO op summed over the XLA worker threads of the newest trace in logdir."""
    try:
        from tsl.profiler.protobuf import xplane_pb2
    except ImportError:  # older layouts
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    path = sorted(glob.glob(os.path.join(logdir, "plugins/profile/*/*.xplane.pb")))[-1]
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    total = collections.defaultdict(float)
    for plane in space.planes:
        meta = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            if line.name == "python":
                continue
            for ev in line.events:
                total[meta.get(ev.metadata_id, "?")] += ev.duration_ps * 1e-12
    return total


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="modadd", choices=sorted(PAPER))
    ap.add_argument(
        "--members",
        type=int,
        default=2,
        help="members of the compiled group (modadd's automatic group is 2 on a CPU)",
    )
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--dump", required=True, help="the directory given to XLA_FLAGS=--xla_dump_to")
    args = ap.parse_args(argv)
    if "xla_cpu_enable_xprof_traceme" not in os.environ.get("XLA_FLAGS", ""):
        sys.exit("set XLA_FLAGS as in the docstring")
    task, kw = PAPER[args.task]
    config = TrainConfig(**kw, first_steps=0, steps=args.steps, log_every=args.steps)
    trainer = PopulationTrainer(task, config, args.members)
    trials = [Trial(i, i, i) for i in range(args.members)]
    trainer.load(trials)
    trainer.run(2)
    trainer._measure()  # compile both programs
    # One trace per program: op names (Einsum.10, fusion.3) repeat across modules.
    walls, ops = {}, {}
    trace = {
        "load": lambda: trainer.load(trials),
        "replica_steps": lambda: (trainer.run(args.steps), trainer.optimizer.iterations.numpy()),
        "measure_all": lambda: {k: v.numpy() for k, v in trainer._measure().items()},
    }
    for kind, call in trace.items():
        logdir = tempfile.mkdtemp()
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        call()
        walls[kind] = time.perf_counter() - start
        tf.profiler.experimental.stop()
        ops[kind] = trace_ops(logdir)
    out = {
        "task": args.task,
        "members": args.members,
        "steps": args.steps,
        "wall_ms_per_step": 1e3 * walls["replica_steps"] / args.steps,
        "load_ms": 1e3 * walls["load"],
        "measure_ms": 1e3 * walls["measure_all"],
    }
    for kind in ("replica_steps", "measure_all"):
        files = glob.glob(os.path.join(args.dump, f"*{kind}*cpu_after_optimizations.txt"))
        if not files:
            continue
        with open(sorted(files)[-1]) as f:
            groups = op_groups(f.read())
        per = collections.defaultdict(float)
        for name, seconds in ops[kind].items():
            if name in groups:
                per[groups[name]] += seconds
        steps = args.steps if kind == "replica_steps" else 1
        busy = sum(per.values())
        print(
            f"== {kind}: XLA op time per {'step' if steps > 1 else 'call'} (summed over threads)",
            file=sys.stderr,
        )
        for g, s in sorted(per.items(), key=lambda kv: -kv[1]):
            print(f"  {1e3 * s / steps:8.2f} ms  {100 * s / busy:5.1f}%  {g}", file=sys.stderr)
        out[kind] = {g: round(1e3 * s / steps, 3) for g, s in per.items()}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
