"""One run of the survival-over-training section (§4.2, Fig. 5a; fourier_evolution): which frequencies
survive, where they ranked at initialisation, and how the final embedding's principal components line up
with the survivors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cinit_tf.measures import circles as circle_geometry
from cinit_tf.measures import survival
from cinit_tf.readout import principal_components


@dataclass(frozen=True)
class EvolutionRun:
    """The numbers of one run (`run_stats`): its survivors at τ, the initial ranks of survivors and dead, and how
    its final embedding's principal components line up with the surviving frequencies."""

    id: str
    seed: int
    survivors: list
    count: int
    survivor_ranks: list  # initial-signal ranks (1 = largest) of the survivors
    dead_ranks: list
    top1_survives: bool
    pc_dominant: list  # dominant frequency of each of the first 2 × count principal components
    pc_on_survivor: float
    pc_pair_matches_order: float
    survivor_energy_share: float
    dead_max_ratio: float  # largest dead final signal over the largest final signal


def run_stats(trial, tau: float = survival.TAU) -> EvolutionRun:
    init, final = survival.initial_signal(trial), survival.final_signal(trial)
    mask = survival.survivor_mask(trial, tau)
    ranks = survival.initial_ranks(init)
    n = int(mask.sum())
    pcs = principal_components(trial.result.final_embedding, 2 * n)
    dominant = [circle_geometry.dominant_frequency(pcs[:, i]) for i in range(pcs.shape[1])]
    survivors = set((np.flatnonzero(mask) + 1).tolist())
    by_final = (np.argsort(-final, kind="stable") + 1).tolist()
    pair_dominant = [
        circle_geometry.dominant_frequency(pcs[:, 2 * i : 2 * i + 2])
        for i in range(pcs.shape[1] // 2)
    ]
    return EvolutionRun(
        id=trial.id,
        seed=trial.seeds[0],
        survivors=sorted(survivors),
        count=n,
        survivor_ranks=ranks[mask].tolist(),
        dead_ranks=ranks[~mask].tolist(),
        top1_survives=bool(mask[ranks == 1].any()),
        pc_dominant=dominant,
        pc_on_survivor=float(np.mean([k in survivors for k in dominant]))
        if dominant
        else float("nan"),
        pc_pair_matches_order=float(
            np.mean([k == by_final[i] for i, k in enumerate(pair_dominant)])
        )
        if pair_dominant
        else float("nan"),
        survivor_energy_share=float(final[mask].sum() / final.sum()),
        # How far below the threshold the dead end: the margin that makes the count insensitive to τ, or not.
        dead_max_ratio=float(final[~mask].max() / final.max()) if (~mask).any() else float("nan"),
    )
