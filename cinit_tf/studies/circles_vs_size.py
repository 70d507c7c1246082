"""App. D, Fig. 11 and 12: how many circles survive training, against d, p and the weight decay.

The paper's claims (modular addition, 100 trials per point): the number of circles (surviving Fourier
frequencies) in the final representation grows with the embedding dimension d (Fig. 11a) and with the
modulus p (prime p, Fig. 11b; every p from 16 to 102, Fig. 11c); at weight decay 0 every frequency
survives and the network does not generalise, and as the weight decay grows the number of circles falls
(Fig. 12).

Trials: one population per (p, d, weight decay). The sweeps are read from the trials' settings around a
centre point (`[analysis]`, default the paper's p = 59, d = 128, weight decay 0.5): the d sweep is every
trial with the centre's p and weight decay; the p sweep every trial with the centre's d and weight decay
(prime p for Fig. 11b, all p for Fig. 11c); the weight-decay sweep every trial with the centre's p and d.
So the centre point, trained once, belongs to all three.

What is measured: survivors at the last recorded step by the survival rule (docs/method.md#survival-rule),
τ = 0.05, with τ = 0.01 and 0.2 beside it; the final test accuracy of the same runs; the settling check
at 2/3 of the step budget, and, where the experiment has them, longer runs of a few points (case
`settling_case`, default "long") read at the main budget and at their own end. The longer runs belong
to no sweep. A run that never reached 100% test accuracy has not learned a representation:
it is excluded from the count claims and shown, marked, in every table and figure.

Verdict rule: VERDICT_RULE below (five claims; headline = weakest).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cinit_tf.rules import Float, Int, Text
from cinit_tf.section import Declaration, Figure, Section
from cinit_tf.signals import n_frequencies
from cinit_tf.studies import _appendix as A
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _modadd as M
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V

WD_PANELS = ((0.0, 0.1, "small"), (0.1, 1.0, "middle"), (1.0, float("inf"), "large"))  # Fig. 12's three panels


@dataclass(frozen=True)
class CirclesAnalysis:
    """The `[analysis]` table: the centre point the three sweeps share."""

    centre_p: int = C.option(59, Int(3), "modulus p of the d and weight-decay sweeps")
    centre_d: int = C.option(128, Int(1), "embedding dimension d of the p and weight-decay sweeps")
    centre_weight_decay: float = C.option(0.5, Float(0.0), "weight decay of the d and p sweeps")
    settling_case: str = C.option("long", Text(), "the case label of the longer runs of the settling check")


VERDICT_RULE = (
    "Five claims, each on the runs of its sweep, survivors counted at τ = 0.05 at the last recorded step. A run is valid "
    "when its training loss stayed finite and it reached 100% test accuracy (a run that does not generalise has learned no "
    "representation); invalid runs are excluded from claims 1, 2, 3 and 5 and counted. (1) More circles with larger d "
    f"(Fig. 11a): Spearman ρ between d and the number of survivors over the valid runs of the d sweep is positive with p < {V.ALPHA} "
    f"(Fisher-z 95% CI) → reproduced; positive but p ≥ {V.ALPHA} → partly; otherwise → not reproduced. (2) More circles with "
    "larger prime p (Fig. 11b): the same over the prime p of the p sweep. (3) More circles with larger p, every p sampled "
    "(Fig. 11c): the same over all p of the p sweep. (4) Every frequency survives at weight decay 0 and the run does not "
    "generalise: every weight-decay-0 run keeps all K = ⌊(p − 1)/2⌋ frequencies and none reaches 100% test accuracy → "
    "reproduced; only one of the two holds in every run → partly; neither → not reproduced (no such runs → not assessable). "
    "(5) Fewer circles as the weight decay grows (Fig. 12): Spearman ρ between the weight decay and the number of survivors "
    "over the valid runs with weight decay > 0 is negative, with the same thresholds as (1). A sweep with fewer than half of "
    "its runs valid, or fewer than 3, is not assessable. The headline is the weakest of the five."
)

CLAIM = (
    "The number of circles in the final representation of modular addition grows with the size of the embedding: with the "
    "embedding dimension d (Fig. 11a, d from 16 to 128) and with the modulus p (Fig. 11b, prime p; Fig. 11c, every p from "
    "16 to 102), over 100 trials. At weight decay 0 all frequencies survive while the network fails to generalise; as the "
    "weight decay grows, the number of circles drops (Fig. 12)."
)

PAPER_NUMBER = "circles rise with d and with p (Fig. 11; 100 trials, no number given); all survive at wd = 0 and fall as wd grows (Fig. 12)"

DECLARATION = Declaration(
    paper_ref="App. D, Fig. 11, 12",
    order=11,
    title="Number of surviving circles against d, p and weight decay (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=CirclesAnalysis,
)


# ---------------------------------------------------------------- per run


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % q for q in range(2, int(n**0.5) + 1))


def run_row(trial) -> dict:
    """One run's point: (p, d, weight decay), survivors per τ, K, final test accuracy, validity, settling."""
    s = trial.settings
    p, d, wd = int(s["task"]["p"]), int(s["train"]["d"]), float(s["train"]["weight_decay"])
    finite = C.is_finite_trial(trial)
    why = None if finite and trial.result.convergence_step is not None else (
        "never reached 100% test accuracy" if finite else "non-finite training loss or embedding (diverged)")
    row = {"id": trial.id, "p": p, "d": d, "wd": wd, "K": n_frequencies(p), "valid": why is None, "why": why,
           "generalised": trial.result.convergence_step is not None, "finite": finite,
           "test_acc": C.final(trial.result.test_acc), "convergence_step": trial.result.convergence_step}
    for tau in M.TAUS:
        row[f"count_{tau}"] = int(M.survivor_mask(trial, tau).sum()) if finite else None
    step = M.settling_step([trial])
    row["same_set_late"] = (bool(np.array_equal(M.survivor_mask(trial, M.TAU, step=step), M.survivor_mask(trial, M.TAU)))
                            if finite else None)
    row["settled_at"] = M.settled_at(trial, M.TAU) if finite else None
    return row


def sweeps(rows: list[dict], centre: CirclesAnalysis) -> dict[str, list[dict]]:
    cp, cd, cw = centre.centre_p, centre.centre_d, centre.centre_weight_decay
    return {
        "d": [r for r in rows if r["p"] == cp and r["wd"] == cw],
        "prime p": [r for r in rows if r["d"] == cd and r["wd"] == cw and is_prime(r["p"])],
        "all p": [r for r in rows if r["d"] == cd and r["wd"] == cw],
        "weight decay": [r for r in rows if r["p"] == cp and r["d"] == cd],
    }


KEY = {"d": "d", "prime p": "p", "all p": "p", "weight decay": "wd"}


def trend_claim(name: str, runs: list[dict], key: str, sign: int) -> V.Claim:
    valid = [r for r in runs if r["valid"]]
    if not V.assessable(len(valid), len(runs)):
        return V.not_assessable(name, len(valid), len(runs), "valid (finite and generalising)")
    return V.trend(name, [r[key] for r in valid], [r[f"count_{M.TAU}"] for r in valid], sign)


def zero_wd_claim(runs: list[dict]) -> V.Claim:
    name = "every frequency survives at weight decay 0, without generalising"
    zero = [r for r in runs if r["wd"] == 0.0 and r["finite"]]
    if not zero:
        return V.Claim(name, V.NOT_ASSESSABLE, "no finite run at weight decay 0")
    all_survive = sum(r[f"count_{M.TAU}"] == r["K"] for r in zero)
    no_general = sum(not r["generalised"] for r in zero)
    detail = (f"{all_survive} of {len(zero)} runs keep all K = {zero[0]['K']} frequencies (counts "
              f"{', '.join(str(r[f'count_{M.TAU}']) for r in zero)}); {no_general} of {len(zero)} never reach 100% test "
              f"accuracy (final test accuracy {', '.join(C.fmt(r['test_acc']) for r in zero)})")
    held = [all_survive == len(zero), no_general == len(zero)]
    if all(held):
        return V.Claim(name, V.REPRODUCED, detail)
    if any(held):
        return V.Claim(name, V.PARTLY, detail + "; only " + ("the survival" if held[0] else "the failure to generalise") + " holds in every run")
    return V.Claim(name, V.NOT_REPRODUCED, detail)


# ---------------------------------------------------------------- text


def point_table(runs: list[dict], key: str) -> str:
    rows = []
    for x in sorted({r[key] for r in runs}):
        at = [r for r in runs if r[key] == x]
        valid = [r for r in at if r["valid"]]
        invalid = [r for r in at if not r["valid"]]

        def counts(tau, group):
            v = [r[f"count_{tau}"] for r in group if r[f"count_{tau}"] is not None]
            return f"{C.fmt(np.mean(v))} ± {C.fmt(C.mean_std(v)[1])}" if v else "–"

        label = C.fmt(x) + ("" if key != "p" else (" (prime)" if is_prime(int(x)) else ""))
        late = [r["same_set_late"] for r in at if r["same_set_late"] is not None]
        rows.append([label, len(at), len(valid), counts(M.TAU, valid),
                     ", ".join(str(r[f"count_{M.TAU}"]) for r in invalid if r[f"count_{M.TAU}"] is not None) or "–",
                     counts(0.01, valid), counts(0.2, valid), at[0]["K"],
                     C.fmt_mean_std([r["test_acc"] for r in at]).split(" (n")[0],
                     f"{sum(late)}/{len(late)}"])
    return C.md_table([KEY_NAME[key], "runs", "valid", "survivors τ = 0.05 (valid runs)", "survivors τ = 0.05 of runs not generalising",
                       "τ = 0.01", "τ = 0.2", "K", "final test acc. (all runs)", "same set at 2/3 of the budget"], rows)


KEY_NAME = {"d": "d", "p": "p", "wd": "weight decay"}


# ---------------------------------------------------------------- figures


def _scatter(ax, runs, key, jitter_scale: float, log2: bool = False):
    """Each run a dot (valid: filled; not generalising: red x), the mean of the valid runs joined by a line."""
    xs = sorted({r[key] for r in runs})
    for r in runs:
        j = (zlib.crc32(r["id"].encode()) % 7 - 3) * jitter_scale
        x = r[key] * (2 ** j if log2 else 1) + (0 if log2 else j)
        c = r[f"count_{M.TAU}"]
        if c is None:
            continue
        if r["valid"]:
            ax.scatter([x], [c], s=14, color="tab:blue", alpha=0.6, lw=0, zorder=3)
        else:
            ax.scatter([x], [c], s=22, color="tab:red", marker="x", lw=1.2, zorder=4)
    means = [(x, np.mean([r[f"count_{M.TAU}"] for r in runs if r[key] == x and r["valid"]]))
             for x in xs if any(r["valid"] for r in runs if r[key] == x)]
    if means:
        ax.plot([m[0] for m in means], [m[1] for m in means], color="tab:blue", lw=1.3, label="mean of valid runs")
    ax.scatter([], [], s=14, color="tab:blue", alpha=0.6, lw=0, label="valid run")
    if any(not r["valid"] for r in runs):
        ax.scatter([], [], s=22, color="tab:red", marker="x", lw=1.2, label="did not generalise (excluded)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"surviving circles (τ = {C.fmt(M.TAU)})")


def figure_11(sw: dict, centre, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.0), squeeze=False)
    ax = axes[0][0]
    if sw["d"]:
        _scatter(ax, sw["d"], "d", 0.03, log2=True)
        A.log2_ticks(ax, sorted({r["d"] for r in sw["d"]}))
    ax.set_xlabel("embedding dimension d (log scale)")
    ax.set_title(f"Fig. 11a: p = {centre.centre_p}, wd = {C.fmt(centre.centre_weight_decay)}")
    for ax, name, title in ((axes[0][1], "prime p", "Fig. 11b: prime p"), (axes[0][2], "all p", "Fig. 11c: all p sampled")):
        runs = sw[name]
        if runs:
            _scatter(ax, runs, "p", 0.4)
            if name == "all p":
                comp = [r for r in runs if not is_prime(r["p"]) and r[f"count_{M.TAU}"] is not None]
                ax.scatter([r["p"] for r in comp], [r[f"count_{M.TAU}"] for r in comp], s=40, facecolors="none",
                           edgecolors="black", lw=0.8, zorder=5, label="composite p (ringed)")
        ax.set_xlabel("modulus p")
        ax.set_title(f"{title}: d = {centre.centre_d}, wd = {C.fmt(centre.centre_weight_decay)}")
    for ax in axes[0]:
        ax.legend(loc="best", fontsize=8)
    return G.finish(fig, out_dir, "circles_vs_d_and_p.png",
                    f"Mirrors Fig. 11: surviving circles at the end of training (τ = {C.fmt(M.TAU)}) against d (a), prime p (b) "
                    "and every sampled p (c, composite p ringed); each dot one run (spread horizontally a little so that equal "
                    "counts stay visible), the line the mean of the valid runs, red crosses runs that never reached 100% test "
                    "accuracy (excluded from the claims). K = ⌊(p − 1)/2⌋, the number of frequencies, lies above every count "
                    "and is given in the tables.")


def figure_12(runs: list[dict], centre, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(2, 3, figsize=(14.0, 6.4), squeeze=False)
    for j, (lo, hi, name) in enumerate(WD_PANELS):
        part = [r for r in runs if lo <= r["wd"] <= hi]
        top = hi if np.isfinite(hi) else max([r["wd"] for r in part] + [lo + 1.0])
        width = top - lo
        ax = axes[0][j]
        if part:
            _scatter(ax, part, "wd", 0.006 * width)
            K = part[0]["K"]
            counts = [r[f"count_{M.TAU}"] for r in part if r[f"count_{M.TAU}"] is not None]
            if counts and max(counts) >= K / 2:  # drawn only where it is in view; the tables give K everywhere
                ax.axhline(K, color="grey", ls=":", lw=1, label=f"K = {K} (all frequencies)")
                ax.set_ylim(top=1.05 * K)
        ax.set_title(f"Fig. 12, {name} weight decays (p = {centre.centre_p}, d = {centre.centre_d})")
        ax.set_xlabel("weight decay")
        if ax.get_legend_handles_labels()[0]:  # an empty panel (no runs in this range) has no legend
            ax.legend(loc="best", fontsize=8)
        ax = axes[1][j]
        for r in part:
            ax.scatter([r["wd"]], [r["test_acc"]], s=14, color="tab:green" if r["generalised"] else "tab:red",
                       marker="o" if r["generalised"] else "x", zorder=3)
        if any(r["generalised"] for r in part):
            ax.scatter([], [], s=14, color="tab:green", label="reached 100% test accuracy")
        if any(not r["generalised"] for r in part):
            ax.scatter([], [], s=14, color="tab:red", marker="x", label="never reached 100%")
        ax.set_ylim(-0.02, 1.05)
        for row in (0, 1):
            axes[row][j].set_xlim(lo - 0.05 * width, top + 0.05 * width)
        ax.set_xlabel("weight decay")
        ax.set_ylabel("final test accuracy")
        if part:
            ax.legend(loc="best", fontsize=8)
    return G.finish(fig, out_dir, "circles_vs_weight_decay.png",
                    f"Mirrors Fig. 12: surviving circles (τ = {C.fmt(M.TAU)}, top) and the final test accuracy of the same runs "
                    "(bottom) against the weight decay, in three ranges like the paper's panels (small, middle, large; the "
                    "boundary values appear in both neighbouring panels). Red crosses: runs that never reached 100% test accuracy.")


# ---------------------------------------------------------------- settling on longer runs


def long_settling(main: list, long: list) -> dict | None:
    """The longer runs read at the main runs' step budget and at their own end (τ = 0.05).

    Each finite long run gives a row: its point, its survivors at the main budget (its last record at or
    before it) and at the end, whether the set is the same, and whether it generalised.
    """
    finite = [t for t in long if C.is_finite_trial(t)]
    if not finite or not main:
        return None
    short = max(C.steps_of(main))
    s = M.settling(finite, short)
    rows = []
    for t, at in zip(finite, s["recorded_at"]):
        st = t.settings
        at_short, at_end = M.survivor_mask(t, M.TAU, step=short), M.survivor_mask(t, M.TAU)
        rows.append({"id": t.id, "p": int(st["task"]["p"]), "d": int(st["train"]["d"]),
                     "wd": float(st["train"]["weight_decay"]), "steps": int(st["train"]["steps"]), "recorded_at": at,
                     "count_short": int(at_short.sum()), "count_end": int(at_end.sum()),
                     "same_set": bool(np.array_equal(at_short, at_end)),
                     "generalised": t.result.convergence_step is not None})
    return {"short_steps": short, "long_steps": C.steps_of(finite), "runs": len(rows),
            "same_set": sum(r["same_set"] for r in rows), "label_agreement": s["label_agreement"],
            "count_changed": sum(r["count_short"] != r["count_end"] for r in rows), "rows": rows,
            "not_finite": len(long) - len(finite)}


def long_settling_text(ls: dict, case: str) -> list[str]:
    rows = sorted(ls["rows"], key=lambda r: (r["p"], r["d"], r["wd"], r["id"]))
    table = ["| p | d | weight decay | steps | survivors at step " + str(ls["short_steps"]) + " | at the end | same set | "
             "reached 100% test acc. |", "|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['p']} | {r['d']} | {C.fmt(r['wd'])} | {r['steps']} | {r['count_short']} | {r['count_end']} | "
              f"{'yes' if r['same_set'] else 'no'} | {'yes' if r['generalised'] else 'no'} |" for r in rows]
    text = (f"Longer runs (case `{case}`, our check, not in the paper): {ls['runs']} runs trained for "
            f"{', '.join(map(str, ls['long_steps']))} steps, read at the main runs' budget of {ls['short_steps']} steps and at "
            f"their end (τ = {C.fmt(M.TAU)}): the survivor set at step {ls['short_steps']} was the final one in "
            f"{ls['same_set']} of {ls['runs']} runs, the count changed in {ls['count_changed']}, and "
            f"{100 * ls['label_agreement']:.1f}% of (run, frequency) labels were the same.")
    if ls["not_finite"]:
        text += f" {ls['not_finite']} longer runs diverged and are left out."
    moved = [r for r in rows if r["count_end"] != r["count_short"]]
    if moved:
        points = sorted({(r["p"], r["d"], r["wd"]) for r in moved})
        text += (" Where the count changed (" + "; ".join(f"p = {p}, d = {d}, wd = {C.fmt(w)}" for p, d, w in points)
                 + f"), the main runs' counts at step {ls['short_steps']} are not final: at those points the claims read "
                 "how far the pruning of frequencies had gone by then, not the number that survives it.")
    return [text, "\n".join(table)]


# ---------------------------------------------------------------- analysis


def analyse(record: dict, trials: list, out_dir: Path) -> Section:
    out_dir = Path(out_dir)
    centre = C.analysis_of(record, CirclesAnalysis)
    trials = sorted(trials, key=lambda t: t.id)
    main, long = M.split_cases(trials, centre.settling_case)
    rows = [run_row(t) for t in main]
    sw = sweeps(rows, centre)
    wd_pos = [r for r in sw["weight decay"] if r["wd"] > 0]
    claims = [
        trend_claim("more circles with larger d (Fig. 11a)", sw["d"], "d", +1),
        trend_claim("more circles with larger prime p (Fig. 11b)", sw["prime p"], "p", +1),
        trend_claim("more circles with larger p, all sampled p (Fig. 11c)", sw["all p"], "p", +1),
        zero_wd_claim(sw["weight decay"]),
        trend_claim("fewer circles as the weight decay grows (Fig. 12, wd > 0)", wd_pos, "wd", -1),
    ]
    verdict = V.headline(claims)

    def rho(runs, key, long=True):
        valid = [r for r in runs if r["valid"]]
        r, lo, hi, pv, n = S.spearman_ci([x[key] for x in valid], [x[f"count_{M.TAU}"] for x in valid])
        if not long:
            return C.fmt(r, 2)
        return f"{C.fmt(r)} [{C.fmt(lo)}, {C.fmt(hi)}] ({C.fmt_p(pv)}, n = {n})"

    zero = [r for r in sw["weight decay"] if r["wd"] == 0.0 and r["finite"]]
    zero_text = (f"{sum(r[f'count_{M.TAU}'] == r['K'] for r in zero)}/{len(zero)} runs keep all K, "
                 f"{sum(not r['generalised'] for r in zero)}/{len(zero)} do not generalise") if zero else "no runs"
    our = (f"Spearman ρ of survivors (τ = {C.fmt(M.TAU)}, valid runs) with d {rho(sw['d'], 'd')}; with prime p "
           f"{rho(sw['prime p'], 'p')}; with all p {rho(sw['all p'], 'p')}; with weight decay > 0 {rho(wd_pos, 'wd')}; "
           f"at weight decay 0 {zero_text}")
    short = (f"ρ(d) {rho(sw['d'], 'd', False)}, ρ(prime p) {rho(sw['prime p'], 'p', False)}, ρ(all p) "
             f"{rho(sw['all p'], 'p', False)}, ρ(wd) {rho(wd_pos, 'wd', False)}; wd 0: {zero_text} ({A.claim_counts(claims)})")

    ran = C.profile_lines(record, trials)
    ran.append(f"Centre point p = {centre.centre_p}, d = {centre.centre_d}, weight decay {C.fmt(centre.centre_weight_decay)}; "
               "sweeps read from the settings: " + "; ".join(
                   f"{name}: {len(runs)} runs at {KEY_NAME[KEY[name]]} ∈ {{{', '.join(C.fmt(x) for x in sorted({r[KEY[name]] for r in runs}))}}}"
                   for name, runs in sw.items()) + ".")
    ran.append("Survivors read at the last recorded step; the settling check compares them with the survivors at 2/3 of "
               "the step budget" + (f", and the {len(long)} longer runs of case `{centre.settling_case}` (in no sweep) "
                                    "with themselves at the main budget." if long else "."))

    evens = sorted({r["p"] for r in sw["all p"] if r["p"] % 2 == 0})
    deviations = [
        f"Survival rule ({C.method('survival-rule')}, ours): frequency k survives when its final signal ≥ τ · max_k final "
        f"signal, τ = {C.fmt(M.TAU)}; counts at τ = 0.01 and 0.2 are in the tables. The paper does not state its rule.",
        M.short_budget_deviation(trials),
        "Seeds per point are far fewer than the paper's 100 (see What we ran); each point's spread is shown run by run.",
        "The paper's grids are not listed beyond their ranges (d 16–128, p 16–102, weight decay 0 to about 5 in three "
        "panels); ours are stated under What we ran. We add d = 256. Fig. 11c is a sample of p, not every p from 16 to 102; "
        "the primes of Fig. 11b are part of it.",
        "Composite p (footnote 3): the Fourier reading is kept unchanged, frequencies k = 1..⌊(p − 1)/2⌋, although for k "
        "sharing a factor with p the \"circle\" of step Δ does not visit every token"
        + (f"; for even p ({', '.join(map(str, evens))}) the Nyquist term k = p/2, which is not a circle, is excluded from "
           "the frequencies and from the count" if evens else "") + ".",
        "Runs that never reached 100% test accuracy are excluded from the count claims (the paper says the weight-decay-0 "
        "network does not generalise and counts its frequencies anyway; we mark such runs in every table and figure and "
        "judge the weight-decay-0 claim on them separately).",
        "The counts grow with p partly because the number of frequencies K = ⌊(p − 1)/2⌋ grows with it; the tables give K "
        "beside each count.",
        *C.common_deviations(trials),
        C.STATISTICS_NOTE,
    ]

    findings = []
    for name, runs in sw.items():
        if not runs:
            findings.append(f"No runs in the {name} sweep.")
            continue
        findings += [f"**{name} sweep** ({len(runs)} runs):", point_table(runs, KEY[name])]
    valid_all = [t for t, r in zip(main, rows) if r["valid"]]
    if valid_all:
        findings.append(M.settling_text(M.settling(valid_all, M.settling_step(valid_all))))
    late = [r for r in rows if r["same_set_late"] is False]
    if late:
        findings.append("Survivor sets still changing after 2/3 of the budget: " + ", ".join(
            f"p = {r['p']}, d = {r['d']}, wd = {C.fmt(r['wd'])} (final from step {r['settled_at']})" for r in late[:20])
            + (f" and {len(late) - 20} more" if len(late) > 20 else "") + ".")
    ls = long_settling(main, long)
    if ls is not None:
        findings += long_settling_text(ls, centre.settling_case)
    _, excluded = C.split_valid(main, needs_generalised=True)

    figures = [figure_11(sw, centre, out_dir), figure_12(sw["weight decay"], centre, out_dir)]

    summary = {
        "centre": {"p": centre.centre_p, "d": centre.centre_d, "weight_decay": centre.centre_weight_decay},
        "runs": [{k: v for k, v in r.items()} for r in rows],
        "long_settling": ls,
    }
    return Section(
        our_number=our,
        verdict=verdict,
        what_we_ran=ran,
        deviations=deviations,
        findings=findings,
        figures=figures,
        summary=summary,
        claims=claims,
        excluded=[x + (" Excluded from the count claims (1, 2, 3, 5); the weight-decay-0 claim (4) is judged on its runs "
                       "whatever their accuracy." if i == 0 and excluded else "")
                  for i, x in enumerate(C.exclusion_lines(len(main), excluded))]
                 + ([f"The {len(long)} longer runs of case `{centre.settling_case}` belong to no sweep and enter no "
                     f"claim; {sum(not C.is_finite_trial(t) for t in long)} of them diverged."] if long else []),
        short_number=short,
    )
