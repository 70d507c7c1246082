"""Fig. 5c of the manual_construction study (§4.2): survival of two constructed frequencies against their ratio r,
and the revivals of frequencies that started at ε.

Figures only, on the per-r table and per-trial rows `manual_construction.measure` builds; method:
docs/method.md#survival-rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.readout import SURVIVAL_TAU
from cinit_tf.stats import formatting, inference
from cinit_tf.writeup.section import Figure


def figure_rates(table, out_dir: Path) -> Figure:
    """Fig. 5c: the survival rates of the two constructed frequencies at each r (`per_r`), and the revivals."""
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(5.4, 3.8))
    r = [x["r"] for x in table]
    n = "/".join(sorted({str(x["n"]) for x in table}))
    for key, marker, colour, label in (
        ("top", "o", "tab:orange", "largest frequency (signal s)"),
        ("second", "s", "tab:blue", "second frequency (signal r·s)"),
    ):
        rate = np.array([x[key] for x in table])
        ci = np.array([inference.share_ci(int(round(x[key] * x["n"])), x["n"]) for x in table])
        ax.errorbar(
            r,
            rate,
            yerr=[np.maximum(rate - ci[:, 0], 0), np.maximum(ci[:, 1] - rate, 0)],
            marker=marker,
            color=colour,
            capsize=3,
            label=label,
        )
    ax.plot(
        r,
        [x["any_revival"] for x in table],
        marker="^",
        ls="--",
        color="tab:green",
        label="trials reviving a frequency that started at ε",
    )
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("r (second frequency's signal / largest's)")
    ax.set_ylabel(f"survival rate (τ = {SURVIVAL_TAU:g}) / share of trials")
    ax.set_title(f"Two constructed frequencies ({n} trials per r)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "survival_vs_r.png",
        "Survival rates of the largest (signal s) and the second frequency (signal r·s) of a constructed "
        "embedding against r, with Wilson 95% intervals, and the share of trials in which some frequency that started at ε = 1e-6 "
        "survives (a revival). Mirrors Fig. 5c (revivals are our addition to the plot).",
    )


def figure_revivals(rows, out_dir: Path) -> Figure:
    """The share of trials at each r by how many frequencies that started at ε survive."""
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    rs = sorted({row["r"] for row in rows})
    counts = sorted({row[SURVIVAL_TAU]["revived"] for row in rows})
    bottom = np.zeros(len(rs))
    colours = plt.get_cmap("viridis")
    for j, c in enumerate(counts):
        share = np.array(
            [
                np.mean([row[SURVIVAL_TAU]["revived"] == c for row in rows if row["r"] == r])
                for r in rs
            ]
        )
        ax.bar(
            np.arange(len(rs)),
            share,
            bottom=bottom,
            color=colours(j / max(len(counts) - 1, 1)),
            label=f"{c} revived",
        )
        bottom += share
    ax.set_xticks(np.arange(len(rs)), [formatting.fmt(r) for r in rs])
    ax.set_xlabel("r")
    ax.set_ylabel("share of trials")
    ax.set_title("How many frequencies that started at ε survive")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return plotting.finish(
        fig,
        out_dir,
        "revivals_vs_r.png",
        f"Share of trials by the number of revived frequencies (started at ε, survive at τ = {SURVIVAL_TAU:g}) "
        "at each r. The paper reports revivals in words only (§4.2, Fig. 5c's text).",
    )
