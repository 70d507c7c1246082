"""App. G (winning_tickets): spikes and the time-averaged log loss on known curves, each claim's verdict through
`measure` on constructed runs whose answer is known, and the experiment end to end on its smoke profile."""

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from smoke_reports import run_smoke

from cinit_tf.measures import curves as curve_stats
from cinit_tf.prose import winning_tickets as tickets_report
from cinit_tf.stats.claims import NOT_ASSESSABLE, NOT_REPRODUCED, PARTLY, REPRODUCED, headline
from cinit_tf.studies import winning_tickets
from cinit_tf.trial import StoredTrial

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
STEPS = np.arange(0, 2001, 20)


def curve(low: float, scale: float) -> np.ndarray:
    """A test loss falling a decade every `scale` steps from about 4 down to `low`, then flat."""
    return 10.0 ** np.maximum(math.log10(low), 0.61 - STEPS / scale)


def trial(
    case,
    seed,
    loss,
    circles=2,
    kept=(),
    nonfinite=False,
    stop_reason="max_steps",
    kind=None,
    collapsed_from=None,
):
    """A stored trial as the runner writes it: its final Fourier norms give `circles` survivors out of 6;
    `kind` the loss it trained with (unset: stored before the setting); `collapsed_from` the first step at
    which a training pair collapsed (None: no record; a step past the budget: recorded, never collapsed)."""
    final = np.array([1.0] * circles + [1e-4] * (6 - circles))
    norms = np.vstack([np.ones(6), final])
    collapsed = None if collapsed_from is None else (STEPS >= collapsed_from).astype(float)
    result = SimpleNamespace(
        steps=STEPS,
        test_loss=np.asarray(loss, dtype=float),
        test_acc=np.ones(STEPS.size),
        fourier_norms=norms,
        nonfinite_step=40 if nonfinite else None,
        convergence_step=100,
        stop_reason="diverged" if nonfinite else stop_reason,
        train_collapsed=collapsed,
        collapse_step=(None if collapsed is None or not collapsed.any() else int(collapsed_from)),
    )
    settings = {
        "case": case,
        "seeds": {"embedding": seed, "mlp": seed, "split": seed},
        "task": {"name": "modadd", "p": 13},
        "train": {"steps": int(STEPS[-1]), "log_every": 20, **({"loss": kind} if kind else {})},
    }
    return StoredTrial(
        id=f"{case}{seed:02d}",
        settings=settings,
        result=result,
        chosen={"kept": list(kept)} if case != winning_tickets.FULL else {},
    )


def verdicts(trials):
    """{short key: verdict}: "B_reaches", "B_faster", "C", "D", "A", "B_learns"."""
    return {
        c.name.split(" ")[0]
        + ("" if c.name[0] != "B" else "_" + c.name.split(" ")[1].rstrip(",")): c.verdict
        for c in winning_tickets.measure(trials).claims
    }


def population(
    b_low=5e-7,
    b_scale=lambda s: 50 + s,
    c_scale=lambda s: 400 + s,
    a_circles=lambda s: 4,
    b_bad=lambda s: False,
    c_low=1e-2,
    n=16,
    full_low=1e-5,
    b=None,
    d=None,
    d_bad=lambda s: False,
):
    """Five arms per seed; `b` and `d` (seed → test-loss curve) replace B's and D's curves when given."""
    out = []
    for s in range(n):
        out += [
            trial(winning_tickets.FULL, s, curve(full_low, 100 + s), circles=4),
            trial("A", s, curve(1e-1, 300), circles=a_circles(s), kept=[1]),
            trial(
                "B",
                s,
                b(s) if b else curve(b_low, b_scale(s)),
                circles=2,
                kept=[1, 2],
                nonfinite=b_bad(s),
            ),
            trial("C", s, curve(c_low, c_scale(s)), circles=1, kept=[3]),
            trial(
                "D",
                s,
                d(s) if d else curve(c_low, c_scale(s) + 7),
                circles=2,
                kept=[3, 4],
                nonfinite=d_bad(s),
            ),
        ]
    return out


# ---------------------------------------------------------------- per run


def test_spikes_count_rises_above_ten_times_the_running_minimum_after_the_loss_first_falls_below_one():
    loss = [4.0, 11.0, 0.5, 1e-2, 1e-3, 2e-2, 3e-2, 1e-4, 8e-4, 1e-5, 1e-3, 1e-6]
    # 11 is the memorisation bump (before 0.5); 2e-2, 3e-2 is one spike (> 10 × 1e-3); 8e-4 is 8× 1e-4, not one;
    # 1e-3 is 100× 1e-5.
    assert (
        curve_stats.count_spikes(loss, winning_tickets.SPIKE_RISE, winning_tickets.SPIKE_FROM) == 2
    )
    assert (
        curve_stats.count_spikes(loss, 5.0, winning_tickets.SPIKE_FROM) == 3
    )  # a looser rule would count the 8× rise too
    assert (
        curve_stats.count_spikes(
            [4.0, 3.0, 5.0, 2.0], winning_tickets.SPIKE_RISE, winning_tickets.SPIKE_FROM
        )
        == 0
    )  # never below 1: nothing counted


def test_mean_log_loss_is_the_time_average_of_log10_loss():
    assert curve_stats.time_mean_log10(
        [0, 10, 20], [1.0, 0.1, 0.01], winning_tickets.LOSS_FLOOR
    ) == pytest.approx(-1.0)
    assert curve_stats.time_mean_log10(
        [0, 10, 30], [1.0, 0.1, 0.1], winning_tickets.LOSS_FLOOR
    ) == pytest.approx((-5 - 20) / 30)
    assert curve_stats.time_mean_log10(
        [0, 10], [1.0, 0.0], winning_tickets.LOSS_FLOOR
    ) == pytest.approx(-5.0)  # an exact 0 is floored at 1e-10
    assert math.isnan(
        curve_stats.time_mean_log10(
            [0, 10, 20], [1.0, float("nan"), 0.1], winning_tickets.LOSS_FLOOR
        )
    )


def test_run_stats_reads_levels_circles_and_revivals():
    s = winning_tickets.run_stats(trial("A", 3, curve(1e-5, 100), circles=4, kept=[2]), valid=True)
    assert (
        s.lowest == pytest.approx(1e-5) and s.lowest_step == 580
    )  # 0.61 − t/100 ≤ −5 first at t = 580
    assert s.to == {"0.01": 280.0, "0.0001": 480.0, "1e-06": s.to["1e-06"]} and math.isnan(
        s.to["1e-06"]
    )
    assert s.circles == 4 and s.survivors == [1, 2, 3, 4] and s.revived == [1, 3, 4]
    assert winning_tickets.censored_steps(s, 1e-6) == 2000.0  # never reached: counted at the budget


# ---------------------------------------------------------------- each claim's verdict, known answers


def test_every_claim_reproduced():
    v = verdicts(population())
    assert v == {
        "B_reaches": REPRODUCED,
        "B_faster": REPRODUCED,
        "C": REPRODUCED,
        "D": REPRODUCED,
        "A": REPRODUCED,
        "B_learns": REPRODUCED,
    }


def test_partly():
    # B levels off at 2e-6: 20× above 1e-7, outside the declared factor 10 but below 1e-4; full reaches 1e-7.
    assert verdicts(population(b_low=2e-6, full_low=1e-7))["B_reaches"] == PARTLY
    # Six seeds, B lower than full in each: the interval is clear of 0, but a one-sided signed-rank test over six
    # pairs cannot go below p = 1/64.
    assert verdicts(population(n=6))["B_faster"] == PARTLY
    # B lower than full in 9 seeds and higher in 7, by similar amounts: the interval holds 0 but lies within
    # ±0.05 decades, far short of the declared 0.3: "B is faster" at the paper's size is ruled out.
    mixed = population(b_scale=lambda s: 100 + s + (-8 if s < 9 else 8), b_low=1e-5)
    claim = winning_tickets.measure(mixed).claims[1]
    assert (claim.verdict, claim.reason) == (NOT_REPRODUCED, "rules_out_margin")
    assert (
        "B lower in 9 of 16 seeds" in claim.detail
        and claim.ci[0] < 0 < claim.ci[1]
        and claim.margin == 0.3
    )
    # A ends with more than one circle in 10 of 16 seeds: the Wilson interval (0.39–0.82) holds ½ and lies short of
    # the declared 90%: "in none ... a single circle" is ruled out. In 12 of 16 (0.51–0.90): clear of ½, short of 90%.
    assert verdicts(population(a_circles=lambda s: 3 if s < 10 else 1))["A"] == NOT_REPRODUCED
    assert verdicts(population(a_circles=lambda s: 3 if s < 12 else 1))["A"] == PARTLY
    # B against full with an interval holding both 0 and the margin: not assessable, with the seeds that decide.
    wide = population(b_scale=lambda s: 100 + s + (-60 if s < 9 else 50), b_low=1e-5)
    claim = winning_tickets.measure(wide).claims[1]
    assert (
        claim.verdict == NOT_ASSESSABLE
        and claim.needs_n > 16
        and "to decide against the margin" in claim.detail
    )


def test_not_reproduced():
    v = verdicts(
        population(
            b_low=1e-3,
            b_scale=lambda s: 300 + s,
            c_scale=lambda s: 50 + s,
            c_low=1e-8,
            a_circles=lambda s: 1,
            full_low=1e-7,
        )
    )
    assert v["B_reaches"] == NOT_REPRODUCED  # B levels off above 1e-4 where full reaches 1e-7
    assert v["B_faster"] == NOT_REPRODUCED  # B slower than full
    assert v["C"] == NOT_REPRODUCED and v["D"] == NOT_REPRODUCED  # the random arms beat full
    assert v["A"] == NOT_REPRODUCED  # A keeps its single circle
    assert (
        v["B_learns"] == NOT_REPRODUCED
    )  # the two random circles learn sooner than the two winning ones


def test_not_assessable_when_most_b_runs_are_invalid():
    m = winning_tickets.measure(population(b_bad=lambda s: s >= 6))
    v = {c.name: c.verdict for c in m.claims}
    assert (
        v["B reaches a loss near 1e-7"] == NOT_ASSESSABLE
        and v["B faster than full"] == NOT_ASSESSABLE
    )
    # other arms are judged on their own valid pairs
    assert v["C struggles (above full at the end)"] == REPRODUCED
    assert v["B learns, D does not (B below D)"] == NOT_ASSESSABLE  # 6 of 16 pairs valid
    assert headline(m.claims) == NOT_ASSESSABLE
    assert sorted(t.id for ts in m.excluded.values() for t in ts) == [
        f"B{s:02d}" for s in range(6, 16)
    ]
    assert m.lowest["B"]["n"] == 6 and m.still["B"] == (
        0,
        6,
    )  # the excluded B runs enter no statistic


def test_b_near_1e7_is_judged_only_once_b_has_levelled_off_and_full_has_got_there():
    # Still falling at every seed's last record (4e-5 there) while full reaches 1e-7: too short to tell.
    still = population(b=lambda s: curve(1e-9, 400 + s), full_low=1e-7)
    claim = winning_tickets.measure(still).claims[0]
    assert claim.verdict == NOT_ASSESSABLE
    assert (
        "last record in 16 of 16 seeds" in claim.detail
        and "B is still falling in 16 of 16 seeds" in claim.detail
    )
    assert "full run has not reached" not in claim.detail
    # B levelled off at 2e-6 (partly, were full there), but full's lowest is 1e-5: too short to tell.
    short = winning_tickets.measure(population(b_low=2e-6)).claims[0]
    assert (
        short.verdict == NOT_ASSESSABLE
        and "the full run has not reached 1e-06 itself" in short.detail
    )
    # Below 1e-6 already: reproduced though B is still falling and full has not got there (a level reached stays reached).
    assert verdicts(population(b=lambda s: curve(1e-9, 250 + s)))["B_reaches"] == REPRODUCED
    # "Still falling" is a majority of the seeds: 8 of 16 is not (judged: partly), 9 of 16 is.
    half = population(
        b=lambda s: curve(1e-9, 400 + s) if s < 8 else curve(2e-6, 50 + s), full_low=1e-7
    )
    assert verdicts(half)["B_reaches"] == PARTLY
    most = population(
        b=lambda s: curve(1e-9, 400 + s) if s < 9 else curve(2e-6, 50 + s), full_low=1e-7
    )
    assert verdicts(most)["B_reaches"] == NOT_ASSESSABLE


def test_a_settled_b_is_not_still_falling_and_is_averaged_to_the_budget():
    # B's lowest is at its last record in every seed, but each run settled (its loss stopped falling): judged, not
    # "too short to tell".
    runs = population(b=lambda s: curve(1e-9, 400 + s), full_low=1e-7)
    for t in runs:
        if t.settings["case"] == "B":
            t.result.stop_reason = "settled"
    claim = winning_tickets.measure(runs).claims[0]
    assert claim.verdict != NOT_ASSESSABLE and "last record in 0 of 16 seeds" in claim.detail
    # A run settled at step 1000 of a 2000-step budget is held at its last value over the rest of the budget.
    steps, loss = np.array([0, 500, 1000]), np.array([1.0, 0.1, 0.01])
    from cinit_tf.measures import curves as curve_stats

    held_steps, held_loss = curve_stats.held_to_budget(steps, loss, "settled", 2000)
    assert held_steps.tolist() == [0, 500, 1000, 2000] and held_loss.tolist() == [
        1.0,
        0.1,
        0.01,
        0.01,
    ]
    assert curve_stats.held_to_budget(steps, loss, "max_steps", 2000)[0].tolist() == [0, 500, 1000]
    # ⟨log10 L⟩ over [0, 2000]: 500·(−0.5) + 500·(−1.5) + 1000·(−2) over 2000 = −1.5
    assert curve_stats.time_mean_log10(held_steps, held_loss, 1e-12) == pytest.approx(-1.5)


def test_b_against_d_two_winning_circles_learn_and_two_random_ones_do_not():
    # Reproduced: B below D in every seed (the default population: D levels off at 1e-2, B at 5e-7).
    assert verdicts(population())["B_learns"] == REPRODUCED
    # D ends 1.5× above B in 9 seeds and 2× below it in 7: the level's difference, (9·(−0.18) + 7·0.30) / 16
    # = 0.03 decades on average, has an interval holding 0 and short of the declared decade: "two random
    # circles do not learn" is ruled out.
    mixed = population(
        b=lambda s: curve(5e-7, 50 + s), d=lambda s: curve(5e-7 * (1.5 if s < 9 else 0.5), 50 + s)
    )
    claim = winning_tickets.measure(mixed).claims[5]
    assert (claim.verdict, claim.reason) == (NOT_REPRODUCED, "rules_out_margin")
    assert "B lower in 9 of 16" in claim.detail
    assert claim.value == pytest.approx((9 * math.log10(1 / 1.5) + 7 * math.log10(2)) / 16)
    # Not reproduced: the two random circles end a decade below the two winning ones in every seed.
    claim = winning_tickets.measure(population(d=lambda s: curve(5e-8, 30 + s))).claims[5]
    assert (claim.verdict, claim.reason) == (NOT_REPRODUCED, "opposite")
    assert claim.value == pytest.approx(1.0)
    # Sooner but to the same level is not learning better: who learns is read at the end of the budget.
    assert verdicts(population(d=lambda s: curve(5e-7, 30 + s)))["B_learns"] == NOT_REPRODUCED
    # Equal curves: no direction, not reproduced.
    assert verdicts(population(d=lambda s: curve(5e-7, 50 + s)))["B_learns"] == NOT_REPRODUCED
    # Not assessable: D diverged in 10 of 16 seeds, so 6 pairs are valid.
    v = verdicts(population(d_bad=lambda s: s >= 6))
    assert v["B_learns"] == NOT_ASSESSABLE and v["B_faster"] == REPRODUCED


def test_the_short_number_names_the_claim_that_set_the_headline():
    claims = winning_tickets.measure(
        population()
    ).claims  # all reproduced: the section's point is named
    assert tickets_report.short_number(claims, winning_tickets.SHORT_NAMES) == (
        "B vs D: mean paired difference of the level (mean log10 test loss, "
        "last tenth), B − D -4.3 [-4.3, -4.3] (reproduced, beyond margin)"
    )
    claims = winning_tickets.measure(
        population(a_circles=lambda s: 3 if s < 12 else 1)
    ).claims  # only A's revival is partly
    assert (
        tickets_report.short_number(claims, winning_tickets.SHORT_NAMES)
        == "A revives: rate 0.75 [0.505, 0.898] (partly, short of margin)"
    )
    # D ends a decade below B and below full: "D struggles" and B against D both fail; on a tie the section's
    # point (B against D) is named.
    claims = winning_tickets.measure(population(d=lambda s: curve(5e-8, 30 + s))).claims
    assert [c.verdict for c in claims].count(NOT_REPRODUCED) == 2 and claims[
        3
    ].verdict == NOT_REPRODUCED
    assert tickets_report.short_number(claims, winning_tickets.SHORT_NAMES) == (
        "B vs D: mean paired difference of the level (mean log10 test loss, "
        "last tenth), B − D 1 [1, 1] (not reproduced, opposite)"
    )
    claims = winning_tickets.measure(
        population(b_low=2e-6)
    ).claims  # claim (1) not assessable, the weakest: the reason is named
    assert tickets_report.short_number(claims, winning_tickets.SHORT_NAMES).startswith(
        "B near 1e-7: B's median test loss over the last tenth of the "
        "budget (10^level; interval: IQR) 2.00e-06"
    )
    assert tickets_report.short_number(claims, winning_tickets.SHORT_NAMES).endswith(
        "(not assessable, precondition fails)"
    )


def test_write_puts_the_short_number_in_the_index(tmp_path):
    m = winning_tickets.measure(population(n=4, d=lambda s: curve(5e-7, 30 + s)))
    section = winning_tickets.write(m, {}, tmp_path)
    assert (
        section.verdict == NOT_REPRODUCED
    )  # four seeds: nothing is significant, so the weakest is B against D
    assert section.short_number == tickets_report.short_number(
        m.claims, winning_tickets.SHORT_NAMES
    ) and section.short_number.startswith("B vs D: ")
    assert len(section.claims) == 6 and section.claims[5].name == "B learns, D does not (B below D)"


def test_not_assessable_when_most_trials_are_invalid(tmp_path):
    bad = {"full", "A", "B"}
    trials = [t for t in population(n=4)]
    for t in trials:
        if t.settings["case"] in bad:
            t.result.nonfinite_step = 40  # 3 of 5 cases diverged: 8 of 20 trials valid
    m = winning_tickets.measure(trials)
    assert m.assessable is False and len(m.valid) == 8
    assert [c.name for c in m.claims] == list(winning_tickets.CLAIM_NAMES)
    assert [c.verdict for c in m.claims] == [NOT_ASSESSABLE] * 6
    assert m.by_seed == {} and m.example is None  # nothing measured
    section = winning_tickets.write(
        m, {}, tmp_path
    )  # the standard section: no statistic, no figure
    assert (
        section.verdict == NOT_ASSESSABLE and section.figures == [] and not list(tmp_path.iterdir())
    )
    assert section.excluded[0] == "12 of 20 trials excluded from every statistic; 8 valid."


def test_measure_numbers_and_the_typical_example():
    trials = population(n=5)
    full = {
        t.settings["seeds"]["embedding"]: t
        for t in trials
        if t.settings["case"] == winning_tickets.FULL
    }
    full[2].result.test_loss = full[2].result.test_loss.copy()
    full[2].result.test_loss[3] = float(
        "nan"
    )  # its ⟨log10 test loss⟩ is nan: it cannot be the example
    m = winning_tickets.measure(trials)
    assert (
        math.isnan(m.by_seed[2][winning_tickets.FULL].mean_log_loss)
        and m.by_seed[2][winning_tickets.FULL].valid
    )
    # Full runs fall a decade every 100 + s steps: ⟨log10 L⟩ grows with s; over seeds 0, 1, 3, 4 the median lies
    # halfway between seeds 1 and 3, which tie; the lower seed is the example.
    assert m.example == 1
    assert m.mean_log_loss[winning_tickets.FULL]["n"] == 4
    assert m.lowest["B"]["median"] == pytest.approx(5e-7) and m.lowest[winning_tickets.FULL][
        "median"
    ] == pytest.approx(1e-5)
    # B at seed s reaches 1e-2 once 0.61 − t/(50 + s) ≤ −2, at the next record (every 20 steps): 140 for s ≤ 3, 160 for 4.
    assert m.speed["B"]["median"] == 140.0
    assert m.budget == [2000] and m.still["C"] == (0, 5)
    assert m.paired["B"]["lowest"]["negative"] == 5 and m.b_against_d["negative"] == 5


# ---------------------------------------------------------------- end to end on the smoke profile


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    root = run_smoke(["winning_tickets"], tmp_path_factory.mktemp("tickets"))
    return root / "winning_tickets"


def test_smoke_report(smoke):
    text = (smoke / "README.md").read_text()
    summary = json.loads((smoke / "summary.json").read_text())
    shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text))
    assert shown == {"test_loss_arms.png", "paired_by_seed.png", "standard_vs_exact_loss.png"}
    for png in shown:
        assert (smoke / png).stat().st_size > 5000
    assert text.index("Rule:") < text.index("Verdict: **")
    assert "Fig. 15" in text and "keep_zero = false" in text
    runs = summary["summary"]["runs"]
    assert len(runs) == 3 and all(set(r) == set(winning_tickets.CASES) for r in runs.values())
    for r in runs.values():
        top = r["full"]["survivors"]
        assert (
            len(r["A"]["kept"]) == 1
            and len(r["B"]["kept"]) == 2
            and r["A"]["kept"][0] in r["B"]["kept"]
        )
        assert not set(r["C"]["kept"]) & set(r["B"]["kept"]) and not set(r["D"]["kept"]) & set(
            r["B"]["kept"]
        )
        assert set(r["B"]["kept"]) <= set(top) or len(top) < 2
    assert [c["name"] for c in summary["claims"]] == list(winning_tickets.CLAIM_NAMES)
    assert summary["summary"]["claims"] == {c["name"]: c["verdict"] for c in summary["claims"]}
    # 3 seeds of five arms, and 4 of each standard-loss case beside them (counted, not judged)
    assert summary["excluded"] == [
        "None: all 23 trials are valid (finite, and generalising where a claim needs it)."
    ]
    companion = summary["summary"]["companion"]
    assert companion["n"] == 8 and companion["not_recorded"] == 0
    assert "of the 8 runs trained with the standard float32 loss (full_float32, B_float32;" in text
    assert "Trials excluded from the statistics:" in text


def test_curves_of_runs_that_stopped_at_different_steps_line_up_on_every_recorded_step():
    def run(steps, loss, reason):
        result = SimpleNamespace(
            steps=np.array(steps), test_loss=np.array(loss), stop_reason=reason
        )
        return StoredTrial(id=reason, settings={}, result=result)

    settled = run([0, 100, 200], [1.0, 0.1, 0.01], "settled")
    capped = run([0, 100, 200, 300], [1.0, 0.2, 0.02, 0.002], "max_steps")
    cut = run([0, 100], [1.0, 0.3], "max_steps")  # a shorter cap of its own: unknown after it
    late = run(
        [100, 300], [0.5, 0.05], "max_steps"
    )  # starts recording later, and between the others' records
    steps, curves = curve_stats.on_union_of_steps([settled, capped, cut, late])
    assert steps.tolist() == [0, 100, 200, 300]
    np.testing.assert_allclose(
        curves,
        [
            [1.0, 0.1, 0.01, 0.01],  # held at its last value
            [1.0, 0.2, 0.02, 0.002],
            [1.0, 0.3, np.nan, np.nan],
            [np.nan, 0.5, 0.275, 0.05],
        ],
    )  # linear between its own records


def test_settled_runs_of_the_papers_budget_make_a_report_that_says_where_k1_and_k2_come_from(
    tmp_path,
):
    steps = np.arange(0, 30_001, 600)
    trials = population(n=4, d=lambda s: curve(5e-7, 30 + s))
    for i, t in enumerate(
        trials
    ):  # every run on the paper's budget; half of them settle, each at its own step
        t.settings["train"]["steps"] = 30_000
        stop = steps.size - 1 - (2 * (i % 7) if i % 2 else 0)
        t.result.steps, t.result.test_loss = steps[: stop + 1], t.result.test_loss[: stop + 1]
        t.result.test_acc, t.result.stop_reason = (
            np.ones(stop + 1),
            "settled" if i % 2 else "max_steps",
        )
    m = winning_tickets.measure(trials)
    full = [t for t in trials if t.settings["case"] == winning_tickets.FULL]
    assert tickets_report.k_text(full).startswith(
        f"k₁ and k₂ are read off each seed's `full` run where it stopped: "
        f"{sum(t.result.stop_reason == 'settled' for t in full)} of 4 settled"
    )
    assert tickets_report.budget_text(m.budget).startswith(
        "Claim (1) is judged within the paper's budget (30000 steps"
    )
    section = winning_tickets.write(m, {}, tmp_path)
    assert (tmp_path / "test_loss_arms.png").stat().st_size > 0 and section.figures
    shorter = population(n=4)
    assert tickets_report.k_text(
        [t for t in shorter if t.settings["case"] == winning_tickets.FULL]
    ).startswith("k₁ and k₂ are read off the `full` run at the end of our shorter budget")
    assert (
        tickets_report.budget_text([2000])
        == "Claim (1) is judged at our budget of 2000 steps, not the paper's 30,000."
    )


def test_the_report_counts_the_runs_of_each_arm_that_reached_each_loss_level():
    m = winning_tickets.measure(
        population(n=4)
    )  # B falls to 5e-7, D and C level off at 1e-2, A at 1e-1, full at 1e-5
    text = tickets_report.learned_text(m)
    assert "B (k₁ and k₂) ≤ 0.01 in 4 of 4, ≤ 0.0001 in 4 of 4, ≤ 1e-06 in 4 of 4" in text
    assert "D (two random others) ≤ 0.01 in 4 of 4, ≤ 0.0001 in 0 of 4, ≤ 1e-06 in 0 of 4" in text
    assert (
        "A (k₁ only) ≤ 0.01 in 0 of 4" in text
        and "full (all frequencies) ≤ 0.01 in 4 of 4, ≤ 0.0001 in 4 of 4, ≤ 1e-06 in 0 of 4" in text
    )


# ---------------------------------------------------------------- the level, the companion, the exact-loss A


def test_the_level_is_the_mean_log_loss_over_the_last_tenth_not_the_final_record():
    # B holds 1e-7 over steps 1800–1980 and jumps to 1e-3 at its last record: the last tenth of the 2000-step
    # budget holds 11 records, so the level is (10·(−7) − 3) / 11, and 10 to it, 2.31e-7, is near 1e-7.
    def jumped(s):
        loss = curve(1e-7, 50 + s)
        loss[-1] = 1e-3
        return loss

    m = winning_tickets.measure(population(b=jumped))
    assert m.by_seed[0]["B"].level == pytest.approx(-73 / 11) and m.by_seed[0]["B"].final == 1e-3
    claim = m.claims[0]
    assert claim.verdict == REPRODUCED and claim.value == pytest.approx(10 ** (-73 / 11))
    assert "16 of 16 seeds at or below 1e-06" in claim.detail
    # float32's per-pair floor, stated beside: these B runs trained with the standard loss (no `loss` setting)
    assert (
        "float32's per-pair floor log(1 + 2⁻²³) ≈ 1.19e-07; B trained with the standard loss"
        in (claim.detail)
    )
    exact = population(b_low=5e-8)
    for t in exact:
        t.settings["train"]["loss"] = "exact"
    assert (
        "16 of 16 exact-loss B runs hold a level below it"
        in winning_tickets.measure(exact).claims[0].detail
    )


def test_struggling_is_a_level_and_faster_is_the_time_average():
    # C falls a decade every 300 + s steps to full's 1e-5 and holds it over the last tenth: slower (its
    # ⟨log10 L⟩ lies more than a decade above full's), but it ends where full ends: it does not struggle.
    m = winning_tickets.measure(population(c_low=1e-5, c_scale=lambda s: 300 + s))
    slower = [c.mean_log_loss - f.mean_log_loss for f, c in winning_tickets.paired(m.by_seed, "C")]
    assert min(slower) > 1.0
    claim = m.claims[2]
    assert claim.verdict == NOT_REPRODUCED and claim.value == pytest.approx(0.0, abs=1e-12)
    assert (
        claim.effect
        == "mean paired difference of the level (mean log10 test loss, last tenth), C − full"
    )
    # B against full stays on the time average.
    assert m.claims[1].effect == "mean paired difference of ⟨log10 test loss⟩, B − full"


def companions(n=4):
    """full_float32 and B_float32 for seeds 0..n−1: seed 0 of each collapses at step 1000 and its test loss
    then rises from 1e-7 to 1e-4 (3 decades); the others record no collapse; B_float32 of seed n−1 has no
    record."""
    out = []
    for s in range(n):
        for case in ("full_float32", "B_float32"):
            loss = curve(1e-7, 50 + s)
            collapsed = 1000 if s == 0 else 10**9
            if s == 0:
                loss[STEPS > 1000] = 1e-4
            out.append(
                trial(
                    case,
                    s,
                    loss,
                    kept=[1, 2] if case == "B_float32" else (),
                    collapsed_from=None if (case == "B_float32" and s == n - 1) else collapsed,
                )
            )
    return out


def test_the_companion_runs_are_counted_and_drawn_not_judged(tmp_path):
    arms, extra = population(n=4), companions()
    alone, both = winning_tickets.measure(arms), winning_tickets.measure(arms + extra)
    assert [c.record() for c in both.claims] == [c.record() for c in alone.claims]
    assert len(both.trials) == 28 and set(both.by_seed[0]) == set(winning_tickets.CASES)
    k = both.companion
    assert (k["n"], k["collapsed"], k["not_recorded"]) == (8, 2, 1)
    assert (k["step"], k["range"]) == (1000.0, (1000, 1000))
    assert k["rise"] == pytest.approx(3.0)
    # level: the last tenth sits at 1e-4; the exact-loss twins (full at 1e-5, B at 5e-7): gaps 1 and 2.3
    assert k["gap"] == pytest.approx((1.0 + (-4 - math.log10(5e-7))) / 2) and k["twins"] == 2
    text = tickets_report.companion_text(both)
    assert text.startswith(
        "The paper's likely setting beside ours: of the 8 runs trained with the "
        "standard float32 loss (full_float32, B_float32; not judged), 2 collapsed (a "
        "training pair's loss exactly 0) and 1 hold no record, first at step 1,000 "
        "(median; 1,000–1,000); after it their test loss rose by 3 decades"
    )
    section = winning_tickets.write(both, {}, tmp_path)
    assert (
        text in section.findings and (tmp_path / "standard_vs_exact_loss.png").stat().st_size > 5000
    )
    assert section.summary["companion"]["collapsed"] == 2
    line = next(x for x in section.findings if x.startswith("Softmax collapse"))
    assert (
        ": 2 of 28 trials, first at step 1,000 (median; range 1,000–1,000); 21 not recorded" in line
    )


def test_the_report_says_whether_a_revives_with_the_exact_loss():
    runs = population(n=4, a_circles=lambda s: 3 if s else 1)
    assert tickets_report.revival_text(
        winning_tickets.measure(runs).runs_of["A"], winning_tickets.SPIKE_RISE
    ).startswith("No A run trained with")
    for t in runs:
        t.settings["train"]["loss"] = "exact"
    spiky = next(
        t for t in runs if t.settings["case"] == "A" and t.settings["seeds"]["embedding"] == 1
    )
    spiky.result.test_loss = spiky.result.test_loss.copy()
    spiky.result.test_loss[-5] = 2.0  # 20× above the running minimum of 0.1: one spike
    text = tickets_report.revival_text(
        winning_tickets.measure(runs).runs_of["A"], winning_tickets.SPIKE_RISE
    )
    assert (
        "3 of 4 A runs end with more than one circle; 1 of 4 show a test-loss spike (above 10× the "
        "running minimum), and 2 of the 3 that revive do so without any spike."
    ) in text
