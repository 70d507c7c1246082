"""Settled runs through the runner: stop records in the tables, and a killed run that resumes with nothing lost."""

import textwrap

import numpy as np
import pandas as pd
from run_process import run_args, stop_after_first_trial

from cinit_tf.experiment.config import load_experiment
from cinit_tf.run import main
from cinit_tf.store import Store

SETTLING = textwrap.dedent(
    """
    name = "settling"
    study = "freeze_embedding"
    [task]
    name = "modadd"
    p = 23
    [train]
    steps = {steps}
    d = 16
    weight_decay = 2.0
    log_every = 20
    first_steps = 0
    dtype = "float64"
    until = "loss_settled"
    settle_window = 100
    settle_tolerance = 0.1
    [seeds]
    count = 6
    [run]
    group_size = 2
    tensorboard_members = 1
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def settling(folder, steps=600):
    path = folder / "settling.toml"
    path.write_text(SETTLING.format(steps=steps))
    return path


def test_trials_csv_has_each_trials_stop_step_and_reason(tmp_path):
    exp = settling(tmp_path)
    assert main([str(exp), "--out", str(tmp_path / "runs"), "--no-report", "--quiet"]) == 0
    run = tmp_path / "runs" / "settling"
    table = pd.read_csv(run / "trials.csv").set_index("id")
    stored = {t.id: t.result for t in Store(run).trials()}
    assert set(table.index) == set(stored) and len(stored) == 6
    for trial_id, r in stored.items():
        assert table.loc[trial_id, "stop_step"] == r.stop_step == r.steps[-1]
        assert table.loc[trial_id, "stop_reason"] == r.stop_reason
    assert set(table["stop_reason"]) <= {"settled", "max_steps"} and "settled" in set(
        table["stop_reason"]
    )
    assert table["stop_step"].nunique() > 1, "the trials should stop at different steps"


def test_a_run_killed_while_slots_refill_resumes_to_the_uninterrupted_result(tmp_path):
    exp = settling(tmp_path, steps=3000)
    whole = tmp_path / "whole"
    assert main([str(exp), "--out", str(whole), "--no-report", "--quiet"]) == 0

    out = tmp_path / "killed"
    args = run_args(exp, out)
    trials = out / "settling" / "trials"
    proc, _, stderr = stop_after_first_trial(args, trials, poll=0.02)
    saved = len(list(trials.glob("*.npz")))
    assert proc.returncode == 143, stderr
    assert 1 <= saved < 6, "the signal should land while trials are in flight"
    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 0

    planned = {p.id for p in load_experiment(exp).trials()}
    assert sorted(p.stem for p in trials.glob("*.npz")) == sorted(planned)  # each trial once
    resumed = {t.id: t.result for t in Store(out / "settling").trials()}
    reference = {t.id: t.result for t in Store(whole / "settling").trials()}
    for trial_id, r in reference.items():
        s = resumed[trial_id]
        assert (s.stop_step, s.stop_reason) == (r.stop_step, r.stop_reason)
        np.testing.assert_array_equal(s.steps, r.steps)
        np.testing.assert_allclose(s.final_embedding, r.final_embedding, rtol=0, atol=1e-9)
        np.testing.assert_allclose(s.test_loss, r.test_loss, rtol=1e-9, atol=0)


def test_two_shards_of_a_settling_run_train_each_trial_once(tmp_path):
    exp = settling(tmp_path)
    out = tmp_path / "runs"
    for shard in ("0/2", "1/2"):
        assert main([str(exp), "--out", str(out), "--no-report", "--quiet", "--shard", shard]) == 0
    trials = sorted(p.stem for p in (out / "settling" / "trials").glob("*.npz"))
    assert trials == sorted(p.id for p in load_experiment(exp).trials())
    whole = tmp_path / "whole"
    assert main([str(exp), "--out", str(whole), "--no-report", "--quiet"]) == 0
    for t in Store(whole / "settling").trials():
        s = Store(out / "settling").read_trial(t.id).result
        assert (s.stop_step, s.stop_reason) == (t.result.stop_step, t.result.stop_reason)
        np.testing.assert_allclose(s.final_embedding, t.result.final_embedding, rtol=0, atol=1e-9)
