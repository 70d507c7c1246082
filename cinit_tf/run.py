"""Run experiment files: `python -m cinit_tf.run experiments/X.toml [more.toml ...] [options]`.

Every file is validated (with the chosen profile and overrides) before any trains. Trials of equal
shape are trained together as populations; each finished trial is written to
`runs/<name>/trials/<id>.npz` at once, so an interrupted run loses only the group in flight and a
rerun of the same command finishes the rest. When every trial of an experiment is present its
report is generated: into `reports/<name>/`, except that a smoke run (unless `--reports` is given)
and a run that would replace a report made at a larger profile write theirs to
`runs/<name>/report/` instead. `--list` shows every experiment file with its paper section, claim
and declared runtime.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import tempfile
import textwrap
from pathlib import Path

from cinit_tf import framework
from cinit_tf.experiment.config import DEFAULT_PROFILE, PROFILES, ConfigError, load_experiment
from cinit_tf.experiment.schema import duration, runtime_seconds
from cinit_tf.memory import check_memory, training_device
from cinit_tf.reporting.folders import published_profile
from cinit_tf.reporting.index import write_index
from cinit_tf.runner import ReportFailed, in_shard, run_experiment
from cinit_tf.store import RunFolderError
from cinit_tf.writeup.section import paper_key

EXPERIMENTS = Path("experiments")


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: stop at once (a BaseException, so no library's `except Exception` keeps going)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.status = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


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


def check_folder(path, flag: str) -> None:
    """`path` is a writable folder, or could be created as one; ConfigError (one line) otherwise. Creates nothing."""
    path = Path(path)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is a file" if probe == path else f"cannot be created: {probe} is a file"
        raise ConfigError(f"{flag} {path}: {what}, expected a folder")
    try:
        # Try it rather than ask os.access, which says yes to root even on a read-only mount.
        with tempfile.TemporaryFile(dir=probe, prefix=".cinit-write-check-"):
            pass
    except OSError as e:
        what = "is not writable" if probe == path else f"cannot be created: {probe} is not writable"
        raise ConfigError(f"{flag} {path}: {what} ({e.strerror})") from None


def check_run_folder(path: Path) -> None:
    """An existing run folder is a folder whose record (config.json), if any, reads; ConfigError otherwise."""
    from cinit_tf.store import RunFolderError, Store

    if os.path.lexists(path) and not path.is_dir():
        raise ConfigError(
            f"{path}: exists and is not a folder; expected the experiment's run folder (or nothing)"
        )
    store = Store(path)
    if store.has_config():
        try:
            store.read_config()
        except RunFolderError as e:
            raise ConfigError(str(e)) from None


# ---- the listing and the estimate --------------------------------------------------------------


def _runtime_cell(text: str | None) -> str:
    """The duration a file declares, without its note: "~8 min (measured ...)" -> "~8 min"."""
    if not text:
        return "–"
    return text.split("(")[0].split(";")[0].strip().rstrip(",")


def listing(folder: Path = EXPERIMENTS) -> tuple[list[str], int]:
    """(lines of the table, exit status): every experiment file of `folder`, in the paper's order."""
    from cinit_tf import studies

    rows, bad = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            experiment = load_experiment(path, profile="smoke")
            d = studies.declaration(experiment.study)
        except ConfigError as e:
            bad.append(f"error: {e}")
            continue
        except Exception as e:  # a study module that fails to import must not hide the other files
            bad.append(f"error: {path}: cannot load its study: {type(e).__name__}: {e}")
            continue
        runtime = [_runtime_cell(experiment.runtime.get(p)) for p in PROFILES]
        rows.append(
            (
                (paper_key(d.paper_ref), d.order),
                path.as_posix(),
                d.paper_ref,
                runtime,
                " ".join(d.claim.split()),
            )
        )
    rows.sort()
    header = ("file", "paper", *PROFILES)
    cells = [header] + [(f, ref, *rt) for _, f, ref, rt, _ in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [
        f"Experiments in {folder}/ in the paper's order, with the runtime each file declares per profile "
        "(on a 2-core CPU; python -m cinit_tf.run FILE --profile P runs one).",
        "",
    ]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for (_, _, _, _, claim), cell in zip(rows, cells[1:]):
        lines.append("  ".join(c.ljust(w) for c, w in zip(cell, widths)).rstrip())
        lines += textwrap.wrap(
            f"claim: {claim}", width=100, initial_indent="    ", subsequent_indent="    "
        )
    return lines + bad, 1 if bad else 0


def _declared_scale(e, todo_steps: int, todo_trials: int) -> float:
    """The share of its declared runtime that `todo` stands for: a declared runtime is the file's run at its
    profile from nothing, so it scales by model-steps (by trials where the profile trains no steps)."""
    base = e if not e.overrides else load_experiment(e.path, profile=e.profile)
    full_steps = base.steps()
    if full_steps:
        return todo_steps / full_steps
    return todo_trials / max(1, len(base.trials())) if not todo_steps else float("nan")


def estimate(experiments: list, out: Path, shard: tuple[int, int]) -> str:
    """One line before anything trains: model-steps left to train (this shard's, and the sources its second
    stages need), and the time the files' declared runtimes give for them, scaled by model-steps."""
    from cinit_tf.runner import needed
    from cinit_tf.store import Store

    steps, seconds, undeclared, scaled = 0, 0.0, [], False
    for e in experiments:
        plans = e.trials()
        mine = {p.id for p in plans if in_shard(p.id, shard)}
        done = Store(out / e.name, read_only=True, warn=lambda text: None).finished_ids()
        todo = needed(plans, mine, done)
        todo_steps = e.steps(todo)
        steps += todo_steps
        declared = runtime_seconds(e.runtime[e.profile]) if e.profile in e.runtime else None
        share = _declared_scale(e, todo_steps, len(todo)) if declared is not None else float("nan")
        if declared is None or math.isnan(share):  # no runtime, or none that scales to these steps
            undeclared.append(e.name)
            continue
        seconds += declared * share
        scaled |= share != 1.0
    how = "scaled by model-steps" if scaled else "as declared"
    expected = f"{steps:,} model-steps to train; expected ~{duration(seconds)} on a 2-core CPU"
    if len(experiments) == 1:
        e = experiments[0]
        return f"{e.name}: {expected}" + (
            f" (its declared {e.profile} runtime, {how})"
            if not undeclared
            else " (no runtime declared)"
        )
    line = f"{len(experiments)} experiments, profile {experiments[0].profile}: {expected}"
    line += f" (the declared runtimes, {how}"
    line += f"; none declared for {', '.join(undeclared)})" if undeclared else ")"
    return line


# ---- the command ------------------------------------------------------------------------------


@contextlib.contextmanager
def _signals_raise():
    """SIGINT and SIGTERM raise Interrupted in the main thread, wherever it is; handlers restored after."""

    def handler(signum, frame):
        # A second signal while the first is being handled must not interrupt the message.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Interrupted(signum)

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _saved(experiment, out: Path) -> str:
    from cinit_tf.store import Store

    store = Store(out / experiment.name, read_only=True, warn=lambda text: None)
    ids = {p.id for p in experiment.trials()}
    return f"{len(store.finished_ids() & ids)} of {len(ids)} trials saved in {store.root}"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m cinit_tf.run",
        description="Run experiment files and write their results and reports. Several files run one after "
        "another (every file is validated first), e.g. the whole paper: experiments/*.toml.",
        epilog=f"The default profile is {DEFAULT_PROFILE} (the published reports' scale); --profile smoke proves the "
        "path in seconds. Progress is counted in model-steps: optimizer steps × trials trained together.",
    )
    ap.add_argument(
        "files",
        nargs="*",
        metavar="file",
        help="experiment files (TOML), e.g. experiments/freeze_embedding.toml",
    )
    ap.add_argument(
        "--list",
        action="store_true",
        help="list every file in experiments/ with its paper section, claim and runtime, and exit",
    )
    ap.add_argument(
        "--profile", default=None, help=f"smoke | cpu | paper (default: {DEFAULT_PROFILE})"
    )
    ap.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set train.steps=500 (repeatable)",
    )
    ap.add_argument(
        "--shard", help="i/n: run only share i (0-based) of n; n processes fill one results folder"
    )
    ap.add_argument("--out", default="runs", help="folder of run folders (default: runs)")
    ap.add_argument(
        "--reports",
        default=None,
        help="folder of reports (default: reports; a smoke run's report goes to <out>/<name>/report/)",
    )
    ap.add_argument(
        "--replace-report",
        action="store_true",
        help="replace a published report even if it was made at a larger profile",
    )
    ap.add_argument(
        "--strategy",
        choices=["default", "mirrored"],
        help="tf.distribute strategy (overrides run.strategy)",
    )
    ap.add_argument(
        "--no-report", action="store_true", help="do not generate the report at the end"
    )
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's own start-up and log lines"
    )
    ap.add_argument(
        "--allow-large-memory",
        action="store_true",
        help="run even if the estimated peak memory of a population exceeds this machine's",
    )
    return ap


def validated(args) -> tuple[list, tuple | None, Path, Path]:
    """Every file loaded and checked before anything runs: (experiments, shard, out, reports); ConfigError
    names the first problem."""
    overrides = list(args.overrides) + (
        [f'run.strategy="{args.strategy}"'] if args.strategy else []
    )
    out, reports = Path(args.out), Path(args.reports or "reports")
    shard = parse_shard(args.shard)
    experiments = [
        load_experiment(f, profile=args.profile, overrides=overrides) for f in args.files
    ]
    names = [e.name for e in experiments]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"two files name experiment {name!r}; each needs its own run folder")
    check_folder(out, "--out")
    check_folder(reports, "--reports")
    for e in experiments:
        check_run_folder(out / e.name)
    device = training_device(framework.gpu_count())
    for e in experiments:
        try:
            # against the GPU's memory where one is used
            check_memory(e, device, allow=args.allow_large_memory)
        except ValueError as why:
            raise ConfigError(f"{e.path}: {why}") from None
    return experiments, shard, out, reports


def finished_lines(experiment, summary) -> list[str]:
    """What a finished experiment prints: its counts, where its results and report are, a kept report."""
    line = (
        f"{experiment.name} [{experiment.profile}]: {summary.trained} trained, "
        f"{summary.skipped} already finished"
    )
    if summary.by_others:
        line += f", {summary.by_others} trained meanwhile by another process"
    line += f" ({summary.in_shard} in this shard of {summary.planned})"
    if summary.sources:
        line += (
            f"; also trained {summary.sources} source trial(s) of other shards that this "
            "shard's second stage needs"
        )
    line += f"; results in {summary.run_dir}"
    if summary.report_dir:
        line += f"; report in {summary.report_dir / 'README.md'}"
    lines = [line]
    if summary.kept_report:
        lines.append(
            f"{experiment.name}: kept the published report in {summary.kept_report} (profile "
            f"{published_profile(summary.kept_report)}); this run's report is in {summary.report_dir} "
            "(--replace-report replaces it)"
        )
    return lines


def run_all(args, experiments, shard, out: Path, reports: Path, state: dict) -> None:
    """Run the experiments one after another; `state["current"]` is the one running (for the message
    of an exception that stops it)."""
    reported = False
    for experiment in experiments:
        state["current"] = experiment
        hint = " (the default; --profile smoke for a quick try)" if args.profile is None else ""
        print(f"{experiment.name}: profile {experiment.profile}{hint}", flush=True)
        if len(experiments) == 1:
            print(estimate(experiments, out, shard), flush=True)
        summary = run_experiment(
            experiment,
            out=out,
            reports=reports,
            shard=shard,
            progress=not args.quiet,
            make_report=not args.no_report,
            reports_explicit=args.reports is not None,
            replace_report=args.replace_report,
            verbose=args.verbose,
        )
        reported |= summary.report_dir is not None and summary.report_dir.parent == reports
        for line in finished_lines(experiment, summary):
            print(line, flush=True)
    if len(experiments) > 1 and reported:
        print(f"index of the reports: {write_index(reports)}", flush=True)


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.list:
        lines, status = listing()
        try:
            print("\n".join(lines), flush=True)
        except BrokenPipeError:  # `--list | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return status
    if not args.files:
        ap.error("give one or more experiment files (or --list to see them)")
    if args.verbose:
        framework.set_verbose(True)  # before the engine first imports TensorFlow
    try:
        experiments, shard, out, reports = validated(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if len(experiments) > 1:
        print(estimate(experiments, out, shard), flush=True)
    state = {"current": None}
    with _signals_raise():
        try:
            run_all(args, experiments, shard, out, reports, state)
        except Interrupted as e:
            name = signal.Signals(e.signum).name
            saved = _saved(state["current"], out)
            print(
                f"\n{name}: stopped; {saved}; the same command resumes", file=sys.stderr, flush=True
            )
            return e.status
        except ReportFailed as e:
            current = state["current"]
            print(
                f"error: {current.name}: the report failed ({e}); {_saved(current, out)}; "
                f"`python -m cinit_tf.report {out / current.name}` retries it",
                file=sys.stderr,
                flush=True,
            )
            return 1
        except (
            RunFolderError
        ) as e:  # a run folder's record damaged after the check (another process)
            print(f"error: {e}", file=sys.stderr, flush=True)
            return 2
        except OSError as e:
            current = state["current"]
            print(
                f"error: {current.name}: {e}; {_saved(current, out)}; the same command resumes",
                file=sys.stderr,
                flush=True,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
