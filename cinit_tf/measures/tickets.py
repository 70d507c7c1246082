"""The winning-tickets study's arms, the loss levels it reads, its spike rule, float32's per-pair floor,
and how its runs pair by seed: what its claims, tables and figures share (App. G, Fig. 15)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cinit_tf.stats import inference
from cinit_tf.trial import LOSS_FLOOR

FULL = "full"


ARMS = ("A", "B", "C", "D")


CASES = (FULL, *ARMS)


PAPER_LOSS = 1e-7


LEVELS = (1e-2, 1e-4, 1e-6)  # the test-loss levels whose first step each run records


SPIKE_RISE = 10.0  # a spike: the test loss above 10× its running minimum


SPIKE_FROM = 1.0  # spikes are counted once the test loss has first come below 1 (chance is ln p ≈ 4.1), after the memorisation bump


# float32 cross-entropy: log-sum-exp minus the correct logit, so a pair's loss is 0 or at least about
# log(1 + 2⁻²³) ≈ 1.19e-7; a mean below that is mostly exact zeros (LOSS_FLOOR keeps the log finite).
FLOAT32_STEP = math.log1p(2.0**-23)


@dataclass(frozen=True)
class TicketRun:
    """The numbers of one winning-tickets run (`winning_tickets.run_stats`); test losses are linear unless
    the name says log."""

    id: str
    seed: int
    case: str
    loss: str  # the cross-entropy it trained with: "standard" or "exact"
    budget: int
    valid: bool  # among the trials every statistic uses
    lowest: float  # lowest test loss, and the step of that record
    lowest_step: int
    last_step: int
    final: float
    level: float  # mean log10 test loss over the last tenth of the budget
    final_acc: float
    to: dict  # {f"{level:g}": first step at or below that test loss (nan: never)}, LEVELS
    circles: int  # surviving frequencies at the end
    survivors: list
    kept: list  # the frequencies the transform kept ([] for the full run)
    revived: list  # survivors not kept
    spikes: int
    mean_log_loss: float  # time-averaged log10 test loss over the budget
    convergence_step: int | None
    settled: bool


# The standard-loss runs beside the arms (the paper's likely float32 setting), each with the arm it shadows.
COMPANIONS = {"full_float32": FULL, "B_float32": "B"}


def paired(by_seed: dict, arm: str, ref: str = FULL) -> list[tuple[TicketRun, TicketRun]]:
    """(ref, arm) run stats of the seeds where both are valid, in seed order."""
    return [
        (runs[ref], runs[arm])
        for _, runs in sorted(by_seed.items())
        if ref in runs and arm in runs and runs[ref].valid and runs[arm].valid
    ]


def level_med(runs: list[TicketRun]) -> dict:
    """median_iqr over runs of 10^level (each run's geometric mean test loss over the last tenth)."""
    return inference.median_iqr([10.0**r.level for r in runs])


def log_of(r: TicketRun, key: str) -> float:
    """A run's number in log10: its level as it is, its lowest test loss floored at LOSS_FLOOR."""
    value = getattr(r, key)
    return value if key == "level" else math.log10(max(value, LOSS_FLOOR))


def paired_ranks(by_seed: dict) -> tuple[dict, dict]:
    """Beside the claims, two-sided signed-rank tests over the seeds: {arm: {"lowest"|"level": log10 arm −
    full}}, and B − D in log10 lowest test loss (beside claim 6)."""

    def signed_rank(arm, ref, key):
        pairs = paired(by_seed, arm, ref)
        return inference.signed_rank([log_of(b, key) - log_of(a, key) for a, b in pairs])

    arms = {arm: {key: signed_rank(arm, FULL, key) for key in ("lowest", "level")} for arm in ARMS}
    return arms, signed_rank("B", "D", "lowest")
