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
from cinit_tf.stats import formatting, verdicts
from cinit_tf.trial import LOSS_FLOOR
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section

# The figures live in _loss_vs_d; the level figure keeps its file name (the loss at the end of training).
figure_final, figure_around_p = loss_figures.figure_levels, loss_figures.figure_around_p

DIP_CLAIM = "dip in frozen test loss at d = p on modular addition"
# §5: "As dimensionality increases, the test loss decreases at a faster rate during training" gives no size: the
# conventional small correlation. Fig. 7's caption: "One can notice a dip in loss at d = p", on a log axis: read as
# at least 0.1 decades (about 20%) below its neighbours, the least a reader could notice on such an axis.
FALLS_MARGIN = verdicts.Margin(
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
DIP_MARGIN = verdicts.Margin(
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
    f"(one-sided Welch's t-test at p < {verdicts.ALPHA:g}), since a rank correlation hides a curve that is not "
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

SHAPES_NOTE = (
    "How the level at d = p (mean log₁₀ test loss over the last tenth of the budget) is read against its two "
    f"nearest grid neighbours, side by side (Welch's t-test per side, p < {verdicts.ALPHA:g}; a description beside "
    "the verdict's contrast): **dip** — significantly lower than both; **bump** — significantly higher than "
    "both; **step** — significantly different from both and between them; **lower/higher than d = x only** — "
    "significant on one side only; **not resolved from seed noise** — on neither side."
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


def loss_of(trial) -> str:
    """The cross-entropy a trial trained with ("standard" for trials stored before the setting existed)."""
    return trial.settings["train"].get("loss", "standard")


def judged(trials) -> list:
    """The trials the claims read: of a task trained with the exact loss, only its exact-loss trials (the
    standard-loss ones beside them show the paper's likely float32 setting and are not judged)."""
    exact = {t.settings["task"]["name"] for t in trials if loss_of(t) == "exact"}
    return [t for t in trials if t.settings["task"]["name"] not in exact or loss_of(t) == "exact"]


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


def falls_claim(c: dict) -> verdicts.Claim:
    """ "Loss falls with d" on one task: Spearman's trend of the time-averaged log₁₀ test loss, lowered to
    partly by a significant rise of the level between adjacent points."""
    name = falls_name(c["task"])
    if not c["assessable"]:
        return verdicts.not_assessable(name, c["valid_frozen"], c["total_frozen"], kind="trend")
    pts = [(d, loss_vs_d.time_log_loss(t)) for d, ts in c["_frozen_trials"].items() for t in ts]
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
        if r["p"] < verdicts.ALPHA and not (c["task"] == "modadd" and r["from"] == c["p"])
    ]
    if claim.verdict == verdicts.REPRODUCED and rises:
        where = ", ".join(
            f"d = {r['from']} → {r['to']} (+{formatting.fmt(r['rise'])} decades, {formatting.fmt_p(r['p'])})"
            for r in rises
        )
        note = "; ".join(x for x in (claim.note, f"the level rises at {where}") if x)
        return dataclasses.replace(claim, verdict=verdicts.PARTLY, reason="not_monotone", note=note)
    return claim


def flat_text(dip: dict) -> str:
    """How much the curves at d = p and its neighbours still moved over the last quarter (`loss_vs_d.flattening`)."""
    flat = dip["flattening"]
    size = flat["size"]
    than = (
        ""
        if not np.isfinite(size)
        else f", {'less' if size < DIP_MARGIN.value else 'not less'} than "
        f"the dip's margin of {DIP_MARGIN.value:g}"
    )
    return (
        f"the log₁₀ test loss at d = {dip['below']}, {dip['p']}, {dip['above']} moved {formatting.fmt(size)} "
        f"decades per trial (mean size; {formatting.fmt(flat['change'])} signed) over the last quarter of "
        f"training{than}"
    )


def dip_claim(c: dict | None) -> verdicts.Claim:
    """The dip at d = p on modular addition: the level's contrast against both neighbours, at the budget."""
    if c is None:
        return verdicts.Claim(
            DIP_CLAIM,
            verdicts.NOT_ASSESSABLE,
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
        return verdicts.Claim(
            DIP_CLAIM,
            verdicts.NOT_ASSESSABLE,
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
        note=f"n = {'/'.join(map(str, k['n']))}; {flat_text(dip)}",
    )


@dataclass(kw_only=True)
class FreezeMeasured(Measured):
    """The numbers of a freezing run: one `loss_vs_d.task_sweep` per task, in the paper's task order."""

    cases: list = field(default_factory=list)
    late_rise: dict = field(
        default_factory=dict
    )  # `late_rise` of the valid trials that trained until settled
    companions: list = field(
        default_factory=list
    )  # `companions`: (standard-loss trial, exact twin or None)
    companion: dict = field(default_factory=dict)  # `companion_numbers` of them


def late_rise(trials) -> dict:
    """How a run's training loss ends against its lowest: {"n", "risen", "step", "lowest", "rise"}, the last three
    medians over the `risen` runs (step of the lowest training loss, log₁₀ of it, log₁₀ last / lowest).

    A run whose loss rose by RISE_DECADES or more after its lowest point has not settled, and a longer cap makes it
    settle only if the loss falls back and holds; the report says so for runs trained until settled.
    """
    rows = []
    for t in trials:
        loss = getattr(t.result, "train_loss", None)
        loss = np.asarray([] if loss is None else loss, dtype=float)
        if loss.size == 0 or not (
            np.isfinite(loss[-1]) and loss[-1] > 0
        ):  # no record, or a run that ended non-finite
            continue
        i = int(np.nanargmin(loss))
        rows.append(
            (
                int(np.asarray(t.result.steps)[i]),
                float(np.log10(loss[i])),
                float(np.log10(loss[-1] / loss[i])),
            )
        )
    risen = [r for r in rows if r[2] >= RISE_DECADES]

    def med(k):
        return float(np.median([r[k] for r in risen])) if risen else float("nan")

    return {
        "n": len(rows),
        "risen": len(risen),
        "step": med(0),
        "lowest": med(1),
        "rise": med(2),
        "step_range": (min(r[0] for r in risen), max(r[0] for r in risen)) if risen else None,
    }


def _point_key(t) -> tuple:
    """What makes two trials twins across losses: task, grid point (d, arm) and the three seeds."""
    s = t.settings
    return (
        s["task"]["name"],
        int(s["train"]["d"]),
        bool(s["train"]["freeze_embedding"]),
        tuple(sorted(s["seeds"].items())),
    )


def companions(trials) -> list[tuple]:
    """The standard-loss trials beside a task trained with the exact loss (those `judged` leaves out), each
    with the exact-loss trial of the same task, grid point and seeds (None when there is none), by id."""
    kept = {t.id for t in judged(trials)}
    exact = {_point_key(t): t for t in trials if loss_of(t) == "exact"}
    return [
        (t, exact.get(_point_key(t)))
        for t in sorted(trials, key=lambda t: t.id)
        if t.id not in kept
    ]


def companion_numbers(pairs) -> dict:
    """Softmax collapse in the companion trials (`curve_stats.companion_collapse`; levels as the claims read them)."""
    return curve_stats.companion_collapse(
        pairs, lambda t: loss_vs_d.level(t, LEVEL_FROM), LOSS_FLOOR
    )


def companion_text(k: dict) -> str:
    """The companion's sentence, from `companion_numbers`."""
    text = curve_stats.companion_sentence(
        k,
        "trials trained with the standard float32 loss (not judged)",
        "the exact-loss run with the same seeds and grid point",
    )
    return text[:-1] + " (the last figure)."


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
        else verdicts.Claim(
            falls_name(name),
            verdicts.NOT_ASSESSABLE,
            f"no {name} trials in this run",
            kind="trend",
            reason="too_few_valid",
            n=0,
        )
        for name in writeup.TASK_ORDER
    ]
    m.claims.append(dip_claim(by_task.get("modadd")))
    m.assessable = any(c["assessable"] for c in cases)
    m.late_rise = late_rise(
        [t for t in m.valid if t.settings["train"].get("until", "steps") != "steps"]
    )
    m.companions = companions(trials)
    m.companion = companion_numbers(m.companions)
    return m


# ---------------------------------------------------------------- text


def _point(s: dict) -> str:
    text = f"{formatting.fmt(s['mean'])} ± {formatting.fmt(s['std'])} (n = {s['n']})"
    return text + (f", {s['nonfinite']} non-finite" if s["nonfinite"] else "")


def _spearman_text(r: dict) -> str:
    return f"ρ = {formatting.fmt(r['rho'])} ({formatting.fmt_p(r['p'])}, n = {r['n']})"


LEVEL_WORDS = "test loss over the last tenth of the budget (10^level)"


def table(c) -> str:
    rows = []
    for d in sorted(set(c["frozen"]) | set(c["trained"])):
        f, t = c["frozen"].get(d), c["trained"].get(d)
        rows.append(
            [
                f"{d}" + (" = p" if d == c["p"] else ""),
                _point(f) if f else "–",
                formatting.fmt(f["test_acc"]) if f else "–",
                _point(t) if t else "–",
                formatting.fmt(t["test_acc"]) if t else "–",
            ]
        )
    return formatting.md_table(
        [
            "d",
            f"frozen: {LEVEL_WORDS}, mean ± std",
            "frozen: mean final test acc",
            f"trained: {LEVEL_WORDS}, mean ± std",
            "trained: mean final test acc",
        ],
        rows,
    )


def dip_text(c) -> str:
    dip = c["dip"]
    if dip is None:
        return (
            f"No dip test for `{c['label']}`: its frozen grid does not hold d = p = {c['p']} with a grid "
            "point on each side."
        )

    def side(key):
        w = dip[f"vs_{key}"]
        return (
            f"{_point(dip[f'at_{key}'])} at d = {dip[key]} (difference of mean level "
            f"{formatting.fmt(w['difference'])} decades; Welch t = {formatting.fmt(w['t'])}, {formatting.fmt_p(w['p'])})"
        )

    k = dip["contrast"]
    return (
        f"`{c['label']}` around d = p = {c['p']}: frozen {LEVEL_WORDS} {_point(dip['at'])} at d = "
        f"{c['p']}, against {side('below')} and {side('above')}: side by side, **{dip['shape']}**. The "
        "verdict's contrast (mean level at d = p minus the mean of its neighbours'): "
        f"{formatting.fmt(k['difference'])} decades, 95% CI [{formatting.fmt(k['ci95'][0])}, {formatting.fmt(k['ci95'][1])}], "
        f"{formatting.fmt_p(k['p'])}. Still moving at the budget: {flat_text(dip)}."
    )


def step_text(c) -> str:
    s = c["step"]
    if s is None:
        return ""
    (mb, sb, nb), (ma, sa, na) = s["below"], s["above"]
    return (
        f"`{c['label']}`, the text's phase-transition reading: frozen level (mean log₁₀ test loss over "
        f"the last tenth, in log₁₀) {formatting.fmt(ma)} ± {formatting.fmt(sa)} (n = {na}) over all d > p against "
        f"{formatting.fmt(mb)} ± {formatting.fmt(sb)} (n = {nb}) over all d < p (Welch t = {formatting.fmt(s['welch']['t'])}, "
        f"{formatting.fmt_p(s['welch']['p'])}). Not part of the verdict rule, which tests the dip."
    )


def _summary_case(c) -> dict:
    return {k: v for k, v in c.items() if not k.startswith("_")}


# ---------------------------------------------------------------- write


def write(m: FreezeMeasured, record: dict, out_dir: Path) -> Section:
    """The section: the trend per task, the dip at d = p on modular addition, every grid point, and the figures."""
    if not m.assessable:
        return writeup.section(m, record, deviations=_deviations(m.trials))
    out_dir = Path(out_dir)
    cases = m.cases
    modadd = next((c for c in cases if c["task"] == "modadd"), None)
    dip = modadd["dip"] if modadd else None
    our = "; ".join(f"{c['task']}: {_spearman_text(c['spearman_frozen'])}" for c in cases)
    our = f"Spearman ρ between d and the frozen-embedding time-averaged log₁₀ test loss — {our}"
    if dip is not None:
        k = dip["contrast"]
        our += (
            f"; modadd {LEVEL_WORDS} at d = p = {dip['p']}: {_point(dip['at'])} against "
            f"{_point(dip['at_below'])} at d = {dip['below']} and {_point(dip['at_above'])} at "
            f"d = {dip['above']}; "
            f"contrast of the level {formatting.fmt(k['difference'])} decades "
            f"(95% CI [{formatting.fmt(k['ci95'][0])}, {formatting.fmt(k['ci95'][1])}])"
        )
    short = ", ".join(
        f"{c['task']} ρ = {formatting.fmt(c['spearman_frozen']['rho'], 2)}" for c in cases
    )
    short += (
        f"; d = p − neighbours: {formatting.fmt(dip['contrast']['difference'], 2)} decades "
        f"[{formatting.fmt(dip['contrast']['ci95'][0], 2)}, {formatting.fmt(dip['contrast']['ci95'][1], 2)}]"
        if dip
        else "; d = p: not tested"
    )
    figures = [
        loss_figures.figure_curves(cases, out_dir),
        loss_figures.figure_levels(cases, out_dir),
    ]
    figures += [loss_figures.figure_around_p(c, out_dir) for c in cases if c["dip"] is not None]
    if m.companions:
        figures.append(loss_figures.figure_companion(m.companions, out_dir))
    return writeup.section(
        m,
        record,
        our_number=our,
        short_number=short,
        what_we_ran=_what_we_ran(m, record),
        deviations=_deviations(m.trials),
        findings=_findings(m),
        figures=figures,
        summary={
            "cases": {c["label"]: _summary_case(c) for c in cases},
            "claims": {cl.name: cl.verdict for cl in m.claims},
            "excluded_trials": sum(len(v) for v in m.excluded.values()),
            **({"companion": m.companion} if m.companions else {}),
        },
    )


def _what_we_ran(m: FreezeMeasured, record: dict) -> list[str]:
    ran = writeup.profile_lines(record, m.trials)
    for c in m.cases:
        ds_f, ds_t = sorted(c["frozen"]), sorted(c["trained"])
        seeds_f = ", ".join(
            f"{d}: {c['frozen'][d]['n'] + c['frozen'][d]['nonfinite']}" for d in ds_f
        )
        ran.append(
            f"{c['task']} (cases {', '.join(f'`{x}`' for x in c['cases'])}): frozen d ∈ {{{', '.join(map(str, ds_f))}}} "
            f"(seeds per point — {seeds_f}); trained d ∈ {{{', '.join(map(str, ds_t))}}}; "
            f"{'/'.join(map(str, c['steps']))} steps; weight decay {', '.join(formatting.fmt(w) for w in c['weight_decay'])}."
        )
    ran.append(
        "Each seed is one trial with its own embedding, MLP and split seed (seeds layout `independent`); "
        "a point's frozen and trained trials share their seeds, so they start from the same embedding."
    )
    return ran


def _deviations(trials) -> list[str]:
    return [
        "The paper does not list the dimensions of Fig. 7 and Fig. 9 or how many seeds each curve averages; the grid "
        "of d (dense around d = p on modular addition) and the seeds per point are ours (see What we ran).",
        "The paper shows curves only. We read two numbers off each trial, both in log₁₀ (losses span "
        "decades, so means and CIs are of the log): how fast the loss falls, the time-averaged log₁₀ test "
        'loss over the budget ("loss falls with d"), and the level it holds, the mean log₁₀ test loss over '
        "the last tenth of the budget (the dip, the rises between points, the step and the table; "
        f"{writeup.method('the-exact-loss')}).",
        f"A frozen embedding is not trainable, so it is neither updated nor decayed ({writeup.method('optimizer')}); the MLP keeps the task's "
        "weight decay.",
        "The runs with a trained embedding are our reference; the paper shows only frozen runs.",
        'Fig. 7\'s caption says "dip at d = p"; the text says "phase transition ... significantly lower when d > p '
        f'compared to when d < p". The verdict tests the dip ({writeup.method("verdict-rules")}); the step is reported as a finding.',
        *writeup.paper_setting_deviations(trials),
        *writeup.common_deviations(trials),
        writeup.STATISTICS_NOTE,
    ]


def _findings(m: FreezeMeasured) -> list[str]:
    findings = [SHAPES_NOTE]
    for c in m.cases:
        findings.append(
            f"**{c['task']}** (p = {c['p']}, {', '.join(map(str, c['steps']))} steps; paper Fig. "
            f"{7 if c['task'] == 'modadd' else 9}). Frozen: "
            f"{_spearman_text(c['spearman_frozen'])} on the time-averaged log₁₀ test loss, "
            f"{_spearman_text(c['spearman_frozen_level'])} on the level (mean log₁₀ test loss "
            f"over the last tenth). Trained reference: {_spearman_text(c['spearman_trained'])} "
            "on the time-averaged log₁₀ test loss."
        )
        findings.append(table(c))
        rises = [r for r in c["rises"] if r["rise"] > 0]
        if rises:
            where = ", ".join(
                f"d = {r['from']} → {r['to']} (+{formatting.fmt(r['rise'])} decades, one-sided Welch "
                f"{formatting.fmt_p(r['p'])})"
                for r in rises
            )
            findings.append(
                f"`{c['task']}`: the frozen level rises with d between adjacent points at {where}."
            )
        if c["dip"] is not None or c["task"] == "modadd":
            findings.append(dip_text(c))
        if c["task"] == "modadd" and c["step"] is not None:
            findings.append(step_text(c))
    if m.companions:
        findings.append(companion_text(m.companion))
    r = m.late_rise
    if r.get("risen"):  # only runs trained until settled enter late_rise
        lo, hi = r["step_range"]
        findings.append(
            f"Why no run settled: in {r['risen']} of the {r['n']} runs trained until settled, the training "
            f"loss fell to its lowest, 10^{formatting.fmt(r['lowest'])} (median), at step {r['step']:,.0f} (median; "
            f"{lo:,}–{hi:,}), and then rose by {formatting.fmt(r['rise'])} decades (median) by the last record; the "
            "test loss rises with it (Figure 1). A loss that rises again after its lowest point does not "
            "hold still for the stopping rule's window, so these runs reached the cap; a longer cap helps "
            "only if the loss falls back and holds."
        )
    trials = m.trials
    findings += writeup.health_findings(trials, convergence_matters=False)
    unconverged = writeup.trial_health(trials)["unconverged"]
    frozen_ids = {t.id for t in trials if t.settings["train"]["freeze_embedding"]}
    findings.append(
        f"{len([i for i in unconverged if i in frozen_ids])} of {len(frozen_ids)} frozen and "
        f"{len([i for i in unconverged if i not in frozen_ids])} of {len(trials) - len(frozen_ids)} trained trials "
        "never reached 100% test accuracy (the claim is about loss, so this is context, not a filter)."
    )
    return findings
