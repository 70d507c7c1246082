"""The tables and report text of the circles-vs-size study (App. D, Fig. 11 and 12): each sweep's table of
survivor counts, the findings, the deviations from the paper, what we ran and our number.

Each writes out what `circles_vs_size.measure` computed (the runs are measures.count_runs.CountRun); no claim is
judged here.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.measures import survival
from cinit_tf.measures import sweeps as grid_sweeps
from cinit_tf.measures.longer_runs import long_settling_text
from cinit_tf.stats import formatting, inference
from cinit_tf.writeup import common as writeup

# the swept setting of each sweep (CountRun.setting's key), and how a table names it
KEY = {"d": "d", "prime p": "p", "all p": "p", "weight decay": "wd"}
KEY_NAME = {"d": "d", "p": "p", "wd": "weight decay"}


def point_table(runs: list, key: str) -> str:
    """One sweep's runs (CountRun) by grid value of `key`: survivors, K, accuracy, settling."""
    rows = []
    for x in sorted({r.setting(key) for r in runs}):
        at = [r for r in runs if r.setting(key) == x]
        valid = [r for r in at if r.valid]
        invalid = [r for r in at if not r.valid]

        def counts(tau, group):
            v = [r.counts[tau] for r in group if r.counts[tau] is not None]
            return (
                f"{formatting.fmt(np.mean(v))} ± {formatting.fmt(inference.mean_std(v)[1])}"
                if v
                else "–"
            )

        label = formatting.fmt(x) + (
            "" if key != "p" else (" (prime)" if grid_sweeps.is_prime(int(x)) else "")
        )
        late = [r.same_set_late for r in at if r.same_set_late is not None]
        rows.append(
            [
                label,
                len(at),
                len(valid),
                counts(survival.TAU, valid),
                ", ".join(str(r.count) for r in invalid if r.count is not None) or "–",
                counts(0.01, valid),
                counts(0.2, valid),
                at[0].K,
                formatting.fmt_mean_std([r.test_acc for r in at]).split(" (n")[0],
                f"{sum(late)}/{len(late)}",
            ]
        )
    return formatting.md_table(
        [
            KEY_NAME[key],
            "runs",
            "valid",
            "survivors τ = 0.05 (valid runs)",
            "survivors τ = 0.05 of runs not generalising",
            "τ = 0.01",
            "τ = 0.2",
            "K",
            "final test acc. (all runs)",
            "same set at 2/3 of its steps (runs not settled by their rule)",
        ],
        rows,
    )


def numbers(m) -> tuple[str, str]:
    """(our number, the index's short form)."""

    def rho(name, long=True):
        r, lo, hi, pv, n = m.spearman[name]
        return (
            f"{formatting.fmt(r)} [{formatting.fmt(lo)}, {formatting.fmt(hi)}] ({formatting.fmt_p(pv)}, n = {n})"
            if long
            else formatting.fmt(r, 2)
        )

    zero = [r for r in m.sweeps["weight decay"] if r.wd == 0.0 and r.finite]
    zero_text = (
        (
            f"{sum(r.count == r.K for r in zero)}/{len(zero)} runs keep all K, "
            f"{sum(not r.generalised for r in zero)}/{len(zero)} do not generalise"
        )
        if zero
        else "no runs"
    )
    our = (
        f"Spearman ρ of survivors (τ = {formatting.fmt(survival.TAU)}, valid runs) with d {rho('d')}; with prime p "
        f"{rho('prime p')}; with all p {rho('all p')}; with weight decay > 0 {rho('wd > 0')}; "
        f"at weight decay 0 {zero_text}"
    )
    short = (
        f"ρ(d) {rho('d', False)}, ρ(prime p) {rho('prime p', False)}, ρ(all p) {rho('all p', False)}, "
        f"ρ(wd) {rho('wd > 0', False)}; wd 0: {zero_text} ({grid_sweeps.claim_counts(m.claims)})"
    )
    return our, short


def case_lines(record: dict, trials) -> list[str]:
    """Per case: the grid's values (not one trial's), the fixed p, d and weight decay, and the seeds per grid point."""
    out = (
        [f"Overrides: {', '.join(f'`{o}`' for o in sorted(record['overrides']))}."]
        if record.get("overrides")
        else []
    )
    keys = {
        "task.p": ("p", lambda t: t.settings["task"]["p"]),
        "train.d": ("d", lambda t: t.settings["train"]["d"]),
        "train.weight_decay": ("weight decay", lambda t: t.settings["train"]["weight_decay"]),
    }
    for case, ts in sorted(writeup.group_trials(trials, lambda t: t.case).items()):
        parts = []
        for name, value in keys.values():
            values = sorted({float(value(t)) for t in ts})
            shown = ", ".join(formatting.fmt(v) for v in values)
            parts.append(f"{name} ∈ {{{shown}}}" if len(values) > 1 else f"{name} = {shown}")
        points = writeup.group_trials(
            ts, lambda t: tuple(sorted(t.settings.get("grid", {}).items()))
        )
        per_point = sorted({len(v) for v in points.values()})
        emb = sorted({t.seeds[0] for t in ts})
        same = all(sorted(t.seeds[0] for t in v) == emb for v in points.values())
        out.append(
            f"`{case}` ({ts[0].settings['task']['name']}; {', '.join(parts)}): {len(ts)} trial{'s' * (len(ts) != 1)}, "
            f"{', '.join(map(str, writeup.steps_of(ts)))} steps; {len(points)} grid point{'s' * (len(points) != 1)} × "
            f"{'–'.join(map(str, per_point))} seed{'s' * (per_point != [1])} per point (embedding seed"
            f"{'s' * (len(emb) != 1)} {', '.join(map(str, emb))}{(', the same at every point' if same else ' in all') if len(points) > 1 else ''})."
            + writeup.stopping_text(ts)
        )
    return out


def what_we_ran(m, record: dict) -> list[str]:
    """What we ran: each case's grid, the centre point and the sweeps read from it, the settling check."""
    centre = m.options
    ran = case_lines(record, m.trials)
    ran.append(
        f"Centre point p = {centre.centre_p}, d = {centre.centre_d}, weight decay {formatting.fmt(centre.centre_weight_decay)}"
        + "".join(
            f" (its runs of embedding seed {cap} and above are left out of the {name})"
            for cap, name in (
                (centre.centre_seeds_p, "p sweeps"),
                (centre.centre_seeds_wd, "weight-decay sweep"),
            )
            if cap
        )
        + "; sweeps read from the settings: "
        + "; ".join(
            f"{name}: {len(runs)} runs at {KEY_NAME[KEY[name]]} ∈ {{{', '.join(formatting.fmt(x) for x in sorted({r.setting(KEY[name]) for r in runs}))}}}"
            for name, runs in m.sweeps.items()
        )
        + "."
    )
    ran.append(
        "Survivors read at the last recorded step; the settling check compares them with the survivors at 2/3 of "
        "the step budget"
        + (
            f", and the {len(m.long)} longer runs of case `{centre.settling_case}` (in no sweep) "
            "with themselves at the main budget."
            if m.long
            else "."
        )
    )
    return ran


def deviations(m) -> list[str]:
    evens = sorted({r.p for r in m.sweeps["all p"] if r.p % 2 == 0})
    return [
        f"Survival rule ({formatting.method('survival-rule')}, ours): frequency k survives when its final signal ≥ τ · max_k final "
        f"signal, τ = {formatting.fmt(survival.TAU)}; counts at τ = 0.01 and 0.2 are in the tables. The paper does not state its rule.",
        survival.short_budget_deviation(m.trials),
        "Seeds per point are far fewer than the paper's 100 (see What we ran); each point's spread is shown run by run.",
        "The paper's grids are not listed beyond their ranges (d 16–128, p 16–102, weight decay 0 to about 5 in three "
        "panels); ours are stated under What we ran. We add d = 256. Fig. 11c is a sample of p, not every p from 16 to 102; "
        "the primes of Fig. 11b are part of it.",
        "Composite p (footnote 3): the Fourier reading is kept unchanged, frequencies k = 1..⌊(p − 1)/2⌋, although for k "
        'sharing a factor with p the "circle" of step Δ does not visit every token'
        + (
            f"; for even p ({', '.join(map(str, evens))}) the Nyquist term k = p/2, which is not a circle, is excluded from "
            "the frequencies and from the count"
            if evens
            else ""
        )
        + ".",
        "Runs that never reached 100% test accuracy are excluded from the count claims (the paper says the weight-decay-0 "
        "network does not generalise and counts its frequencies anyway; we mark such runs in every table and figure and "
        "judge the weight-decay-0 claim on them separately).",
        "The counts grow with p partly because the number of frequencies K = ⌊(p − 1)/2⌋ grows with it; the tables give K "
        "beside each count.",
        *writeup.common_deviations(m.trials),
        writeup.STATISTICS_NOTE,
    ]


def findings(m) -> list[str]:
    """Each sweep's table, the settling checks and the survivor sets still changing late."""
    findings = []
    for name, runs in m.sweeps.items():
        if not runs:
            findings.append(f"No runs in the {name} sweep.")
            continue
        findings += [f"**{name} sweep** ({len(runs)} runs):", point_table(runs, KEY[name])]
    if m.settling is not None:
        findings.append(survival.settling_text(m.settling))
    late = [r for r in m.rows if r.same_set_late is False]
    if late:
        findings.append(
            "Survivor sets still changing after 2/3 of the steps the run trained: "
            + ", ".join(
                f"p = {r.p}, d = {r.d}, wd = {formatting.fmt(r.wd)} (final from step {r.settled_at})"
                for r in late[:20]
            )
            + (f" and {len(late) - 20} more" if len(late) > 20 else "")
            + "."
        )
    if m.long_settling is not None:
        findings += long_settling_text(m.long_settling, m.options.settling_case)
    return findings + companion_text(m.companions, m.rows)


def at_chance(r) -> bool:
    """Its final training accuracy is below twice chance (2/p): the network no longer fits its training pairs."""
    return bool(r.train_acc < 2.0 / r.p)


def companion_text(companions: list, rows: list) -> list[str]:
    """The standard-loss companions beside the exact-loss runs of their points: collapse, death, counts."""
    if not companions:
        return []
    points = sorted({(r.p, r.d, r.wd) for r in companions})
    table = []
    for pt in points:
        for loss, runs in (
            ("exact", [r for r in rows if (r.p, r.d, r.wd) == pt]),
            ("standard", [r for r in companions if (r.p, r.d, r.wd) == pt]),
        ):
            hit = sorted(r.collapse_step for r in runs if r.collapse_step is not None)
            table.append(
                [
                    f"p = {pt[0]}, d = {pt[1]}, wd = {formatting.fmt(pt[2])}",
                    loss,
                    len(runs),
                    f"{len(hit)} (step {float(np.median(hit)):,.0f})" if hit else "0",
                    sum(at_chance(r) for r in runs),
                    formatting.fmt_mean_std([r.train_acc for r in runs]),
                    formatting.fmt_mean_std([r.test_acc for r in runs]),
                    ", ".join(str(r.count) for r in runs),
                ]
            )
    dead = [r for r in companions if at_chance(r)]
    return [
        f"Standard loss beside the exact one ({formatting.method('the-exact-loss')}): the points below train "
        f"with the exact cross-entropy, and the {len(companions)} runs trained there with the standard float32 "
        "loss (the paper's likely setting) are kept beside them, in no sweep and no claim. "
        f"{len(dead)} of the {len(companions)} ended with their training accuracy below twice chance (2/p): "
        "the network no longer fits the pairs it had memorised, and its survivor count reads what is left of it.",
        formatting.md_table(
            [
                "point",
                "loss",
                "runs",
                "collapsed (first step, median)",
                "ended at chance (training acc. < 2/p)",
                "final training acc.",
                "final test acc.",
                "survivors τ = 0.05",
            ],
            table,
        ),
    ]


def capped_reading(runs: list, final: list) -> str:
    """Beside the rule, not the verdict: the trend with the runs stopped at their cap counted where they stopped
    (their count is not final by the rule, but it is what a fixed budget of that length would read)."""
    capped = [r for r in runs if r.finite and not r.final]
    if not capped or len(final) < 3:
        return ""
    rho, lo, hi, p, n = inference.spearman_ci(
        [r.wd for r in final + capped], [r.count for r in final + capped]
    )
    where = ", ".join(
        f"wd {formatting.fmt(wd)}: {', '.join(str(r.count) for r in capped if r.wd == wd)}"
        for wd in sorted({r.wd for r in capped})
    )
    f = formatting.fmt
    return (
        f"; beside the rule, not the verdict: with the {len(capped)} runs stopped at their cap counted there "
        f"({where} survivors; {sum(r.generalised for r in capped)} of them reached 100% test accuracy), "
        f"Spearman ρ = {f(rho)} [{f(lo)}, {f(hi)}] ({formatting.fmt_p(p)}, n = {n})"
    )
