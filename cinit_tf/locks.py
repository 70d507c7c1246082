"""One way to take turns: an exclusive lock on a file (fcntl.flock), used by the report writers and the runner.

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
                        raise LockTimeout(f"{path}: another process (pid {holder}) holds the lock") from None
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
