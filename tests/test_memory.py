"""Memory estimates: a run that cannot fit is refused at load with its estimate; the estimate bounds a real run."""

import json
import subprocess
import sys
import textwrap

import pytest

from cinit_tf.memory import check_memory, member_bytes, population_bytes
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


def test_a_population_that_cannot_fit_is_refused_with_its_estimate():
    big = _Experiment({"name": "modadd", "p": 2048}, {"d": 128}, 4)
    with pytest.raises(ValueError, match=r"needs about \d+\.\d GiB by estimate, more than this machine's 24\.0 GiB.*--allow-large-memory"):
        check_memory(big, available=24 * 2**30)
    check_memory(big, available=24 * 2**30, allow=True)  # allowed explicitly
    check_memory(_Experiment({"name": "modadd", "p": 59}, {"d": 128}, 64), available=24 * 2**30)  # the paper's: fine


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
    estimate = population_bytes(make_task("modadd", p=160), TrainConfig(steps=3, d=64, first_steps=3), 4)
    assert peak < estimate < 8 * peak, (peak, estimate)


def test_the_cli_refuses_a_run_that_cannot_fit_before_writing_anything(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text('study = "fourier_evolution"\n[task]\nname = "modadd"\np = 2000\n[train]\nsteps = 10\n'
                    "[seeds]\ncount = 2\n[profiles.smoke]\n[profiles.cpu]\n[profiles.paper]\n")
    out = subprocess.run([sys.executable, "-m", "cinit_tf.run", str(path), "--profile", "smoke",
                          "--out", str(tmp_path / "runs"), "--reports", str(tmp_path / "reports")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "GiB by estimate" in lines[0] and "--allow-large-memory" in lines[0]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "reports").exists()
