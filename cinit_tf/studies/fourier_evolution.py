"""§4.1, Fig. 3 and 4: how the Fourier frequencies of the embedding evolve, and which survive.

The paper's claim: over training, the Fourier norm ‖F_k‖² of a few frequencies stays large while
every other decays towards 0 (Fig. 3a); a surviving frequency's projection (on the plane of Re F_k,
Im F_k) settles into a circle while a dead one collapses to its centre (Fig. 3b); the top principal
components of the final embedding, in pairs, are loose versions of the top Fourier circles, with
neighbouring tokens Δ = k⁻¹ mod p apart (Fig. 4). 3-5 circles survive, and the survivors tend to
have started with a high signal.

Trials: independent runs (every seed stream = one seed), each keeping its embedding every
`train.snapshot_every` steps and after each of the first steps (`result.snapshots`), so Fig. 3b's
snapshots, Fig. 3a's curves and Fig. 4's final embedding all come from one training. The example
run is a typical one: its survivor count is the median count (ties: lowest seed).

Verdict rule (fixed here, before any numbers): VERDICT_RULE, declared in DECLARATION.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures.fourier_evolution import (
    figure_evolution,
    figure_pca,
    figure_ranks,
    figure_snapshots,
)
from cinit_tf.measures import survival
from cinit_tf.measures.evolution import EvolutionRun, run_stats
from cinit_tf.signals import n_frequencies
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import Margin
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health
from cinit_tf.writeup.section import Declaration, Measured, Section

# Fig. 3b's columns: the nearest kept step to each
SNAPSHOT_TARGETS = (0, 10, 100, 300, 1000, 3000, 10000, 30000)
TOP_AT_INIT = 5  # "among the top at init": the top 5 of 29 frequencies is about the top sixth

COUNT_CLAIM = "3–5 circles survive per run"
START_CLAIM = "survivors start with a high initial signal"
CLAIM_NAMES = (COUNT_CLAIM, START_CLAIM)
COUNT_SOURCE = (
    '§2.1: "different sets of 3-5 frequencies form the final representation", read as 4 ± 1'
)
# "Survivors start high" (§4.1) carries no number: the conventional small standardised difference
# (Cohen's d = 0.2) on the scale of a run's initial ranks 1..K, whose SD is √((K² − 1)/12).
START_D = 0.2
PAPER_K = 29  # frequencies at the paper's p = 59


def start_margin(K: int) -> Margin:
    """The margin of "survivors start high" in ranks for K frequencies: START_D SDs of the ranks 1..K."""
    sd = math.sqrt((K * K - 1) / 12)
    return Margin(
        START_D * sd,
        '§4.1: "the surviving circles in the end tend to have higher initial '
        "signal\", no number: the conventional small difference (Cohen's d = "
        f"{START_D:g}) on the scale of a run's initial ranks 1..K (SD √((K² − 1)/12) = "
        f"{sd:.3g} at K = {K}), {START_D * sd:.3g} ranks; a convention of ours",
    )


START_MARGIN = start_margin(PAPER_K)
VERDICT_RULE = (
    f"two claims at τ = {formatting.fmt(survival.TAU)} over the valid runs (finite training), the headline being the "
    f"weaker. (1) {COUNT_CLAIM}, a number claim against the paper's range: reproduced when our 95% CI of "
    "the mean count of survivors, widened by a margin of ±1 declared in advance "
    f"({COUNT_SOURCE}), contains 4; partly when it does not but few frequencies survive (the mean count "
    f"is below a quarter of the frequencies); not reproduced otherwise. (2) {START_CLAIM}, a qualitative "
    "claim: the mean initial rank (1 = highest, within its run) of the dead frequencies minus that of the "
    "survivors, pooled over runs, with a one-sided Mann–Whitney U test (effect with its Welch 95% CI), "
    f"margin {START_D:g} × √((K² − 1)/12) ranks, {START_MARGIN.value:.3g} at the paper's K = {PAPER_K} "
    f"({START_MARGIN.source}): {verdicts.direction_outcomes('positive')}. Not assessable when fewer than "
    f"{verdicts.MIN_VALID_SHARE:.0%} of the runs (or fewer than 3) are valid."
)

CLAIM = (
    "Over training, only a few frequencies keep a significant Fourier norm ‖F_k‖²; the rest decay towards 0 (Fig. 3a). "
    "Projected on its plane (Re F_k, Im F_k), a surviving frequency settles into a clear circle while a dead one "
    "collapses to its centre (Fig. 3b). The top principal components of the final embedding, taken in pairs, correspond "
    "to the top Fourier circles, with adjacent tokens Δ = k⁻¹ mod p apart (Fig. 4). 3–5 circles survive, and the "
    "survivors tend to start with a high initial signal."
)

PAPER_NUMBER = "3–5 circles survive per run; survivors start with high initial signal (Fig. 3a; no number or sample size given)"


DECLARATION = Declaration(
    paper_ref="§4.1, Fig. 3, 4",
    title="Fourier frequencies over training: which circles survive (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- per run


def rank_test(stats: list[EvolutionRun]) -> dict:
    """Survivors' initial ranks against the dead frequencies' (pooled over runs): one-sided Mann-Whitney U (survivors
    lower), and the effect = mean dead rank − mean survivor rank with its Welch 95% CI."""
    surv = np.asarray([r for s in stats for r in s.survivor_ranks], dtype=float)
    dead = np.asarray([r for s in stats for r in s.dead_ranks], dtype=float)
    out = {
        "U": float("nan"),
        "p": float("nan"),
        "n_survivors": int(surv.size),
        "n_dead": int(dead.size),
        "effect": float("nan"),
        "ci95": [float("nan"), float("nan")],
    }
    if surv.size < 2 or dead.size < 2:
        return out
    mw = inference.mann_whitney_less(surv, dead)
    welch = inference.welch_contrast([dead, surv], (1.0, -1.0))
    out.update(
        {"U": mw["u"], "p": mw["p"], "effect": welch["difference"], "ci95": list(welch["ci95"])}
    )
    return out


def claims_of(counts, test: dict, K: int) -> list:
    """The section's two claims from the survivor counts per run and the rank test (the declared rule)."""
    counts = [float(c) for c in counts]
    few = bool(counts) and float(np.mean(counts)) < K / 4
    count = verdicts.number_vs_value(
        COUNT_CLAIM, counts, 4.0, direction_holds=few, margin=1.0, margin_why=COUNT_SOURCE
    )
    note = (
        f"{test['n_survivors']} survivors, {test['n_dead']} dead, pooled over runs; n counts both; p: "
        "one-sided Mann–Whitney U"
    )
    start = verdicts.direction(
        START_CLAIM,
        test["effect"],
        test["ci95"][0],
        test["ci95"][1],
        test["p"],
        +1,
        "mean initial rank of dead − survivors",
        margin=start_margin(K),
        n=test["n_survivors"] + test["n_dead"],
        note=note,
    )
    return [count, start]


def snapshot_series(trial) -> list[tuple[int, np.ndarray]]:
    """(step, embedding) of the kept snapshots nearest each of SNAPSHOT_TARGETS (each at most once, in order)."""
    steps = getattr(trial.result, "snapshot_steps", None)
    shots = getattr(trial.result, "snapshots", None)
    if steps is None or shots is None or len(steps) == 0:
        return []
    steps = np.asarray(steps, dtype=np.int64)
    last = int(steps[-1])
    picked = []
    for target in [t for t in SNAPSHOT_TARGETS if t < last] + [last]:
        i = int(np.argmin(np.abs(steps - target)))
        if i not in picked:
            picked.append(i)
    return [(int(steps[i]), np.asarray(shots[i], dtype=np.float64)) for i in sorted(picked)]


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class FourierEvolutionMeasured(Measured):
    p: int = 0
    K: int = 0  # frequencies per run
    # the valid runs, the example first, then by (embedding seed, id)
    runs: list = field(default_factory=list)
    # the valid runs, survivor count nearest the median first
    typical_runs: list = field(default_factory=list)
    # the example run (Fig. 3a's first panel, Fig. 3b, Fig. 4): the median survivor count
    example: object = None
    stats: list = field(default_factory=list)  # `run_stats` of each run, in the order of `runs`
    counts: dict = field(default_factory=dict)  # {τ: survivors per run} (survival.survivor_counts)
    count_summary: dict = field(default_factory=dict)  # survival.count_summary at τ = survival.TAU
    # Student-t 95% CI of the mean survivor count at τ = survival.TAU
    counts_ci95: tuple = (float("nan"), float("nan"))
    rank_test: dict = field(default_factory=dict)  # `rank_test` of the pooled initial ranks
    # initial ranks of every survivor, pooled over runs
    survivor_ranks: list = field(default_factory=list)
    survivor_rank: tuple = (float("nan"), float("nan"))  # (mean, std) of `survivor_ranks`
    top_share: float = float("nan")  # share of survivors in their run's initial top TOP_AT_INIT
    top1: float = float("nan")  # share of runs in which the initial top-1 frequency survives
    # per run: share of the first 2n PCs dominated by a survivor
    pc_on: list = field(default_factory=list)
    # per run: share of PC pairs matching the final order
    pair_order: list = field(default_factory=list)
    # per run: survivors' share of the final Fourier energy
    energy: list = field(default_factory=list)
    # per run: the largest dead final signal over the largest
    dead_ratio: list = field(default_factory=list)
    # the example's snapshots shown in Fig. 3b: [(step, embedding)]
    series: list = field(default_factory=list)
    # Fig. 3b's {"dead", "surviving", "steps"}, or None when not drawn
    snapshot_frequencies: dict | None = None
    snapshot_ranks: tuple = ()  # initial ranks of Fig. 3b's dead and surviving frequency


def _snapshot_frequencies(m: FourierEvolutionMeasured) -> None:
    """Fig. 3b's frequencies: the dead one with the highest initial signal, the survivor with the highest final signal."""
    mask = survival.survivor_mask(m.example, survival.TAU)
    init, final = survival.initial_signal(m.example), survival.final_signal(m.example)
    if not (m.series and mask.any() and (~mask).any()):
        return
    dead = int(np.flatnonzero(~mask)[np.argmax(init[~mask])]) + 1
    alive = int(np.flatnonzero(mask)[np.argmax(final[mask])]) + 1
    m.snapshot_frequencies = {"dead": dead, "surviving": alive, "steps": [st for st, _ in m.series]}
    ranks = survival.initial_ranks(init)
    m.snapshot_ranks = (ranks[dead - 1], ranks[alive - 1])


def measure(trials, options) -> FourierEvolutionMeasured:
    """The survivor counts, the survivors' initial ranks and the PCA–Fourier correspondence of the valid runs."""
    m = writeup.begin(trials, CLAIM_NAMES, options, cls=FourierEvolutionMeasured)
    if not m.assessable:
        return m
    runs = sorted(m.valid, key=lambda t: (t.seeds[0], t.id))
    m.p = writeup.task_p(runs[0].settings["task"])
    m.K = n_frequencies(m.p)
    count_of = {t.id: int(survival.survivor_mask(t, survival.TAU).sum()) for t in runs}
    m.typical_runs = inference.typical(runs, lambda t: count_of[t.id], len(runs))
    m.example = m.typical_runs[0]
    m.runs = [m.example] + [t for t in runs if t is not m.example]

    m.stats = [run_stats(t) for t in m.runs]
    m.counts = survival.survivor_counts(m.runs)
    m.count_summary = survival.count_summary(m.counts[survival.TAU])
    m.rank_test = rank_test(m.stats)
    m.claims = claims_of(m.counts[survival.TAU], m.rank_test, m.K)
    m.survivor_ranks = [r for s in m.stats for r in s.survivor_ranks]
    m.top_share = (
        float(np.mean(np.asarray(m.survivor_ranks) <= TOP_AT_INIT))
        if m.survivor_ranks
        else float("nan")
    )
    m.top1 = float(np.mean([s.top1_survives for s in m.stats]))
    m.pc_on = [s.pc_on_survivor for s in m.stats if np.isfinite(s.pc_on_survivor)]
    m.pair_order = [
        s.pc_pair_matches_order for s in m.stats if np.isfinite(s.pc_pair_matches_order)
    ]
    m.energy = [s.survivor_energy_share for s in m.stats]
    m.dead_ratio = [s.dead_max_ratio for s in m.stats if np.isfinite(s.dead_max_ratio)]
    m.survivor_rank = inference.mean_std(m.survivor_ranks)[:2]
    m.counts_ci95 = inference.mean_ci(m.counts[survival.TAU])[1:3]
    m.series = snapshot_series(m.example)
    _snapshot_frequencies(m)
    return m


# ---------------------------------------------------------------- write


def _what_we_ran(m: FourierEvolutionMeasured, record: dict) -> list[str]:
    example = m.example
    ran = writeup.profile_lines(record, m.trials)
    ran.append(f"{len(m.runs)} independent runs (embedding, MLP and split seed equal per run).")
    if m.series:
        ran.append(
            f"Snapshots: every run keeps its embedding every {int(example.settings['train'].get('snapshot_every', 0))} "
            f"steps and after each of the first {int(example.settings['train'].get('first_steps', 0))}; Fig. 3b shows "
            f"seed {example.seeds[0]} at steps {', '.join(str(st) for st, _ in m.series)}."
        )
    else:
        ran.append("No snapshots in this run (train.snapshot_every = 0), so Fig. 3b is not drawn.")
    return ran


def _deviations(m: FourierEvolutionMeasured) -> list[str]:
    return [
        f"Survival rule ({formatting.method('survival-rule')}, ours): frequency k survives when its final signal ≥ τ · max_k final signal, τ = {formatting.fmt(survival.TAU)}; "
        "the paper does not state its rule. Counts for τ = 0.01 and 0.2 are given too.",
        '"Survivors start high" is a qualitative remark in the paper (Fig. 3a, one run); the rank test, the top-'
        f"{TOP_AT_INIT} share and the number of runs are ours.",
        "Example run (ours): the run with the median survivor count (ties: lowest seed) is the one Fig. 3a's first panel, "
        "Fig. 3b and Fig. 4 show; Fig. 3a's other panels are the next runs nearest that median. Fig. 3b's dead frequency is "
        "the dead one with the highest initial signal, the surviving one the survivor with the highest final signal; each "
        "snapshot is projected on its own F_k plane. The paper does not say which it shows.",
        "Fig. 4's PCA–Fourier correspondence is measured by the frequency carrying most of each principal component's power "
        "(ours); the paper shows it by eye.",
        *writeup.paper_setting_deviations(m.runs),
        *writeup.common_deviations(m.trials),
        writeup.STATISTICS_NOTE,
    ]


def _findings(m: FourierEvolutionMeasured) -> list[str]:
    cs, K, surv_ranks = m.count_summary, m.K, m.survivor_ranks
    findings = [
        f"Survivors per run at τ = {formatting.fmt(survival.TAU)}: {formatting.fmt(cs['mean'])} ± {formatting.fmt(cs['std'])}, range {cs['min']}–{cs['max']}, "
        f"{formatting.fmt(100 * cs['share_3_to_5'])}% of {cs['n']} runs have 3–5. Histogram: "
        + ", ".join(
            f"{v} survivors: {c} run{'s' if c != 1 else ''}"
            for v, c in sorted(cs["histogram"].items())
        )
        + ".",
        survival.count_table(m.runs),
        f"Initial rank of survivors (1 = highest of {K}, pooled over runs): {formatting.fmt_mean_std(surv_ranks)}; median "
        f"{formatting.fmt(float(np.median(surv_ranks)) if surv_ranks else float('nan'))}. {formatting.fmt(100 * m.top_share)}% of survivors were in "
        f"their run's initial top {TOP_AT_INIT} (a random choice would give {formatting.fmt(100 * TOP_AT_INIT / K)}%). The frequency with "
        f"the highest initial signal survived in {formatting.fmt(100 * m.top1)}% of runs.",
        f"Survivors carry {formatting.fmt_mean_std(100 * np.asarray(m.energy), unit='%')} of the final embedding's Fourier energy "
        "(Σ over survivors of ‖F_k‖² over Σ over all k ≥ 1). The largest dead frequency ends at "
        f"{formatting.fmt_mean_std(100 * np.asarray(m.dead_ratio), unit='%')} of the largest final signal (the threshold is "
        f"{formatting.fmt(100 * survival.TAU)}%).",
        f"PCA against Fourier (Fig. 4), over runs: of the first 2n principal components of the final embedding (n = that "
        f"run's survivors), {formatting.fmt_mean_std(100 * np.asarray(m.pc_on), unit='%')} have their dominant frequency among the "
        f"survivors; PC pair i's dominant frequency is the i-th frequency by final ‖F_k‖² in "
        f"{formatting.fmt_mean_std(100 * np.asarray(m.pair_order), unit='%')} of pairs.",
        formatting.md_table(
            ["seed", "survivors (k)", "their initial ranks", "dominant k of PC1..PC2n"],
            [
                [
                    str(s.seed),
                    ", ".join(map(str, s.survivors)),
                    ", ".join(map(str, sorted(s.survivor_ranks))),
                    ", ".join(map(str, s.pc_dominant)),
                ]
                for s in sorted(m.stats, key=lambda s: s.seed)
            ],
        ),
    ]
    findings += health.health_findings(m.trials)
    if m.snapshot_frequencies is not None:
        f, (r_dead, r_alive) = m.snapshot_frequencies, m.snapshot_ranks
        findings.append(
            f"Snapshots (Fig. 3b), seed {m.example.seeds[0]}: dead frequency k = {f['dead']} "
            f"(initial rank {r_dead}), surviving k = {f['surviving']} (initial rank {r_alive})."
        )
    return findings


def _summary(m: FourierEvolutionMeasured) -> dict:
    m_rank, s_rank = m.survivor_rank
    return {
        "tau": survival.TAU,
        "counts": m.count_summary,
        "counts_ci95": list(m.counts_ci95),
        "counts_per_tau": {str(tau): survival.count_summary(c) for tau, c in m.counts.items()},
        "survivor_initial_rank": {"mean": m_rank, "std": s_rank, "n": len(m.survivor_ranks)},
        "rank_test": m.rank_test,
        "top_at_init": TOP_AT_INIT,
        "share_survivors_in_top": m.top_share,
        "top1_survives": m.top1,
        "pc_on_survivor": inference.mean_std(m.pc_on)[0],
        "pc_pair_matches_order": inference.mean_std(m.pair_order)[0],
        "survivor_energy_share": inference.mean_std(m.energy)[0],
        "dead_max_ratio": inference.mean_std(m.dead_ratio)[0],
        "example_seed": m.example.seeds[0],
        "snapshot_frequencies": m.snapshot_frequencies,
        "runs": [
            {k: v for k, v in dataclasses.asdict(s).items() if k != "dead_ranks"} for s in m.stats
        ],
        "claims": {c.name: c.verdict for c in m.claims},
        "valid": len(m.valid),
        "excluded_trials": len(m.trials) - len(m.valid),
    }


def write(m: FourierEvolutionMeasured, record: dict, out_dir: Path) -> Section:
    if not m.assessable:
        return writeup.section(m, record)
    out_dir = Path(out_dir)
    cs, K = m.count_summary, m.K
    m_rank, s_rank = m.survivor_rank
    c_lo, c_hi = m.counts_ci95
    our = (
        f"{formatting.fmt(cs['mean'])} ± {formatting.fmt(cs['std'])} survivors per run (95% CI {formatting.fmt(c_lo)}–{formatting.fmt(c_hi)}, range "
        f"{cs['min']}–{cs['max']}, n = {cs['n']} runs, τ = {formatting.fmt(survival.TAU)}); survivors' initial rank {formatting.fmt(m_rank)} ± "
        f"{formatting.fmt(s_rank)} of {K} (random: {formatting.fmt((K + 1) / 2)}), {formatting.fmt(100 * m.top_share)}% of survivors in their run's "
        f"initial top {TOP_AT_INIT} (random: {formatting.fmt(100 * TOP_AT_INIT / K)}%)"
    )
    figures = [
        figure_evolution([m.example] + [t for t in m.typical_runs if t is not m.example], out_dir)
    ]
    if m.snapshot_frequencies is not None:
        f = m.snapshot_frequencies
        figures.append(figure_snapshots(m.series, f["dead"], f["surviving"], m.p, out_dir))
    figures.append(figure_pca(m.example, m.p, out_dir))
    figures.append(figure_ranks(m.runs, K, out_dir))
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=_what_we_ran(m, record),
        deviations=_deviations(m),
        findings=_findings(m),
        figures=figures,
        summary=_summary(m),
        short_number=f"{formatting.fmt(cs['mean'], 2)} circles/run ({cs['min']}–{cs['max']}); survivors' initial rank {formatting.fmt(m_rank, 2)} of {K}",
    )
