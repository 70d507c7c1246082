"""The shared verdict rules on known answers: each outcome reachable, and a loosened rule would fail."""

import math

import numpy as np
import pytest

from cinit_tf.stats import inference, verdicts
from cinit_tf.stats.claims import (
    ALPHA,
    JUDGED,
    KINDS,
    NOT_ASSESSABLE,
    NOT_REPRODUCED,
    ORDER,
    PARTLY,
    QUALITATIVE,
    REASONS,
    REPRODUCED,
    UNJUDGED,
    Claim,
    Margin,
    headline,
    judge,
    rejudge,
    render,
)


def test_headline_is_the_weakest_claim():
    c = lambda v: Claim("x", v, "")  # noqa: E731
    assert headline([c(REPRODUCED), c(PARTLY)]) == PARTLY
    assert headline([c(REPRODUCED), c(NOT_REPRODUCED), c(PARTLY)]) == NOT_REPRODUCED
    assert headline([c(REPRODUCED), c(NOT_ASSESSABLE)]) == NOT_ASSESSABLE
    assert headline([c(REPRODUCED)] * 3) == REPRODUCED
    assert headline([]) == NOT_ASSESSABLE


def test_welch_against_the_papers_sample():
    rng = np.random.default_rng(0)
    same = rng.normal(10, 12, 100)
    assert verdicts.number_vs_sample("rank", same, 10, 12, 100, True).verdict == REPRODUCED
    # xor: ours 16 ± 18.8 over 100 against the paper's 10 ± 12 over 100 → incompatible (p ≈ 0.008)
    ours = (lambda a: (a - a.mean()) / a.std(ddof=1) * 18.8 + 16.0)(rng.normal(size=100))
    claim = verdicts.number_vs_sample("rank", ours, 10, 12, 100, True)
    assert claim.verdict == PARTLY and "Welch p = 0.00" in claim.detail
    assert verdicts.number_vs_sample("rank", ours, 10, 12, 100, False).verdict == NOT_REPRODUCED
    assert verdicts.number_vs_sample("rank", [1.0], 10, 12, 100, True).verdict == NOT_ASSESSABLE


def test_welch_counts_the_papers_own_sampling_error():
    """Our mean 12 (n = 400, std 12): its own CI [10.8, 13.2] excludes the paper's 10, but the paper's
    mean of 100 seeds has its own error: as two samples they are compatible (Welch p ≈ 0.14)."""
    ours = (lambda a: (a - a.mean()) / a.std(ddof=1) * 12 + 12.0)(
        np.random.default_rng(1).normal(size=400)
    )
    assert (
        verdicts.number_vs_value("rank", ours, 10, True).verdict == PARTLY
    )  # the one-sample reading
    claim = verdicts.number_vs_sample("rank", ours, 10, 12, 100, True)
    assert claim.verdict == REPRODUCED and "p = 0.14" in claim.detail


def test_bare_number_against_our_interval_and_a_declared_margin():
    ours = [83.0, 84.0, 85.0, 86.0, 82.0]
    assert verdicts.number_vs_value("svm", ours, 83.8, True).verdict == REPRODUCED
    assert verdicts.number_vs_value("svm", ours, 90.0, True).verdict == PARTLY
    assert (
        verdicts.number_vs_value("svm", ours, 90.0, True, margin=5.0, margin_why="test").verdict
        == REPRODUCED
    )
    assert verdicts.number_vs_value("svm", ours, 83.8, False).verdict == NOT_REPRODUCED
    assert verdicts.number_vs_value("svm", [math.nan], 83.8, True).verdict == NOT_ASSESSABLE


M = Margin(1.0, "a margin for the tests")


@pytest.mark.parametrize(
    "value, lo, hi, p, verdict, reason",
    [
        (
            5.0,
            3.0,
            7.0,
            1e-4,
            REPRODUCED,
            "beyond_margin",
        ),  # clear of 0, significant, reaches the margin
        (
            0.5,
            0.3,
            0.7,
            1e-4,
            PARTLY,
            "short_of_margin",
        ),  # real, but wholly short of the paper's size
        (
            5.0,
            1.0,
            9.0,
            0.03,
            PARTLY,
            "not_significant",
        ),  # clear of 0 and reaching the margin, p ≥ 0.01
        (
            0.1,
            -0.2,
            0.4,
            0.5,
            NOT_REPRODUCED,
            "rules_out_margin",
        ),  # holds 0, short of the margin
        (-5.0, -7.0, -3.0, 1e-4, NOT_REPRODUCED, "opposite"),  # wholly the other side
        (0.5, -0.5, 1.5, 0.3, NOT_ASSESSABLE, "too_wide"),  # holds both 0 and the margin
        (
            0.5,
            -0.5,
            1.0,
            0.3,
            NOT_ASSESSABLE,
            "too_wide",
        ),  # touching the margin counts as reaching it
        (1.0, 0.0, 2.0, 1e-4, NOT_ASSESSABLE, "too_wide"),  # touching 0 is not clear of it
        (1.0, 1.0, 1.0, 1e-4, REPRODUCED, "beyond_margin"),  # zero width, at the margin
        (0.5, 0.5, 0.5, 1e-4, PARTLY, "short_of_margin"),  # zero width, short of it
        (0.0, 0.0, 0.0, 1.0, NOT_REPRODUCED, "rules_out_margin"),  # no spread, no effect
        (math.nan, math.nan, math.nan, math.nan, NOT_ASSESSABLE, "no_estimate"),
        (1.0, math.nan, 2.0, 1e-4, NOT_ASSESSABLE, "no_estimate"),
        (
            2.0,
            1.0,
            math.inf,
            1e-4,
            REPRODUCED,
            "beyond_margin",
        ),  # an unbounded side still reaches the margin
        (5.0, 3.0, 7.0, None, PARTLY, "not_significant"),  # no test: never significant
    ],
)
def test_the_four_outcomes_on_constructed_intervals(value, lo, hi, p, verdict, reason):
    claim = verdicts.direction("x", value, lo, hi, p, +1, "Δ", margin=M, n=10)
    assert (claim.verdict, claim.reason) == (verdict, reason)
    # the mirror image: the same claim with the claimed direction negative
    mirror = verdicts.direction("x", -value, -hi, -lo, p, -1, "Δ", margin=M, n=10)
    assert (mirror.verdict, mirror.reason) == (verdict, reason)
    record = claim.record()
    assert record["margin"] == 1.0 and record["reason"] == reason and record["verdict"] == verdict
    assert record["kind"] == "direction" and record["n"] == 10 and record["detail"] == render(claim)


def test_not_assessable_gives_the_n_that_decides_against_the_margin():
    # value 0.5, CI [-0.5, 1.5] at n = 20: half-width 1, the nearer decision is max(0.5, 1 − 0.5) = 0.5 away,
    # so N = 20 · (1 / 0.5)² = 80
    claim = verdicts.direction("x", 0.5, -0.5, 1.5, 0.3, +1, "Δ", margin=M, n=20)
    assert (
        claim.needs_n == 80
        and "needs ≈ 80 to decide against the margin; n = 20 now" in claim.detail
    )
    # pointing the other way, -0.5 [-1.5, 0.5]: a margin of 0.4 is still inside (not assessable), one of 0.6 is
    # ruled out (not reproduced)
    assert (
        verdicts.direction(
            "x", -0.5, -1.5, 0.5, 0.3, +1, "Δ", margin=Margin(0.4, "m"), n=20
        ).verdict
        == NOT_ASSESSABLE
    )
    assert (
        verdicts.direction(
            "x", -0.5, -1.5, 0.5, 0.3, +1, "Δ", margin=Margin(0.6, "m"), n=20
        ).verdict
        == NOT_REPRODUCED
    )
    # an effect far beyond the margin: the n is the one at which the interval clears 0
    far = verdicts.direction("x", 3.0, -1.0, 7.0, 0.2, +1, "Δ", margin=M, n=10)
    assert far.needs_n == math.ceil(10 * (4.0 / 3.0) ** 2)
    # no sample size: no n to give
    assert verdicts.direction("x", 0.5, -0.5, 1.5, 0.3, +1, "Δ", margin=M).needs_n is None


def test_a_margin_must_be_positive_and_finite():
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            Margin(bad, "x")
    with pytest.raises(ValueError):
        judge(1.0, 0.5, 1.5, 1e-4, 0, 1.0)


def test_no_claim_short_of_its_margin_is_called_not_assessable_nor_reproduced():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        lo, hi = sorted(rng.normal(0, 2, 2))
        value, m, p = (lo + hi) / 2, float(rng.uniform(0.05, 3)), float(rng.uniform(0, 0.05))
        verdict, reason, _ = judge(value, lo, hi, p, +1, m, 10)
        if hi < m:
            assert verdict in (PARTLY, NOT_REPRODUCED), (lo, hi, m)
        if lo <= 0 and hi >= m:
            assert verdict == NOT_ASSESSABLE
        if verdict == REPRODUCED:
            assert lo > 0 and hi >= m and p < ALPHA


def test_power_of_a_trend_is_stated_and_inverts():
    assert verdicts.detectable_rho(15) == pytest.approx(
        math.tanh((2.5758293 + 0.8416212) * 1.03 / math.sqrt(12)), rel=1e-6
    )
    assert (
        0.76 < verdicts.detectable_rho(15) < 0.78
        and verdicts.detectable_rho(100) < 0.35
        and math.isnan(verdicts.detectable_rho(3))
    )
    for n in (10, 15, 40, 200):
        assert verdicts.points_for_rho(verdicts.detectable_rho(n)) in (n, n + 1)
    x = np.arange(15.0)
    weak = verdicts.trend(
        "rises", x, np.random.default_rng(0).permutation(15), +1, margin=verdicts.CONVENTIONAL_RHO
    )
    assert (
        weak.verdict == NOT_ASSESSABLE
        and "smallest |ρ| detectable (80% power, p < 0.01) is ≈ 0.768" in weak.detail
    )
    assert weak.kind == "trend" and weak.margin == 0.1 and weak.needs_n > 15


def test_a_rate_is_judged_against_half_with_its_declared_bound():
    def rate(k, n, bound=0.9):
        return verdicts.rate_claim("high", k, n, True, bound, "x", "a source")

    assert rate(2, 3).verdict == NOT_ASSESSABLE  # holds ½ and reaches 90%
    assert rate(3, 5).verdict == NOT_REPRODUCED  # holds ½, Wilson CI up to 88%: 90% ruled out
    assert rate(24, 24).verdict == REPRODUCED and rate(24, 24).reason == "beyond_margin"
    assert rate(0, 24).verdict == NOT_REPRODUCED and rate(0, 24).reason == "opposite"
    assert rate(19, 24, 0.95).verdict == PARTLY  # above ½ at p < 0.01, CI short of 95%
    assert rate(14, 24).verdict == NOT_REPRODUCED  # holds ½ but short of 90%: "near 100%" ruled out
    low = verdicts.rate_claim("rare", 0, 24, False, 0.1, "x", "a source")
    assert (
        low.verdict == REPRODUCED
        and low.value == 0.0
        and low.offset == 0.5
        and low.expected_sign == -1
    )
    assert rate(0, 0).verdict == NOT_ASSESSABLE and rate(0, 0).reason == "too_few_valid"
    share = verdicts.share_claim("cubes", 7, 20, "cubes", 0.9, "a source")
    assert share.kind == "share" and share.verdict == NOT_REPRODUCED and share.value == 0.35


def test_trend_by_spearman_with_its_interval():
    x = np.arange(20.0)
    up = verdicts.trend(
        "rises",
        x,
        x + np.random.default_rng(2).normal(0, 1, 20),
        +1,
        margin=verdicts.CONVENTIONAL_RHO,
    )
    assert up.verdict == REPRODUCED and "Spearman" in up.detail
    assert (
        verdicts.trend("rises", x, -x, +1, margin=verdicts.CONVENTIONAL_RHO).verdict
        == NOT_REPRODUCED
    )
    five = verdicts.trend("rises", x[:5], [1, 3, 2, 5, 4], +1, margin=verdicts.CONVENTIONAL_RHO)
    assert five.verdict == NOT_ASSESSABLE  # ρ = 0.8 with n = 5: CI holds 0
    rho, lo, hi, p, n = inference.spearman_ci(x, x)
    assert rho > 0.99 and lo < rho and n == 20


def test_assessable_needs_a_share_and_a_count():
    assert (
        verdicts.assessable(10, 12)
        and not verdicts.assessable(5, 12)
        and not verdicts.assessable(2, 2)
        and not verdicts.assessable(0, 0)
    )
    assert verdicts.assessable(6, 12, min_share=0.5) and not verdicts.assessable(
        6, 12, min_share=0.6
    )


def _outcomes_in_order(text: str) -> list[str]:
    """The verdicts a rule's text names after each "→", in the order it names them."""
    return [
        next(v for v in sorted(ORDER, key=len, reverse=True) if part.lstrip().startswith(v))
        for part in text.split("→")[1:]
    ]


def test_the_words_of_a_direction_rule_follow_what_the_rule_does():
    text = verdicts.direction_outcomes("positive")
    cases = [
        (5.0, 3.0, 7.0, 1e-4),  # clear of 0, significant, reaching the margin
        (0.5, 0.3, 0.7, 1e-4),  # clear of 0, short of the margin
        (0.1, -0.2, 0.4, 0.5),  # holds 0, short of the margin
        (0.5, -0.5, 1.5, 0.3),
    ]  # holds both
    assert _outcomes_in_order(text) == [
        verdicts.direction("x", *c, +1, "Δ", margin=M).verdict for c in cases
    ]
    assert "p < 0.01" in text and "positive" in text and "margin" in text


def test_the_words_of_a_rate_rule_follow_what_the_rule_does():
    text = verdicts.rate_outcomes(True, 0.9, '§4.2: "near 100%", read as')
    cases = [(24, 24), (19, 24), (14, 24), (2, 3)]
    bounds = [0.9, 0.95, 0.9, 0.9]
    assert _outcomes_in_order(text) == [
        verdicts.rate_claim("x", k, n, True, b, "x", "s").verdict
        for (k, n), b in zip(cases, bounds)
    ]
    assert '"near 100%", read as ≥ 90%' in text and "≤ 10%" in verdicts.rate_outcomes(
        False, 0.1, '"rarely", read as'
    )


@pytest.mark.parametrize(
    "name",
    [
        "circles_vs_size",
        "convergence_ablation",
        "fourier_evolution",
        "freeze_embedding",
        "manual_construction",
        "min_signal_vs_dim",
        "perturbation",
        "remainder_rank",
        "xor_rank",
        "winning_tickets",
    ],
)
def test_rules_that_apply_the_shared_helpers_say_so_in_their_words(name):
    import importlib
    import inspect

    module = importlib.import_module(f"cinit_tf.studies.{name}")
    rule, source = module.VERDICT_RULE, inspect.getsource(module)
    if any(f"V.{f}(" in source for f in ("direction", "trend")):
        assert any(verdicts.direction_outcomes(s) in rule for s in ("positive", "negative")), name
    if "verdicts.rate_claim(" in source or "verdicts.share_claim(" in source:
        assert "the rate against ½ with its Wilson 95% CI and the exact binomial p" in rule, name
    assert "margin" in rule, name
    assert "not significant → partly; zero or" not in rule and "→ else not reproduced" not in rule


def test_the_median_interval_is_the_order_statistics_a_binomial_gives():
    assert inference.median_ci(np.arange(1.0, 17.0)) == (
        4.0,
        13.0,
    )  # n = 16: 2·P(B ≤ 3) = 0.021 ≤ 0.05 < 2·P(B ≤ 4) = 0.077
    assert inference.median_ci(np.arange(1.0, 101.0)) == (
        40.0,
        61.0,
    )  # n = 100: the textbook x_(40), x_(61)
    assert inference.median_ci([3.0, 1.0, 2.0, math.nan, 5.0, 4.0]) == (
        1.0,
        5.0,
    )  # n = 5 finite: no k reaches 95%, the range
    assert all(math.isnan(v) for v in inference.median_ci([]))


def test_a_qualitative_verdict_is_recomputed_from_its_summary_record_alone():
    import json

    claims = [
        verdicts.direction("x", 0.5, -0.5, 1.5, 0.3, +1, "Δ", margin=M, n=20),
        verdicts.rate_claim("r", 19, 24, True, 0.95, "x", "a source"),
        verdicts.trend("t", np.arange(20.0), np.arange(20.0), -1, margin=verdicts.CONVENTIONAL_RHO),
        verdicts.not_assessable("few", 1, 10, kind="trend"),
    ]
    for c in claims:
        record = json.loads(json.dumps(c.record(), allow_nan=True))
        assert rejudge(record) == (None if c.reason == "too_few_valid" else c.verdict)
    # a record whose verdict does not follow from its numbers is caught
    forged = dict(claims[0].record(), verdict=REPRODUCED)
    assert rejudge(forged) != forged["verdict"]


def test_published_qualitative_verdicts_follow_from_their_records():
    """Every report published under the current rules: each qualitative claim's verdict is what its record implies,
    and each record is complete (kind, value or a note, n, reason; a margin > 0 for a judged qualitative claim)."""
    import json
    from pathlib import Path

    from cinit_tf.writeup.section import RULES

    for path in sorted(
        Path(__file__).resolve().parent.parent.joinpath("reports").glob("*/summary.json")
    ):
        summary = json.loads(path.read_text(encoding="utf-8"))
        if summary.get("rules", 1) < RULES:
            continue  # judged under an earlier edition; the index marks it
        for c in summary["claims"]:
            assert c["kind"] in KINDS and c["reason"] in REASONS and c["verdict"] in ORDER, (
                path,
                c["name"],
            )
            assert c["value"] is not None or c["note"], (path, c["name"])
            if c["kind"] in QUALITATIVE and c["reason"] not in UNJUDGED:
                assert c["margin"] > 0 and c["margin_source"], (path, c["name"])
            if c["reason"] in JUDGED:
                assert rejudge(c) == c["verdict"], (path, c["name"])
