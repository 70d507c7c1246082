"""§4.2, Fig. 5c (manual_construction): the claims through `measure` on constructed trials whose answer is known."""

import numpy as np
import pytest
from modadd_trials import trial_result

from cinit_tf.stats import inference
from cinit_tf.stats.claims import ALPHA, NOT_ASSESSABLE, NOT_REPRODUCED, PARTLY, REPRODUCED
from cinit_tf.studies import manual_construction
from cinit_tf.trial import StoredTrial

S_, EPS = 100.0, 1e-6
K_TOP, K_SECOND, K_EPS = 2, 4, 1  # frequency 1 started at ε: its survival is a revival


def stored(
    i: int, r: float, top: bool, second: bool, revived: bool, chosen=None, diverged: bool = False
) -> StoredTrial:
    """Trial i at ratio r: frequencies 2 (signal s) and 4 (signal r · s) constructed, the rest at ε; at the end each
    of top, second and frequency 1 survives as asked (a survivor ends at 1, a dead frequency at 0)."""
    initial = np.full(5, EPS)
    initial[K_TOP - 1], initial[K_SECOND - 1] = S_, r * S_
    final = np.zeros(5)
    final[[K_TOP - 1, K_SECOND - 1, K_EPS - 1]] = [float(top), float(second), float(revived)]
    result = trial_result(initial, final, 11, diverged)
    settings = {
        "case": "",
        "grid": {"transform.r": r},
        "task": {"name": "modadd", "p": 11},
        "transform": {"name": "construct_two", "s": S_, "r": r, "eps": EPS},
        "train": {"steps": 200, "d": 2},
        "seeds": {"embedding": i, "mlp": i, "split": i},
        "index": {"embedding": i, "trial": 0},
    }
    chosen = {"k_top": K_TOP, "k_second": K_SECOND} if chosen is None else chosen
    return StoredTrial(f"{i:08x}{int(10 * r):08x}", settings, result, chosen)


def sweep(top: int, second: dict, revived: int, n: int = 20) -> list:
    """n trials at each r of `second` ({r: how many of them keep the second}); the first `top` keep the top and the
    first `revived` revive frequency 1. A trial whose top dies keeps the second (something must end largest)."""
    return [
        stored(i, r, top=i < top, second=i < k or i >= top, revived=i < revived)
        for r, k in second.items()
        for i in range(n)
    ]


RISING = {0.0: 0, 0.5: 10, 1.0: 20}


def test_top_always_second_rising_some_revivals_reproduces_every_claim():
    m = manual_construction.measure(sweep(20, RISING, 3))
    assert m.assessable and len(m.valid) == 60
    assert [c.name for c in m.claims] == list(manual_construction.CLAIM_NAMES)
    assert [c.verdict for c in m.claims] == ["reproduced"] * 3
    table = m.per_tau[manual_construction.SURVIVAL_TAU]
    assert [(x["r"], x["n"], x["top"], x["second"], x["any_revival"]) for x in table] == [
        (0.0, 20, 1.0, 0.0, 0.15),
        (0.5, 20, 1.0, 0.5, 0.15),
        (1.0, 20, 1.0, 1.0, 0.15),
    ]
    assert m.any_revival == pytest.approx(9 / 60)
    top, second, revival = m.claims
    assert (revival.kind, revival.reason, revival.n, revival.value) == (
        "observation",
        "observed",
        60,
        9 / 60,
    )
    assert revival.ci == pytest.approx(inference.share_ci(9, 60))
    # 60 of 60: the Wilson interval reaches 100%, past the 95% that "always" is read as.
    assert (top.kind, top.reason, top.value, top.margin, top.offset) == (
        "rate",
        "beyond_margin",
        1.0,
        pytest.approx(0.45),
        0.5,
    )
    assert top.margin_source.startswith(
        '§4.2: "the frequency with the highest signal always survives"'
    )
    assert (second.kind, second.reason, second.margin) == ("trend", "beyond_margin", 0.1)
    assert '"the second-highest frequency increases in survival rate' in second.margin_source
    assert m.spearman["rho"] > 0.8 and m.spearman["n"] == 60
    # The stored frequencies agree with the initial norms at every r (at r = 1 as a pair, at r = 0 the top alone).
    assert m.check == {"checked": 60, "agree": 60, "disagree": []}


@pytest.mark.parametrize(
    "top, second, revived, verdicts",
    [
        (
            16,
            RISING,
            0,
            ("partly", "reproduced", "not reproduced"),
        ),  # top 80%: not "always"; no revival at all
        (
            20,
            {0.0: 20, 0.5: 10, 1.0: 0},
            20,
            ("reproduced", "not reproduced", "not reproduced"),
        ),  # falls; always revives
        (
            20,
            {0.0: 10, 0.5: 10, 1.0: 10},
            3,
            ("reproduced", "not assessable", "reproduced"),
        ),  # flat in r: ρ's CI holds both signs
    ],
)
def test_manual_construction_claims_known_answers(top, second, revived, verdicts):
    m = manual_construction.measure(sweep(top, second, revived))
    assert tuple(c.verdict for c in m.claims) == verdicts
    assert [x["top"] for x in m.per_tau[manual_construction.SURVIVAL_TAU]] == [top / 20] * 3


def test_always_is_a_rate_whose_interval_reaches_95_percent():
    """48 of 60 tops survive: the rate is clear of ½ (Wilson 95% CI 68–88%) but wholly short of the 95% that
    "always" is read as, so partly; read as ≥ 85% it would be reproduced: the margin decides."""
    m = manual_construction.measure(sweep(16, RISING, 3))
    top = m.claims[0]
    assert (top.verdict, top.reason, top.value, top.n) == (
        PARTLY,
        "short_of_margin",
        0.8,
        60,
    )
    assert 0.5 < top.ci[0] and top.ci[1] < 0.95 and top.p < ALPHA
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manual_construction, "TOP_ALWAYS", 0.85)
        loose = manual_construction.measure(sweep(16, RISING, 3)).claims[0]
    assert (loose.verdict, loose.reason, loose.margin) == (
        REPRODUCED,
        "beyond_margin",
        pytest.approx(0.35),
    )


def rows(rates: dict, n: int) -> list[dict]:
    """n rows at each r of `rates` ({r: share keeping the second}), the top surviving, no revival."""
    out = []
    for r, share in rates.items():
        kept = round(share * n)
        out += [
            {
                "r": r,
                manual_construction.SURVIVAL_TAU: {"top": True, "second": i < kept, "revived": 0},
            }
            for i in range(n)
        ]
    return out


def test_the_second_s_rise_is_judged_against_the_conventional_rho():
    """Survival rates 47%, 50%, 53% over 2,000 trials at each r: ρ = 0.049, its 95% CI [0.023, 0.075] clear
    of 0 (p < 0.01) but wholly short of |ρ| = 0.1 → partly. No rise at all over 1,000 trials per r: ρ = 0
    with a CI [−0.037, 0.037] that rules out ρ = 0.1 → not reproduced (not "too wide")."""
    weak = manual_construction.claims_of(rows({0.0: 0.47, 0.5: 0.50, 1.0: 0.53}, 2000))[1]
    assert (weak.verdict, weak.reason, weak.n, weak.margin) == (
        PARTLY,
        "short_of_margin",
        6000,
        0.1,
    )
    assert weak.value == pytest.approx(0.049, abs=0.001) and 0 < weak.ci[0] and weak.ci[1] < 0.1
    flat = manual_construction.claims_of(rows({0.0: 0.5, 0.5: 0.5, 1.0: 0.5}, 1000))[1]
    assert (flat.verdict, flat.reason, flat.needs_n) == (
        NOT_REPRODUCED,
        "rules_out_margin",
        None,
    )
    assert flat.value == pytest.approx(0.0, abs=1e-12) and flat.ci[0] < 0 < flat.ci[1] < 0.1
    # The same flat rates over 20 trials per r: the CI holds both 0 and 0.1; needs_n says what would decide.
    few = manual_construction.claims_of(rows({0.0: 0.5, 0.5: 0.5, 1.0: 0.5}, 20))[1]
    assert (few.verdict, few.reason) == (NOT_ASSESSABLE, "too_wide") and few.needs_n > 60


def test_revivals_some_none_or_every_one():
    assert (
        manual_construction.revival_claim(3, 60).verdict,
        manual_construction.revival_claim(3, 60).reason,
    ) == (
        REPRODUCED,
        "observed",
    )
    none, every = (
        manual_construction.revival_claim(0, 60),
        manual_construction.revival_claim(60, 60),
    )
    assert (none.verdict, none.reason, none.value) == (NOT_REPRODUCED, "not_observed", 0.0)
    assert (every.verdict, every.reason, every.value) == (
        NOT_REPRODUCED,
        "not_observed",
        1.0,
    )
    empty = manual_construction.revival_claim(0, 0)
    assert (empty.verdict, empty.reason, empty.n) == (NOT_ASSESSABLE, "too_few_valid", 0)


def test_a_wrong_stored_frequency_is_caught_by_the_check():
    trials = sweep(20, RISING, 3, n=4)
    trials[5] = stored(
        1, 0.5, True, True, False, chosen={"k_top": K_SECOND, "k_second": K_TOP}
    )  # swapped
    m = manual_construction.measure(trials)
    assert (
        m.check["checked"] == 12
        and m.check["agree"] == 11
        and m.check["disagree"] == [trials[5].id]
    )


def test_too_few_valid_trials_is_not_assessable():
    trials = [stored(i, 0.5, True, True, False, diverged=i >= 2) for i in range(6)]
    m = manual_construction.measure(trials)
    assert m.assessable is False and not m.rows
    assert [c.name for c in m.claims] == list(manual_construction.CLAIM_NAMES)
    assert all(
        c.verdict == "not assessable" and (c.reason, c.n) == ("too_few_valid", 2) for c in m.claims
    )


def test_manual_construction_reads_the_frequencies_the_transform_chose():
    (row,) = manual_construction.trial_rows([stored(0, 0.5, top=True, second=False, revived=True)])
    assert (row["k_top"], row["k_second"]) == (K_TOP, K_SECOND)
    assert row[0.05] == {
        "top": True,
        "second": False,
        "revived": 1,
        "survivors": 2,
    }  # k = 1 came back from ε
    with pytest.raises(ValueError, match="no stored transform choice 'k_top'"):
        manual_construction.trial_rows([stored(1, 0.5, True, True, False, chosen={})])
