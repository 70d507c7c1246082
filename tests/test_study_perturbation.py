"""§4.2, Fig. 5b (perturbation): the claims through `measure` on constructed trials whose answer is known."""

import math

import numpy as np
import pytest
from modadd_trials import trial_result

from cinit_tf.studies import perturbation
from cinit_tf.trial import StoredTrial

OTHERS = [9.0, 10.0, 11.0]  # the unscaled frequencies: mean 10, population std √(2/3)
K_SCALED = 2


def stored(emb: int, s: float, survived: bool, chosen=None, diverged: bool = False) -> StoredTrial:
    """A trial of embedding `emb` whose frequency 2 was scaled by s (its signal 10 · s²) and survived or not."""
    initial = list(OTHERS)
    initial.insert(K_SCALED - 1, 10.0 * s * s)
    final = [1.0] * 4
    final[K_SCALED - 1] = 1.0 if survived else 0.0
    result = trial_result(initial, final, 9, diverged)
    settings = {
        "case": "",
        "grid": {"transform.s": s},
        "task": {"name": "modadd", "p": 9},
        "transform": {"name": "fourier_scale", "k": "random", "s": s},
        "train": {"steps": 200, "d": 2},
        "seeds": {"embedding": 100 + emb, "mlp": emb, "split": emb},
        "index": {"embedding": emb, "trial": 0},
    }
    return StoredTrial(
        f"{emb:08x}{int(10 * s):08x}",
        settings,
        result,
        {"k": K_SCALED} if chosen is None else chosen,
    )


def sweep(n: int, above: int, below: int) -> list:
    """n embeddings, each scaled to s = 2 (z ≈ +36.7; the first `above` survive) and to s = 0 (z ≈ −12.2; the
    first `below` survive)."""
    return [stored(e, 2.0, e < above) for e in range(n)] + [
        stored(e, 0.0, e < below) for e in range(n)
    ]


Z_UP, Z_DOWN = (40.0 - 10.0) / math.sqrt(2 / 3), (0.0 - 10.0) / math.sqrt(2 / 3)


def test_far_above_survives_far_below_dies_reproduces_every_claim():
    m = perturbation.measure(sweep(10, above=10, below=0))
    assert m.assessable and len(m.valid) == 20 and not m.excluded
    assert [c.name for c in m.claims] == list(perturbation.CLAIM_NAMES)
    assert [c.verdict for c in m.claims] == ["reproduced"] * 3
    assert m.claims[0].detail.startswith(
        "10 of 10 trials with z ≥ 3 survived; rate = 1 (95% CI [0.722, 1], n = 10)"
    )
    assert m.claims[1].detail.startswith("0 of 10 trials with z ≤ −3 survived; rate = 0")
    assert (m.claims[0].margin, m.claims[1].margin, m.claims[2].margin) == pytest.approx(
        (0.4, 0.4, 0.1)
    )
    assert all(c.reason == "beyond_margin" for c in m.claims)
    assert sorted({r["z"] for r in m.rows}) == pytest.approx([Z_DOWN, Z_UP])
    assert m.spearman["rho"] == pytest.approx(1.0) and m.spearman["n"] == 20
    bins = m.bins[perturbation.SURVIVAL_TAU]
    assert (bins[0]["n"], bins[0]["rate"], bins[-1]["n"], bins[-1]["rate"]) == (10, 0.0, 10, 1.0)
    assert sum(b["n"] for b in bins[1:-1]) == 0
    # One line per embedding, two points (s = 0, s = 2); across them only signal_2 changed, as the store says.
    assert len(m.lines) == 10 and all(
        len(ln["points"]) == 2 and ln["k"] == K_SCALED for ln in m.lines
    )
    assert m.check == {"checked": 10, "agree": 10, "disagree": []}


@pytest.mark.parametrize(
    "n, above, below, verdicts",
    [
        (
            40,
            30,
            10,
            ("partly", "partly", "reproduced"),
        ),  # the right side of ½ (p < 0.01), but not near 100% / 0%
        # A coin either way: each rate's CI holds ½ but lies short of 90% (above) and of 10% (below), so "near 100%"
        # and "rarely" are ruled out; the trend's CI holds 0 and reaches the conventional ρ = 0.1.
        (10, 5, 5, ("not reproduced", "not reproduced", "not assessable")),
        (
            10,
            0,
            10,
            ("not reproduced", "not reproduced", "not reproduced"),
        ),  # the opposite of the claim
    ],
)
def test_perturbation_claims_known_answers(n, above, below, verdicts):
    m = perturbation.measure(sweep(n, above, below))
    assert tuple(c.verdict for c in m.claims) == verdicts
    bins = m.bins[perturbation.SURVIVAL_TAU]
    assert bins[-1]["rate"] == pytest.approx(above / n) and bins[0]["rate"] == pytest.approx(
        below / n
    )


def test_a_wrong_stored_frequency_is_caught_by_the_check():
    trials = sweep(4, above=4, below=0)
    trials[0] = stored(
        0, 2.0, True, chosen={"k": 3}
    )  # the store says k = 3; the data changed k = 2
    m = perturbation.measure(trials)
    assert m.check["checked"] == 4 and m.check["agree"] == 3 and m.check["disagree"] == [100]


def test_diverged_trials_are_left_out_of_every_statistic():
    trials = sweep(10, above=10, below=0) + [
        stored(50, 2.0, False, diverged=True),
        stored(51, 0.0, True, diverged=True),
    ]
    m = perturbation.measure(trials)
    assert len(m.trials) == 22 and len(m.valid) == 20
    assert [len(ts) for ts in m.excluded.values()] == [2]
    # The diverged trials (a dead one far above, a surviving one far below) count in neither rate.
    assert m.claims[0].detail.startswith("10 of 10 trials") and m.claims[1].detail.startswith(
        "0 of 10 trials"
    )
    assert sum(b["n"] for b in m.bins[perturbation.SURVIVAL_TAU]) == 20


def test_too_few_valid_trials_is_not_assessable():
    trials = [stored(e, 2.0, True, diverged=e >= 3) for e in range(8)]
    m = perturbation.measure(trials)
    assert m.assessable is False and not m.rows
    assert [c.name for c in m.claims] == list(perturbation.CLAIM_NAMES)
    assert all(c.verdict == "not assessable" and "only 3 of 8 trials" in c.detail for c in m.claims)


# ---------------------------------------------------------------- the deviation z and the chosen frequency


def test_perturbation_reads_the_frequency_the_transform_chose():
    # k = 2 was scaled up: it dominates at the start and survives; nothing in the settings says which k it was.
    (row,) = perturbation.trial_rows([stored(0, 2.0, True)])
    assert row["k"] == 2 and row["survived"][0.05]
    assert row["z"] == pytest.approx(Z_UP)
    with pytest.raises(ValueError, match="no stored transform choice 'k'"):
        perturbation.trial_rows([stored(1, 2.0, True, chosen={})])


def test_deviation_in_units_of_the_other_signals():
    norms = np.array([1.0, 3.0, 5.0, 20.0])
    # others = 1, 3, 5: mean 3, population std sqrt(8/3)
    assert perturbation.deviation(norms, 4) == pytest.approx((20 - 3) / math.sqrt(8 / 3))
    assert perturbation.deviation(norms, 2) == pytest.approx(
        (3 - 26 / 3) / np.std([1.0, 5.0, 20.0])
    )
