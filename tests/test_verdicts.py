"""The shared verdict rules on known answers: each outcome reachable, and a loosened rule would fail."""

import math

import numpy as np
import pytest

from cinit_tf.studies import _stats as S
from cinit_tf.studies import _verdicts as V


def test_headline_is_the_weakest_claim():
    c = lambda v: V.Claim("x", v, "")  # noqa: E731
    assert V.headline([c(V.REPRODUCED), c(V.PARTLY)]) == V.PARTLY
    assert V.headline([c(V.REPRODUCED), c(V.NOT_REPRODUCED), c(V.PARTLY)]) == V.NOT_REPRODUCED
    assert V.headline([c(V.REPRODUCED), c(V.NOT_ASSESSABLE)]) == V.NOT_ASSESSABLE
    assert V.headline([c(V.REPRODUCED)] * 3) == V.REPRODUCED
    assert V.headline([]) == V.NOT_ASSESSABLE


def test_welch_against_the_papers_sample():
    rng = np.random.default_rng(0)
    same = rng.normal(10, 12, 100)
    assert V.number_vs_sample("rank", same, 10, 12, 100, True).verdict == V.REPRODUCED
    # xor: ours 16 ± 18.8 over 100 against the paper's 10 ± 12 over 100 → incompatible (p ≈ 0.008)
    ours = (lambda a: (a - a.mean()) / a.std(ddof=1) * 18.8 + 16.0)(rng.normal(size=100))
    claim = V.number_vs_sample("rank", ours, 10, 12, 100, True)
    assert claim.verdict == V.PARTLY and "Welch p = 0.00" in claim.detail
    assert V.number_vs_sample("rank", ours, 10, 12, 100, False).verdict == V.NOT_REPRODUCED
    assert V.number_vs_sample("rank", [1.0], 10, 12, 100, True).verdict == V.NOT_ASSESSABLE


def test_welch_counts_the_papers_own_sampling_error():
    """Our mean 12 (n = 400, std 12): its own CI [10.8, 13.2] excludes the paper's 10, but the paper's
    mean of 100 seeds has its own error: as two samples they are compatible (Welch p ≈ 0.14)."""
    ours = (lambda a: (a - a.mean()) / a.std(ddof=1) * 12 + 12.0)(np.random.default_rng(1).normal(size=400))
    assert V.number_vs_value("rank", ours, 10, True).verdict == V.PARTLY  # the one-sample reading
    claim = V.number_vs_sample("rank", ours, 10, 12, 100, True)
    assert claim.verdict == V.REPRODUCED and "p = 0.14" in claim.detail


def test_bare_number_against_our_interval_and_a_declared_margin():
    ours = [83.0, 84.0, 85.0, 86.0, 82.0]
    assert V.number_vs_value("svm", ours, 83.8, True).verdict == V.REPRODUCED
    assert V.number_vs_value("svm", ours, 90.0, True).verdict == V.PARTLY
    assert V.number_vs_value("svm", ours, 90.0, True, margin=5.0, margin_why="test").verdict == V.REPRODUCED
    assert V.number_vs_value("svm", ours, 83.8, False).verdict == V.NOT_REPRODUCED
    assert V.number_vs_value("svm", [math.nan], 83.8, True).verdict == V.NOT_ASSESSABLE


def test_direction_needs_significance_and_the_right_sign():
    assert V.direction("faster", 5.0, 3.0, 7.0, 1e-4, +1, "Δ").verdict == V.REPRODUCED
    assert V.direction("faster", 5.0, 1.0, 9.0, 0.03, +1, "Δ").verdict == V.PARTLY  # clear of 0, but p < 0.05 is not enough
    assert V.direction("faster", -5.0, -7.0, -3.0, 1e-4, +1, "Δ").verdict == V.NOT_REPRODUCED
    assert V.direction("faster", math.nan, math.nan, math.nan, math.nan, +1, "Δ").verdict == V.NOT_ASSESSABLE
    assert V.direction("faster", 0.0, 0.0, 0.0, 1.0, +1, "Δ").verdict == V.NOT_REPRODUCED  # no spread, no effect


def test_an_interval_holding_both_directions_is_not_assessable_with_the_sample_that_would_decide():
    wide = V.direction("faster", 0.1, -0.2, 0.4, 0.5, +1, "Δ", n=20)
    assert wide.verdict == V.NOT_ASSESSABLE
    # half-width 0.3 at effect 0.1: N = 20 · (2.5758 · 0.3 / (1.96 · 0.1))² = 310.9 → 311
    assert "interval too wide: needs ≈ 311 (n = 20 now)" in wide.detail
    other_way = V.direction("faster", -0.1, -0.4, 0.2, 0.5, +1, "Δ", n=20)
    assert other_way.verdict == V.NOT_ASSESSABLE and "the estimate points the other way" in other_way.detail
    assert V.direction("faster", -0.1, -0.4, -0.05, 0.02, +1, "Δ").verdict == V.NOT_REPRODUCED  # wholly the other side
    # the same effect, narrower: decided
    assert V.direction("faster", 0.1, 0.05, 0.15, 1e-4, +1, "Δ").verdict == V.REPRODUCED


def test_power_of_a_trend_is_stated_and_inverts():
    assert V.detectable_rho(15) == pytest.approx(math.tanh((2.5758293 + 0.8416212) * 1.03 / math.sqrt(12)), rel=1e-6)
    assert 0.76 < V.detectable_rho(15) < 0.78 and V.detectable_rho(100) < 0.35 and math.isnan(V.detectable_rho(3))
    for n in (10, 15, 40, 200):
        assert V.points_for_rho(V.detectable_rho(n)) in (n, n + 1)
    x = np.arange(15.0)
    weak = V.trend("rises", x, np.random.default_rng(0).permutation(15), +1)
    assert weak.verdict == V.NOT_ASSESSABLE and "smallest |ρ| detectable (80% power, p < 0.01) is ≈ 0.768" in weak.detail
    assert "points to detect |ρ|" in weak.detail


def test_a_rate_whose_interval_holds_both_sides_of_half_is_not_assessable():
    assert V.rate_claim("high", 3, 5, True, 0.9, "x").verdict == V.NOT_ASSESSABLE
    assert V.rate_claim("high", 24, 24, True, 0.9, "x").verdict == V.REPRODUCED
    assert V.rate_claim("high", 0, 24, True, 0.9, "x").verdict == V.NOT_REPRODUCED
    assert V.rate_claim("high", 19, 24, True, 0.95, "x").verdict == V.PARTLY  # above ½ at p < 0.01, CI short of 95%


def test_trend_by_spearman_with_its_interval():
    x = np.arange(20.0)
    up = V.trend("rises", x, x + np.random.default_rng(2).normal(0, 1, 20), +1)
    assert up.verdict == V.REPRODUCED and "Spearman" in up.detail
    assert V.trend("rises", x, -x, +1).verdict == V.NOT_REPRODUCED
    assert V.trend("rises", x[:5], [1, 3, 2, 5, 4], +1).verdict == V.NOT_ASSESSABLE  # ρ = 0.8 with n = 5: CI holds 0
    rho, lo, hi, p, n = S.spearman_ci(x, x)
    assert rho > 0.99 and lo < rho and n == 20


def test_assessable_needs_a_share_and_a_count():
    assert V.assessable(10, 12) and not V.assessable(5, 12) and not V.assessable(2, 2) and not V.assessable(0, 0)
    assert V.assessable(6, 12, min_share=0.5) and not V.assessable(6, 12, min_share=0.6)


def _outcomes_in_order(text: str) -> list[str]:
    """The verdicts a rule's text names after each "→", in the order it names them."""
    return [next(v for v in sorted(V.ORDER, key=len, reverse=True) if part.lstrip().startswith(v))
            for part in text.split("→")[1:]]


def test_the_words_of_a_direction_rule_follow_what_the_rule_does():
    text = V.direction_outcomes("positive")
    cases = [(5.0, 3.0, 7.0, 1e-4),  # the sign, significant
             (5.0, 1.0, 9.0, 0.03),  # the sign, clear of 0, not significant
             (-5.0, -7.0, -3.0, 1e-4),  # wholly the other side
             (0.1, -0.2, 0.4, 0.5)]  # both signs
    assert _outcomes_in_order(text) == [V.direction("x", *c, +1, "Δ").verdict for c in cases]
    assert "p < 0.01" in text and "positive" in text


def test_the_words_of_a_rate_rule_follow_what_the_rule_does():
    text = V.rate_outcomes(True, 0.9, "near 100%")
    # above ½ significantly (the bound's clause is read apart); above ½, CI clear of ½, p ≥ 0.01; wrong side; holds ½
    cases = [(24, 24), (15, 20), (0, 24), (3, 5)]
    assert _outcomes_in_order(text) == [V.rate_claim("x", k, n, True, 0.9, "x").verdict for k, n in cases]
    assert "reproduced when its Wilson 95% CI reaches ≥ 90%" in text and "partly when it does not" in text
    assert V.rate_claim("x", 19, 24, True, 0.95, "x").verdict == V.PARTLY  # significant, the CI short of the bound
    assert '"near 100%"' in text and "≤ 10%" in V.rate_outcomes(False, 0.1, "rare")


@pytest.mark.parametrize("name", ["circles_vs_size", "convergence_ablation", "fourier_evolution", "freeze_embedding",
                                  "manual_construction", "min_signal_vs_dim", "perturbation", "remainder_rank", "xor_rank",
                                  "winning_tickets"])
def test_rules_that_apply_the_shared_helpers_say_so_in_their_words(name):
    import importlib
    import inspect

    module = importlib.import_module(f"cinit_tf.studies.{name}")
    rule, source = module.VERDICT_RULE, inspect.getsource(module)
    if any(f"V.{f}(" in source for f in ("direction", "trend", "share_claim")):
        assert any(V.direction_outcomes(s) in rule for s in ("positive", "negative")), name
    if "V.rate_claim(" in source:
        assert "(exact binomial test) → reproduced when its Wilson 95% CI reaches" in rule, name
    assert "not significant → partly; zero or" not in rule and "→ else not reproduced" not in rule


def test_the_median_interval_is_the_order_statistics_a_binomial_gives():
    assert S.median_ci(np.arange(1.0, 17.0)) == (4.0, 13.0)  # n = 16: 2·P(B ≤ 3) = 0.021 ≤ 0.05 < 2·P(B ≤ 4) = 0.077
    assert S.median_ci(np.arange(1.0, 101.0)) == (40.0, 61.0)  # n = 100: the textbook x_(40), x_(61)
    assert S.median_ci([3.0, 1.0, 2.0, math.nan, 5.0, 4.0]) == (1.0, 5.0)  # n = 5 finite: no k reaches 95%, the range
    assert all(math.isnan(v) for v in S.median_ci([]))
