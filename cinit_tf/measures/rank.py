"""Rank statistics the two rank studies share (§3.1 remainder, §3.2 XOR): the top-% of a learned
candidate's initial signal against a random control, its summaries, verdict and histogram.

Method: docs/method.md#signals (the top-%), docs/method.md#verdict-rules (the rules),
docs/method.md#statistics (the test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cinit_tf.settings import Int, setting
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.writeup import common as writeup

CONTROL_STREAM = (
    "rank_control"  # its own seed stream, so the control never shares draws with training
)

GENERALISED_NOTE = '"Generalised" means test accuracy reached 100% at some recorded step (every 100 steps, and steps 0–10).'
TEST_NOTE = " The learned-against-control test is scipy.stats.mannwhitneyu, one-sided."


@dataclass(frozen=True)
class RankAnalysis:
    """The `[analysis]` table of both rank studies: how many seeds the example figures show."""

    histogram_seeds: int = setting(
        Int(1), 4, doc="seeds shown in the signal histograms (Fig. 1b, 2b), the first by trial id"
    )
    embedding_seeds: int = setting(
        Int(1), 2, doc="seeds shown in the embedding projections (Fig. 1a, 2a)"
    )


def verdict_rule(
    paper_mean: float, paper_std: float, paper_n: int, learned: str, shape: str, shape_test: str
) -> str:
    """The rank studies' rule: a number claim (Welch against the paper's sample) and a shape claim (a share of runs)."""
    return (
        f"two claims, each judged over the valid trials (finite training; the paper does not filter on generalisation, so "
        f"neither do we), the headline being the weaker. (1) Rank, a number claim: our top-% of the learned {learned} "
        f"(0 = best) against the paper's {paper_mean:g} ± {paper_std:g} over {paper_n} seeds, as two samples by Welch's "
        f"t-test (95% CI of the difference): compatible (p ≥ 0.05) → reproduced, incompatible → partly; the direction "
        f"of the claim is that the learned one ranks higher than a random candidate drawn per trial (the control), by a "
        f"one-sided Mann–Whitney U test at p < {verdicts.ALPHA:g}; if that fails → not reproduced. (2) Shape, a qualitative claim: "
        f"{shape}; {shape_test} Not assessable when fewer than {verdicts.MIN_VALID_SHARE:.0%} of the trials (or fewer than 3) are valid."
    )


def stats_of(values) -> dict:
    """Mean, std, n, 95% CI and median of a list of top-% values (nan when empty)."""
    values = [float(v) for v in values]
    mean, std, n = inference.mean_std(values)
    _, lo, hi, _ = inference.mean_ci(values)
    return {
        "mean": mean,
        "std": std,
        "n": n,
        "ci95": [lo, hi],
        "median": float(np.median(values)) if values else float("nan"),
    }


def ci_text(s: dict) -> str:
    return (
        f"[{formatting.fmt(s['ci95'][0])}, {formatting.fmt(s['ci95'][1])}]" if s["n"] > 1 else "–"
    )


def stats_text(s: dict) -> str:
    if s["n"] == 0:
        return "none"
    return f"{formatting.fmt(s['mean'])} ± {formatting.fmt(s['std'])} (95% CI {ci_text(s)}; median {formatting.fmt(s['median'])}; n = {s['n']})"


def paper_in_ci(s: dict, paper_mean: float) -> bool:
    """Whether the paper's mean lies in our 95% confidence interval of the mean."""
    return bool(s["n"] > 1 and s["ci95"][0] <= paper_mean <= s["ci95"][1])


def short_number(s_all: dict, s_control: dict, n: int) -> str:
    """Our number as the index shows it."""
    return f"top {formatting.fmt(s_all['mean'], 2)}% ± {formatting.fmt(s_all['std'], 2)}% (n = {n}; control {formatting.fmt(s_control['mean'], 2)}%)"


def seed_deviations(trials, paper_seeds: int) -> list[str]:
    """The deviations a rank report opens with: its number of seeds, then every setting unlike the paper's."""
    head = (
        [f"{len(trials)} seeds here, {paper_seeds} in the paper."]
        if len(trials) != paper_seeds
        else []
    )
    return head + writeup.paper_setting_deviations(trials)


def common_summary(rows: list[dict], mw: dict, s_all: dict, s_control: dict) -> dict:
    """The summary.json entries both rank studies write."""
    gen = [r for r in rows if r["generalised"]]
    return {
        "top_percent": s_all,
        "control_top_percent": s_control,
        "generalised_top_percent": stats_of([r["top_percent"] for r in gen]),
        "not_generalised_top_percent": stats_of(
            [r["top_percent"] for r in rows if not r["generalised"]]
        ),
        "mann_whitney": mw,
        "generalised": len(gen),
        "held_to_end": sum(r["held_to_end"] for r in rows),
        "trials": len(rows),
    }


def generalised(trial) -> bool:
    """Reached 100% test accuracy at some recorded step (the engine's convergence step, docs/method.md#read-offs)."""
    return trial.result.convergence_step is not None


def held_to_end(trial) -> bool:
    return writeup.final(trial.result.test_acc) >= 1.0 - 1e-9


def outcome(trial) -> dict:
    """The per-trial columns both rank studies report beside the top-%: how training ended."""
    return {
        "generalised": generalised(trial),
        "held_to_end": held_to_end(trial),
        "convergence_step": trial.result.convergence_step,
        "final_test_acc": writeup.final(trial.result.test_acc),
        "final_train_loss": writeup.final(trial.result.train_loss),
    }


def per_trial_table(header: list[str], body: list[list]) -> str:
    """The per-trial table, folded away under a <details> summary."""
    return (
        "<details><summary>Per trial</summary>\n\n"
        + formatting.md_table(header, body)
        + "\n\n</details>"
    )


def convergence_cell(row: dict) -> str:
    return "n/a" if row["convergence_step"] is None else str(row["convergence_step"])
