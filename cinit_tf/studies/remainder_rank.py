"""§3.1, Fig. 1: remainder equivalence — does the learned order of the clusters rank high at initialisation?

The paper's claim: after training on 1[a ≡ b (mod m)] the tokens cluster by remainder along a
line, in an order q that differs between seeds; the initial signal
f(q) = Σ_{i<j} ‖Ē_{q_i} − Ē_{q_j}‖² (j − i) of the learned q ranks in the top 15% of all m!
orders on average (std 22%, 100 seeds).

Per trial: q read off the final embedding (docs/method.md#read-offs: the centres' order along their first
principal component, q and reversed q as one) and the share of the centres' variance on that
component; the top-% of f(q) among all m! orders on the *initial* embedding; the same for a
random order drawn per trial (the control); whether the trial reached 100% test accuracy.

Two baselines stand beside the learned order: a random order per trial (the control), and the order
of the *initial* centres along their own first principal component ("nothing moved": the order a
read-off would give had training not moved the centres).

The output head: two logits by default (`task.head = "two"`); the paper's App. A says an output
layer of dimension p, which a second case (`task.head = "p"`) runs on a few seeds. The claims are
judged on the trials of the main head (the most common one in the run); the other head's numbers
stand beside them.

Verdict rule (fixed here, before any numbers): see VERDICT_RULE, declared in DECLARATION.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cinit_tf.readout import canonical_permutation, learned_permutation, permutation_index, principal_components
from cinit_tf.section import Declaration, Figure, Section
from cinit_tf.seeds import rng
from cinit_tf.signals import cluster_centres, permutation_scores, top_percent
from cinit_tf.studies import _common as C
from cinit_tf.studies import _figures as G
from cinit_tf.studies import _rank as R
from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V

PAPER_MEAN, PAPER_STD, PAPER_SEEDS = 15.0, 22.0, 100
LINE_LIKE = 0.9  # a variance share at or above which the centres are counted as a line (or a plane); ours

RANK_CLAIM = "the learned order ranks high at initialisation"
SHAPE_CLAIM = "the final clusters lie along a line"
VERDICT_RULE = R.verdict_rule(
    PAPER_MEAN, PAPER_STD, PAPER_SEEDS, learned="order's initial signal f(q) among all 10! orders",
    shape=f"the paper's final cluster centres lie along a line (Fig. 1a; no share given, so we read it as most runs); a run "
          f"is a line when its final centres have at least {LINE_LIKE:g} of their variance on their first principal component",
    shape_test=f"reproduced when lines are the majority (exact binomial test of the share against ½, p < {R.ALPHA:g}, Wilson "
               "95% CI); a share above ½ but not significantly → partly; at or below ½ → not reproduced. Both claims are "
               "judged on the trials of the run's main output head; the other head is compared beside them.")

DECLARATION = Declaration(
    paper_ref="§3.1, Fig. 1",
    order=1,
    title="Remainder equivalence: rank of the learned order of the clusters",
    claim=("Trained on 1[a ≡ b (mod m)] (p = 100, m = 10), the embedding clusters tokens by remainder along a line in "
           "an order q that differs between seeds. The initial signal f(q) = Σ_{i<j} ‖Ē_{q_i} − Ē_{q_j}‖² (j − i) "
           "of the learned order is far above average: across 100 seeds it ranks within the top 15% of all 10! "
           "orders on average, with a standard deviation of 22%."),
    paper_number=f"top {PAPER_MEAN:g}% on average, std {PAPER_STD:g}% ({PAPER_SEEDS} seeds, 10,000 steps)",
    verdict_rule=VERDICT_RULE,
    analysis=R.RankAnalysis,
)


# ---------------------------------------------------------------- per trial


def centre_variance_shares(E, m: int) -> np.ndarray:
    """Cumulative share of the cluster centres' variance on their first 1, 2, ... principal components."""
    centres = cluster_centres(E, m)
    sv = np.linalg.svd(centres - centres.mean(axis=0), compute_uv=False) ** 2
    return np.cumsum(sv) / sv.sum() if sv.sum() > 0 else np.full(sv.shape, np.nan)


def analyse_trial(trial, m: int, keep_scores: bool = False) -> dict:
    """One trial's numbers; with keep_scores the initial f of all m! orders rides along under "_f0" (for figures)."""
    E0, E1 = trial.result.initial_embedding, trial.result.final_embedding
    readout = learned_permutation(E1, m)
    shares = centre_variance_shares(E1, m)
    f0 = permutation_scores(E0, m)
    f1 = permutation_scores(E1, m)
    learned_index = permutation_index(readout.q, m)
    # "Nothing moved": the order the same read-off gives on the initial embedding.
    initial_q = learned_permutation(E0, m).q
    control_q = canonical_permutation(rng(R.CONTROL_STREAM, int(trial.settings["seeds"]["embedding"])).permutation(m))
    control_index = permutation_index(control_q, m)
    # A second read-off that does not assume a line: the order that maximises f on the final embedding.
    best_final_index = int(np.argmax(f1))
    best_final_q = canonical_permutation(_nth_permutation(best_final_index, m))
    row = {
        "id": trial.id,
        "seed": int(trial.settings["seeds"]["embedding"]),
        "q": list(readout.q),
        "line_share": readout.line_share,
        "plane_share": float(shares[1]) if shares.size > 1 else float("nan"),
        "top_percent": top_percent(f0, f0[learned_index]),
        "control_q": list(control_q),
        "control_top_percent": top_percent(f0, f0[control_index]),
        "initial_q": list(initial_q),
        "initial_order_top_percent": top_percent(f0, f0[permutation_index(initial_q, m)]),
        "same_as_initial_order": list(initial_q) == list(readout.q),
        "head": str(trial.settings["task"].get("head", "two")),
        "final_top_percent": top_percent(f1, f1[learned_index]),  # how well the PC-1 order fits the final f
        "f_final_q": list(best_final_q),
        "f_final_top_percent": top_percent(f0, f0[best_final_index]),
        **R.outcome(trial),
    }
    if keep_scores:
        row["_f0"] = f0
    return row


def _nth_permutation(index: int, m: int) -> tuple[int, ...]:
    """The index-th tuple of itertools.permutations(range(m)) (inverse of readout.permutation_index)."""
    rest, q = list(range(m)), []
    for i in range(m - 1, -1, -1):
        digit, index = divmod(index, math.factorial(i))
        q.append(rest.pop(digit))
    return tuple(q)


# ---------------------------------------------------------------- figures


def figure_embeddings(trials, rows: dict, m: int, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(len(trials), 2, figsize=(8, 3.6 * len(trials)), squeeze=False)
    colours = plt.get_cmap("tab10" if m <= 10 else "tab20")
    for row, t in zip(axes, trials):
        r = rows[t.id]
        residue = np.arange(t.result.initial_embedding.shape[0]) % m
        for ax, E, when in ((row[0], t.result.initial_embedding, "initial"), (row[1], t.result.final_embedding, "final")):
            X = principal_components(E, 2)
            for i in range(m):
                ax.scatter(X[residue == i, 0], X[residue == i, 1], s=10, color=colours(i % colours.N), label=f"{i}")
            centres = _pca_centres(E, m)
            for i, (x, y) in enumerate(centres):
                ax.scatter([x], [y], s=60, marker="X", color=colours(i % colours.N), edgecolors="black", linewidths=0.6, zorder=3)
                ax.annotate(str(i), (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8, weight="bold",
                            color=colours(i % colours.N), zorder=4)
            ax.set_xlabel("PC 1 of this embedding")
            ax.set_ylabel("PC 2")
            title = f"seed {r['seed']}: {when} embedding"
            if when == "final":
                title += f"\nq = {''.join(map(str, r['q']))}, PC-1 share of centres {C.fmt(r['line_share'], 2)}"
            else:
                title += f"\nlearned q ranks top {C.fmt(r['top_percent'], 2)}% here"
            ax.set_title(title)
        row[1].legend(title="a mod m", loc="center left", bbox_to_anchor=(1.01, 0.5), ncol=1)
    return G.finish(fig, out_dir, "fig1a_embeddings.png",
                  f"Mirrors Fig. 1a. Initial (left) and final (right) embeddings of {len(trials)} seeds, each projected on its own first "
                  "two principal components and coloured by remainder; crosses (numbered by remainder) are the cluster centres Ē_i. "
                  "Seeds chosen to be typical: the generalised ones whose learned top-% lies nearest the median.")


def _pca_centres(E, m: int) -> np.ndarray:
    """The centres in the coordinates of the embedding's own first two principal components."""
    E = np.asarray(E, dtype=float)
    mean = E.mean(axis=0)
    _, _, Vt = np.linalg.svd(E - mean, full_matrices=False)
    return (cluster_centres(E, m) - mean) @ Vt[:2].T


def figure_signal_histograms(trials, rows: dict, m: int, out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    n = len(trials)
    fig, axes = G.panel_grid(plt, n, 2, 5, 3.4)
    for ax, t in zip(axes, trials):
        r = rows[t.id]
        f0 = r["_f0"] if "_f0" in r else permutation_scores(t.result.initial_embedding, m)
        counts, edges = np.histogram(f0, bins=120)
        ax.stairs(counts, edges, fill=True, color="0.7", label=f"all {len(f0):,} orders q")
        R.mark_learned_and_control(ax, f0[permutation_index(r["q"], m)], f0[permutation_index(r["control_q"], m)],
                                 f"learned q (top {C.fmt(r['top_percent'], 2)}%)",
                                 f"random q, control (top {C.fmt(r['control_top_percent'], 2)}%)")
        ax.set_xlabel("initial signal f(q)")
        ax.set_ylabel("orders q")
        ax.set_title(f"seed {r['seed']}" + ("" if r["generalised"] else " (never reached 100% test acc.)"))
        G.count_axis(ax, 1.45)
        ax.legend(loc="upper left")
    return G.finish(fig, out_dir, "fig1b_signal_histograms.png",
                  f"Mirrors Fig. 1b. Histogram of the initial signal f(q) of all {math.factorial(m):,} orders for {n} seeds, "
                  "with the learned order (red) and the random control order (blue, dashed) marked. Seeds chosen to be "
                  "typical: those whose learned top-% lies nearest the median.")


def figure_top_percent(rows: list[dict], out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    bins = np.linspace(0, 100, 21)
    R.top_percent_histogram(axes[0], [
        ("learned q", [r["top_percent"] for r in rows], "C3"),
        ("random q (control)", [r["control_top_percent"] for r in rows], "C0"),
    ], PAPER_MEAN, PAPER_STD, bins)
    axes[0].set_title("All trials: learned order against the control")
    R.top_percent_histogram(axes[1], [
        ("generalised", [r["top_percent"] for r in rows if r["generalised"]], "C2"),
        ("never 100% test acc.", [r["top_percent"] for r in rows if not r["generalised"]], "C1"),
        ("argmax of final f (alt. read-off)", [r["f_final_top_percent"] for r in rows], "C4"),
    ], PAPER_MEAN, PAPER_STD, bins)
    axes[1].set_title("Learned order by outcome, and the alternative read-off")
    return G.finish(fig, out_dir, "top_percent.png",
                  "Distribution of the top-% of the learned order's initial signal (0 = the highest of all orders); the grey "
                  "band is the paper's mean ± std (§3.1, Fig. 1b's summary statistic). Left: learned against a random "
                  "order per trial. Right: trials that generalised and those that did not, and the order maximising f on "
                  "the final embedding.")


def figure_line_share(rows: list[dict], other_rows: list[dict], out_dir: Path) -> Figure:
    plt = G.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    share = np.array([r["line_share"] for r in rows])
    plane = np.array([r["plane_share"] for r in rows])
    bins = np.linspace(0, 1, 41)
    axes[0].hist(share, bins=bins, color="C2", alpha=0.8, label=f"PC 1 (mean {C.fmt(share.mean(), 2)})")
    axes[0].hist(plane, bins=bins, color="C4", alpha=0.6, label=f"PC 1 + PC 2 (mean {C.fmt(plane.mean(), 2)})")
    if other_rows:
        other = np.array([r["line_share"] for r in other_rows])
        axes[0].hist(other, bins=bins, histtype="step", lw=2, color="k",
                     label=f"PC 1, head \"{other_rows[0]['head']}\" (n = {len(other)}, mean {C.fmt(other.mean(), 2)})")
    axes[0].axvline(LINE_LIKE, color="k", ls=":", lw=1, label=f"line threshold {LINE_LIKE:g}")
    from matplotlib.ticker import MaxNLocator
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_xlabel("share of the final centres' variance (1 on PC 1 = a line)")
    axes[0].set_ylabel("trials")
    axes[0].set_xlim(0, 1)
    axes[0].set_ylim(0, axes[0].get_ylim()[1] * 1.6)  # headroom: the legend sits above the bars, not on them
    axes[0].legend(loc="upper left", fontsize=8)
    gen = np.array([r["generalised"] for r in rows])
    tp = np.array([r["top_percent"] for r in rows])
    axes[1].scatter(share[gen], tp[gen], s=18, color="C2", label="generalised")
    if (~gen).any():  # no empty legend entry for a class with no trials
        axes[1].scatter(share[~gen], tp[~gen], s=22, marker="x", color="C1", label="never 100% test acc.")
    axes[1].set_xlabel("share of the final centres' variance on PC 1")
    axes[1].set_ylabel("top-% of learned q (initial)")
    axes[1].set_xlim(0, 1)
    axes[1].set_ylim(-2, 100)
    axes[1].legend()
    return G.finish(fig, out_dir, "line_share.png",
                  "How much of a line the final clusters form (Fig. 1a shows a line): the share of the final centres' variance "
                  "on their first principal component, and on the first two together, per trial of the main head (left; the "
                  "other head's PC-1 share as a black outline when it was run); the first against the learned order's top-% (right).")


# ---------------------------------------------------------------- analysis


def main_head(trials) -> str:
    """The head the claims are judged on: the most common in the run (ties: "two", the default)."""
    heads = [str(t.settings["task"].get("head", "two")) for t in trials]
    return max(sorted(set(heads), key=lambda h: (h != "two", h)), key=heads.count)


def analyse(record: dict, trials: list, out_dir: Path) -> Section:
    out_dir = Path(out_dir)
    options = C.analysis_of(record, R.RankAnalysis)
    all_trials = sorted(trials, key=lambda t: t.id)
    task = all_trials[0].settings["task"]
    m, p = int(task["m"]), int(task["p"])
    valid_all, excluded = C.split_valid(all_trials)
    head = main_head(all_trials)
    main_all = [t for t in all_trials if str(t.settings["task"].get("head", "two")) == head]
    trials = [t for t in valid_all if str(t.settings["task"].get("head", "two")) == head]
    others = [t for t in valid_all if str(t.settings["task"].get("head", "two")) != head]
    if not V.assessable(len(trials), len(main_all), R.MIN_VALID_SHARE):
        return C.unassessable_section(record, all_trials, trials, excluded, [RANK_CLAIM, SHAPE_CLAIM],
                                      R.seed_deviations(main_all, PAPER_SEEDS), R.MIN_VALID_SHARE)
    n_hist, n_emb = options.histogram_seeds, options.embedding_seeds
    rows_list = [analyse_trial(t, m) for t in trials]
    rows = {r["id"]: r for r in rows_list}
    other_rows = [analyse_trial(t, m) for t in others]

    learned = [r["top_percent"] for r in rows_list]
    control = [r["control_top_percent"] for r in rows_list]
    initial_order = [r["initial_order_top_percent"] for r in rows_list]
    gen = [r for r in rows_list if r["generalised"]]
    not_gen = [r for r in rows_list if not r["generalised"]]
    s_all, s_control = R.stats_of(learned), R.stats_of(control)
    s_initial = R.stats_of(initial_order)
    s_gen, s_not = R.stats_of([r["top_percent"] for r in gen]), R.stats_of([r["top_percent"] for r in not_gen])
    s_alt = R.stats_of([r["f_final_top_percent"] for r in rows_list])
    share = R.stats_of([r["line_share"] for r in rows_list])
    plane = R.stats_of([r["plane_share"] for r in rows_list])
    share_vs_top = C.spearman([r["line_share"] for r in rows_list], learned)
    agree = sum(r["q"] == r["f_final_q"] for r in rows_list)
    same_initial = sum(r["same_as_initial_order"] for r in rows_list)
    n_lines = sum(r["line_share"] >= LINE_LIKE for r in rows_list)
    rank, rank_info = V.rank_claim(learned, control, PAPER_MEAN, PAPER_STD, PAPER_SEEDS, RANK_CLAIM)
    shape = V.share_claim(SHAPE_CLAIM, n_lines, len(rows_list), f"lines (PC 1 ≥ {LINE_LIKE:g})")
    claims = [rank, shape]
    line_lo, line_hi = C.wilson_ci(n_lines, len(rows_list))
    vs_initial = S.mann_whitney_less(learned, initial_order)

    steps = C.steps_of(trials)
    n_orders = math.factorial(m)
    our = (f"learned order's initial signal in the top {C.fmt(s_all['mean'])}% on average, std {C.fmt(s_all['std'])}% "
           f"({len(trials)} seeds, head \"{head}\", {'/'.join(map(str, steps))} steps); random control {C.fmt(s_control['mean'])}% ± "
           f"{C.fmt(s_control['std'])}%; nothing-moved baseline {C.fmt(s_initial['mean'])}% ± {C.fmt(s_initial['std'])}%; "
           f"lines {n_lines}/{len(rows_list)} (PC-1 share {C.fmt(share['mean'], 2)} ± {C.fmt(share['std'], 2)}); "
           f"{len(gen)}/{len(trials)} generalised")
    short = R.short_number(s_all, s_control, len(trials)) + f"; lines {n_lines}/{len(rows_list)}"

    ran = C.profile_lines(record, all_trials)
    ran += [
        f"Task 1[a ≡ b (mod {m})] over p = {p} tokens; every trial has its own embedding, MLP and split seed.",
        f"Output head: the claims are judged on the trials with head \"{head}\" ({_head_text(head, p)}); "
        + (f"{len(others)} trials with head \"{other_rows[0]['head']}\" ({_head_text(other_rows[0]['head'], p)}) are compared beside them."
           if other_rows else "no trial of the other head in this run."),
        f"Per trial: q from the final embedding; f(q) ranked among all {m}! = {n_orders:,} orders on the initial "
        f"embedding; a random control order per trial, drawn from the seed stream `{R.CONTROL_STREAM}` at the trial's embedding seed; "
        "the nothing-moved order (the same read-off on the initial embedding).",
    ]
    deviations = R.seed_deviations(main_all, PAPER_SEEDS) + [
        f"Output head: \"{head}\" ({_head_text(head, p)}) for the claims. The paper's App. A says \"an output layer with "
        "dimension p\"; with labels 0/1 only two of its logits are ever targets. "
        + ("The p-logit head's trials are reported beside the main ones." if other_rows else ""),
        f"Read-off of q ({C.method('read-offs')}, ours): cluster centres of the final embedding projected on their first principal "
        "component, in order of projection; q and reversed q are one (f(q) = f(reversed q)). The paper does not say "
        "how it reads q off. The share of the centres' variance on that component is reported, not assumed to be 1. "
        "q is read at the last step only (only the final embedding is stored).",
        f"Rank ({C.method('signals')}): top-% = 100 · #(orders with f strictly greater than the learned one's) / m!; \"top 15%\" is 15. "
        "The learned order's reversal ties with it and does not push it down.",
        "The random control, the nothing-moved baseline and the alternative read-off (the order maximising f on the final "
        "embedding) are ours; the paper has none of them.",
        R.GENERALISED_NOTE,
        *C.common_deviations(trials),
        C.STATISTICS_NOTE + R.TEST_NOTE,
    ]

    table = C.md_table(
        ["trials", "n", "top-% of q: mean ± std", "95% CI", "median"],
        [[name, s["n"], f"{C.fmt(s['mean'])} ± {C.fmt(s['std'])}" if s["n"] else "–",
          R.ci_text(s), C.fmt(s["median"]) if s["n"] else "–"]
         for name, s in (("learned q, all", s_all), ("learned q, generalised", s_gen), ("learned q, never 100% test accuracy", s_not),
                         ("nothing moved: the initial centres' own PC-1 order", s_initial),
                         ("control: random q", s_control), ("alt. read-off: argmax of final f", s_alt))])
    findings = [
        f"Top-% of the learned order among all {n_orders:,} orders on the initial embedding (0 = highest signal); "
        f"paper: {PAPER_MEAN:g} ± {PAPER_STD:g} over {PAPER_SEEDS} seeds.",
        table,
        f"The paper's mean {PAPER_MEAN:g} lies {'inside' if R.paper_in_ci(s_all, PAPER_MEAN) else 'outside'} our 95% confidence interval of the mean "
        f"{R.ci_text(s_all)}.",
        f"Nothing-moved baseline: had training not moved the cluster centres, the read-off would give the initial centres' own "
        f"PC-1 order, which ranks top {R.stats_text(s_initial)}. The learned order equals it in {same_initial} of {len(trials)} "
        f"trials; learned against nothing-moved, one-sided Mann–Whitney U = {C.fmt(vs_initial['u'])}, {C.fmt_p(vs_initial['p'])}. "
        "A learned order that ranks high only because it is the initial order would show the paper's effect without "
        "training having chosen anything.",
        f"Generalisation: {len(gen)} of {len(trials)} trials reached 100% test accuracy "
        f"({sum(r['held_to_end'] for r in rows_list)} were at 100% at the last step). "
        + (f"Those that never did have learned-order top-% {R.stats_text(s_not)}; they are included in the headline number."
           if not_gen else "None failed to, so the headline number needs no caveat on this account."),
        f"How much of a line: the share of the final centres' variance on their first principal component is "
        f"{C.fmt(share['mean'], 3)} ± {C.fmt(share['std'], 3)} (min {C.fmt(min(r['line_share'] for r in rows_list), 3)}, "
        f"max {C.fmt(max(r['line_share'] for r in rows_list), 3)}); a clean line would be 1. On the first two components together it is "
        f"{C.fmt(plane['mean'], 3)} ± {C.fmt(plane['std'], 3)} (min {C.fmt(min(r['plane_share'] for r in rows_list), 3)}). "
        f"{n_lines} of {len(trials)} trials are line-like (PC 1 ≥ {LINE_LIKE:g}; Wilson 95% CI of the share "
        f"{C.fmt(100 * line_lo)}–{C.fmt(100 * line_hi)}%); "
        f"{sum(r['line_share'] < LINE_LIKE and r['plane_share'] >= LINE_LIKE for r in rows_list)} are planar (PC 1 < {LINE_LIKE:g}, "
        f"PC 1 + PC 2 ≥ {LINE_LIKE:g}), where PC 1 and hence q are poorly determined. Spearman ρ between the share "
        f"and the learned order's top-% is {C.fmt(share_vs_top['rho'])} ({C.fmt_p(share_vs_top['p'])}, n = {share_vs_top['n']}).",
        f"Read-off consistency: the PC-1 order ranks in the top {C.fmt(np.mean([r['final_top_percent'] for r in rows_list]))}% "
        f"of f on the *final* embedding on average; it equals the order maximising the final f in {agree} of {len(trials)} "
        f"trials. Ranked on the initial embedding, that maximising order gives {R.stats_text(s_alt)}.",
    ]
    head_summary = None
    if other_rows:
        o_top = R.stats_of([r["top_percent"] for r in other_rows])
        o_share = R.stats_of([r["line_share"] for r in other_rows])
        o_ctrl = R.stats_of([r["control_top_percent"] for r in other_rows])
        w = C.welch(learned, [r["top_percent"] for r in other_rows])
        o_head = other_rows[0]["head"]
        findings.append(
            f"Does the output head matter? Head \"{o_head}\" ({_head_text(o_head, p)}), {len(other_rows)} trials: learned top-% "
            f"{R.stats_text(o_top)} (control {C.fmt(o_ctrl['mean'])}%), PC-1 share {C.fmt(o_share['mean'], 3)} ± "
            f"{C.fmt(o_share['std'], 3)}, {sum(r['line_share'] >= LINE_LIKE for r in other_rows)} lines, "
            f"{sum(r['generalised'] for r in other_rows)} generalised. Against head \"{head}\": Welch t = {C.fmt(w['t'])}, "
            f"{C.fmt_p(w['p'])} on the top-% (a few seeds: this shows a large difference, not a small one).")
        head_summary = {"head": o_head, "top_percent": o_top, "line_share": o_share, "control_top_percent": o_ctrl,
                        "welch_vs_main": w, "trials": len(other_rows)}
    findings += [_per_trial_table(rows_list + other_rows), *C.health_findings(all_trials)]

    typical = C.typical(trials, lambda t: rows[t.id]["top_percent"], len(trials))
    shown = [t for t in typical if rows[t.id]["generalised"]] or typical
    hist = typical[:n_hist]
    hist_rows = {t.id: analyse_trial(t, m, keep_scores=True) for t in hist}
    figures = [
        figure_embeddings(shown[:n_emb], rows, m, out_dir),
        figure_signal_histograms(hist, hist_rows, m, out_dir),
        figure_top_percent(rows_list, out_dir),
        figure_line_share(rows_list, other_rows, out_dir),
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
            "head": head, "other_head": head_summary, "initial_order_top_percent": s_initial,
            "learned_vs_initial_order": vs_initial, "same_as_initial_order": same_initial,
            "lines": {"k": n_lines, "n": len(rows_list), "wilson95": [line_lo, line_hi]},
            "alt_readout_top_percent": s_alt, "line_share": share, "plane_share": plane,
            "line_share_vs_top_percent": share_vs_top,
            "claims": {c.name: c.verdict for c in claims}, "valid": len(valid_all), "excluded_trials": len(all_trials) - len(valid_all),
            "per_trial": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows_list + other_rows],
        },
        short_number=short,
        claims=claims,
        excluded=C.exclusion_lines(len(all_trials), excluded),
    )


def _head_text(head: str, p: int) -> str:
    return "two logits: same class or not" if head == "two" else f"{p} logits, labels 0/1 (the paper's App. A)"


def _per_trial_table(rows: list[dict]) -> str:
    body = [[f"`{r['id'][:12]}`", r["head"], r["seed"], "".join(map(str, r["q"])), C.fmt(r["line_share"], 3), C.fmt(r["top_percent"], 3),
             C.fmt(r["control_top_percent"], 3), C.fmt(r["initial_order_top_percent"], 3), C.fmt(r["f_final_top_percent"], 3),
             R.convergence_cell(r), C.fmt(r["final_test_acc"], 4)] for r in rows]
    return R.per_trial_table(["trial", "head", "seed", "learned q", "PC-1 share", "top-%", "control top-%", "nothing-moved top-%",
                            "alt. read-off top-%", "100% test acc. at step", "final test acc."], body)
