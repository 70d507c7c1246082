"""The figures of the winning-tickets study (App. G, Fig. 15), and the arms and pairing they share with it.

Figures only: each draws what `winning_tickets.measure` computed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.section import Figure
from cinit_tf.studies import _curves as D
from cinit_tf.studies import _figures as G
from cinit_tf.trial import LOSS_FLOOR  # the one floor under which a loss is read, with its reason

FULL, ARMS = "full", ("A", "B", "C", "D")
CASES = (FULL, *ARMS)
ARM_TEXT = {FULL: "all frequencies", "A": "k₁ only", "B": "k₁ and k₂", "C": "one random other", "D": "two random others"}
COLOURS = {FULL: "tab:blue", "A": "tab:orange", "B": "tab:green", "C": "tab:pink", "D": "tab:cyan"}
PAPER_LOSS = 1e-7


def paired(by_seed: dict, arm: str, ref: str = FULL) -> list[tuple[dict, dict]]:
    """(ref, arm) run stats of the seeds where both are valid, in seed order."""
    return [(runs[ref], runs[arm]) for _, runs in sorted(by_seed.items())
            if ref in runs and arm in runs and runs[ref]["valid"] and runs[arm]["valid"]]


def _loss(trial) -> np.ndarray:
    return np.maximum(np.asarray(trial.result.test_loss, dtype=np.float64), LOSS_FLOOR)


def figure_loss(m, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    trials_by_seed, example_seed = m.trials_by_seed, m.example
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 7.6), squeeze=False)
    for row, (arms, panel) in enumerate((((FULL, "A", "B"), "Fig. 15a"), ((FULL, "C", "D"), "Fig. 15b"))):
        med, ex = axes[row]
        for arm in arms:
            ts = [ts[arm] for seed, ts in sorted(trials_by_seed.items()) if arm in ts and m.by_seed[seed][arm]["valid"]]
            if not ts:
                continue
            steps, curves = D.on_union_of_steps(ts)
            D.band(med, steps, np.maximum(curves, LOSS_FLOOR), COLOURS[arm],
                   f"{arm if arm != FULL else 'full'}: {ARM_TEXT[arm]} (median, IQR over {len(ts)} seeds)")
            t = trials_by_seed.get(example_seed, {}).get(arm)
            if t is not None:
                ex.plot(np.asarray(t.result.steps), _loss(t), color=COLOURS[arm], lw=1.2,
                        label=f"{arm if arm != FULL else 'full'}: {ARM_TEXT[arm]}"
                        + (f" (kept {', '.join(map(str, t.chosen.get('kept', [])))})" if arm != FULL else ""))
        for ax, title in ((med, f"{panel}: median over seeds"), (ex, f"{panel}: seed {example_seed}")):
            ax.set_yscale("log")
            ax.axhline(PAPER_LOSS, color="black", ls=":", lw=1)
            ax.set_xlabel("training step")
            ax.set_ylabel("test loss (log)")
            ax.set_title(title)
            ax.legend(loc="lower left", fontsize=7)  # early steps at low loss: a corner no curve reaches
    return G.finish(fig, out_dir, "test_loss_arms.png",
                    "Mirrors Fig. 15: test loss over training (log scale) for the full embedding and for the same "
                    "initial embedding keeping only k₁ (A) or k₁ and k₂ (B) (top, Fig. 15a), or one (C) or two (D) random "
                    "other frequencies (bottom, Fig. 15b). Left: median (line) and interquartile range (band) over seeds, a "
                    "run that settled before the others held at its last value; "
                    f"right: seed {example_seed}, the seed whose full run's time-averaged log10 test loss is nearest the "
                    "median over seeds (the lower seed on ties). Dotted: the paper's 1e-7. Losses are drawn "
                    f"floored at {LOSS_FLOOR:g} (a float32 mean loss can be exactly 0).")


def figure_paired(by_seed: dict, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.4, 4.4))

    def group(arm, ref, label):
        pairs = paired(by_seed, arm, ref)
        return label, COLOURS[arm], [a["mean_log_loss"] for a, _ in pairs], [b["mean_log_loss"] for _, b in pairs]

    D.paired_scatter(left, [group(arm, FULL, f"{arm}: {ARM_TEXT[arm]}") for arm in ARMS if paired(by_seed, arm)],
                     "full: ⟨log10 test loss⟩ over training", "arm: ⟨log10 test loss⟩ over training", "equal to full")
    left.set_title("Each seed: an arm against its full run")
    D.paired_scatter(right, [group("B", "D", f"B ({ARM_TEXT['B']}) against D ({ARM_TEXT['D']})")],
                     "D: ⟨log10 test loss⟩ over training", "B: ⟨log10 test loss⟩ over training", "equal to D")
    right.set_title("Each seed: two winning circles against two random ones")
    return G.finish(fig, out_dir, "mean_log_loss_paired.png",
                    "Our paired view of Fig. 15: per seed, each arm's time-averaged log10 test loss (the area under its "
                    "log-loss curve over the step budget) against the full run's (left; below the dashed line the arm "
                    "reached lower loss sooner, above it, it struggled) and B's against D's (right, claim (6); below the "
                    "dashed line the two winning circles learned sooner than the two random ones).")
