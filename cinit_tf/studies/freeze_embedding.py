"""§5, Fig. 7 and App. B, Fig. 9: freeze the embedding at initialisation, train only the MLP.

The paper's claim: with the random embedding frozen, test loss falls faster and lower as the
embedding dimension d grows, on all three tasks; on modular addition there is a dip at d = p
(Fig. 7's caption; the text calls it a phase transition, lower loss for d > p than d < p).

Trials: cases over `train.d` and `train.freeze_embedding` (the trained-embedding runs are a
reference of ours); all cases of one task are analysed together, so a dense grid around d = p with
many seeds and a wider grid with few can sit in separate cases. What is measured: the test loss at the
last recorded step ("final test loss") of each trial, compared on a log scale (losses span decades).

Verdict rule (fixed here, before any numbers): VERDICT_RULE, declared in DECLARATION.
"""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.section import Declaration, Figure, Measured, Section
from cinit_tf.studies import _common as C
from cinit_tf.studies import _curves as D
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _loss_vs_d as L
from cinit_tf.studies import _verdicts as V

DIP_CLAIM = "dip in frozen test loss at d = p on modular addition"
# §5: "As dimensionality increases, the test loss decreases at a faster rate during training" gives no size: the
# conventional small correlation. Fig. 7's caption: "One can notice a dip in loss at d = p", on a log axis: read as
# at least 0.1 decades (about 20%) below its neighbours, the least a reader could notice on such an axis.
FALLS_MARGIN = V.Margin(V.CONVENTIONAL_RHO.value, '§5: "As dimensionality increases, the test loss decreases at a '
                        'faster rate during training", no size given: ' + V.CONVENTIONAL_RHO.source)
# The dip is read on curves that have flattened: the mean size of the per-trial change of log₁₀ test loss over
# the last quarter of training below this many decades (a tenth of a decade, the dip's own margin: a curve
# still moving by more than the effect it is to show cannot show it).
FLAT_TOLERANCE = 0.1
# A training loss this many decades above its lowest at the last record has risen again (late_rise): a tenfold
# rise is far beyond the seed-to-seed wobble of a settled curve (a few hundredths of a decade).
RISE_DECADES = 1.0
DIP_MARGIN = V.Margin(0.1, 'Fig. 7: "One can notice a dip in loss at d = p", read as at least 0.1 decades (~20%) '
                      "below its neighbours on the figure's log axis")

VERDICT_RULE = (
    "four claims on the frozen-embedding trials (valid: finite training), on log₁₀ of the final test loss; the headline "
    "is the weakest. For each task, \"loss falls with d\": Spearman ρ between d and log₁₀ final test loss (one point per "
    f"trial), with its Fisher-z 95% CI, margin |ρ| = {FALLS_MARGIN.value:g} ({FALLS_MARGIN.source}): "
    f"{V.direction_outcomes('negative')}; a reproduced trend is lowered to partly "
    f"when the loss rises significantly between two adjacent grid points (one-sided Welch's t-test at p < {V.ALPHA:g}), since a rank correlation hides a "
    f"curve that is not monotone (on modular addition the rise out of the claimed dip, from d = p to the next point, "
    f"does not count). \"{DIP_CLAIM}\": the difference between the mean log₁₀ loss at d = p and the mean "
    "of the means at its two nearest grid neighbours, with a Welch–Satterthwaite 95% CI, margin "
    f"{DIP_MARGIN.value:g} decades ({DIP_MARGIN.source}): {V.direction_outcomes('negative')} (negative: a dip). The dip needs trained-out "
    "curves: it is not assessable unless the mean log₁₀ frozen test loss "
    f"at those three points moved by less than {FLAT_TOLERANCE:g} decades (the mean size of the per-trial change) over "
    "the last quarter of training. A task "
    f"whose valid frozen trials are fewer than {V.MIN_VALID_SHARE:.0%} of its frozen trials (or fewer than 3) is not "
    "assessable."
)

CLAIM = (
    "With the embedding frozen at its random initialisation and only the MLP trained, the test loss decreases "
    "faster as the embedding dimension d grows, on all three tasks (Fig. 7 for modular addition, Fig. 9 for XOR "
    "and remainder): higher-dimensional random embeddings are more \"complete\". On modular addition the paper "
    "notes a phase transition around d = p, with significantly lower loss for d > p than for d < p; Fig. 7's "
    "caption calls it a dip in loss at d = p."
)

SHAPES_NOTE = (
    f"How the loss at d = p is read against its two nearest grid neighbours, side by side (Welch's t-test per side on "
    f"log₁₀ loss, p < {V.ALPHA:g}; a description beside the verdict's contrast): "
    "**dip** — significantly lower than both; **bump** — significantly higher than both; **step** — significantly "
    "different from both and between them; **lower/higher than d = x only** — significant on one side only; "
    "**not resolved from seed noise** — on neither side."
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
    groups = C.group_trials(judged(trials), lambda t: t.settings["task"]["name"])

    def order(name):
        return (C.TASK_ORDER.index(name) if name in C.TASK_ORDER else len(C.TASK_ORDER), name)

    return [(name, groups[name]) for name in sorted(groups, key=order)]


def falls_name(task: str) -> str:
    return f"loss falls with d on {task} (frozen; Fig. {7 if task == 'modadd' else 9})"


def falls_claim(c: dict) -> V.Claim:
    """"Loss falls with d" on one task: Spearman's trend, lowered to partly by a significant rise between adjacent points."""
    name = falls_name(c["task"])
    if not c["assessable"]:
        return V.not_assessable(name, c["valid_frozen"], c["total_frozen"], kind="trend")
    pts = [(d, v) for d, ts in c["_frozen_trials"].items() for v in (L.log_loss(t) for t in ts)]
    claim = V.trend(name, [d for d, _ in pts], [v for _, v in pts], -1, "Spearman ρ(d, log₁₀ final test loss)",
                    margin=FALLS_MARGIN)
    rises = [r for r in c["rises"] if r["p"] < V.ALPHA and not (c["task"] == "modadd" and r["from"] == c["p"])]
    if claim.verdict == V.REPRODUCED and rises:
        where = ", ".join(f"d = {r['from']} → {r['to']} (+{C.fmt(r['rise'])} decades, {C.fmt_p(r['p'])})" for r in rises)
        return dataclasses.replace(claim, verdict=V.PARTLY, reason="not_monotone",
                                   note="; ".join(x for x in (claim.note, f"rises at {where}") if x))
    return claim


def dip_claim(c: dict | None) -> V.Claim:
    """The dip at d = p on modular addition: the contrast against both neighbours, once the curves there have flattened."""
    if c is None:
        return V.Claim(DIP_CLAIM, V.NOT_ASSESSABLE, "no modular-addition trials in this run", kind="direction",
                       reason="too_few_valid", n=0)
    if not c["assessable"]:
        return V.not_assessable(DIP_CLAIM, c["valid_frozen"], c["total_frozen"], kind="direction")
    dip = c["dip"]
    if dip is None:
        return V.Claim(DIP_CLAIM, V.NOT_ASSESSABLE, f"the frozen grid does not hold d = p = {c['p']} with a point on "
                       "each side", kind="direction", reason="precondition_fails")
    k = dip["contrast"]
    flat = dip["flattening"]
    flat_text = (f"the log₁₀ loss at d = {dip['below']}, {dip['p']}, {dip['above']} moved {C.fmt(flat['size'])} decades "
                 f"per trial (mean size; {C.fmt(flat['change'])} signed) over the last quarter of training")
    if not (np.isfinite(flat["size"]) and flat["size"] < FLAT_TOLERANCE):
        return V.Claim(DIP_CLAIM, V.NOT_ASSESSABLE, flat_text + f", not less than {FLAT_TOLERANCE:g}: the curves have "
                       "not flattened, so a dip can be neither confirmed nor refuted", kind="direction",
                       reason="precondition_fails", value=k["difference"], ci=tuple(k["ci95"]), p=k["p"], n=sum(k["n"]),
                       margin=DIP_MARGIN.value, margin_source=DIP_MARGIN.source, expected_sign=-1,
                       effect=f"log₁₀ loss at d = {dip['p']} − mean of its neighbours")
    return V.direction(DIP_CLAIM, k["difference"], k["ci95"][0], k["ci95"][1], k["p"], -1,
                       f"log₁₀ loss at d = {dip['p']} − mean of d = {dip['below']} and d = {dip['above']}",
                       margin=DIP_MARGIN, n=sum(k["n"]), note=f"n = {'/'.join(map(str, k['n']))}; {flat_text} (flattened)")


@dataclass(kw_only=True)
class FreezeMeasured(Measured):
    """The numbers of a freezing run: one `L.task_sweep` per task, in the paper's task order."""

    cases: list = field(default_factory=list)
    late_rise: dict = field(default_factory=dict)  # `late_rise` of the valid trials that trained until settled




def late_rise(trials) -> dict:
    """How a run's training loss ends against its lowest: {"n", "risen", "step", "lowest", "rise"}, the last three
    medians over the `risen` runs (step of the lowest training loss, log₁₀ of it, log₁₀ last / lowest).

    A run whose loss rose by RISE_DECADES or more after its lowest point has not settled, and a longer cap makes it
    settle only if the loss falls back and holds; the report says so beside a "not flattened" verdict.
    """
    rows = []
    for t in trials:
        loss = getattr(t.result, "train_loss", None)
        loss = np.asarray([] if loss is None else loss, dtype=float)
        if loss.size == 0 or not (np.isfinite(loss[-1]) and loss[-1] > 0):  # no record, or a run that ended non-finite
            continue
        i = int(np.nanargmin(loss))
        rows.append((int(np.asarray(t.result.steps)[i]), float(np.log10(loss[i])), float(np.log10(loss[-1] / loss[i]))))
    risen = [r for r in rows if r[2] >= RISE_DECADES]
    med = (lambda k: float(np.median([r[k] for r in risen])) if risen else float("nan"))
    return {"n": len(rows), "risen": len(risen), "step": med(0), "lowest": med(1), "rise": med(2),
            "step_range": (min(r[0] for r in risen), max(r[0] for r in risen)) if risen else None}


def measure(trials, options=None) -> FreezeMeasured:
    """Each task's sweep over d and the four claims.

    Validity is judged per task (a task with too few valid frozen trials makes its own claims not assessable);
    the run as a whole is not assessable only when no task is.
    """
    cases = [L.task_sweep(label, ts) for label, ts in by_case(trials)]
    excluded: dict = {}
    for c in cases:
        for why, ts in c["_excluded"].items():
            excluded.setdefault(why, []).extend(ts)
    m = FreezeMeasured(trials=sorted(trials, key=lambda t: t.id), valid=[t for c in cases for t in c["_valid"]],
                       excluded=excluded, options=options, cases=cases)
    by_task = {c["task"]: c for c in cases}
    m.claims = [falls_claim(by_task[name]) if name in by_task else
                V.Claim(falls_name(name), V.NOT_ASSESSABLE, f"no {name} trials in this run", kind="trend",
                        reason="too_few_valid", n=0) for name in C.TASK_ORDER]
    m.claims.append(dip_claim(by_task.get("modadd")))
    m.assessable = any(c["assessable"] for c in cases)
    m.late_rise = late_rise([t for t in m.valid if t.settings["train"].get("until", "steps") != "steps"])
    return m


# ---------------------------------------------------------------- figures


def _name(c) -> str:
    """A panel's name: the task, p and the paper figure it mirrors (Fig. 7 for modular addition, Fig. 9 for the others)."""
    return f"{c['task']}, p = {c['p']} (cf. Fig. {7 if c['task'] == 'modadd' else 9})"


def _colours(ds):
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return {d: cmap(i / max(len(ds) - 1, 1) * 0.9) for i, d in enumerate(ds)}


def _mean_curve(trials):
    """(steps, geometric mean over trials of the test loss): losses span decades, so the mean is taken of the log.
    Runs of one d may stop at different steps (until settled): `D.on_union_of_steps` lines them up.
    """
    steps, curves = D.on_union_of_steps(trials)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.where(np.isfinite(curves) & (curves > 0), np.log10(curves), np.nan)
        return steps, 10 ** np.nanmean(logs, axis=0)


def figure_curves(cases, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    n = len(cases)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 6.4), squeeze=False, sharex="col")
    for j, c in enumerate(cases):
        ds = sorted(set(c["frozen"]) | set(c["trained"]))
        colours = _colours(ds)
        for i, (key, name) in enumerate((("_frozen_trials", "embedding frozen"), ("_trained_trials", "embedding trained (reference)"))):
            ax = axes[i][j]
            for d, ts in c[key].items():
                steps, mean = _mean_curve(ts)
                at_p = d == c["p"]
                ax.plot(steps, mean, color="black" if at_p else colours[d], lw=2.0 if at_p else 1.2,
                        ls="--" if at_p else "-", label=f"d = {d}" + (" (= p)" if at_p else ""))
            ax.set_yscale("log")
            ax.set_title(f"{_name(c)}\n{name}")
            ax.set_ylabel("test loss (geometric mean over seeds)")
            if i == 1:
                ax.set_xlabel("training step")
            if c[key]:
                ax.legend(ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle("Test loss over training by embedding dimension d (paper Fig. 7: modular addition; Fig. 9: XOR, remainder)", fontsize=11)
    return G.finish(fig, out_dir, "test_loss_curves.png",
                  "Test loss over training, geometric mean over seeds (10 to the mean log₁₀ loss), one line per embedding dimension d (d = p dashed black). "
                  "Top row: embedding frozen at initialisation, only the MLP trains, mirroring Fig. 7 (modular addition) "
                  "and Fig. 9 (XOR and remainder). Bottom row: the same grid with the embedding trained, our reference "
                  "(not in the paper).")


def _errorbars(ax, stats: dict, colour, label, marker):
    """Each seed a faint dot; the geometric mean with the 95% CI of the mean log₁₀ loss (never below zero on a log axis)."""
    ds = sorted(stats)
    for d in ds:
        vals = [v for v in stats[d]["values"] if np.isfinite(v)]
        ax.scatter([d] * len(vals), vals, s=12, color=colour, alpha=0.45, lw=0, zorder=3)
    centre = np.array([10 ** stats[d]["log_mean"] for d in ds])
    lo = np.array([10 ** stats[d]["log_ci95"][0] for d in ds])
    hi = np.array([10 ** stats[d]["log_ci95"][1] for d in ds])
    ax.errorbar(ds, centre, yerr=[np.nan_to_num(centre - lo), np.nan_to_num(hi - centre)], color=colour, marker=marker,
                ms=4, capsize=3, lw=1.2, label=label)


def figure_final(cases, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    n = len(cases)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
    for j, c in enumerate(cases):
        ax = axes[0][j]
        _errorbars(ax, c["frozen"], "tab:blue", "embedding frozen", "o")
        _errorbars(ax, c["trained"], "tab:orange", "embedding trained (reference)", "s")
        ax.axvline(c["p"], color="0.55", ls="--", lw=1, zorder=0, label="d = p")  # behind the bar it marks
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(_name(c))
        ax.set_xlabel("embedding dimension d (log₂)")
        ax.set_ylabel("final test loss")
    # One legend for all panels, below them: inside a panel it would cover the points near d = p.
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=3, frameon=False, fontsize=8)
    fig.suptitle("Final test loss against embedding dimension d: geometric mean and 95% CI over seeds", fontsize=11)
    return G.finish(fig, out_dir, "final_test_loss_vs_d.png",
                  "Final test loss against embedding dimension d, log axes: the geometric mean over seeds with the 95% CI of "
                  "the mean log₁₀ loss (bars), each seed a faint dot, d = p a grey dashed line drawn behind the data. Frozen embedding (blue) is the paper's "
                  "experiment, summarising the ends of the curves of Fig. 7 (modular addition) and Fig. 9 (XOR, remainder); "
                  "trained embedding (orange) is our reference.", rect=(0, 0.07, 1, 1))


def figure_around_p(c, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    lo = min(c["p"] / 2, c["dip"]["below"]) if c["dip"] else c["p"] / 2
    hi = max(2 * c["p"], c["dip"]["above"]) if c["dip"] else 2 * c["p"]
    near = {d: s for d, s in c["frozen"].items() if lo <= d <= hi}
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    _errorbars(ax, near, "tab:blue", "frozen: geometric mean, 95% CI; dots = seeds", "o")
    ax.axvline(c["p"], color="0.55", ls="--", lw=1, zorder=0, label=f"d = p = {c['p']}")  # behind the bar it marks
    ax.set_yscale("log")
    dip = c["dip"]
    shape = f" ({dip['shape']})" if dip else ""
    fig_ref = "cf. paper Fig. 7, \"dip at d = p\"" if c["task"] == "modadd" else "cf. paper Fig. 9; no dip claimed"
    ax.set_title(f"{c['task']}: frozen final test loss near d = p{shape}\n({fig_ref})")
    ax.set_xlabel("embedding dimension d")
    ax.set_ylabel("final test loss (log)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    return G.finish(fig, out_dir, f"{c['task']}_around_p.png",
                  f"Frozen-embedding final test loss for d from p/2 to 2p and the nearest grid points on either side of p "
                  f"({c['task']}, p = {c['p']}), log loss axis, geometric mean with the 95% CI of the mean log₁₀ loss, every seed shown: "
                  + ("the fine grid around d = p that Fig. 7's \"dip at d = p\" needs (Fig. 7 zooms in on loss < 1.0)."
                     if c["task"] == "modadd" else
                     "the paper claims no dip for this task (Fig. 9); shown beside modular addition's (Fig. 7) for comparison."))


# ---------------------------------------------------------------- text


def _point(s: dict) -> str:
    text = f"{C.fmt(s['mean'])} ± {C.fmt(s['std'])} (n = {s['n']})"
    return text + (f", {s['nonfinite']} non-finite" if s["nonfinite"] else "")


def _spearman_text(r: dict) -> str:
    return f"ρ = {C.fmt(r['rho'])} ({C.fmt_p(r['p'])}, n = {r['n']})"


def table(c) -> str:
    rows = []
    for d in sorted(set(c["frozen"]) | set(c["trained"])):
        f, t = c["frozen"].get(d), c["trained"].get(d)
        rows.append([f"{d}" + (" = p" if d == c["p"] else ""),
                     _point(f) if f else "–", C.fmt(f["test_acc"]) if f else "–",
                     _point(t) if t else "–", C.fmt(t["test_acc"]) if t else "–"])
    return C.md_table(["d", "frozen: final test loss", "frozen: mean final test acc", "trained: final test loss",
                       "trained: mean final test acc"], rows)


def dip_text(c) -> str:
    dip = c["dip"]
    if dip is None:
        return f"No dip test for `{c['label']}`: its frozen grid does not hold d = p = {c['p']} with a grid point on each side."

    def side(key):
        w = dip[f"vs_{key}"]
        return (f"{_point(dip[f'at_{key}'])} at d = {dip[key]} (difference of mean log₁₀ loss {C.fmt(w['difference'])}; "
                f"Welch t = {C.fmt(w['t'])}, {C.fmt_p(w['p'])})")

    k = dip["contrast"]
    return (f"`{c['label']}` around d = p = {c['p']}: final frozen test loss {_point(dip['at'])} at d = {c['p']}, against "
            f"{side('below')} and {side('above')}: side by side, **{dip['shape']}**. The verdict's contrast (log₁₀ loss at "
            f"d = p minus the mean of its neighbours): {C.fmt(k['difference'])} decades, 95% CI [{C.fmt(k['ci95'][0])}, "
            f"{C.fmt(k['ci95'][1])}], {C.fmt_p(k['p'])}. Flattening: the mean log₁₀ loss at these three points moved "
            f"{C.fmt(dip['flattening']['size'])} decades per trial over the last quarter of training (tolerance "
            f"{FLAT_TOLERANCE:g}).")


def step_text(c) -> str:
    s = c["step"]
    if s is None:
        return ""
    (mb, sb, nb), (ma, sa, na) = s["below"], s["above"]
    return (f"`{c['label']}`, the text's phase-transition reading: frozen final test loss {C.fmt(ma)} ± {C.fmt(sa)} "
            f"(n = {na}) over all d > p against {C.fmt(mb)} ± {C.fmt(sb)} (n = {nb}) over all d < p "
            f"(Welch t = {C.fmt(s['welch']['t'])}, {C.fmt_p(s['welch']['p'])}). Not part of the verdict rule, which tests the dip.")


def _summary_case(c) -> dict:
    return {k: v for k, v in c.items() if not k.startswith("_")}


# ---------------------------------------------------------------- write


def write(m: FreezeMeasured, record: dict, out_dir: Path) -> Section:
    """The section: the trend per task, the dip at d = p on modular addition, every grid point, and the figures."""
    if not m.assessable:
        return C.section(m, record, deviations=_deviations(m.trials))
    out_dir = Path(out_dir)
    cases = m.cases
    modadd = next((c for c in cases if c["task"] == "modadd"), None)
    dip = modadd["dip"] if modadd else None
    our = "; ".join(f"{c['task']}: {_spearman_text(c['spearman_frozen'])}" for c in cases)
    our = f"Spearman ρ between d and frozen-embedding final test loss — {our}"
    if dip is not None:
        k = dip["contrast"]
        our += (f"; modadd at d = p = {dip['p']}: {_point(dip['at'])} against {_point(dip['at_below'])} at d = {dip['below']} "
                f"and {_point(dip['at_above'])} at d = {dip['above']}; log₁₀ contrast {C.fmt(k['difference'])} "
                f"(95% CI [{C.fmt(k['ci95'][0])}, {C.fmt(k['ci95'][1])}])")
    short = ", ".join(f"{c['task']} ρ = {C.fmt(c['spearman_frozen']['rho'], 2)}" for c in cases)
    short += (f"; d = p − neighbours: {C.fmt(dip['contrast']['difference'], 2)} decades "
              f"[{C.fmt(dip['contrast']['ci95'][0], 2)}, {C.fmt(dip['contrast']['ci95'][1], 2)}]" if dip else "; d = p: not tested")
    figures = [figure_curves(cases, out_dir), figure_final(cases, out_dir)]
    figures += [figure_around_p(c, out_dir) for c in cases if c["dip"] is not None]
    return C.section(
        m, record, our_number=our, short_number=short, what_we_ran=_what_we_ran(m, record), deviations=_deviations(m.trials),
        findings=_findings(m), figures=figures,
        summary={"cases": {c["label"]: _summary_case(c) for c in cases}, "claims": {cl.name: cl.verdict for cl in m.claims},
                 "excluded_trials": sum(len(v) for v in m.excluded.values())},
    )


def _what_we_ran(m: FreezeMeasured, record: dict) -> list[str]:
    ran = C.profile_lines(record, m.trials)
    for c in m.cases:
        ds_f, ds_t = sorted(c["frozen"]), sorted(c["trained"])
        seeds_f = ", ".join(f"{d}: {c['frozen'][d]['n'] + c['frozen'][d]['nonfinite']}" for d in ds_f)
        ran.append(f"{c['task']} (cases {', '.join(f'`{x}`' for x in c['cases'])}): frozen d ∈ {{{', '.join(map(str, ds_f))}}} "
                   f"(seeds per point — {seeds_f}); trained d ∈ {{{', '.join(map(str, ds_t))}}}; "
                   f"{'/'.join(map(str, c['steps']))} steps; weight decay {', '.join(C.fmt(w) for w in c['weight_decay'])}.")
    ran.append("Each seed is one trial with its own embedding, MLP and split seed (seeds layout `independent`); "
               "a point's frozen and trained trials share their seeds, so they start from the same embedding.")
    return ran


def _deviations(trials) -> list[str]:
    return [
        "The paper does not list the dimensions of Fig. 7 and Fig. 9 or how many seeds each curve averages; the grid "
        "of d (dense around d = p on modular addition) and the seeds per point are ours (see What we ran).",
        "Final test loss is the test loss at the last recorded step of each trial; the paper shows curves only. The "
        "verdict is computed on its log₁₀ (losses span decades, so means and CIs are of the log), and the time-averaged "
        "test loss is reported beside it.",
        f"A frozen embedding is not trainable, so it is neither updated nor decayed ({C.method('optimizer')}); the MLP keeps the task's "
        "weight decay.",
        "The runs with a trained embedding are our reference; the paper shows only frozen runs.",
        "Fig. 7's caption says \"dip at d = p\"; the text says \"phase transition ... significantly lower when d > p "
        f"compared to when d < p\". The verdict tests the dip ({C.method('verdict-rules')}); the step is reported as a finding.",
        *C.paper_setting_deviations(trials),
        *C.common_deviations(trials),
        C.STATISTICS_NOTE,
    ]


def _findings(m: FreezeMeasured) -> list[str]:
    findings = [SHAPES_NOTE]
    for c in m.cases:
        findings.append(f"**{c['task']}** (p = {c['p']}, {', '.join(map(str, c['steps']))} steps; paper Fig. "
                        f"{7 if c['task'] == 'modadd' else 9}). Frozen: {_spearman_text(c['spearman_frozen'])} on final test loss, "
                        f"{_spearman_text(c['spearman_frozen_time_averaged'])} on time-averaged test loss. "
                        f"Trained reference: {_spearman_text(c['spearman_trained'])} on final test loss.")
        findings.append(table(c))
        rises = [r for r in c["rises"] if r["rise"] > 0]
        if rises:
            findings.append(f"`{c['task']}`: the frozen loss rises with d between adjacent points at " + ", ".join(
                f"d = {r['from']} → {r['to']} (+{C.fmt(r['rise'])} decades, one-sided Welch {C.fmt_p(r['p'])})" for r in rises) + ".")
        if c["dip"] is not None or c["task"] == "modadd":
            findings.append(dip_text(c))
        if c["task"] == "modadd" and c["step"] is not None:
            findings.append(step_text(c))
    r = m.late_rise
    if r.get("risen"):
        lo, hi = r["step_range"]
        findings.append(
            f"Why no run settled: in {r['risen']} of the {r['n']} runs trained until settled, the training loss fell to "
            f"its lowest, 10^{C.fmt(r['lowest'])} (median), at step {r['step']:,.0f} (median; {lo:,}–{hi:,}), and then rose "
            f"by {C.fmt(r['rise'])} decades (median) by the last record; the test loss rises with it (Figure 1). A loss "
            "that rises again after its lowest point does not hold still for the stopping rule's window, so these runs "
            "reached the cap; a longer cap helps only if the loss falls back and holds.")
    trials = m.trials
    findings += C.health_findings(trials, convergence_matters=False)
    unconverged = C.trial_health(trials)["unconverged"]
    frozen_ids = {t.id for t in trials if t.settings["train"]["freeze_embedding"]}
    findings.append(f"{len([i for i in unconverged if i in frozen_ids])} of {len(frozen_ids)} frozen and "
                    f"{len([i for i in unconverged if i not in frozen_ids])} of {len(trials) - len(frozen_ids)} trained trials "
                    "never reached 100% test accuracy (the claim is about loss, so this is context, not a filter).")
    return findings
