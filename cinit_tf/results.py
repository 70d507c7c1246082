"""A run's results as tables: one row per trial, and for modular addition one row per trial and frequency.

    from cinit_tf import results
    trials, frequencies = results.load("runs/survival_vs_norm")
    trials.groupby("train.d")["test_loss"].median()

`trials` has the trial id, its case, every setting that varies between the run's trials (columns
named as in the experiment file, `train.d`, `task.p` ...), its three seeds, what its transform
chose (`chosen.k` ...), and its scalar outcomes (final losses and accuracies, convergence step,
non-finite step, the step it stopped after and why — `stop_step`, `stop_reason`: settled, max_steps or
diverged —, softmax collapse — `collapse_step`, the first measured step at which a training pair's
standard loss was exactly 0 (empty: never), and `collapse_share`, the share of such pairs at the
end (empty: not recorded) —, number of circles at τ = 0.05 for modular addition). `frequencies` (None for
the other tasks) has trial id, frequency k, initial and final signal, and whether k survived.
The runner writes both as CSV next to the trial files (`runs/X/trials.csv`,
`runs/X/frequencies.csv`); `load` reads the trial files themselves, so it is never stale. Both hold the
trials of the run's current settings only (its config.json): a folder trained again with another
profile or --set keeps the earlier trials under other ids, and they are never mixed in unasked.
No TensorFlow here.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from cinit_tf.experiment.plan import flat_settings
from cinit_tf.readout import SURVIVAL_TAU, survivors
from cinit_tf.store import Store

SETTING_SECTIONS = ("task", "train", "transform")
OUTCOMES = ("train_loss", "test_loss", "train_acc", "test_acc")


def _row(t, varying: list[str]) -> dict:
    r = t.result
    flat = flat_settings(t.settings, SETTING_SECTIONS)
    row = {"id": t.id, "case": t.settings.get("case", "")}
    row.update({key: flat.get(key) for key in varying})
    seeds = t.settings.get("seeds", {})
    row.update({f"{k}_seed": seeds.get(k) for k in ("embedding", "mlp", "split")})
    row.update(
        {
            f"chosen.{k}": (v if not isinstance(v, list) else " ".join(map(str, v)))
            for k, v in sorted(t.chosen.items())
        }
    )
    row["steps"] = int(r.steps[-1])
    row.update({name: float(np.asarray(getattr(r, name))[-1]) for name in OUTCOMES})
    row["convergence_step"] = r.convergence_step
    row["nonfinite_step"] = r.nonfinite_step
    row["nonfinite"] = r.nonfinite_step is not None
    row["stop_step"] = r.stop_step
    row["stop_reason"] = r.stop_reason
    row["collapse_step"] = r.collapse_step
    row["collapse_share"] = r.collapse_share
    if r.fourier_norms is not None:
        row["circles"] = int(survivors(r.fourier_norms[-1], SURVIVAL_TAU).sum())
    return row


def tables(trials: list):
    """(trials table, frequencies table or None) of stored trials, as pandas DataFrames, rows in id order."""
    import pandas as pd

    trials = sorted(trials, key=lambda t: t.id)
    flats = [flat_settings(t.settings, SETTING_SECTIONS) for t in trials]
    keys = sorted({k for f in flats for k in f})
    varying = [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]
    table = pd.DataFrame([_row(t, varying) for t in trials])
    for col in ("convergence_step", "nonfinite_step", "collapse_step"):
        if col in table:
            table[col] = table[col].astype(
                "Int64"
            )  # missing (never converged) stays missing, not NaN-float
    rows = []
    for t in trials:
        norms = t.result.fourier_norms
        if norms is None:
            continue
        alive = survivors(norms[-1], SURVIVAL_TAU)
        for k in range(norms.shape[1]):
            rows.append(
                {
                    "id": t.id,
                    "k": k + 1,
                    "initial_signal": float(norms[0, k]),
                    "final_signal": float(norms[-1, k]),
                    "survived": bool(alive[k]),
                }
            )
    return table, (pd.DataFrame(rows) if rows else None)


def stored_trials(
    run_dir: str | os.PathLike, every_trial: bool = False, warn=None
) -> tuple[list, int]:
    """(the run's finished trials, how many other trial files the folder holds), reading only.

    The run's trials are those its config.json plans (`trial_ids`). A folder trained again with other
    settings (another profile or --set) keeps the earlier trials too, under other ids: they are left
    out unless `every_trial`, and counted. A folder without config.json gives every trial file.
    """
    store = Store(run_dir, warn=warn, read_only=True)
    if not store.root.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run folder")
    if not store.has_config():
        return store.trials(), 0
    planned = set(store.read_config().get("trial_ids", []))
    finished = store.finished_ids()
    others = len(finished - planned)
    return store.trials(ids=None if every_trial else planned), others


def load(run_dir: str | os.PathLike, every_trial: bool = False):
    """The finished trials of a run folder as (trials, frequencies) DataFrames (frequencies None unless
    modular addition). Reading changes nothing in the folder.

    Only the trials of the run's current settings (its config.json) are read: trials an earlier run
    with other settings left in the folder are not mixed in, and a warning says how many there are.
    `every_trial=True` reads them all, with a column `current` (True for the current settings' trials).
    """
    trials, others = stored_trials(run_dir, every_trial)
    if others and not every_trial:
        warnings.warn(
            f"{run_dir}: {others} trial file(s) of other settings (an earlier run with "
            "another profile or --set) are left out; load(run_dir, every_trial=True) reads them "
            "too, with a column 'current'",
            stacklevel=2,
        )
    table, frequencies = tables(trials)
    if every_trial:
        store = Store(run_dir, read_only=True)
        planned = set(store.read_config().get("trial_ids", [])) if store.has_config() else None
        table["current"] = (
            [planned is None or i in planned for i in table["id"]] if len(table) else []
        )
    return table, frequencies


def write_tables(run_dir: str | os.PathLike) -> list[Path]:
    """Write `trials.csv` (and `frequencies.csv`) of the run's current trials into the run folder; returns the
    paths written. A table with no frequencies removes a `frequencies.csv` an earlier version left."""
    from cinit_tf.store import atomic_write

    root = Path(run_dir)
    trials, frequencies = tables(stored_trials(root)[0])
    written = []
    for name, frame in (("trials.csv", trials), ("frequencies.csv", frequencies)):
        path = root / name
        if frame is None:
            path.unlink(missing_ok=True)
            continue
        atomic_write(
            path, lambda f, frame=frame: f.write(frame.to_csv(index=False).encode("utf-8"))
        )
        written.append(path)
    return written
