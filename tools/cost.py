"""Cost of every experiment in model-steps (optimizer steps summed over its trials), per profile.

    python tools/cost.py [experiments/*.toml]        # a Markdown table; no TensorFlow, no training

A model-step is one optimizer step of one trial: what the runner's progress bar counts. Dividing by
a measured rate (model-steps per second on your hardware, e.g. from the progress bar of a cpu run)
sizes a run or a job array (docs/cluster.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cinit_tf.config import PROFILES, ConfigError, load_experiment  # noqa: E402


def human(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def costs(path) -> dict:
    """{profile: (trials, model-steps)} of one experiment file."""
    out = {}
    for profile in PROFILES:
        experiment = load_experiment(path, profile=profile)
        out[profile] = (len(experiment.trials()), experiment.steps())
    return out


def main(argv=None) -> int:
    files = (argv if argv is not None else sys.argv[1:]) or sorted(str(p) for p in Path("experiments").glob("*.toml"))
    print("| experiment | " + " | ".join(f"{p} trials | {p} model-steps" for p in PROFILES) + " |")
    print("|---|" + "---:|" * (2 * len(PROFILES)))
    totals = {p: [0, 0] for p in PROFILES}
    for file in files:
        try:
            found = costs(file)
        except ConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        cells = []
        for p in PROFILES:
            trials, steps = found[p]
            totals[p][0] += trials
            totals[p][1] += steps
            cells += [str(trials), human(steps)]
        print(f"| {Path(file).stem} | " + " | ".join(cells) + " |")
    print("| **all** | " + " | ".join(f"{t} | {human(s)}" for t, s in totals.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
