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
from pathlib import Path

import numpy as np

from cinit_tf.readout import CUBE_MIN_FIT, arrangement_fits, final_shape, learned_arrangement, principal_components
from cinit_tf.section import Declaration, Figure, Section
from cinit_tf.seeds import rng
from cinit_tf.signals import arrangement_scores, arrangements, top_percent
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _rank as R
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V

PAPER_MEAN, PAPER_STD, PAPER_SEEDS = 10.0, 12.0, 100
SHAPES = ("cube", "cross_polytope", "other")
# Arrangements whose fit is within this of the best are "tied" read-offs (exact ties for α shared by
# several matrices are always there; on a cross-polytope 4 distinct α tie up to noise).
TIE_TOLERANCE = 0.01

RANK_CLAIM = "the learned arrangement ranks high at initialisation"
SHAPE_CLAIM = "the final embedding is a cube"
VERDICT_RULE = R.verdict_rule(
    PAPER_MEAN, PAPER_STD, PAPER_SEEDS, learned="arrangement's initial signal among all 168 arrangements, whatever the final shape",
    shape=f"the paper's final embeddings are cubes (Fig. 2a; no share given, so we read it as most runs); a run is a cube when "
          f"its best arrangement fits the final squared distances with r ≥ {CUBE_MIN_FIT:g}",
    shape_test=f"reproduced when cubes are the majority (exact binomial test of the share against ½, p < {R.ALPHA:g}, Wilson "
               "95% CI); a share above ½ but not significantly → partly; at or below ½ → not reproduced.")

DECLARATION = Declaration(
    paper_ref="§3.2, Fig. 2",
    order=2,
    title="Multi-digit XOR: rank of the learned cube arrangement",
    claim=("Trained on c = a XOR b for 3-bit a and b, the embedding forms a cube whose opposite faces differ in one bit, "
           "with an arrangement of the tokens that differs between seeds. The initial signal g(α) = Σ_{i<j} ‖E_i − E_j‖² α_ij "
           "of the learned arrangement is higher than that of random arrangements: across 100 seeds it ranks in the top "
           "10% of all 168 arrangements on average, with a standard deviation of 12%."),
    paper_number=f"top {PAPER_MEAN:g}% on average, std {PAPER_STD:g}% ({PAPER_SEEDS} seeds, 30,000 steps)",
    verdict_rule=VERDICT_RULE,
    analysis=R.RankAnalysis,
)


def token_label(t: int, bits: int) -> str:
    """Token t as the paper writes it (bit j of t is coordinate j; most significant first)."""
    return format(t, f"0{bits}b")


# ---------------------------------------------------------------- per trial


def analyse_trial(trial, bits: int) -> dict:
    E0, E1 = trial.result.initial_embedding, trial.result.final_embedding
    g0 = arrangement_scores(E0, bits)
    readout = learned_arrangement(E1, bits)
    fits = arrangement_fits(E1, bits)
    n = len(g0)
    control = int(rng(R.CONTROL_STREAM, int(trial.settings["seeds"]["embedding"])).integers(n))
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
        **R.outcome(trial),
    }


# ---------------------------------------------------------------- figures


def _edges(index: int, bits: int) -> list[tuple[int, int]]:
    """The cube's edges under an arrangement: token pairs at squared cube distance 1."""
    _, alphas = arrangements(bits)
    a = alphas[index]
    p = a.shape[0]
    return [(i, j) for i in range(p) for j in range(i + 1, p) if a[i, j] == 1]


def figure_embeddings(trials, rows: dict, bits: int, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig = plt.figure(figsize=(9, 4.2 * len(trials)))
    p = 2**bits
    colours = plt.get_cmap("tab10")
    for k, t in enumerate(trials):
        r = rows[t.id]
        edges = _edges(r["arrangement"], bits)
        for c, (E, when) in enumerate(((t.result.initial_embedding, "initial"), (t.result.final_embedding, "final"))):
            ax = fig.add_subplot(len(trials), 2, 2 * k + c + 1, projection="3d")
            X = principal_components(E, 3)
            for i, j in edges:
                ax.plot(*X[[i, j]].T, color="0.55", lw=1)
            for i in range(p):
                ax.scatter(*X[i], s=30, color=colours(i))
                ax.text(*X[i], " " + token_label(i, bits), fontsize=8, color=colours(i))
            ax.set_xlabel("PC 1", labelpad=-6)
            ax.set_ylabel("PC 2", labelpad=-6)
            ax.set_zlabel("PC 3", labelpad=-6)
            ax.tick_params(labelsize=8, pad=-2)
            if when == "initial":
                title = f"seed {r['seed']}: initial embedding\nlearned arrangement ranks top {C.fmt(r['top_percent'], 2)}%"
            else:
                title = f"seed {r['seed']}: final embedding ({r['shape'].replace('_', '-')})\nfit r = {C.fmt(r['fit'], 3)}"
            ax.set_title(title, fontsize=9)
    return G.finish(fig, out_dir, "fig2a_embeddings.png",
                  "Mirrors Fig. 2a. Initial (left) and final (right) embeddings, each projected on its own first three principal "
                  "components, tokens labelled in binary; grey lines join the tokens that share an edge of the learned cube "
                  "arrangement (α = 1), drawn on the initial embedding too. Seeds chosen to be typical: per final shape, the "
                  "one whose learned top-% lies nearest that shape's median.")


def figure_signal_histograms(trials, rows: dict, bits: int, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    n = len(trials)
    fig, axes = G.panel_grid(plt, n, 2, 5, 3.4)
    for ax, t in zip(axes, trials):
        r = rows[t.id]
        g0 = arrangement_scores(t.result.initial_embedding, bits)
        ax.hist(g0, bins=40, color="0.7", label=f"all {len(g0)} arrangements")
        R.mark_learned_and_control(ax, g0[r["arrangement"]], g0[r["control_arrangement"]],
                                 f"learned (top {C.fmt(r['top_percent'], 2)}%)",
                                 f"random, control (top {C.fmt(r['control_top_percent'], 2)}%)")
        ax.set_xlabel("initial signal g(α)")
        ax.set_ylabel("arrangements")
        ax.set_title(f"seed {r['seed']}: final {r['shape'].replace('_', '-')}, fit r = {C.fmt(r['fit'], 3)}")
        G.count_axis(ax, 1.45)
        ax.legend(loc="upper left")
    return G.finish(fig, out_dir, "fig2b_signal_histograms.png",
                  f"Mirrors Fig. 2b. Histogram of the initial signal g(α) of all 168 arrangements for {n} seeds (each of the 28 "
                  "distinct α counts 6 times), with the learned arrangement (red) and the random control (blue, dashed) marked. "
                  "Seeds chosen to be typical: those whose learned top-% lies nearest the median over all trials.")


def figure_top_percent(rows: list[dict], out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    present = [s for s in SHAPES if any(r["shape"] == s for r in rows)]
    fig, axes = G.panel_grid(plt, 1 + len(present), 2, 5.5, 3.8)
    bins = np.linspace(0, 100, 21)
    R.top_percent_histogram(axes[0], [
        ("learned", [r["top_percent"] for r in rows], "C3"),
        ("random (control)", [r["control_top_percent"] for r in rows], "C0"),
    ], PAPER_MEAN, PAPER_STD, bins)
    axes[0].set_title(f"All trials (n = {len(rows)})")
    for ax, shape in zip(axes[1:], present):
        sub = [r for r in rows if r["shape"] == shape]
        R.top_percent_histogram(ax, [
            ("learned", [r["top_percent"] for r in sub], "C3"),
            ("random (control)", [r["control_top_percent"] for r in sub], "C0"),
        ], PAPER_MEAN, PAPER_STD, bins)
        ax.set_title(f"Final shape: {shape.replace('_', '-')} (n = {len(sub)})")
    return G.finish(fig, out_dir, "top_percent.png",
                  "Distribution of the top-% of the learned arrangement's initial signal among all 168 (0 = highest), against a "
                  "random arrangement per trial, overall and per final shape; the grey band is the paper's mean ± std (§3.2, "
                  "Fig. 2b's summary statistic).")


def figure_fit(rows: list[dict], out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    colours = {"cube": "C2", "cross_polytope": "C1", "other": "C7"}
    low = min(0.7, math.floor(20 * min(r["fit"] for r in rows)) / 20)
    bins = np.linspace(low, 1.0, int(round((1.0 - low) / 0.01)) + 1)
    for shape in SHAPES:
        sub = [r for r in rows if r["shape"] == shape]
        if sub:
            axes[0].hist([r["fit"] for r in sub], bins=bins, color=colours[shape], alpha=0.8, label=f"{shape.replace('_', '-')} (n = {len(sub)})")
            axes[1].scatter([r["fit"] for r in sub], [r["top_percent"] for r in sub], s=18, color=colours[shape], label=shape.replace("_", "-"))
    axes[0].axvline(CUBE_MIN_FIT, color="k", ls="--", lw=1, label=f"cube threshold r = {CUBE_MIN_FIT:g}")
    axes[0].set_xlabel("fit r of the best arrangement to the final squared distances")
    axes[0].set_ylabel("trials")
    from matplotlib.ticker import MaxNLocator

    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend()
    axes[1].set_xlabel("fit r of the best arrangement")
    axes[1].set_ylabel("top-% of the learned arrangement (initial)")
    axes[1].set_ylim(-2, 100)
    axes[1].legend()
    return G.finish(fig, out_dir, "final_shape.png",
                  "How much of a cube the final embedding is (Fig. 2a shows cubes): the Pearson r between the best arrangement's "
                  "α and the final squared distances, coloured by final shape (left), and against the learned arrangement's "
                  "top-% (right).")


# ---------------------------------------------------------------- analysis


def analyse(record: dict, trials: list, out_dir: Path) -> Section:
    out_dir = Path(out_dir)
    options = C.analysis_of(record, R.RankAnalysis)
    all_trials = sorted(trials, key=lambda t: t.id)
    trials, excluded = C.split_valid(all_trials)
    if not V.assessable(len(trials), len(all_trials), R.MIN_VALID_SHARE):
        return C.unassessable_section(record, all_trials, trials, excluded, [RANK_CLAIM, SHAPE_CLAIM],
                                      R.seed_deviations(all_trials, PAPER_SEEDS), R.MIN_VALID_SHARE)
    bits = int(trials[0].settings["task"]["bits"])
    rows_list = [analyse_trial(t, bits) for t in trials]
    rows = {r["id"]: r for r in rows_list}
    n_arr = len(arrangements(bits)[0])
    _, alphas = arrangements(bits)
    upper = np.triu_indices(2**bits, k=1)
    n_distinct = len(np.unique(alphas[:, upper[0], upper[1]], axis=0))

    learned = [r["top_percent"] for r in rows_list]
    control = [r["control_top_percent"] for r in rows_list]
    s_all, s_control = R.stats_of(learned), R.stats_of(control)
    per_shape = {s: [r for r in rows_list if r["shape"] == s] for s in SHAPES}
    gen = [r for r in rows_list if r["generalised"]]
    not_gen = [r for r in rows_list if not r["generalised"]]
    rank, rank_info = V.rank_claim(learned, control, PAPER_MEAN, PAPER_STD, PAPER_SEEDS, RANK_CLAIM)
    n_cubes = len(per_shape["cube"])
    shape = V.share_claim(SHAPE_CLAIM, n_cubes, len(rows_list), "cubes")
    claims = [rank, shape]
    cube_lo, cube_hi = C.wilson_ci(n_cubes, len(rows_list))
    steps = C.steps_of(trials)
    shape_counts = ", ".join(f"{len(per_shape[s])} {s.replace('_', '-')}" for s in SHAPES)

    our = (f"learned arrangement's initial signal in the top {C.fmt(s_all['mean'])}% on average, std {C.fmt(s_all['std'])}% "
           f"({len(trials)} seeds, {'/'.join(map(str, steps))} steps; final shapes: {shape_counts}); random control "
           f"{C.fmt(s_control['mean'])}% ± {C.fmt(s_control['std'])}%; {len(gen)}/{len(trials)} generalised; cubes "
           f"{C.fmt(100 * n_cubes / len(rows_list))}% (95% CI {C.fmt(100 * cube_lo)}–{C.fmt(100 * cube_hi)}%)")
    short = R.short_number(s_all, s_control, len(trials)) + f"; cubes {n_cubes}/{len(rows_list)}"

    ran = C.profile_lines(record, all_trials)
    ran += [
        f"Task c = a XOR b on {bits}-bit tokens (p = {2**bits}); every trial has its own embedding, MLP and split seed.",
        f"Per trial: the learned arrangement from the final embedding; g ranked among all {n_arr} arrangements on the initial "
        f"embedding; a random control arrangement per trial, drawn from the seed stream `{R.CONTROL_STREAM}` at the trial's "
        "embedding seed.",
    ]
    deviations = R.seed_deviations(trials, PAPER_SEEDS) + [
        f"Rank over all {n_arr} invertible matrices M over GF(2), as the paper counts them ({C.method('signals')}): they give only "
        f"{n_distinct} distinct α (each shared by {n_arr // n_distinct} axis orders, which score identically). Top-% = 100 · "
        f"#(arrangements with g strictly greater) / {n_arr}, so ties do not push the learned one down and the possible "
        f"values are multiples of {C.fmt(100 * (n_arr // n_distinct) / n_arr, 3)}%.",
        f"Read-off ({C.method('read-offs')}, ours): the arrangement whose α has the highest Pearson r (over i < j) with the final squared "
        "distances; the paper does not say how it reads the arrangement off.",
        f"Final shape ({C.method('read-offs')}, ours; readout.final_shape): \"cube\" when that fit r ≥ {CUBE_MIN_FIT:g}; \"cross-polytope\" "
        "when the tokens form antipodal pairs roughly equidistant from all others; \"other\" otherwise. On a "
        f"cross-polytope several distinct α fit alike; the number within {TIE_TOLERANCE:g} of the best fit and the range of "
        "their top-% are reported.",
        "The random control is ours; the paper has none.",
        R.GENERALISED_NOTE,
        *C.common_deviations(trials),
        C.STATISTICS_NOTE + R.TEST_NOTE,
    ]

    table_rows = [["all", s_all, R.stats_of([r["control_top_percent"] for r in rows_list]), rows_list]]
    for s in SHAPES:
        sub = per_shape[s]
        table_rows.append([s.replace("_", "-"), R.stats_of([r["top_percent"] for r in sub]),
                           R.stats_of([r["control_top_percent"] for r in sub]), sub])
    table_rows.append(["generalised", R.stats_of([r["top_percent"] for r in gen]), R.stats_of([r["control_top_percent"] for r in gen]), gen])
    table_rows.append(["never 100% test accuracy", R.stats_of([r["top_percent"] for r in not_gen]),
                       R.stats_of([r["control_top_percent"] for r in not_gen]), not_gen])
    table = C.md_table(
        ["trials", "n", "top-% learned: mean ± std", "95% CI", "median", "control: mean ± std", "fit r: mean (min)"],
        [[name, s["n"], f"{C.fmt(s['mean'])} ± {C.fmt(s['std'])}" if s["n"] else "–", R.ci_text(s),
          C.fmt(s["median"]) if s["n"] else "–", f"{C.fmt(c['mean'])} ± {C.fmt(c['std'])}" if c["n"] else "–",
          f"{C.fmt(np.mean([r['fit'] for r in sub]), 3)} ({C.fmt(min(r['fit'] for r in sub), 3)})" if sub else "–"]
         for name, s, c, sub in table_rows])
    shape_tests = []
    for s in SHAPES:
        sub = per_shape[s]
        if len(sub) >= 2:
            mw = S.mann_whitney_less([r["top_percent"] for r in sub], [r["control_top_percent"] for r in sub])
            shape_tests.append(f"{s.replace('_', '-')}: Mann–Whitney U = {C.fmt(mw['u'])}, one-sided {C.fmt_p(mw['p'])} (n = {len(sub)})")
    ambiguous = [r for r in rows_list if r["tied_alphas"] > 1]
    findings = [
        f"Top-% of the learned arrangement among all {n_arr} on the initial embedding (0 = highest signal); paper: "
        f"{PAPER_MEAN:g} ± {PAPER_STD:g} over {PAPER_SEEDS} seeds. Final shapes: {shape_counts}.",
        table,
        f"The paper's mean {PAPER_MEAN:g} lies {'inside' if R.paper_in_ci(s_all, PAPER_MEAN) else 'outside'} our 95% confidence interval of the mean {R.ci_text(s_all)}.",
        ("Learned against control within each final shape: " + "; ".join(shape_tests) + ".") if shape_tests else
        "No final shape has two or more trials to test learned against control within it.",
        f"Ambiguous read-offs: {len(ambiguous)} of {len(trials)} trials have more than one distinct α within {TIE_TOLERANCE:g} "
        f"of the best fit ({_tie_counts(ambiguous)})."
        + (f" Over their tied α the top-% spans {C.fmt(np.mean([r['tied_top_percent_min'] for r in ambiguous]))} (best tied α) to "
           f"{C.fmt(np.mean([r['tied_top_percent_max'] for r in ambiguous]))} (worst) on average, against "
           f"{C.fmt(np.mean([r['top_percent'] for r in ambiguous]))} for the one the read-off picks." if ambiguous else ""),
        f"Generalisation: {len(gen)} of {len(trials)} trials reached 100% test accuracy "
        f"({sum(r['held_to_end'] for r in rows_list)} were at 100% at the last step)"
        + ("; those that never did are in the table above and in the headline number." if not_gen else "."),
        _per_trial_table(rows_list, bits),
        *C.health_findings(all_trials),
    ]

    n_hist, n_emb = options.histogram_seeds, options.embedding_seeds
    figures = [
        figure_embeddings(_examples(trials, rows, n_emb), rows, bits, out_dir),
        figure_signal_histograms(C.typical(trials, lambda t: rows[t.id]["top_percent"], n_hist), rows, bits, out_dir),
        figure_top_percent(rows_list, out_dir),
        figure_fit(rows_list, out_dir),
    ]

    return Section(
        our_number=our,
        verdict=V.headline(claims),
        what_we_ran=ran,
        deviations=deviations,
        findings=findings,
        figures=figures,
        summary={
            **R.common_summary(rows_list, rank_info["mann_whitney"], s_all, s_control),
            "cubes": {"k": n_cubes, "n": len(rows_list), "wilson95": [cube_lo, cube_hi]},
            "claims": {c.name: c.verdict for c in claims}, "valid": len(trials), "excluded_trials": len(all_trials) - len(trials),
            "per_shape": {s: {"n": len(per_shape[s]), "top_percent": R.stats_of([r["top_percent"] for r in per_shape[s]]),
                              "control_top_percent": R.stats_of([r["control_top_percent"] for r in per_shape[s]])} for s in SHAPES},
            "ambiguous": len(ambiguous), "per_trial": rows_list,
        },
        short_number=short,
        claims=claims,
        excluded=C.exclusion_lines(len(all_trials), excluded),
    )


def _tie_counts(ambiguous: list[dict]) -> str:
    counts = {}
    for r in ambiguous:
        counts[r["tied_alphas"]] = counts.get(r["tied_alphas"], 0) + 1
    return ", ".join(f"{n} trial{'' if n == 1 else 's'} with {k} tied α" for k, n in sorted(counts.items())) or "none"


def _examples(trials, rows: dict, n: int) -> list:
    """Trials for Fig. 2a: per final shape (cube first), the typical one (top-% nearest that shape's median); then
    the next nearest the overall median."""
    chosen = []
    for shape in SHAPES:
        chosen += C.typical([t for t in trials if rows[t.id]["shape"] == shape], lambda t: rows[t.id]["top_percent"], 1)
    chosen += [t for t in C.typical(trials, lambda t: rows[t.id]["top_percent"], len(trials)) if t not in chosen]
    return chosen[:n]


def _per_trial_table(rows: list[dict], bits: int) -> str:
    body = [[f"`{r['id'][:12]}`", r["seed"], r["shape"].replace("_", "-"), C.fmt(r["fit"], 3), str(r["arrangement"]),
             C.fmt(r["top_percent"], 3), C.fmt(r["control_top_percent"], 3), str(r["tied_alphas"]), R.convergence_cell(r),
             C.fmt(r["final_test_acc"], 4)] for r in rows]
    return R.per_trial_table(["trial", "seed", "final shape", "fit r", "arrangement", "top-%", "control top-%", "tied α",
                            "100% test acc. at step", "final test acc."], body)
