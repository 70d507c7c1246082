"""§3.2, Fig. 2: multi-digit XOR — does the learned cube arrangement rank high at initialisation?

The paper's claim: trained on c = a XOR b (3 bits), the embedding forms a cube whose arrangement
of tokens differs between seeds; the initial signal g(α) = Σ_{i<j} ‖E_i − E_j‖² α_ij of the
learned arrangement ranks in the top 10% of all 168 arrangements on average (std 12%, 100 seeds).

Per trial: the learned arrangement (the α best correlated with the final squared distances,
docs/method.md#read-offs) and that correlation (fit r); the final shape (cube, 4-D cross-polytope, other); the top-% of
g among all 168 arrangements on the *initial* embedding; the same for a random arrangement drawn
per trial (the control); whether the trial reached 100% test accuracy. Statistics overall and per
shape: on a cross-polytope several α fit equally well and the read-off is ambiguous.

Verdict rule (fixed here, before any numbers): see VERDICT_RULE, declared in DECLARATION: the rank
against the paper's 10 ± 12 over 100 seeds by Welch's test, and the shape (a cube in most runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import plotting
from cinit_tf.figures import rank as rank_figures
from cinit_tf.measures import rank as rank_stats
from cinit_tf.readout import (
    CUBE_MIN_FIT,
    arrangement_fits,
    final_shape,
    learned_arrangement,
    principal_components,
)
from cinit_tf.seeds import rng
from cinit_tf.signals import arrangement_scores, arrangements, top_percent
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Figure, Measured, Section

PAPER_MEAN, PAPER_STD, PAPER_SEEDS = 10.0, 12.0, 100
SHAPES = ("cube", "cross_polytope", "other")
# Arrangements whose fit is within this of the best are "tied" read-offs (exact ties for α shared by
# several matrices are always there; on a cross-polytope 4 distinct α tie up to noise).
TIE_TOLERANCE = 0.01

# §2 and §3.2 state the shape without exception ("the representation forms a hypercube"; "After
# training, the embeddings form a cube structure"): read as at least 90% of runs, as "near 100%".
CUBE_SHARE = 0.9
CUBE_SOURCE = '§3.2: "After training, the embeddings form a cube structure", stated without exception, read as a share of runs'
RANK_CLAIM = "the learned arrangement ranks high at initialisation"
SHAPE_CLAIM = "the final embedding is a cube"
VERDICT_RULE = rank_stats.verdict_rule(
    PAPER_MEAN,
    PAPER_STD,
    PAPER_SEEDS,
    learned="arrangement's initial signal among all 168 arrangements, whatever the final shape",
    shape=f"the paper's final embeddings are cubes ({CUBE_SOURCE} ≥ {CUBE_SHARE:.0%}); a run is a cube when "
    f"its best arrangement fits the final squared distances with r ≥ {CUBE_MIN_FIT:g}",
    shape_test=f"{verdicts.rate_outcomes(True, CUBE_SHARE, CUBE_SOURCE)}.",
)

DECLARATION = Declaration(
    paper_ref="§3.2, Fig. 2",
    title="Multi-digit XOR: rank of the learned cube arrangement",
    claim=(
        "Trained on c = a XOR b for 3-bit a and b, the embedding forms a cube whose opposite faces differ in one bit, "
        "with an arrangement of the tokens that differs between seeds. The initial signal g(α) = Σ_{i<j} ‖E_i − E_j‖² α_ij "
        "of the learned arrangement is higher than that of random arrangements: across 100 seeds it ranks in the top "
        "10% of all 168 arrangements on average, with a standard deviation of 12%."
    ),
    paper_number=f"top {PAPER_MEAN:g}% on average, std {PAPER_STD:g}% ({PAPER_SEEDS} seeds, 30,000 steps)",
    verdict_rule=VERDICT_RULE,
    analysis=rank_stats.RankAnalysis,
)


def token_label(t: int, bits: int) -> str:
    """Token t as the paper writes it (bit j of t is coordinate j; most significant first)."""
    return format(t, f"0{bits}b")


# ---------------------------------------------------------------- per trial


def measure_trial(trial, bits: int) -> dict:
    E0, E1 = trial.result.initial_embedding, trial.result.final_embedding
    g0 = arrangement_scores(E0, bits)
    readout = learned_arrangement(E1, bits)
    fits = arrangement_fits(E1, bits)
    n = len(g0)
    control = int(
        rng(rank_stats.CONTROL_STREAM, int(trial.settings["seeds"]["embedding"])).integers(n)
    )
    _, alphas = arrangements(bits)
    upper = np.triu_indices(2**bits, k=1)
    _, alpha_class = np.unique(alphas[:, upper[0], upper[1]], axis=0, return_inverse=True)
    alpha_class = np.ravel(alpha_class)
    tied = np.flatnonzero(fits >= readout.fit - TIE_TOLERANCE)
    tied_tp = [top_percent(g0, g0[i]) for i in tied]
    return {
        "id": trial.id,
        "seed": int(trial.settings["seeds"]["embedding"]),
        "arrangement": readout.index,
        "fit": readout.fit,
        "shape": final_shape(E1, bits),
        "top_percent": top_percent(g0, g0[readout.index]),
        "control_arrangement": control,
        "control_top_percent": top_percent(g0, g0[control]),
        "tied_alphas": int(np.unique(alpha_class[tied]).size),
        "tied_top_percent_min": float(min(tied_tp)),
        "tied_top_percent_max": float(max(tied_tp)),
        **rank_stats.outcome(trial),
    }


# ---------------------------------------------------------------- figures


def _edges(index: int, bits: int) -> list[tuple[int, int]]:
    """The cube's edges under an arrangement: token pairs at squared cube distance 1."""
    _, alphas = arrangements(bits)
    a = alphas[index]
    p = a.shape[0]
    return [(i, j) for i in range(p) for j in range(i + 1, p) if a[i, j] == 1]


def figure_embeddings(trials, rows: dict, bits: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig = plt.figure(figsize=(9, 4.2 * len(trials)))
    p = 2**bits
    colours = plt.get_cmap("tab10")
    for k, t in enumerate(trials):
        r = rows[t.id]
        edges = _edges(r["arrangement"], bits)
        for c, (E, when) in enumerate(
            ((t.result.initial_embedding, "initial"), (t.result.final_embedding, "final"))
        ):
            ax = fig.add_subplot(len(trials), 2, 2 * k + c + 1, projection="3d")
            X = principal_components(E, 3)
            for i, j in edges:
                ax.plot(*X[[i, j]].T, color="0.55", lw=1)
            for i in range(
                p
            ):  # tokens told apart by colour (one key below): labels at close points would overlap
                ax.scatter(*X[i], s=30, color=colours(i), label=token_label(i, bits))
            ax.set_xlabel("PC 1", labelpad=-6)
            ax.set_ylabel("PC 2", labelpad=-6)
            ax.set_zlabel("PC 3", labelpad=-6)
            ax.tick_params(labelsize=8, pad=-2)
            if when == "initial":
                title = f"seed {r['seed']}: initial embedding\nlearned arrangement ranks top {formatting.fmt(r['top_percent'], 2)}%"
            else:
                title = f"seed {r['seed']}: final embedding ({r['shape'].replace('_', '-')})\nfit r = {formatting.fmt(r['fit'], 3)}"
            ax.set_title(title, fontsize=9)
    fig.legend(
        *ax.get_legend_handles_labels(), title="token", loc="lower center", ncol=p, frameon=False
    )
    return plotting.finish(
        fig,
        out_dir,
        "fig2a_embeddings.png",
        "Mirrors Fig. 2a. Initial (left) and final (right) embeddings, each projected on its own first three principal "
        "components, tokens coloured as in the key below (binary); grey lines join the tokens that share an edge of the learned cube "
        "arrangement (α = 1), drawn on the initial embedding too. One seed per final shape present (cube, "
        "cross-polytope, other), the one whose learned top-% lies nearest that shape's median, then the most typical "
        "of the rest up to the number of seeds asked for.",
        rect=(0, 0.7 / fig.get_figheight(), 1, 1),
    )


def figure_signal_histograms(trials, rows: dict, bits: int, out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    n = len(trials)
    fig, axes = plotting.panel_grid(plt, n, 2, 5, 3.4)
    for ax, t in zip(axes, trials):
        r = rows[t.id]
        g0 = arrangement_scores(t.result.initial_embedding, bits)
        ax.hist(g0, bins=40, color="0.7", label=f"all {len(g0)} arrangements")
        rank_figures.mark_learned_and_control(
            ax,
            g0[r["arrangement"]],
            g0[r["control_arrangement"]],
            f"learned (top {formatting.fmt(r['top_percent'], 2)}%)",
            f"random, control (top {formatting.fmt(r['control_top_percent'], 2)}%)",
        )
        ax.set_xlabel("initial signal g(α)")
        ax.set_ylabel("arrangements")
        ax.set_title(
            f"seed {r['seed']}: final {r['shape'].replace('_', '-')}, fit r = {formatting.fmt(r['fit'], 3)}"
        )
        plotting.count_axis(ax, 1.45)
        ax.legend(loc="upper left")
    return plotting.finish(
        fig,
        out_dir,
        "fig2b_signal_histograms.png",
        f"Mirrors Fig. 2b. Histogram of the initial signal g(α) of all 168 arrangements for {n} seeds (each of the 28 "
        "distinct α counts 6 times), with the learned arrangement (red) and the random control (blue, dashed) marked. "
        "Seeds chosen to be typical: those whose learned top-% lies nearest the median over all trials.",
    )


def figure_top_percent(rows: list[dict], out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    present = [s for s in SHAPES if any(r["shape"] == s for r in rows)]
    fig, axes = plotting.panel_grid(plt, 1 + len(present), 2, 5.5, 3.8)
    bins = np.linspace(0, 100, 21)
    rank_figures.top_percent_histogram(
        axes[0],
        [
            ("learned", [r["top_percent"] for r in rows], "C3"),
            ("random (control)", [r["control_top_percent"] for r in rows], "C0"),
        ],
        PAPER_MEAN,
        PAPER_STD,
        bins,
    )
    axes[0].set_title(f"All trials (n = {len(rows)})")
    for ax, shape in zip(axes[1:], present):
        sub = [r for r in rows if r["shape"] == shape]
        rank_figures.top_percent_histogram(
            ax,
            [
                ("learned", [r["top_percent"] for r in sub], "C3"),
                ("random (control)", [r["control_top_percent"] for r in sub], "C0"),
            ],
            PAPER_MEAN,
            PAPER_STD,
            bins,
        )
        ax.set_title(f"Final shape: {shape.replace('_', '-')} (n = {len(sub)})")
    return plotting.finish(
        fig,
        out_dir,
        "top_percent.png",
        "Distribution of the top-% of the learned arrangement's initial signal among all 168 (0 = highest), against a "
        "random arrangement per trial, overall and per final shape; the grey band is the paper's mean ± std (§3.2, "
        "Fig. 2b's summary statistic).",
    )


def figure_fit(rows: list[dict], out_dir: Path) -> Figure:
    plt = plotting.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    colours = {"cube": "C2", "cross_polytope": "C1", "other": "C7"}
    low = min(0.7, math.floor(20 * min(r["fit"] for r in rows)) / 20)
    bins = np.linspace(low, 1.0, int(round((1.0 - low) / 0.01)) + 1)
    for shape in SHAPES:
        sub = [r for r in rows if r["shape"] == shape]
        if sub:
            axes[0].hist(
                [r["fit"] for r in sub],
                bins=bins,
                color=colours[shape],
                alpha=0.8,
                label=f"{shape.replace('_', '-')} (n = {len(sub)})",
            )
            axes[1].scatter(
                [r["fit"] for r in sub],
                [r["top_percent"] for r in sub],
                s=18,
                color=colours[shape],
                label=shape.replace("_", "-"),
            )
    axes[0].axvline(
        CUBE_MIN_FIT, color="k", ls="--", lw=1, label=f"cube threshold r = {CUBE_MIN_FIT:g}"
    )
    axes[0].set_xlabel("fit r of the best arrangement to the final squared distances")
    axes[0].set_ylabel("trials")
    from matplotlib.ticker import MaxNLocator

    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend()
    axes[1].set_xlabel("fit r of the best arrangement")
    axes[1].set_ylabel("top-% of the learned arrangement (initial)")
    axes[1].set_ylim(-2, 100)
    axes[1].legend()
    return plotting.finish(
        fig,
        out_dir,
        "final_shape.png",
        "How much of a cube the final embedding is (Fig. 2a shows cubes): the Pearson r between the best arrangement's "
        "α and the final squared distances, coloured by final shape (left), and against the learned arrangement's "
        "top-% (right).",
    )


# ---------------------------------------------------------------- measure


CLAIM_NAMES = (RANK_CLAIM, SHAPE_CLAIM)


@dataclass(kw_only=True)
class XorRankMeasured(Measured):
    """The numbers of an XOR rank run."""

    bits: int = 0
    rows: list = field(default_factory=list)  # measure_trial of each valid trial
    stats: dict = field(
        default_factory=dict
    )  # {group: (rank_stats.stats_of learned top-%, rank_stats.stats_of control top-%)}: all, shapes, outcome
    n_cubes: int = 0
    cubes_ci: tuple = (float("nan"), float("nan"))  # Wilson 95% CI of the share of cubes
    mann_whitney: dict = field(
        default_factory=dict
    )  # learned against control, one-sided, over all valid trials
    shape_tests: dict = field(
        default_factory=dict
    )  # {shape: the same within that final shape}, shapes with ≥ 2 trials


def _groups(rows: list[dict]) -> dict:
    """The trials every statistic is given for: all, each final shape, and by whether they generalised."""
    return {
        "all": rows,
        **{s: [r for r in rows if r["shape"] == s] for s in SHAPES},
        "generalised": [r for r in rows if r["generalised"]],
        "not_generalised": [r for r in rows if not r["generalised"]],
    }


def measure(trials, options) -> XorRankMeasured:
    """Each valid trial's learned arrangement ranked on its initial embedding, against a random one, and the two claims."""
    m = writeup.begin(
        trials, CLAIM_NAMES, options or rank_stats.RankAnalysis(), cls=XorRankMeasured
    )
    if not m.assessable:
        return m
    m.bits = int(m.valid[0].settings["task"]["bits"])
    m.rows = rows = [measure_trial(t, m.bits) for t in m.valid]
    m.stats = {
        name: (
            rank_stats.stats_of([r["top_percent"] for r in sub]),
            rank_stats.stats_of([r["control_top_percent"] for r in sub]),
        )
        for name, sub in _groups(rows).items()
    }
    m.n_cubes = sum(r["shape"] == "cube" for r in rows)
    rank, rank_info = verdicts.rank_claim(
        [r["top_percent"] for r in rows],
        [r["control_top_percent"] for r in rows],
        PAPER_MEAN,
        PAPER_STD,
        PAPER_SEEDS,
        RANK_CLAIM,
    )
    m.claims = [
        rank,
        verdicts.share_claim(SHAPE_CLAIM, m.n_cubes, len(rows), "cubes", CUBE_SHARE, CUBE_SOURCE),
    ]
    m.mann_whitney = rank_info["mann_whitney"]
    m.cubes_ci = inference.share_ci(m.n_cubes, len(rows))
    for s in SHAPES:
        sub = [r for r in rows if r["shape"] == s]
        if len(sub) >= 2:
            m.shape_tests[s] = inference.mann_whitney_less(
                [r["top_percent"] for r in sub], [r["control_top_percent"] for r in sub]
            )
    return m


# ---------------------------------------------------------------- write


def write(m: XorRankMeasured, record: dict, out_dir: Path) -> Section:
    """The section: the rank against the paper's, per final shape, the ambiguous read-offs, and the figures."""
    if not m.assessable:
        return writeup.section(
            m, record, deviations=rank_stats.seed_deviations(m.trials, PAPER_SEEDS)
        )
    rows, n = m.rows, len(m.valid)
    s_all, s_control = m.stats["all"]
    shape_counts = ", ".join(f"{m.stats[s][0]['n']} {s.replace('_', '-')}" for s in SHAPES)
    cube_lo, cube_hi = m.cubes_ci
    our = (
        f"learned arrangement's initial signal in the top {formatting.fmt(s_all['mean'])}% on average, std {formatting.fmt(s_all['std'])}% "
        f"({n} seeds, {'/'.join(map(str, writeup.steps_of(m.valid)))} steps; final shapes: {shape_counts}); random control "
        f"{formatting.fmt(s_control['mean'])}% ± {formatting.fmt(s_control['std'])}%; {sum(r['generalised'] for r in rows)}/{n} generalised; "
        f"cubes {formatting.fmt(100 * m.n_cubes / len(rows))}% (95% CI {formatting.fmt(100 * cube_lo)}–{formatting.fmt(100 * cube_hi)}%)"
    )
    n_arr = len(arrangements(m.bits)[0])
    ran = writeup.profile_lines(record, m.trials) + [
        f"Task c = a XOR b on {m.bits}-bit tokens (p = {2**m.bits}); every trial has its own embedding, MLP and split seed.",
        f"Per trial: the learned arrangement from the final embedding; g ranked among all {n_arr} arrangements on the initial "
        f"embedding; a random control arrangement per trial, drawn from the seed stream `{rank_stats.CONTROL_STREAM}` at the trial's "
        "embedding seed.",
    ]
    n_hist, n_emb = m.options.histogram_seeds, m.options.embedding_seeds
    by_id = {r["id"]: r for r in rows}
    figures = [
        figure_embeddings(_examples(m.valid, by_id, n_emb), by_id, m.bits, out_dir),
        figure_signal_histograms(
            inference.typical(m.valid, lambda t: by_id[t.id]["top_percent"], n_hist),
            by_id,
            m.bits,
            out_dir,
        ),
        figure_top_percent(rows, out_dir),
        figure_fit(rows, out_dir),
    ]
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=ran,
        deviations=_deviations(m),
        findings=_findings(m),
        figures=figures,
        summary=_summary(m),
        short_number=rank_stats.short_number(s_all, s_control, n)
        + f"; cubes {m.n_cubes}/{len(rows)}",
    )


def _deviations(m: XorRankMeasured) -> list[str]:
    n_arr = len(arrangements(m.bits)[0])
    _, alphas = arrangements(m.bits)
    upper = np.triu_indices(2**m.bits, k=1)
    n_distinct = len(np.unique(alphas[:, upper[0], upper[1]], axis=0))
    return rank_stats.seed_deviations(m.valid, PAPER_SEEDS) + [
        f"Rank over all {n_arr} invertible matrices M over GF(2), as the paper counts them ({writeup.method('signals')}): they give only "
        f"{n_distinct} distinct α (each shared by {n_arr // n_distinct} axis orders, which score identically). Top-% = 100 · "
        f"#(arrangements with g strictly greater) / {n_arr}, so ties do not push the learned one down and the possible "
        f"values are multiples of {formatting.fmt(100 * (n_arr // n_distinct) / n_arr, 3)}%.",
        f"Read-off ({writeup.method('read-offs')}, ours): the arrangement whose α has the highest Pearson r (over i < j) with the final squared "
        "distances; the paper does not say how it reads the arrangement off.",
        f'Final shape ({writeup.method("read-offs")}, ours; readout.final_shape): "cube" when that fit r ≥ {CUBE_MIN_FIT:g}; "cross-polytope" '
        'when the tokens form antipodal pairs roughly equidistant from all others; "other" otherwise. On a '
        f"cross-polytope several distinct α fit alike; the number within {TIE_TOLERANCE:g} of the best fit and the range of "
        "their top-% are reported.",
        "The random control is ours; the paper has none.",
        rank_stats.GENERALISED_NOTE,
        *writeup.common_deviations(m.valid),
        writeup.STATISTICS_NOTE + rank_stats.TEST_NOTE,
    ]


def _findings(m: XorRankMeasured) -> list[str]:
    rows, n = m.rows, len(m.valid)
    groups = _groups(rows)
    names = {
        "all": "all",
        **{s: s.replace("_", "-") for s in SHAPES},
        "generalised": "generalised",
        "not_generalised": "never 100% test accuracy",
    }
    table = formatting.md_table(
        [
            "trials",
            "n",
            "top-% learned: mean ± std",
            "95% CI",
            "median",
            "control: mean ± std",
            "fit r: mean (min)",
        ],
        [
            [
                names[g],
                s["n"],
                f"{formatting.fmt(s['mean'])} ± {formatting.fmt(s['std'])}" if s["n"] else "–",
                rank_stats.ci_text(s),
                formatting.fmt(s["median"]) if s["n"] else "–",
                f"{formatting.fmt(c['mean'])} ± {formatting.fmt(c['std'])}" if c["n"] else "–",
                f"{formatting.fmt(np.mean([r['fit'] for r in sub]), 3)} ({formatting.fmt(min(r['fit'] for r in sub), 3)})"
                if sub
                else "–",
            ]
            for g, sub in groups.items()
            for s, c in [m.stats[g]]
        ],
    )
    shape_tests = [
        f"{s.replace('_', '-')}: Mann–Whitney U = {formatting.fmt(mw['u'])}, one-sided {formatting.fmt_p(mw['p'])} (n = {m.stats[s][0]['n']})"
        for s, mw in m.shape_tests.items()
    ]
    ambiguous = [r for r in rows if r["tied_alphas"] > 1]
    shape_counts = ", ".join(f"{m.stats[s][0]['n']} {s.replace('_', '-')}" for s in SHAPES)
    s_all = m.stats["all"][0]
    return [
        f"Top-% of the learned arrangement among all {len(arrangements(m.bits)[0])} on the initial embedding (0 = highest "
        f"signal); paper: {PAPER_MEAN:g} ± {PAPER_STD:g} over {PAPER_SEEDS} seeds. Final shapes: {shape_counts}.",
        table,
        f"The paper's mean {PAPER_MEAN:g} lies {'inside' if rank_stats.paper_in_ci(s_all, PAPER_MEAN) else 'outside'} our 95% "
        f"confidence interval of the mean {rank_stats.ci_text(s_all)}.",
        ("Learned against control within each final shape: " + "; ".join(shape_tests) + ".")
        if shape_tests
        else "No final shape has two or more trials to test learned against control within it.",
        f"Ambiguous read-offs: {len(ambiguous)} of {n} trials have more than one distinct α within {TIE_TOLERANCE:g} "
        f"of the best fit ({_tie_counts(ambiguous)})."
        + (
            f" Over their tied α the top-% spans {formatting.fmt(np.mean([r['tied_top_percent_min'] for r in ambiguous]))} (best tied α) to "
            f"{formatting.fmt(np.mean([r['tied_top_percent_max'] for r in ambiguous]))} (worst) on average, against "
            f"{formatting.fmt(np.mean([r['top_percent'] for r in ambiguous]))} for the one the read-off picks."
            if ambiguous
            else ""
        ),
        f"Generalisation: {len(groups['generalised'])} of {n} trials reached 100% test accuracy "
        f"({sum(r['held_to_end'] for r in rows)} were at 100% at the last step)"
        + (
            "; those that never did are in the table above and in the headline number."
            if groups["not_generalised"]
            else "."
        ),
        _per_trial_table(rows, m.bits),
        *writeup.health_findings(m.trials),
    ]


def _summary(m: XorRankMeasured) -> dict:
    rows, n = m.rows, len(m.valid)
    return {
        **rank_stats.common_summary(rows, m.mann_whitney, *m.stats["all"]),
        "cubes": {"k": m.n_cubes, "n": len(rows), "wilson95": list(m.cubes_ci)},
        "claims": {c.name: c.verdict for c in m.claims},
        "valid": n,
        "excluded_trials": len(m.trials) - n,
        "per_shape": {
            s: {
                "n": m.stats[s][0]["n"],
                "top_percent": m.stats[s][0],
                "control_top_percent": m.stats[s][1],
            }
            for s in SHAPES
        },
        "ambiguous": sum(r["tied_alphas"] > 1 for r in rows),
        "per_trial": rows,
    }


def _tie_counts(ambiguous: list[dict]) -> str:
    counts = {}
    for r in ambiguous:
        counts[r["tied_alphas"]] = counts.get(r["tied_alphas"], 0) + 1
    return (
        ", ".join(
            f"{n} trial{'' if n == 1 else 's'} with {k} tied α" for k, n in sorted(counts.items())
        )
        or "none"
    )


def _examples(trials, rows: dict, n: int) -> list:
    """Trials for Fig. 2a: per final shape present (cube first), the typical one (top-% nearest that shape's median);
    then, up to n in all, the next nearest the overall median."""
    chosen = []
    for shape in SHAPES:  # every shape present is shown, even when that is more than n
        chosen += inference.typical(
            [t for t in trials if rows[t.id]["shape"] == shape],
            lambda t: rows[t.id]["top_percent"],
            1,
        )
    rest = [
        t
        for t in inference.typical(trials, lambda t: rows[t.id]["top_percent"], len(trials))
        if t not in chosen
    ]
    return chosen + rest[: max(0, n - len(chosen))]


def _per_trial_table(rows: list[dict], bits: int) -> str:
    body = [
        [
            f"`{r['id'][:12]}`",
            r["seed"],
            r["shape"].replace("_", "-"),
            formatting.fmt(r["fit"], 3),
            str(r["arrangement"]),
            formatting.fmt(r["top_percent"], 3),
            formatting.fmt(r["control_top_percent"], 3),
            str(r["tied_alphas"]),
            rank_stats.convergence_cell(r),
            formatting.fmt(r["final_test_acc"], 4),
        ]
        for r in rows
    ]
    return rank_stats.per_trial_table(
        [
            "trial",
            "seed",
            "final shape",
            "fit r",
            "arrangement",
            "top-%",
            "control top-%",
            "tied α",
            "100% test acc. at step",
            "final test acc.",
        ],
        body,
    )
