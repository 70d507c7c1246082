"""One command's training of one run folder, a sitting, recorded in the folder as it goes: the measured
training time a report sums over the sittings that trained its run (runs/<name>/sittings/)."""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid


class Sitting:
    """One command's training of one run folder, recorded in the folder (runs/<name>/sittings/<start>-<host>-<pid>-
    <random>.json) as each trial is stored and when the command ends, however it ends: so a run's training time
    is measured from its folder, summed over the sittings that trained it, not pieced together from logs.

    Its seconds are the wall time up to its last record, less the time it waited for trials other processes
    were training; a sitting killed outright (SIGKILL, a machine that stops) keeps its record up to its last
    stored trial, and the work it lost after it is not counted. A sitting that stored no trial writes nothing.
    """

    def __init__(self, store, profile: str, shard: tuple[int, int], trial_ids, env: dict):
        """`env` is the environment the command trains in (cinit_tf.environment.environment's record)."""
        from cinit_tf.store import plan_fingerprint

        self.store, self.profile, self.shard = store, profile, shard
        self.plan = plan_fingerprint(trial_ids)
        self.started_wall, self.started = time.time(), time.monotonic()
        self.waited = 0.0  # seconds spent waiting for other processes' trials
        self.completed = False
        self.steps: dict[str, int] = {}  # {trial id: steps it trained} of the trials stored here
        self.env = env
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.started_wall))
        self.name = f"{stamp}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._warned = False

    def stored(self, trial_id: str, steps: int) -> None:
        self.steps[trial_id] = steps
        self.record()

    def entry(self) -> dict:
        return {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started_wall)),
            "seconds": round(max(0.0, time.monotonic() - self.started - self.waited), 1),
            "waited_seconds": round(self.waited, 1),
            "trials": len(self.steps),
            "model_steps": int(sum(self.steps.values())),
            "stored": dict(sorted(self.steps.items())),
            "plan": self.plan,
            "completed": self.completed,
            "profile": self.profile,
            "shard": f"{self.shard[0]}/{self.shard[1]}",
            "cpu": self.env.get("cpu"),
            "threads": self.env.get("threads"),
            "device": self.env.get("device"),
            "commit": self.env.get("commit"),
        }

    def record(self) -> None:
        """Write the sitting's record as it stands (nothing before its first stored trial); a failure to write it
        is said once and never fails the run."""
        if not self.steps:
            return
        try:
            self.store.record_sitting(self.name, self.entry())
        except Exception as e:  # never in the way of the run's own outcome or exception
            if not self._warned:
                self._warned = True
                print(
                    f"warning: {self.store.sittings_dir}: the sitting's training time is not recorded ({e})",
                    file=sys.stderr,
                    flush=True,
                )
