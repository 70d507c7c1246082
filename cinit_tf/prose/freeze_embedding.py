"""The tables and report text of the freeze-embedding study (§5, Fig. 7; App. B, Fig. 9): each task's grid
table, the dip and the step read out, the companion, the findings, the deviations from the paper, what we
ran and our number.

Each writes out what `freeze_embedding.measure` computed (`loss_vs_d.task_sweep` per task); no claim is
judged here.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.measures import curves as curve_stats
from cinit_tf.stats import formatting
from cinit_tf.stats.claims import ALPHA
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health

SHAPES_NOTE = (
    "How the level at d = p (mean log₁₀ test loss over the last tenth of the budget) is read against its two "
    f"nearest grid neighbours, side by side (Welch's t-test per side, p < {ALPHA:g}; a description beside "
    "the verdict's contrast): **dip** — significantly lower than both; **bump** — significantly higher than "
    "both; **step** — significantly different from both and between them; **lower/higher than d = x only** — "
    "significant on one side only; **not resolved from seed noise** — on neither side."
)


def point_text(s: dict) -> str:
    text = f"{formatting.fmt(s['mean'])} ± {formatting.fmt(s['std'])} (n = {s['n']})"
    return text + (f", {s['nonfinite']} non-finite" if s["nonfinite"] else "")


def spearman_text(r: dict) -> str:
    return f"ρ = {formatting.fmt(r['rho'])} ({formatting.fmt_p(r['p'])}, n = {r['n']})"


LEVEL_WORDS = "test loss over the last tenth of the budget (10^level)"


def table(c) -> str:
    """Every grid point of one task (`task_sweep`): the level of both arms, and the final test accuracy."""
    rows = []
    for d in sorted(set(c["frozen"]) | set(c["trained"])):
        f, t = c["frozen"].get(d), c["trained"].get(d)
        rows.append(
            [
                f"{d}" + (" = p" if d == c["p"] else ""),
                point_text(f) if f else "–",
                formatting.fmt(f["test_acc"]) if f else "–",
                point_text(t) if t else "–",
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


def dip_text(c, dip_margin: float) -> str:
    dip = c["dip"]
    if dip is None:
        return (
            f"No dip test for `{c['label']}`: its frozen grid does not hold d = p = {c['p']} with a grid "
            "point on each side."
        )

    def side(key):
        w = dip[f"vs_{key}"]
        return (
            f"{point_text(dip[f'at_{key}'])} at d = {dip[key]} (difference of mean level "
            f"{formatting.fmt(w['difference'])} decades; Welch t = {formatting.fmt(w['t'])}, {formatting.fmt_p(w['p'])})"
        )

    k = dip["contrast"]
    return (
        f"`{c['label']}` around d = p = {c['p']}: frozen {LEVEL_WORDS} {point_text(dip['at'])} at d = "
        f"{c['p']}, against {side('below')} and {side('above')}: side by side, **{dip['shape']}**. The "
        "verdict's contrast (mean level at d = p minus the mean of its neighbours'): "
        f"{formatting.fmt(k['difference'])} decades, 95% CI [{formatting.fmt(k['ci95'][0])}, {formatting.fmt(k['ci95'][1])}], "
        f"{formatting.fmt_p(k['p'])}. Still moving at the budget: {flat_text(dip, dip_margin)}."
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


def flat_text(dip: dict, dip_margin: float) -> str:
    """How much the curves at d = p and its neighbours still moved over the last quarter
    (`loss_vs_d.flattening`), against the dip's margin (decades)."""
    flat = dip["flattening"]
    size = flat["size"]
    than = (
        ""
        if not np.isfinite(size)
        else f", {'less' if size < dip_margin else 'not less'} than "
        f"the dip's margin of {dip_margin:g}"
    )
    return (
        f"the log₁₀ test loss at d = {dip['below']}, {dip['p']}, {dip['above']} moved {formatting.fmt(size)} "
        f"decades per trial (mean size; {formatting.fmt(flat['change'])} signed) over the last quarter of "
        f"training{than}"
    )


def companion_text(k: dict) -> str:
    """The companion's sentence, from `companion_numbers`."""
    text = curve_stats.companion_sentence(
        k,
        "trials trained with the standard float32 loss (not judged)",
        "the exact-loss run with the same seeds and grid point",
    )
    return text[:-1] + " (the last figure)."


def sign_agreement(c64: float, c32: float) -> str:
    """Whether the dip's contrast has one sign in both precisions, in words."""
    if c64 > 0 and c32 > 0:
        return "in both precisions d = p lies above its neighbours (a bump, not a dip)"
    if c64 < 0 and c32 < 0:
        return "in both precisions d = p lies below its neighbours (a dip)"
    return "the two precisions disagree on its sign"


def precision_text(k: dict, dip_margin: float) -> str:
    """The float64 check's sentence, from `freeze_embedding.precision_numbers` (`dip_margin` in decades)."""
    head = (
        f"The float64 check (not judged): {k['n']} frozen modular-addition trials trained in float64 with "
        f"the exact loss, seeds {', '.join(map(str, k['seeds']))}, against the judged float32 trials of the "
        "same seeds and grid point"
    )
    if not k["twins"]:
        return head + ": none has a float32 twin with a finite level yet."
    lo, hi = k["range"]
    by_d = ", ".join(f"d = {d}: {formatting.fmt(g, 2)}" for d, g in k["by_d"].items())
    text = (
        f"{head}: the float32 level (mean log₁₀ test loss over the last tenth) minus the float64 one is "
        f"{formatting.fmt(k['gap'], 2)} decades (median of {k['twins']}; range {formatting.fmt(lo, 2)} to "
        f"{formatting.fmt(hi, 2)}); median by d — {by_d}. A frozen embedding at d near p amplifies rounding, "
        f"so float32 and float64 part before any softmax collapse ({formatting.method('the-exact-loss')})."
    )
    c64, c32 = k["dip_float64"], k["dip_float32"]
    if c64 is not None and c32 is not None:
        text += (
            f" On these seeds the dip's contrast (level at d = p minus its neighbours' mean) is "
            f"{formatting.fmt(c64, 2)} decades in float64 and {formatting.fmt(c32, 2)} in float32, "
            f"{formatting.fmt(abs(c32 - c64), 2)} decades apart, beside the claim's margin of "
            f"{formatting.fmt(dip_margin)} decades: {sign_agreement(c64, c32)}."
        )
    return text


def numbers(cases) -> tuple[str, str]:
    """(our number, the index's short form): Spearman ρ of each task's frozen trend, and the contrast at d = p
    on modular addition."""
    modadd = next((c for c in cases if c["task"] == "modadd"), None)
    dip = modadd["dip"] if modadd else None
    our = "; ".join(f"{c['task']}: {spearman_text(c['spearman_frozen'])}" for c in cases)
    our = f"Spearman ρ between d and the frozen-embedding time-averaged log₁₀ test loss — {our}"
    if dip is not None:
        k = dip["contrast"]
        our += (
            f"; modadd {LEVEL_WORDS} at d = p = {dip['p']}: {point_text(dip['at'])} against "
            f"{point_text(dip['at_below'])} at d = {dip['below']} and {point_text(dip['at_above'])} at "
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
    return our, short


def what_we_ran(m, record: dict) -> list[str]:
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
    if m.precision_checks:
        ds = sorted({int(t.settings["train"]["d"]) for t, _ in m.precision_checks})
        ran.append(
            f"Beside them, {len(m.precision_checks)} trials in float64 (d ∈ {{{', '.join(map(str, ds))}}}), "
            "the same seeds as float32 trials at those points: a check of float32's precision, not judged."
        )
    return ran


def deviations(trials) -> list[str]:
    return [
        "The paper does not list the dimensions of Fig. 7 and Fig. 9 or how many seeds each curve averages; the grid "
        "of d (dense around d = p on modular addition) and the seeds per point are ours (see What we ran).",
        "The paper shows curves only. We read two numbers off each trial, both in log₁₀ (losses span "
        "decades, so means and CIs are of the log): how fast the loss falls, the time-averaged log₁₀ test "
        'loss over the budget ("loss falls with d"), and the level it holds, the mean log₁₀ test loss over '
        "the last tenth of the budget (the dip, the rises between points, the step and the table; "
        f"{formatting.method('the-exact-loss')}).",
        f"A frozen embedding is not trainable, so it is neither updated nor decayed ({formatting.method('optimizer')}); the MLP keeps the task's "
        "weight decay.",
        "The runs with a trained embedding are our reference; the paper shows only frozen runs.",
        'Fig. 7\'s caption says "dip at d = p"; the text says "phase transition ... significantly lower when d > p '
        f'compared to when d < p". The verdict tests the dip ({formatting.method("verdict-rules")}); the step is reported as a finding.',
        *writeup.paper_setting_deviations(trials),
        *writeup.common_deviations(trials),
        writeup.STATISTICS_NOTE,
    ]


def findings(m, dip_margin: float) -> list[str]:
    """The findings of `freeze_embedding.measure`: per task its trends, grid table, rises and dip (against
    `dip_margin`, decades); the companion; why runs trained until settled did not settle; accuracy."""
    findings = [SHAPES_NOTE]
    for c in m.cases:
        findings.append(
            f"**{c['task']}** (p = {c['p']}, {', '.join(map(str, c['steps']))} steps; paper Fig. "
            f"{7 if c['task'] == 'modadd' else 9}). Frozen: "
            f"{spearman_text(c['spearman_frozen'])} on the time-averaged log₁₀ test loss, "
            f"{spearman_text(c['spearman_frozen_level'])} on the level (mean log₁₀ test loss "
            f"over the last tenth). Trained reference: {spearman_text(c['spearman_trained'])} "
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
            findings.append(dip_text(c, dip_margin))
        if c["task"] == "modadd" and c["step"] is not None:
            findings.append(step_text(c))
    if m.companions:
        findings.append(companion_text(m.companion))
    if m.precision_checks:
        findings.append(precision_text(m.precision, dip_margin))
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
    findings += health.health_findings(trials, convergence_matters=False)
    unconverged = health.trial_health(trials)["unconverged"]
    frozen_ids = {t.id for t in trials if t.settings["train"]["freeze_embedding"]}
    findings.append(
        f"{len([i for i in unconverged if i in frozen_ids])} of {len(frozen_ids)} frozen and "
        f"{len([i for i in unconverged if i not in frozen_ids])} of {len(trials) - len(frozen_ids)} trained trials "
        "never reached 100% test accuracy (the claim is about loss, so this is context, not a filter)."
    )
    return findings
