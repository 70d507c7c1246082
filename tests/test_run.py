"""The runner: bad input, resume after SIGKILL, shards, overrides, TensorBoard."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from cinit_tf.experiment.config import load_experiment
from cinit_tf.run import main, parse_shard
from cinit_tf.runner import in_shard
from cinit_tf.store import Store, plan_fingerprint

BAD = Path(__file__).parent / "bad_configs"

# float64 so that a trial trained beside different neighbours after a restart is equal to 1e-9
EXPERIMENT = textwrap.dedent(
    """
    # python -m cinit_tf.run this.toml
    name = "resume"
    study = "freeze_embedding"
    [task]
    name = "xor"
    bits = 3
    [train]
    steps = {steps}
    d = 8
    weight_decay = 3.0
    log_every = 50
    dtype = "float64"
    [seeds]
    count = {count}
    [run]
    group_size = 2
    tensorboard_members = 0
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def write_experiment(folder: Path, steps=300, count=8) -> Path:
    path = folder / "resume.toml"
    path.write_text(EXPERIMENT.format(steps=steps, count=count))
    return path


def run_cli(*args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "cinit_tf.run", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def assert_same_trials(a: Store, b: Store):
    assert a.finished_ids() == b.finished_ids()
    for x, y in zip(a.trials(), b.trials()):
        assert x.settings == y.settings
        np.testing.assert_allclose(
            x.result.final_embedding, y.result.final_embedding, rtol=0, atol=1e-9
        )
        np.testing.assert_allclose(x.result.test_loss, y.result.test_loss, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "bad", ["unknown_key.toml", "string_for_int.toml", "missing_profile.toml", "syntax_error.toml"]
)
def test_bad_file_exits_2_with_one_line_and_writes_nothing(tmp_path, bad):
    if not (BAD / bad).exists():
        pytest.fail(f"fixture {bad} is missing from {BAD}")
    out = tmp_path / "runs"
    proc = run_cli(BAD / bad, "--out", out, "--reports", tmp_path / "reports")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and bad in lines[0], proc.stderr
    assert not out.exists() and not (tmp_path / "reports").exists()


def test_bad_shard_and_missing_file_exit_2(tmp_path):
    exp = write_experiment(tmp_path)
    proc = run_cli(exp, "--shard", "3/2", "--out", tmp_path / "runs")
    assert proc.returncode == 2 and "--shard 3/2" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli(tmp_path / "nope.toml", "--out", tmp_path / "runs")
    assert proc.returncode == 2 and "nope.toml" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_shards_are_disjoint_and_cover():
    ids = [f"{i:016x}" for i in range(0, 10**6, 7919)]
    n = 3
    owners = [[s for s in range(n) if in_shard(i, (s, n))] for i in ids]
    assert all(len(o) == 1 for o in owners)
    assert parse_shard("1/3") == (1, 3)


def test_killed_run_resumes_with_nothing_lost_or_doubled(tmp_path):
    exp = write_experiment(tmp_path, steps=600, count=10)
    killed = tmp_path / "killed"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cinit_tf.run",
            str(exp),
            "--out",
            str(killed),
            "--no-report",
            "--quiet",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    trials_dir = killed / "resume" / "trials"
    deadline = time.time() + 240
    while time.time() < deadline and len(list(trials_dir.glob("*.npz"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(trials_dir.glob("*.npz")))
    assert 2 <= done_before < 10, "the kill should land mid-run"

    assert main([str(exp), "--out", str(killed), "--no-report", "--quiet"]) == 0
    whole = tmp_path / "whole"
    assert main([str(exp), "--out", str(whole), "--no-report", "--quiet"]) == 0
    plan_ids = {p.id for p in load_experiment(exp).trials()}
    store = Store(killed / "resume")
    assert store.finished_ids() == plan_ids
    assert len(list(trials_dir.glob("*.npz"))) == 10
    assert_same_trials(store, Store(whole / "resume"))
    # The killed sitting's record stands at its last stored trial (the kill may land between a trial's file
    # and its record); the one that resumed records what it stored.
    killed_sitting, resumed = store.sittings()
    assert killed_sitting["completed"] is False
    assert killed_sitting["trials"] in (done_before - 1, done_before)
    assert killed_sitting["model_steps"] == 600 * killed_sitting["trials"]
    assert resumed["completed"] is True
    assert resumed["trials"] == 10 - done_before
    assert resumed["model_steps"] == 600 * (10 - done_before)
    assert not set(killed_sitting["stored"]) & set(resumed["stored"])
    assert set(killed_sitting["stored"]) | set(resumed["stored"]) <= plan_ids
    # a third run finds everything finished and trains nothing, and records no sitting
    assert main([str(exp), "--out", str(killed), "--no-report", "--quiet"]) == 0
    assert len(list(trials_dir.glob("*.npz"))) == 10
    assert len(store.sittings()) == 2


def test_two_shards_equal_one_unsharded_run(tmp_path):
    exp = write_experiment(tmp_path, steps=60, count=6)
    for shard in ("0/2", "1/2"):
        assert (
            main(
                [
                    str(exp),
                    "--out",
                    str(tmp_path / "sharded"),
                    "--shard",
                    shard,
                    "--no-report",
                    "--quiet",
                ]
            )
            == 0
        )
    assert main([str(exp), "--out", str(tmp_path / "one"), "--no-report", "--quiet"]) == 0
    assert_same_trials(Store(tmp_path / "sharded" / "resume"), Store(tmp_path / "one" / "resume"))
    assert len(Store(tmp_path / "one" / "resume").finished_ids()) == 6
    # Each shard records its own sitting: the trials it stored, disjoint, together the plan.
    plan_ids = {p.id for p in load_experiment(exp).trials()}
    first, second = Store(tmp_path / "sharded" / "resume").sittings()
    assert {first["shard"], second["shard"]} == {"0/2", "1/2"}
    assert not set(first["stored"]) & set(second["stored"])
    assert set(first["stored"]) | set(second["stored"]) == plan_ids
    assert first["plan"] == second["plan"] == plan_fingerprint(plan_ids)
    assert all(n == 60 for s in (first, second) for n in s["stored"].values())


def test_shard_with_other_settings_is_warned(tmp_path, capsys):
    exp = write_experiment(tmp_path, steps=10, count=2)
    assert main([str(exp), "--out", str(tmp_path), "--shard", "0/2", "--no-report", "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert (
        main(
            [
                str(exp),
                "--out",
                str(tmp_path),
                "--shard",
                "1/2",
                "--set",
                "train.steps=12",
                "--no-report",
                "--quiet",
            ]
        )
        == 0
    )
    assert "last run with other settings" in capsys.readouterr().err


def test_changed_config_gives_new_trials_not_a_mix(tmp_path):
    exp = write_experiment(tmp_path, steps=20, count=2)
    assert main([str(exp), "--out", str(tmp_path), "--no-report", "--quiet"]) == 0
    first = Store(tmp_path / "resume").finished_ids()
    assert (
        main(
            [str(exp), "--out", str(tmp_path), "--set", "train.steps=30", "--no-report", "--quiet"]
        )
        == 0
    )
    store = Store(tmp_path / "resume")
    second = {p.id for p in load_experiment(exp, overrides=["train.steps=30"]).trials()}
    assert first.isdisjoint(second) and store.finished_ids() == first | second
    assert set(store.read_config()["trial_ids"]) == second
    assert all(t.result.steps[-1] == 30 for t in store.trials(second))


def test_tensorboard_curves_per_frequency(tmp_path):
    import tensorflow as tf

    exp = tmp_path / "tb.toml"
    exp.write_text(
        textwrap.dedent(
            """
            name = "tb"
            study = "freeze_embedding"
            [task]
            name = "modadd"
            p = 11
            [train]
            steps = 20
            d = 8
            log_every = 10
            [seeds]
            count = 3
            [run]
            tensorboard_members = 2
            [profiles.smoke]
            [profiles.cpu]
            [profiles.paper]
            """
        )
    )
    assert main([str(exp), "--out", str(tmp_path), "--no-report", "--quiet"]) == 0
    folders = sorted(p for p in (tmp_path / "tb" / "tensorboard").iterdir() if p.is_dir())
    assert [f.name for f in folders] == [
        "seed-0",
        "seed-1",
    ]  # the two smallest embedding seeds of the one grid point
    tags, steps = set(), set()
    for event_file in folders[0].glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                tags.add(value.tag)
                steps.add(event.step)
    assert {"loss/train", "loss/test", "acc/train", "acc/test"} <= tags
    assert {f"fourier_norm/k{k:03d}" for k in range(1, 6)} <= tags
    assert {0, 1, 10, 20} <= steps
