"""Test loss against embedding dimension d, drawn (§5, Fig. 7; App. B, Fig. 9): mean curves per d, the level
over the last tenth of the budget, the neighbourhood of d = p, and the standard-loss companion."""

from __future__ import annotations

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.measures import curves as curve_stats
from cinit_tf.measures import loss_vs_d
from cinit_tf.trial import LOSS_FLOOR
from cinit_tf.writeup.section import Figure


def _name(c) -> str:
    """A panel's name: the task, p and the paper figure it mirrors (Fig. 7 for modular addition, Fig. 9 for
    the others)."""
    return f"{c['task']}, p = {c['p']} (cf. Fig. {7 if c['task'] == 'modadd' else 9})"


def colour_scale(keys) -> dict:
    """A viridis colour for each of `keys`, in their order (the last at 0.9 of the scale)."""
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return {k: cmap(i / max(len(keys) - 1, 1) * 0.9) for i, k in enumerate(keys)}


# The start of a companion figure's caption, which goes on with the exact-loss runs it draws.
COMPANION_CAPTION = (
    "The paper's likely setting beside ours: test loss over training of the runs trained "
    "with the standard float32 cross-entropy (dashed; a cross at the first step where a "
    "training pair's loss was exactly 0, softmax collapse) and of the exact-loss runs "
)


def companion_panel(ax, pairs, colours: dict, title: str, reference: float | None = None) -> None:
    """One panel of standard-loss runs (dashed; a cross at their first collapsed step) against their
    exact-loss twins (solid): `pairs` of (run, twin or None), one colour per seed (`colours`), on a log
    loss axis with a dotted line at `reference` when given."""
    for t, twin in pairs:
        seed = curve_stats.seed_of(t)
        plotting.companion_curves(ax, t, twin, colours[seed], seed, LOSS_FLOOR)
    ax.set_yscale("log")
    if reference is not None:
        ax.axhline(reference, color="black", ls=":", lw=1)
    ax.set_title(title)
    ax.set_xlabel("training step")
    ax.set_ylabel("test loss (log)")
    ax.legend(loc="lower left", fontsize=7)


def _mean_curve(trials):
    """(steps, geometric mean over trials of the test loss): losses span decades, so the mean is taken of the
    log. Runs of one d may stop at different steps (until settled): `curve_stats.on_union_of_steps` lines them up.
    """
    steps, curves = curve_stats.on_union_of_steps(trials)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.where(np.isfinite(curves) & (curves > 0), np.log10(curves), np.nan)
        return steps, 10 ** np.nanmean(logs, axis=0)


def figure_curves(cases, out_dir) -> Figure:
    plt = plotting.setup_matplotlib()
    n = len(cases)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 6.4), squeeze=False, sharex="col")
    for j, c in enumerate(cases):
        ds = sorted(set(c["frozen"]) | set(c["trained"]))
        colours = colour_scale(ds)
        budget = max(c["steps"])
        for i, (key, name) in enumerate(
            (
                ("_frozen_trials", "embedding frozen"),
                ("_trained_trials", "embedding trained (reference)"),
            )
        ):
            ax = axes[i][j]
            ax.axvspan(c["level_from"] * budget, budget, color="0.9", lw=0, zorder=0)
            for d, ts in c[key].items():
                steps, mean = _mean_curve(ts)
                at_p = d == c["p"]
                ax.plot(
                    steps,
                    mean,
                    color="black" if at_p else colours[d],
                    lw=2.0 if at_p else 1.2,
                    ls="--" if at_p else "-",
                    label=f"d = {d}" + (" (= p)" if at_p else ""),
                )
            ax.set_yscale("log")
            ax.set_title(f"{_name(c)}\n{name}")
            ax.set_ylabel("test loss (geometric mean over seeds)")
            if i == 1:
                ax.set_xlabel("training step")
            if c[key]:
                ax.legend(ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle(
        "Test loss over training by embedding dimension d (paper Fig. 7: modular addition; "
        "Fig. 9: XOR, remainder)",
        fontsize=11,
    )
    return plotting.finish(
        fig,
        out_dir,
        "test_loss_curves.png",
        "Test loss over training, geometric mean over seeds (10 to the mean log₁₀ loss), one "
        "line per embedding dimension d (d = p dashed black); the grey band is the last tenth of "
        "the budget, where the level is read. Top row: embedding frozen at initialisation, only "
        "the MLP trains, mirroring Fig. 7 (modular addition) and Fig. 9 (XOR and remainder). "
        "Bottom row: the same grid with the embedding trained, our reference (not in the paper).",
    )


def _errorbars(ax, stats: dict, colour, label, marker):
    """Each seed a faint dot (10^level); the geometric mean over seeds with the 95% CI of the mean level."""
    ds = sorted(stats)
    for d in ds:
        vals = [v for v in stats[d]["values"] if np.isfinite(v)]
        ax.scatter([d] * len(vals), vals, s=12, color=colour, alpha=0.45, lw=0, zorder=3)
    centre = np.array([10 ** stats[d]["log_mean"] for d in ds])
    lo = np.array([10 ** stats[d]["log_ci95"][0] for d in ds])
    hi = np.array([10 ** stats[d]["log_ci95"][1] for d in ds])
    ax.errorbar(
        ds,
        centre,
        yerr=[np.nan_to_num(centre - lo), np.nan_to_num(hi - centre)],
        color=colour,
        marker=marker,
        ms=4,
        capsize=3,
        lw=1.2,
        label=label,
    )


LEVEL_LABEL = "test loss, last tenth"


def figure_levels(cases, out_dir) -> Figure:
    plt = plotting.setup_matplotlib()
    n = len(cases)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
    for j, c in enumerate(cases):
        ax = axes[0][j]
        _errorbars(ax, c["frozen"], "tab:blue", "embedding frozen", "o")
        _errorbars(ax, c["trained"], "tab:orange", "embedding trained (reference)", "s")
        ax.axvline(
            c["p"], color="0.55", ls="--", lw=1, zorder=0, label="d = p"
        )  # behind the bar it marks
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(_name(c))
        ax.set_xlabel("embedding dimension d (log₂)")
        ax.set_ylabel(LEVEL_LABEL)
    # One legend for all panels, below them: inside a panel it would cover the points near d = p.
    fig.legend(
        *axes[0][0].get_legend_handles_labels(),
        loc="lower center",
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    fig.suptitle(
        "Test loss over the last tenth of the budget against d: geometric mean, 95% CI over seeds",
        fontsize=11,
    )
    return plotting.finish(
        fig,
        out_dir,
        "final_test_loss_vs_d.png",
        "The level of the test loss against embedding dimension d, log axes: per seed (faint "
        "dots) 10 to the mean log₁₀ test loss over the last tenth of the budget, and over seeds "
        "the geometric mean with the 95% CI of the mean level (bars); d = p a grey dashed line "
        "drawn behind the data. Frozen embedding (blue) is the paper's experiment, summarising "
        "the ends of the curves of Fig. 7 (modular addition) and Fig. 9 (XOR, remainder); "
        "trained embedding (orange) is our reference.",
        rect=(0, 0.07, 1, 1),
    )


def _precision_overlay(ax, checks, level_from: float) -> int:
    """Each float64 check trial's level (a cross just right of its d) joined to its float32 twin's level at
    d; returns how many were drawn."""
    drawn = 0
    for t, twin in checks:
        if twin is None:
            continue
        d = int(t.settings["train"]["d"])
        y64, y32 = loss_vs_d.level(t, level_from), loss_vs_d.level(twin, level_from)
        if not (np.isfinite(y64) and np.isfinite(y32)):
            continue
        ax.plot([d, d + 0.3], [10.0**y32, 10.0**y64], color="tab:orange", lw=0.8, zorder=1)
        ax.scatter(
            [d + 0.3],
            [10.0**y64],
            marker="x",
            color="tab:orange",
            s=24,
            zorder=3,
            label=None if drawn else "float64 check (not judged), joined to its float32 twin",
        )
        drawn += 1
    return drawn


def figure_around_p(c, out_dir, checks=()) -> Figure:
    """The frozen level near d = p; `checks` are (float64 trial, its float32 twin or None) drawn over it."""
    plt = plotting.setup_matplotlib()
    lo = min(c["p"] / 2, c["dip"]["below"]) if c["dip"] else c["p"] / 2
    hi = max(2 * c["p"], c["dip"]["above"]) if c["dip"] else 2 * c["p"]
    near = {d: s for d, s in c["frozen"].items() if lo <= d <= hi}
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    _errorbars(ax, near, "tab:blue", "frozen: geometric mean, 95% CI; dots = seeds", "o")
    checked = _precision_overlay(ax, checks, c["level_from"]) if checks else 0
    # behind the bar it marks
    ax.axvline(c["p"], color="0.55", ls="--", lw=1, zorder=0, label=f"d = p = {c['p']}")
    ax.set_yscale("log")
    dip = c["dip"]
    shape = f" ({dip['shape']})" if dip else ""
    fig_ref = (
        'cf. paper Fig. 7, "dip at d = p"'
        if c["task"] == "modadd"
        else "cf. paper Fig. 9; no dip claimed"
    )
    ax.set_title(f"{c['task']}: frozen, {LEVEL_LABEL}, near d = p{shape}\n({fig_ref})")
    ax.set_xlabel("embedding dimension d")
    ax.set_ylabel(f"{LEVEL_LABEL} (log)")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1 if checked else 2, frameon=False
    )
    why = (
        'the fine grid around d = p that Fig. 7\'s "dip at d = p" needs (Fig. 7 zooms in on loss < 1.0).'
        if c["task"] == "modadd"
        else "the paper claims no dip for this task (Fig. 9); shown beside modular addition's (Fig. 7) for "
        "comparison."
    )
    return plotting.finish(
        fig,
        out_dir,
        f"{c['task']}_around_p.png",
        "Frozen-embedding test loss over the last tenth of the budget (10 to its mean log₁₀) for "
        f"d from p/2 to 2p and the nearest grid points on either side of p ({c['task']}, p = "
        f"{c['p']}), log loss axis, geometric mean with the 95% CI of the mean level, every seed "
        "shown: "
        + why
        + (
            f" Orange crosses: the {checked} float64 check trials (same seeds, not judged), each joined "
            "to its float32 twin's level at the same d."
            if checked
            else ""
        ),
    )


def figure_companion(pairs, out_dir) -> Figure:
    """The standard-loss trials (dashed, a cross at their first collapsed step) against the exact-loss trials
    with the same seeds and grid point (solid), one panel per (d, arm), one colour per seed."""
    plt = plotting.setup_matplotlib()

    def point(t):
        return int(t.settings["train"]["d"]), bool(t.settings["train"]["freeze_embedding"])

    panels = sorted({point(t) for t, _ in pairs}, key=lambda k: (not k[1], k[0]))
    fig, axes = plotting.panel_grid(plt, len(panels), 2, 5.0, 3.4)
    colours = colour_scale(sorted({curve_stats.seed_of(t) for t, _ in pairs}))
    for ax, (d, frozen) in zip(axes, panels):
        title = f"modular addition, d = {d}, embedding {'frozen' if frozen else 'trained'}"
        companion_panel(
            ax, [pair for pair in pairs if point(pair[0]) == (d, frozen)], colours, title
        )
    return plotting.finish(
        fig,
        out_dir,
        "standard_vs_exact_loss.png",
        COMPANION_CAPTION + "with "
        "the same seeds and grid point (solid), one colour per seed. Losses are drawn floored at "
        f"{LOSS_FLOOR:g}. The standard-loss runs are not judged; they show where float32 jumps "
        "and how far.",
    )
