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

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures.xor_rank import (
    figure_embeddings,
    figure_fit,
    figure_signal_histograms,
    figure_top_percent,
    shape_name,
)
from cinit_tf.measures import rank as rank_stats
from cinit_tf.readout import CUBE_MIN_FIT, arrangement_fits, final_shape, learned_arrangement
from cinit_tf.seeds import rng
from cinit_tf.signals import arrangement_scores, arrangements, top_percent
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health
from cinit_tf.writeup.section import Declaration, Measured, Section

PAPER_MEAN, PAPER_STD, PAPER_SEEDS = 10.0, 12.0, 100
SHAPES = rank_stats.FINAL_SHAPES
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


# ---------------------------------------------------------------- per trial


def alpha_classes(bits: int) -> np.ndarray:
    """Each arrangement's class: arrangements with the same α (the same squared cube distances) share one."""
    _, alphas = arrangements(bits)
    upper = np.triu_indices(2**bits, k=1)
    _, alpha_class = np.unique(alphas[:, upper[0], upper[1]], axis=0, return_inverse=True)
    return np.ravel(alpha_class)


def measure_trial(trial, bits: int) -> dict:
    E0, E1 = trial.result.initial_embedding, trial.result.final_embedding
    g0 = arrangement_scores(E0, bits)
    readout = learned_arrangement(E1, bits)
    fits = arrangement_fits(E1, bits)
    control = int(rng(rank_stats.CONTROL_STREAM, trial.seeds[0]).integers(len(g0)))
    tied = np.flatnonzero(fits >= readout.fit - TIE_TOLERANCE)
    tied_tp = [top_percent(g0, g0[i]) for i in tied]
    return {
        "id": trial.id,
        "seed": trial.seeds[0],
        "arrangement": readout.index,
        "fit": readout.fit,
        "shape": final_shape(E1, bits),
        "top_percent": top_percent(g0, g0[readout.index]),
        "control_arrangement": control,
        "control_top_percent": top_percent(g0, g0[control]),
        "tied_alphas": int(np.unique(alpha_classes(bits)[tied]).size),
        "tied_top_percent_min": float(min(tied_tp)),
        "tied_top_percent_max": float(max(tied_tp)),
        **rank_stats.outcome(trial),
    }


# ---------------------------------------------------------------- measure


CLAIM_NAMES = (RANK_CLAIM, SHAPE_CLAIM)


@dataclass(kw_only=True)
class XorRankMeasured(Measured):
    """The numbers of an XOR rank run."""

    bits: int = 0
    rows: list = field(default_factory=list)  # measure_trial of each valid trial
    # {group: (rank_stats.stats_of learned top-%, rank_stats.stats_of control top-%)}: all, shapes, outcome
    stats: dict = field(default_factory=dict)
    n_cubes: int = 0
    cubes_ci: tuple = (float("nan"), float("nan"))  # Wilson 95% CI of the share of cubes
    # learned against control, one-sided, over all valid trials
    mann_whitney: dict = field(default_factory=dict)
    # {shape: the same within that final shape}, shapes with ≥ 2 trials
    shape_tests: dict = field(default_factory=dict)


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
    cube_lo, cube_hi = m.cubes_ci
    our = (
        f"learned arrangement's initial signal in the top {formatting.fmt(s_all['mean'])}% on average, std "
        f"{formatting.fmt(s_all['std'])}% ({n} seeds, {'/'.join(map(str, writeup.steps_of(m.valid)))} steps; "
        f"final shapes: {_shape_counts(m)}); random control {formatting.fmt(s_control['mean'])}% ± "
        f"{formatting.fmt(s_control['std'])}%; {sum(r['generalised'] for r in rows)}/{n} generalised; cubes "
        f"{formatting.fmt(100 * m.n_cubes / len(rows))}% (95% CI {formatting.fmt(100 * cube_lo)}–"
        f"{formatting.fmt(100 * cube_hi)}%)"
    )
    ran = writeup.profile_lines(record, m.trials) + [
        f"Task c = a XOR b on {m.bits}-bit tokens (p = {2**m.bits}); every trial has its own embedding, MLP and "
        "split seed.",
        f"Per trial: the learned arrangement from the final embedding; g ranked among all "
        f"{len(arrangements(m.bits)[0])} arrangements on the initial embedding; a random control arrangement per "
        f"trial, drawn from the seed stream `{rank_stats.CONTROL_STREAM}` at the trial's embedding seed.",
    ]
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=ran,
        deviations=_deviations(m),
        findings=_findings(m),
        figures=_figures(m, out_dir),
        summary=_summary(m),
        short_number=rank_stats.short_number(s_all, s_control, n)
        + f"; cubes {m.n_cubes}/{len(rows)}",
    )


def _figures(m: XorRankMeasured, out_dir: Path) -> list:
    """Fig. 2a on examples per final shape, Fig. 2b on typical trials, then the distributions."""
    by_id = {r["id"]: r for r in m.rows}
    typical = inference.typical(
        m.valid, lambda t: by_id[t.id]["top_percent"], m.options.histogram_seeds
    )
    return [
        figure_embeddings(
            _examples(m.valid, by_id, m.options.embedding_seeds), by_id, m.bits, out_dir
        ),
        figure_signal_histograms(typical, by_id, m.bits, out_dir),
        figure_top_percent(m.rows, PAPER_MEAN, PAPER_STD, out_dir),
        figure_fit(m.rows, out_dir),
    ]


def _shape_counts(m: XorRankMeasured) -> str:
    return ", ".join(f"{m.stats[s][0]['n']} {shape_name(s)}" for s in SHAPES)


def _deviations(m: XorRankMeasured) -> list[str]:
    n_arr = len(arrangements(m.bits)[0])
    n_distinct = int(alpha_classes(m.bits).max()) + 1
    return rank_stats.seed_deviations(m.valid, PAPER_SEEDS) + [
        f"Rank over all {n_arr} invertible matrices M over GF(2), as the paper counts them "
        f"({formatting.method('signals')}): they give only {n_distinct} distinct α (each shared by "
        f"{n_arr // n_distinct} axis orders, which score identically). Top-% = 100 · #(arrangements with g "
        f"strictly greater) / {n_arr}, so ties do not push the learned one down and the possible values are "
        f"multiples of {formatting.fmt(100 * (n_arr // n_distinct) / n_arr, 3)}%.",
        f"Read-off ({formatting.method('read-offs')}, ours): the arrangement whose α has the highest Pearson r (over "
        "i < j) with the final squared distances; the paper does not say how it reads the arrangement off.",
        f'Final shape ({formatting.method("read-offs")}, ours; readout.final_shape): "cube" when that fit r ≥ '
        f'{CUBE_MIN_FIT:g}; "cross-polytope" when the tokens form antipodal pairs roughly equidistant from all '
        'others; "other" otherwise. On a cross-polytope several distinct α fit alike; the number within '
        f"{TIE_TOLERANCE:g} of the best fit and the range of their top-% are reported.",
        "The random control is ours; the paper has none.",
        rank_stats.GENERALISED_NOTE,
        *writeup.common_deviations(m.valid),
        writeup.STATISTICS_NOTE + rank_stats.TEST_NOTE,
    ]


GROUP_NAMES = {
    "all": "all",
    **{s: shape_name(s) for s in SHAPES},
    "generalised": "generalised",
    "not_generalised": "never 100% test accuracy",
}


def _group_table(m: XorRankMeasured) -> str:
    """Learned and control top-% and the fit r, over all trials, per final shape and per outcome."""
    header = ["trials", "n", "top-% learned: mean ± std", "95% CI", "median"]
    return formatting.md_table(
        header + ["control: mean ± std", "fit r: mean (min)"],
        [
            [
                GROUP_NAMES[g],
                *rank_stats.stats_cells(s),
                rank_stats.mean_std_cell(c),
                f"{formatting.fmt(np.mean([r['fit'] for r in sub]), 3)} "
                f"({formatting.fmt(min(r['fit'] for r in sub), 3)})"
                if sub
                else "–",
            ]
            for g, sub in _groups(m.rows).items()
            for s, c in [m.stats[g]]
        ],
    )


def _findings(m: XorRankMeasured) -> list[str]:
    rows, n = m.rows, len(m.valid)
    groups = _groups(rows)
    shape_tests = [
        f"{shape_name(s)}: Mann–Whitney U = {formatting.fmt(mw['u'])}, one-sided "
        f"{formatting.fmt_p(mw['p'])} (n = {m.stats[s][0]['n']})"
        for s, mw in m.shape_tests.items()
    ]
    return [
        f"Top-% of the learned arrangement among all {len(arrangements(m.bits)[0])} on the initial embedding "
        f"(0 = highest signal); paper: {PAPER_MEAN:g} ± {PAPER_STD:g} over {PAPER_SEEDS} seeds. Final shapes: "
        f"{_shape_counts(m)}.",
        _group_table(m),
        rank_stats.paper_in_ci_text(m.stats["all"][0], PAPER_MEAN),
        ("Learned against control within each final shape: " + "; ".join(shape_tests) + ".")
        if shape_tests
        else "No final shape has two or more trials to test learned against control within it.",
        _ambiguity_text(rows),
        f"Generalisation: {len(groups['generalised'])} of {n} trials reached 100% test accuracy "
        f"({sum(r['held_to_end'] for r in rows)} were at 100% at the last step)"
        + (
            "; those that never did are in the table above and in the headline number."
            if groups["not_generalised"]
            else "."
        ),
        _per_trial_table(rows),
        *health.health_findings(m.trials),
    ]


def _ambiguity_text(rows: list[dict]) -> str:
    """The trials whose read-off is ambiguous (more than one distinct α fits alike), and what their tie spans."""
    ambiguous = [r for r in rows if r["tied_alphas"] > 1]
    text = (
        f"Ambiguous read-offs: {len(ambiguous)} of {len(rows)} trials have more than one distinct α within "
        f"{TIE_TOLERANCE:g} of the best fit ({_tie_counts(ambiguous)})."
    )
    if not ambiguous:
        return text
    return text + (
        f" Over their tied α the top-% spans "
        f"{formatting.fmt(np.mean([r['tied_top_percent_min'] for r in ambiguous]))} (best tied α) to "
        f"{formatting.fmt(np.mean([r['tied_top_percent_max'] for r in ambiguous]))} (worst) on average, against "
        f"{formatting.fmt(np.mean([r['top_percent'] for r in ambiguous]))} for the one the read-off picks."
    )


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


def _per_trial_table(rows: list[dict]) -> str:
    return rank_stats.per_trial_table(
        rows,
        [
            ("seed", lambda r: r["seed"]),
            ("final shape", lambda r: shape_name(r["shape"])),
            ("fit r", lambda r: formatting.fmt(r["fit"], 3)),
            ("arrangement", lambda r: str(r["arrangement"])),
            ("top-%", lambda r: formatting.fmt(r["top_percent"], 3)),
            ("control top-%", lambda r: formatting.fmt(r["control_top_percent"], 3)),
            ("tied α", lambda r: str(r["tied_alphas"])),
        ],
    )
