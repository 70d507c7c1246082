"""A float32 run killed and rerun stores what an uninterrupted run stores, bit for bit (cinit_tf.slots).

In float32 a trial's bits depend on the size of the group it trains in and, without XLA, on its slot
(docs/method.md#population-training); a rerun replays the killed run's schedule so that both are the same.
"""

import shutil
import signal
import subprocess
import textwrap
import time

import numpy as np
from run_process import run_args

from cinit_tf.run import main
from cinit_tf.store import Store

XOR = textwrap.dedent(
    """
    name = "resume32"
    study = "freeze_embedding"
    [task]
    name = "xor"
    bits = 3
    [train]
    steps = {steps}
    d = 8
    weight_decay = 3.0
    log_every = 20
    first_steps = 0
    until = "loss_settled"
    settle_window = 100
    settle_tolerance = 0.05
    [seeds]
    count = {count}
    [run]
    group_size = 3
    jit_compile = {jit}
    tensorboard_members = 1
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def experiment(folder, count, jit, steps=600):
    path = folder / "resume32.toml"
    path.write_text(XOR.format(count=count, jit=str(jit).lower(), steps=steps))
    return path


def run(exp, out):
    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 0
    return out / "resume32"


def assert_same_trials(folder, reference):
    """Every stored array of every trial equal, NaN where NaN; stop step and reason too."""
    got = {t.id: t.result for t in Store(folder).trials()}
    want = {t.id: t.result for t in Store(reference).trials()}
    assert sorted(got) == sorted(want)
    differ = []
    for trial_id, r in want.items():
        a, b = r.to_arrays(), got[trial_id].to_arrays()
        assert sorted(a) == sorted(b)
        same = all(np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f") for k in a)
        if not same:
            differ.append(
                (
                    trial_id,
                    (r.stop_step, r.stop_reason),
                    (got[trial_id].stop_step, got[trial_id].stop_reason),
                )
            )
    assert not differ, (
        f"{len(differ)} of {len(want)} trials differ (id, uninterrupted, resumed): {differ}"
    )


def kill_after(args, trials, saved: int) -> int:
    """Start the run, SIGKILL it once `saved` trial files are there; how many there are after it died."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while (
        time.time() < deadline and proc.poll() is None and len(list(trials.glob("*.npz"))) < saved
    ):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, stderr
    return len(list(trials.glob("*.npz")))


def test_a_float32_run_killed_twice_stores_what_an_uninterrupted_run_stores(tmp_path):
    """Without XLA a member's float32 sums depend on its slot: the rerun must put each trial where it was."""
    exp = experiment(tmp_path, count=12, jit=False)
    whole = run(exp, tmp_path / "whole")
    reasons = {t.result.stop_reason for t in Store(whole).trials()}
    assert reasons == {"settled", "max_steps"}, (
        reasons
    )  # trials of different lengths: slots are refilled

    out = tmp_path / "killed"
    args = run_args(exp, out)
    trials = out / "resume32" / "trials"
    first = kill_after(args, trials, 3)
    assert 3 <= first < 12, "the first kill should land while trials are in flight"
    second = kill_after(args, trials, first + 4)
    assert first < second < 12, "the second kill should land while trials are in flight"
    assert_same_trials(run(exp, out), whole)  # the rerun, in this process


def test_a_rerun_with_one_trial_left_trains_it_in_the_group_size_of_the_whole_run(tmp_path):
    """XLA compiles a one-member group to other float32 sums than a group of 3: one trial left must not make one."""
    exp = experiment(tmp_path, count=4, jit=True, steps=300)
    whole = run(exp, tmp_path / "whole")
    out = tmp_path / "rerun" / "resume32"
    shutil.copytree(whole, out)
    last = max((out / "trials").glob("*.npz"), key=lambda path: path.stat().st_mtime_ns)
    last.unlink()  # a run killed while only its last trial was in flight
    assert_same_trials(run(exp, tmp_path / "rerun"), whole)


TWO_STAGE = textwrap.dedent(
    """
    name = "stages32"
    study = "winning_tickets"
    [task]
    name = "modadd"
    p = 23
    [train]
    steps = 60
    d = 16
    weight_decay = 2.0
    log_every = 20
    first_steps = 0
    [seeds]
    count = 4
    [[cases]]
    label = "full"
    [[cases]]
    label = "B"
    transform = {{ name = "fourier_keep", rule = "top-2 final", source_case = "full", keep_zero = false }}
    [run]
    group_size = 4
    jit_compile = {jit}
    tensorboard_members = 0
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def test_a_two_stage_run_killed_between_its_sources_trains_its_second_stage_whole(tmp_path):
    """Killed when one of four sources was stored: the rerun trains the other three, then the four second-stage
    trials as one population (where it had trained the one whose source was ready apart, in a group of its own)."""
    exp = tmp_path / "stages32.toml"
    exp.write_text(TWO_STAGE.format(jit="false"))
    whole_out = tmp_path / "whole"
    assert main([str(exp), "--out", str(whole_out), "--no-report", "--quiet"]) == 0
    whole = whole_out / "stages32"
    stored = Store(whole).trials()
    sources = [t for t in stored if t.settings["case"] == "full"]
    assert len(sources) == 4 and len(stored) == 8
    out = tmp_path / "rerun" / "stages32"
    (out / "trials").mkdir(parents=True)
    shutil.copy(whole / "config.json", out / "config.json")
    kept = sorted(sources, key=lambda t: t.id)[0]
    shutil.copy(whole / "trials" / f"{kept.id}.npz", out / "trials" / f"{kept.id}.npz")
    assert main([str(exp), "--out", str(tmp_path / "rerun"), "--no-report", "--quiet"]) == 0
    assert_same_trials(out, whole)
