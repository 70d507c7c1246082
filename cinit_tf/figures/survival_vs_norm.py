"""Fig. 5a of the survival_vs_norm study (§4.2): survival rate against the initial signal, and the survivors per
run at each τ of the survival rule.

Figures only, on the rates, correlation and counts `survival_vs_norm.measure` finds; method:
docs/method.md#survival-rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.measures import survival
from cinit_tf.stats import formatting
from cinit_tf.writeup.section import Figure


def figure_scatter(rates: dict, corr: dict, by_rank: np.ndarray, out_dir: Path) -> Figure:
    """Fig. 5a: each (embedding, frequency)'s survival rate against its initial signal, and the rates by initial rank."""
    import matplotlib

    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.0))
    ax = axes[0]
    cmap = matplotlib.colormaps["tab10"]
    # Rates move in steps of 1/T: a small deterministic vertical jitter (±¼ step) keeps equal rates apart.
    rng = np.random.default_rng(0)
    for e, seed in enumerate(rates["embeddings"]):
        step = 1.0 / max(int(rates["trials"][e]), 1)
        jitter = rng.uniform(-step / 4, step / 4, size=np.shape(rates["rate"][e]))
        # a rate is never drawn outside [0, 1]
        shown = np.clip(np.asarray(rates["rate"][e], dtype=float) + jitter, 0.0, 1.0)
        ax.scatter(
            rates["signal"][e],
            shown,
            s=14,
            color=cmap(e % 10),
            alpha=0.8,
            lw=0,
            label=f"embedding seed {seed} ({int(rates['trials'][e])} trials)",
        )
    x, y = np.ravel(rates["signal"]), np.ravel(rates["rate"])
    if np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        xs = np.linspace(x.min(), x.max(), 200)
        line = slope * xs + intercept
        # a rate below 0 or above 1 is no prediction: the line stops there
        line[(line < 0) | (line > 1)] = np.nan
        ax.plot(xs, line, color="black", lw=1.2, label="least-squares line (within [0, 1])")
    ax.set_xlabel("initial signal ‖F_k‖² (initial embedding)")
    ax.set_ylabel(f"survival rate (share of trials, τ = {formatting.fmt(survival.TAU)})")
    ax.set_title(
        f"Pearson r = {formatting.fmt(corr['r'])}, {formatting.fmt_p(corr['p'])}, n = {corr['n']} points"
    )
    ax.set_ylim(-0.05, 1.05)
    ax.legend(ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax = axes[1]
    ranks = np.arange(1, by_rank.size + 1)
    ax.bar(ranks, by_rank, color="tab:blue")
    ax.set_xlabel("rank of the frequency's initial signal within its embedding (1 = highest)")
    ax.set_ylabel("mean survival rate over embeddings")
    ax.set_title("Survival rate by initial rank")
    ax.set_ylim(0, 1.05)
    return plotting.finish(
        fig,
        out_dir,
        "survival_vs_signal.png",
        "Left, mirroring Fig. 5a: survival rate of each (embedding, frequency) against its initial signal, one "
        "colour per embedding, with the least-squares line; the Pearson r in the title is over all points (rates "
        "are multiples of 1/T, drawn with a vertical jitter of at most a quarter step so equal rates stay visible, never "
        "outside [0, 1]; the line is drawn only where it predicts a rate in [0, 1]). "
        "Right: the same rates by the frequency's initial rank within its embedding, averaged over embeddings.",
    )


def figure_counts(counts: dict, out_dir: Path) -> Figure:
    """Survivors per run of the main case at each τ ({τ: counts}), against the paper's 3–5."""
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(5.8, 3.6))
    all_counts = np.concatenate(list(counts.values()))
    bins = np.arange(all_counts.min() - 0.5, all_counts.max() + 1.5)
    width = 0.8 / len(counts)
    for i, (tau, c) in enumerate(counts.items()):
        values, n = np.unique(c, return_counts=True)
        ax.bar(
            values - 0.4 + width * (i + 0.5),
            n,
            width=width,
            label=f"τ = {formatting.fmt(tau)} (mean {formatting.fmt(np.mean(c))})",
        )
    ax.axvspan(2.5, 5.5, color="grey", alpha=0.15, label="paper: 3–5 circles")
    ax.set_xticks(np.arange(bins[0] + 0.5, bins[-1]))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("survivors (circles) per run")
    ax.set_ylabel("runs")
    ax.set_title("Number of surviving frequencies per run")
    ax.legend(loc="best")
    return plotting.finish(
        fig,
        out_dir,
        "survivors_per_run.png",
        f"Survivors per run of the main case for the three thresholds τ of the survival rule ({formatting.method('survival-rule')}; the rule is ours), with the "
        "paper's 3–5 circles (§4, Fig. 3a) shaded.",
    )
