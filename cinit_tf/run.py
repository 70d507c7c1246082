"""Run an experiment file: `python -m cinit_tf.run experiments/X.toml [options]`.

Trials of equal shape are trained together as populations; each finished trial is written to
`runs/<name>/trials/<id>.npz` at once, so a killed run loses only the trials in flight and a rerun
of the same command finishes the rest. When every trial of the experiment is present the report
is generated (`reports/<name>/`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from cinit_tf.config import ConfigError, load_experiment  # noqa: E402


@dataclass
class RunSummary:
    planned: int  # trials of the whole experiment
    in_shard: int
    skipped: int  # already finished before this run
    trained: int
    run_dir: Path
    report_dir: Path | None


def parse_shard(text: str | None) -> tuple[int, int]:
    """'i/n' with 0 <= i < n: this process runs the trials whose id falls in share i of n."""
    if text is None:
        return (0, 1)
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard {text}: expected i/n with whole numbers, e.g. 0/4") from None
    if not (n >= 1 and 0 <= i < n):
        raise ConfigError(f"--shard {text}: expected 0 <= i < n")
    return (i, n)


def in_shard(trial_id: str, shard: tuple[int, int]) -> bool:
    # By id, not by position: a shard keeps its trials whatever order the plan lists them in.
    return int(trial_id, 16) % shard[1] == shard[0]


def initial_trial(plan):
    """The engine's Trial for a planned trial, with its transformed initial embedding, and what the
    transform chose (stored with the trial, so that studies never replay its random draws)."""
    from cinit_tf.transforms import apply_transform
    from cinit_tf.trial import Shape, Trial, initial_embedding

    seeds = plan.settings["seeds"]
    task = plan.task()
    shape = Shape(p=task.p, d=plan.settings["train"]["d"], width=plan.settings["train"]["width"], classes=task.classes)
    E, chosen = apply_transform(plan.settings["transform"], initial_embedding(shape, seeds["embedding"]), seeds["embedding"])
    return Trial(seeds["embedding"], seeds["mlp"], seeds["split"], initial_embedding=E), chosen


class TensorBoardLog:
    """Curves for a few chosen trials: loss and accuracy, and one curve per Fourier frequency (Fig. 3a)."""

    def __init__(self, root: Path, chosen: list):
        self.root, self.labels = root, {p.id: self._label(i, p) for i, p in enumerate(chosen)}
        self.writers: dict = {}

    @staticmethod
    def _label(i: int, plan) -> str:
        grid = ",".join(f"{k.split('.')[-1]}={v}" for k, v in plan.settings["grid"].items())
        case = plan.settings["case"]
        return "_".join(x for x in (f"{i:02d}", case, grid, plan.id[:8]) if x)

    def start(self, chunk: list) -> None:
        from cinit_tf.framework import tf

        self.writers = {}
        for member, plan in enumerate(chunk):
            if plan.id in self.labels:
                folder = self.root / self.labels[plan.id]
                shutil.rmtree(folder, ignore_errors=True)  # a rerun trial starts its curves afresh
                self.writers[member] = tf.summary.create_file_writer(str(folder))

    def log(self, step: int, measurements: dict) -> None:
        from cinit_tf.framework import tf

        for member, writer in self.writers.items():
            with writer.as_default(step=step):
                for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
                    split, what = key.split("_")
                    tf.summary.scalar(f"{what}/{split}", float(measurements[key][member]))
                if "fourier_norms" in measurements:
                    for k, value in enumerate(measurements["fourier_norms"][member], start=1):
                        tf.summary.scalar(f"fourier_norm/k{k:03d}", float(value))

    def finish(self) -> None:
        for writer in self.writers.values():
            writer.flush()
            writer.close()
        self.writers = {}


def run_experiment(experiment, out="runs", reports="reports", shard=(0, 1), progress=True, make_report=True) -> RunSummary:
    """Train the experiment's unfinished trials of this shard, then report if all are finished."""
    from tqdm import tqdm

    from cinit_tf.store import Store
    from cinit_tf.training import make_strategy, train_population

    store = Store(Path(out) / experiment.name)
    plans = experiment.trials()
    mine = {p.id for p in plans if in_shard(p.id, shard)}
    finished = store.finished_ids()
    pending = mine - finished
    if shard[1] > 1 and (store.root / "config.json").exists():
        earlier = set(store.read_config().get("trial_ids", []))
        if earlier != {p.id for p in plans}:
            # Shards of one experiment must plan the same trials; a different profile or --set does not.
            print(f"warning: {store.root} was last run with other settings (profile or --set); "
                  "shards filling one folder should share them", file=sys.stderr)
    store.write_config(experiment.record(trial_ids=[p.id for p in plans]))
    strategy = make_strategy(experiment.run["strategy"])
    tensorboard = TensorBoardLog(store.tensorboard_dir, plans[: experiment.run["tensorboard_members"]])

    total = sum(p.settings["train"]["steps"] for p in plans if p.id in pending)
    bar = tqdm(total=total, unit="model-step", unit_scale=True, disable=not progress or total == 0, desc=experiment.name, dynamic_ncols=True)
    trained = [0]
    for population in experiment.populations():
        todo = [p for p in population if p.id in pending]
        if not todo:
            continue
        built = [initial_trial(p) for p in todo]
        last = [0, 0]  # the group's last measured step, and its size

        def on_group_start(first, count, todo=todo):
            tensorboard.start(todo[first : first + count])
            last[:] = [0, count]

        def on_measure(step, measurements):
            tensorboard.log(step, measurements)
            bar.update((step - last[0]) * last[1])
            last[0] = step

        def on_group_done(first, results, todo=todo, built=built):
            tensorboard.finish()
            for plan, (_, chosen), result in zip(todo[first:], built[first:], results):
                store.write_trial(plan.id, plan.settings, result, chosen)
            trained[0] += len(results)
            bar.set_postfix(trials=f"{len(finished & mine) + trained[0]}/{len(mine)}")

        train_population(
            todo[0].task(), todo[0].train_config(experiment.run), [t for t, _ in built], strategy=strategy,
            on_group_start=on_group_start, on_measure=on_measure, on_group_done=on_group_done,
        )
    bar.close()
    if trained[0] or not (store.root / "trials.csv").exists():
        from cinit_tf.results import write_tables

        write_tables(store.root)  # trials.csv (and frequencies.csv) of every finished trial, for pandas

    report_dir = None
    if make_report and {p.id for p in plans} <= store.finished_ids():
        from cinit_tf.report import generate_report

        report_dir = generate_report(store.root, reports)
    return RunSummary(len(plans), len(mine), len(mine) - len(pending), trained[0], store.root, report_dir)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cinit_tf.run", description="Run an experiment file and write its results and report.")
    ap.add_argument("file", help="experiment file (TOML), e.g. experiments/freeze_embedding.toml")
    ap.add_argument("--profile", help="smoke | cpu | paper (default: the file's default profile)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a setting, e.g. --set train.steps=500 (repeatable)")
    ap.add_argument("--shard", help="i/n: run only share i (0-based) of n; n processes fill one results folder")
    ap.add_argument("--out", default="runs", help="folder of run folders (default: runs)")
    ap.add_argument("--reports", default="reports", help="folder of reports (default: reports)")
    ap.add_argument("--strategy", choices=["default", "mirrored"], help="tf.distribute strategy (overrides run.strategy)")
    ap.add_argument("--no-report", action="store_true", help="do not generate the report at the end")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--verbose", action="store_true", help="show TensorFlow's own start-up and log lines")
    args = ap.parse_args(argv)
    if args.verbose:
        os.environ["CINIT_TF_VERBOSE"] = "1"  # read when the engine first imports TensorFlow
    overrides = list(args.overrides) + ([f'run.strategy="{args.strategy}"'] if args.strategy else [])
    try:
        experiment = load_experiment(args.file, profile=args.profile, overrides=overrides)
        shard = parse_shard(args.shard)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = run_experiment(experiment, out=args.out, reports=args.reports, shard=shard, progress=not args.quiet, make_report=not args.no_report)
    print(
        f"{experiment.name} [{experiment.profile}]: {summary.trained} trained, {summary.skipped} already finished, "
        f"{summary.in_shard} in this shard of {summary.planned}; results in {summary.run_dir}"
        + (f"; report in {summary.report_dir}" if summary.report_dir else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
