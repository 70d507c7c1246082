"""One way to take turns: an exclusive lock on a file (fcntl.flock), used by the report writers and the
runner; and per-trial claims (`Claims`), so that processes filling one run folder at once train each
trial once.

The kernel releases the lock when its holder exits, however it exits, so a writer killed mid-report
leaves no lock that anyone must judge stale. The holder removes the file when it is done; a waiter
that then wins the lock on the removed file sees that the path no longer names it and starts over, so
two processes never hold "the" lock at once. The file holds the holder's pid so that an error can name it.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path


class LockTimeout(Exception):
    """Another process held the lock for longer than the caller was willing to wait."""


def _acquire(path: Path, deadline: float | None, poll: float):
    while True:
        f = open(path, "a+")
        try:
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        f.seek(0)
                        holder = f.read().strip() or "unknown"
                        raise LockTimeout(
                            f"{path}: another process (pid {holder}) holds the lock"
                        ) from None
                    time.sleep(poll)
            try:
                same = os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return f
        except BaseException:
            f.close()
            raise
        f.close()  # the holder removed the file while this one waited: lock the path's new file


@contextmanager
def held(path: str | os.PathLike, wait: float | None = None, poll: float = 0.05):
    """Hold the exclusive lock of `path` (created if missing, removed after) for the `with` block.

    `wait` None waits as long as it takes; otherwise LockTimeout after `wait` seconds, naming the holder's pid.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    f = _acquire(path, None if wait is None else time.monotonic() + wait, poll)
    try:
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        yield
    finally:
        try:
            path.unlink()
        except OSError:
            pass
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


class Claims:
    """Which process trains which trial, among processes filling one run folder at once (shards, or the same
    command started twice): a claim is a POSIX record lock on one byte of one file, at an offset read from
    the trial's id, so one open file holds any number of claims and the kernel drops them all when their
    holder exits, however it exits. A claim is only ever tried, never waited on in the kernel: a process
    that finds a trial claimed trains the others and looks again later (`take`), so none can deadlock.

    The file is never removed (a waiter could otherwise lock a removed file while a newcomer locks a new
    one). POSIX record locks do not exclude each other within one process, and closing any descriptor of
    the file drops them: only this class opens it, once per run.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a+b")
        self.held: set[str] = set()

    @staticmethod
    def _offset(trial_id: str) -> int:
        return int(
            trial_id[:15], 16
        )  # 60 bits: a valid file offset, distinct for distinct ids in practice

    def take(self, ids) -> set[str]:
        """Claim what can be claimed now of `ids` (those another process holds are left); returns them."""
        got = set()
        for trial_id in sorted(ids):
            if trial_id in self.held:
                got.add(trial_id)
                continue
            try:
                fcntl.lockf(self._f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, self._offset(trial_id))
            except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: another process holds it
                continue
            self.held.add(trial_id)
            got.add(trial_id)
        return got

    def release(self, ids) -> None:
        for trial_id in sorted(set(ids) & self.held):
            fcntl.lockf(self._f, fcntl.LOCK_UN, 1, self._offset(trial_id))
            self.held.discard(trial_id)

    def close(self) -> None:
        self.held.clear()
        self._f.close()  # drops every claim of this process on the file

    def __enter__(self) -> Claims:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
