"""The figures and tables of the winning-tickets study (App. G, Fig. 15), and the arms, loss levels and
pairing they share with it.

Each draws or tabulates what `winning_tickets.measure` computed; no claim is judged here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import curves as curve_figures
from cinit_tf.figures import plotting
from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures import survival
from cinit_tf.stats import formatting, inference
from cinit_tf.trial import LOSS_FLOOR  # the one floor under which a loss is read, with its reason
from cinit_tf.writeup.section import Figure

FULL, ARMS = "full", ("A", "B", "C", "D")
CASES = (FULL, *ARMS)
ARM_TEXT = {
    FULL: "all frequencies",
    "A": "k₁ only",
    "B": "k₁ and k₂",
    "C": "one random other",
    "D": "two random others",
}
COLOURS = {FULL: "tab:blue", "A": "tab:orange", "B": "tab:green", "C": "tab:pink", "D": "tab:cyan"}
PAPER_LOSS = 1e-7
LEVELS = (1e-2, 1e-4, 1e-6)  # the test-loss levels whose first step each run records
# The standard-loss runs beside the arms (the paper's likely float32 setting), each with the arm it shadows.
COMPANIONS = {"full_float32": FULL, "B_float32": "B"}


def paired(by_seed: dict, arm: str, ref: str = FULL) -> list[tuple[dict, dict]]:
    """(ref, arm) run stats of the seeds where both are valid, in seed order."""
    return [
        (runs[ref], runs[arm])
        for _, runs in sorted(by_seed.items())
        if ref in runs and arm in runs and runs[ref]["valid"] and runs[arm]["valid"]
    ]


def level_med(runs: list[dict]) -> dict:
    """median_iqr over runs of 10^level (each run's geometric mean test loss over the last tenth)."""
    return inference.median_iqr([10.0 ** r["level"] for r in runs])


def arm_row(arm: str, runs: list[dict]) -> list:
    """One arm's row of the report's table, over its valid runs."""
    valid = [r for r in runs if r["valid"]]

    def med(key):
        return inference.median_iqr([r[key] for r in valid])

    def to(lv):
        got = [r["to"][f"{lv:g}"] for r in valid if np.isfinite(r["to"][f"{lv:g}"])]
        if not got:
            return f"never (0/{len(valid)})"
        return f"{formatting.fmt(inference.median_iqr(got)['median'])} ({len(got)}/{len(valid)})"

    def mean(key):
        return float(np.mean([r[key] for r in valid])) if valid else float("nan")

    low, level, circles = med("lowest"), level_med(valid), med("circles")
    return [
        f"{arm}: {ARM_TEXT[arm]}",
        f"{len(valid)}/{len(runs)}",
        f"{formatting.fmt(low['median'])} [{formatting.fmt(low['q1'])}, {formatting.fmt(low['q3'])}]",
        formatting.fmt(med("lowest_step")["median"]),
        f"{formatting.fmt(level['median'])} [{formatting.fmt(level['q1'])}, {formatting.fmt(level['q3'])}]",
        formatting.fmt(med("mean_log_loss")["median"]),
        *[to(lv) for lv in LEVELS],
        formatting.fmt(mean("final_acc")),
        f"{formatting.fmt(circles['median'])} (mean {formatting.fmt(mean('circles'))})",
        f"{formatting.fmt(mean('spikes'))} ({sum(r['spikes'] > 0 for r in valid)}/{len(valid)})",
    ]


def k_text(trials: list) -> str:
    """Where k₁ and k₂ come from: the end of each seed's full run, which is the paper's only when that is
    30,000 steps."""
    full = [t for t in trials if t.settings.get("case") == FULL]
    if full and min(int(t.settings["train"]["steps"]) for t in full) >= survival.PAPER_STEPS:
        settled = sum(t.result.stop_reason == "settled" for t in full)
        if not settled:
            return (
                f"k₁ and k₂ are read off each seed's `full` run after {survival.PAPER_STEPS:,} steps, as the "
                "paper's are."
            )
        return (
            f"k₁ and k₂ are read off each seed's `full` run where it stopped: {settled} of {len(full)} "
            f"settled before the {survival.PAPER_STEPS:,}-step cap, where the paper reads them after "
            f"{survival.PAPER_STEPS:,} steps."
        )
    return (
        f"k₁ and k₂ are read off the `full` run at the end of our shorter budget, not after "
        f"{survival.PAPER_STEPS:,} steps; a survivor set that is still changing could name different circles."
    )


def budget_text(budget: list) -> str:
    steps = ", ".join(map(str, budget))
    if budget and max(budget) >= survival.PAPER_STEPS:
        return (
            f"Claim (1) is judged within the paper's budget ({steps} steps at most; runs that settled "
            "stopped earlier)."
        )
    return f"Claim (1) is judged at our budget of {steps} steps, not the paper's {survival.PAPER_STEPS:,}."


def learned_text(m) -> str:
    """How many runs of each arm reached each loss level: whether two random circles learn at all (claims 4,
    6)."""

    def reached(arm):
        runs = [r for r in m.runs_of[arm] if r["valid"]]
        return ", ".join(
            f"≤ {lv:g} in {sum(np.isfinite(r['to'][f'{lv:g}']) for r in runs)} of {len(runs)}"
            for lv in LEVELS
        )

    return (
        "Which runs learned (lowest test loss reached): "
        + "; ".join(f"{arm} ({ARM_TEXT[arm]}) {reached(arm)}" for arm in CASES)
        + "."
    )


def revival_text(runs: list[dict], spike_rise: float) -> str:
    """Whether A (`runs`, its run stats) still revives other circles with the exact loss, where float32's
    collapse cannot make the spikes the paper sees beside the revival, and whether its reviving runs spike."""
    exact = [r for r in runs if r["valid"] and r["loss"] == "exact"]
    if not exact:
        return (
            "No A run trained with the exact loss: whether A revives without softmax collapse is not "
            "measured."
        )
    more = [r for r in exact if r["circles"] > 1]
    text = (
        "A with the exact loss (no softmax collapse in training; the paper sees periodic test-loss "
        f"spikes as A's representation grows): {len(more)} of {len(exact)} A runs end with more than one "
        "circle; "
        f"{sum(r['spikes'] > 0 for r in exact)} of {len(exact)} show a test-loss spike (above "
        f"{spike_rise:g}× the running minimum)"
    )
    if not more:
        return text + "."
    return (
        text + f", and {sum(r['spikes'] == 0 for r in more)} of the {len(more)} that revive do so "
        "without any spike."
    )


def companion_text(m) -> str:
    """The standard-loss runs beside the arms in one sentence (`_curves.companion_sentence`)."""
    runs = f"runs trained with the standard float32 loss ({', '.join(COMPANIONS)}; not judged)"
    return curve_stats.companion_sentence(
        m.companion, runs, "the exact-loss run of the same seed (full, B)"
    )


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
                if arm in ts and m.by_seed[seed][arm]["valid"]
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
        return label, COLOURS[arm], [a[key] for a, _ in pairs], [b[key] for _, b in pairs]

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
    import matplotlib

    seeds = sorted({curve_stats.seed_of(t) for t, _ in m.companions})
    cmap = matplotlib.colormaps["viridis"]
    colour = {s: cmap(i / max(len(seeds) - 1, 1) * 0.9) for i, s in enumerate(seeds)}
    for ax, arm in zip(axes[0], (FULL, "B")):
        for t, twin in m.companions:
            if COMPANIONS.get(t.settings.get("case")) != arm:
                continue
            plotting.companion_curves(
                ax, t, twin, colour[curve_stats.seed_of(t)], curve_stats.seed_of(t), LOSS_FLOOR
            )
        ax.set_yscale("log")
        ax.axhline(PAPER_LOSS, color="black", ls=":", lw=1)
        ax.set_title(f"{arm}: {ARM_TEXT[arm]}, standard float32 loss against the exact loss")
        ax.set_xlabel("training step")
        ax.set_ylabel("test loss (log)")
        ax.legend(loc="lower left", fontsize=7)
    return plotting.finish(
        fig,
        out_dir,
        "standard_vs_exact_loss.png",
        "The paper's likely setting beside ours: test loss over training of the runs trained "
        "with the standard float32 cross-entropy (dashed; a cross at the first step where a "
        "training pair's loss was exactly 0, softmax collapse) and of the exact-loss runs of the "
        "same seed (solid), the full embedding (left) and B (right), one colour per seed. "
        f"Dotted: the paper's 1e-7. Losses are drawn floored at {LOSS_FLOOR:g}. The "
        "standard-loss runs are not judged.",
    )
