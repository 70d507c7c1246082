"""App. H, Fig. 16: the backpropagated embedding gradient in the Fourier basis over training.

The paper's claim: the norm of the embedding gradient ∂L/∂E, projected on the Fourier basis like the
embedding itself, spikes around step 100 and falls to near zero after step 1000; from then on weight
decay is what moves the signals, which is why §4.3 uses the change of a signal over a step (gradient
and weight decay together) as its gradient signal.

Trials: independent seeds at the paper's settings with `train.gradient_steps` = N: the engine records
‖FFT(∂L/∂E)_k‖² (k = 1..K, the training loss only, no weight decay) and the Fourier norms after every
step 0..N, then at each measurement (docs/method.md#population-training).

The two forces on the embedding (the decay force wd·‖F_k(E)‖ against the backpropagated gradient
‖F_k(∂L/∂E)‖) and the per-step split of a signal's change into weight decay and the rest (the "backprop
part") are `_weight_decay`'s.

Verdict rule (fixed here, before any numbers): VERDICT_RULE, with the steps of `[analysis]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import curves as curve_figures
from cinit_tf.figures import plotting
from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures import survival
from cinit_tf.measures import weight_decay as decay_parts
from cinit_tf.settings import Float, Int, setting
from cinit_tf.signals import n_frequencies
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Figure, Measured, Section

SPIKE_FACTOR = 10.0  # "a spike": the peak at least 10× the gradient at step 0
SAMPLED_EVERY = (
    100  # a coarser record of the same curve (steps 0, 100, 200, ...): where it would put the peak
)
# "Weight decay dominates" on the log10 ratio of the two forces: "negligibly small" and "the dominant factor"
# read as the decay force at least ten times the gradient, one decade.
DECAY_MARGIN = verdicts.Margin(
    1.0,
    'App. H: "the gradient becomes negligibly small, and weight decay becomes '
    'the dominant factor affecting the evolution of signals"; a force "negligibly small" '
    "beside the dominant one read as at least ten times smaller: log10(decay force / "
    "gradient) ≥ 1, one decade",
)
WINDOW_SOURCE = (
    'App. H: "The Fourier gradient spikes around 100 steps and quickly diminishes to near zero"'
)


@dataclass(frozen=True)
class FourierGradientsAnalysis:
    """The `[analysis]` table: the steps and thresholds the claims are judged at."""

    peak_lo: int = setting(Int(0), 30, doc="a peak step counts as near step 100 from this step ...")
    peak_hi: int = setting(
        Int(1), 300, doc="... up to this step (within a factor of about 3 of 100)"
    )
    after_step: int = setting(
        Int(1), 1000, doc="the step after which the paper says the gradient is near zero"
    )
    late_step: int = setting(
        Int(1), 3000, doc="a later step whose gradient is also compared with the peak"
    )
    near_zero: float = setting(
        Float(0.0, 1.0, lo_open=True), 0.01, doc="near zero: below this share of the peak"
    )
    zoom_from: int = setting(
        Int(0), 100, doc="the right panel of Fig. 16 shows this step up to after_step"
    )


def rule_text(a: FourierGradientsAnalysis) -> str:
    return (
        "three claims over the valid seeds (finite training loss); the gradient g(step) = Σ_k "
        f'‖FFT(∂L/∂E)_k‖². "Around 100 steps" and "near zero" ({WINDOW_SOURCE}) are read as a peak step '
        f"in [{a.peak_lo}, {a.peak_hi}] (within a factor of about 3 of 100) and below {a.near_zero:g} of the "
        f"peak. (1) Spike near step 100: the median over seeds of the step of g's peak lies in [{a.peak_lo}, "
        f"{a.peak_hi}] → reproduced; a peak at least {SPIKE_FACTOR:g}× g(0) in the median seed but elsewhere "
        f"→ partly; no such peak → not reproduced. (2) Near zero after step {a.after_step}: with r = "
        f"g({a.after_step}) / peak per seed, the one-sided Wilcoxon signed-rank test of log10 r < log10 "
        f"{a.near_zero:g} gives p < {verdicts.ALPHA:g} → reproduced; median r < 1 but not that → partly; otherwise "
        f"not reproduced. (3) Weight decay dominates after step {a.after_step}: the two forces on the "
        f"embedding, per record t ≥ {a.after_step} and frequency k the decay force wd·‖F_k(E_t)‖ (the "
        "gradient of the decay term (wd/2)·‖E‖²) against the backpropagated gradient ‖FFT(∂L/∂E)_k(t)‖, both "
        "the square roots of recorded squared norms of one transform; per seed the median over those records "
        "of log10(Σ_k decay force / Σ_k gradient). The one-sided Wilcoxon signed-rank test of the per-seed "
        "medians > 0, with the distribution-free 95% CI of their median, against the margin "
        f"{DECAY_MARGIN.value:g} ({DECAY_MARGIN.source}): {verdicts.direction_outcomes('positive')} (forces, not "
        "Adam's normalised steps, whose share of the change tends to 1/2 at balance whichever force is "
        f"larger). Each claim is not assessable when fewer than {verdicts.MIN_VALID_SHARE:.0%} of the trials (or "
        "fewer than 3) are valid or have the steps it needs. The headline is the weakest claim."
    )


CLAIM = (
    'Projected on the Fourier basis, the embedding gradient produced by backpropagation "spikes around 100 steps and '
    "quickly diminishes to near zero after 1000 steps. After this point, the gradient becomes negligibly small, and "
    'weight decay becomes the dominant factor affecting the evolution of signals" (App. H, Fig. 16; one run).'
)

PAPER_NUMBER = "spike near step 100; near zero after step 1000; weight decay dominant after that (Fig. 16, one run)"

DECLARATION = Declaration(
    paper_ref="App. H, Fig. 16",
    title="The embedding gradient in the Fourier basis over training (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=rule_text(FourierGradientsAnalysis()),
    analysis=FourierGradientsAnalysis,
)


@dataclass(kw_only=True)
class FourierGradientsMeasured(Measured):
    runs: list = field(default_factory=list)  # the valid trials in seed order (ties by id)
    stats: list = field(default_factory=list)  # run_stats of each run, in the same order
    K: int = 0
    gradient_steps: list = field(default_factory=list)  # train.gradient_steps over every trial
    records: list = field(default_factory=list)
    bytes_gradient: list = field(default_factory=list)
    spread: dict = field(
        default_factory=dict
    )  # median_iqr over seeds of each per-run number, by its summary key
    windows: dict = field(
        default_factory=dict
    )  # survivors against dead frequencies in each window of steps
    sampled: dict = field(
        default_factory=dict
    )  # where a record every SAMPLED_EVERY steps puts the peak (curve_stats.sampled_view)
    example: int | None = None  # index in `runs` of the typical run, Fig. 16's example


# ---------------------------------------------------------------- per run (pure; tested on constructed curves)


def run_stats(trial, a: FourierGradientsAnalysis) -> dict:
    r = trial.result
    if r.gradient_norms is None:
        raise ValueError(
            f"trial {trial.id}: no gradient_norms; set train.gradient_steps in the experiment file"
        )
    steps = np.asarray(r.steps, dtype=np.int64)
    Gk = np.asarray(r.gradient_norms, dtype=np.float64)
    g = Gk.sum(axis=1)
    i_peak = int(np.argmax(g))
    peak = float(g[i_peak])
    mask = survival.survivor_mask(trial)
    train = trial.settings["train"]
    lr, wd = float(train["lr"]), float(train["weight_decay"])
    _, wd_part, bp_part = decay_parts.step_parts(steps, r.fourier_norms, lr, wd, a.after_step)
    late = steps >= a.after_step
    decay, grad = decay_parts.forces(np.asarray(r.fourier_norms)[late], Gk[late], wd)

    def force(
        columns=None,
    ):  # per seed: the median over the records from `after_step` on of log10(decay / gradient)
        return (
            decay_parts.median_log(decay_parts.log_force_ratio(decay, grad, columns))
            if columns is None or columns.any()
            else float("nan")
        )

    def window_means(lo, hi):
        w = (steps >= lo) & (steps <= hi)
        if not w.any() or not mask.any() or mask.all():
            return float("nan"), float("nan")
        return float(Gk[w][:, mask].mean()), float(Gk[w][:, ~mask].mean())

    windows = {
        name: window_means(lo, hi)
        for name, (lo, hi) in (
            ("early", (0, a.peak_hi)),
            ("middle", (a.peak_hi, a.after_step)),
            ("late", (a.after_step, int(steps[-1]))),
        )
    }
    bump_step, bump = curve_stats.second_bump(steps, g, i_peak, a.after_step)
    return {
        "id": trial.id,
        "seed": curve_stats.seed_of(trial),
        "peak_step": int(steps[i_peak]),
        "sampled_peak_step": curve_stats.sampled_peak_step(steps, g, SAMPLED_EVERY),
        "bump_step": bump_step,
        "bump_share": bump / peak if peak > 0 else float("nan"),
        "peak": peak,
        "g0": float(g[0]),
        "spike_factor": peak / float(g[0]) if g[0] > 0 else float("inf"),
        "ratio_after": curve_stats.value_at(steps, g, a.after_step) / peak
        if peak > 0
        else float("nan"),
        "ratio_late": curve_stats.value_at(steps, g, a.late_step) / peak
        if peak > 0
        else float("nan"),
        "decay_share": decay_parts.decay_share(wd_part, bp_part),
        "decay_share_survivors": decay_parts.decay_share(wd_part, bp_part, mask)
        if mask.any()
        else float("nan"),
        "decay_share_dead": decay_parts.decay_share(wd_part, bp_part, ~mask)
        if (~mask).any()
        else float("nan"),
        "changes_after": int(wd_part.shape[0]),
        "force": force(),
        "force_survivors": force(mask),
        "force_dead": force(~mask),
        "records_after": int(late.sum()),
        "survivors": (np.flatnonzero(mask) + 1).tolist(),
        "windows": {k: {"survivors": v[0], "dead": v[1]} for k, v in windows.items()},
        "records": int(steps.size),
        "bytes_gradient": int(
            steps.size * Gk.shape[1] * np.asarray(r.gradient_norms).dtype.itemsize
        ),
    }


# ---------------------------------------------------------------- claims (pure; known-answer tests)


def claim_names(a: FourierGradientsAnalysis) -> list[str]:
    return [
        "spike near step 100",
        f"near zero after step {a.after_step}",
        f"weight decay dominates after step {a.after_step}",
    ]


def claim_spike(stats: list[dict], n_total: int, a: FourierGradientsAnalysis) -> verdicts.Claim:
    name = claim_names(a)[0]
    if not verdicts.assessable(len(stats), n_total):
        return verdicts.not_assessable(name, len(stats), n_total, kind="number")
    peaks = [x["peak_step"] for x in stats]
    s = inference.median_iqr(peaks)
    factor = float(np.median([x["spike_factor"] for x in stats]))
    numbers = dict(
        value=s["median"],
        ci=inference.median_ci(peaks),
        n=s["n"],
        kind="number",
        paper=f"near step 100, read as [{a.peak_lo}, {a.peak_hi}]",
        effect="median peak step",
    )
    note = (
        f"IQR {formatting.fmt(s['q1'])}–{formatting.fmt(s['q3'])} against [{a.peak_lo}, {a.peak_hi}]; median peak / g(0) = "
        f"{formatting.fmt(factor)}"
    )
    if a.peak_lo <= s["median"] <= a.peak_hi:
        return verdicts.Claim(name, verdicts.REPRODUCED, note, reason="inside_band", **numbers)
    if factor >= SPIKE_FACTOR:
        return verdicts.Claim(
            name,
            verdicts.PARTLY,
            note + f"; a spike (≥ {SPIKE_FACTOR:g}× g(0)), but outside the window",
            reason="outside_band",
            **numbers,
        )
    return verdicts.Claim(
        name,
        verdicts.NOT_REPRODUCED,
        note + f"; no spike of {SPIKE_FACTOR:g}× g(0)",
        reason="not_observed",
        **numbers,
    )


def claim_near_zero(stats: list[dict], n_total: int, a: FourierGradientsAnalysis) -> verdicts.Claim:
    name = claim_names(a)[1]
    ratios = [x["ratio_after"] for x in stats if np.isfinite(x["ratio_after"])]
    if not verdicts.assessable(len(ratios), n_total):
        return verdicts.not_assessable(
            name, len(ratios), n_total, f"valid and recorded to step {a.after_step}", kind="level"
        )
    test = inference.signed_rank(
        [np.log10(max(r, 1e-300)) - np.log10(a.near_zero) for r in ratios], alternative="less"
    )
    s = inference.median_iqr(ratios)
    numbers = dict(
        value=s["median"],
        ci=inference.median_ci(ratios),
        n=s["n"],
        p=test["p"],
        kind="level",
        paper=f"near zero, read as below {a.near_zero:g} of the peak",
        effect=f"median g({a.after_step}) / peak",
    )
    note = (
        f"IQR {formatting.fmt(s['q1'])}–{formatting.fmt(s['q3'])}; {test['negative']} of {test['n']} seeds below "
        f"{a.near_zero:g}; p: one-sided Wilcoxon signed-rank of log10 r < log10 {a.near_zero:g}"
    )
    if np.isfinite(test["p"]) and test["p"] < verdicts.ALPHA and s["median"] < a.near_zero:
        return verdicts.Claim(name, verdicts.REPRODUCED, note, reason="inside_band", **numbers)
    if s["median"] < a.near_zero:
        return verdicts.Claim(
            name,
            verdicts.PARTLY,
            note + f"; below {a.near_zero:g} of the peak, but not significantly",
            reason="band_unresolved",
            **numbers,
        )
    if s["median"] < 1:
        return verdicts.Claim(
            name,
            verdicts.PARTLY,
            note + f"; it falls, but not below {a.near_zero:g} of the peak",
            reason="outside_band",
            **numbers,
        )
    return verdicts.Claim(
        name,
        verdicts.NOT_REPRODUCED,
        note + "; it does not fall below the peak",
        reason="direction_fails",
        **numbers,
    )


def claim_decay(stats: list[dict], n_total: int, a: FourierGradientsAnalysis) -> verdicts.Claim:
    name = claim_names(a)[2]
    logs = [x["force"] for x in stats if not np.isnan(x["force"])]
    if not verdicts.assessable(len(logs), n_total):
        return verdicts.not_assessable(
            name,
            len(logs),
            n_total,
            f"valid with records from step {a.after_step} on",
            kind="direction",
        )
    test = inference.signed_rank(logs, alternative="greater")
    s = inference.median_iqr(logs)
    note = (
        f"log10(decay force / gradient) per seed: the median over its records from step {a.after_step} "
        f"on (IQR over seeds {formatting.fmt(s['q1'])}–{formatting.fmt(s['q3'])}); the decay force is the larger in "
        f"{test['positive']} of {test['n']} seeds; p: one-sided Wilcoxon signed-rank"
    )
    lo, hi = inference.median_ci(logs)
    return verdicts.direction(
        name,
        s["median"],
        lo,
        hi,
        test["p"],
        +1,
        "median of the per-seed medians",
        margin=DECAY_MARGIN,
        n=s["n"],
        note=note,
    )


def claims_of(stats: list[dict], n_total: int, a: FourierGradientsAnalysis) -> list[verdicts.Claim]:
    return [
        claim_spike(stats, n_total, a),
        claim_near_zero(stats, n_total, a),
        claim_decay(stats, n_total, a),
    ]


def measure(trials: list, options: FourierGradientsAnalysis | None) -> FourierGradientsMeasured:
    """The claims over the runs whose training loss stayed finite: none needs a trained solution, so a run that
    never generalised still shows how its gradient spikes and decays."""
    if not trials:
        raise ValueError("fourier_gradients needs trials")
    a = options or FourierGradientsAnalysis()
    m = writeup.begin(trials, claim_names(a), a, cls=FourierGradientsMeasured)
    if not m.assessable:
        return m
    m.runs = sorted(m.valid, key=lambda t: (curve_stats.seed_of(t), t.id))
    m.stats = [run_stats(t, a) for t in m.runs]
    m.claims = claims_of(m.stats, len(m.trials), a)
    m.K = n_frequencies(int(m.trials[0].settings["task"]["p"]))
    m.gradient_steps = sorted({int(t.settings["train"].get("gradient_steps", 0)) for t in m.trials})
    m.records = sorted({s["records"] for s in m.stats})
    m.bytes_gradient = sorted({s["bytes_gradient"] for s in m.stats})
    m.spread = {
        k: inference.median_iqr([s[k] for s in m.stats])
        for k in (
            "peak_step",
            "ratio_after",
            "ratio_late",
            "decay_share",
            "decay_share_survivors",
            "decay_share_dead",
            "bump_step",
            "bump_share",
            "force",
            "force_survivors",
            "force_dead",
            "sampled_peak_step",
        )
    }
    m.sampled = curve_stats.sampled_view(m.stats, SAMPLED_EVERY)
    m.windows = {
        name: curve_stats.window_contrast(m.stats, name) for name in ("early", "middle", "late")
    }
    finite = [i for i, s in enumerate(m.stats) if np.isfinite(s["peak_step"])]
    m.example = (
        inference.typical(finite, lambda i: m.stats[i]["peak_step"], 1)[0] if finite else None
    )
    return m


# ---------------------------------------------------------------- figures


def figure_example(trial, stats: dict, a: FourierGradientsAnalysis, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    r = trial.result
    steps = np.asarray(r.steps, dtype=np.int64)
    Gk = np.asarray(r.gradient_norms, dtype=np.float64)
    mask = survival.survivor_mask(trial)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.0))
    curve_figures.frequency_curves(left, steps, Gk, mask)
    left.set_xlabel("training step")
    left.set_ylabel("‖FFT(∂L/∂E)_k‖²")
    left.set_title(f"Fig. 16 (left): seed {stats['seed']}, every frequency")
    left.axvline(a.after_step, color="black", ls=":", lw=1)
    left.legend(loc="upper right", fontsize=7)
    curve_figures.frequency_curves(right, steps, Gk, mask, a.zoom_from, a.after_step)
    right.set_xlabel("training step")
    right.set_ylabel("‖FFT(∂L/∂E)_k‖²")
    right.set_title(f"Fig. 16 (right): steps {a.zoom_from}–{a.after_step}")
    right.legend(loc="upper right", fontsize=7)
    return plotting.finish(
        fig,
        out_dir,
        "fourier_gradients_example.png",
        f"Mirrors Fig. 16: the backpropagated embedding gradient in the Fourier basis, ‖FFT(∂L/∂E)_k‖² for every "
        f"frequency k over training (linear axes, as the paper's), for seed {stats['seed']}: the seed whose "
        "peak step is nearest the median peak step over seeds (the lower seed on ties). Frequencies that "
        f"survive at the end (τ = {formatting.fmt(survival.TAU)}) in colour, dead ones grey; right, steps {a.zoom_from} to "
        f"{a.after_step} on their own scale. The dotted line marks step {a.after_step}.",
    )


def figure_median(trials: list, a: FourierGradientsAnalysis, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    steps = np.asarray(trials[0].result.steps, dtype=np.int64)
    same = [t for t in trials if np.array_equal(np.asarray(t.result.steps), steps)]
    surv, dead = [], []
    for t in same:
        Gk = np.asarray(t.result.gradient_norms, dtype=np.float64)
        mask = survival.survivor_mask(t)
        surv.append(Gk[:, mask].mean(axis=1) if mask.any() else np.full(steps.size, np.nan))
        dead.append(Gk[:, ~mask].mean(axis=1) if (~mask).any() else np.full(steps.size, np.nan))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    x = plotting.log_steps(steps)
    curve_figures.band(
        ax, x, surv, "tab:orange", f"survivors' mean (median and IQR over {len(same)} seeds)"
    )
    curve_figures.band(ax, x, dead, "tab:grey", "dead frequencies' mean (median and IQR)")
    ax.axvspan(
        max(a.peak_lo, 1),
        a.peak_hi,
        color="tab:green",
        alpha=0.08,
        lw=0,
        label=f'"near step 100": {a.peak_lo}–{a.peak_hi}',
    )
    ax.axvline(a.after_step, color="black", ls=":", lw=1, label=f"step {a.after_step}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step (log; step 0 drawn at 1)")
    ax.set_ylabel("mean ‖FFT(∂L/∂E)_k‖² (log)")
    ax.set_title("Fig. 16 over seeds: survivors against dead frequencies")
    ax.legend(loc="lower left", fontsize=7)
    return plotting.finish(
        fig,
        out_dir,
        "fourier_gradients_median.png",
        "Our summary of Fig. 16 over seeds: per step, the mean of ‖FFT(∂L/∂E)_k‖² over a run's surviving "
        "frequencies (orange) and over its dead ones (grey); lines are the median over seeds, bands the "
        "interquartile range (quantiles, so a band never goes below zero on the log axis).",
    )


def figure_decay(trials: list, a: FourierGradientsAnalysis, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    rows = {"weight decay": [], "backprop (Adam update)": [], "plain gradient step": []}
    ref = None
    for t in trials:
        r = t.result
        train = t.settings["train"]
        lr, wd = float(train["lr"]), float(train["weight_decay"])
        at, wd_part, bp_part = decay_parts.step_parts(r.steps, r.fourier_norms, lr, wd, 0)
        if ref is None:
            ref = at
        if not np.array_equal(at, ref):
            continue
        F = np.asarray(r.fourier_norms, dtype=np.float64)
        steps = np.asarray(r.steps, dtype=np.int64)
        idx = np.searchsorted(steps, at)
        Gk = np.asarray(r.gradient_norms, dtype=np.float64)[idx]
        rows["weight decay"].append(np.abs(wd_part).sum(axis=1))
        rows["backprop (Adam update)"].append(np.abs(bp_part).sum(axis=1))
        # First order, a plain gradient step lr·G_k changes signal_k by at most 2·lr·‖F_k‖·‖G_k‖.
        rows["plain gradient step"].append((2 * lr * np.sqrt(F[idx] * Gk)).sum(axis=1))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    x = plotting.log_steps(ref)
    for (label, curves), colour in zip(rows.items(), ("tab:blue", "tab:red", "tab:purple")):
        curve_figures.band(ax, x, curves, colour, f"{label} (median, IQR over {len(curves)} seeds)")
    ax.axvline(a.after_step, color="black", ls=":", lw=1, label=f"step {a.after_step}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step (log; step 0 drawn at 1)")
    ax.set_ylabel("Σ_k |change of signal_k| in one step (log)")
    ax.set_title("What moves the signals: weight decay against the update")
    ax.legend(loc="lower left", fontsize=7)
    return plotting.finish(
        fig,
        out_dir,
        "weight_decay_vs_backprop.png",
        "App. H's last sentence in the per-step change of the signals (shown, not judged: the claim compares "
        "the forces): per step, Σ_k of the weight-decay part ((1 − lr·wd)² − 1)·signal_k "
        "of the change of signal_k (blue) and of the rest of the recorded change, the Adam update made from the "
        "backpropagated gradient (red), in absolute value; purple, the first-order change a plain gradient step "
        "lr·∂L/∂E would make, 2·lr·‖F_k‖·‖FFT(∂L/∂E)_k‖, for scale. Median and IQR over seeds.",
    )


# ---------------------------------------------------------------- the report


def deviations_of(trials: list, a: FourierGradientsAnalysis) -> list[str]:
    return [
        f"The paper shows one run (Fig. 16); we run {len(trials)} seeds and give medians and interquartile ranges. The "
        "example seed is the one whose peak step is nearest the median (ours).",
        "The gradient is that of the training loss (the mean cross-entropy over the train pairs), at the parameters "
        'after each step, without weight decay; the paper says "the gradient produced by MLP on the embedding through '
        'backpropagation" and does not say which loss or when it is taken.',
        f'"Around 100 steps" is read as a peak step in [{a.peak_lo}, {a.peak_hi}], "near zero" as below '
        f'{a.near_zero:g} of the peak, and "dominant" as the larger of the two forces on the embedding, the decay '
        "force wd·‖F_k(E)‖ against the backpropagated gradient ‖FFT(∂L/∂E)_k‖ (summed over k): readings of ours, "
        f"declared before the numbers ({writeup.method('fourier_gradients-app-h')}).",
        "The split of a signal's change into weight decay and the rest is ours and is reported, not judged: AdamW's "
        "decoupled decay scales F_k by (1 − lr·wd) per step, exactly, so the rest is the Adam update. Adam divides the "
        "gradient by its running RMS, so a tiny gradient can still give an update of size lr; the paper's argument is "
        "about the gradient itself, hence the forces.",
        *writeup.paper_setting_deviations(trials),
        *writeup.common_deviations(trials),
        writeup.STATISTICS_NOTE,
    ]


iqr = curve_stats.iqr_text


def findings_of(m: FourierGradientsMeasured) -> list[str]:
    a, stats, sp = m.options, m.stats, m.spread

    def window_row(name, label):
        w = m.windows[name]
        return [
            label,
            w["survivors"],
            w["dead"],
            iqr(w["ratio"]),
            f"{w['test']['positive']} of {w['test']['n']}",
            formatting.fmt_p(w["test"]["p"]),
        ]

    return [
        formatting.md_table(
            [
                "seed",
                "peak step",
                f"peak step, every {SAMPLED_EVERY}",
                "peak g",
                "peak / g(0)",
                f"g({a.after_step}) / peak",
                f"g({a.late_step}) / peak",
                f"log10 decay force / gradient after {a.after_step}",
                f"decay share after {a.after_step}",
                "survivors",
            ],
            [
                [
                    str(s["seed"]),
                    s["peak_step"],
                    s["sampled_peak_step"],
                    s["peak"],
                    s["spike_factor"],
                    s["ratio_after"],
                    s["ratio_late"],
                    s["force"],
                    s["decay_share"],
                    ", ".join(map(str, s["survivors"])),
                ]
                for s in stats
            ],
        ),
        f"Peak step over seeds: {iqr(sp['peak_step'])}, n = {sp['peak_step']['n']}. g({a.after_step}) / peak: "
        f"{iqr(sp['ratio_after'])}; g({a.late_step}) / peak: {iqr(sp['ratio_late'])}. A later bump (the highest g, up to "
        f"step {a.after_step}, once g has fallen below half its peak and first stopped falling) in {sp['bump_step']['n']} "
        f"of {len(stats)} seeds: at step {iqr(sp['bump_step'])}, {iqr(sp['bump_share'])} of the peak's height.",
        curve_stats.sampled_sentence(m.sampled),
        "Survivors' mean gradient against dead frequencies' (per seed, the mean of ‖FFT(∂L/∂E)_k‖² over the records in "
        "a window and over the survivors or the dead; ratio survivors / dead, one-sided Wilcoxon signed-rank of its log > 0):\n\n"
        + formatting.md_table(
            [
                "window",
                "survivors (median)",
                "dead (median)",
                "ratio (median, IQR)",
                "seeds with ratio > 1",
                "Wilcoxon",
            ],
            [
                window_row("early", f"steps 0–{a.peak_hi}"),
                window_row("middle", f"{a.peak_hi}–{a.after_step}"),
                window_row("late", f"{a.after_step}–end"),
            ],
        ),
        f"The two forces from step {a.after_step} on, log10(Σ_k wd·‖F_k(E)‖ / Σ_k ‖FFT(∂L/∂E)_k‖) (per seed, the median "
        f"over the records; above 0 the decay force is the larger): over all frequencies {iqr(sp['force'])}; survivors "
        f"only {iqr(sp['force_survivors'])}; dead only {iqr(sp['force_dead'])}.",
        f"Weight decay against the rest of the change after step {a.after_step} (not judged): share S "
        f"{iqr(sp['decay_share'])} over all frequencies; survivors only {iqr(sp['decay_share_survivors'])}; dead only "
        f"{iqr(sp['decay_share_dead'])}. Adam's update has a size of about lr whatever the gradient's size, so where a signal "
        "holds its level the update cancels the decay and S tends to 1/2 by construction, whichever force is larger; S "
        "near 1 means the signal decays freely.",
        *writeup.health_findings(m.trials),
    ]


def write(m: FourierGradientsMeasured, record: dict, out_dir: Path) -> Section:
    out_dir, a, sp = Path(out_dir), m.options, m.spread
    deviations = deviations_of(m.trials, a)
    if not m.assessable:
        return writeup.section(m, record, deviations=deviations, verdict_rule=rule_text(a))
    peak, after, force = sp["peak_step"], sp["ratio_after"], sp["force"]
    our = (
        f"peak of the Fourier gradient at step {iqr(peak)} over {peak['n']} seeds; g({a.after_step}) / peak {iqr(after)}, "
        f"g({a.late_step}) / peak {iqr(sp['ratio_late'])}; log10(decay force / backprop gradient) after step "
        f"{a.after_step} {iqr(force)}"
    )
    short = (
        f"peak at step {formatting.fmt(peak['median'])}; g({a.after_step})/peak {formatting.fmt(after['median'], 2)}; "
        f"log10 decay force/gradient {formatting.fmt(force['median'], 2)}"
    )
    ran = writeup.profile_lines(record, m.trials)
    ran.append(
        f"{len(m.trials)} independent runs (embedding, MLP and split seed equal per run), every frequency k = 1..{m.K} "
        f"recorded: the gradient and the Fourier norms after every step up to step "
        f"{', '.join(map(str, m.gradient_steps))}, then at each measurement."
    )
    ran.append(
        f"Recording memory: {', '.join(map(str, m.records))} records × {m.K} frequencies × 4 bytes = "
        f"{', '.join(f'{b:,}' for b in m.bytes_gradient)} bytes of gradient norms per member (float32), and as much "
        "again for the Fourier norms, which the dense steps also record."
    )
    findings, figures = findings_of(m), []
    if m.example is not None:
        example, ex = m.runs[m.example], m.stats[m.example]
        findings.append(
            f"Example seed (Fig. 16): {ex['seed']}, peak at step {ex['peak_step']} "
            f"(survivors {', '.join(map(str, ex['survivors']))})."
        )
        figures.append(figure_example(example, ex, a, out_dir))
    figures += [figure_median(m.runs, a, out_dir), figure_decay(m.runs, a, out_dir)]
    summary = {
        "analysis": a.__dict__,
        **{k: v for k, v in sp.items() if k != "bump_share"},
        "bytes_gradient_per_member": m.bytes_gradient,
        "records": m.records,
        "sampled_view": m.sampled,
        "excluded_nonfinite": sum(len(v) for v in m.excluded.values()),
        "runs": m.stats,
        "claims": {c.name: c.verdict for c in m.claims},
    }
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=ran,
        deviations=deviations,
        findings=findings,
        figures=figures,
        summary=summary,
        short_number=short,
        verdict_rule=rule_text(a),
    )
