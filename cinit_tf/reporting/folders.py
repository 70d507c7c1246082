"""Where a report is written and how it replaces the one there: a folder inside the reports folder
named safely, one writer at a time (a lock file), a report made at a larger profile kept unless
replacing it is asked for, and the new report swapped in whole."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from cinit_tf.experiment.schema import PROFILES, safe_name

LOCK_WAIT_SECONDS = 900.0  # how long a writer waits for another writer of the same report


class ReportError(Exception):
    """A run folder that cannot be reported on; the message names the folder and what is wrong."""


class ReportKept(ReportError):
    """A report made at a larger profile is in the way, and replacing it was not asked for."""


# ---------------------------------------------------------------- loading


def check_name(name, where) -> str:
    """The run's name as a report folder name: letters, digits, `_`, `.`, `-`, not starting with a dot, no `..`."""
    if not safe_name(name):
        raise ReportError(
            f"{where}: name {name!r} is not a safe folder name (letters, digits, '_', '.', '-'; "
            "no leading dot, no '..')"
        )
    return name


def published_profile(report_dir: Path) -> str | None:
    """The profile of the report already in `report_dir` (its summary.json), None if there is none."""
    path = Path(report_dir) / "summary.json"
    if not path.is_file():  # also a FIFO, which a read would wait on
        return None
    try:
        profile = json.loads(path.read_text(encoding="utf-8")).get("profile")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return profile if profile in PROFILES else None


def check_replace(out_dir: Path, record: dict, run_dir, replace: bool) -> None:
    """ReportKept unless this run's report may replace the one in `out_dir`: there is none, `replace` is
    given, or it was made at a profile no larger than this run's (smoke < cpu < paper)."""
    existing = published_profile(out_dir)
    if replace or existing is None:
        return
    mine = record.get("profile")
    if mine in PROFILES and PROFILES.index(existing) <= PROFILES.index(mine):
        return
    shown = f"profile {mine}" if mine in PROFILES else "an unknown profile"
    raise ReportKept(
        f"{out_dir} holds a report made at profile {existing}, and the run {run_dir} is at {shown}, "
        f"which ranks below it (smoke < cpu < paper); the published report and the index are left "
        f"as they are. Give --replace-report to replace it, or --reports DIR to write this report "
        f"into another folder."
    )


def report_folder(reports_dir: str | os.PathLike, name: str) -> Path:
    """reports_dir/name, refused unless it resolves inside reports_dir."""
    root = Path(reports_dir).resolve()
    target = (root / check_name(name, "report")).resolve()
    if target.parent != root:
        raise ReportError(f"report folder {target} would lie outside {root}")
    return target


@contextmanager
def report_lock(reports_dir: Path, name: str, wait: float = LOCK_WAIT_SECONDS):
    """Serialise writers of reports_dir/name through the lock file `.name.lock` (cinit_tf.locks).

    A writer killed mid-report releases it with its process; a live holder is waited for, up to `wait`
    seconds (ReportError after that).
    """
    from cinit_tf.locks import LockTimeout, held

    try:
        with held(Path(reports_dir) / f".{name}.lock", wait=wait):
            yield
    except LockTimeout as e:
        raise ReportError(f"{e} (another report writer)") from None


def swap_in(new: Path, target: Path) -> None:
    """Replace folder `target` by folder `new` (same parent): old renamed away, new renamed in, old deleted."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
    os.rename(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def merge_in(new: Path, target: Path) -> None:
    """Move the report files of folder `new` into `target`, a folder that holds more than a report (the run folder
    itself, when --out and --reports are one folder): figures first, the README last, then the figures the new
    README no longer shows are deleted; the run's own files are never touched."""
    files = sorted(
        new.iterdir(), key=lambda f: (f.name == "README.md", f.name == "summary.json", f.name)
    )
    for f in files:
        os.replace(f, target / f.name)
    kept = {f.name for f in files}
    for old in target.glob("*.png"):
        if old.name not in kept:
            old.unlink()
    new.rmdir()
