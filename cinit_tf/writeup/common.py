"""Helpers every study shares: number formatting, which trials are valid, trial health,
the deviations every report lists, and the study's `[analysis]` options. Verdict rules are in
`_verdicts` (docs/method.md#verdict-rules); the helpers here only feed them.

Everything here is deterministic (sorted inputs give identical text), so a report regenerated from
the same `runs/` folder is byte-identical. The functions are a stable interface for the study
modules; add new ones rather than changing what an existing one returns.

Statistics are in `_stats` (one way to get each interval and each test, docs/method.md#statistics);
every report states their conventions through `STATISTICS_NOTE`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields

import numpy as np

from cinit_tf.stats import formatting
from cinit_tf.stats.claims import headline
from cinit_tf.writeup import health
from cinit_tf.writeup.section import Measured, Section, StudyInputError

STATISTICS_NOTE = (
    "Spread is the sample standard deviation over seeds (ddof = 1); 95% confidence intervals are "
    "Student-t for a mean, Wilson's score interval for a share, Fisher z for a correlation and "
    "order statistics for a median; tests are scipy.stats (Pearson and Spearman correlations, Welch's "
    "t-test, the Wilcoxon signed-rank test for paired seeds, Mann–Whitney U, the exact binomial test); "
    "where values of one trial are not independent, intervals and p come from a bootstrap over whole "
    f"trials ({formatting.method('statistics')})."
)


def _values(trials: Sequence, section: str, key: str, default=None) -> str:
    """The values one setting takes over these trials, as a report prints them ("0.01", or "0.01, 0.02")."""

    def text(x) -> str:
        return json_key(x).replace("e-0", "e-").replace("e+0", "e+")

    vals = sorted({text(t.settings.get(section, {}).get(key, default)) for t in trials})
    return ", ".join(vals) if vals else text(default)


def common_deviations(trials: Sequence) -> list[str]:
    """Choices of ours (docs/method.md) that hold for every trial of every study, with the values these
    trials were trained with (width, optimiser, precision): each report lists them under "Deviations and
    choices" because the paper states none of them."""
    v = lambda key, default=None: _values(trials, "train", key, default)  # noqa: E731
    dtypes = {t.settings.get("train", {}).get("dtype", "float32") for t in trials} or {"float32"}
    dtype = ", ".join(sorted(dtypes))
    return [
        "TensorFlow/Keras reimplementation. The paper does not name its framework; where a default matters we "
        "follow PyTorch's, the usual choice in this line of work.",
        f"Initialisation follows PyTorch's defaults ({formatting.method('model')}): W_E ~ N(0, 1); every Dense weight and bias "
        "~ U(−1/√fan_in, 1/√fan_in). The paper does not state its initialisation.",
        f"Model: concat[E_a, E_b] → Dense {v('width')} → ReLU → Dense {v('width')} → ReLU → Dense classes, cross-entropy "
        f"on logits ({formatting.method('model')}); the first layer is computed in factored form, (E·W1_top)[a] + (E·W1_bottom)[b], "
        "which is the same function.",
        f"Optimiser: AdamW, lr {v('lr')}, β₁ {v('beta_1')}, β₂ {v('beta_2')}, ε {v('epsilon')}, decoupled weight decay on "
        "every trainable variable (embedding included unless frozen). Keras adds ε to √v̂ after bias correction where "
        "PyTorch adds it to √v/√(1−β₂ᵗ); at ε = 1e-8 the difference is negligible.",
        "Full batch: every step is one AdamW update on the whole train split.",
        "Split: a seeded random permutation of all p² ordered pairs; the first round(0.8·p²) are train, the rest test.",
        "Three independent seed streams per trial (embedding, MLP, split); several trials are trained together "
        "as one population program, which is exactly equivalent to independent runs (AdamW is elementwise).",
        f"{dtype} throughout."
        if len(dtypes) == 1
        else f"Precision: {dtype}, as each case declares (What we ran names the cases).",
    ]


# The paper's settings (its App. A table and §2), for listing every difference a run makes.
PAPER_TASK_SETTINGS = {
    "remainder": {
        "task": {"p": 100, "m": 10},
        "train": {"d": 8, "weight_decay": 3.0, "steps": 10000},
    },
    "xor": {"task": {"bits": 3}, "train": {"d": 8, "weight_decay": 3.0, "steps": 30000}},
    "modadd": {"task": {"p": 59}, "train": {"d": 128, "weight_decay": 0.5, "steps": 30000}},
}
PAPER_TRAIN_SETTINGS = {
    "width": 100,
    "lr": 0.01,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
    "train_fraction": 0.8,
    "freeze_embedding": False,
}


# ---------------------------------------------------------------- the study's [analysis] options


def analysis_of(record: dict, schema: type):
    """The run's `[analysis]` options as an instance of the study's schema dataclass.

    The experiment loader has validated the table against the schema and filled its defaults; a key
    missing here (a record written before the key existed) takes the schema's default.
    """
    given = dict(record.get("analysis") or {})
    known = {f.name for f in fields(schema)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise StudyInputError(
            f"[analysis] {unknown[0]}: unknown key; expected one of {', '.join(sorted(known))}"
        )
    return schema(**given)


# ---------------------------------------------------------------- valid trials


def is_finite_trial(trial) -> bool:
    """Training kept a finite loss and the final embedding is finite: the trial's numbers mean something."""
    if trial.result.nonfinite_step is not None:
        return False
    final = getattr(trial.result, "final_embedding", None)
    return final is None or bool(np.all(np.isfinite(np.asarray(final, dtype=np.float64))))


def split_valid(trials: Iterable, needs_generalised: bool = False) -> tuple[list, dict]:
    """(valid trials, {reason: [excluded trials]}), both in id order.

    A trial is invalid when its training diverged (non-finite loss or embedding), and, where the claim
    needs a trained solution (`needs_generalised`), when it never reached 100% test accuracy. Invalid
    trials are left out of every statistic of the claim and counted in the report (`exclusion_lines`).
    """
    valid, excluded = [], {}
    for t in sorted(trials, key=lambda t: t.id):
        if not is_finite_trial(t):
            excluded.setdefault("non-finite training loss or embedding (diverged)", []).append(t)
        elif needs_generalised and t.result.convergence_step is None:
            excluded.setdefault("never reached 100% test accuracy", []).append(t)
        else:
            valid.append(t)
    return valid, excluded


def exclusion_lines(n_total: int, excluded: dict, max_listed: int = 10) -> list[str]:
    """The report's account of excluded trials: how many of how many, why, and which."""
    n_out = sum(len(v) for v in excluded.values())
    if not n_out:
        return [
            f"None: all {n_total} trials are valid (finite, and generalising where a claim needs it)."
        ]
    out = [f"{n_out} of {n_total} trials excluded from every statistic; {n_total - n_out} valid."]
    for why, ts in excluded.items():
        listed = ", ".join(health.describe(t) for t in ts[:max_listed]) + (
            f" and {len(ts) - max_listed} more" if len(ts) > max_listed else ""
        )
        out.append(f"{len(ts)} for {why}: {listed}.")
    return out


def begin(
    trials: Iterable,
    claim_names: Sequence[str],
    options=None,
    cls: type = Measured,
    needs_generalised: bool = False,
    min_share: float | None = None,
) -> Measured:
    """The opening every `measure` shares: the trials in id order, split into valid and excluded (`split_valid`).

    Returns an instance of `cls` (a study's `Measured` subclass) holding them. When too few trials are
    valid to judge (`_verdicts.assessable`), every claim in `claim_names` is "not assessable" and the
    result's `assessable` is False: the study measures nothing more and returns it as it is.
    """
    from cinit_tf.stats import verdicts

    everything = sorted(trials, key=lambda t: t.id)
    valid, excluded = split_valid(everything, needs_generalised)
    m = cls(trials=everything, valid=valid, excluded=excluded, options=options)
    share = verdicts.MIN_VALID_SHARE if min_share is None else min_share
    if not verdicts.assessable(len(valid), len(everything), share):
        m.assessable = False
        m.claims = [
            verdicts.not_assessable(
                name, len(valid), len(everything), f"valid (at least {share:.0%} and 3 are needed)"
            )
            for name in claim_names
        ]
    return m


def section(m: Measured, record: dict, **text) -> Section:
    """The closing every `write` shares: a `Section` whose verdict is the weakest claim, with the claims and exclusions.

    `text` holds the study's own fields (our_number, what_we_ran, deviations, findings, figures, summary,
    short_number, verdict_rule; `excluded` only where a study accounts for its exclusions in groups of its own). A run that was not assessable gets the standard section instead: every claim
    "not assessable", the exclusions counted, no statistic; only `deviations` (by default the trials' deviations
    from the paper's settings) and `verdict_rule` are kept.
    """

    if not m.assessable:
        n, k = len(m.trials), len(m.valid)
        return Section(
            our_number=f"not assessable: {k} of {n} trials valid",
            verdict=headline(m.claims),
            verdict_rule=text.get("verdict_rule", ""),
            what_we_ran=profile_lines(record, m.trials),
            deviations=list(text["deviations"])
            if "deviations" in text
            else paper_setting_deviations(m.trials),
            findings=health.health_findings(m.trials, convergence_matters=False)
            + health.collapse_lines(m.trials),
            summary={
                "valid": k,
                "trials": n,
                "excluded": {why: [t.id for t in ts] for why, ts in m.excluded.items()},
            },
            short_number=f"not assessable ({k}/{n} valid)",
            claims=list(m.claims),
            excluded=exclusion_lines(n, m.excluded),
        )
    text.setdefault("excluded", exclusion_lines(len(m.trials), m.excluded))
    text["findings"] = [*text.get("findings", []), *health.collapse_lines(m.trials)]
    return Section(verdict=headline(m.claims), claims=list(m.claims), **text)


# ---------------------------------------------------------------- trials

TASK_ORDER = ("remainder", "xor", "modadd")  # the paper's order of its three tasks


def task_p(task: dict) -> int:
    """The number of tokens of a task's settings: p, or 2^bits for XOR."""
    return (
        2 ** int(task["bits"])
        if task.get("name") == "xor" or task.get("p") is None
        else int(task["p"])
    )


def final(curve: np.ndarray) -> float:
    """The last recorded value of a curve (what "final test loss" means in every report)."""
    return float(np.asarray(curve)[-1])


def steps_of(trials: Iterable) -> list[int]:
    """The step budgets (`train.steps`) of these trials, sorted, each once."""
    return sorted({int(t.settings["train"]["steps"]) for t in trials})


def chosen(trial, key: str):
    """What the trial's transform chose under `key` (the store keeps it with the trial; docs/method.md#transforms)."""
    choice = getattr(trial, "chosen", None) or {}
    if key not in choice:
        raise StudyInputError(
            f"trial {trial.id}: no stored transform choice {key!r}; it was stored before transforms "
            "returned what they chose, so re-run its experiment to report on it"
        )
    return choice[key]


def group_trials(trials: Iterable, key: Callable) -> dict:
    """Trials grouped by `key(trial)`, groups in sorted key order, trials in id order within a group."""
    groups: dict = {}
    for t in sorted(trials, key=lambda t: t.id):
        groups.setdefault(key(t), []).append(t)
    return {k: groups[k] for k in sorted(groups)}


def profile_lines(
    record: dict, trials: Sequence, case_order: Sequence[str] | None = None
) -> list[str]:
    """The "What we ran" lines every study starts with: overrides, then trials, steps and seeds per case.

    Cases come in `case_order` (labels; others after it, sorted), default sorted by label. The report
    itself already states the experiment, study, profile and trial count above these lines.
    """
    out = []
    if record.get("overrides"):
        out.append("Overrides: " + ", ".join(f"`{o}`" for o in sorted(record["overrides"])) + ".")
    per_case = group_trials(trials, lambda t: t.settings.get("case", ""))
    order = [c for c in (case_order or []) if c in per_case] + [
        c for c in per_case if c not in (case_order or [])
    ]
    for case in order:
        ts = per_case[case]
        steps = steps_of(ts)
        emb = sorted({int(t.settings["seeds"]["embedding"]) for t in ts})
        name = f"`{case}`" if case else "All trials"
        task = dict(ts[0].settings.get("task", {}))
        task_text = ", ".join(
            [str(task.pop("name", "?"))] + [f"{k} = {v}" for k, v in sorted(task.items())]
        )
        out.append(
            f"{name} ({task_text}): {len(ts)} trials, {', '.join(map(str, steps))} steps, "
            f"{len(emb)} distinct embedding seeds." + stopping_text(ts)
        )
    return out


def stopping_text(trials: Sequence) -> str:
    """ " Trained until …: k settled (stop steps …), m at the cap, n diverged." for trials with a settling rule, else ""."""
    rules = {
        (
            t.until,
            t.settings["train"].get("settle_window"),
            t.settings["train"].get("settle_tolerance"),
        )
        for t in trials
    }
    rules = {r for r in rules if r[0] != "steps"}
    if not rules:
        return ""
    described = []
    for until, window, tolerance in sorted(rules, key=str):
        tol = f", tolerance {formatting.fmt(tolerance)} decades" if until == "loss_settled" else ""
        described.append(f"`{until}` (window {window} steps{tol})")
    reasons = {
        r: [int(t.result.stop_step) for t in trials if t.result.stop_reason == r]
        for r in ("settled", "max_steps", "diverged")
    }
    settled = reasons["settled"]
    spread = (
        f" (stop steps {min(settled)}–{int(np.median(settled))}–{max(settled)}, min–median–max)"
        if settled
        else ""
    )
    return (
        f" Trained until {' or '.join(described)}, `steps` being the cap ({formatting.method('stopping-rules')}): "
        f"{len(settled)} settled{spread}, {len(reasons['max_steps'])} stopped at the cap, "
        f"{len(reasons['diverged'])} diverged."
    )


# ---------------------------------------------------------------- deviations


def paper_setting_deviations(trials: Sequence) -> list[str]:
    """One line per case and setting that differs from the paper's (App. A table, §2), e.g. fewer steps.

    Settings a case varies on purpose (its grid keys) are skipped: the study describes its sweep itself.
    """
    out = []
    for case, ts in group_trials(trials, lambda t: t.settings.get("case", "")).items():
        task = ts[0].settings.get("task", {})
        paper = PAPER_TASK_SETTINGS.get(task.get("name"))
        if paper is None:
            continue
        varied = set()
        for t in ts:
            varied |= set(t.settings.get("grid", {}))
        where = f"`{case}`" if case else task.get("name")
        for section, expected in (
            ("task", paper["task"]),
            ("train", {**PAPER_TRAIN_SETTINGS, **paper["train"]}),
        ):
            for key in sorted(expected):
                if f"{section}.{key}" in varied:
                    continue
                values = sorted({json_key(t.settings.get(section, {}).get(key)) for t in ts})
                if values != [json_key(expected[key])]:
                    shown = ", ".join(values)
                    out.append(
                        f"{where}: {section}.{key} = {shown} here, {json_key(expected[key])} in the paper."
                    )
    return out


def json_key(value) -> str:
    """A setting value as text that sorts and compares the same for 3, 3.0 and "3"."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):.10g}"
    return str(value)
