"""How much memory a run will need, estimated before anything is trained (no TensorFlow here).

The engine holds, per member of a compiled group: the weights with AdamW's two moments, the
train and test pairs and labels, and the activations of a full-batch step (both hidden layers
and the logits, forward and backward, for every train pair). Measurements are kept on the host
for every recorded step, and snapshots of the embedding if asked. The estimate is an upper bound
of that arithmetic, times a safety factor for the framework's own buffers; a run whose largest
population would need more than the machine's memory is refused at load, with the estimate,
unless the user allows it (`--allow-large-memory`).
"""

from __future__ import annotations

import os

from cinit_tf.signals import n_frequencies
from cinit_tf.trial import TrainConfig

CPU_GROUP_BYTES = 5 * 2**19  # the engine's CPU group budget of hidden activations (cinit_tf.training)
OVERHEAD = 2.0  # XLA temporaries, the framework's buffers, fragmentation
BASE_BYTES = 1.5 * 2**30  # the process itself: Python, TensorFlow, compiled programs


def machine_bytes() -> int | None:
    """Physical memory of this machine, or None where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def member_bytes(task, config: TrainConfig) -> dict:
    """Bytes one member needs on the device, and on the host for its records, by part."""
    item = 8 if config.dtype == "float64" else 4
    p, d, h, c = task.p, config.d, config.width, task.classes
    n = p * p
    n_train = task.n_train(config.train_fraction)
    params = p * d + 2 * d * h + h + h * h + h + h * c + c
    activations = n_train * (4 * h + 3 * c) + 4 * p * h  # h1, h2 and their gradients, logits (+ softmax and its gradient)
    measure = (n - n_train) * (2 * h + c)  # the test split's forward pass
    records = config.n_records() * (4 + (2 * n_frequencies(p) if task.name == "modadd" else 0))
    snaps = len(config.snapshot_steps()) * p * d if config.snapshot_every else 0
    return {
        "weights": 3 * params * item,  # weights, AdamW's m and v
        "data": n * 2 * 4 + n * 4,  # pairs and labels of both splits, int32
        "activations": int(max(activations, measure) * item),
        "host": int(records * 8 + (snaps + 2 * p * d) * item),
    }


def group_size(task, config: TrainConfig, members: int, gpu: bool = False) -> int:
    """Members per compiled group as the engine chooses them (all on a GPU; cache-sized on a CPU)."""
    if config.group_size:
        return min(config.group_size, members)
    if gpu:
        return members
    item = 8 if config.dtype == "float64" else 4
    per_member = task.n_train(config.train_fraction) * config.width * item
    return int(max(1, min(members, CPU_GROUP_BYTES // max(per_member, 1))))


def population_bytes(task, config: TrainConfig, members: int, gpu: bool = False) -> int:
    """Estimated peak bytes of training one population of `members` trials."""
    g = group_size(task, config, members, gpu)
    m = member_bytes(task, config)
    device = g * (m["weights"] + m["data"] + m["activations"])
    host = g * m["host"] + task.p * task.p * 3 * 4  # the records of one group; all pairs and labels
    return int(BASE_BYTES + OVERHEAD * (device + host))


def experiment_bytes(experiment, gpu: bool = False) -> tuple[int, str]:
    """(peak bytes, a description of the population that needs them) over the experiment's populations."""
    worst, what = 0, ""
    for population in experiment.populations():
        plan = population[0]
        task, config = plan.task(), plan.train_config(experiment.run)
        need = population_bytes(task, config, len(population), gpu)
        if need > worst:
            t = plan.settings["task"]
            shown = ", ".join(f"{k} = {v}" for k, v in t.items())
            case = f'case "{plan.settings["case"]}", ' if plan.settings["case"] else ""
            worst, what = need, f"{case}{shown}, d = {config.d}, {len(population)} trials"
    return worst, what


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(experiment, available: int | None = None, allow: bool = False, gpu: bool = False) -> None:
    """Refuse (ValueError, one line) an experiment whose estimated peak memory exceeds the machine's."""
    available = machine_bytes() if available is None else available
    if allow or available is None:
        return
    need, what = experiment_bytes(experiment, gpu)
    if need > available:
        raise ValueError(
            f"the largest population ({what}) needs about {gib(need)} by estimate, more than this machine's "
            f"{gib(available)}; use fewer trials or smaller sizes, or --allow-large-memory to try anyway"
        )
