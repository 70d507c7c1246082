"""Train one experiment: its unfinished trials of a shard, stored as they finish, then its tables and report.

The command line (cinit_tf.run) parses and delegates here; tests and tools call `run_experiment` directly.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from cinit_tf.config import PROFILES
from cinit_tf.locks import held
from cinit_tf.progress import Progress


class ReportFailed(Exception):
    """Generating a report failed (ReportError, or an OSError while writing it); the trials are kept."""


@dataclass
class RunSummary:
    planned: int  # trials of the whole experiment
    in_shard: int
    skipped: int  # already finished before this run
    trained: int
    run_dir: Path
    report_dir: Path | None
    kept_report: Path | None = None  # a published report this run did not replace


def in_shard(trial_id: str, shard: tuple[int, int]) -> bool:
    # By id, not by position: a shard keeps its trials whatever order the plan lists them in.
    return int(trial_id, 16) % shard[1] == shard[0]


def initial_trial(plan, store=None):
    """The engine's Trial for a planned trial, with its transformed initial embedding, and what the
    transform chose (stored with the trial, so that studies never replay its random draws).

    A second-stage trial (plan.source) keeps frequencies by the final signals of its source trial,
    read from `store`."""
    from cinit_tf.transforms import apply_transform
    from cinit_tf.trial import Shape, Trial, initial_embedding

    seeds = plan.settings["seeds"]
    task = plan.task()
    shape = Shape(p=task.p, d=plan.settings["train"]["d"], width=plan.settings["train"]["width"], classes=task.classes)
    source_final = None if plan.source is None else store.read_trial(plan.source).result.fourier_norms[-1]
    E, chosen = apply_transform(plan.settings["transform"], initial_embedding(shape, seeds["embedding"]), seeds["embedding"],
                                source_final=source_final)
    return Trial(seeds["embedding"], seeds["mlp"], seeds["split"], initial_embedding=E), chosen


def published_profile(report_dir: Path) -> str | None:
    """The profile of the report already in `report_dir` (its summary.json), None if there is none."""
    try:
        profile = json.loads((report_dir / "summary.json").read_text()).get("profile")
    except (OSError, ValueError, AttributeError):
        return None
    return profile if profile in PROFILES else None


def report_destination(experiment, run_dir: Path, reports: Path, explicit: bool, replace: bool) -> tuple[Path, Path | None]:
    """(folder to generate the report into, the published report kept instead of replaced, or None).

    A smoke run without an explicit --reports keeps its report beside its run; no run replaces a
    report made at a larger profile (smoke < cpu < paper) unless --replace-report is given.
    """
    local = run_dir / "report"
    if experiment.profile == "smoke" and not explicit:
        return local, None
    existing = published_profile(reports / experiment.name)
    if not replace and existing is not None and PROFILES.index(existing) > PROFILES.index(experiment.profile):
        return local, reports / experiment.name
    return reports, None


def run_experiment(experiment, out="runs", reports="reports", shard=(0, 1), progress=True, make_report=True,
                   reports_explicit=True, replace_report=False, verbose=False) -> RunSummary:
    """Train the experiment's unfinished trials of this shard, then report if all are finished.

    `verbose`: a study that fails while reporting raises its own exception (the whole traceback, for
    whoever fixes the study) instead of ReportFailed's one line.
    """
    from cinit_tf.store import Store
    from cinit_tf.tensorboard import TensorBoardLog
    from cinit_tf.training import auto_group_size, make_strategy, train_population, trainer_key

    store = Store(Path(out) / experiment.name)
    plans = experiment.trials()
    mine = {p.id for p in plans if in_shard(p.id, shard)}
    finished = store.finished_ids()
    pending = mine - finished
    # A second stage needs its source trial's final signals: train the source here unless it is
    # finished (by this shard or another), so that no shard waits on one that may never come.
    pending |= {p.source for p in plans if p.id in pending and p.source and p.source not in finished}
    if shard[1] > 1 and (store.root / "config.json").exists():
        earlier = set(store.read_config().get("trial_ids", []))
        if earlier != {p.id for p in plans}:
            # Shards of one experiment must plan the same trials; a different profile or --set does not.
            print(f"warning: {store.root} was last run with other settings (profile or --set); "
                  "shards filling one folder should share them", file=sys.stderr)
    store.write_config({**experiment.record(trial_ids=[p.id for p in plans]),
                        "environments": environments(store, experiment.run["strategy"], bool(pending))})
    strategy = make_strategy(experiment.run["strategy"])
    tensorboard = TensorBoardLog(store.tensorboard_dir, plans, experiment.run["tensorboard_members"])

    total = experiment.steps(pending)
    bar = Progress(total, experiment.name, progress)
    trained = [0]
    try:
        # Populations of second-stage trials come after every first-stage one.
        for population in sorted(experiment.populations(), key=lambda pop: pop[0].source is not None):
            todo = [p for p in population if p.id in pending]
            if not todo:
                continue
            built = [initial_trial(p, store) for p in todo]
            task, config = todo[0].task(), todo[0].train_config(experiment.run)
            shape = trainer_key(task, config, auto_group_size(task, config, len(todo)), strategy)

            bar.population_start(shape)

            def on_start(index, slot, todo=todo):
                tensorboard.start(slot, todo[index])
                bar.slot_start(slot)

            def on_measure(steps, measurements):
                tensorboard.log(steps, measurements)
                bar.measure(steps)

            def on_done(index, result, todo=todo, built=built, cap=config.steps):
                plan = todo[index]
                tensorboard.finish(plan)
                store.write_trial(plan.id, plan.settings, result, built[index][1])
                trained[0] += 1
                bar.trial_done(cap - int(result.stop_step), f"{len(finished & mine) + trained[0]}/{len(mine)}")

            train_population(task, config, [t for t, _ in built], strategy=strategy,
                             on_start=on_start, on_measure=on_measure, on_done=on_done)
    finally:
        bar.close()

    report_dir, kept = _tables_and_report(experiment, store, plans, trained[0] > 0, reports if make_report else None,
                                          reports_explicit, replace_report, verbose)
    return RunSummary(len(plans), len(mine), len(mine) - len(pending), trained[0], store.root, report_dir, kept)


def environments(store, strategy: str, training: bool) -> list[dict]:
    """The environments this run folder's trials were trained in: the earlier ones, and this one if it trains anything."""
    from cinit_tf.environment import environment
    from cinit_tf.memory import training_device

    earlier = []
    if (store.root / "config.json").exists():
        earlier = list(store.read_config().get("environments") or [])
    if training:
        here = environment(training_device().kind, strategy)
        if here not in earlier:
            earlier.append(here)
    return earlier


def _tables_and_report(experiment, store, plans, trained: bool, reports, reports_explicit: bool, replace_report: bool,
                       verbose: bool) -> tuple[Path | None, Path | None]:
    """Rewrite the run's tables if anything was trained, and its report (`reports` not None) once every trial is finished.

    One process at a time does this for a run folder (shards finishing together). Returns (report folder, kept report).
    """
    report_dir = kept = None
    with held(store.root / ".report.lock"):
        if trained or not (store.root / "trials.csv").exists():
            from cinit_tf.results import write_tables

            write_tables(store.root)  # trials.csv (and frequencies.csv) of every finished trial, for pandas
        if reports is not None and {p.id for p in plans} <= store.finished_ids():
            from cinit_tf.report import ReportError, generate_report

            target, kept = report_destination(experiment, store.root, Path(reports), reports_explicit, replace_report)
            try:
                report_dir = generate_report(store.root, target)
            except (ReportError, OSError) as e:
                raise ReportFailed(f"{type(e).__name__}: {e}") from e
            except Exception as e:
                if verbose:
                    raise
                raise ReportFailed(f"{type(e).__name__} in study {experiment.study}: {e}; --verbose shows the traceback") from e
    return report_dir, kept
