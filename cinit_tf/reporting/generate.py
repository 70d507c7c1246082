"""Reports: one Markdown section per paper section, generated from a run's stored trials.

A study declares its paper section (`DECLARATION`) and returns a `Section`; this module renders the
two to `reports/<name>/README.md` (figures beside it), writes `reports/<name>/summary.json`, and
rewrites `reports/README.md`, the index: one row per study in the paper's order, built from the
declarations and the `summary.json` files present, so it is the same whichever report was
generated last. Nothing here imports TensorFlow (`python -m cinit_tf.report runs/<name>`).

A report made at a larger profile (paper > cpu > smoke, read from its summary.json) is not replaced
unless --replace-report is given: the command says so and exits 2, the report and the index untouched.
Nothing in a report is written by hand: every number comes from the trials, and regenerating from
the same `runs/<name>/` gives byte-identical Markdown and JSON (no timestamps, everything sorted).

A run folder's config.json is data, not trusted: its `name` must be a plain folder name and the
report folder must lie inside the reports folder. A report is written into a temporary folder next
to its target and swapped in whole (the old folder renamed away, the new one renamed in, the old one
deleted), so an interrupted report never leaves a README pointing at deleted figures; writers of one
report take turns through a lock file (cinit_tf.locks: released by the kernel when a writer dies).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from pathlib import Path

from cinit_tf.experiment.schema import duration
from cinit_tf.reporting.folders import (
    ReportError,
    check_name,
    check_replace,
    merge_in,
    report_folder,
    report_lock,
    swap_in,
)
from cinit_tf.stats.claims import VERDICTS
from cinit_tf.writeup.section import PAPER_TITLE, RULES, Declaration, Section, StudyInputError

METHOD = Path(__file__).resolve().parents[2] / "docs" / "method.md"


def load_run(run_dir: str | os.PathLike) -> tuple[dict, list]:
    """The run's record (config.json) and its finished trials among `trial_ids`; ReportError if unusable."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(
            f"{run_dir}: no such run folder (expected runs/<name>/ written by python -m cinit_tf.run)"
        )
    config = run_dir / "config.json"
    if not os.path.lexists(config):
        raise ReportError(
            f"{run_dir}: no config.json; not a run folder written by python -m cinit_tf.run"
        )
    from cinit_tf.store import RunFolderError, Store

    store = Store(run_dir, read_only=True)  # reading a run never changes its folder
    try:
        record = store.read_config()
    except RunFolderError as e:
        raise ReportError(str(e)) from None
    if not isinstance(record, dict):
        raise ReportError(f"{config}: expected a JSON object")
    for key in ("name", "study", "trial_ids"):
        if key not in record:
            raise ReportError(f"{config}: missing key {key!r}")
    if not isinstance(record["trial_ids"], list):
        raise ReportError(f"{config}: trial_ids must be a list of trial ids")
    check_name(record["name"], config)
    # Read beside the record, never written into config.json: reading a run leaves it as it is.
    record["sittings"] = store.sittings()
    trials = store.trials(ids=record["trial_ids"])
    if not trials:
        raise ReportError(
            f"{run_dir}: none of the {len(record['trial_ids'])} planned trials has finished"
        )
    return record, trials


def _study(name: str):
    from cinit_tf.studies import study, study_names

    try:
        return study(name)
    except KeyError:
        raise ReportError(
            f"unknown study {name!r}; expected one of {', '.join(study_names())}"
        ) from None


# ---------------------------------------------------------------- rendering


def _relative_source(source: str) -> str:
    """The experiment file as a reader types it: relative to the project root when it lies inside it."""
    if not source:
        return "experiments/<file>.toml"
    path = Path(source)
    if path.is_absolute():
        root = (
            Path(__file__).resolve().parents[2]
        )  # the project root (cinit_tf/reporting/generate.py)
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            # another checkout's file (a worktree, a cluster's copy): the project's own file of that name
            if path.parent.name == "experiments" and (root / "experiments" / path.name).is_file():
                return f"experiments/{path.name}"
            return path.as_posix()
    return path.as_posix()


def commands(record: dict) -> list[str]:
    """The commands that regenerate this run and this report."""
    run = f"python -m cinit_tf.run {_relative_source(record.get('source', ''))} --profile {record.get('profile', 'cpu')}"
    run += "".join(f" --set {o}" for o in record.get("overrides", []))
    return [run, f"python -m cinit_tf.report runs/{record['name']}"]


def verdict_rule(declaration: Declaration, section: Section) -> str:
    """The rule as applied: the section's when it depends on [analysis] values, else the declared one."""
    return section.verdict_rule or declaration.verdict_rule


def render(declaration: Declaration, section: Section, record: dict, n_trials: int) -> str:
    """The report README: claim, the verdict rule (before any number), what ran, deviations, what we saw, verdict."""
    planned = len(record.get("trial_ids", []))
    lines = [f"# {declaration.title}", "", f"*Paper: {PAPER_TITLE}, {declaration.paper_ref}.*", ""]
    lines += [
        "## What the paper claims",
        "",
        declaration.claim,
        "",
        f"The paper's number: **{declaration.paper_number}**.",
        "",
    ]
    lines += [
        "## Verdict rule",
        "",
        "Declared in the study before any number was computed "
        "([verdict rules](../../docs/method.md#verdict-rules)):",
        "",
        f"Rule: {verdict_rule(declaration, section)}",
        "",
    ]
    lines += ["## What we ran", ""]
    trials_line = f"{n_trials} trials" + (
        ""
        if n_trials == planned
        else f" finished of {planned} planned (the rest are missing from this report)"
    )
    lines += [
        f"- Experiment `{record['name']}`, study `{record['study']}`, profile `{record.get('profile', '?')}`, {trials_line}."
    ]
    lines += [f"- {x}" for x in section.what_we_ran]
    lines += [f"- {x}" for x in environment_lines(record)]
    lines += [f"- {x}" for x in training_lines(record, n_trials)]
    lines += [
        "",
        "To regenerate the run and this report:",
        "",
        "```sh",
        *commands(record),
        "```",
        "",
    ]
    lines += ["## Deviations and choices", ""]
    lines += [f"- {x}" for x in section.deviations] or ["- None."]
    lines += ["", "## What we saw", "", f"Our number: **{section.our_number}**.", ""]
    if section.excluded:
        lines += (
            ["Trials excluded from the statistics:", ""]
            + [f"- {x}" for x in section.excluded]
            + [""]
        )
    for x in section.findings:
        lines += [x, ""]
    for i, fig in enumerate(section.figures, start=1):
        lines += [f"![Figure {i}]({fig.filename})", "", f"*Figure {i}. {fig.caption}*", ""]
    lines += ["## Verdict", ""]
    details = [c.line() for c in section.claims] + list(section.verdict_details)
    lines += [f"- {x}" for x in details]
    if details:
        lines += [""]
    tail = " (the weakest of its claims)" if len(section.claims) > 1 else ""
    lines += [f"Verdict: **{section.verdict}**{tail}.", ""]
    return "\n".join(lines)


def environment_lines(record: dict) -> list[str]:
    """Where the trials were trained (the run's config.json records it): versions, CPU, device, threads, commit.

    The same versions on the same kind of CPU give these numbers bit for bit; anything else gives them
    statistically (`python -m cinit_tf.report --compare` checks a rerun claim by claim).
    """
    from cinit_tf.environment import describe

    envs = list(record.get("environments") or [])
    if len(envs) <= 1:
        return [f"Trained with: {describe(envs[0] if envs else None)}."]
    return [
        f"Trained in {len(envs)} environments (resumed or sharded): "
        + " | ".join(describe(e) for e in envs)
        + "."
    ]


def training_time(sittings: list, trial_ids) -> dict | None:
    """The run's measured training time from the sittings its folder records: those of this plan, and those of
    an earlier plan that stored only trials of this one (a plan grown by more seeds); one that also stored other
    trials is not counted (its time was partly other work). Each planned trial is counted once, by the first
    sitting that stored it. None when no such sitting is recorded."""
    from cinit_tf.store import plan_fingerprint

    plan, planned = plan_fingerprint(trial_ids), set(trial_ids)
    ours = [
        s
        for s in sittings
        if isinstance(s.get("stored"), dict)
        and (s.get("plan") == plan or bool(s["stored"]) and set(s["stored"]) <= planned)
    ]
    if not ours:
        return None
    steps: dict = {}
    for s in ours:
        for i, n in s["stored"].items():
            if i in planned and i not in steps and isinstance(n, int) and n >= 0:
                steps[i] = n
    seconds = float(sum(s["seconds"] for s in ours))
    model_steps = int(sum(steps.values()))
    return {
        "sittings": len(ours),
        "seconds": round(seconds, 1),
        "model_steps": model_steps,
        "trials": len(steps),
        "rate": round(model_steps / seconds, 1) if seconds > 0 else None,
        "first": ours[0].get("started"),
        "last": ours[-1].get("started"),
    }


def training_lines(record: dict, n_trials: int) -> list[str]:
    """How long the training took, measured by the runner (runs/<name>/sittings/)."""
    t = training_time(record.get("sittings") or [], record.get("trial_ids") or [])
    if t is None:
        return []
    part = ""
    if t["trials"] < n_trials:
        part = (
            f" {n_trials - t['trials']} of the {n_trials} trials have no sitting record (trained before runs "
            "recorded their sittings, by a sitting that also trained trials of other settings, or their record "
            "was not written): the time covers the other "
            f"{t['trials']}."
        )
    rate = f" ({t['rate']:,.0f} model-steps/s)" if t["rate"] else ""
    over = "one sitting" if t["sittings"] == 1 else f"{t['sittings']} sittings (resumed or sharded)"
    return [
        f"Training time, measured: {t['trials']} trials, {t['model_steps']:,} model-steps in "
        f"{duration(t['seconds'])} of training time summed over {over}{rate}; compilation and recording "
        "included, waiting for other processes' trials not; shards running at once add up, a CPU shared "
        "with other work counts as slower, and a sitting killed outright counts until its last stored "
        "trial." + part
    ]


def relative_links(text: str, out_dir: Path) -> str:
    """Point the report's links to docs/method.md at it from where the report is written (reports/<name>/ is the
    usual place, two levels down; smoke and local reports lie elsewhere)."""
    if not METHOD.is_file():
        return text
    rel = Path(os.path.relpath(METHOD, Path(out_dir).resolve())).as_posix()
    return (
        text
        if rel == "../../docs/method.md"
        else text.replace("](../../docs/method.md", f"]({rel}")
    )


def _jsonable(x):
    """Numbers and containers as plain JSON: numpy scalars unwrapped, nan/inf as null, keys as strings."""
    try:
        import numpy as np

        if isinstance(x, np.ndarray):
            x = x.tolist()
        elif isinstance(x, np.generic):
            x = x.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _claim_json(c, previous: dict | None = None, former_names: dict | None = None) -> dict:
    """A claim as summary.json keeps it: every field of its record (cinit_tf.stats.claims.Claim.record), and
    `previous_verdict`, the verdict before its last change, when the report it replaces gave this claim another
    verdict (or carried one itself: regenerating an unchanged report keeps the mark, byte for byte). A claim the
    study renamed is found under its former name (`Declaration.former_names`)."""
    out = c.record()
    previous = previous or {}
    former = (former_names or {}).get(c.name)
    verdict, before = previous.get(c.name) or previous.get(former) or (None, None)
    if verdict is not None and verdict != c.verdict:
        out["previous_verdict"] = verdict
    elif verdict == c.verdict and before is not None:
        out["previous_verdict"] = before
    return out


def previous_verdicts(out_dir: Path) -> dict:
    """{claim name: (verdict, its previous_verdict or None)} of the report published in `out_dir` (empty when
    there is none or it is unreadable)."""
    try:
        data = json.loads((Path(out_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list):
        return {}
    out = {}
    for c in claims:
        if (
            isinstance(c, dict)
            and isinstance(c.get("name"), str)
            and isinstance(c.get("verdict"), str)
        ):
            before = c.get("previous_verdict")
            out[c["name"]] = (c["verdict"], before if isinstance(before, str) else None)
    return out


def summary_of(
    declaration: Declaration,
    section: Section,
    record: dict,
    n_trials: int,
    previous: dict | None = None,
) -> dict:
    return _jsonable(
        {
            "name": record["name"],
            "study": record["study"],
            "paper_ref": declaration.paper_ref,
            "title": declaration.title,
            "paper_number": declaration.paper_number,
            "our_number": section.our_number,
            "short_number": section.short_number or section.our_number,
            "verdict": section.verdict,
            "verdict_rule": verdict_rule(declaration, section),
            "claims": [_claim_json(c, previous, declaration.former_names) for c in section.claims],
            "rules": RULES,
            "environments": list(record.get("environments") or []),
            "training": training_time(record.get("sittings") or [], record.get("trial_ids") or []),
            "excluded": list(section.excluded),
            "profile": record.get("profile"),
            "overrides": list(record.get("overrides", [])),
            "trials": n_trials,
            "planned": len(record.get("trial_ids", [])),
            "summary": section.summary,
        }
    )


def _write(path: Path, text: str) -> None:
    from cinit_tf.store import atomic_write

    # A unique temporary name: two shards finishing together may both write the same report.
    atomic_write(Path(path), lambda f: f.write(text.encode("utf-8")))


# ---------------------------------------------------------------- entry point


def generate_report(
    run_dir: str | os.PathLike, reports_dir: str | os.PathLike = "reports", replace: bool = False
) -> Path:
    """Analyse the run's trials with its study and write `reports/<name>/` and the index; returns the report folder.

    The folder is built beside its target under a temporary name and swapped in whole, under the
    report's lock, so readers never see half a report and concurrent writers take turns. A report
    made at a larger profile is not replaced unless `replace` (ReportKept, before anything is written).
    """
    record, trials = load_run(run_dir)
    study = _study(record["study"])
    reports_dir = Path(reports_dir)
    out_dir = report_folder(reports_dir, record["name"])
    check_replace(out_dir, record, run_dir, replace)
    reports_dir.mkdir(parents=True, exist_ok=True)
    with report_lock(reports_dir, record["name"]):
        check_replace(
            out_dir, record, run_dir, replace
        )  # again under the lock: another writer may have published
        tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        tmp.mkdir()
        try:
            from cinit_tf.studies import analyse

            try:
                section = analyse(study, record, trials, tmp)
            except StudyInputError as e:
                planned = len(record["trial_ids"])
                left = (
                    f" ({len(trials)} of {planned} planned trials finished; the run's command trains the rest)"
                    if len(trials) < planned
                    else ""
                )
                raise ReportError(f"{run_dir}: {e}{left}") from None
            declaration = study.DECLARATION
            if section.verdict not in VERDICTS:
                raise ReportError(
                    f"study {record['study']!r} returned verdict {section.verdict!r}; expected one of {', '.join(VERDICTS)}"
                )
            for fig in section.figures:
                if not (tmp / fig.filename).is_file():
                    raise ReportError(
                        f"study {record['study']!r} lists figure {fig.filename} but did not write it"
                    )
            _write(
                tmp / "README.md",
                relative_links(render(declaration, section, record, len(trials)), out_dir),
            )
            summary = summary_of(
                declaration, section, record, len(trials), previous_verdicts(out_dir)
            )
            _write(
                tmp / "summary.json",
                json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
                + "\n",
            )
            run_root = Path(run_dir).resolve()
            if out_dir == run_root or out_dir in run_root.parents:
                merge_in(tmp, out_dir)  # never swap away a folder that holds the run
            else:
                swap_in(tmp, out_dir)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        from cinit_tf.reporting.index import write_index

        write_index(reports_dir)
    return out_dir
