"""The health of a run's trials, as every report states it: which trials produced a non-finite loss,
which never reached 100% test accuracy, and when softmax collapse began (docs/method.md#the-exact-loss)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from cinit_tf.stats import formatting


def trial_health(trials: Iterable) -> dict:
    """Trials whose training produced a non-finite loss, and trials that never reached 100% test accuracy.

    {"n", "nonfinite": [(id, step)], "unconverged": [id]}, both lists sorted by id. Studies report these
    (`health_findings`), never drop them silently.
    """
    trials = sorted(trials, key=lambda t: t.id)
    return {
        "n": len(trials),
        "nonfinite": [
            (t.id, int(t.result.nonfinite_step))
            for t in trials
            if t.result.nonfinite_step is not None
        ],
        "unconverged": [t.id for t in trials if t.result.convergence_step is None],
    }


def describe(t) -> str:
    s = t.settings
    grid = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in sorted(s.get("grid", {}).items()))
    parts = [x for x in (s.get("case", ""), grid) if x]
    return f"`{t.id[:12]}`" + (f" ({'; '.join(parts)})" if parts else "")


def health_findings(
    trials: Iterable, convergence_matters: bool = True, max_listed: int = 20
) -> list[str]:
    """Findings lines counting and listing non-finite and (if it matters to the study) unconverged trials."""
    trials = sorted(trials, key=lambda t: t.id)
    h = trial_health(trials)
    by_id = {t.id: t for t in trials}
    out = []
    if h["nonfinite"]:
        listed = ", ".join(
            f"{describe(by_id[i])} at step {s}" for i, s in h["nonfinite"][:max_listed]
        )
        more = (
            f" and {len(h['nonfinite']) - max_listed} more"
            if len(h["nonfinite"]) > max_listed
            else ""
        )
        out.append(
            f"Non-finite training loss in {len(h['nonfinite'])} of {h['n']} trials: {listed}{more}."
        )
    else:
        out.append(f"Every one of the {h['n']} trials kept a finite training loss.")
    if convergence_matters:
        if h["unconverged"]:
            listed = ", ".join(describe(by_id[i]) for i in h["unconverged"][:max_listed])
            more = (
                f" and {len(h['unconverged']) - max_listed} more"
                if len(h["unconverged"]) > max_listed
                else ""
            )
            out.append(
                f"{len(h['unconverged'])} of {h['n']} trials never reached 100% test accuracy: {listed}{more}."
            )
        else:
            out.append(f"Every one of the {h['n']} trials reached 100% test accuracy.")
    return out


def collapse_lines(trials: Iterable) -> list[str]:
    """One findings line on softmax collapse (`TrialResult.collapse_step`, docs/method.md#the-exact-loss) when
    any trial collapsed, none otherwise: how many of the trials, when first (median and range of their first
    collapsed steps), which loss they trained with, and how many trials hold no record (stored before it)."""
    trials = list(trials)
    recorded = [t for t in trials if getattr(t.result, "train_collapsed", None) is not None]
    hit = [t for t in recorded if t.result.collapse_step is not None]
    if not hit:
        return []
    steps = sorted(int(t.result.collapse_step) for t in hit)
    losses = [t.loss for t in hit]
    text = (
        "Softmax collapse (a training pair's standard cross-entropy exactly 0 in the training precision; "
        f"{formatting.method('the-exact-loss')}): {len(hit)} of {len(trials)} trials, first at step "
        f"{float(np.median(steps)):,.0f} (median; range {steps[0]:,}–{steps[-1]:,})"
    )
    if "exact" in losses:
        text += (
            f"; {losses.count('standard')} of them trained with the standard loss, whose target "
            f"gradient is lost there, and {losses.count('exact')} with the exact loss, where it is only "
            "recorded"
        )
    if len(recorded) < len(trials):
        text += f"; {len(trials) - len(recorded)} not recorded (stored before the record existed)"
    return [text + "."]
