"""Rank statistics the two rank studies share (§3.1 remainder, §3.2 XOR): the top-% of a learned
candidate's initial signal against a random control, its summaries, verdict and histogram.

Method: docs/method.md#signals (the top-%), docs/method.md#verdict-rules (the rules),
docs/method.md#statistics (the test).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cinit_tf.settings import Int, setting
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import ALPHA
from cinit_tf.writeup import common as writeup

CONTROL_STREAM = (
    "rank_control"  # its own seed stream, so the control never shares draws with training
)

# readout.final_shape's answers for an XOR embedding, in the order the reports list them
FINAL_SHAPES = ("cube", "cross_polytope", "other")

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
        f"one-sided Mann–Whitney U test at p < {ALPHA:g}; if that fails → not reproduced. (2) Shape, a qualitative claim: "
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


def outcome_stats(rows: list[dict]) -> dict:
    """`stats_of` the learned top-% of the trials that generalised and of those that never did."""
    return {
        "generalised": stats_of([r["top_percent"] for r in rows if r["generalised"]]),
        "not_generalised": stats_of([r["top_percent"] for r in rows if not r["generalised"]]),
    }


def common_summary(rows: list[dict], mw: dict, s_all: dict, s_control: dict) -> dict:
    """The summary.json entries both rank studies write."""
    by_outcome = outcome_stats(rows)
    return {
        "top_percent": s_all,
        "control_top_percent": s_control,
        "generalised_top_percent": by_outcome["generalised"],
        "not_generalised_top_percent": by_outcome["not_generalised"],
        "mann_whitney": mw,
        "generalised": sum(r["generalised"] for r in rows),
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


def per_trial_table(rows: list[dict], columns: list[tuple[str, Callable[[dict], object]]]) -> str:
    """The per-trial table, folded away under a <details> summary: the trial, each (header, cell of a row) of
    `columns`, then how training ended (`outcome`)."""
    header = ["trial", *(name for name, _ in columns), "100% test acc. at step", "final test acc."]
    body = [
        [
            f"`{r['id'][:12]}`",
            *(cell(r) for _, cell in columns),
            convergence_cell(r),
            formatting.fmt(r["final_test_acc"], 4),
        ]
        for r in rows
    ]
    return (
        "<details><summary>Per trial</summary>\n\n"
        + formatting.md_table(header, body)
        + "\n\n</details>"
    )


def convergence_cell(row: dict) -> str:
    return "n/a" if row["convergence_step"] is None else str(row["convergence_step"])


def mean_std_cell(s: dict) -> str:
    """A table cell "mean ± std" of a `stats_of` (a dash when it has no values)."""
    return f"{formatting.fmt(s['mean'])} ± {formatting.fmt(s['std'])}" if s["n"] else "–"


def stats_cells(s: dict) -> list:
    """The table cells of a `stats_of`: n, mean ± std, 95% CI, median."""
    return [s["n"], mean_std_cell(s), ci_text(s), formatting.fmt(s["median"]) if s["n"] else "–"]


def paper_in_ci_text(s: dict, paper_mean: float) -> str:
    """Where the paper's mean lies against our 95% confidence interval of the mean, as a finding."""
    where = "inside" if paper_in_ci(s, paper_mean) else "outside"
    return f"The paper's mean {paper_mean:g} lies {where} our 95% confidence interval of the mean {ci_text(s)}."
