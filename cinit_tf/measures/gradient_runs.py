"""One run of the Fourier-gradient section (App. H, Fig. 16) as numbers: where its backpropagated Fourier
gradient peaks, how far it has fallen at the steps the claims read, weight decay against the gradient from a
step on, and survivors against dead frequencies in windows of steps. What the study's claims, tables and
summary share; the study's `run_stats` makes it from a stored trial."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GradientRun:
    """A run's numbers; g is the gradient's Fourier norm summed over k, nan where a run has no such record."""

    id: str
    seed: int
    peak_step: int  # the step of g's largest record
    sampled_peak_step: float  # where a record every SAMPLED_EVERY steps would put the peak
    bump_step: float  # a later bump (curves.second_bump); nan when g never rises again
    bump_share: float  # its height over the peak's
    peak: float
    g0: float  # g at step 0
    spike_factor: float  # peak / g0 (inf when g0 is 0)
    ratio_after: float  # g at the claim's after-step over the peak
    ratio_late: float  # g at the late step over the peak
    # weight_decay.after_step_numbers: the share of weight decay in the changes from the after-step on, and the
    # median log10 of the decay force over the gradient, over all frequencies, the survivors and the dead
    decay_share: float
    decay_share_survivors: float
    decay_share_dead: float
    changes_after: int
    force: float
    force_survivors: float
    force_dead: float
    records_after: int
    survivors: list  # surviving frequencies k (1-based)
    windows: dict  # weight_decay.gradient_window_means: {window: {"survivors", "dead"}}
    records: int  # measurements stored
    bytes_gradient: int  # bytes of its stored gradient norms
