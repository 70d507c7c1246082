"""Reports: one Markdown section per paper section, generated from a run's stored trials.

A study returns a `Section`; this module renders it to `reports/<name>/README.md` (figures beside
it), writes `reports/<name>/summary.json`, and rewrites `reports/README.md`, the index in the
paper's order. The index is built from the `summary.json` files present, so it is the same
whichever report was generated last.

    python -m cinit_tf.report runs/<name> [--reports DIR]

Nothing in a report is written by hand: every number comes from the trials, and regenerating from
the same `runs/<name>/` gives byte-identical Markdown and JSON (no timestamps, everything sorted).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VERDICTS = ("reproduced", "partly", "not reproduced")

# SPEC §7, in the paper's order: (file, paper reference, the paper's result).
PAPER_SECTIONS = (
    ("remainder_rank", "§3.1, Fig. 1", "top 15% mean, std 22%"),
    ("xor_rank", "§3.2, Fig. 2", "top 10% mean, std 12%"),
    ("fourier_evolution", "§4.1, Fig. 3, 4", "3–5 circles survive; survivors start high"),
    ("survival_vs_norm", "§4.2, Fig. 5a", "Pearson r = 0.85, p < 1e-3"),
    ("perturbation", "§4.2, Fig. 5b", "≈100% when far above, rare when far below"),
    ("manual_construction", "§4.2, Fig. 5c", "top always survives; second rises with r"),
    ("gradient_signal", "§4.3, Fig. 6a–c", "SVM accuracy 83.8%"),
    ("convergence_ablation", "§4.4, Fig. 6d", "much faster, 95% CI"),
    ("freeze_embedding", "§5, Fig. 7, 9", "loss falls with d; dip at d = p (modadd)"),
    ("min_signal_vs_dim", "§5 Fig. 8, App. C Fig. 10", "min rises, max falls, mean flat"),
    ("circles_vs_size", "App. D Fig. 11, 12", "more with d and p; fewer with wd"),
    ("circularity", "App. E Fig. 13", "rises with d; inconclusive vs survival"),
    ("complex_dynamics", "App. F Fig. 14", "a high-signal frequency can die and a low one survive"),
    ("winning_tickets", "App. G Fig. 15", "B reaches ~1e-7 loss, fast; C/D struggle; A revives others"),
    ("fourier_gradients", "App. H Fig. 16", "spike near step 100, ~0 after 1000"),
)

PAPER_TITLE = "Interpretable patterns in random initialization unveil final representation"


class ReportError(Exception):
    """A run folder that cannot be reported on; the message names the folder and what is wrong."""


@dataclass
class Figure:
    filename: str  # a PNG written by the study into the report folder
    caption: str  # names the paper's figure it mirrors, e.g. "Mirrors Fig. 1b."


@dataclass
class Section:
    """What a study found, in the order a reader wants it."""

    title: str  # e.g. "Remainder equivalence: rank of the learned permutation"
    paper_ref: str  # e.g. "§3.1, Fig. 1"
    claim: str  # what the paper claims, in a sentence or two
    paper_number: str  # the paper's headline number, e.g. "top 15% ± 22% (100 seeds)"
    our_number: str  # ours, computed, with spread and sample size
    verdict: str  # "reproduced" | "partly" | "not reproduced"
    verdict_rule: str  # the rule that decided the verdict, stated before the numbers it was applied to
    what_we_ran: list[str] = field(default_factory=list)  # profile, seeds, steps, sizes
    deviations: list[str] = field(default_factory=list)  # every difference from the paper and every SPEC choice
    findings: list[str] = field(default_factory=list)  # further numbers, in prose or Markdown tables
    figures: list[Figure] = field(default_factory=list)
    summary: dict = field(default_factory=dict)  # machine-readable numbers, written to summary.json
    verdict_details: list[str] = field(default_factory=list)  # each condition of the rule and whether it held
    short_number: str = ""  # our number as the index shows it (default: our_number)


# ---------------------------------------------------------------- loading


def load_run(run_dir: str | os.PathLike) -> tuple[dict, list]:
    """The run's record (config.json) and its finished trials among `trial_ids`; ReportError if unusable."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such run folder (expected runs/<name>/ written by python -m cinit_tf.run)")
    config = run_dir / "config.json"
    if not config.is_file():
        raise ReportError(f"{run_dir}: no config.json; not a run folder written by python -m cinit_tf.run")
    try:
        record = json.loads(config.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReportError(f"{config}: not valid JSON ({e})") from None
    if not isinstance(record, dict):
        raise ReportError(f"{config}: expected a JSON object")
    for key in ("name", "study", "trial_ids"):
        if key not in record:
            raise ReportError(f"{config}: missing key {key!r}")
    if not isinstance(record["trial_ids"], list):
        raise ReportError(f"{config}: trial_ids must be a list of trial ids")
    from cinit_tf.store import Store  # imports TensorFlow: only once the folder is known to be a run

    trials = Store(run_dir).trials(ids=record["trial_ids"])
    if not trials:
        raise ReportError(f"{run_dir}: none of the {len(record['trial_ids'])} planned trials has finished")
    return record, trials


def _study(name: str):
    from cinit_tf.studies import study_names

    if name not in study_names():
        raise ReportError(f"unknown study {name!r}; expected one of {', '.join(study_names())}")
    return importlib.import_module(f"cinit_tf.studies.{name}")


# ---------------------------------------------------------------- rendering


def _relative_source(source: str) -> str:
    """The experiment file as a reader types it: relative to the project root when it lies inside it."""
    if not source:
        return "experiments/<file>.toml"
    path = Path(source)
    if path.is_absolute():
        root = Path(__file__).resolve().parent.parent
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def commands(record: dict) -> list[str]:
    """The commands that regenerate this run and this report."""
    run = f"python -m cinit_tf.run {_relative_source(record.get('source', ''))} --profile {record.get('profile', 'cpu')}"
    run += "".join(f" --set {o}" for o in record.get("overrides", []))
    return [run, f"python -m cinit_tf.report runs/{record['name']}"]


def render(section: Section, record: dict, n_trials: int) -> str:
    """The report README: claim, what ran, deviations, what we saw, verdict (a keras-io style walk-through)."""
    planned = len(record.get("trial_ids", []))
    lines = [f"# {section.title}", "", f"*Paper: {PAPER_TITLE}, {section.paper_ref}.*", ""]
    lines += ["## What the paper claims", "", section.claim, "", f"The paper's number: **{section.paper_number}**.", ""]
    lines += ["## What we ran", ""]
    trials_line = f"{n_trials} trials" + ("" if n_trials == planned else f" finished of {planned} planned (the rest are missing from this report)")
    lines += [f"- Experiment `{record['name']}`, study `{record['study']}`, profile `{record.get('profile', '?')}`, {trials_line}."]
    lines += [f"- {x}" for x in section.what_we_ran]
    lines += ["", "To regenerate the run and this report:", "", "```sh", *commands(record), "```", ""]
    lines += ["## Deviations and choices", ""]
    lines += [f"- {x}" for x in section.deviations] or ["- None."]
    lines += ["", "## What we saw", "", f"Our number: **{section.our_number}**.", ""]
    for x in section.findings:
        lines += [x, ""]
    for i, fig in enumerate(section.figures, start=1):
        lines += [f"![Figure {i}]({fig.filename})", "", f"*Figure {i}. {fig.caption}*", ""]
    lines += ["## Verdict", "", f"Rule: {section.verdict_rule}", ""]
    lines += [f"- {x}" for x in section.verdict_details]
    if section.verdict_details:
        lines += [""]
    lines += [f"Verdict: **{section.verdict}**.", ""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).replace("|", "/").split())


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


def summary_of(section: Section, record: dict, n_trials: int) -> dict:
    return _jsonable({
        "name": record["name"],
        "study": record["study"],
        "paper_ref": section.paper_ref,
        "title": section.title,
        "paper_number": section.paper_number,
        "our_number": section.our_number,
        "short_number": section.short_number or section.our_number,
        "verdict": section.verdict,
        "verdict_rule": section.verdict_rule,
        "profile": record.get("profile"),
        "overrides": list(record.get("overrides", [])),
        "trials": n_trials,
        "planned": len(record.get("trial_ids", [])),
        "summary": section.summary,
    })


def _write(path: Path, text: str) -> None:
    from cinit_tf.store import atomic_write

    # A unique temporary name: two shards finishing together may both write the same report.
    atomic_write(Path(path), lambda f: f.write(text.encode("utf-8")))


def write_index(reports_dir: str | os.PathLike) -> Path:
    """`reports/README.md`: one row per paper section in the paper's order, from the summary.json files present."""
    reports_dir = Path(reports_dir)
    summaries = []
    for path in sorted(reports_dir.glob("*/summary.json")):
        try:
            summaries.append(json.loads(path.read_text()))
        except json.JSONDecodeError:
            continue  # a half-written or foreign file must not break the index of the others
    by_study: dict = {}
    for s in summaries:
        by_study.setdefault(s.get("study"), []).append(s)
    header = "| section | paper | paper's result | ours | profile | verdict | report |"
    rows = [header, "|---|---|---|---|---|---|---|"]
    known = set()
    for study, ref, result in PAPER_SECTIONS:
        known.add(study)
        found = sorted(by_study.get(study, []), key=lambda s: (s.get("name") != study, s.get("name", "")))
        if not found:
            rows.append(f"| {study} | {ref} | {result} | not yet run | – | not yet run | – |")
        for s in found:
            rows.append(_index_row(s, study, ref, result))
    others = [s for st, ss in sorted(by_study.items(), key=lambda kv: str(kv[0])) if st not in known for s in ss]
    lines = [
        "# Reports",
        "",
        f"One section per section of the paper ({PAPER_TITLE}), in the paper's order. Each report is generated "
        "from its run's stored trials (`python -m cinit_tf.report runs/<name>`); the paper's number stands "
        "beside ours, with the profile it was run at and the verdict its rule gave.",
        "",
        *rows,
        "",
    ]
    if others:
        lines += ["Reports of studies outside the paper's sections:", "", header, rows[1]]
        lines += [_index_row(s, s.get("study", "?"), s.get("paper_ref", ""), s.get("paper_number", "")) for s in sorted(others, key=lambda s: s.get("name", ""))]
        lines += [""]
    path = reports_dir / "README.md"
    _write(path, "\n".join(lines))
    return path


def _index_row(s: dict, section: str, ref: str, paper: str) -> str:
    ours = _one_line(s.get("short_number") or s.get("our_number", ""))
    name = s.get("name", section)
    return (f"| {section} | {ref} | {_one_line(paper)} | {ours} | {s.get('profile', '?')} | "
            f"{s.get('verdict', '?')} | [{name}/README.md]({name}/README.md) |")


# ---------------------------------------------------------------- entry points


def generate_report(run_dir: str | os.PathLike, reports_dir: str | os.PathLike = "reports") -> Path:
    """Analyse the run's trials with its study and write `reports/<name>/` and the index; returns the report folder."""
    record, trials = load_run(run_dir)
    study = _study(record["study"])
    out_dir = Path(reports_dir) / record["name"]
    out_dir.mkdir(parents=True, exist_ok=True)
    # Figures of an earlier run of this experiment would otherwise sit beside a README that no longer shows them.
    for old in out_dir.glob("*.png"):
        old.unlink()
    section = study.analyse(record, trials, out_dir)
    if section.verdict not in VERDICTS:
        raise ReportError(f"study {record['study']!r} returned verdict {section.verdict!r}; expected one of {', '.join(VERDICTS)}")
    for fig in section.figures:
        if not (out_dir / fig.filename).is_file():
            raise ReportError(f"study {record['study']!r} lists figure {fig.filename} but did not write it to {out_dir}")
    _write(out_dir / "README.md", render(section, record, len(trials)))
    summary = summary_of(section, record, len(trials))
    _write(out_dir / "summary.json", json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n")
    write_index(reports_dir)
    return out_dir


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cinit_tf.report", description="Generate the report of a finished run.")
    ap.add_argument("run_dir", help="run folder, e.g. runs/freeze_embedding")
    ap.add_argument("--reports", default="reports", help="folder of reports (default: reports)")
    args = ap.parse_args(argv)
    try:
        out = generate_report(args.run_dir, args.reports)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"report in {out / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
