"""Stored modular-addition trials built by hand, for the study tests whose answer is known (manual_construction,
perturbation): the result every such trial shares, with its Fourier norms given."""

import numpy as np

from cinit_tf.trial import TrialResult


def trial_result(initial, final, p: int, diverged: bool = False) -> TrialResult:
    """Records at steps 0, 100 and 200 whose Fourier norms are `initial`, `initial` and `final`; a p × 2 embedding,
    never converged, and with `diverged` a non-finite loss from step 150 and a non-finite final embedding."""
    E = np.full((p, 2), np.nan) if diverged else np.zeros((p, 2))
    return TrialResult(
        steps=np.array([0, 100, 200]),
        train_loss=np.ones(3),
        train_acc=np.ones(3),
        test_loss=np.ones(3),
        test_acc=np.ones(3),
        fourier_norms=np.array([initial, initial, final], dtype=np.float64),
        initial_embedding=np.zeros((p, 2)),
        final_embedding=E,
        convergence_step=None,
        nonfinite_step=150 if diverged else None,
    )
