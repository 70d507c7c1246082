"""Cost of every experiment in model-steps (optimizer steps summed over its trials), per profile.

    python tools/cost.py [experiments/*.toml]            # a Markdown table; no TensorFlow, no training
    python tools/cost.py --check [experiments/*.toml]    # declared runtimes against model-steps / measured rate
                                                         # (≥: a lower bound, for files whose cpu runs stop when settled)

A model-step is one optimizer step of one trial: what the runner's progress bar counts. Dividing by
a measured rate (model-steps per second on your hardware, e.g. from the progress bar of a cpu run)
sizes a run or a job array (docs/cluster.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cinit_tf.experiment.config import PROFILES, ConfigError, load_experiment  # noqa: E402
from cinit_tf.experiment.schema import runtime_seconds  # noqa: E402

TOLERANCE = 2.0  # a declared runtime may differ from the computed one by this factor either way


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


def runtime_check(path) -> dict:
    """The file's `paper` runtime computed from its `cpu` one: {"rate", "computed", "declared", "ok"}, or {} without training.

    The cpu runtime is measured (its file says how), so cpu model-steps / cpu seconds is this file's own rate on
    the reference machine, compilation and recording included; the paper profile trains the same shapes longer or
    with more seeds, so paper model-steps / that rate is what its runtime should be on that machine. When the cpu
    trials train until settled, their caps overcount what they trained: the rate is then an upper bound, the
    computed runtime a lower bound, and the declared one need only not fall below it (by more than TOLERANCE).
    """
    cpu, paper = load_experiment(path, profile="cpu"), load_experiment(path, profile="paper")
    cpu_steps, paper_steps = cpu.steps(), paper.steps()
    cpu_s, paper_s = (
        runtime_seconds(cpu.runtime.get("cpu", "")),
        runtime_seconds(paper.runtime.get("paper", "")),
    )
    if not cpu_steps or not cpu_s or paper_s is None:
        return {}
    rate = cpu_steps / cpu_s
    computed = paper_steps / rate
    # Trials that stop when settled train fewer model-steps than their caps count, so the rate read off the
    # caps is an upper bound and the computed paper runtime a lower bound.
    settling = any(t.settings["train"].get("until", "steps") != "steps" for t in cpu.trials())
    ok = computed / TOLERANCE <= paper_s and (settling or paper_s <= computed * TOLERANCE)
    return {
        "rate": rate,
        "computed": computed,
        "declared": paper_s,
        "ok": ok,
        "lower_bound": settling,
    }


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2g} h" if seconds >= 3600 else f"{seconds / 60:.2g} min"


def check(files) -> int:
    print(
        "| experiment | cpu rate (model-steps/s) | paper: computed | paper: declared | within ×2 |"
    )
    print("|---|---:|---:|---:|---|")
    bad = 0
    for file in files:
        c = runtime_check(file)
        if not c:
            print(f"| {Path(file).stem} | – | – | – | no training |")
            continue
        bad += not c["ok"]
        bound = "≤ " if c["lower_bound"] else ""
        print(
            f"| {Path(file).stem} | {bound}{c['rate']:.0f} | {'≥ ' if bound else ''}{_hours(c['computed'])} | "
            f"{_hours(c['declared'])} | {'yes' if c['ok'] else 'NO'} |"
        )
    return 1 if bad else 0


def main(argv=None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    checking = "--check" in args
    args = [a for a in args if a != "--check"]
    files = args or sorted(str(p) for p in Path("experiments").glob("*.toml"))
    if checking:
        try:
            return check(files)
        except ConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
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
