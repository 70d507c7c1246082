"""The settling check by longer runs: a few of the main case's trials (same seeds) trained for longer, their
survivors at the main case's step count against their survivors at the end, and against the main case's own
run of the same seeds (its twin). Its table and its figure are here too (docs/method.md#survival-rule).
The same check for circles_vs_size's longer runs, read where the main runs at their point stopped, is at the end.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.measures import survival
from cinit_tf.stats import formatting
from cinit_tf.writeup import common as writeup


def settling(main, long) -> dict | None:
    """The settling rule (`_modadd.settling`) on the long runs at the main case's step count.

    Each long run is compared with itself at the short count (its record at that step), and with
    its twin in the main case (same three seeds) where there is one.
    """
    if not long or not main:
        return None
    short = writeup.steps_of(main)[-1]
    twins = {t.seeds: t for t in main}
    per_tau = {}
    for tau in survival.TAUS:
        v = survival.settling(long, short, tau)
        v["twins"], v["twin_same_set"] = 0, 0
        for t in long:
            twin = twins.get(t.seeds)
            if twin is not None:
                v["twins"] += 1
                v["twin_same_set"] += bool(
                    np.array_equal(
                        survival.survivor_mask(twin, tau),
                        survival.survivor_mask(t, tau, step=short),
                    )
                )
        per_tau[tau] = v
    return {
        "short_steps": short,
        "long_steps": writeup.steps_of(long),
        "short_recorded_at": per_tau[survival.TAU]["recorded_at"],
        "per_tau": per_tau,
        "_long": long,
    }


def settling_findings(s: dict) -> list[str]:
    rows = []
    for tau, v in s["per_tau"].items():
        rows.append(
            [
                formatting.fmt(tau),
                f"{v['same_set']}/{v['runs']}",
                formatting.fmt(v["label_agreement"]),
                ", ".join(map(str, v["frequencies_changed"])),
                ", ".join(map(str, v["settled_at"])),
                f"{v['twin_same_set']}/{v['twins']}" if v["twins"] else "–",
            ]
        )
    recorded = sorted(set(s["short_recorded_at"]))
    note = (
        ""
        if recorded == [s["short_steps"]]
        else f" (the nearest record at or before it: step {', '.join(map(str, recorded))})"
    )
    unsettled = [(tau, v) for tau, v in s["per_tau"].items() if v["same_set"] < v["runs"]]
    caveat = [
        f"At τ = {formatting.fmt(tau)} the long runs' survivor sets were still changing after step {s['short_steps']} (final from "
        f"step {', '.join(map(str, v['settled_at']))}), so the main case's counts and rates at that τ are not settled: "
        "dying frequencies still above the threshold count as survivors."
        for tau, v in unsettled
    ]
    return [
        f"Settling check: {s['per_tau'][survival.TAU]['runs']} runs of the main case's seeds trained for "
        f"{', '.join(map(str, s['long_steps']))} steps; their survivors at step {s['short_steps']}{note} against their "
        "survivors at the end. The last column compares the main case's own run of the same seeds with the long run "
        "at the short count (the two trainings are the same computation up to float rounding).",
        formatting.md_table(
            [
                "τ",
                f"same survivor set at {s['short_steps']} and at the end",
                "share of (run, k) labels agreeing",
                "frequencies changed per run",
                "set final from step (per run)",
                "main-case twin has the same set",
            ],
            rows,
        ),
        *caveat,
    ]


# ---------------------------------------------------------------- circles_vs_size: read where the main runs stopped


def _point(t) -> tuple:
    st = t.settings
    return int(st["task"]["p"]), int(st["train"]["d"]), float(st["train"]["weight_decay"])


def read_step(t, main: list) -> int:
    """Where a longer run is read against the main runs: the median stop step of the main runs at its point (p, d,
    weight decay) that trained under a settling rule and stayed finite, else the main runs' longest step budget."""
    same = [
        m for m in main if _point(m) == _point(t) and m.until_settled and writeup.is_finite_trial(m)
    ]
    if same:
        return int(np.median([m.result.stop_step for m in same]))
    return max(writeup.steps_of(main))


def long_settling(main: list, long: list) -> dict | None:
    """The longer runs read where the main runs stopped (`read_step`) and at their own end (τ = 0.05).

    Each finite long run gives a row: its point, its survivors at the read step (its last record at or before
    it) and at the end, whether the set is the same, and whether it generalised. A run whose read step is at or
    past its own end has nothing to compare: it is listed, and left out of the counts.
    """
    finite = [t for t in long if writeup.is_finite_trial(t)]
    if not finite or not main:
        return None
    rows = []
    for t in finite:
        p, d, wd = _point(t)
        short, end = read_step(t, main), int(t.result.stop_step)
        at_short, at_end = (
            survival.survivor_mask(t, survival.TAU, step=short),
            survival.survivor_mask(t, survival.TAU),
        )
        rows.append(
            {
                "id": t.id,
                "p": p,
                "d": d,
                "wd": wd,
                "steps": end,
                "read_at": short,
                "recorded_at": int(np.asarray(t.result.steps)[survival.row_at(t, short)]),
                "compared": short < end,
                "count_short": int(at_short.sum()),
                "count_end": int(at_end.sum()),
                "same_set": bool(np.array_equal(at_short, at_end)),
                "labels_same": int(np.sum(at_short == at_end)),
                "labels": int(at_end.size),
                "generalised": t.result.convergence_step is not None,
            }
        )
    compared = [r for r in rows if r["compared"]]
    return {
        "long_steps": writeup.steps_of(finite),
        "runs": len(compared),
        "not_compared": len(rows) - len(compared),
        "same_set": sum(r["same_set"] for r in compared),
        "label_agreement": (
            sum(r["labels_same"] for r in compared) / sum(r["labels"] for r in compared)
            if compared
            else float("nan")
        ),  # pooled over (run, frequency) labels
        "count_changed": sum(r["count_short"] != r["count_end"] for r in compared),
        "rows": rows,
        "not_finite": len(long) - len(finite),
    }


def long_settling_text(ls: dict, case: str) -> list[str]:
    rows = sorted(ls["rows"], key=lambda r: (r["p"], r["d"], r["wd"], r["id"]))
    table = [
        "| p | d | weight decay | steps | read at step | survivors there | at the end | same set | "
        "reached 100% test acc. |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    table += [
        f"| {r['p']} | {r['d']} | {formatting.fmt(r['wd'])} | {r['steps']} | {r['read_at']} | "
        + (
            f"{r['count_short']} | {r['count_end']} | {'yes' if r['same_set'] else 'no'}"
            if r["compared"]
            else f"– | {r['count_end']} | – (read step past its end)"
        )
        + f" | {'yes' if r['generalised'] else 'no'} |"
        for r in rows
    ]
    text = (
        f"Longer runs (case `{case}`, our check, not in the paper): runs trained for "
        f"{', '.join(map(str, ls['long_steps']))} steps, each read where the main runs at its point stopped (the median "
        "stop step of those runs when they trained until settled, else their step budget) and at its own end "
        f"(τ = {formatting.fmt(survival.TAU)}): "
    )
    if ls["runs"]:
        text += (
            f"the survivor set there was the final one in {ls['same_set']} of {ls['runs']} runs, the count changed "
            f"in {ls['count_changed']}, and {100 * ls['label_agreement']:.1f}% of (run, frequency) labels were the same."
        )
    else:
        text += "no run trained past that step, so none could be compared."
    if ls["not_compared"] and ls["runs"]:
        n = ls["not_compared"]
        text += f" {n} {'run' if n == 1 else 'runs'} ended at or before {'its' if n == 1 else 'their'} read step and {'is' if n == 1 else 'are'} not compared."
    if ls["not_finite"]:
        n = ls["not_finite"]
        text += f" {n} longer {'run' if n == 1 else 'runs'} diverged and {'is' if n == 1 else 'are'} left out."
    moved = [r for r in rows if r["compared"] and r["count_end"] != r["count_short"]]
    if moved:
        points = sorted({(r["p"], r["d"], r["wd"]) for r in moved})
        text += (
            " Where the count changed ("
            + "; ".join(f"p = {p}, d = {d}, wd = {formatting.fmt(w)}" for p, d, w in points)
            + "), the main runs' counts where they stopped are not final: at those points the claims read how far "
            "the pruning of frequencies had gone by then, not the number that survives it."
        )
    return [text, "\n".join(table)]
