"""Test loss against embedding dimension d over a grid of d (§5, Fig. 7; App. B, Fig. 9): each grid point's
numbers, and the tests between points: d = p against its two nearest neighbours, how much the curves there
still moved, rises between adjacent points, and all d > p against all d < p; `task_sweep` gathers them for
one task.

A grid is {d: [trials]} of one arm (embedding frozen or trained) of one task. Two readings of a trial's
test loss, both in log₁₀ (losses span decades; docs/method.md#statistics): how fast it fell, the
time-averaged log₁₀ test loss over the budget (`curve_stats.time_mean_log10` of `held_test_loss`), and the level it reached, the mean log₁₀
test loss of the records from `level_from` × budget on (`level`; the study declares the share). The
figures of the study (freeze_embedding) draw these numbers.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.measures import curves as curve_stats
from cinit_tf.stats import inference, verdicts
from cinit_tf.stats.claims import ALPHA
from cinit_tf.trial import LOSS_FLOOR
from cinit_tf.writeup import common as writeup

FLAT_FROM = 0.75  # "the last quarter": from this share of the step budget to the end


def held_test_loss(trial) -> tuple[np.ndarray, np.ndarray]:
    """(steps, test loss) over the budget: a run that settled before it is held at its last value (it stays
    there), so that runs of one grid that stopped at different steps are read over the same span. How fast
    the loss fell is `curve_stats.time_mean_log10` of it (floored at LOSS_FLOOR), lower = lower sooner."""
    r = trial.result
    return curve_stats.held_to_budget(
        np.asarray(r.steps, dtype=float),
        np.asarray(r.test_loss, dtype=float),
        r.stop_reason,
        trial.budget,
    )


def level(trial, level_from: float) -> float:
    """The mean log₁₀ test loss of the records at steps ≥ level_from × budget (`_curves.level_log10`): the
    level the loss holds at the end of the budget; nan when none lies that late or one is not finite."""
    return curve_stats.level_log10(*held_test_loss(trial), level_from * trial.budget, LOSS_FLOOR)


def arm(trials, frozen: bool) -> dict[int, list]:
    """Trials of one arm (frozen or trained embedding) grouped by d, d ascending."""
    return writeup.group_trials(
        [t for t in trials if bool(t.settings["train"]["freeze_embedding"]) == frozen],
        lambda t: int(t.settings["train"]["d"]),
    )


def point_stats(trials, level_from: float) -> dict:
    """One grid point: each trial's level (`level`, log₁₀) and its linear value 10^level (the geometric mean
    test loss over the end of the budget), their mean ± std over the finite ones, the mean level with a 95%
    CI, and the mean final test accuracy."""
    logs = [level(t, level_from) for t in trials]
    values = [10.0**v if np.isfinite(v) else float("nan") for v in logs]
    m, s, n = inference.mean_std([v for v in values if np.isfinite(v)])
    lm, llo, lhi, _ = inference.mean_ci(logs)
    acc = [writeup.final(t.result.test_acc) for t in trials]
    return {
        "mean": m,
        "std": s,
        "n": n,
        "nonfinite": len(values) - n,
        "test_acc": float(np.mean(acc)),
        "values": [float(v) for v in values],
        "log_mean": lm,
        "log_ci95": [llo, lhi],
        "logs": logs,
    }


def neighbours(points, p: int) -> tuple[int, int] | None:
    """The grid points the dip at d = p is read against: the nearest below and the nearest above; None when
    p or either side is missing."""
    points = list(points)
    below, above = [d for d in points if d < p], [d for d in points if d > p]
    if p not in points or not below or not above:
        return None
    return max(below), min(above)


def dip_test(frozen: dict[int, list], p: int, level_from: float) -> dict | None:
    """The frozen level at d = p against the nearest grid point on each side (Welch's t-test per side)."""
    sides = neighbours(frozen, p)
    if sides is None:
        return None
    lo, hi = sides
    out = {
        "p": p,
        "below": lo,
        "above": hi,
        "at": point_stats(frozen[p], level_from),
        "at_below": point_stats(frozen[lo], level_from),
        "at_above": point_stats(frozen[hi], level_from),
        "flattening": flattening([*frozen[lo], *frozen[p], *frozen[hi]]),
    }
    at, at_lo, at_hi = out["at"]["logs"], out["at_below"]["logs"], out["at_above"]["logs"]
    out["vs_below"], out["vs_above"] = (
        inference.welch_test(at, at_lo),
        inference.welch_test(at, at_hi),
    )
    # mean(at) − (mean(below) + mean(above)) / 2: the verdict's contrast
    out["contrast"] = inference.welch_contrast([at, at_lo, at_hi], (1.0, -0.5, -0.5))
    for side in ("below", "above"):
        out[f"vs_{side}"]["difference"] = out["at"]["log_mean"] - out[f"at_{side}"]["log_mean"]
    m0, m_lo, m_hi = out["at"]["log_mean"], out["at_below"]["log_mean"], out["at_above"]["log_mean"]
    sig_lo = out["vs_below"]["p"] < ALPHA  # nan compares False: too few seeds resolve nothing
    sig_hi = out["vs_above"]["p"] < ALPHA
    if sig_lo and sig_hi:
        shape = "dip" if m0 < min(m_lo, m_hi) else "bump" if m0 > max(m_lo, m_hi) else "step"
    elif sig_lo or sig_hi:
        d, m = (lo, m_lo) if sig_lo else (hi, m_hi)
        shape = f"{'lower' if m0 < m else 'higher'} than d = {d} only"
    else:
        shape = "not resolved from seed noise"
    out["shape"] = shape
    out["dip"] = shape == "dip"
    return out


def flattening(trials) -> dict:
    """How much the log₁₀ test loss of these trials moved over the last quarter of training (decades): the mean
    of the per-trial changes (signed) and the mean of their sizes, so that runs that rise and runs that fall
    do not cancel to "flat". Reported beside the dip, which is read at the budget whether or not the curves
    there still move (the paper's own reading of Fig. 7)."""
    changes = []
    for t in trials:
        steps = np.asarray(t.result.steps, dtype=float)
        loss = np.asarray(t.result.test_loss, dtype=float)
        i = max(
            int(np.searchsorted(steps, FLAT_FROM * steps[-1], side="right")) - 1, 0
        )  # last record at or before
        a, b = loss[i], loss[-1]
        if np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0:
            changes.append(float(np.log10(b) - np.log10(a)))
    change = float(np.mean(changes)) if changes else float("nan")
    size = float(np.mean(np.abs(changes))) if changes else float("nan")
    return {"change": change, "size": size, "n": len(changes)}


def adjacent_rises(frozen: dict[int, list], level_from: float) -> list[dict]:
    """Adjacent grid points where the level rises with d: one-sided Welch p (rise) per pair, in d order."""
    ds = sorted(frozen)
    out = []
    for a, b in zip(ds, ds[1:]):
        la = [v for v in (level(t, level_from) for t in frozen[a]) if np.isfinite(v)]
        lb = [v for v in (level(t, level_from) for t in frozen[b]) if np.isfinite(v)]
        if len(la) < 2 or len(lb) < 2 or (np.ptp(la) == 0 and np.ptp(lb) == 0):
            continue
        test = inference.welch_test(lb, la, alternative="greater")
        out.append({"from": a, "to": b, "rise": float(np.mean(lb) - np.mean(la)), "p": test["p"]})
    return out


def step_test(frozen: dict[int, list], p: int, level_from: float) -> dict | None:
    """The text's reading: the frozen level of all trials with d > p against all with d < p (Welch)."""
    below = [level(t, level_from) for d, ts in frozen.items() if d < p for t in ts]
    above = [level(t, level_from) for d, ts in frozen.items() if d > p for t in ts]
    if not below or not above:
        return None
    return {
        "below": inference.mean_std([v for v in below if np.isfinite(v)]),
        "above": inference.mean_std([v for v in above if np.isfinite(v)]),
        "welch": inference.welch_test(above, below),
    }


def task_sweep(label: str, trials, level_from: float) -> dict:
    """One task's numbers (all its cases together): each grid point of both arms, the trends, and the tests between points.

    Keys starting with "_" hold trials, or numbers per trial (for the figures and the claims): a summary leaves
    them out.
    """
    task = trials[0].settings["task"]
    p = writeup.task_p(task)
    valid, excluded = writeup.split_valid(trials)
    frozen_all = [t for t in trials if t.settings["train"]["freeze_embedding"]]
    valid_frozen = [t for t in valid if t.settings["train"]["freeze_embedding"]]
    trials = valid
    frozen, trained = arm(trials, True), arm(trials, False)

    def points(grid, value):
        return [(int(t.settings["train"]["d"]), value(t)) for ts in grid.values() for t in ts]

    def trend(pts):
        return inference.spearman([d for d, _ in pts], [v for _, v in pts])

    def speed(t):  # how fast the loss fell: its time-averaged log₁₀ over the budget
        return curve_stats.time_mean_log10(*held_test_loss(t), LOSS_FLOOR)

    frozen_speed = points(frozen, speed)
    falls = trend(frozen_speed)
    return {
        "label": label,
        "task": task["name"],
        "p": p,
        "steps": writeup.steps_of(trials),
        "weight_decay": sorted({float(t.settings["train"]["weight_decay"]) for t in trials}),
        "seeds": sorted({len(ts) for ts in [*frozen.values(), *trained.values()]}),
        "cases": sorted({t.case for t in trials}),
        "level_from": level_from,
        "frozen": {d: point_stats(ts, level_from) for d, ts in frozen.items()},
        "trained": {d: point_stats(ts, level_from) for d, ts in trained.items()},
        "spearman_frozen": falls,  # on the time-averaged log₁₀ test loss: the claim's trend
        "falls": bool(falls["rho"] < 0 and falls["p"] < ALPHA),
        "spearman_frozen_level": trend(points(frozen, lambda t: level(t, level_from))),
        "spearman_trained": trend(points(trained, speed)),
        "dip": dip_test(frozen, p, level_from),
        "step": step_test(frozen, p, level_from),
        "rises": adjacent_rises(frozen, level_from),
        "valid_frozen": len(valid_frozen),
        "total_frozen": len(frozen_all),
        "assessable": verdicts.assessable(len(valid_frozen), len(frozen_all)),
        "_valid": valid,
        "_excluded": excluded,
        "_frozen_trials": frozen,
        "_frozen_speed": frozen_speed,  # (d, time-averaged log₁₀ test loss) per trial
        "_trained_trials": trained,
    }


def late_rise(trials, rise_decades: float) -> dict:
    """How a run's training loss ends against its lowest: {"n", "risen", "step", "lowest", "rise"}, the last three
    medians over the `risen` runs (step of the lowest training loss, log₁₀ of it, log₁₀ last / lowest).

    A run whose loss rose by `rise_decades` or more after its lowest point has not settled, and a longer cap makes it
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
    risen = [r for r in rows if r[2] >= rise_decades]

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
