"""The results store of one experiment: `runs/<name>/` with one file per finished trial.

    runs/<name>/config.json         the resolved experiment (profile and overrides applied)
    runs/<name>/trials/<id>.npz     one finished trial: its settings and its TrialResult arrays
    runs/<name>/tensorboard/        TensorBoard event files
    runs/<name>/damaged/            trial files that did not load or whose settings do not hash to
                                    their name, moved aside by a run (kept, never deleted) and retrained
    runs/<name>/.claims.lock        per-trial claims of the processes training into the folder at once
    runs/<name>/sittings/           one record per command that trained (a sitting): when, how long,
                                    trials and model-steps stored, where; the run's measured runtime

Reading never changes a run folder: a Store opened with `read_only=True` (results.load, reports)
leaves a damaged trial file where it is and out of what it returns, and says so; only a run moves it.

A trial file is written to a temporary name in the same folder, flushed, then renamed: a
killed run leaves either the whole file or none (a stray `*.tmp` from a killed run is never
counted as a finished trial; it can be deleted).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from stat import S_ISREG

import numpy as np

from cinit_tf.trial import StoredTrial, TrialResult


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


REQUIRED_ARRAYS = (
    "settings_json",
    "steps",
    "train_loss",
    "test_loss",
    "train_acc",
    "test_acc",
    "initial_embedding",
    "final_embedding",
    "convergence_step",
    "nonfinite_step",
)


class DamagedTrial(Exception):
    """A trial file that does not load, lacks arrays, or holds settings that are not its id's."""


def _trial_id(settings: dict) -> str:
    from cinit_tf.experiment.plan import TrialPlan  # the one definition of a trial's identity

    return TrialPlan.from_settings(settings).id


def plan_fingerprint(trial_ids) -> str:
    """A short hash of a run's planned trial ids: the sittings of one plan share it, so a folder trained again
    with another profile or `--set` does not mix their times."""
    return hashlib.sha256("\n".join(sorted(trial_ids)).encode()).hexdigest()[:16]


def sitting_ok(entry) -> bool:
    """A sitting's record as the runner writes it: non-negative seconds, trials and model-steps."""
    if not isinstance(entry, dict):
        return False
    for key in ("seconds", "trials", "model_steps"):
        v = entry.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < float("inf"):
            return False
    return True


class RunFolderError(Exception):
    """A run folder whose record (config.json) cannot be used; the message names the file and what to do."""


class Store:
    def __init__(self, root: str | os.PathLike, warn=None, read_only: bool = False):
        self.root = Path(root)
        self.trials_dir = self.root / "trials"
        self.tensorboard_dir = self.root / "tensorboard"
        self.damaged_dir = self.root / "damaged"
        self.claims_path = self.root / ".claims.lock"
        self.read_only = read_only  # True: never move a damaged file, leave it out and say so
        self._checked: dict[str, tuple] = {}  # id -> (mtime_ns, size) of the file found sound
        self._told: set[tuple] = set()  # (path, why) already reported by a read-only store
        self._warn = warn or (lambda text: print(text, file=sys.stderr))

    def write_config(self, config: dict) -> None:
        atomic_write(
            self.root / "config.json",
            lambda f: f.write(json.dumps(config, indent=2, sort_keys=True).encode()),
        )

    @property
    def sittings_dir(self) -> Path:
        return self.root / "sittings"

    def record_sitting(self, name: str, entry: dict) -> None:
        """Write (or rewrite) one sitting's record, whole or not at all."""
        if self.read_only:
            raise OSError(
                f"{self.root}: opened read-only; a sitting is recorded by the run that trains"
            )
        self.sittings_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(
            self.sittings_dir / f"{name}.json",
            lambda f: f.write(json.dumps(entry, sort_keys=True).encode()),
        )

    def sittings(self) -> list[dict]:
        """The recorded sittings, oldest first ([] for a run that predates the record); a file that does not
        hold a sitting's record is left out."""
        out = []
        for path in sorted(self.sittings_dir.glob("*.json")):
            try:
                if not S_ISREG(path.lstat().st_mode):  # a FIFO or a device would block the read
                    continue
                entry = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if sitting_ok(entry):
                out.append(entry)
        return out

    def has_config(self) -> bool:
        return os.path.lexists(self.root / "config.json")

    def read_config(self) -> dict:
        """The run's record; RunFolderError (the file, what is wrong, what to do) if it is damaged."""
        path = self.root / "config.json"
        advice = (
            "move it away and run the experiment again: a new config.json is written and the trials in "
            "trials/ are kept and reused (each file holds its own settings)"
        )
        if not path.is_file():
            what = "missing" if not os.path.lexists(path) else "not a regular file"
            raise RunFolderError(
                f"{path}: {what}; expected the run's record (a JSON object) written by "
                "python -m cinit_tf.run"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise RunFolderError(
                f"{path}: damaged, not valid JSON ({type(e).__name__}: {e}); expected the "
                f"run's record; {advice}"
            ) from None
        except OSError as e:
            raise RunFolderError(f"{path}: cannot read it ({e.strerror})") from None
        problem = None
        if not isinstance(data, dict):
            problem = f"holds {type(data).__name__}, expected a JSON object"
        elif not isinstance(data.get("trial_ids", []), list) or not all(
            isinstance(i, str) for i in data.get("trial_ids", [])
        ):
            problem = "'trial_ids' is not a list of trial ids"
        elif not isinstance(data.get("environments") or [], list) or not all(
            isinstance(e, dict) for e in data.get("environments") or []
        ):
            problem = "'environments' is not a list of objects"
        if problem:
            raise RunFolderError(f"{path}: damaged: {problem}; {advice}")
        return data

    def finished_ids(self) -> set[str]:
        """Ids of the sound trial files. A file is finished only if it opens, holds every array, and its
        stored settings hash to its name; any other counts as not finished, so the next run trains it
        again, and is moved to damaged/ (one line on stderr) unless the store is read-only."""
        if not self.trials_dir.is_dir():
            return set()
        out = set()
        for path in sorted(self.trials_dir.glob("*.npz")):
            try:
                stat = path.stat()
            except FileNotFoundError:  # moved aside by another process meanwhile
                continue
            if self._checked.get(path.stem) == (stat.st_mtime_ns, stat.st_size):
                out.add(path.stem)
                continue
            if not S_ISREG(stat.st_mode):  # np.load of a FIFO would wait for a writer
                self._damaged(path, "is not a regular file")
                continue
            try:
                self._check(path)
            except DamagedTrial as e:
                self._damaged(path, str(e))
                continue
            self._checked[path.stem] = (stat.st_mtime_ns, stat.st_size)
            out.add(path.stem)
        return out

    @staticmethod
    def _check(path: Path) -> None:
        try:
            with np.load(path) as z:
                missing = [k for k in REQUIRED_ARRAYS if k not in z.files]
                if missing:
                    raise DamagedTrial(f"lacks {', '.join(missing)}")
                settings = json.loads(str(z["settings_json"]))
        except DamagedTrial:
            raise
        except (
            Exception
        ) as e:  # BadZipFile, EOFError, ValueError, OSError, JSON errors: all mean damaged
            raise DamagedTrial(f"does not load ({type(e).__name__}: {e})") from None
        if not isinstance(settings, dict):
            raise DamagedTrial("holds no settings table")
        try:
            sid = _trial_id(settings)
        except Exception as e:
            raise DamagedTrial(
                f"holds settings that are not a trial's ({type(e).__name__})"
            ) from None
        if sid != path.stem:
            raise DamagedTrial(
                f"holds the settings of trial {sid}, not of {path.stem} (copied from another experiment?)"
            )

    def _damaged(self, path: Path, why: str) -> None:
        """A run sets a damaged file aside; a reader leaves it in place, out of what it reads, and says so."""
        if not self.read_only:
            self.set_aside(path, why)
        elif (path, why) not in self._told:
            self._told.add((path, why))
            self._warn(
                f"warning: {path}: {why}; left out (the next run of the experiment moves it to "
                f"{self.damaged_dir} and trains the trial again)"
            )

    def set_aside(self, path: Path, why: str) -> None:
        """Move a damaged trial file to damaged/ under a name that never overwrites, and say so."""
        self.damaged_dir.mkdir(parents=True, exist_ok=True)
        n = 0
        while (target := self.damaged_dir / (path.name + (f".{n}" if n else ""))).exists():
            n += 1
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return  # another process moved it first
        self._checked.pop(path.stem, None)
        self._warn(f"warning: {path}: {why}; moved to {target}, the trial will be trained again")

    def write_trial(
        self, trial_id: str, settings: dict, result: TrialResult, chosen: dict | None = None
    ) -> None:
        arrays = result.to_arrays()
        arrays["settings_json"] = np.array(json.dumps(settings, sort_keys=True))
        arrays["chosen_json"] = np.array(json.dumps(chosen or {}, sort_keys=True))
        atomic_write(
            self.trials_dir / f"{trial_id}.npz", lambda f: np.savez_compressed(f, **arrays)
        )

    def read_trial(self, trial_id: str) -> StoredTrial:
        """A stored trial; DamagedTrial when its file does not load whole."""
        try:
            with np.load(self.trials_dir / f"{trial_id}.npz") as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as e:
            raise DamagedTrial(
                f"{self.trials_dir / (trial_id + '.npz')}: does not load ({type(e).__name__}: {e})"
            ) from None
        settings = json.loads(str(arrays.pop("settings_json")))
        chosen = json.loads(str(arrays.pop("chosen_json", "{}")))
        return StoredTrial(trial_id, settings, TrialResult.from_arrays(arrays), chosen)

    def trials(self, ids=None) -> list[StoredTrial]:
        """Finished trials (all, or those of `ids` that are finished), in order of id. A file that
        passed the finished check but fails to load whole is left out (and set aside, unless read-only)."""
        ids = sorted(self.finished_ids() if ids is None else set(ids) & self.finished_ids())
        out = []
        for i in ids:
            try:
                out.append(self.read_trial(i))
            except DamagedTrial as e:
                self._damaged(self.trials_dir / f"{i}.npz", str(e).split(": ", 1)[-1])
        return out
