"""App. F, Fig. 14: a large initial signal does not guarantee survival.

The paper's claim: training dynamics depend on more than the initial embedding (MLP initialisation,
split, ...). Fig. 14b shows a run in which a frequency with a high initial norm dies while one with
a low initial norm ends up learned; the paper gives no count of how often this happens.

Trials: independent runs (every seed stream = one seed). The study searches them, with fixed
definitions (ours, since the paper gives none), at τ = 0.05:
- "high" frequency: rank 1-3 by initial signal within its run (`analysis.high_top`, default 3);
- "low" frequency: initial signal strictly below its run's median initial signal;
- a run is a case of complex dynamics when a high frequency dies and a low frequency survives.
The example drawn is the case whose dying high frequency ranks best at initialisation, ties broken
by the surviving low frequency ranking worst, then by trial id.

Verdict rule (fixed here, before any numbers): `verdict_rule`, declared in DECLARATION.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import complex_dynamics as complex_dynamics_figures
from cinit_tf.measures import survival
from cinit_tf.settings import Int, setting
from cinit_tf.signals import n_frequencies
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import NOT_ASSESSABLE, NOT_REPRODUCED, REPRODUCED, Claim
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health
from cinit_tf.writeup.section import Declaration, Measured, Section

HIGH_TOP = 3

CLAIM = (
    "A large initial signal does not guarantee that a representation is learned: training also depends on the MLP "
    "initialisation, the data split and more. Fig. 14b shows a run in which a frequency with a high initial norm dies "
    "(dotted red) while a frequency with a low initial norm is eventually learned (dotted green)."
)

PAPER_NUMBER = "such runs exist (one example, Fig. 14b); how often is not given"


HIGH_CLAIM = "a high initial signal can die"
LOW_CLAIM = "a low initial signal can survive"
BOTH_CLAIM = "both in one run (Fig. 14b)"
CLAIM_NAMES = (HIGH_CLAIM, LOW_CLAIM, BOTH_CLAIM)


# An existence claim: the paper shows one example (Fig. 14b), so one run decides and no margin applies.
EXISTENCE_SOURCE = (
    'App. F: "a large initial signal does not guarantee that the representation will be '
    'learned" (one example, Fig. 14b)'
)


def verdict_rule(high_top: int) -> str:
    return (
        f'three existence claims over the valid runs (finite training), at τ = {formatting.fmt(survival.TAU)}, with "high" '
        f'= rank 1–{high_top} by initial signal within the run and "low" = initial signal below the '
        f"run's median; the headline is the weakest. ({HIGH_CLAIM}) some run has a high frequency die; "
        f"({LOW_CLAIM}) some run has a low frequency survive; ({BOTH_CLAIM}) some run has both. "
        f"{EXISTENCE_SOURCE} is read as an existence claim, so one run decides and no margin applies: at "
        "least one run → reproduced, with the share's Wilson 95% CI (how often; the paper gives no "
        "number); none → not reproduced (the CI's upper end says how rare it can be). Not assessable when "
        f"fewer than {verdicts.MIN_VALID_SHARE:.0%} of the runs (or fewer than 3) are valid."
    )


@dataclass(frozen=True)
class ComplexDynamicsAnalysis:
    """The `[analysis]` table: how many initial ranks count as "high"."""

    high_top: int = setting(Int(1), HIGH_TOP, doc='"high" = rank 1..high_top by initial signal')


DECLARATION = Declaration(
    paper_ref="App. F, Fig. 14",
    title="Complex training dynamics: a high initial signal can die, a low one can survive (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=verdict_rule(HIGH_TOP),
    analysis=ComplexDynamicsAnalysis,
)


# ---------------------------------------------------------------- classification


def classify(initial, mask, high_top: int = HIGH_TOP) -> dict:
    """Dying high and surviving low frequencies (1-based k) of one run, from its initial signal and survivor mask."""
    initial = np.asarray(initial, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    ranks = survival.initial_ranks(initial)
    high = ranks <= high_top
    low = initial < np.median(initial)
    dead_high = np.flatnonzero(high & ~mask) + 1
    live_low = np.flatnonzero(low & mask) + 1
    return {
        "ranks": ranks,
        "dead_high": dead_high.tolist(),
        "live_low": live_low.tolist(),
        "top1_dies": bool(np.any((ranks == 1) & ~mask)),
        "complex": bool(dead_high.size and live_low.size),
    }


def run_classes(trials, tau: float = survival.TAU, high_top: int = HIGH_TOP) -> list[dict]:
    out = []
    for t in trials:
        c = classify(survival.initial_signal(t), survival.survivor_mask(t, tau), high_top)
        c.update(
            trial=t,
            id=t.id,
            seed=t.seeds[0],
            count=int(survival.survivor_mask(t, tau).sum()),
        )
        out.append(c)
    return out


def pick_example(classes: list[dict]) -> dict | None:
    """The case whose dying high frequency ranks best at init; then the surviving low one ranking worst; then id."""
    cases = [c for c in classes if c["complex"]]
    if not cases:
        return None

    def key(c):
        best_dead = min(int(c["ranks"][k - 1]) for k in c["dead_high"])
        worst_live = max(int(c["ranks"][k - 1]) for k in c["live_low"])
        return (best_dead, -worst_live, c["id"])

    return min(cases, key=key)


def event_counts(classes: list[dict]) -> dict:
    """How many of the runs (`run_classes`) have a high frequency die, a low one survive, both, the top-1 die."""
    return {
        "dead_high": sum(bool(c["dead_high"]) for c in classes),
        "live_low": sum(bool(c["live_low"]) for c in classes),
        "complex": sum(c["complex"] for c in classes),
        "top1_dies": sum(c["top1_dies"] for c in classes),
    }


def random_baseline(initial, count: int, high_top: int = HIGH_TOP) -> dict:
    """Probabilities of the three events if the run's `count` survivors were drawn uniformly at random.

    The yardstick for the observed shares: with about 4 survivors of 29, a top-3 frequency dies and a
    low one survives in most runs by chance alone, so only a share well below chance says that the
    initial signal matters.
    """
    from math import comb

    initial = np.asarray(initial, dtype=np.float64)
    K, n = initial.size, int(count)
    ranks = survival.initial_ranks(initial)
    H = int(np.sum(ranks <= high_top))
    L = int(np.sum(initial < np.median(initial)))
    total = comb(K, n)
    all_high_live = comb(K - H, n - H) / total if n >= H else 0.0
    no_low_live = comb(K - L, n) / total
    # All high survive and no low survives: the high ones plus n - H drawn from the middle (overlap of high and low is empty).
    both_not = comb(K - L - H, n - H) / total if n >= H else 0.0
    return {
        "dead_high": 1 - all_high_live,
        "live_low": 1 - no_low_live,
        "complex": 1 - all_high_live - no_low_live + both_not,
    }


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class ComplexDynamicsMeasured(Measured):
    K: int = 0  # frequencies per run
    # `run_classes` of the valid runs at τ = survival.TAU, in id order
    classes: list = field(default_factory=list)
    n_dead_high: int = 0
    n_live_low: int = 0
    n_complex: int = 0
    n_top1: int = 0
    example: dict | None = None  # the most extreme case (`pick_example`)
    # the contrast run: no high dies, no low survives, survivor count nearest the median
    typical: dict | None = None
    # runs in which no high frequency dies and no low one survives (the contrast run's kind)
    n_plain: int = 0
    # expected counts of the three events under random survivors
    expected: dict = field(default_factory=dict)
    per_tau: list = field(default_factory=list)  # the counts at each τ of survival.TAUS
    counts: dict = field(default_factory=dict)  # survival.count_summary of the survivors per run


def exists_claim(name: str, k: int, n: int) -> Claim:
    """An existence claim: reproduced when at least one of n runs shows it; the share and its Wilson CI alongside."""
    if n == 0:
        return Claim(
            name,
            NOT_ASSESSABLE,
            "no valid runs",
            kind="observation",
            reason="too_few_valid",
            n=0,
        )
    numbers = dict(
        value=k / n, ci=inference.share_ci(k, n), n=n, kind="observation", effect="share of runs"
    )
    if k > 0:
        return Claim(name, REPRODUCED, f"{k} of {n} runs", reason="observed", **numbers)
    return Claim(
        name,
        NOT_REPRODUCED,
        f"0 of {n} runs; no run shows it",
        reason="not_observed",
        **numbers,
    )


def _share_text(k: int, n: int) -> str:
    lo, hi = inference.share_ci(k, n)
    return f"{k}/{n} runs ({formatting.fmt(100 * k / n)}%, 95% CI {formatting.fmt(100 * lo)}–{formatting.fmt(100 * hi)}%)"


def measure(trials, options) -> ComplexDynamicsMeasured:
    """The three existence claims and the counts behind them, over the valid runs (finite training)."""
    options = options or ComplexDynamicsAnalysis()
    m = writeup.begin(trials, CLAIM_NAMES, options, cls=ComplexDynamicsMeasured)
    if not m.assessable:
        return m
    high_top = options.high_top
    m.K = n_frequencies(writeup.task_p(m.valid[0].settings["task"]))
    m.classes = run_classes(m.valid, survival.TAU, high_top)
    n = len(m.classes)
    events = event_counts(m.classes)
    m.n_dead_high, m.n_live_low = events["dead_high"], events["live_low"]
    m.n_complex, m.n_top1 = events["complex"], events["top1_dies"]
    m.example = pick_example(m.classes)
    chance = [
        random_baseline(survival.initial_signal(c["trial"]), c["count"], high_top)
        for c in m.classes
    ]
    m.expected = {
        key: float(sum(b[key] for b in chance)) for key in ("dead_high", "live_low", "complex")
    }
    plain = [c for c in m.classes if not c["dead_high"] and not c["live_low"]]
    m.typical = inference.typical(plain, lambda c: c["count"], 1)[0] if plain else None
    m.n_plain = len(plain)
    m.claims = [
        exists_claim(HIGH_CLAIM, m.n_dead_high, n),
        exists_claim(LOW_CLAIM, m.n_live_low, n),
        exists_claim(BOTH_CLAIM, m.n_complex, n),
    ]
    m.per_tau = [
        {"tau": tau, **event_counts(run_classes(m.valid, tau, high_top))} for tau in survival.TAUS
    ]
    m.counts = survival.count_summary([c["count"] for c in m.classes])
    return m


# ---------------------------------------------------------------- write


def _deviations(m: ComplexDynamicsMeasured) -> list[str]:
    high_top = m.options.high_top
    return [
        f'"High" (rank ≤ {high_top} by initial signal within the run) and "low" (initial signal below the run\'s median) '
        "are our definitions; the paper shows one example and defines neither.",
        f"Survival rule ({formatting.method('survival-rule')}, ours): final signal ≥ τ · max_k final signal, τ = {formatting.fmt(survival.TAU)}; the counts are also given "
        "for τ = 0.01 and 0.2.",
        "The example is chosen by a fixed rule among this experiment's runs, not by eye: it is the most extreme case (the "
        "dying high frequency with the best initial rank), labelled as such; the contrast run is the median one of the runs "
        "in which nothing of the kind happens, with how many runs those are.",
        "How often such runs occur is our number; the paper gives none.",
        *writeup.paper_setting_deviations(m.valid),
        *writeup.common_deviations(m.valid),
        writeup.STATISTICS_NOTE,
    ]


def _findings(m: ComplexDynamicsMeasured) -> list[str]:
    n, counts, expected = len(m.classes), m.counts, m.expected
    findings = [
        formatting.md_table(
            [
                "τ",
                "a high frequency dies",
                "a low frequency survives",
                "both (complex)",
                "top-1 at init dies",
            ],
            [
                [
                    formatting.fmt(r["tau"]),
                    f"{r['dead_high']}/{n}",
                    f"{r['live_low']}/{n}",
                    f"{r['complex']}/{n}",
                    f"{r['top1_dies']}/{n}",
                ]
                for r in m.per_tau
            ],
        ),
        f"Survivors per run at τ = {formatting.fmt(survival.TAU)}: {formatting.fmt(counts['mean'])} ± {formatting.fmt(counts['std'])} "
        f"(range {counts['min']}–{counts['max']}, n = {n}).",
        f"Yardstick: if each run's survivors (same number) were drawn at random, a high frequency would die in "
        f"{formatting.fmt(expected['dead_high'])} of {n} runs, a low one survive in {formatting.fmt(expected['live_low'])} and both happen in "
        f"{formatting.fmt(expected['complex'])} (expected counts, τ = {formatting.fmt(survival.TAU)}); observed {m.n_dead_high}, {m.n_live_low} and "
        f"{m.n_complex}. Chance is the yardstick: fewer such runs than chance means the initial signal steers survival, "
        "more would mean it works against it.",
    ]
    example = m.example
    if example is not None:
        r = example["ranks"]
        findings.append(
            f"Example (Fig. 14b): seed {example['seed']} (trial `{example['id'][:12]}`): high frequencies dying "
            + ", ".join(f"k = {k} (initial rank {r[k - 1]})" for k in example["dead_high"])
            + "; low frequencies surviving "
            + ", ".join(f"k = {k} (initial rank {r[k - 1]})" for k in example["live_low"])
            + "."
        )
    else:
        findings.append(
            "No run of this experiment has a high frequency dying and a low frequency surviving, so there is no "
            "example to draw."
        )
    findings.append(
        formatting.md_table(
            ["seed", "survivors", "dying high (k)", "surviving low (k)"],
            [
                [
                    str(c["seed"]),
                    str(c["count"]),
                    ", ".join(map(str, c["dead_high"])) or "–",
                    ", ".join(map(str, c["live_low"])) or "–",
                ]
                for c in sorted(m.classes, key=lambda c: (c["seed"], c["id"]))
            ],
        )
    )
    return findings + health.health_findings(m.trials)


def _summary(m: ComplexDynamicsMeasured) -> dict:
    n, example = len(m.classes), m.example
    return {
        "tau": survival.TAU,
        "high_top": m.options.high_top,
        "runs": n,
        "dead_high": m.n_dead_high,
        "live_low": m.n_live_low,
        "complex": m.n_complex,
        "top1_dies": m.n_top1,
        "complex_share_ci95": (m.n_complex / n, *inference.share_ci(m.n_complex, n)),
        "per_tau": m.per_tau,
        "counts": m.counts,
        "expected_under_random_survivors": m.expected,
        "example": None
        if example is None
        else {
            "id": example["id"],
            "seed": example["seed"],
            "dead_high": example["dead_high"],
            "live_low": example["live_low"],
        },
        "claims": {c.name: c.verdict for c in m.claims},
        "valid": len(m.valid),
        "excluded_trials": len(m.trials) - len(m.valid),
    }


def write(m: ComplexDynamicsMeasured, record: dict, out_dir: Path) -> Section:
    high_top = m.options.high_top
    if not m.assessable:
        return writeup.section(m, record, verdict_rule=verdict_rule(high_top))
    out_dir = Path(out_dir)
    n = len(m.classes)
    our = (
        f"high (top {high_top} at init) dies while a low (below median) survives in {_share_text(m.n_complex, n)}; "
        f"a high frequency dies in {m.n_dead_high}/{n}, a low one survives in {m.n_live_low}/{n}, "
        f"the top-1 frequency dies in {m.n_top1}/{n} (τ = {formatting.fmt(survival.TAU)})"
    )
    ran = writeup.profile_lines(record, m.trials)
    ran.append(
        f"{n} independent runs (embedding, MLP and split seed equal per run); {m.K} frequencies per run."
    )
    figures = []
    if m.example is not None:
        figures.append(
            complex_dynamics_figures.figure_example(
                m.typical, m.example, high_top, out_dir, m.n_plain, n
            )
        )
    figures.append(complex_dynamics_figures.figure_ranks(m.classes, m.K, high_top, out_dir))
    return writeup.section(
        m,
        record,
        our_number=our,
        verdict_rule=verdict_rule(high_top),
        what_we_ran=ran,
        deviations=_deviations(m),
        findings=_findings(m),
        figures=figures,
        summary=_summary(m),
        short_number=f"{m.n_complex}/{n} runs ({formatting.fmt(100 * m.n_complex / n)}%) show it",
    )
