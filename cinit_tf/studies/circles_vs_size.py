"""App. D, Fig. 11 and 12: how many circles survive training, against d, p and the weight decay.

The paper's claims (modular addition, 100 trials per point): the number of circles (surviving Fourier
frequencies) in the final representation grows with the embedding dimension d (Fig. 11a) and with the
modulus p (prime p, Fig. 11b; every p from 16 to 102, Fig. 11c); at weight decay 0 every frequency
survives and the network does not generalise, and as the weight decay grows the number of circles falls
(Fig. 12).

Trials: one population per (p, d, weight decay). The sweeps are read from the trials' settings around a
centre point (`[analysis]`, default the paper's p = 59, d = 128, weight decay 0.5): the d sweep is every
trial with the centre's p and weight decay; the p sweep every trial with the centre's d and weight decay
(prime p for Fig. 11b, all p for Fig. 11c); the weight-decay sweep every trial with the centre's p and d.
So the centre point, trained once, belongs to all three.

What is measured: survivors at the last recorded step by the survival rule (docs/method.md#survival-rule),
τ = 0.05, with τ = 0.01 and 0.2 beside it; the final test accuracy of the same runs; the settling check
at 2/3 of the steps each run trained (runs whose survivor set settled were checked by their stopping rule),
and, where the experiment has them, longer runs of a few points (case `settling_case`, default "long")
read where the main runs at their point stopped and at their own end. The longer runs belong
to no sweep. A run that never reached 100% test accuracy has not learned a representation:
it is excluded from the count claims and shown, marked, in every table and figure.

Verdict rule: VERDICT_RULE below (five claims; headline = weakest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import counts as count_figures
from cinit_tf.measures import survival
from cinit_tf.measures import sweeps as grid_sweeps
from cinit_tf.measures.count_runs import CountRun, point, split_companions
from cinit_tf.measures.longer_runs import long_settling
from cinit_tf.prose import circles_vs_size as circles_report
from cinit_tf.settings import Float, Int, Text, setting
from cinit_tf.signals import n_frequencies
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import NOT_ASSESSABLE, NOT_REPRODUCED, PARTLY, REPRODUCED, Claim, Margin
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section


@dataclass(frozen=True)
class CirclesAnalysis:
    """The `[analysis]` table: the centre point the three sweeps share."""

    centre_p: int = setting(Int(3), 59, doc="modulus p of the d and weight-decay sweeps")
    centre_d: int = setting(
        Int(1), 128, doc="embedding dimension d of the p and weight-decay sweeps"
    )
    centre_weight_decay: float = setting(Float(0.0), 0.5, doc="weight decay of the d and p sweeps")
    settling_case: str = setting(
        Text(), "long", doc="the case label of the longer runs of the settling check"
    )
    centre_seeds_p: int = setting(
        Int(0),
        0,
        doc="the centre enters the p sweeps with its runs of embedding seed below this (0: all)",
    )
    centre_seeds_wd: int = setting(
        Int(0),
        0,
        doc="the centre enters the weight-decay sweep with its runs of embedding seed below this (0: all)",
    )


# App. D: "we identify a clear positive correlation between the size of the embedding (d, p) and number of circles
# the model learns" — "clear" read as at least a moderate correlation (Cohen's "medium", |ρ| = 0.3). "As weight
# decay slightly increases, the number of final circular representations gradually drops" gives no size: the
# conventional small correlation.
SIZE_MARGIN = Margin(
    0.3,
    'App. D: "a clear positive correlation between the size of the embedding (d, p) and '
    'number of circles", "clear" read as at least a moderate |ρ| (Cohen\'s "medium")',
)
WD_MARGIN = Margin(
    verdicts.CONVENTIONAL_RHO.value,
    'App. D: "As weight decay slightly increases, the number of final '
    'circular representations gradually drops", no size given: ' + verdicts.CONVENTIONAL_RHO.source,
)
VERDICT_RULE = (
    "Five claims, each on the runs of its sweep, survivors counted at τ = 0.05 at the last recorded step. A run is valid "
    "when its training loss stayed finite and it reached 100% test accuracy (a run that does not generalise has learned no "
    "representation); invalid runs are excluded from claims 1, 2 and 3 and counted, and so are runs whose count is not final (below). (1) More circles with larger d "
    f"(Fig. 11a): Spearman ρ between d and the number of survivors over the valid runs of the d sweep, with its Fisher-z 95% "
    f"CI, margin ρ = {SIZE_MARGIN.value:g} ({SIZE_MARGIN.source}): {verdicts.direction_outcomes('positive')}. (2) More circles with "
    "larger prime p (Fig. 11b): the same over the prime p of the p sweep. (3) More circles with larger p, every p sampled "
    "(Fig. 11c): the same over all p of the p sweep. (4) Every frequency survives at weight decay 0 and the run does not "
    "generalise: every weight-decay-0 run keeps all K = ⌊(p − 1)/2⌋ frequencies and none reaches 100% test accuracy → "
    "reproduced; only one of the two holds in every run → partly; neither → not reproduced (no such runs → not assessable). "
    "(5) Fewer circles as the weight decay grows (Fig. 12): Spearman ρ between the weight decay and the number of survivors "
    "over the runs with weight decay > 0 whose count is final, generalising or not (the paper's figure spans both, and "
    "a rule that kept only generalising runs would keep only the large weight decays), with the outcomes of (1) for a "
    f'negative ρ and margin |ρ| = {WD_MARGIN.value:g} ({WD_MARGIN.source}). A count is final when the run\'s survivor set settled (`until = "survivors_settled"`) or the '
    "run was trained for a fixed number of steps; a run stopped at its cap before settling, or diverged, is left out and "
    "counted. A sweep with fewer than half of "
    "its runs valid, or fewer than 3, is not assessable. The headline is the weakest of the five."
)

CLAIM = (
    "The number of circles in the final representation of modular addition grows with the size of the embedding: with the "
    "embedding dimension d (Fig. 11a, d from 16 to 128) and with the modulus p (Fig. 11b, prime p; Fig. 11c, every p from "
    "16 to 102), over 100 trials. At weight decay 0 all frequencies survive while the network fails to generalise; as the "
    "weight decay grows, the number of circles drops (Fig. 12)."
)

PAPER_NUMBER = "circles rise with d and with p (Fig. 11; 100 trials, no number given); all survive at wd = 0 and fall as wd grows (Fig. 12)"

CLAIM_NAMES = (
    "more circles with larger d (Fig. 11a)",
    "more circles with larger prime p (Fig. 11b)",
    "more circles with larger p, all sampled p (Fig. 11c)",
    "every frequency survives at weight decay 0, without generalising",
    "fewer circles as the weight decay grows (Fig. 12, wd > 0)",
)

DECLARATION = Declaration(
    paper_ref="App. D, Fig. 11, 12",
    title="Number of surviving circles against d, p and weight decay (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=CirclesAnalysis,
)


# ---------------------------------------------------------------- per run


def run_row(trial) -> CountRun:
    """One run's point: (p, d, weight decay), survivors per τ, K, final test accuracy, validity, settling."""
    p, d, wd = point(trial)
    finite = writeup.is_finite_trial(trial)
    why = (
        None
        if finite and trial.result.convergence_step is not None
        else (
            "never reached 100% test accuracy"
            if finite
            else "non-finite training loss or embedding (diverged)"
        )
    )
    counts = {
        tau: int(survival.survivor_mask(trial, tau).sum()) if finite else None
        for tau in survival.TAUS
    }
    step = int(survival.SETTLING_SHARE * trial.result.stop_step)  # 2/3 of the steps it trained
    settled = (
        trial.until == "survivors_settled" and trial.result.stop_reason == "settled"
    )  # checked by its stopping rule
    same_set_late = (
        bool(
            np.array_equal(
                survival.survivor_mask(trial, survival.TAU, step=step),
                survival.survivor_mask(trial, survival.TAU),
            )
        )
        if finite and not settled
        else None
    )
    return CountRun(
        id=trial.id,
        p=p,
        d=d,
        wd=wd,
        K=n_frequencies(p),
        valid=why is None,
        why=why,
        generalised=trial.result.convergence_step is not None,
        finite=finite,
        test_acc=writeup.final(trial.result.test_acc),
        convergence_step=trial.result.convergence_step,
        until=trial.until,
        stop_reason=trial.result.stop_reason,
        counts=counts,
        same_set_late=same_set_late,
        settled_at=survival.settled_at(trial, survival.TAU) if finite else None,
        seed=trial.seeds[0],
        loss=trial.loss,
        train_acc=writeup.final(trial.result.train_acc),
        collapse_step=trial.result.collapse_step,
    )


def sweeps(rows: list[CountRun], centre: CirclesAnalysis) -> dict[str, list[CountRun]]:
    cp, cd, cw = centre.centre_p, centre.centre_d, centre.centre_weight_decay

    def seeded(
        r: CountRun, cap: int
    ) -> bool:  # the d sweep reads every centre seed; the others up to their cap
        return (r.p, r.d, r.wd) != (cp, cd, cw) or not cap or r.seed < cap

    p_sweep = [r for r in rows if r.d == cd and r.wd == cw and seeded(r, centre.centre_seeds_p)]
    return {
        "d": [r for r in rows if r.p == cp and r.wd == cw],
        "prime p": [r for r in p_sweep if grid_sweeps.is_prime(r.p)],
        "all p": p_sweep,
        "weight decay": [
            r for r in rows if r.p == cp and r.d == cd and seeded(r, centre.centre_seeds_wd)
        ],
    }


def count_trend(
    name,
    runs: list[CountRun],
    counted: list[CountRun],
    key: str,
    sign: int,
    margin,
    counted_as: str,
    note="",
) -> Claim:
    """Spearman ρ of the survivor count against `key` over the `counted` runs of a sweep (`runs`); not
    assessable when too few of them count (`counted_as` says which do)."""
    if not verdicts.assessable(len(counted), len(runs)):
        return verdicts.not_assessable(name, len(counted), len(runs), counted_as, kind="trend")
    xs, counts = [r.setting(key) for r in counted], [r.count for r in counted]
    return verdicts.trend(name, xs, counts, sign, margin=margin, note=note)


def trend_claim(name: str, runs: list[CountRun], key: str, sign: int) -> Claim:
    valid = [r for r in runs if r.valid and r.final]
    counted_as = "valid (finite and generalising) with a final count"
    return count_trend(name, runs, valid, key, sign, SIZE_MARGIN, counted_as)


def wd_trend_claim(runs: list[CountRun]) -> Claim:
    """Claim 5 over the runs with weight decay > 0 whose count is final, generalising or not."""
    final = [r for r in runs if r.final]
    counted_as = "with a final survivor count (finite; settled or of a fixed length)"
    general = sum(r.generalised for r in final)
    note = (
        f"{general} of these {len(final)} runs reached 100% test accuracy, {len(runs) - len(final)} left out (not "
        "settled by the cap, or diverged)"
    )
    return count_trend(
        CLAIM_NAMES[4],
        runs,
        final,
        "wd",
        -1,
        WD_MARGIN,
        counted_as,
        note + circles_report.capped_reading(runs, final),
    )


def zero_wd_claim(runs: list[CountRun]) -> Claim:
    name = CLAIM_NAMES[3]
    zero = [r for r in runs if r.wd == 0.0 and r.finite]
    if not zero:
        return Claim(
            name,
            NOT_ASSESSABLE,
            "no finite run at weight decay 0",
            kind="share",
            reason="too_few_valid",
            n=0,
        )
    all_survive = sum(r.count == r.K for r in zero)
    no_general = sum(not r.generalised for r in zero)
    detail = (
        f"{all_survive} of {len(zero)} runs keep all K = {zero[0].K} frequencies (counts "
        f"{', '.join(str(r.count) for r in zero)}); {no_general} of {len(zero)} never reach 100% test "
        f"accuracy (final test accuracy {', '.join(formatting.fmt(r.test_acc) for r in zero)})"
    )
    held = [all_survive == len(zero), no_general == len(zero)]
    both = sum(r.count == r.K and not r.generalised for r in zero)
    numbers = dict(
        value=both / len(zero),
        ci=inference.share_ci(both, len(zero)),
        n=len(zero),
        kind="observation",
        effect="share of weight-decay-0 runs that keep every frequency without generalising",
    )
    if all(held):
        return Claim(name, REPRODUCED, detail, reason="observed", **numbers)
    if any(held):
        return Claim(
            name,
            PARTLY,
            detail
            + "; only "
            + ("the survival" if held[0] else "the failure to generalise")
            + " holds in every run",
            reason="partly_observed",
            **numbers,
        )
    return Claim(name, NOT_REPRODUCED, detail, reason="not_observed", **numbers)


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class CirclesMeasured(Measured):
    """The runs of the sweeps, one row each, the sweeps read from them, and the settling checks."""

    main: list = field(default_factory=list)  # the runs of the sweeps, in id order
    long: list = field(
        default_factory=list
    )  # the longer runs of the settling check (case `settling_case`), in no sweep
    rows: list = field(default_factory=list)  # CountRun of each main run (run_row)
    sweeps: dict = field(default_factory=dict)  # {"d", "prime p", "all p", "weight decay": rows}
    spearman: dict = field(
        default_factory=dict
    )  # {"d", "prime p", "all p", "wd > 0": inference.spearman_ci over the valid runs}
    settling: dict | None = (
        None  # survival.settling of the valid main runs of a fixed length at 2/3 of their budget
    )
    long_settling: dict | None = None  # long_settling(main, long)
    companions: list = field(
        default_factory=list
    )  # CountRun of each standard-loss companion, in no sweep


COMPANIONS = "standard-loss companions of points trained with the exact loss, in no sweep"


def _in_no_sweep(case: str) -> str:
    return f"longer runs of the settling check (case `{case}`), in no sweep"


def measure(trials: list, options: CirclesAnalysis | None) -> CirclesMeasured:
    centre = options or CirclesAnalysis()
    everything = sorted(trials, key=lambda t: t.id)
    main, long = survival.split_cases(everything, centre.settling_case)
    main, companions = split_companions(main)
    valid, excluded = writeup.split_valid(main, needs_generalised=True)
    # in no sweep, so in no claim: left out of every statistic like an invalid run, and said why
    if long:
        excluded[_in_no_sweep(centre.settling_case)] = long
    if companions:
        excluded[COMPANIONS] = companions
    m = CirclesMeasured(
        trials=everything, valid=valid, excluded=excluded, options=centre, main=main, long=long
    )
    m.rows = [run_row(t) for t in main]
    m.companions = [run_row(t) for t in companions]
    sw = m.sweeps = sweeps(m.rows, centre)
    wd_pos = [r for r in sw["weight decay"] if r.wd > 0]
    m.claims = [
        trend_claim(CLAIM_NAMES[0], sw["d"], "d", +1),
        trend_claim(CLAIM_NAMES[1], sw["prime p"], "p", +1),
        trend_claim(CLAIM_NAMES[2], sw["all p"], "p", +1),
        zero_wd_claim(sw["weight decay"]),
        wd_trend_claim(wd_pos),
    ]
    # Each claim is judged on the runs of its own sweep, claim 4 on runs that need not generalise: the study is
    # unassessable when too few runs are valid and no claim can be judged either.
    m.assessable = verdicts.assessable(len(valid), len(main)) or any(
        c.verdict != NOT_ASSESSABLE for c in m.claims
    )
    if not m.assessable:
        return m
    for name, runs, key in (
        ("d", sw["d"], "d"),
        ("prime p", sw["prime p"], "p"),
        ("all p", sw["all p"], "p"),
        ("wd > 0", wd_pos, "wd"),
    ):
        ok = [r for r in runs if r.final and (name == "wd > 0" or r.valid)]
        m.spearman[name] = inference.spearman_ci(
            [r.setting(key) for r in ok], [r.count for r in ok]
        )
    fixed = [t for t in valid if not t.until_settled]
    if fixed:  # runs under a settling rule were checked by it; the table's last column reads each at 2/3 of its steps
        m.settling = survival.settling(fixed, survival.settling_step(fixed))
    m.long_settling = long_settling(main, long)
    return m


# ---------------------------------------------------------------- write


def _excluded(m: CirclesMeasured) -> list[str]:
    """The exclusions of the sweeps' runs, and the longer runs counted apart (they are in no sweep, not invalid)."""
    apart = (_in_no_sweep(m.options.settling_case), COMPANIONS)
    excluded = {why: ts for why, ts in m.excluded.items() if why not in apart}
    lines = writeup.exclusion_lines(len(m.main), excluded)
    if excluded:
        lines[0] += (
            " Excluded from the count claims (1, 2, 3, 5); the weight-decay-0 claim (4) is judged on its runs "
            "whatever their accuracy."
        )
    if m.long:
        lines.append(
            f"The {len(m.long)} longer runs of case `{m.options.settling_case}` belong to no sweep and enter no "
            f"claim; {sum(not writeup.is_finite_trial(t) for t in m.long)} of them diverged."
        )
    if m.companions:
        lines.append(
            f"The {len(m.companions)} standard-loss companions belong to no sweep and enter no claim (under What we "
            "saw, beside the exact-loss runs of their points)."
        )
    return lines


def write(m: CirclesMeasured, record: dict, out_dir: Path) -> Section:
    if not m.assessable:
        return writeup.section(m, record, deviations=circles_report.deviations(m))
    out_dir = Path(out_dir)
    centre = m.options
    our, short = circles_report.numbers(m)
    summary = {
        "centre": {
            "p": centre.centre_p,
            "d": centre.centre_d,
            "weight_decay": centre.centre_weight_decay,
        },
        "runs": [r.record() for r in m.rows],
        "companions": [r.record() for r in m.companions],
        "long_settling": m.long_settling,
    }
    return writeup.section(
        m,
        record,
        our_number=our,
        short_number=short,
        what_we_ran=circles_report.what_we_ran(m, record),
        excluded=_excluded(m),
        deviations=circles_report.deviations(m),
        findings=circles_report.findings(m),
        summary=summary,
        figures=[
            count_figures.figure_11(m.sweeps, centre, out_dir),
            count_figures.figure_12(m.sweeps["weight decay"], centre, out_dir),
        ],
    )
