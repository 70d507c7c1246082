"""§4.4, Fig. 6d (convergence_ablation): the paired test on known data, and the claims through `measure` on
constructed seed pairs whose answer is known."""

import math

import numpy as np
import pytest
from scipy import stats

from cinit_tf.store import StoredTrial
from cinit_tf.studies import convergence_ablation as CA
from cinit_tf.trial import TrialResult

K = 29  # frequencies of p = 59
KEPT = 5  # frequencies the ablation keeps in these constructed trials


def stored(i: int, case: str, step, diverged: bool = False) -> StoredTrial:
    """Seed i of a case, reaching 100% test accuracy at `step` (None: never within the 1,000-step budget)."""
    initial = np.ones(K) if case == CA.ORIGINAL else np.r_[np.ones(KEPT), np.zeros(K - KEPT)]
    E = np.full((59, 2), np.nan) if diverged else np.zeros((59, 2))
    result = TrialResult(steps=np.array([0, 1000]), train_loss=np.ones(2), train_acc=np.ones(2), test_loss=np.ones(2),
                         test_acc=np.ones(2), fourier_norms=np.stack([initial, initial]), initial_embedding=np.zeros((59, 2)),
                         final_embedding=E, convergence_step=step, nonfinite_step=500 if diverged else None)
    settings = {"case": case, "grid": {}, "task": {"name": "modadd", "p": 59}, "transform": {"name": "none"},
                "train": {"steps": 1000, "log_every": 100, "first_steps": 10, "d": 128},
                "seeds": {"embedding": i, "mlp": i, "split": i}, "index": {"embedding": i, "trial": 0}}
    return StoredTrial(f"{case[0]}{i:015x}", settings, result)


ORIGINAL_STEPS = [300 + 10 * i for i in range(20)]


def pairs(ablated, original=ORIGINAL_STEPS) -> list:
    return ([stored(i, CA.ORIGINAL, o) for i, o in enumerate(original)]
            + [stored(i, CA.ABLATED, ablated(i, o)) for i, o in enumerate(original)])


@pytest.mark.parametrize("ablated, verdicts", [
    (lambda i, o: o // 4, ("reproduced", "reproduced")),
    (lambda i, o: o + 50, ("not reproduced", "reproduced")),                    # slower
    (lambda i, o: o // 4 if i < 17 else None, ("reproduced", "partly")),        # faster, but 3 of 20 never converge
    (lambda i, o: o - 10 if i % 2 else o + 9, ("not assessable", "reproduced")),  # faster on average; the CI holds both signs
])
def test_convergence_claims_known_answers(ablated, verdicts):
    m = CA.measure(pairs(ablated))
    assert [c.name for c in m.claims] == list(CA.CLAIM_NAMES)
    assert tuple(c.verdict for c in m.claims) == verdicts


def test_measured_numbers_of_a_quartered_convergence():
    m = CA.measure(pairs(lambda i, o: o // 4 if i < 17 else None))
    o, a = np.array(ORIGINAL_STEPS, dtype=float), np.array([x // 4 for x in ORIGINAL_STEPS[:17]], dtype=float)
    assert (m.pairs, len(m.original), len(m.valid), m.budget, m.log_every, m.first_steps) == (20, 20, 40, 1000, [100], [10])
    orig, abl = m.arms[CA.ORIGINAL], m.arms[CA.ABLATED]
    assert (orig["never"], abl["never"], abl["never_fraction"]) == (0, 3, pytest.approx(0.15))
    # Each arm's mean and Student-t interval are over the trials that converged.
    assert abl["stats"]["n"] == 17 and abl["stats"]["mean"] == pytest.approx(a.mean())
    lo, hi = stats.t.interval(0.95, df=16, loc=a.mean(), scale=stats.sem(a))
    assert abl["stats"]["ci95"] == pytest.approx([lo, hi]) and abl["stats"]["std"] == pytest.approx(a.std(ddof=1))
    assert orig["kept"]["mean"] == K and abl["kept"]["mean"] == KEPT
    assert m.ratio == pytest.approx(a.mean() / o.mean())
    assert m.paired["both_converged"] == 17 and m.paired["only_original_converged"] == 3
    assert m.difference["n"] == 17 and m.difference["mean"] == pytest.approx(np.mean(a - o[:17]))
    assert m.claims[1].detail.startswith("17 of 20 trials (ablated) reached 100% test accuracy within the budget")


def test_a_diverged_trial_takes_its_pair_out():
    trials = pairs(lambda i, o: o // 4)
    trials[3] = stored(3, CA.ORIGINAL, None, diverged=True)
    m = CA.measure(trials)
    assert m.pairs == 20 and len(m.original) == 19 and len(m.valid) == 38
    assert {why: [t.id for t in ts] for why, ts in m.excluded.items()} == {
        "non-finite training loss or embedding (diverged)": ["o000000000000003"],
        "its pair's other trial diverged": ["a000000000000003"]}
    assert m.arms[CA.ORIGINAL]["n"] == 19 and m.arms[CA.ORIGINAL]["never"] == 0


def test_too_few_valid_pairs_is_not_assessable():
    trials = [stored(i, case, 300, diverged=(case == CA.ABLATED and i >= 2)) for case in (CA.ORIGINAL, CA.ABLATED)
              for i in range(6)]
    m = CA.measure(trials)
    assert m.assessable is False and not m.arms
    assert [c.name for c in m.claims] == list(CA.CLAIM_NAMES)
    # 2 valid pairs of 6: their 4 trials are the valid ones of 12.
    assert all(c.verdict == "not assessable" and "only 4 of 12 trials" in c.detail for c in m.claims)


def test_a_missing_case_is_an_error():
    with pytest.raises(ValueError, match="needs cases"):
        CA.measure([stored(i, CA.ORIGINAL, 300) for i in range(5)])


# ---------------------------------------------------------------- the paired test


def test_paired_convergence_counts_and_tests_constructed_pairs():
    original = [100, 200, 300, 400, 500, 600, None, 700, None]
    ablated = [10, 20, 30, 40, 50, 60, 70, None, None]
    out = CA.paired_convergence(original, ablated)
    assert (out["pairs"], out["both_converged"]) == (9, 6)
    assert (out["only_original_converged"], out["only_ablated_converged"], out["neither_converged"]) == (1, 1, 1)
    assert (out["ablated_faster"], out["ablated_slower"], out["ties"]) == (6, 0, 0)
    assert out["median_difference"] == -315.0
    # Six differences all of one sign: the exact two-sided signed-rank p is 2 / 2^6.
    assert out["p"] == pytest.approx(2 / 64)
    assert out["statistic"] == 0.0


def test_paired_convergence_without_differences_has_no_test():
    out = CA.paired_convergence([100, 200], [100, 200])
    assert out["ties"] == 2 and math.isnan(out["p"])
    with pytest.raises(ValueError):
        CA.paired_convergence([1, 2], [1])


def test_paired_convergence_mixed_signs_matches_scipy():
    original = [120, 340, 200, 410, 90, 300, 260, 150]
    ablated = [60, 300, 260, 100, 95, 120, 200, 30]
    out = CA.paired_convergence(original, ablated)
    ref = stats.wilcoxon(np.subtract(ablated, original))
    assert out["p"] == pytest.approx(ref.pvalue) and out["statistic"] == pytest.approx(ref.statistic)
    assert (out["ablated_faster"], out["ablated_slower"]) == (6, 2)
