"""§5, Fig. 7 and App. B, Fig. 9: freeze the embedding at initialisation, train only the MLP.

The paper's claim: with the random embedding frozen, test loss falls faster and lower as the
embedding dimension d grows, on all three tasks; on modular addition there is a dip at d = p
(Fig. 7's caption; the text calls it a phase transition, lower loss for d > p than d < p).

Trials: cases over `train.d` and `train.freeze_embedding` (the trained-embedding runs are a
reference of ours); all cases of one task are analysed together, so a dense grid around d = p with
many seeds and a wider grid with few can sit in separate cases. Modular addition trains with the exact
loss for the paper's fixed budget (docs/method.md#the-exact-loss); standard-loss trials beside it
(`modadd_float32`) are a companion, compared with the exact-loss trials of the same seeds and grid point, and
not judged. What is measured, on a log scale (losses span decades): how fast the test loss falls, the
time-averaged log₁₀ test loss over the budget, for "loss falls with d"; the level it holds, the mean log₁₀
test loss over the last tenth of the budget (LEVEL_FROM), for the dip and every comparison of levels.

Verdict rule (fixed here, before any numbers): VERDICT_RULE, declared in DECLARATION.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import loss_vs_d as loss_figures
from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures import loss_vs_d
from cinit_tf.prose import freeze_embedding as freeze_report
from cinit_tf.stats import formatting, verdicts
from cinit_tf.stats.claims import ALPHA, NOT_ASSESSABLE, PARTLY, REPRODUCED, Claim, Margin
from cinit_tf.trial import LOSS_FLOOR
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section

# The figures live in figures/loss_vs_d; the level figure keeps its file name (the loss at the end of training).
figure_final, figure_around_p = loss_figures.figure_levels, loss_figures.figure_around_p

DIP_CLAIM = "dip in frozen test loss at d = p on modular addition"
# §5: "As dimensionality increases, the test loss decreases at a faster rate during training" gives no size: the
# conventional small correlation. Fig. 7's caption: "One can notice a dip in loss at d = p", on a log axis: read as
# at least 0.1 decades (about 20%) below its neighbours, the least a reader could notice on such an axis.
FALLS_MARGIN = Margin(
    verdicts.CONVENTIONAL_RHO.value,
    '§5: "As dimensionality increases, the test loss decreases at a '
    'faster rate during training", no size given: ' + verdicts.CONVENTIONAL_RHO.source,
)
# A level is read over the last tenth of the budget (records at steps ≥ LEVEL_FROM × budget), as the mean
# log₁₀ test loss there: the paper reads its curves at its fixed budget, and a tenth of it (3,000 steps, 30
# records at 30,000) averages out the wobble of a single record while still being the end of training.
LEVEL_FROM = 0.9
# A training loss this many decades above its lowest at the last record has risen again (late_rise): a tenfold
# rise is far beyond the seed-to-seed wobble of a settled curve (a few hundredths of a decade).
RISE_DECADES = 1.0
DIP_MARGIN = Margin(
    0.1,
    'Fig. 7: "One can notice a dip in loss at d = p", read as at least 0.1 decades (~20%) '
    "below its neighbours on the figure's log axis",
)

VERDICT_RULE = (
    "four claims on the frozen-embedding trials (valid: finite training); the headline is the weakest. A "
    "trial's speed is its time-averaged log₁₀ test loss over the budget (trapezoids over the recorded steps, "
    f"floored at {LOSS_FLOOR:g}); its level is the mean log₁₀ test loss of its records over the last tenth "
    f'of the budget (steps ≥ {LEVEL_FROM:g} × budget). For each task, "loss falls with d": Spearman ρ '
    "between d and the time-averaged log₁₀ test loss (one point per trial), with its Fisher-z 95% CI, margin "
    f"|ρ| = {FALLS_MARGIN.value:g} ({FALLS_MARGIN.source}): {verdicts.direction_outcomes('negative')}; a reproduced "
    "trend is lowered to partly when the level rises significantly between two adjacent grid points "
    f"(one-sided Welch's t-test at p < {ALPHA:g}), since a rank correlation hides a curve that is not "
    "monotone (on modular addition the rise out of the claimed dip, from d = p to the next point, does not "
    f'count). "{DIP_CLAIM}": the difference between the mean level at d = p and the mean of the mean '
    "levels at its two nearest grid neighbours, with a Welch–Satterthwaite 95% CI, margin "
    f"{DIP_MARGIN.value:g} decades ({DIP_MARGIN.source}): {verdicts.direction_outcomes('negative')} (negative: a "
    "dip). The level is read at the paper's fixed budget, as the paper reads Fig. 7; how much the curves "
    "there still moved over the last quarter is reported beside it. A task whose valid frozen trials are "
    f"fewer than {verdicts.MIN_VALID_SHARE:.0%} of its frozen trials (or fewer than 3) is not assessable. "
    "Standard-loss trials beside a task trained with the exact loss are not judged."
)

CLAIM = (
    "With the embedding frozen at its random initialisation and only the MLP trained, the test loss decreases "
    "faster as the embedding dimension d grows, on all three tasks (Fig. 7 for modular addition, Fig. 9 for XOR "
    'and remainder): higher-dimensional random embeddings are more "complete". On modular addition the paper '
    "notes a phase transition around d = p, with significantly lower loss for d > p than for d < p; Fig. 7's "
    "caption calls it a dip in loss at d = p."
)

PAPER_NUMBER = "loss falls with d on all three tasks (Fig. 7, 9; no number given); dip at d = p = 59 on modular addition (Fig. 7)"

DECLARATION = Declaration(
    paper_ref="§5, Fig. 7; App. B, Fig. 9",
    title="Freezing the embedding: test loss against embedding dimension",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- measure


def precision_of(trial) -> str:
    """The precision a trial trained in ("float32" for trials stored before the setting was recorded)."""
    return trial.settings["train"].get("dtype", "float32")


def judged(trials) -> list:
    """The trials the claims read: the float32 ones, and of a task trained with the exact loss only its
    exact-loss trials (the standard-loss ones beside them show the paper's likely float32 setting, the
    float64 ones check float32's precision; neither is judged)."""
    single = [t for t in trials if precision_of(t) == "float32"]
    exact = {t.settings["task"]["name"] for t in single if t.loss == "exact"}
    return [t for t in single if t.settings["task"]["name"] not in exact or t.loss == "exact"]


def by_case(trials) -> list[tuple[str, list]]:
    """(task name, judged trials of every case of that task) in the paper's task order, then by name."""
    groups = writeup.group_trials(judged(trials), lambda t: t.settings["task"]["name"])

    def order(name):
        return (
            writeup.TASK_ORDER.index(name)
            if name in writeup.TASK_ORDER
            else len(writeup.TASK_ORDER),
            name,
        )

    return [(name, groups[name]) for name in sorted(groups, key=order)]


def falls_name(task: str) -> str:
    return f"loss falls with d on {task} (frozen; Fig. {7 if task == 'modadd' else 9})"


def falls_claim(c: dict) -> Claim:
    """ "Loss falls with d" on one task: Spearman's trend of the time-averaged log₁₀ test loss, lowered to
    partly by a significant rise of the level between adjacent points."""
    name = falls_name(c["task"])
    if not c["assessable"]:
        return verdicts.not_assessable(name, c["valid_frozen"], c["total_frozen"], kind="trend")
    pts = c["_frozen_speed"]
    claim = verdicts.trend(
        name,
        [d for d, _ in pts],
        [v for _, v in pts],
        -1,
        "Spearman ρ(d, time-averaged log₁₀ test loss)",
        margin=FALLS_MARGIN,
    )
    rises = [
        r
        for r in c["rises"]
        if r["p"] < ALPHA and not (c["task"] == "modadd" and r["from"] == c["p"])
    ]
    if claim.verdict == REPRODUCED and rises:
        where = ", ".join(
            f"d = {r['from']} → {r['to']} (+{formatting.fmt(r['rise'])} decades, {formatting.fmt_p(r['p'])})"
            for r in rises
        )
        note = "; ".join(x for x in (claim.note, f"the level rises at {where}") if x)
        return dataclasses.replace(claim, verdict=PARTLY, reason="not_monotone", note=note)
    return claim


def dip_claim(c: dict | None) -> Claim:
    """The dip at d = p on modular addition: the level's contrast against both neighbours, at the budget."""
    if c is None:
        return Claim(
            DIP_CLAIM,
            NOT_ASSESSABLE,
            "no modular-addition trials in this run",
            kind="direction",
            reason="too_few_valid",
            n=0,
        )
    if not c["assessable"]:
        return verdicts.not_assessable(
            DIP_CLAIM, c["valid_frozen"], c["total_frozen"], kind="direction"
        )
    dip = c["dip"]
    if dip is None:
        return Claim(
            DIP_CLAIM,
            NOT_ASSESSABLE,
            f"the frozen grid does not hold d = p = {c['p']} with a point on each side",
            kind="direction",
            reason="precondition_fails",
        )
    k = dip["contrast"]
    return verdicts.direction(
        DIP_CLAIM,
        k["difference"],
        k["ci95"][0],
        k["ci95"][1],
        k["p"],
        -1,
        f"level (mean log₁₀ test loss, last tenth) at d = {dip['p']} − mean of "
        f"d = {dip['below']} and d = {dip['above']}",
        margin=DIP_MARGIN,
        n=sum(k["n"]),
        note=f"n = {'/'.join(map(str, k['n']))}; {freeze_report.flat_text(dip, DIP_MARGIN.value)}",
    )


@dataclass(kw_only=True)
class FreezeMeasured(Measured):
    """The numbers of a freezing run: one `loss_vs_d.task_sweep` per task, in the paper's task order."""

    cases: list = field(default_factory=list)
    # `loss_vs_d.late_rise` of the valid trials that trained until settled
    late_rise: dict = field(default_factory=dict)
    # `companions`: (standard-loss trial, exact twin or None), and their `companion_numbers`
    companions: list = field(default_factory=list)
    companion: dict = field(default_factory=dict)
    # `precision_checks`: (float64 trial, its judged float32 twin or None), and their `precision_numbers`
    precision_checks: list = field(default_factory=list)
    precision: dict = field(default_factory=dict)


def _point_key(t) -> tuple:
    """What makes two trials twins across losses: task, grid point (d, arm) and the three seeds."""
    train = t.settings["train"]
    return t.settings["task"]["name"], int(train["d"]), bool(train["freeze_embedding"]), t.seeds


def companions(trials) -> list[tuple]:
    """The float32 standard-loss trials beside a task trained with the exact loss (those `judged` leaves out),
    each with the exact-loss trial of the same task, grid point and seeds (None when there is none), by id."""
    kept = {t.id for t in judged(trials)}
    exact = {_point_key(t): t for t in trials if t.loss == "exact" and t.id in kept}
    return [
        (t, exact.get(_point_key(t)))
        for t in sorted(trials, key=lambda t: t.id)
        if t.id not in kept and precision_of(t) == "float32"
    ]


def precision_checks(trials) -> list[tuple]:
    """The float64 trials, each with the judged float32 trial of the same task, grid point and seeds (None
    when there is none), by id."""
    twin = {_point_key(t): t for t in judged(trials)}
    return [
        (t, twin.get(_point_key(t)))
        for t in sorted(trials, key=lambda t: t.id)
        if precision_of(t) != "float32"
    ]


def _dip_contrast(by_d: dict[int, list[float]], p: int) -> float | None:
    """Mean level at d = p minus the mean of the mean levels at its nearest points on each side (the dip
    claim's contrast, without its interval and tests); None when the points are missing."""
    sides = loss_vs_d.neighbours(by_d, p)
    if sides is None:
        return None
    mean = {d: float(np.mean(by_d[d])) for d in (p, *sides)}
    return mean[p] - (mean[sides[0]] + mean[sides[1]]) / 2


def precision_numbers(pairs, p: int) -> dict:
    """How far the judged float32 trials' levels lie from their float64 twins' (frozen modular addition):
    {"n", "twins", "seeds", "twin_seeds" (of the twins with finite levels), "gap" (median of float32
    level minus float64 level, decades), "range", "by_d" (median gap per d), "dip_float64",
    "dip_float32" (`_dip_contrast` of the twinned trials in each precision, or None)}."""
    twinned = [
        (t, w) for t, w in pairs if w is not None and t.settings["train"]["freeze_embedding"]
    ]
    levels = [
        (
            int(t.settings["train"]["d"]),
            loss_vs_d.level(t, LEVEL_FROM),
            loss_vs_d.level(w, LEVEL_FROM),
            t.settings["seeds"]["embedding"],
        )
        for t, w in twinned
    ]
    levels = [(d, x, y, seed) for d, x, y, seed in levels if np.isfinite(x) and np.isfinite(y)]
    gaps: dict[int, list[float]] = {}
    in64: dict[int, list[float]] = {}
    in32: dict[int, list[float]] = {}
    for d, x64, x32, _ in levels:
        gaps.setdefault(d, []).append(x32 - x64)
        in64.setdefault(d, []).append(x64)
        in32.setdefault(d, []).append(x32)
    every = [g for v in gaps.values() for g in v]
    return {
        "n": len(pairs),
        "twins": len(levels),
        "seeds": sorted({t.settings["seeds"]["embedding"] for t, _ in pairs}),
        "twin_seeds": sorted({seed for *_, seed in levels}),
        "gap": float(np.median(every)) if every else None,
        "range": (min(every), max(every)) if every else None,
        "by_d": {d: float(np.median(v)) for d, v in sorted(gaps.items())},
        "dip_float64": _dip_contrast(in64, p),
        "dip_float32": _dip_contrast(in32, p),
    }


def companion_numbers(pairs) -> dict:
    """Softmax collapse in the companion trials (`curve_stats.companion_collapse`; levels as the claims read them)."""
    return curve_stats.companion_collapse(
        pairs, lambda t: loss_vs_d.level(t, LEVEL_FROM), LOSS_FLOOR
    )


def measure(trials, options=None) -> FreezeMeasured:
    """Each task's sweep over d and the four claims.

    Validity is judged per task (a task with too few valid frozen trials makes its own claims not assessable);
    the run as a whole is not assessable only when no task is.
    """
    cases = [loss_vs_d.task_sweep(label, ts, LEVEL_FROM) for label, ts in by_case(trials)]
    excluded: dict = {}
    for c in cases:
        for why, ts in c["_excluded"].items():
            excluded.setdefault(why, []).extend(ts)
    m = FreezeMeasured(
        trials=sorted(trials, key=lambda t: t.id),
        valid=[t for c in cases for t in c["_valid"]],
        excluded=excluded,
        options=options,
        cases=cases,
    )
    by_task = {c["task"]: c for c in cases}
    m.claims = [
        falls_claim(by_task[name])
        if name in by_task
        else Claim(
            falls_name(name),
            NOT_ASSESSABLE,
            f"no {name} trials in this run",
            kind="trend",
            reason="too_few_valid",
            n=0,
        )
        for name in writeup.TASK_ORDER
    ]
    m.claims.append(dip_claim(by_task.get("modadd")))
    m.assessable = any(c["assessable"] for c in cases)
    m.late_rise = loss_vs_d.late_rise([t for t in m.valid if t.until_settled], RISE_DECADES)
    m.companions = companions(trials)
    m.companion = companion_numbers(m.companions)
    m.precision_checks = precision_checks(trials)
    if m.precision_checks:
        modadd = by_task.get("modadd")
        m.precision = precision_numbers(m.precision_checks, modadd["p"] if modadd else 0)
        m.claims = [precision_noted(c, m.precision) if c.name == DIP_CLAIM else c for c in m.claims]
    return m


def precision_noted(claim: Claim, k: dict) -> Claim:
    """The dip claim with the float64 check in its note when, on the checked seeds, float32's precision
    alone moves the dip's contrast by at least the claim's margin (declared with the check; the verdict is
    the float32 one, read with this beside it)."""
    c64, c32 = k.get("dip_float64"), k.get("dip_float32")
    if c64 is None or c32 is None or abs(c32 - c64) < DIP_MARGIN.value:
        return claim
    note = (
        f"float64 check: on the {len(k['twin_seeds'])} checked seeds the contrast is {formatting.fmt(c64, 2)} "
        f"decades in float64 against {formatting.fmt(c32, 2)} in float32, as far apart as the margin or "
        "more: float32's precision alone moves it by an effect of the claimed size; "
        + freeze_report.sign_agreement(c64, c32)
    )
    return dataclasses.replace(claim, note="; ".join(x for x in (claim.note, note) if x))


def _summary_case(c) -> dict:
    return {k: v for k, v in c.items() if not k.startswith("_")}


def write(m: FreezeMeasured, record: dict, out_dir: Path) -> Section:
    """The section: the trend per task, the dip at d = p on modular addition, every grid point, and the figures."""
    if not m.assessable:
        return writeup.section(m, record, deviations=freeze_report.deviations(m.trials))
    out_dir = Path(out_dir)
    cases = m.cases
    our, short = freeze_report.numbers(cases)
    figures = [
        loss_figures.figure_curves(cases, out_dir),
        loss_figures.figure_levels(cases, out_dir),
    ]
    figures += [
        loss_figures.figure_around_p(
            c, out_dir, m.precision_checks if c["task"] == "modadd" else ()
        )
        for c in cases
        if c["dip"] is not None
    ]
    if m.companions:
        figures.append(loss_figures.figure_companion(m.companions, out_dir))
    return writeup.section(
        m,
        record,
        our_number=our,
        short_number=short,
        what_we_ran=freeze_report.what_we_ran(m, record),
        deviations=freeze_report.deviations(m.trials),
        findings=freeze_report.findings(m, DIP_MARGIN.value),
        figures=figures,
        summary={
            "cases": {c["label"]: _summary_case(c) for c in cases},
            "claims": {cl.name: cl.verdict for cl in m.claims},
            "excluded_trials": sum(len(v) for v in m.excluded.values()),
            **({"companion": m.companion} if m.companions else {}),
            **({"precision_check": m.precision} if m.precision_checks else {}),
        },
    )
