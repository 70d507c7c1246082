"""The tables and sentences of the fourier_gradients report: what `write` puts in words."""

from __future__ import annotations

from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures.curves import iqr_text as iqr
from cinit_tf.stats import formatting
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health


def deviations_of(trials: list, a) -> list[str]:
    return [
        f"The paper shows one run (Fig. 16); we run {len(trials)} seeds and give medians and interquartile ranges. The "
        "example seed is the one whose peak step is nearest the median (ours).",
        "The gradient is that of the training loss (the mean cross-entropy over the train pairs), at the parameters "
        'after each step, without weight decay; the paper says "the gradient produced by MLP on the embedding through '
        'backpropagation" and does not say which loss or when it is taken.',
        f'"Around 100 steps" is read as a peak step in [{a.peak_lo}, {a.peak_hi}], "near zero" as below '
        f'{a.near_zero:g} of the peak, and "dominant" as the larger of the two forces on the embedding, the decay '
        "force wd·‖F_k(E)‖ against the backpropagated gradient ‖FFT(∂L/∂E)_k‖ (summed over k): readings of ours, "
        f"declared before the numbers ({formatting.method('fourier_gradients-app-h')}).",
        "The split of a signal's change into weight decay and the rest is ours and is reported, not judged: AdamW's "
        "decoupled decay scales F_k by (1 − lr·wd) per step, exactly, so the rest is the Adam update. Adam divides the "
        "gradient by its running RMS, so a tiny gradient can still give an update of size lr; the paper's argument is "
        "about the gradient itself, hence the forces.",
        *writeup.paper_setting_deviations(trials),
        *writeup.common_deviations(trials),
        writeup.STATISTICS_NOTE,
    ]


def listed(values) -> str:
    return ", ".join(map(str, values))


def findings_of(m, sampled_every: int) -> list[str]:
    a, stats, sp = m.options, m.stats, m.spread
    labels = (f"steps 0–{a.peak_hi}", f"{a.peak_hi}–{a.after_step}", f"{a.after_step}–end")
    window_rows = [
        [
            label,
            w["survivors"],
            w["dead"],
            iqr(w["ratio"]),
            f"{w['test']['positive']} of {w['test']['n']}",
            formatting.fmt_p(w["test"]["p"]),
        ]
        for label, w in zip(labels, m.windows.values())
    ]
    per_seed = {  # column: field of GradientRun
        "peak step": "peak_step",
        f"peak step, every {sampled_every}": "sampled_peak_step",
        "peak g": "peak",
        "peak / g(0)": "spike_factor",
        f"g({a.after_step}) / peak": "ratio_after",
        f"g({a.late_step}) / peak": "ratio_late",
        f"log10 decay force / gradient after {a.after_step}": "force",
        f"decay share after {a.after_step}": "decay_share",
    }
    rows = [
        [str(s.seed), *(getattr(s, k) for k in per_seed.values()), listed(s.survivors)]
        for s in stats
    ]
    return [
        formatting.md_table(["seed", *per_seed, "survivors"], rows),
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
            window_rows,
        ),
        f"The two forces from step {a.after_step} on, log10(Σ_k wd·‖F_k(E)‖ / Σ_k ‖FFT(∂L/∂E)_k‖) (per seed, the median "
        f"over the records; above 0 the decay force is the larger): over all frequencies {iqr(sp['force'])}; survivors "
        f"only {iqr(sp['force_survivors'])}; dead only {iqr(sp['force_dead'])}.",
        f"Weight decay against the rest of the change after step {a.after_step} (not judged): share S "
        f"{iqr(sp['decay_share'])} over all frequencies; survivors only {iqr(sp['decay_share_survivors'])}; dead only "
        f"{iqr(sp['decay_share_dead'])}. Adam's update has a size of about lr whatever the gradient's size, so where a signal "
        "holds its level the update cancels the decay and S tends to 1/2 by construction, whichever force is larger; S "
        "near 1 means the signal decays freely.",
        *health.health_findings(m.trials),
    ]
