"""The settling check by longer runs: a few of the main case's trials (same seeds) trained for longer, their
survivors at the main case's step count against their survivors at the end, and against the main case's own
run of the same seeds (its twin). Its table and its figure are here too (docs/method.md#survival-rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.readout import survivors
from cinit_tf.section import Figure
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _modadd as M


def settling(main, long) -> dict | None:
    """The settling rule (`_modadd.settling`) on the long runs at the main case's step count.

    Each long run is compared with itself at the short count (its record at that step), and with
    its twin in the main case (same three seeds) where there is one.
    """
    if not long or not main:
        return None
    short = C.steps_of(main)[-1]
    twins = {tuple(sorted(t.settings["seeds"].items())): t for t in main}
    per_tau = {}
    for tau in M.TAUS:
        v = M.settling(long, short, tau)
        v["twins"], v["twin_same_set"] = 0, 0
        for t in long:
            twin = twins.get(tuple(sorted(t.settings["seeds"].items())))
            if twin is not None:
                v["twins"] += 1
                v["twin_same_set"] += bool(np.array_equal(M.survivor_mask(twin, tau), M.survivor_mask(t, tau, step=short)))
        per_tau[tau] = v
    return {"short_steps": short, "long_steps": C.steps_of(long), "short_recorded_at": per_tau[M.TAU]["recorded_at"],
            "per_tau": per_tau, "_long": long}


def settling_findings(s: dict) -> list[str]:
    rows = []
    for tau, v in s["per_tau"].items():
        rows.append([C.fmt(tau), f"{v['same_set']}/{v['runs']}", C.fmt(v["label_agreement"]),
                     ", ".join(map(str, v["frequencies_changed"])), ", ".join(map(str, v["settled_at"])),
                     f"{v['twin_same_set']}/{v['twins']}" if v["twins"] else "–"])
    recorded = sorted(set(s["short_recorded_at"]))
    note = "" if recorded == [s["short_steps"]] else f" (the nearest record at or before it: step {', '.join(map(str, recorded))})"
    unsettled = [(tau, v) for tau, v in s["per_tau"].items() if v["same_set"] < v["runs"]]
    caveat = [
        f"At τ = {C.fmt(tau)} the long runs' survivor sets were still changing after step {s['short_steps']} (final from "
        f"step {', '.join(map(str, v['settled_at']))}), so the main case's counts and rates at that τ are not settled: "
        "dying frequencies still above the threshold count as survivors." for tau, v in unsettled
    ]
    return [
        f"Settling check: {s['per_tau'][M.TAU]['runs']} runs of the main case's seeds trained for "
        f"{', '.join(map(str, s['long_steps']))} steps; their survivors at step {s['short_steps']}{note} against their "
        "survivors at the end. The last column compares the main case's own run of the same seeds with the long run "
        "at the short count (the two trainings are the same computation up to float rounding).",
        C.md_table(["τ", f"same survivor set at {s['short_steps']} and at the end", "share of (run, k) labels agreeing",
                    "frequencies changed per run", "set final from step (per run)", "main-case twin has the same set"], rows),
        *caveat,
    ]


def figure_settling(s: dict, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.6))
    for t in s["_long"]:
        steps = np.asarray(t.result.steps)
        norms = np.asarray(t.result.fourier_norms, dtype=np.float64)
        masks = survivors(norms, M.TAU)
        final = masks[-1]
        label = f"seeds {t.settings['seeds']['embedding']}/{t.settings['seeds']['mlp']}"
        axes[0].plot(np.maximum(steps, 1), masks.sum(axis=1), lw=1.2, label=label)
        axes[1].plot(np.maximum(steps, 1), np.mean(masks == final[None, :], axis=1), lw=1.2, label=label)
    for ax in axes:
        ax.axvline(s["short_steps"], color="black", ls="--", lw=1, label=f"main case: {s['short_steps']} steps")
        ax.set_xscale("log")
        ax.set_xlabel("training step (log; step 0 drawn at 1)")
        ax.legend(loc="best")
    axes[0].set_ylabel(f"survivors at that step (τ = {C.fmt(M.TAU)})")
    axes[0].set_title("Survivor count over a longer run")
    axes[1].set_ylabel("share of frequencies labelled as at the end")
    axes[1].set_ylim(0, 1.05)
    axes[1].set_title("Agreement with the final survivor set")
    return G.finish(fig, out_dir, "settling.png",
                  "Our check, not in the paper: for the longer runs, the number of survivors (left) and the share of "
                  "frequencies whose survive/die label already equals the final one (right), at every recorded step; "
                  "the dashed line is the main case's step count.")
