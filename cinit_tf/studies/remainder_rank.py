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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import clusters as cluster_figures
from cinit_tf.figures.remainder_rank import figure_signal_histograms, figure_top_percent
from cinit_tf.measures import candidate_signals
from cinit_tf.measures import rank as rank_stats
from cinit_tf.readout import canonical_permutation, learned_permutation, permutation_index
from cinit_tf.seeds import rng
from cinit_tf.signals import cluster_centres, permutation_scores, top_percent
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health
from cinit_tf.writeup.section import Declaration, Figure, Measured, Section

PAPER_MEAN, PAPER_STD, PAPER_SEEDS = 15.0, 22.0, 100
# a variance share at or above which the centres are counted as a line (or a plane); ours
LINE_LIKE = 0.9

# §2 states the shape without exception ("The final representation clusters numbers with the same
# remainder together and forms a line in the embedding"): read as at least 90% of runs, as "near 100%".
LINE_SHARE = 0.9
LINE_SOURCE = (
    '§2: "forms a line in the embedding", stated without exception, read as a share of runs'
)
RANK_CLAIM = "the learned order ranks high at initialisation"
SHAPE_CLAIM = "the final clusters lie along a line"
VERDICT_RULE = rank_stats.verdict_rule(
    PAPER_MEAN,
    PAPER_STD,
    PAPER_SEEDS,
    learned="order's initial signal f(q) among all 10! orders",
    shape=f"the paper's final cluster centres lie along a line ({LINE_SOURCE} ≥ {LINE_SHARE:.0%}); a run "
    f"is a line when its final centres have at least {LINE_LIKE:g} of their variance on their first principal component",
    shape_test=f"{verdicts.rate_outcomes(True, LINE_SHARE, LINE_SOURCE)}. Both claims are "
    "judged on the trials of the run's main output head; the other head is compared beside them.",
)

DECLARATION = Declaration(
    paper_ref="§3.1, Fig. 1",
    title="Remainder equivalence: rank of the learned order of the clusters",
    claim=(
        "Trained on 1[a ≡ b (mod m)] (p = 100, m = 10), the embedding clusters tokens by remainder along a line in "
        "an order q that differs between seeds. The initial signal f(q) = Σ_{i<j} ‖Ē_{q_i} − Ē_{q_j}‖² (j − i) "
        "of the learned order is far above average: across 100 seeds it ranks within the top 15% of all 10! "
        "orders on average, with a standard deviation of 22%."
    ),
    paper_number=f"top {PAPER_MEAN:g}% on average, std {PAPER_STD:g}% ({PAPER_SEEDS} seeds, 10,000 steps)",
    verdict_rule=VERDICT_RULE,
    analysis=rank_stats.RankAnalysis,
)


# ---------------------------------------------------------------- per trial


def centre_variance_shares(E, m: int) -> np.ndarray:
    """Cumulative share of the cluster centres' variance on their first 1, 2, ... principal components."""
    centres = cluster_centres(E, m)
    sv = np.linalg.svd(centres - centres.mean(axis=0), compute_uv=False) ** 2
    return np.cumsum(sv) / sv.sum() if sv.sum() > 0 else np.full(sv.shape, np.nan)


def measure_trial(trial, m: int) -> dict:
    """One trial's numbers: its learned order, how much of a line it is, and the top-% of each order it is compared with."""
    E0, E1 = trial.result.initial_embedding, trial.result.final_embedding
    readout = learned_permutation(E1, m)
    shares = centre_variance_shares(E1, m)
    f0 = permutation_scores(E0, m)
    f1 = permutation_scores(E1, m)
    learned_index = permutation_index(readout.q, m)
    # "Nothing moved": the order the same read-off gives on the initial embedding.
    initial_q = learned_permutation(E0, m).q
    control_q = canonical_permutation(rng(rank_stats.CONTROL_STREAM, trial.seeds[0]).permutation(m))
    control_index = permutation_index(control_q, m)
    # A second read-off that does not assume a line: the order that maximises f on the final embedding.
    best_final_index = int(np.argmax(f1))
    best_final_q = canonical_permutation(candidate_signals.nth_permutation(best_final_index, m))
    return {
        "id": trial.id,
        "seed": trial.seeds[0],
        "q": list(readout.q),
        "line_share": readout.line_share,
        "plane_share": float(shares[1]) if shares.size > 1 else float("nan"),
        "top_percent": top_percent(f0, f0[learned_index]),
        "control_q": list(control_q),
        "control_top_percent": top_percent(f0, f0[control_index]),
        "initial_q": list(initial_q),
        "initial_order_top_percent": top_percent(f0, f0[permutation_index(initial_q, m)]),
        "same_as_initial_order": list(initial_q) == list(readout.q),
        "head": _head(trial),
        # how well the PC-1 order fits the final f
        "final_top_percent": top_percent(f1, f1[learned_index]),
        "f_final_q": list(best_final_q),
        "f_final_top_percent": top_percent(f0, f0[best_final_index]),
        **rank_stats.outcome(trial),
    }


# ---------------------------------------------------------------- measure


CLAIM_NAMES = (RANK_CLAIM, SHAPE_CLAIM)


@dataclass(kw_only=True)
class RemainderRankMeasured(Measured):
    """The numbers of a remainder rank run; `valid` holds the valid trials of the main head only (the claims' sample)."""

    head: str = "two"  # the output head the claims are judged on
    main_trials: list = field(default_factory=list)  # every trial of that head, valid or not
    # the valid trials of the other head, compared beside the claims
    others: list = field(default_factory=list)
    n_valid_all: int = 0  # valid trials of either head
    modulus: int = 0  # m: the number of clusters
    tokens: int = 0  # p
    rows: list = field(default_factory=list)  # measure_trial of each trial in `valid`
    other_rows: list = field(default_factory=list)  # measure_trial of each trial in `others`
    # rank_stats.stats_of of each sample, by name (see `measure`)
    stats: dict = field(default_factory=dict)
    n_lines: int = 0  # trials whose final centres are a line (PC-1 share ≥ LINE_LIKE)
    lines_ci: tuple = (float("nan"), float("nan"))  # Wilson 95% CI of the share of lines
    mann_whitney: dict = field(default_factory=dict)  # learned against control, one-sided
    # learned against nothing-moved, one-sided Mann–Whitney
    vs_initial: dict = field(default_factory=dict)
    # Spearman between PC-1 share and learned top-%
    share_vs_top: dict = field(default_factory=dict)
    # the other head's numbers and Welch against the main head, when it was run
    other_head: dict | None = None


def main_head(trials) -> str:
    """The head the claims are judged on: the most common in the run (ties: "two", the default)."""
    heads = [_head(t) for t in trials]
    return max(sorted(set(heads), key=lambda h: (h != "two", h)), key=heads.count)


def _head(trial) -> str:
    return str(trial.settings["task"].get("head", "two"))


def _begin(trials, options) -> RemainderRankMeasured:
    """The trials split into valid and excluded (writeup.split_valid); assessable when enough of the main head's are valid."""
    everything = sorted(trials, key=lambda t: t.id)
    valid_all, excluded = writeup.split_valid(everything)
    head = main_head(everything)
    main_all = [t for t in everything if _head(t) == head]
    main_valid = [t for t in valid_all if _head(t) == head]
    m = RemainderRankMeasured(
        trials=everything,
        valid=main_valid,
        excluded=excluded,
        options=options or rank_stats.RankAnalysis(),
        head=head,
        main_trials=main_all,
        others=[t for t in valid_all if _head(t) != head],
        n_valid_all=len(valid_all),
    )
    if not verdicts.assessable(len(main_valid), len(main_all)):
        m.assessable = False
        why = f"valid (at least {verdicts.MIN_VALID_SHARE:.0%} and 3 are needed)"
        m.claims = [
            verdicts.not_assessable(name, len(main_valid), len(everything), why)
            for name in CLAIM_NAMES
        ]
    return m


def measure(trials, options) -> RemainderRankMeasured:
    """Each valid trial's learned order ranked on its initial embedding, the baselines, and the rank and shape claims."""
    m = _begin(trials, options)
    if not m.assessable:
        return m
    task = m.trials[0].settings["task"]
    m.modulus, m.tokens = int(task["m"]), int(task["p"])
    m.rows = rows = [measure_trial(t, m.modulus) for t in m.valid]
    m.other_rows = [measure_trial(t, m.modulus) for t in m.others]
    learned = [r["top_percent"] for r in rows]
    control = [r["control_top_percent"] for r in rows]
    initial_order = [r["initial_order_top_percent"] for r in rows]
    m.stats = {
        "learned": rank_stats.stats_of(learned),
        "control": rank_stats.stats_of(control),
        "initial": rank_stats.stats_of(initial_order),
        **rank_stats.outcome_stats(rows),
        "alt": rank_stats.stats_of([r["f_final_top_percent"] for r in rows]),
        "line_share": rank_stats.stats_of([r["line_share"] for r in rows]),
        "plane_share": rank_stats.stats_of([r["plane_share"] for r in rows]),
    }
    m.n_lines = sum(r["line_share"] >= LINE_LIKE for r in rows)
    rank, rank_info = verdicts.rank_claim(
        learned, control, PAPER_MEAN, PAPER_STD, PAPER_SEEDS, RANK_CLAIM
    )
    m.claims = [
        rank,
        verdicts.share_claim(
            SHAPE_CLAIM,
            m.n_lines,
            len(rows),
            f"lines (PC 1 ≥ {LINE_LIKE:g})",
            LINE_SHARE,
            LINE_SOURCE,
        ),
    ]
    m.mann_whitney = rank_info["mann_whitney"]
    m.lines_ci = inference.share_ci(m.n_lines, len(rows))
    m.vs_initial = inference.mann_whitney_less(learned, initial_order)
    m.share_vs_top = inference.spearman([r["line_share"] for r in rows], learned)
    if m.other_rows:
        other = m.other_rows
        m.other_head = {
            "head": other[0]["head"],
            "top_percent": rank_stats.stats_of([r["top_percent"] for r in other]),
            "line_share": rank_stats.stats_of([r["line_share"] for r in other]),
            "control_top_percent": rank_stats.stats_of([r["control_top_percent"] for r in other]),
            "welch_vs_main": inference.welch_test(learned, [r["top_percent"] for r in other]),
            "trials": len(other),
        }
    return m


# ---------------------------------------------------------------- write


def write(m: RemainderRankMeasured, record: dict, out_dir: Path) -> Section:
    """The section: the rank against the paper's, the baselines beside it, how much of a line, and the figures."""
    if not m.assessable:
        return writeup.section(
            m, record, deviations=rank_stats.seed_deviations(m.main_trials, PAPER_SEEDS)
        )
    s, rows, n = m.stats, m.rows, len(m.valid)
    our = (
        f"learned order's initial signal in the top {formatting.fmt(s['learned']['mean'])}% on average, std {formatting.fmt(s['learned']['std'])}% "
        f'({n} seeds, head "{m.head}", {"/".join(map(str, writeup.steps_of(m.valid)))} steps); random control '
        f"{formatting.fmt(s['control']['mean'])}% ± {formatting.fmt(s['control']['std'])}%; nothing-moved baseline {formatting.fmt(s['initial']['mean'])}% ± "
        f"{formatting.fmt(s['initial']['std'])}%; lines {m.n_lines}/{len(rows)} (PC-1 share {formatting.fmt(s['line_share']['mean'], 2)} ± "
        f"{formatting.fmt(s['line_share']['std'], 2)}); {sum(r['generalised'] for r in rows)}/{n} generalised"
    )
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=_what_we_ran(m, record),
        deviations=_deviations(m),
        findings=_findings(m),
        figures=_figures(m, Path(out_dir)),
        summary=_summary(m),
        short_number=rank_stats.short_number(s["learned"], s["control"], n)
        + f"; lines {m.n_lines}/{len(rows)}",
    )


def _what_we_ran(m: RemainderRankMeasured, record: dict) -> list[str]:
    p, other = m.tokens, m.other_rows
    return writeup.profile_lines(record, m.trials) + [
        f"Task 1[a ≡ b (mod {m.modulus})] over p = {p} tokens; every trial has its own embedding, MLP and split seed.",
        f'Output head: the claims are judged on the trials with head "{m.head}" ({_head_text(m.head, p)}); '
        + (
            f'{len(m.others)} trials with head "{other[0]["head"]}" ({_head_text(other[0]["head"], p)}) are compared beside them.'
            if other
            else "no trial of the other head in this run."
        ),
        f"Per trial: q from the final embedding; f(q) ranked among all {m.modulus}! = {math.factorial(m.modulus):,} orders on the "
        f"initial embedding; a random control order per trial, drawn from the seed stream `{rank_stats.CONTROL_STREAM}` at the trial's "
        "embedding seed; the nothing-moved order (the same read-off on the initial embedding).",
    ]


def _deviations(m: RemainderRankMeasured) -> list[str]:
    return rank_stats.seed_deviations(m.main_trials, PAPER_SEEDS) + [
        f'Output head: "{m.head}" ({_head_text(m.head, m.tokens)}) for the claims. The paper\'s App. A says "an output layer with '
        'dimension p"; with labels 0/1 only two of its logits are ever targets. '
        + ("The p-logit head's trials are reported beside the main ones." if m.other_rows else ""),
        f"Read-off of q ({formatting.method('read-offs')}, ours): cluster centres of the final embedding projected on their first principal "
        "component, in order of projection; q and reversed q are one (f(q) = f(reversed q)). The paper does not say "
        "how it reads q off. The share of the centres' variance on that component is reported, not assumed to be 1. "
        "q is read at the last step only (only the final embedding is stored).",
        f'Rank ({formatting.method("signals")}): top-% = 100 · #(orders with f strictly greater than the learned one\'s) / m!; "top 15%" is 15. '
        "The learned order's reversal ties with it and does not push it down.",
        "The random control, the nothing-moved baseline and the alternative read-off (the order maximising f on the final "
        "embedding) are ours; the paper has none of them.",
        rank_stats.GENERALISED_NOTE,
        *writeup.common_deviations(m.valid),
        writeup.STATISTICS_NOTE + rank_stats.TEST_NOTE,
    ]


def _findings(m: RemainderRankMeasured) -> list[str]:
    s, rows, n = m.stats, m.rows, len(m.valid)
    table = formatting.md_table(
        ["trials", "n", "top-% of q: mean ± std", "95% CI", "median"],
        [
            [name, *rank_stats.stats_cells(s[key])]
            for name, key in (
                ("learned q, all", "learned"),
                ("learned q, generalised", "generalised"),
                ("learned q, never 100% test accuracy", "not_generalised"),
                ("nothing moved: the initial centres' own PC-1 order", "initial"),
                ("control: random q", "control"),
                ("alt. read-off: argmax of final f", "alt"),
            )
        ],
    )
    n_gen = sum(r["generalised"] for r in rows)
    same_initial = sum(r["same_as_initial_order"] for r in rows)
    agree = sum(r["q"] == r["f_final_q"] for r in rows)
    findings = [
        f"Top-% of the learned order among all {math.factorial(m.modulus):,} orders on the initial embedding (0 = highest signal); "
        f"paper: {PAPER_MEAN:g} ± {PAPER_STD:g} over {PAPER_SEEDS} seeds.",
        table,
        rank_stats.paper_in_ci_text(s["learned"], PAPER_MEAN),
        f"Nothing-moved baseline: had training not moved the cluster centres, the read-off would give the initial centres' own "
        f"PC-1 order, which ranks top {rank_stats.stats_text(s['initial'])}. The learned order equals it in {same_initial} of {n} "
        f"trials; learned against nothing-moved, one-sided Mann–Whitney U = {formatting.fmt(m.vs_initial['u'])}, "
        f"{formatting.fmt_p(m.vs_initial['p'])}. A learned order that ranks high only because it is the initial order would show the "
        "paper's effect without training having chosen anything.",
        f"Generalisation: {n_gen} of {n} trials reached 100% test accuracy "
        f"({sum(r['held_to_end'] for r in rows)} were at 100% at the last step). "
        + (
            f"Those that never did have learned-order top-% {rank_stats.stats_text(s['not_generalised'])}; they are included in the "
            "headline number."
            if n_gen < n
            else "None failed to, so the headline number needs no caveat on this account."
        ),
        _line_text(m),
        f"Read-off consistency: the PC-1 order ranks in the top {formatting.fmt(np.mean([r['final_top_percent'] for r in rows]))}% "
        f"of f on the *final* embedding on average; it equals the order maximising the final f in {agree} of {n} "
        f"trials. Ranked on the initial embedding, that maximising order gives {rank_stats.stats_text(s['alt'])}.",
    ]
    if m.other_head:
        findings.append(_other_head_text(m))
    return findings + [_per_trial_table(rows + m.other_rows), *health.health_findings(m.trials)]


def _line_text(m: RemainderRankMeasured) -> str:
    """How much of a line the final centres form, per trial and as a share of lines."""
    rows, share, plane = m.rows, m.stats["line_share"], m.stats["plane_share"]
    line_lo, line_hi = m.lines_ci
    planar = sum(r["line_share"] < LINE_LIKE and r["plane_share"] >= LINE_LIKE for r in rows)
    return (
        f"How much of a line: the share of the final centres' variance on their first principal component is "
        f"{formatting.fmt(share['mean'], 3)} ± {formatting.fmt(share['std'], 3)} (min {formatting.fmt(min(r['line_share'] for r in rows), 3)}, "
        f"max {formatting.fmt(max(r['line_share'] for r in rows), 3)}); a clean line would be 1. On the first two components together it is "
        f"{formatting.fmt(plane['mean'], 3)} ± {formatting.fmt(plane['std'], 3)} (min {formatting.fmt(min(r['plane_share'] for r in rows), 3)}). "
        f"{m.n_lines} of {len(m.valid)} trials are line-like (PC 1 ≥ {LINE_LIKE:g}; Wilson 95% CI of the share "
        f"{formatting.fmt(100 * line_lo)}–{formatting.fmt(100 * line_hi)}%); "
        f"{planar} are planar (PC 1 < {LINE_LIKE:g}, PC 1 + PC 2 ≥ {LINE_LIKE:g}), where PC 1 and hence q are poorly "
        f"determined. Spearman ρ between the share and the learned order's top-% is {formatting.fmt(m.share_vs_top['rho'])} "
        f"({formatting.fmt_p(m.share_vs_top['p'])}, n = {m.share_vs_top['n']})."
    )


def _other_head_text(m: RemainderRankMeasured) -> str:
    o, other = m.other_head, m.other_rows
    w = o["welch_vs_main"]
    return (
        f'Does the output head matter? Head "{o["head"]}" ({_head_text(o["head"], m.tokens)}), {len(other)} trials: learned '
        f"top-% {rank_stats.stats_text(o['top_percent'])} (control {formatting.fmt(o['control_top_percent']['mean'])}%), PC-1 share "
        f"{formatting.fmt(o['line_share']['mean'], 3)} ± {formatting.fmt(o['line_share']['std'], 3)}, "
        f"{sum(r['line_share'] >= LINE_LIKE for r in other)} lines, {sum(r['generalised'] for r in other)} generalised. "
        f'Against head "{m.head}": Welch t = {formatting.fmt(w["t"])}, {formatting.fmt_p(w["p"])} on the top-% (a few seeds: this shows a '
        "large difference, not a small one)."
    )


def _figures(m: RemainderRankMeasured, out_dir: Path) -> list[Figure]:
    """Examples chosen to be typical (learned top-% nearest the median; generalised ones for the embeddings), then the distributions."""
    rows = {r["id"]: r for r in m.rows}
    typical = inference.typical(m.valid, lambda t: rows[t.id]["top_percent"], len(m.valid))
    shown = [t for t in typical if rows[t.id]["generalised"]] or typical
    return [
        cluster_figures.figure_embeddings(
            shown[: m.options.embedding_seeds], rows, m.modulus, out_dir
        ),
        figure_signal_histograms(typical[: m.options.histogram_seeds], rows, m.modulus, out_dir),
        figure_top_percent(m.rows, PAPER_MEAN, PAPER_STD, out_dir),
        cluster_figures.figure_line_share(m.rows, m.other_rows, LINE_LIKE, out_dir),
    ]


def _summary(m: RemainderRankMeasured) -> dict:
    rows = m.rows
    return {
        **rank_stats.common_summary(rows, m.mann_whitney, m.stats["learned"], m.stats["control"]),
        "head": m.head,
        "other_head": m.other_head,
        "initial_order_top_percent": m.stats["initial"],
        "learned_vs_initial_order": m.vs_initial,
        "same_as_initial_order": sum(r["same_as_initial_order"] for r in rows),
        "lines": {"k": m.n_lines, "n": len(rows), "wilson95": list(m.lines_ci)},
        "alt_readout_top_percent": m.stats["alt"],
        "line_share": m.stats["line_share"],
        "plane_share": m.stats["plane_share"],
        "line_share_vs_top_percent": m.share_vs_top,
        "claims": {c.name: c.verdict for c in m.claims},
        "valid": m.n_valid_all,
        "excluded_trials": len(m.trials) - m.n_valid_all,
        "per_trial": rows + m.other_rows,
    }


def _head_text(head: str, p: int) -> str:
    if head == "two":
        return "two logits: same class or not"
    return f"{p} logits, labels 0/1 (the paper's App. A)"


def _per_trial_table(rows: list[dict]) -> str:
    return rank_stats.per_trial_table(
        rows,
        [
            ("head", lambda r: r["head"]),
            ("seed", lambda r: r["seed"]),
            ("learned q", lambda r: "".join(map(str, r["q"]))),
            ("PC-1 share", lambda r: formatting.fmt(r["line_share"], 3)),
            ("top-%", lambda r: formatting.fmt(r["top_percent"], 3)),
            ("control top-%", lambda r: formatting.fmt(r["control_top_percent"], 3)),
            ("nothing-moved top-%", lambda r: formatting.fmt(r["initial_order_top_percent"], 3)),
            ("alt. read-off top-%", lambda r: formatting.fmt(r["f_final_top_percent"], 3)),
        ],
    )
