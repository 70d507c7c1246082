"""The store: a trial file counts as finished only if it loads whole and its settings hash to its name."""

import os
import shutil
import stat
import textwrap

import numpy as np
import pytest

from cinit_tf.experiment.config import load_experiment
from cinit_tf.runner import run_experiment
from cinit_tf.store import Store

TINY = textwrap.dedent(
    """
    name = "{name}"
    study = "xor_rank"
    [task]
    name = "xor"
    bits = 2
    [train]
    steps = {steps}
    d = 4
    log_every = 10
    first_steps = 1
    [seeds]
    count = 3
    [run]
    tensorboard_members = 0
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def tiny(tmp_path, name="tiny", steps=20):
    path = tmp_path / f"{name}.toml"
    path.write_text(TINY.format(name=name, steps=steps))
    return load_experiment(path, profile="smoke")


def run(e, tmp_path):
    return run_experiment(
        e, out=tmp_path / "runs", reports=tmp_path / "reports", progress=False, make_report=False
    )


DAMAGE = {
    "random bytes": lambda p: p.write_bytes(os.urandom(300)),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_a_damaged_trial_file_is_set_aside_and_retrained(tmp_path, capsys, how):
    e = tiny(tmp_path)
    run(e, tmp_path)
    store = Store(tmp_path / "runs" / e.name)
    victim = sorted(store.finished_ids())[0]
    path = store.trials_dir / f"{victim}.npz"
    good = store.read_trial(victim).result.final_embedding
    DAMAGE[how](path)

    summary = run(e, tmp_path)
    assert summary.trained == 1 and summary.skipped == 2
    assert store.finished_ids() == {p.id for p in e.trials()}
    np.testing.assert_allclose(store.read_trial(victim).result.final_embedding, good, rtol=1e-5)
    kept = list(store.damaged_dir.iterdir())
    assert [k.name for k in kept] == [f"{victim}.npz"]  # kept, not deleted
    err = capsys.readouterr().err
    assert f"{victim}.npz" in err and "moved to" in err and "trained again" in err


def test_a_trial_file_copied_from_another_experiment_is_not_accepted(tmp_path, capsys):
    a, b = tiny(tmp_path, "a", steps=20), tiny(tmp_path, "b", steps=30)
    run(a, tmp_path)
    sa, sb = Store(tmp_path / "runs" / "a"), Store(tmp_path / "runs" / "b")
    planned_b = sorted(p.id for p in b.trials())
    sb.trials_dir.mkdir(parents=True)
    shutil.copy(
        sa.trials_dir / f"{sorted(sa.finished_ids())[0]}.npz", sb.trials_dir / f"{planned_b[0]}.npz"
    )
    assert sb.finished_ids() == set()
    assert "holds the settings of trial" in capsys.readouterr().err
    summary = run(b, tmp_path)
    assert summary.trained == 3 and sb.finished_ids() == set(planned_b)
    assert all(t.settings["train"]["steps"] == 30 for t in sb.trials())


def test_files_are_written_with_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        e = tiny(tmp_path)
        run(e, tmp_path)
    finally:
        os.umask(old)
    store = Store(tmp_path / "runs" / e.name)
    for path in [store.root / "config.json", *store.trials_dir.glob("*.npz")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_sittings_are_read_oldest_first_and_foreign_files_left_out(tmp_path):
    store = Store(tmp_path / "run")
    store.root.mkdir()
    assert store.sittings() == []  # a run that predates the record
    good = {"seconds": 12.5, "trials": 3, "model_steps": 600, "completed": True}
    store.record_sitting("20261207T051707Z-2", {**good, "trials": 4})
    store.record_sitting("20261207T040223Z-1", good)
    store.record_sitting("20261207T040223Z-1", {**good, "seconds": 13.0})  # rewritten as it goes on
    bad = {
        "torn": '{"seconds": 3, "trials": 1, "model_st',
        "list": "[1, 2]",
        "negative": '{"seconds": -1, "trials": 1, "model_steps": 5}',
        "nan": '{"seconds": NaN, "trials": 1, "model_steps": 5}',
        "bool": '{"seconds": 1, "trials": true, "model_steps": 5}',
    }
    for name, text in bad.items():
        (store.sittings_dir / f"{name}.json").write_text(text)
    os.mkfifo(store.sittings_dir / "zz-fifo.json")  # would block a read: left out unread
    assert store.sittings() == [{**good, "seconds": 13.0}, {**good, "trials": 4}]
    with pytest.raises(OSError, match="read-only"):
        Store(store.root, read_only=True).record_sitting("x", good)
    assert not (store.sittings_dir / "x.json").exists()
