"""Results as pandas tables: rows and columns against the stored trials."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cinit_tf import results
from cinit_tf.experiment.config import load_experiment
from cinit_tf.readout import survivors
from cinit_tf.runner import run_experiment
from cinit_tf.store import Store

ROOT = Path(__file__).resolve().parent.parent


def test_tables_of_a_smoke_run_match_its_trials(tmp_path):
    experiment = load_experiment(ROOT / "experiments" / "perturbation.toml", profile="smoke")
    run_experiment(
        experiment,
        out=tmp_path / "runs",
        reports=tmp_path / "reports",
        progress=False,
        make_report=False,
    )
    run_dir = tmp_path / "runs" / experiment.name
    stored = {t.id: t for t in Store(run_dir).trials()}
    trials, frequencies = results.load(run_dir)

    assert sorted(trials["id"]) == sorted(stored) and len(trials) == len(experiment.trials())
    for column in (
        "case",
        "embedding_seed",
        "mlp_seed",
        "split_seed",
        "test_loss",
        "train_acc",
        "convergence_step",
        "circles",
        "chosen.k",
    ):
        assert column in trials.columns, column
    for _, row in trials.iterrows():
        t = stored[row["id"]]
        assert row["test_loss"] == float(t.result.test_loss[-1])
        assert row["mlp_seed"] == t.settings["seeds"]["mlp"]
        assert row["chosen.k"] == t.chosen["k"]  # what the transform scaled, as stored
        assert row["circles"] == int(survivors(t.result.fourier_norms[-1]).sum())
    # a setting that varies in the grid is a column; one that is the same everywhere is not
    assert "transform.s" in trials.columns and "train.lr" not in trials.columns

    K = next(iter(stored.values())).result.fourier_norms.shape[1]
    assert len(frequencies) == len(stored) * K
    one = frequencies[frequencies["id"] == trials["id"].iloc[0]].sort_values("k")
    t = stored[trials["id"].iloc[0]]
    np.testing.assert_allclose(one["final_signal"], t.result.fourier_norms[-1])
    np.testing.assert_array_equal(one["survived"], survivors(t.result.fourier_norms[-1]))

    on_disk = pd.read_csv(run_dir / "trials.csv")
    assert sorted(on_disk["id"]) == sorted(trials["id"]) and set(on_disk.columns) == set(
        trials.columns
    )
    assert (run_dir / "frequencies.csv").is_file()


def test_tables_of_a_non_modular_run_have_no_frequencies(tmp_path):
    experiment = load_experiment(ROOT / "experiments" / "xor_rank.toml", profile="smoke")
    run_experiment(
        experiment,
        out=tmp_path / "runs",
        reports=tmp_path / "reports",
        progress=False,
        make_report=False,
    )
    trials, frequencies = results.load(tmp_path / "runs" / experiment.name)
    assert frequencies is None and "circles" not in trials.columns
    assert len(trials) == len(experiment.trials())


def _tiny(tmp_path, overrides=()):
    import textwrap

    path = tmp_path / "tiny.toml"
    path.write_text(
        textwrap.dedent("""
        study = "xor_rank"
        [task]
        name = "xor"
        bits = 2
        [train]
        steps = 20
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
        """)
    )
    return load_experiment(path, profile="smoke", overrides=overrides)


def _snapshot(folder):
    return sorted(
        (p.relative_to(folder).as_posix(), p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
    )


def test_reading_a_run_with_a_damaged_trial_file_changes_nothing(tmp_path, capsys):
    from cinit_tf.reporting.generate import generate_report

    e = _tiny(tmp_path)
    run_experiment(
        e, out=tmp_path / "runs", reports=tmp_path / "reports", progress=False, make_report=False
    )
    run_dir = tmp_path / "runs" / e.name
    victim = sorted(Store(run_dir).finished_ids())[0]
    (run_dir / "trials" / f"{victim}.npz").write_bytes(b"not a zip file")
    before = _snapshot(run_dir)
    trials, _ = results.load(run_dir)
    assert sorted(trials["id"]) == sorted({p.id for p in e.trials()} - {victim})
    generate_report(run_dir, tmp_path / "reports")
    assert _snapshot(run_dir) == before  # nothing moved to damaged/, nothing written
    err = capsys.readouterr().err
    assert f"{victim}.npz" in err and "left out" in err and "moves it to" in err
    # a run is what sets it aside, and trains it again
    summary = run_experiment(
        e, out=tmp_path / "runs", reports=tmp_path / "reports", progress=False, make_report=False
    )
    assert summary.trained == 1 and [p.name for p in (run_dir / "damaged").iterdir()] == [
        f"{victim}.npz"
    ]


def test_two_versions_in_one_folder_are_kept_apart_and_said(tmp_path, capsys):
    old, new = _tiny(tmp_path), _tiny(tmp_path, overrides=["train.steps=30"])
    kw = dict(
        out=tmp_path / "runs", reports=tmp_path / "reports", progress=False, make_report=False
    )
    run_experiment(old, **kw)
    capsys.readouterr()
    summary = run_experiment(new, **kw)
    assert summary.other_settings == 3
    assert "holds 3 trial file(s) of other settings" in capsys.readouterr().err
    run_dir = tmp_path / "runs" / new.name
    with pytest.warns(UserWarning, match="3 trial file"):
        trials, _ = results.load(run_dir)
    assert sorted(trials["id"]) == sorted(p.id for p in new.trials()) and set(trials["steps"]) == {
        30
    }
    on_disk = pd.read_csv(run_dir / "trials.csv")
    assert sorted(on_disk["id"]) == sorted(trials["id"])
    both, _ = results.load(run_dir, every_trial=True)
    assert len(both) == 6 and sorted(both[both["current"]]["id"]) == sorted(trials["id"])
    assert set(both[~both["current"]]["steps"]) == {20}
