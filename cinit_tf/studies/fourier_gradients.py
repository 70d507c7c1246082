"""App. H, Fig. 16: the backpropagated embedding gradient in the Fourier basis over training.

The paper's claim: the norm of the embedding gradient ∂L/∂E, projected on the Fourier basis like the
embedding itself, spikes around step 100 and falls to near zero after step 1000; from then on weight
decay is what moves the signals, which is why §4.3 uses the change of a signal over a step (gradient
and weight decay together) as its gradient signal.

Trials: independent seeds at the paper's settings with `train.gradient_steps` = N: the engine records
‖FFT(∂L/∂E)_k‖² (k = 1..K, the training loss only, no weight decay) and the Fourier norms after every
step 0..N, then at each measurement (docs/method.md#population-training).

The two forces on the embedding and the per-step split of a signal's change into weight decay and the
rest are measured in `cinit_tf.measures.weight_decay`; the figures are `cinit_tf.figures.fourier_gradients`.

Verdict rule (fixed here, before any numbers): `rule_text`, with the steps of `[analysis]`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import fourier_gradients as gradient_figures
from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures import survival
from cinit_tf.measures import weight_decay as decay_parts
from cinit_tf.measures.curves import iqr_text as iqr
from cinit_tf.measures.gradient_runs import GradientRun
from cinit_tf.prose import fourier_gradients as gradients_text
from cinit_tf.settings import Float, Int, setting
from cinit_tf.signals import n_frequencies
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import ALPHA, NOT_REPRODUCED, PARTLY, REPRODUCED, Claim, Margin
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section, StudyInputError

SPIKE_FACTOR = 10.0  # "a spike": the peak at least 10× the gradient at step 0
# The per-run numbers summarised over seeds (median and IQR), in the order of the summary.
SPREAD = (
    "peak_step ratio_after ratio_late decay_share decay_share_survivors decay_share_dead bump_step "
    "bump_share force force_survivors force_dead sampled_peak_step"
).split()
# A coarser record of the same curve (steps 0, 100, 200, ...): where it would put the peak.
SAMPLED_EVERY = 100
# "Weight decay dominates" on the log10 ratio of the two forces: "negligibly small" and "the dominant factor"
# read as the decay force at least ten times the gradient, one decade.
DECAY_MARGIN = Margin(
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
        f"{a.near_zero:g} gives p < {ALPHA:g} → reproduced; median r < 1 but not that → partly; otherwise "
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
    stats: list = field(
        default_factory=list
    )  # GradientRun of each run (run_stats), in the same order
    K: int = 0
    gradient_steps: list = field(default_factory=list)  # train.gradient_steps over every trial
    records: list = field(default_factory=list)
    bytes_gradient: list = field(default_factory=list)
    gradient_dtype: str = "float32"  # the precision the recorded norms were stored in
    spread: dict = field(default_factory=dict)  # median_iqr over seeds of each key of SPREAD
    windows: dict = field(default_factory=dict)  # survivors against dead in each window of steps
    sampled: dict = field(default_factory=dict)  # curve_stats.sampled_view, every SAMPLED_EVERY
    example: int | None = None  # index in `runs` of the typical run, Fig. 16's example


# ---------------------------------------------------------------- per run (pure; tested on constructed curves)


def run_stats(trial, a: FourierGradientsAnalysis) -> GradientRun:
    r = trial.result
    if r.gradient_norms is None:
        raise StudyInputError(
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

    def of_peak(value):
        return value / peak if peak > 0 else float("nan")

    windows = {  # name: (first, last step)
        "early": (0, a.peak_hi),
        "middle": (a.peak_hi, a.after_step),
        "late": (a.after_step, int(steps[-1])),
    }
    bump_step, bump = curve_stats.second_bump(steps, g, i_peak, a.after_step)
    return GradientRun(
        id=trial.id,
        seed=curve_stats.seed_of(trial),
        peak_step=int(steps[i_peak]),
        sampled_peak_step=curve_stats.sampled_peak_step(steps, g, SAMPLED_EVERY),
        bump_step=bump_step,
        bump_share=of_peak(bump),
        peak=peak,
        g0=float(g[0]),
        spike_factor=peak / float(g[0]) if g[0] > 0 else float("inf"),
        ratio_after=of_peak(curve_stats.value_at(steps, g, a.after_step)),
        ratio_late=of_peak(curve_stats.value_at(steps, g, a.late_step)),
        **decay_parts.after_step_numbers(steps, r.fourier_norms, Gk, lr, wd, a.after_step, mask),
        survivors=(np.flatnonzero(mask) + 1).tolist(),
        windows=decay_parts.gradient_window_means(steps, Gk, mask, windows),
        records=int(steps.size),
        bytes_gradient=int(np.asarray(r.gradient_norms).nbytes),
    )


# ---------------------------------------------------------------- claims (pure; known-answer tests)


def claim_names(a: FourierGradientsAnalysis) -> list[str]:
    after = f"after step {a.after_step}"
    return ["spike near step 100", f"near zero {after}", f"weight decay dominates {after}"]


def _median_numbers(values: list, kind: str, paper: str, effect: str, **extra) -> tuple[dict, str]:
    """(the numbers of a claim on the median over seeds of `values`, with its distribution-free CI; the IQR as
    the start of the claim's note)."""
    s = inference.median_iqr(values)
    numbers = dict(value=s["median"], ci=inference.median_ci(values), n=s["n"], kind=kind)
    numbers.update(paper=paper, effect=effect, **extra)
    return numbers, f"IQR {formatting.fmt(s['q1'])}–{formatting.fmt(s['q3'])}"


def _first_rung(name: str, note: str, numbers: dict, *rungs) -> Claim:
    """The claim at the first of `rungs` that holds, each (holds, verdict, the note's ending, reason): a
    verdict rule read top down."""
    _, verdict, ending, reason = next(rung for rung in rungs if rung[0])
    return Claim(name, verdict, note + ending, reason=reason, **numbers)


def claim_spike(stats: list[GradientRun], n_total: int, a: FourierGradientsAnalysis) -> Claim:
    name = claim_names(a)[0]
    if not verdicts.assessable(len(stats), n_total):
        return verdicts.not_assessable(name, len(stats), n_total, kind="number")
    factor = float(np.median([x.spike_factor for x in stats]))
    peaks = [x.peak_step for x in stats]
    paper = f"near step 100, read as [{a.peak_lo}, {a.peak_hi}]"
    numbers, iqr_note = _median_numbers(peaks, "number", paper, "median peak step")
    note = f"{iqr_note} against [{a.peak_lo}, {a.peak_hi}]; median peak / g(0) = {formatting.fmt(factor)}"
    outside = f"; a spike (≥ {SPIKE_FACTOR:g}× g(0)), but outside the window"
    none = f"; no spike of {SPIKE_FACTOR:g}× g(0)"
    return _first_rung(
        name,
        note,
        numbers,
        (a.peak_lo <= numbers["value"] <= a.peak_hi, REPRODUCED, "", "inside_band"),
        (factor >= SPIKE_FACTOR, PARTLY, outside, "outside_band"),
        (True, NOT_REPRODUCED, none, "not_observed"),
    )


def claim_near_zero(stats: list[GradientRun], n_total: int, a: FourierGradientsAnalysis) -> Claim:
    name = claim_names(a)[1]
    ratios = [x.ratio_after for x in stats if np.isfinite(x.ratio_after)]
    if not verdicts.assessable(len(ratios), n_total):
        needs = f"valid and recorded to step {a.after_step}"
        return verdicts.not_assessable(name, len(ratios), n_total, needs, kind="level")
    test = inference.signed_rank(
        [np.log10(max(r, 1e-300)) - np.log10(a.near_zero) for r in ratios], alternative="less"
    )
    paper = f"near zero, read as below {a.near_zero:g} of the peak"
    effect = f"median g({a.after_step}) / peak"
    numbers, iqr_note = _median_numbers(ratios, "level", paper, effect, p=test["p"])
    note = (
        f"{iqr_note}; {test['negative']} of {test['n']} seeds below "
        f"{a.near_zero:g}; p: one-sided Wilcoxon signed-rank of log10 r < log10 {a.near_zero:g}"
    )
    median, zero = numbers["value"], f"{a.near_zero:g} of the peak"
    below = median < a.near_zero
    significant = np.isfinite(test["p"]) and test["p"] < ALPHA
    return _first_rung(
        name,
        note,
        numbers,
        (significant and below, REPRODUCED, "", "inside_band"),
        (below, PARTLY, f"; below {zero}, but not significantly", "band_unresolved"),
        (median < 1, PARTLY, f"; it falls, but not below {zero}", "outside_band"),
        (True, NOT_REPRODUCED, "; it does not fall below the peak", "direction_fails"),
    )


def claim_decay(stats: list[GradientRun], n_total: int, a: FourierGradientsAnalysis) -> Claim:
    name = claim_names(a)[2]
    logs = [x.force for x in stats if not np.isnan(x.force)]
    if not verdicts.assessable(len(logs), n_total):
        needs = f"valid with records from step {a.after_step} on"
        return verdicts.not_assessable(name, len(logs), n_total, needs, kind="direction")
    test = inference.signed_rank(logs, alternative="greater")
    s = inference.median_iqr(logs)
    note = (
        f"log10(decay force / gradient) per seed: the median over its records from step {a.after_step} "
        f"on (IQR over seeds {formatting.fmt(s['q1'])}–{formatting.fmt(s['q3'])}); the decay force is the larger in "
        f"{test['positive']} of {test['n']} seeds; p: one-sided Wilcoxon signed-rank"
    )
    lo, hi = inference.median_ci(logs)
    effect = "median of the per-seed medians"
    return verdicts.direction(
        name, s["median"], lo, hi, test["p"], +1, effect, margin=DECAY_MARGIN, n=s["n"], note=note
    )


CLAIMS = (claim_spike, claim_near_zero, claim_decay)  # in the order of claim_names


def measure(trials: list, options: FourierGradientsAnalysis | None) -> FourierGradientsMeasured:
    """The claims over the runs whose training loss stayed finite: none needs a trained solution, so a run that
    never generalised still shows how its gradient spikes and decays."""
    if not trials:
        raise StudyInputError("fourier_gradients needs trials")
    a = options or FourierGradientsAnalysis()
    m = writeup.begin(trials, claim_names(a), a, cls=FourierGradientsMeasured)
    if not m.assessable:
        return m
    m.runs = sorted(m.valid, key=lambda t: (curve_stats.seed_of(t), t.id))
    m.stats = [run_stats(t, a) for t in m.runs]
    m.claims = [claim(m.stats, len(m.trials), a) for claim in CLAIMS]
    m.K = n_frequencies(int(m.trials[0].settings["task"]["p"]))
    m.gradient_steps = sorted({int(t.settings["train"].get("gradient_steps", 0)) for t in m.trials})
    m.records = sorted({s.records for s in m.stats})
    m.bytes_gradient = sorted({s.bytes_gradient for s in m.stats})
    stored = {
        np.asarray(t.result.gradient_norms).dtype.name
        for t in m.trials
        if t.result.gradient_norms is not None
    }
    m.gradient_dtype = ", ".join(sorted(stored)) or m.gradient_dtype
    m.spread = {k: inference.median_iqr([getattr(s, k) for s in m.stats]) for k in SPREAD}
    m.sampled = curve_stats.sampled_view(m.stats, SAMPLED_EVERY)
    m.windows = {w: curve_stats.window_contrast(m.stats, w) for w in ("early", "middle", "late")}
    finite = [i for i, s in enumerate(m.stats) if np.isfinite(s.peak_step)]
    m.example = next(iter(inference.typical(finite, lambda i: m.stats[i].peak_step, 1)), None)
    return m


# ---------------------------------------------------------------- the report


def write(m: FourierGradientsMeasured, record: dict, out_dir: Path) -> Section:
    out_dir, a, sp = Path(out_dir), m.options, m.spread
    deviations = gradients_text.deviations_of(m.trials, a)
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
    ran = [
        *writeup.profile_lines(record, m.trials),
        f"{len(m.trials)} independent runs (embedding, MLP and split seed equal per run), every frequency k = 1..{m.K} "
        f"recorded: the gradient and the Fourier norms after every step up to step "
        f"{gradients_text.listed(m.gradient_steps)}, then at each measurement.",
        f"Recording memory: {gradients_text.listed(m.records)} records × {m.K} frequencies × "
        f"{np.dtype(m.gradient_dtype.split(',')[0]).itemsize} bytes = {', '.join(f'{b:,}' for b in m.bytes_gradient)} "
        f"bytes of gradient norms per member ({m.gradient_dtype}), and as much "
        "again for the Fourier norms, which the dense steps also record.",
    ]
    findings, figures = gradients_text.findings_of(m, SAMPLED_EVERY), []
    if m.example is not None:
        example, ex = m.runs[m.example], m.stats[m.example]
        findings.append(
            f"Example seed (Fig. 16): {ex.seed}, peak at step {ex.peak_step} "
            f"(survivors {gradients_text.listed(ex.survivors)})."
        )
        figures.append(
            gradient_figures.figure_example(example, ex.seed, a.after_step, a.zoom_from, out_dir)
        )
    figures += [
        gradient_figures.figure_median(m.runs, a.peak_lo, a.peak_hi, a.after_step, out_dir),
        gradient_figures.figure_decay(m.runs, a.after_step, out_dir),
    ]
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=ran,
        deviations=deviations,
        findings=findings,
        figures=figures,
        summary={
            "analysis": a.__dict__,
            **{k: v for k, v in sp.items() if k != "bump_share"},
            "bytes_gradient_per_member": m.bytes_gradient,
            "records": m.records,
            "sampled_view": m.sampled,
            "excluded_nonfinite": sum(len(v) for v in m.excluded.values()),
            "runs": [dataclasses.asdict(s) for s in m.stats],
            "claims": {c.name: c.verdict for c in m.claims},
        },
        short_number=short,
        verdict_rule=rule_text(a),
    )
