"""How much memory a run will need, estimated before anything is trained (no TensorFlow here).

The engine holds, per member of a compiled group: the weights with AdamW's two moments, the
train and test pairs and labels, and the activations of a full-batch step (both hidden layers
and the logits, forward and backward, for every train pair). Measurements are kept on the host
for every recorded step, and snapshots of the embedding if asked. The estimate is an upper bound
of that arithmetic, times a safety factor for the framework's own buffers; a run whose largest
population would need more than the memory it trains in is refused at load, with the estimate,
unless the user allows it (`--allow-large-memory`).

Where a population trains decides both its grouping and the memory it must fit in (`Device`): on
a CPU in cache-sized groups, everything in host memory; on a GPU all members at once, the weights,
data and activations in the GPU's own memory and only the records on the host. `group_size` is
the one rule the engine (cinit_tf.training) and this estimate share.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

from cinit_tf.signals import n_frequencies
from cinit_tf.trial import TrainConfig

# On a CPU a population is memory-bound once its activations (members x pairs x width) leave the
# cache, so it runs in groups whose hidden activations stay near this size (tools/bench.py --groups).
CPU_GROUP_BYTES = (
    5 * 2**19
)  # 2.5 MiB: on the 2-core reference machine groups of 2 beat 1, 3, 4, 6 and 64
OVERHEAD = 2.0  # XLA temporaries, the framework's buffers, fragmentation
# The process itself: Python, TensorFlow, compiled programs. Measured (peak RSS of a 4-member modadd p = 160
# population, tests/test_memory.py) at 0.99 GB on one 2-core machine and 1.78 GB on another of the same kind
# with the same pinned versions; the base is set above both, since the estimate must bound the peak.
BASE_BYTES = 2.5 * 2**30


@dataclass(frozen=True)
class Device:
    """Where a population trains: "cpu" or "gpu", and the bytes its weights, data and activations must fit in
    (the host's memory on a CPU, the smallest visible GPU's own memory on a GPU; None where unknown)."""

    kind: str = "cpu"
    memory: int | None = None

    @property
    def gpu(self) -> bool:
        return self.kind == "gpu"


def machine_bytes() -> int | None:
    """Physical memory of this machine, or None where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


# Asked once per process: the engine asks for the device of every population it trains, and the GPUs
# a process sees (like TensorFlow's view of them) do not change while it runs.
@functools.cache
def gpu_bytes() -> int | None:
    """Memory of the smallest visible NVIDIA GPU (nvidia-smi, honouring CUDA_VISIBLE_DEVICES), or None when it
    cannot be read; whether a GPU is used at all is TensorFlow's answer (`training_device`)."""
    if (
        os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1")
        or shutil.which("nvidia-smi") is None
    ):
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    wanted = None if visible is None else {v.strip() for v in visible.split(",")}
    sizes = [
        int(float(mib)) * 2**20
        for index, mib in (line.split(",") for line in out.strip().splitlines() if "," in line)
        if wanted is None or index.strip() in wanted
    ]
    return min(sizes) if sizes else None


def training_device(gpus: int) -> Device:
    """The device a run on this machine trains on, given how many GPUs TensorFlow sees
    (`cinit_tf.framework.gpu_count`, the engine's own answer): a GPU when there is one, with the memory
    of the smallest visible GPU where nvidia-smi tells it (None where unknown); else the CPU with this
    machine's memory."""
    return Device("gpu", gpu_bytes()) if gpus else Device("cpu", machine_bytes())


def member_bytes(task, config: TrainConfig) -> dict:
    """Bytes one member needs on the device, and on the host for its records, by part."""
    item = 8 if config.dtype == "float64" else 4
    p, d, h, c = task.p, config.d, config.width, task.classes
    n = p * p
    n_train = task.n_train(config.train_fraction)
    params = p * d + 2 * d * h + h + h * h + h + h * c + c
    activations = (
        n_train * (4 * h + 3 * c) + 4 * p * h
    )  # h1, h2 and their gradients, logits (+ softmax and its gradient)
    measure = (n - n_train) * (2 * h + c)  # the test split's forward pass
    records = config.n_records() * (4 + (2 * n_frequencies(p) if task.name == "modadd" else 0))
    snaps = len(config.snapshot_steps()) * p * d if config.snapshot_every else 0
    return {
        "weights": 3 * params * item,  # weights, AdamW's m and v
        "data": n * 2 * 4 + n * 4,  # pairs and labels of both splits, int32
        "activations": int(max(activations, measure) * item),
        "host": int(records * 8 + (snaps + 2 * p * d) * item),
    }


def group_size(task, config: TrainConfig, members: int, device: Device) -> int:
    """Members per compiled group: `config.group_size` when set; else all of them on a GPU, cache-sized groups on a CPU."""
    if config.group_size:
        return min(config.group_size, members)
    if device.gpu:
        return members
    item = 8 if config.dtype == "float64" else 4
    per_member = task.n_train(config.train_fraction) * config.width * item
    return int(max(1, min(members, CPU_GROUP_BYTES // max(per_member, 1))))


def population_bytes(task, config: TrainConfig, members: int, device: Device = Device()) -> dict:
    """Estimated peak bytes of training one population of `members` trials: {"device", "host"}.

    On a CPU both parts live in host memory; on a GPU "device" is the GPU's share (one group of every member).
    """
    g = group_size(task, config, members, device)
    m = member_bytes(task, config)
    on_device = OVERHEAD * g * (m["weights"] + m["data"] + m["activations"])
    host = OVERHEAD * (
        g * m["host"] + task.p * task.p * 3 * 4
    )  # the records of one group; all pairs and labels
    if device.gpu:
        return {"device": int(on_device), "host": int(BASE_BYTES + host)}
    return {"device": 0, "host": int(BASE_BYTES + on_device + host)}


def experiment_bytes(experiment, device: Device = Device()) -> tuple[dict, str]:
    """({"device", "host"} peak bytes, a description of the population that needs them) over the experiment's populations."""
    worst, what = {"device": 0, "host": 0}, ""
    for population in experiment.populations():
        plan = population[0]
        task, config = plan.task(), plan.train_config(experiment.run)
        need = population_bytes(task, config, len(population), device)
        if (need["device"], need["host"]) > (worst["device"], worst["host"]):
            t = plan.settings["task"]
            shown = ", ".join(f"{k} = {v}" for k, v in t.items())
            case = f'case "{plan.settings["case"]}", ' if plan.settings["case"] else ""
            worst, what = need, f"{case}{shown}, d = {config.d}, {len(population)} trials"
    return worst, what


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(experiment, device: Device, allow: bool = False, host: int | None = None) -> None:
    """Refuse (ValueError, one line) an experiment whose estimated peak exceeds the memory it trains in.

    `device`: where it trains (`training_device`); `host` defaults to this machine's memory. On a GPU the device part is
    compared with the GPU's memory and the records with the host's.
    """
    if allow:
        return
    host = machine_bytes() if host is None else host
    need, what = experiment_bytes(experiment, device)
    limits = [("GPU", need["device"], device.memory)] if device.gpu else []
    limits.append(
        (
            "machine",
            need["host"],
            device.memory if not device.gpu and device.memory is not None else host,
        )
    )
    for where, bytes_needed, available in limits:
        if available is not None and bytes_needed > available:
            raise ValueError(
                f"the largest population ({what}) needs about {gib(bytes_needed)} by estimate, more than this "
                f"{where}'s {gib(available)}; use fewer trials or smaller sizes, or --allow-large-memory to try anyway"
            )
