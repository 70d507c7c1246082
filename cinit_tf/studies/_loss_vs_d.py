"""Final test loss against embedding dimension d over a grid of d (§5, Fig. 7; App. B, Fig. 9): each grid point's
numbers, and the tests between points: d = p against its two nearest neighbours, whether the curves there have
flattened, rises between adjacent points, and all d > p against all d < p; `task_sweep` gathers them for one task.

A grid is {d: [trials]} of one arm (embedding frozen or trained) of one task. Losses span decades, so
comparisons are of log₁₀ of the final test loss (docs/method.md#statistics).
"""

from __future__ import annotations

import numpy as np

from cinit_tf.studies import _common as C
from cinit_tf.studies import _curves as D
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V

FLAT_FROM = 0.75  # "the last quarter": from this share of the step budget to the end


def final_loss(trial) -> float:
    return C.final(trial.result.test_loss)


def log_loss(trial) -> float:
    """log₁₀ of the final test loss (nan when not positive and finite)."""
    v = final_loss(trial)
    return float(np.log10(v)) if np.isfinite(v) and v > 0 else float("nan")


def mean_loss_over_training(trial) -> float:
    """Test loss averaged over training time (trapezoid over the recorded steps): how fast it fell, not only where it ended.

    A run that settled before its cap is held at its last value to the cap, so that runs of one grid that stopped
    at different steps are averaged over the same span.
    """
    steps, loss = D.held_to_budget(np.asarray(trial.result.steps, dtype=float), np.asarray(trial.result.test_loss, dtype=float),
                                   trial.result.stop_reason, int(trial.settings["train"]["steps"]))
    if steps[-1] <= 0 or not np.all(np.isfinite(loss)):
        return float("nan")
    return float(np.sum((loss[1:] + loss[:-1]) / 2 * np.diff(steps)) / (steps[-1] - steps[0]))


def arm(trials, frozen: bool) -> dict[int, list]:
    """Trials of one arm (frozen or trained embedding) grouped by d, d ascending."""
    return C.group_trials([t for t in trials if bool(t.settings["train"]["freeze_embedding"]) == frozen],
                          lambda t: int(t.settings["train"]["d"]))


def point_stats(trials) -> dict:
    """One grid point: final test loss (mean ± std of the finite values), its log₁₀ mean with a 95% CI, and test accuracy."""
    values = [final_loss(t) for t in trials]
    finite = [v for v in values if np.isfinite(v)]
    m, s, n = S.mean_std(finite)
    logs = [log_loss(t) for t in trials]
    lm, llo, lhi, _ = S.mean_ci(logs)
    acc = [C.final(t.result.test_acc) for t in trials]
    return {"mean": m, "std": s, "n": n, "nonfinite": len(values) - len(finite), "test_acc": float(np.mean(acc)),
            "values": [float(v) for v in values], "log_mean": lm, "log_ci95": [llo, lhi], "logs": logs}


def dip_test(frozen: dict[int, list], p: int) -> dict | None:
    """Frozen final loss at d = p against the nearest grid point on each side (Welch's t-test per side)."""
    if p not in frozen:
        return None
    below = [d for d in frozen if d < p]
    above = [d for d in frozen if d > p]
    if not below or not above:
        return None
    lo, hi = max(below), min(above)
    at, at_lo, at_hi = ([log_loss(t) for t in frozen[d]] for d in (p, lo, hi))
    out = {"p": p, "below": lo, "above": hi,
           "at": point_stats(frozen[p]), "at_below": point_stats(frozen[lo]), "at_above": point_stats(frozen[hi]),
           "vs_below": S.welch_test(at, at_lo), "vs_above": S.welch_test(at, at_hi),
           # mean(at) − (mean(below) + mean(above)) / 2: the verdict's contrast
           "contrast": S.welch_contrast([at, at_lo, at_hi], (1.0, -0.5, -0.5)),
           "flattening": flattening([*frozen[lo], *frozen[p], *frozen[hi]])}
    for side in ("below", "above"):
        s0, s1 = out["at"], out[f"at_{side}"]
        out[f"vs_{side}"]["difference"] = s0["log_mean"] - s1["log_mean"]
    m0, m_lo, m_hi = out["at"]["log_mean"], out["at_below"]["log_mean"], out["at_above"]["log_mean"]
    sig_lo = out["vs_below"]["p"] < V.ALPHA  # nan compares False: too few seeds resolve nothing
    sig_hi = out["vs_above"]["p"] < V.ALPHA
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
    do not cancel to "flat". The study decides with its tolerance (freeze_embedding.FLAT_TOLERANCE)."""
    changes = []
    for t in trials:
        steps = np.asarray(t.result.steps, dtype=float)
        loss = np.asarray(t.result.test_loss, dtype=float)
        i = max(int(np.searchsorted(steps, FLAT_FROM * steps[-1], side="right")) - 1, 0)  # last record at or before
        a, b = loss[i], loss[-1]
        if np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0:
            changes.append(float(np.log10(b) - np.log10(a)))
    change = float(np.mean(changes)) if changes else float("nan")
    size = float(np.mean(np.abs(changes))) if changes else float("nan")
    return {"change": change, "size": size, "n": len(changes)}


def adjacent_rises(frozen: dict[int, list]) -> list[dict]:
    """Adjacent grid points where log₁₀ final loss rises with d: one-sided Welch p (rise) per pair, in d order."""
    ds = sorted(frozen)
    out = []
    for a, b in zip(ds, ds[1:]):
        la = [v for v in (log_loss(t) for t in frozen[a]) if np.isfinite(v)]
        lb = [v for v in (log_loss(t) for t in frozen[b]) if np.isfinite(v)]
        if len(la) < 2 or len(lb) < 2 or (np.ptp(la) == 0 and np.ptp(lb) == 0):
            continue
        test = S.welch_test(lb, la, alternative="greater")
        out.append({"from": a, "to": b, "rise": float(np.mean(lb) - np.mean(la)), "p": test["p"]})
    return out


def step_test(frozen: dict[int, list], p: int) -> dict | None:
    """The text's reading: frozen final loss of all trials with d > p against all with d < p (Welch)."""
    below = [final_loss(t) for d, ts in frozen.items() if d < p for t in ts]
    above = [final_loss(t) for d, ts in frozen.items() if d > p for t in ts]
    if not below or not above:
        return None
    return {"below": S.mean_std([v for v in below if np.isfinite(v)]), "above": S.mean_std([v for v in above if np.isfinite(v)]),
            "welch": S.welch_test(above, below)}


def task_sweep(label: str, trials) -> dict:
    """One task's numbers (all its cases together): each grid point of both arms, the trends, and the tests between points.

    Keys starting with "_" hold trials (for the figures and the claims), not numbers: a summary leaves them out.
    """
    task = trials[0].settings["task"]
    p = C.task_p(task)
    valid, excluded = C.split_valid(trials)
    frozen_all = [t for t in trials if t.settings["train"]["freeze_embedding"]]
    valid_frozen = [t for t in valid if t.settings["train"]["freeze_embedding"]]
    trials = valid
    frozen, trained = arm(trials, True), arm(trials, False)
    fz = [(int(t.settings["train"]["d"]), final_loss(t)) for ts in frozen.values() for t in ts]
    fz_time = [(int(t.settings["train"]["d"]), mean_loss_over_training(t)) for ts in frozen.values() for t in ts]
    tr = [(int(t.settings["train"]["d"]), final_loss(t)) for ts in trained.values() for t in ts]
    falls = S.spearman([d for d, _ in fz], [v for _, v in fz])
    return {
        "label": label, "task": task["name"], "p": p,
        "steps": C.steps_of(trials),
        "weight_decay": sorted({float(t.settings["train"]["weight_decay"]) for t in trials}),
        "seeds": sorted({len(ts) for ts in [*frozen.values(), *trained.values()]}),
        "cases": sorted({t.settings.get("case", "") for t in trials}),
        "frozen": {d: point_stats(ts) for d, ts in frozen.items()},
        "trained": {d: point_stats(ts) for d, ts in trained.items()},
        "spearman_frozen": falls,
        "falls": bool(falls["rho"] < 0 and falls["p"] < V.ALPHA),
        "spearman_frozen_time_averaged": S.spearman([d for d, _ in fz_time], [v for _, v in fz_time]),
        "spearman_trained": S.spearman([d for d, _ in tr], [v for _, v in tr]),
        "dip": dip_test(frozen, p),
        "step": step_test(frozen, p),
        "rises": adjacent_rises(frozen),
        "valid_frozen": len(valid_frozen), "total_frozen": len(frozen_all),
        "assessable": V.assessable(len(valid_frozen), len(frozen_all)),
        "_valid": valid, "_excluded": excluded,
        "_frozen_trials": frozen, "_trained_trials": trained,
    }
