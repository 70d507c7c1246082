"""An experiment run in a child process, as a user runs it, stopped by a signal once it has stored its
first trial: what the tests of interrupted runs share."""

import signal
import subprocess
import sys
import time
from pathlib import Path


def run_args(exp: Path, out: Path) -> list[str]:
    """The command line of a quiet run of `exp` into `out`, without a report."""
    return [
        sys.executable,
        "-m",
        "cinit_tf.run",
        str(exp),
        "--out",
        str(out),
        "--no-report",
        "--quiet",
    ]


def stop_after_first_trial(args, trials: Path, sig=signal.SIGTERM, poll: float = 0.05):
    """Start `args`, send `sig` once `trials` holds a stored trial (or after 240 s), and return
    (the process, its stdout, its stderr) when it has exited."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not list(trials.glob("*.npz")):
        time.sleep(poll)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    return proc, stdout, stderr
