"""Train one experiment: its unfinished trials of a shard, stored as they finish, then its tables and report.

The command line (cinit_tf.run) parses and delegates here; tests and tools call `run_experiment` directly.

Processes filling one run folder at once (shards started together, or one command started twice) take
turns per trial through claims (cinit_tf.locks.Claims): a process trains only the trials it has claimed,
so every trial is trained once. A source trial that two shards' second stages need is trained by the
first to claim it; the other trains what else it can, then waits for it and reads it from the store. A
claim dies with its process, so a trial whose trainer was killed is trained by the next that looks.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cinit_tf.experiment.schema import PROFILES
from cinit_tf.locks import Claims, held
from cinit_tf.progress import Progress
from cinit_tf.reporting.folders import published_profile
from cinit_tf.sittings import Sitting

WAIT_POLL_SECONDS = 0.5  # how often a process waiting for trials another process trains looks again


class ReportFailed(Exception):
    """Generating a report failed (ReportError, or an OSError while writing it); the trials are kept."""


@dataclass
class RunSummary:
    planned: int  # trials of the whole experiment
    in_shard: int  # trials of this shard: skipped + trained + by_others once the run has finished
    skipped: int  # of this shard, already finished before this run
    trained: int  # of this shard, trained by this run
    run_dir: Path
    report_dir: Path | None
    kept_report: Path | None = None  # a published report this run did not replace
    by_others: int = 0  # of this shard, trained by another process while this run went on
    sources: int = (
        0  # trials of other shards this run trained: sources its second-stage trials needed
    )
    other_settings: int = (
        0  # trial files in the folder of other settings, left out of the tables and report
    )


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
    shape = Shape(
        p=task.p,
        d=plan.settings["train"]["d"],
        width=plan.settings["train"]["width"],
        classes=task.classes,
    )
    source_final = (
        None if plan.source is None else store.read_trial(plan.source).result.fourier_norms[-1]
    )
    E, chosen = apply_transform(
        plan.settings["transform"],
        initial_embedding(shape, seeds["embedding"]),
        seeds["embedding"],
        source_final=source_final,
    )
    return Trial(seeds["embedding"], seeds["mlp"], seeds["split"], initial_embedding=E), chosen


def report_destination(
    experiment, run_dir: Path, reports: Path, explicit: bool, replace: bool
) -> tuple[Path, Path | None]:
    """(folder to generate the report into, the published report kept instead of replaced, or None).

    A smoke run without an explicit --reports keeps its report beside its run; no run replaces a
    report made at a larger profile (smoke < cpu < paper) unless --replace-report is given.
    """
    local = run_dir / "report"
    if experiment.profile == "smoke" and not explicit:
        return local, None
    existing = published_profile(reports / experiment.name)
    if (
        not replace
        and existing is not None
        and PROFILES.index(existing) > PROFILES.index(experiment.profile)
    ):
        return local, reports / experiment.name
    return reports, None


def needed(plans, mine: set, finished: set) -> set:
    """What a shard still has to see trained: its unfinished trials, and the unfinished sources of its
    unfinished second-stage trials (which may belong to another shard)."""
    by_id = {p.id: p for p in plans}
    sources = {by_id[i].source for i in mine - finished if by_id[i].source}
    return (mine | sources) - finished


def _warn_other_settings(store, planned: set, finished: set, shard) -> int:
    """Say when the run folder was last run with other settings, or holds trials of other settings (an
    earlier profile or --set); returns how many trial files of other settings it holds."""
    if store.has_config():
        earlier = set(store.read_config().get("trial_ids", []))
        if shard[1] > 1 and earlier != planned:
            # Shards of one experiment must plan the same trials; a different profile or --set does not.
            print(
                f"warning: {store.root} was last run with other settings (profile or --set); "
                "shards filling one folder should share them",
                file=sys.stderr,
            )
    others = len(finished - planned)
    if others:
        print(
            f"note: {store.root} holds {others} trial file(s) of other settings (an earlier run with "
            "another profile or --set); they stay in trials/ but are left out of trials.csv, results.load "
            "and the report",
            file=sys.stderr,
        )
    return others


def run_experiment(
    experiment,
    out="runs",
    reports="reports",
    shard=(0, 1),
    progress=True,
    make_report=True,
    reports_explicit=True,
    replace_report=False,
    verbose=False,
) -> RunSummary:
    """Train the experiment's unfinished trials of this shard, then report if all are finished.

    `verbose`: a study that fails while reporting raises its own exception (the whole traceback, for
    whoever fixes the study) instead of ReportFailed's one line.
    """
    from cinit_tf.store import Store
    from cinit_tf.tensorboard import TensorBoardLog
    from cinit_tf.training import make_strategy

    store = Store(Path(out) / experiment.name)
    plans = experiment.trials()
    planned = {p.id for p in plans}
    mine = {p.id for p in plans if in_shard(p.id, shard)}
    finished = store.finished_ids()
    before = finished & mine
    pending = needed(plans, mine, finished)
    others = _warn_other_settings(store, planned, finished, shard)
    here = _here(experiment.run["strategy"]) if pending else None
    store.write_config(
        {
            **experiment.record(trial_ids=[p.id for p in plans]),
            "environments": environments(store, here),
        }
    )
    trained: set = set()
    if pending:
        strategy = make_strategy(experiment.run["strategy"])
        tensorboard = TensorBoardLog(
            store.tensorboard_dir, plans, experiment.run["tensorboard_members"]
        )
        bar = Progress(experiment.steps(pending), experiment.name, progress)
        sitting = Sitting(store, experiment.profile, shard, planned, here)
        try:
            with Claims(store.claims_path) as claims:
                shared = (experiment, store, plans, mine, claims, strategy, tensorboard, bar)
                _train_claimed(_Training(*shared, sitting, trained), pending)
            sitting.completed = True
        finally:
            bar.close()
            sitting.record()
    by_others = len((mine & store.finished_ids()) - before - trained)
    report_dir, kept = _tables_and_report(
        experiment,
        store,
        plans,
        bool(trained),
        reports if make_report else None,
        reports_explicit,
        replace_report,
        verbose,
    )
    return RunSummary(
        len(plans),
        len(mine),
        len(before),
        len(trained & mine),
        store.root,
        report_dir,
        kept,
        by_others=by_others,
        sources=len(trained - mine),
        other_settings=others,
    )


@dataclass
class _Training:
    """What the training rounds of one command share: the experiment, its folder and plans, this shard's trial
    ids, the claims, the engine's strategy, the curves, the progress bar, the sitting's record and the ids of
    the trials stored here."""

    experiment: object
    store: object
    plans: list
    mine: set
    claims: object
    strategy: object
    tensorboard: object
    bar: object
    sitting: object
    trained: set


def _train_claimed(t: _Training, counted) -> None:
    """Train, round after round, what this shard needs and can claim; wait while others hold the rest.

    A second-stage trial is claimed only once the sources of every trial of its population here are finished.
    `t.trained` collects the ids trained here; `counted` is what the bar's total counts (trials finished
    elsewhere leave it).
    """
    experiment, store, plans, mine = t.experiment, t.store, t.plans, t.mine
    claims, bar, trained = t.claims, t.bar, t.trained
    by_id = {p.id: p for p in plans}
    pop_of = {p.id: k for k, population in enumerate(experiment.populations()) for p in population}
    counted = set(counted)
    waiting_said = False
    while True:
        finished = store.finished_ids()
        todo = needed(plans, mine, finished)
        gone, new = counted - todo - trained, todo - counted
        bar.add(
            experiment.steps(new) - experiment.steps(gone)
        )  # finished elsewhere, or newly needed
        counted = (counted - gone) | new
        if not todo:
            return
        # A second-stage trial waits until every source of its population's trials here is finished, so that its
        # population trains whole, in the group size and slots of an uninterrupted run (cinit_tf.slots), also
        # when a killed run had stored some sources and not others.
        blocked = {
            pop_of[i]
            for i in todo
            if by_id[i].source is not None and by_id[i].source not in finished
        }
        ready = {
            i
            for i in todo
            if by_id[i].source is None or (by_id[i].source in finished and pop_of[i] not in blocked)
        }
        got = claims.take(ready)
        late = (
            got & store.finished_ids()
        )  # finished by another process between the look and the claim
        claims.release(late)
        got -= late
        if got & trained:
            raise OSError(
                f"{store.trials_dir}: trial {min(got & trained)} was trained and stored by this "
                "run but its file does not read back"
            )
        if got:
            _train(t, got)
            continue
        if not waiting_said:
            print(
                f"{experiment.name}: waiting for {len(todo)} trial(s) another process is training into "
                f"{store.root}",
                file=sys.stderr,
                flush=True,
            )
            waiting_said = True
        before = time.monotonic()
        time.sleep(WAIT_POLL_SECONDS)
        t.sitting.waited += time.monotonic() - before


def _train(t: _Training, ids) -> None:
    """Train the claimed trials `ids` in populations (second stages after every first stage), storing each
    trial as it finishes and letting its claim go."""
    from cinit_tf.training import auto_group_size, train_population, trainer_key

    experiment, store, mine = t.experiment, t.store, t.mine
    claims, bar, trained = t.claims, t.bar, t.trained
    strategy, tensorboard, sitting = t.strategy, t.tensorboard, t.sitting

    done_before = len((store.finished_ids() | trained) & mine)
    try:
        # Populations of second-stage trials come after every first-stage one.
        for population in sorted(
            experiment.populations(), key=lambda pop: pop[0].source is not None
        ):
            todo = [p for p in population if p.id in ids]
            if not todo:
                continue
            built = [initial_trial(p, store) for p in todo]
            task, config = todo[0].task(), todo[0].train_config(experiment.run)
            # The trials of the population this shard stored before (a killed run) keep their places: the
            # group size and each trial's slot are then those of an uninterrupted run (cinit_tf.slots).
            todo_ids, finished_now = {p.id for p in todo}, store.finished_ids()
            ours = [
                p for p in population if p.id in todo_ids or (p.id in mine and p.id in finished_now)
            ]
            stops = {
                k: store.read_trial(p.id).result.stop_step
                for k, p in enumerate(ours)
                if p.id not in todo_ids
            }
            shape = trainer_key(task, config, auto_group_size(task, config, len(ours)), strategy)

            bar.population_start(shape)

            def on_start(index, slot, todo=todo):
                tensorboard.start(slot, todo[index])
                bar.slot_start(slot)

            def on_measure(steps, measurements):
                tensorboard.log(steps, measurements)
                bar.measure(steps)

            def on_done(index, result, todo=todo, built=built, cap=config.steps):
                plan = todo[index]
                # The trial first, then its curves: a failing curve write loses no trial.
                store.write_trial(plan.id, plan.settings, result, built[index][1])
                trained.add(plan.id)
                sitting.stored(plan.id, int(result.stop_step))
                claims.release([plan.id])
                tensorboard.finish(plan)
                shown = f"{done_before + len(trained & mine & ids)}/{len(mine)}"
                bar.trial_done(cap - int(result.stop_step), shown)

            train_population(
                task,
                config,
                [t for t, _ in built],
                strategy=strategy,
                stored=stops,
                on_start=on_start,
                on_measure=on_measure,
                on_done=on_done,
            )
    except BaseException:
        tensorboard.discard()  # curves of trials not stored are half-written: gone, as the trials are
        raise


def _here(strategy: str) -> dict:
    """The environment this command trains in."""
    from cinit_tf import framework
    from cinit_tf.environment import environment
    from cinit_tf.memory import training_device

    return environment(training_device(framework.gpu_count()).kind, strategy)


def environments(store, here: dict | None) -> list[dict]:
    """The environments this run folder's trials were trained in: the earlier ones, and `here` (this command's,
    None when it trains nothing)."""
    earlier = []
    if store.has_config():
        earlier = list(store.read_config().get("environments") or [])
    if here is not None and here not in earlier:
        earlier.append(here)
    return earlier


def _tables_and_report(
    experiment,
    store,
    plans,
    trained: bool,
    reports,
    reports_explicit: bool,
    replace_report: bool,
    verbose: bool,
) -> tuple[Path | None, Path | None]:
    """Rewrite the run's tables if anything was trained, and its report (`reports` not None) once every trial is finished.

    One process at a time does this for a run folder (shards finishing together). Returns (report folder, kept report).
    """
    report_dir = kept = None
    with held(store.root / ".report.lock"):
        if trained or not (store.root / "trials.csv").exists():
            from cinit_tf.results import write_tables

            write_tables(
                store.root
            )  # trials.csv (and frequencies.csv) of every finished trial, for pandas
        if reports is not None and {p.id for p in plans} <= store.finished_ids():
            from cinit_tf.reporting.folders import ReportError
            from cinit_tf.reporting.generate import generate_report

            target, kept = report_destination(
                experiment, store.root, Path(reports), reports_explicit, replace_report
            )
            # The destination is decided (a larger profile's report is kept by writing beside the run); the
            # run's own report folder is its to replace.
            local = target != Path(reports)
            try:
                report_dir = generate_report(store.root, target, replace=replace_report or local)
            except (ReportError, OSError) as e:
                raise ReportFailed(f"{type(e).__name__}: {e}") from e
            except Exception as e:
                if verbose:
                    raise
                raise ReportFailed(
                    f"{type(e).__name__} in study {experiment.study}: {e}; --verbose shows the traceback"
                ) from e
    return report_dir, kept
