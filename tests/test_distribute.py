"""MirroredStrategy over two logical CPU devices gives the single-device result.

Logical devices must be declared before TensorFlow starts, so the comparison runs in a child process.
"""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from cinit_tf.tasks import make_task
    from cinit_tf.training import make_strategy, train_population
    from cinit_tf.trial import TrainConfig, Trial

    out = {}
    strategy = make_strategy("mirrored")  # one strategy per process, as the runner makes
    for name, task, kw in [("modadd", make_task("modadd", p=13), dict(d=8, weight_decay=0.5, gradient_steps=12, snapshot_every=10)),
                           ("xor", make_task("xor", bits=3), dict(d=8, weight_decay=3.0)),
                           # trials that settle at different steps: freed slots are refilled under the strategy
                           ("settled", make_task("modadd", p=13), dict(d=8, weight_decay=2.0, steps=400, until="loss_settled",
                                                                        settle_window=50, settle_tolerance=0.1))]:
        # groups of 2 for 3 (or 5) trials: the last group is padded, under the strategy too
        config = TrainConfig(**{"steps": 30, "log_every": 10, "dtype": "float64", "jit_compile": True, "group_size": 2, **kw})
        trials = [Trial(i, i + 1, i + 2) for i in range(5 if name == "settled" else 3)]
        mirrored = train_population(task, config, trials, strategy=strategy)
        single = train_population(task, config, trials)
        out[name] = {
            "replicas": strategy.num_replicas_in_sync,
            "embedding": max(float(np.abs(a.final_embedding - b.final_embedding).max()) for a, b in zip(mirrored, single)),
            "loss": max(float(np.abs(a.test_loss - b.test_loss).max()) for a, b in zip(mirrored, single)),
            "moved": min(float(np.abs(a.final_embedding - a.initial_embedding).max()) for a in mirrored),
            "stops": [[int(a.stop_step), a.stop_reason] for a in mirrored],
            "same_stops": all((a.stop_step, a.stop_reason) == (b.stop_step, b.stop_reason) for a, b in zip(mirrored, single)),
        }
        if name == "modadd":  # the recorded gradient is all-reduced over the replicas' shares of the pairs
            out[name]["gradient"] = max(float(np.abs(a.gradient_norms - b.gradient_norms).max() / b.gradient_norms.max())
                                        for a, b in zip(mirrored, single))
            out[name]["snapshots"] = max(float(np.abs(a.snapshots - b.snapshots).max()) for a, b in zip(mirrored, single))
    print("RESULT " + json.dumps(out))
    """
)


def test_mirrored_on_two_logical_cpus_equals_single_device():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    for name, r in json.loads(lines[0][len("RESULT ") :]).items():
        assert r["replicas"] == 2, name
        assert r["embedding"] < 1e-9 and r["loss"] < 1e-9, (name, r)
        assert r.get("gradient", 0.0) < 1e-9 and r.get("snapshots", 0.0) < 1e-9, (name, r)
        assert r["moved"] > 1e-2, (name, r)  # training happened, so equality means something
        assert r["same_stops"], (name, r)
    result = json.loads(lines[0][len("RESULT ") :])
    assert "gradient" in result["modadd"]
    assert len({step for step, _ in result["settled"]["stops"]}) > 1, result[
        "settled"
    ]  # slots were refilled
