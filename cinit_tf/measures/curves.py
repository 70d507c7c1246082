"""Curves over training steps and summaries over seeds: quantile bands, medians with their interquartile
range, a paired signed-rank test, the value of a curve at a step, the first step a curve reaches a level,
the spikes of a loss curve, its time-averaged log, its level over the end of the budget, how far it rose
after a step (and, for standard-loss runs beside exact-loss twins, after softmax collapse), a later bump of
a decaying curve, the peak a coarser record of a curve would show, and survivors' curves against dead
frequencies' over seeds.

Pure functions on arrays or on stored trials (`cinit_tf.store.StoredTrial`); figures only through
`band`, `frequency_curves` and `paired_scatter`, which draw on an axis they are given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cinit_tf.stats import formatting, inference

QUANTILES = (
    0.25,
    0.5,
    0.75,
)  # median and interquartile range: a band that never goes below zero on a log axis


def seed_of(trial) -> int:
    return trial.seeds[0]


def quantile_band(curves, quantiles: Sequence[float] = QUANTILES) -> np.ndarray:
    """Per column, the given quantiles over rows (seeds), ignoring non-finite entries: shape (len(quantiles), n)."""
    a = np.asarray(curves, dtype=np.float64)
    a = np.where(np.isfinite(a), a, np.nan)
    out = np.full((len(quantiles), a.shape[1]), np.nan)
    has = np.any(np.isfinite(a), axis=0)
    if has.any():
        out[:, has] = np.nanquantile(a[:, has], quantiles, axis=0)
    return out


def value_at(steps, curve, step: int) -> float:
    """The curve at the last record at or before `step`; nan when nothing was recorded that late."""
    steps = np.asarray(steps)
    if steps[-1] < step:
        return float("nan")
    return float(
        np.asarray(curve, dtype=np.float64)[int(np.searchsorted(steps, step, side="right")) - 1]
    )


def first_step_at_or_below(steps, curve, level: float) -> float:
    """The first recorded step at which the curve is <= level; nan when it never is."""
    c = np.asarray(curve, dtype=np.float64)
    hit = np.flatnonzero(np.isfinite(c) & (c <= level))
    return float(np.asarray(steps)[hit[0]]) if hit.size else float("nan")


def count_spikes(curve, rise: float, start_below: float) -> int:
    """Spikes of a loss curve: maximal runs of records above `rise` × the running minimum before them.

    Counting starts at the first record at or below `start_below`, so the rise of a test loss while
    the model memorises (before it generalises) is not a spike.
    """
    loss = np.asarray(curve, dtype=np.float64)
    start = np.flatnonzero(np.isfinite(loss) & (loss <= start_below))
    if not start.size:
        return 0
    low, spikes, inside = loss[start[0]], 0, False
    for x in loss[start[0] + 1 :]:
        up = bool(x > rise * low)
        spikes += up and not inside
        inside = up
        low = min(low, x)
    return spikes


def time_mean_log10(steps, curve, floor: float) -> float:
    """⟨log10 y⟩: the time average of log10 of a curve over the steps (trapezoids between records; y floored first).

    nan when fewer than two records span a positive number of steps, or a value is non-finite.
    """
    steps = np.asarray(steps, dtype=np.float64)
    y = np.log10(np.maximum(np.asarray(curve, dtype=np.float64), floor))
    if steps.size < 2 or steps[-1] <= steps[0] or not np.isfinite(y).all():
        return float("nan")
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(steps)) / (steps[-1] - steps[0]))


def level_log10(steps, curve, start: float, floor: float) -> float:
    """The mean of log10 of a curve's records at steps >= `start` (y floored first): the level a curve holds
    over the end of its budget, read in log (10 to it is the geometric mean there). nan when no record lies
    that late or one of them is non-finite."""
    steps = np.asarray(steps, dtype=np.float64)
    y = np.asarray(curve, dtype=np.float64)[steps >= start]
    if not y.size or not np.isfinite(y).all():
        return float("nan")
    return float(np.mean(np.log10(np.maximum(y, floor))))


def rise_after(steps, curve, step: float, floor: float) -> float:
    """Decades from a curve's record at `step` (the last at or before it) to its highest record after it, both
    floored: how far a loss jumped after an event at `step`; negative when it only fell. nan when nothing was
    recorded after `step` or a value there is non-finite."""
    steps = np.asarray(steps, dtype=np.float64)
    y = np.log10(np.maximum(np.asarray(curve, dtype=np.float64), floor))
    i = int(np.searchsorted(steps, step, side="right")) - 1
    after = y[i + 1 :]
    if i < 0 or not after.size or not (np.isfinite(after).all() and np.isfinite(y[i])):
        return float("nan")
    return float(np.max(after) - y[i])


def companion_collapse(pairs, level, floor: float) -> dict:
    """Softmax collapse in runs trained with the standard loss beside exact-loss ones. `pairs` are
    (standard-loss trial, its exact-loss twin or None), `level(trial)` a trial's level in log10. {"n",
    "not_recorded", "collapsed", "step" (median first collapsed step), "range", "rise" (median decades the
    test loss rose after it, `rise_after`), "gap" (median level minus the twin's, decades), "twins"
    (collapsed runs with a twin)}."""
    recorded = [(t, w) for t, w in pairs if getattr(t.result, "train_collapsed", None) is not None]
    hit = [(t, w) for t, w in recorded if t.result.collapse_step is not None]
    steps = [int(t.result.collapse_step) for t, _ in hit]
    rises = [
        rise_after(t.result.steps, t.result.test_loss, at, floor) for (t, _), at in zip(hit, steps)
    ]
    gaps = [level(t) - level(w) for t, w in hit if w is not None]
    return {
        "n": len(pairs),
        "not_recorded": len(pairs) - len(recorded),
        "collapsed": len(hit),
        "step": inference.median_iqr(steps)["median"],
        "range": (min(steps), max(steps)) if steps else None,
        "rise": inference.median_iqr(rises)["median"],
        "gap": inference.median_iqr(gaps)["median"],
        "twins": sum(w is not None for _, w in hit),
    }


def companion_sentence(k: dict, runs: str, twin: str) -> str:
    """`companion_collapse`'s numbers in one sentence: `runs` names the standard-loss runs, `twin` their
    exact-loss twins."""
    text = (
        f"The paper's likely setting beside ours: of the {k['n']} {runs}, {k['collapsed']} collapsed (a "
        "training pair's loss exactly 0)"
    )
    if k["not_recorded"]:
        text += f" and {k['not_recorded']} hold no record"
    if not k["collapsed"]:
        return text + "."
    lo, hi = k["range"]
    text += (
        f", first at step {k['step']:,.0f} (median; {lo:,}–{hi:,}); after it their test loss rose by "
        f"{formatting.fmt(k['rise'])} decades (median, from the collapsed step to the highest record after it)"
    )
    if k["twins"]:
        text += (
            "; their level (mean log10 test loss over the last tenth of the budget) minus that of "
            f"{twin} is {formatting.fmt(k['gap'])} decades (median over {k['twins']})"
        )
    return text + "."


def held_to_budget(
    steps: np.ndarray, loss: np.ndarray, stop_reason: str, budget: int
) -> tuple[np.ndarray, np.ndarray]:
    """A settled run's curve carried at its last value to the budget (settled: it stays there), so that runs
    of one seed that stopped at different steps are averaged over the same span; other runs as they are."""
    if stop_reason != "settled" or steps[-1] >= budget:
        return steps, loss
    return np.append(steps, budget), np.append(loss, loss[-1])


def on_union_of_steps(trials, values=lambda t: t.result.test_loss) -> tuple[np.ndarray, np.ndarray]:
    """(steps, curves): every trial's curve read on every step any of them recorded, one row per trial.

    Runs that stopped at different steps (until settled) line up: a settled run is held at its last value after
    its last record (it stays there), any other run is nan there, and nan before its first record.
    """
    steps = np.unique(
        np.concatenate([np.asarray(t.result.steps, dtype=np.float64) for t in trials])
    )
    rows = []
    for t in trials:
        own = np.asarray(t.result.steps, dtype=np.float64)
        y = np.asarray(values(t), dtype=np.float64)
        held = y[-1] if t.settled else np.nan
        rows.append(np.interp(steps, own, y, left=np.nan, right=held))
    return steps, np.stack(rows)


def second_bump(steps, g, i_peak: int, until: int) -> tuple[float, float]:
    """(step, height) of a later bump: the highest g up to `until` after g has fallen below half its peak and then
    first stopped falling. Our reading of a decay's shape; (nan, nan) when g never rises again before `until`.
    """
    steps, g = np.asarray(steps), np.asarray(g, dtype=np.float64)
    end = int(np.searchsorted(steps, until, side="right"))
    half = np.flatnonzero(g[i_peak:end] <= g[i_peak] / 2)
    if not half.size:
        return float("nan"), float("nan")
    low = i_peak + int(half[0])
    rising = np.flatnonzero(np.diff(g[low:end]) > 0)
    if not rising.size:
        return float("nan"), float("nan")
    start = low + int(rising[0]) + 1
    j = start + int(np.argmax(g[start:end]))
    return float(steps[j]), float(g[j])


def sampled_peak_step(steps, curve, every: int) -> float:
    """The step of the curve's maximum among its records at steps 0, every, 2·every, ...: where a record every
    `every` steps would put the peak (the first such record on ties). nan with fewer than two such records."""
    steps = np.asarray(steps, dtype=np.int64)
    keep = np.flatnonzero(steps % every == 0)
    c = np.asarray(curve, dtype=np.float64)[keep]
    if keep.size < 2 or not np.isfinite(c).any():
        return float("nan")
    return float(steps[keep][int(np.nanargmax(c))])


def iqr_text(s: dict, digits: int = 3) -> str:
    """A `median_iqr` summary as text: "median (IQR q1–q3)"."""
    return f"{formatting.fmt(s['median'], digits)} (IQR {formatting.fmt(s['q1'], digits)}–{formatting.fmt(s['q3'], digits)})"


def sampled_view(stats: list, every: int) -> dict:
    """Over the runs' (GradientRun) `peak_step` (per-step record) and `sampled_peak_step` (a record every `every`
    steps): the seeds
    with a sampled peak ("n"), those whose sampled peak is at step `every` ("at"), and those of them whose per-step
    peak lies at least half an interval away from that step ("away"), with both peaks' median and IQR."""
    rows = [x for x in stats if np.isfinite(x.sampled_peak_step)]
    at = [x for x in rows if x.sampled_peak_step == every]
    away = [x for x in at if abs(x.peak_step - every) >= every / 2]
    return {
        "every": every,
        "n": len(rows),
        "at": len(at),
        "away": len(away),
        "peak": inference.median_iqr([x.peak_step for x in rows]),
        "sampled": inference.median_iqr([x.sampled_peak_step for x in rows]),
    }


def sampled_sentence(v: dict) -> str:
    """What the coarser record shows, in one sentence built from `sampled_view`'s numbers."""
    e, n, at, away = v["every"], v["n"], v["at"], v["away"]
    if n == 0:
        return f"No run has two records at multiples of {e} steps, so a record every {e} steps cannot be read."
    head = (
        f"Recorded every {e} steps (steps 0, {e}, {2 * e}, ...), the same curves peak at step {iqr_text(v['sampled'])} "
        f"over {n} seeds, at step {e} itself in {at} of them, beside the per-step peak at step {iqr_text(v['peak'])}"
    )
    if 2 * at <= n:
        return head + f": a record every {e} steps does not put the peak at step {e} in most seeds."
    if 2 * away > at:
        return (
            head
            + f": in {away} of those {at} seeds the per-step peak lies at least {e // 2} steps away from step {e}, "
            f"so a peak at step {e} is what a record every {e} steps makes of a peak elsewhere."
        )
    return (
        head
        + f": in {at - away} of those {at} seeds the per-step peak lies within {e // 2} steps of step {e}, "
        f"so the sampled peak at step {e} is where the per-step peak is."
    )


def window_contrast(stats: list, name: str) -> dict:
    """Survivors' mean gradient against dead frequencies' in one window (the runs' GradientRun.windows): medians
    over seeds, and the
    one-sided Wilcoxon signed-rank test of log(survivors / dead) > 0."""
    s = [x.windows[name]["survivors"] for x in stats]
    d = [x.windows[name]["dead"] for x in stats]
    ratio = [si / di if di > 0 else float("nan") for si, di in zip(s, d)]
    return {
        "survivors": inference.median_iqr(s)["median"],
        "dead": inference.median_iqr(d)["median"],
        "ratio": inference.median_iqr(ratio),
        "test": inference.signed_rank(
            [np.log10(r) for r in ratio if np.isfinite(r) and r > 0], alternative="greater"
        ),
    }
