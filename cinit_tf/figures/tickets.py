"""The figures of the winning-tickets study (App. G, Fig. 15); the arms, loss levels and pairing they
draw are in `cinit_tf.measures.tickets`.

Each draws what `winning_tickets.measure` computed; no claim is judged here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import curves as curve_figures
from cinit_tf.figures import loss_vs_d as loss_figures
from cinit_tf.figures import plotting
from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures.tickets import ARMS, COMPANIONS, FULL, PAPER_LOSS, paired
from cinit_tf.trial import LOSS_FLOOR  # the one floor under which a loss is read, with its reason
from cinit_tf.writeup.section import Figure

ARM_TEXT = {
    FULL: "all frequencies",
    "A": "k₁ only",
    "B": "k₁ and k₂",
    "C": "one random other",
    "D": "two random others",
}
COLOURS = {FULL: "tab:blue", "A": "tab:orange", "B": "tab:green", "C": "tab:pink", "D": "tab:cyan"}


def _loss(trial) -> np.ndarray:
    return np.maximum(np.asarray(trial.result.test_loss, dtype=np.float64), LOSS_FLOOR)


def figure_loss(m, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    trials_by_seed, example_seed = m.trials_by_seed, m.example
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 7.6), squeeze=False)
    for row, (arms, panel) in enumerate(
        (((FULL, "A", "B"), "Fig. 15a"), ((FULL, "C", "D"), "Fig. 15b"))
    ):
        med, ex = axes[row]
        for arm in arms:
            ts = [
                ts[arm]
                for seed, ts in sorted(trials_by_seed.items())
                if arm in ts and m.by_seed[seed][arm].valid
            ]
            if not ts:
                continue
            steps, curves = curve_stats.on_union_of_steps(ts)
            curve_figures.band(
                med,
                steps,
                np.maximum(curves, LOSS_FLOOR),
                COLOURS[arm],
                f"{arm if arm != FULL else 'full'}: {ARM_TEXT[arm]} (median, IQR over {len(ts)} seeds)",
            )
            t = trials_by_seed.get(example_seed, {}).get(arm)
            if t is not None:
                ex.plot(
                    np.asarray(t.result.steps),
                    _loss(t),
                    color=COLOURS[arm],
                    lw=1.2,
                    label=f"{arm if arm != FULL else 'full'}: {ARM_TEXT[arm]}"
                    + (
                        f" (kept {', '.join(map(str, t.chosen.get('kept', [])))})"
                        if arm != FULL
                        else ""
                    ),
                )
        for ax, title in (
            (med, f"{panel}: median over seeds"),
            (ex, f"{panel}: seed {example_seed}"),
        ):
            ax.set_yscale("log")
            ax.axhline(PAPER_LOSS, color="black", ls=":", lw=1)
            ax.set_xlabel("training step")
            ax.set_ylabel("test loss (log)")
            ax.set_title(title)
            ax.legend(
                loc="lower left", fontsize=7
            )  # early steps at low loss: a corner no curve reaches
    return plotting.finish(
        fig,
        out_dir,
        "test_loss_arms.png",
        "Mirrors Fig. 15: test loss over training (log scale) for the full embedding and for the same "
        "initial embedding keeping only k₁ (A) or k₁ and k₂ (B) (top, Fig. 15a), or one (C) or two (D) random "
        "other frequencies (bottom, Fig. 15b). Left: median (line) and interquartile range (band) over seeds, a "
        "run that settled before the others held at its last value; "
        f"right: seed {example_seed}, the seed whose full run's time-averaged log10 test loss is nearest the "
        "median over seeds (the lower seed on ties). Dotted: the paper's 1e-7. Losses are drawn "
        f"floored at {LOSS_FLOOR:g} (a float32 mean loss can be exactly 0).",
    )


def figure_paired(by_seed: dict, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(15.0, 4.6))

    def group(arm, ref, label, key):
        pairs = paired(by_seed, arm, ref)
        return (
            label,
            COLOURS[arm],
            [getattr(a, key) for a, _ in pairs],
            [getattr(b, key) for _, b in pairs],
        )

    level = "level: mean log10 test loss, last tenth"
    panels = (
        (axes[0], "mean_log_loss", "⟨log10 test loss⟩ over training", "claim (2): faster"),
        (axes[1], "level", level, "claims (3), (4): struggles"),
    )
    for ax, key, what, title in panels:
        groups = [
            group(arm, FULL, f"{arm}: {ARM_TEXT[arm]}", key) for arm in ARMS if paired(by_seed, arm)
        ]
        curve_figures.paired_scatter(ax, groups, f"full: {what}", f"arm: {what}", "equal to full")
        ax.set_title(f"Each seed: an arm against its full run, {title}")
    curve_figures.paired_scatter(
        axes[2],
        [group("B", "D", f"B ({ARM_TEXT['B']}) against D ({ARM_TEXT['D']})", "level")],
        f"D: {level}",
        f"B: {level}",
        "equal to D",
    )
    axes[2].set_title("Each seed: two winning circles against two random ones, claim (6)")
    return plotting.finish(
        fig,
        out_dir,
        "paired_by_seed.png",
        "Our paired view of Fig. 15, one point per seed. Left: each arm's time-averaged log10 "
        "test loss (the area under its log-loss curve over the step budget) against the full "
        "run's; below the dashed line the arm reached lower loss sooner (claim (2) reads B "
        "here). Middle: each arm's level, the mean log10 test loss over the last tenth of the "
        "budget, against the full run's; above the dashed line the arm ends higher, it struggled "
        "(claims (3), (4) read C and D here). Right: B's level against D's (claim (6)); below "
        "the dashed line the two winning circles end lower than the two random ones.",
    )


def figure_companion(m, out_dir: Path) -> Figure:
    """The standard-loss runs (dashed; a cross at their first collapsed step) against the exact-loss runs of
    the same seed (solid): full_float32 against full, B_float32 against B, one colour per seed."""
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0), squeeze=False)
    colours = loss_figures.colour_scale(sorted({curve_stats.seed_of(t) for t, _ in m.companions}))
    for ax, arm in zip(axes[0], (FULL, "B")):
        pairs = [pair for pair in m.companions if COMPANIONS.get(pair[0].case) == arm]
        title = f"{arm}: {ARM_TEXT[arm]}, standard float32 loss against the exact loss"
        loss_figures.companion_panel(ax, pairs, colours, title, reference=PAPER_LOSS)
    return plotting.finish(
        fig,
        out_dir,
        "standard_vs_exact_loss.png",
        loss_figures.COMPANION_CAPTION + "of the "
        "same seed (solid), the full embedding (left) and B (right), one colour per seed. "
        f"Dotted: the paper's 1e-7. Losses are drawn floored at {LOSS_FLOOR:g}. The "
        "standard-loss runs are not judged.",
    )
