"""Results as pandas tables: rows and columns against the stored trials."""

from pathlib import Path

import numpy as np
import pandas as pd

from cinit_tf import results
from cinit_tf.config import load_experiment
from cinit_tf.readout import survivors
from cinit_tf.runner import run_experiment
from cinit_tf.store import Store

ROOT = Path(__file__).resolve().parent.parent


def test_tables_of_a_smoke_run_match_its_trials(tmp_path):
    experiment = load_experiment(ROOT / "experiments" / "perturbation.toml", profile="smoke")
    run_experiment(experiment, out=tmp_path / "runs", reports=tmp_path / "reports", progress=False, make_report=False)
    run_dir = tmp_path / "runs" / experiment.name
    stored = {t.id: t for t in Store(run_dir).trials()}
    trials, frequencies = results.load(run_dir)

    assert sorted(trials["id"]) == sorted(stored) and len(trials) == len(experiment.trials())
    for column in ("case", "embedding_seed", "mlp_seed", "split_seed", "test_loss", "train_acc", "convergence_step", "circles", "chosen.k"):
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
    assert sorted(on_disk["id"]) == sorted(trials["id"]) and set(on_disk.columns) == set(trials.columns)
    assert (run_dir / "frequencies.csv").is_file()


def test_tables_of_a_non_modular_run_have_no_frequencies(tmp_path):
    experiment = load_experiment(ROOT / "experiments" / "xor_rank.toml", profile="smoke")
    run_experiment(experiment, out=tmp_path / "runs", reports=tmp_path / "reports", progress=False, make_report=False)
    trials, frequencies = results.load(tmp_path / "runs" / experiment.name)
    assert frequencies is None and "circles" not in trials.columns
    assert len(trials) == len(experiment.trials())
