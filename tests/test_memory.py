"""Memory estimates: a run that cannot fit is refused at load with its estimate; the estimate bounds a real run."""

import json
import subprocess
import sys
import textwrap

import pytest

from cinit_tf import framework
from cinit_tf.memory import (
    Device,
    check_memory,
    group_size,
    member_bytes,
    population_bytes,
    training_device,
)
from cinit_tf.tasks import make_task
from cinit_tf.trial import TrainConfig


class _Plan:
    def __init__(self, task, train):
        self.settings = {"task": task, "case": "", "train": train}

    def task(self):
        return make_task(**self.settings["task"])

    def train_config(self, run):
        return TrainConfig(**self.settings["train"])


class _Experiment:
    run = {}

    def __init__(self, task, train, n):
        self._pops = [[_Plan(task, train)] * n]

    def populations(self):
        return self._pops


CPU_24G = Device("cpu", 24 * 2**30)


def test_a_population_that_cannot_fit_is_refused_with_its_estimate():
    big = _Experiment({"name": "modadd", "p": 2048}, {"d": 128}, 4)
    with pytest.raises(
        ValueError,
        match=r"needs about \d+\.\d GiB by estimate, more than this machine's 24\.0 GiB.*--allow-large-memory",
    ):
        check_memory(big, CPU_24G)
    check_memory(big, CPU_24G, allow=True)  # allowed explicitly
    check_memory(
        _Experiment({"name": "modadd", "p": 59}, {"d": 128}, 64), CPU_24G
    )  # the paper's: fine


def test_a_gpu_trains_every_member_at_once_and_is_checked_against_its_own_memory():
    """A population that fits a CPU in cache-sized groups can overflow a small GPU, where all members train as one."""
    task, config = make_task("modadd", p=160), TrainConfig(d=64)
    small_gpu = Device("gpu", 2 * 2**30)
    assert group_size(task, config, 64, small_gpu) == 64
    assert (
        group_size(task, config, 64, CPU_24G) == 1
    )  # 20,480 pairs x 100 x 4 B is past the CPU group budget
    on_gpu, on_cpu = (
        population_bytes(task, config, 64, small_gpu),
        population_bytes(task, config, 64, CPU_24G),
    )
    assert (
        on_gpu["device"] > 40 * on_cpu["host"] / 64
    )  # all 64 members' activations, not one group's
    assert on_gpu["host"] < on_gpu["device"]  # only the records stay on the host
    experiment = _Experiment({"name": "modadd", "p": 160}, {"d": 64}, 64)
    check_memory(experiment, CPU_24G)  # fits the host in groups
    with pytest.raises(ValueError, match=r"more than this GPU's 2\.0 GiB"):
        check_memory(experiment, small_gpu, host=24 * 2**30)
    check_memory(experiment, Device("gpu", 80 * 2**30), host=24 * 2**30)  # a large GPU holds it
    pinned = _Experiment({"name": "modadd", "p": 160}, {"d": 64, "group_size": 2}, 64)
    check_memory(
        pinned, small_gpu, host=24 * 2**30
    )  # an explicit group size is what the engine uses, GPU or not


def test_the_engine_groups_members_by_the_same_rule_as_the_estimate():
    from cinit_tf.training import auto_group_size

    for task, config in [
        (make_task("modadd", p=59), TrainConfig(d=128)),
        (make_task("remainder", p=100, m=10), TrainConfig(d=8)),
        (make_task("xor", bits=3), TrainConfig(d=8)),
        (make_task("modadd", p=59), TrainConfig(d=128, group_size=3)),
    ]:
        for members in (1, 7, 64):
            assert auto_group_size(task, config, members) == group_size(
                task, config, members, training_device(framework.gpu_count())
            )


def test_estimate_grows_with_what_is_recorded_not_with_steps():
    task = make_task("modadd", p=59)
    a = member_bytes(task, TrainConfig(steps=10**6, log_every=10**5))
    b = member_bytes(task, TrainConfig(steps=10**3, log_every=10**2))
    assert a == b
    c = member_bytes(task, TrainConfig(steps=10**6, log_every=10**5, snapshot_every=10**4))
    assert c["host"] > a["host"] + 100 * 59 * 128 * 4


def test_estimate_bounds_the_measured_peak_of_a_real_population():
    code = textwrap.dedent(
        """
        import json, resource
        from cinit_tf.tasks import make_task
        from cinit_tf.training import train_population
        from cinit_tf.trial import TrainConfig, Trial
        task, config = make_task("modadd", p=160), TrainConfig(steps=3, d=64, first_steps=3)
        train_population(task, config, [Trial(i, i, i) for i in range(4)])
        print(json.dumps({"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    peak = json.loads(out.stdout.strip().splitlines()[-1])["peak"]
    estimate = population_bytes(
        make_task("modadd", p=160), TrainConfig(steps=3, d=64, first_steps=3), 4
    )["host"]
    assert peak < estimate < 8 * peak, (peak, estimate)


def test_the_cli_refuses_a_run_that_cannot_fit_before_writing_anything(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text(
        'study = "fourier_evolution"\n[task]\nname = "modadd"\np = 2000\n[train]\nsteps = 10\n'
        "[seeds]\ncount = 2\n[profiles.smoke]\n[profiles.cpu]\n[profiles.paper]\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "cinit_tf.run",
            str(path),
            "--profile",
            "smoke",
            "--out",
            str(tmp_path / "runs"),
            "--reports",
            str(tmp_path / "reports"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "GiB by estimate" in lines[0] and "--allow-large-memory" in lines[0]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "reports").exists()
