"""The results store of one experiment: `runs/<name>/` with one file per finished trial.

    runs/<name>/config.json         the resolved experiment (profile and overrides applied)
    runs/<name>/trials/<id>.npz     one finished trial: its settings and its TrialResult arrays
    runs/<name>/tensorboard/        TensorBoard event files

A trial file is written to a temporary name in the same folder, flushed, then renamed: a
killed run leaves either the whole file or none (a stray `*.tmp` from a killed run is never
counted as a finished trial; it can be deleted).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.trial import TrialResult


@dataclass
class StoredTrial:
    """A finished trial: the settings that identify it, and what training produced."""

    id: str
    settings: dict
    result: TrialResult
    chosen: dict = field(default_factory=dict)  # what the trial's transform chose (docs/method.md#transforms)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write) -> None:
    """Write `path` through `write(binary_file)` to a unique temporary name, then rename it into place.

    The file gets the mode a plain open() would give it (0644 under the usual umask 022), not
    mkstemp's private 0600: results on a shared machine are for everyone in the group to read.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.trials_dir = self.root / "trials"
        self.tensorboard_dir = self.root / "tensorboard"

    def write_config(self, config: dict) -> None:
        atomic_write(self.root / "config.json", lambda f: f.write(json.dumps(config, indent=2, sort_keys=True).encode()))

    def read_config(self) -> dict:
        return json.loads((self.root / "config.json").read_text())

    def finished_ids(self) -> set[str]:
        if not self.trials_dir.is_dir():
            return set()
        return {p.stem for p in self.trials_dir.glob("*.npz")}

    def write_trial(self, trial_id: str, settings: dict, result: TrialResult, chosen: dict | None = None) -> None:
        arrays = result.to_arrays()
        arrays["settings_json"] = np.array(json.dumps(settings, sort_keys=True))
        arrays["chosen_json"] = np.array(json.dumps(chosen or {}, sort_keys=True))
        atomic_write(self.trials_dir / f"{trial_id}.npz", lambda f: np.savez_compressed(f, **arrays))

    def read_trial(self, trial_id: str) -> StoredTrial:
        with np.load(self.trials_dir / f"{trial_id}.npz") as z:
            arrays = {k: z[k] for k in z.files}
        settings = json.loads(str(arrays.pop("settings_json")))
        chosen = json.loads(str(arrays.pop("chosen_json", "{}")))
        return StoredTrial(trial_id, settings, TrialResult.from_arrays(arrays), chosen)

    def trials(self, ids=None) -> list[StoredTrial]:
        """Finished trials (all, or those of `ids` that are finished), in order of id."""
        ids = sorted(self.finished_ids() if ids is None else set(ids) & self.finished_ids())
        return [self.read_trial(i) for i in ids]
