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
    assert V.direction("faster", 5.0, -1.0, 11.0, 0.03, +1, "Δ").verdict == V.PARTLY  # p < 0.05 is not enough
    assert V.direction("faster", -5.0, -7.0, -3.0, 1e-4, +1, "Δ").verdict == V.NOT_REPRODUCED
    assert V.direction("faster", math.nan, math.nan, math.nan, math.nan, +1, "Δ").verdict == V.NOT_ASSESSABLE


def test_trend_by_spearman_with_its_interval():
    x = np.arange(20.0)
    up = V.trend("rises", x, x + np.random.default_rng(2).normal(0, 1, 20), +1)
    assert up.verdict == V.REPRODUCED and "Spearman" in up.detail
    assert V.trend("rises", x, -x, +1).verdict == V.NOT_REPRODUCED
    assert V.trend("rises", x[:5], [1, 3, 2, 5, 4], +1).verdict == V.PARTLY  # ρ = 0.8 with n = 5: p ≈ 0.10
    rho, lo, hi, p, n = S.spearman_ci(x, x)
    assert rho > 0.99 and lo < rho and n == 20


def test_assessable_needs_a_share_and_a_count():
    assert V.assessable(10, 12) and not V.assessable(5, 12) and not V.assessable(2, 2) and not V.assessable(0, 0)
    assert V.assessable(6, 12, min_share=0.5) and not V.assessable(6, 12, min_share=0.6)
