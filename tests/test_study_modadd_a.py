"""Modular-addition studies of §4.1, §4.2 (Fig. 5a) and App. F: helpers and each study's `measure` on constructed
data whose answer is known, and each study end to end on its smoke profile."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from smoke_reports import read_report, run_smoke

from cinit_tf.measures import circles as circle_geometry
from cinit_tf.measures import longer_runs, survival
from cinit_tf.readout import principal_components
from cinit_tf.stats import inference
from cinit_tf.studies import analyse, complex_dynamics, fourier_evolution, survival_vs_norm
from cinit_tf.trial import StoredTrial, TrialResult

EXPERIMENTS = Path(__file__).parent.parent / "experiments"
STUDIES = ("survival_vs_norm", "fourier_evolution", "complex_dynamics")


def fake_trial(
    tid,
    initial,
    final,
    embedding_seed=0,
    mlp_seed=0,
    E=None,
    steps=(0, 100),
    middle=None,
    case="main",
    p=7,
    snapshots=None,
):
    """A stored trial with the given initial and final Fourier norms (and optionally rows between them)."""
    rows = [initial] + ([] if middle is None else list(middle)) + [final]
    steps = np.asarray(
        steps if len(steps) == len(rows) else np.linspace(0, 100, len(rows)), dtype=np.int64
    )
    E = np.zeros((7, 2), np.float32) if E is None else E
    r = TrialResult(
        steps=steps,
        train_loss=np.ones(len(rows)),
        train_acc=np.ones(len(rows)),
        test_loss=np.ones(len(rows)),
        test_acc=np.ones(len(rows)),
        fourier_norms=np.asarray(rows, dtype=np.float64),
        initial_embedding=E,
        final_embedding=E,
        convergence_step=int(steps[-1]),
        nonfinite_step=None,
        snapshot_steps=None if snapshots is None else np.asarray(steps),
        snapshots=snapshots,
    )
    settings = {
        "case": case,
        "seeds": {"embedding": embedding_seed, "mlp": mlp_seed, "split": mlp_seed},
        "task": {"name": "modadd", "p": p},
        "train": {"steps": int(steps[-1])},
    }
    return StoredTrial(tid, settings, r)


# ---------------------------------------------------------------- Pearson


def test_pearson_exactly_linear_is_one():
    signal = np.linspace(1.0, 30.0, 58).reshape(2, 29)
    rate = 0.02 * signal + 0.1  # survival rate exactly linear in the signal
    out = inference.pearson(np.ravel(signal), np.ravel(rate))
    assert out["r"] == pytest.approx(1.0, abs=1e-12)
    assert out["p"] < 1e-12
    assert out["n"] == 58


def test_pearson_independent_is_small():
    g = np.random.default_rng(0)
    out = inference.pearson(
        np.ravel(g.exponential(size=(10, 29))), np.ravel(g.uniform(size=(10, 29)))
    )
    assert abs(out["r"]) < 0.15
    assert out["p"] > 0.01


def test_pearson_known_value_and_p():
    # r = 0.8 on four points; with 2 degrees of freedom the two-sided p is 1 - |t| / sqrt(t² + 2) = 0.2 exactly.
    out = inference.pearson([1, 2, 3, 4], [1, 3, 2, 4])
    assert out["r"] == pytest.approx(0.8)
    assert out["p"] == pytest.approx(0.2)


def test_fisher_interval_contains_r_and_narrows():
    lo, hi = inference.pearson_ci(0.85, 290)
    assert lo < 0.85 < hi
    lo2, hi2 = inference.pearson_ci(0.85, 2900)
    assert hi2 - lo2 < hi - lo
    assert np.isnan(inference.pearson_ci(1.0, 10)[0])


# ---------------------------------------------------------------- survival


def test_survival_rates_on_constructed_final_norms():
    # Embedding 0: k = 1 survives in 2 of 2 trials, k = 2 in 1 of 2, k = 3 never (τ = 0.05: >= 0.05 · max).
    # Embedding 1: k = 3 survives in 3 of 3 trials, k = 1 in 1 of 3.
    init0, init1 = np.array([3.0, 2.0, 1.0]), np.array([1.0, 1.0, 5.0])
    E0, E1 = np.zeros((7, 2), np.float32), np.ones((7, 2), np.float32)
    trials = [
        fake_trial("a", init0, [1.0, 0.06, 0.04], 0, 0, E0),
        fake_trial("b", init0, [1.0, 0.01, 0.0], 0, 1, E0),
        fake_trial("c", init1, [0.2, 0.0, 1.0], 1, 2, E1),
        fake_trial("d", init1, [0.0, 0.0, 1.0], 1, 3, E1),
        fake_trial("e", init1, [0.04, 0.0, 1.0], 1, 4, E1),
    ]
    out = survival.survival_rates(trials, 0.05)
    assert out["embeddings"].tolist() == [0, 1]
    assert out["trials"].tolist() == [2, 3]
    np.testing.assert_allclose(out["rate"], [[1.0, 0.5, 0.0], [1 / 3, 0.0, 1.0]])
    np.testing.assert_allclose(out["signal"], [init0, init1])
    # τ moves the verdict of borderline frequencies: at 0.01 trial b's k = 2 (0.01) survives too.
    np.testing.assert_allclose(survival.survival_rates(trials, 0.01)["rate"][0], [1.0, 1.0, 0.5])
    counts = survival.survivor_counts(trials, (0.01, 0.05, 0.2))
    assert counts[0.05].tolist() == [2, 1, 2, 1, 1]
    assert counts[0.2].tolist() == [1, 1, 2, 1, 1]
    s = survival.count_summary(counts[0.05])
    assert (s["min"], s["max"], s["n"]) == (1, 2, 5)
    assert s["mean"] == pytest.approx(1.4)
    assert s["share_3_to_5"] == 0.0


def test_survival_by_initial_rank_counts_runs_per_rank():
    # Run a: ranks 1, 2, 3 for k = 1, 2, 3; survivors k = 1, 3 → ranks 1 and 3.
    # Run b: initial order reversed (k = 3 ranks 1); survivor k = 3 → rank 1.
    a = fake_trial("a", [3.0, 2.0, 1.0], [1.0, 0.0, 1.0])
    b = fake_trial("b", [1.0, 2.0, 3.0], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(survival.survival_by_initial_rank([a, b]), [1.0, 0.0, 0.5])


def test_survival_rates_refuse_different_embeddings_under_one_seed():
    trials = [
        fake_trial("a", [1, 1, 1], [1, 0, 0], 0, 0, np.zeros((7, 2))),
        fake_trial("b", [1, 1, 1], [1, 0, 0], 0, 1, np.ones((7, 2))),
    ]
    with pytest.raises(ValueError, match="different embeddings"):
        survival.survival_rates(trials)


def test_survivor_mask_at_an_earlier_step():
    t = fake_trial(
        "a", [1.0, 1.0, 1.0], [1.0, 0.0, 0.0], middle=[[1.0, 0.5, 0.0]], steps=(0, 50, 100)
    )
    assert survival.survivor_mask(t, step=50).tolist() == [True, True, False]
    assert survival.survivor_mask(t, step=99).tolist() == [
        True,
        True,
        False,
    ]  # the record it had reached by then
    assert survival.survivor_mask(t).tolist() == [True, False, False]


def test_initial_ranks_and_inverse():
    assert survival.initial_ranks([0.5, 3.0, 1.0, 3.0]).tolist() == [4, 1, 3, 1]
    assert survival.inverse_mod(7, 59) * 7 % 59 == 1
    assert survival.inverse_mod(1, 59) == 1


def test_settling_compares_short_and_long():
    main = [fake_trial("m", [1, 1, 1], [1.0, 0.5, 0.0], 0, 0, steps=(0, 100))]
    # Survivors at step 100 are {1, 2}; by the end k = 2 has died.
    long = [
        fake_trial(
            "l",
            [1, 1, 1],
            [1.0, 0.01, 0.0],
            0,
            0,
            middle=[[1.0, 0.5, 0.0]],
            steps=(0, 100, 300),
            case="long",
        )
    ]
    s = longer_runs.settling(main, long)
    v = s["per_tau"][0.05]
    assert (s["short_steps"], v["same_set"], v["runs"], v["frequencies_changed"]) == (
        100,
        0,
        1,
        [1],
    )
    assert (v["twins"], v["twin_same_set"]) == (1, 1)
    assert s["per_tau"][0.01]["same_set"] == 1
    assert v["settled_at"] == [300] and s["per_tau"][0.01]["settled_at"] == [100]


def test_settling_rule_takes_the_record_at_or_before_the_step():
    # Records at 0, 50, 100, 150: survivors {1, 2} until step 100, {1} from step 150 on.
    a = fake_trial(
        "a",
        [1, 1, 1],
        [1.0, 0.0, 0.0],
        middle=[[1.0, 0.5, 0.0], [1.0, 0.5, 0.0]],
        steps=(0, 50, 100, 150),
    )
    b = fake_trial(
        "b",
        [1, 1, 1],
        [1.0, 0.5, 0.0],
        middle=[[1.0, 0.0, 0.0], [1.0, 0.5, 0.0]],
        steps=(0, 50, 100, 150),
    )
    s = survival.settling([a, b], 140)
    assert s["recorded_at"] == [100, 100]  # 140 is not recorded: the last record before it
    assert (s["runs"], s["same_set"], s["frequencies_changed"]) == (2, 1, [1, 0])
    assert s["label_agreement"] == pytest.approx(5 / 6)
    assert s["settled_at"] == [150, 100]
    assert survival.settling([a], 150)["same_set"] == 1
    text = survival.settling_text(s)
    assert (
        "step 100" in text
        and "83.3% of (trial, frequency) labels" in text
        and "1 of the 2 trials (50.0%)" in text
    )
    assert survival.settling_step([a, fake_trial("c", [1, 1, 1], [1, 0, 0], steps=(0, 90))]) == 60


# ---------------------------------------------------------------- geometry and classification


def test_fourier_plane_of_a_perfect_circle():
    # Two circles in orthogonal planes: frequency 5 of radius 3 and frequency 2 of radius 1.
    p, k = 13, 5
    t = np.arange(p)
    E = np.zeros((p, 6))
    E[:, 2], E[:, 4] = 3 * np.cos(2 * np.pi * k * t / p), 3 * np.sin(2 * np.pi * k * t / p)
    E[:, 0], E[:, 5] = np.cos(2 * np.pi * 2 * t / p), np.sin(2 * np.pi * 2 * t / p)
    E += 7.0  # the mean is not part of any circle
    np.testing.assert_allclose(
        np.linalg.norm(circle_geometry.fourier_plane(E, k), axis=1), 3.0, atol=1e-9
    )
    np.testing.assert_allclose(
        np.linalg.norm(circle_geometry.fourier_plane(E, 2), axis=1), 1.0, atol=1e-9
    )
    pcs = principal_components(E, 4)
    assert [circle_geometry.dominant_frequency(pcs[:, i]) for i in range(4)] == [k, k, 2, 2]
    assert circle_geometry.dominant_frequency(pcs[:, 2:4]) == 2


def test_classify_high_dies_low_survives():
    initial = np.array([9.0, 8.0, 7.0, 5.0, 4.0, 3.0, 2.0])  # ranks 1..7, median 5
    mask = np.array([True, False, True, True, False, False, True])
    c = complex_dynamics.classify(initial, mask, high_top=3)
    assert c["dead_high"] == [2] and c["live_low"] == [7] and c["complex"] and not c["top1_dies"]
    c = complex_dynamics.classify(initial, np.array([True, True, True, False, False, False, False]))
    assert c["dead_high"] == [] and c["live_low"] == [] and not c["complex"]


def test_pick_example_prefers_best_ranked_death():
    initial = np.array([9.0, 8.0, 7.0, 5.0, 4.0, 3.0, 2.0])
    a = complex_dynamics.classify(
        initial, np.array([True, True, False, True, False, False, True])
    )  # rank 3 dies
    b = complex_dynamics.classify(
        initial, np.array([False, True, True, True, False, True, False])
    )  # rank 1 dies
    a["id"], b["id"] = "a", "b"
    assert complex_dynamics.pick_example([a, b])["id"] == "b"
    assert (
        complex_dynamics.pick_example(
            [complex_dynamics.classify(initial, np.ones(7, bool)) | {"id": "c"}]
        )
        is None
    )


def test_random_baseline_by_enumeration():
    # 5 frequencies ranked 1..5, 2 random survivors, high = rank 1, low = ranks 4, 5 (below the median).
    # Of the 10 pairs: rank 1 missing in 6 (0.6); a low one present in 7 (0.7); both in 5 (0.5).
    b = complex_dynamics.random_baseline([5.0, 4.0, 3.0, 2.0, 1.0], 2, high_top=1)
    assert b == pytest.approx({"dead_high": 0.6, "live_low": 0.7, "complex": 0.5})


# ---------------------------------------------------------------- end to end on the smoke profile


@pytest.fixture(scope="module")
def smoke_reports(tmp_path_factory):
    return run_smoke(STUDIES, tmp_path_factory.mktemp("modadd_a"))


def test_survival_vs_norm_smoke(smoke_reports):
    readme, s, pngs = read_report(smoke_reports, "survival_vs_norm")
    assert pngs == {"survival_vs_signal.png", "survivors_per_run.png", "settling.png"}
    body = s["summary"]
    assert body["pearson"]["n"] == 2 * 11  # 2 embeddings × 11 frequencies (p = 23)
    assert np.isfinite(body["pearson"]["r"]) and -1 <= body["pearson"]["r"] <= 1
    assert set(body["per_tau"]) == {"0.01", "0.05", "0.2"}
    assert body["per_tau"]["0.05"]["counts"]["n"] == 4
    assert body["settling"]["short_steps"] == 300 and body["settling"]["long_steps"] == [600]
    for text in ("Pearson r", "Verdict", "Deviations", "Settling check", "Fig. 5a"):
        assert text in readme
    assert s["verdict"] in ("reproduced", "partly", "not reproduced", "not assessable")


def test_fourier_evolution_smoke(smoke_reports):
    readme, s, pngs = read_report(smoke_reports, "fourier_evolution")
    assert pngs == {
        "fourier_norms_over_training.png",
        "fourier_projections.png",
        "pca_vs_fourier.png",
        "survivor_initial_ranks.png",
    }
    body = s["summary"]
    assert body["counts"]["n"] == 3
    assert 1 <= body["survivor_initial_rank"]["mean"] <= 11
    assert np.isfinite(body["rank_test"]["p"])
    assert body["snapshot_frequencies"]["dead"] != body["snapshot_frequencies"]["surviving"]
    for text in ("Fig. 3a", "Fig. 3b", "Fig. 4", "Δ", "Verdict"):
        assert text in readme


def test_complex_dynamics_smoke(smoke_reports):
    readme, s, pngs = read_report(smoke_reports, "complex_dynamics")
    body = s["summary"]
    assert body["runs"] == 6
    # The example figure is drawn exactly when some run has a dying high and a surviving low frequency.
    assert ("complex_dynamics_example.png" in pngs) == (body["complex"] > 0)
    assert "survival_by_initial_rank.png" in pngs
    assert 0 <= body["complex"] <= min(body["dead_high"], body["live_low"])
    for text in ("Fig. 14", "Verdict", "high"):
        assert text in readme


def test_reports_are_deterministic(smoke_reports, tmp_path):
    from cinit_tf.reporting.generate import generate_report

    for name in STUDIES:
        before = (
            (smoke_reports / name / "README.md").read_bytes(),
            (smoke_reports / name / "summary.json").read_bytes(),
        )
        out = generate_report(smoke_reports / name, tmp_path)
        assert ((out / "README.md").read_bytes(), (out / "summary.json").read_bytes()) == before


# ---------------------------------------------------------------- verdict rules with known answers


def diverged(i, case="main", p=7):
    """A trial whose training diverged: non-finite loss from step 50."""
    from types import SimpleNamespace

    nan = np.full(2, np.nan)
    result = SimpleNamespace(
        steps=np.array([0, 100]),
        train_loss=nan,
        test_loss=nan,
        train_acc=nan,
        test_acc=nan,
        fourier_norms=np.full((2, (p - 1) // 2), np.nan),
        initial_embedding=np.zeros((p, 2)),
        final_embedding=np.full((p, 2), np.nan),
        convergence_step=None,
        nonfinite_step=50,
        snapshot_steps=None,
        snapshots=None,
    )
    settings = {
        "case": case,
        "grid": {},
        "task": {"name": "modadd", "p": p},
        "transform": {"name": "none"},
        "train": {"steps": 100, "d": 2, "lr": 1e6, "weight_decay": 0.0},
        "seeds": {"embedding": i, "mlp": i, "split": i},
        "index": {"embedding": i, "trial": 0},
    }
    return StoredTrial(id=f"{i:016x}", settings=settings, result=result, chosen={})


def record_of(name, trials, analysis=None):
    return {
        "name": name,
        "study": name,
        "profile": "test",
        "overrides": [],
        "analysis": analysis or {},
        "trial_ids": [t.id for t in trials],
    }


@pytest.mark.parametrize("name", STUDIES)
def test_every_trial_diverged_is_not_assessable(tmp_path, name):
    from cinit_tf.studies import study

    trials = [diverged(i) for i in range(6)]
    section = analyse(study(name), record_of(name, trials), trials, tmp_path)
    assert section.verdict == "not assessable" and section.claims
    assert all(c.verdict == "not assessable" for c in section.claims)
    assert section.excluded[0].startswith("6 of 6 trials excluded")
    assert section.summary == {
        "valid": 0,
        "trials": 6,
        "excluded": {"non-finite training loss or embedding (diverged)": [t.id for t in trials]},
    }
    assert not list(tmp_path.iterdir())  # no figure without a statistic


def _stats(survivor_ranks, dead_ranks, runs=10):
    return [
        SimpleNamespace(survivor_ranks=list(survivor_ranks), dead_ranks=list(dead_ranks))
        for _ in range(runs)
    ]


@pytest.mark.parametrize(
    "counts, verdict",
    [
        ([4, 4, 3, 5, 4, 4, 4, 3, 5, 4], "reproduced"),
        (
            [6, 7, 6, 7, 6, 7, 6, 7, 6, 7],
            "partly",
        ),  # few survive, but not 3-5 even with the ±1 margin
        (
            [12, 13, 12, 13, 12, 13, 12, 13, 12, 13],
            "not reproduced",
        ),  # most of 29 frequencies survive: not "a few"
    ],
)
def test_circle_count_claim_known_answers(counts, verdict):
    test = fourier_evolution.rank_test(_stats([1, 2, 3], range(4, 30)))
    count, start = fourier_evolution.claims_of(counts, test, 29)
    assert count.verdict == verdict
    assert survival_vs_norm.count_claim(counts, 29).verdict == verdict
    assert start.verdict == "reproduced"


@pytest.mark.parametrize(
    "survivors, dead, verdict",
    [
        ([1, 2, 3], range(4, 30), "reproduced"),
        (
            [27, 28, 29],
            range(1, 27),
            "not reproduced",
        ),  # survivors start lowest: the opposite direction
        (
            [1, 14, 28],
            [2, 13, 15, 27, 29, 3],
            "not assessable",
        ),  # slightly higher on average; the CI holds both signs
    ],
)
def test_survivors_start_high_known_answers(survivors, dead, verdict):
    test = fourier_evolution.rank_test(
        _stats(survivors, dead, runs=1 if verdict == "partly" else 10)
    )
    assert fourier_evolution.claims_of([4] * 10, test, 29)[1].verdict == verdict


def _rank_test(effect, lo, hi, p, survivors=400, dead=2500):
    return {"effect": effect, "ci95": [lo, hi], "p": p, "n_survivors": survivors, "n_dead": dead}


def test_survivors_start_high_is_judged_against_a_small_difference_of_ranks():
    """ "Tend to have higher initial signal" (§4.1) with no number: the margin is Cohen's small d = 0.2 on
    the scale of the ranks 1..K, √((K² − 1)/12) · 0.2 = 1.67 ranks at K = 29. Survivors one rank higher on
    average, the CI [0.5, 1.5] clear of 0 but wholly short of 1.67: partly. A CI [−0.4, 0.8] holding 0 and
    short of 1.67 rules out a difference of that size: not reproduced. The same CI at K = 11 (margin 0.63)
    holds both."""
    margin = fourier_evolution.start_margin(29)
    assert margin.value == pytest.approx(0.2 * np.sqrt((29**2 - 1) / 12))
    assert margin == fourier_evolution.START_MARGIN
    assert margin.source.startswith(
        '§4.1: "the surviving circles in the end tend to have higher initial'
    )
    short = fourier_evolution.claims_of([4] * 10, _rank_test(1.0, 0.5, 1.5, 1e-4), 29)[1]
    assert (short.verdict, short.reason, short.n) == ("partly", "short_of_margin", 2900)
    assert short.margin == pytest.approx(1.6733, abs=1e-4)
    none = fourier_evolution.claims_of([4] * 10, _rank_test(0.2, -0.4, 0.8, 0.3), 29)[1]
    assert (none.verdict, none.reason) == ("not reproduced", "rules_out_margin")
    small_k = fourier_evolution.claims_of([4] * 10, _rank_test(0.2, -0.4, 0.8, 0.3), 11)[1]
    assert (small_k.verdict, small_k.reason) == ("not assessable", "too_wide")
    assert small_k.margin == pytest.approx(0.2 * np.sqrt(10)) and small_k.needs_n > 2900


def test_attenuation_recovers_the_correlation_with_the_true_rates():
    rng = np.random.default_rng(0)
    pi = rng.uniform(0.05, 0.95, size=(40, 29))
    T = 20
    rates = {"rate": rng.binomial(T, pi) / T, "trials": np.full(40, T), "signal": pi}
    r_obs = np.corrcoef(pi.ravel(), rates["rate"].ravel())[0, 1]
    att = survival.attenuation(rates, target_trials=50)
    # Rates are π plus binomial noise: corrected, r with π itself is 1; at 50 trials it lies between.
    assert r_obs < 0.95 and r_obs * att["factor_true"] == pytest.approx(1.0, abs=0.03)
    assert r_obs < r_obs * att["factor_target"] < 1.0


@pytest.mark.parametrize(
    "r, ci, factor, verdict",
    [
        (0.84, (0.80, 0.87), 1.0, "reproduced"),
        (0.69, (0.62, 0.75), 1.0, "partly"),  # the old report's r: clear of 0, wholly short of 0.85
        (
            0.69,
            (0.62, 0.75),
            1.15,
            "reproduced",
        ),  # the same r once projected to the paper's 50 trials
        (-0.1, (-0.2, -0.01), 1.0, "not reproduced"),  # wholly below 0
        (
            -0.1,
            (-0.2, 0.0),
            1.0,
            "not reproduced",
        ),  # reaches 0, far short of 0.85: the paper's r is ruled out
        (0.05, (-0.05, 0.15), 1.0, "not reproduced"),  # holds 0, short of 0.85
        (0.3, (-0.1, 0.9), 1.0, "not assessable"),  # holds both 0 and 0.85
    ],
)
def test_correlation_claim_known_answers(r, ci, factor, verdict):
    corr = {"r": r, "ci95": list(ci), "p": 1e-9 if r > 0.5 else 0.5, "n": 290}
    att = {"factor_target": factor}
    claim = survival_vs_norm.r_claim(corr, att)
    assert claim.verdict == verdict
    assert claim.margin == 0.85 and claim.kind == "number" and claim.n == 290
    assert (claim.needs_n is not None) == (verdict == "not assessable")


def test_existence_claims_known_answers():
    assert complex_dynamics.exists_claim("x", 1, 24).verdict == "reproduced"
    assert complex_dynamics.exists_claim("x", 0, 24).verdict == "not reproduced"
    assert complex_dynamics.exists_claim("x", 0, 0).verdict == "not assessable"
    assert complex_dynamics.exists_claim("x", 0, 0).reason == "too_few_valid"
    # The share's interval is Wilson's: 1 of 6 gives 3.01–56.4% (Clopper–Pearson would give 0.42–64.1%).
    one = complex_dynamics.exists_claim("x", 1, 6)
    assert (one.kind, one.reason, one.value, one.n) == ("observation", "observed", 1 / 6, 6)
    assert one.ci == pytest.approx((0.030053369748, 0.563502822186))
    none = complex_dynamics.exists_claim("x", 0, 24)
    assert (none.reason, none.value, none.ci[0]) == ("not_observed", 0.0, 0.0) and none.ci[1] < 0.15


def test_a_run_whose_every_trial_diverges_is_not_assessable(tmp_path):
    """The engine end to end: lr = 1e6 without weight decay makes every trial of the smoke profile diverge."""
    from cinit_tf.run import main

    assert (
        main(
            [
                str(EXPERIMENTS / "complex_dynamics.toml"),
                "--profile",
                "smoke",
                "--set",
                "train.lr=1e6",
                "--set",
                "train.weight_decay=0",
                "--out",
                str(tmp_path / "runs"),
                "--reports",
                str(tmp_path / "reports"),
                "--quiet",
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "reports" / "complex_dynamics" / "summary.json").read_text())
    readme = (tmp_path / "reports" / "complex_dynamics" / "README.md").read_text()
    assert summary["verdict"] == "not assessable"
    assert all(c["verdict"] == "not assessable" for c in summary["claims"])
    assert "6 of 6 trials excluded from every statistic; 0 valid." in readme


# ---------------------------------------------------------------- measure, on constructed runs with known answers


def _finals(K, survivors):
    """A final signal row in which exactly the 1-based frequencies `survivors` survive at every τ of survival.TAUS."""
    row = np.zeros(K)
    row[np.asarray(survivors, dtype=int) - 1] = 1.0
    return row


def _complex_runs():
    # K = 7 (p = 15); initial signal ranks k = 1..7 as 1..7, median 5: "high" (top 3) = k 1-3, "low" = k 5-7.
    initial = [9.0, 8.0, 7.0, 5.0, 4.0, 3.0, 2.0]
    survivors = {
        "a": [1, 2, 3],
        "b": [1, 3, 7],
        "c": [1, 2, 3, 4],
        "d": [2, 3, 4],
        "e": [1, 2, 3, 6],
        "f": [1, 2, 3, 4, 5],
    }
    return [
        fake_trial(tid, initial, _finals(7, s), embedding_seed=i, mlp_seed=i, p=15)
        for i, (tid, s) in enumerate(survivors.items())
    ]


def test_complex_dynamics_measure_counts_the_three_events():
    m = complex_dynamics.measure(
        _complex_runs(), complex_dynamics.ComplexDynamicsAnalysis(high_top=3)
    )
    # A high one dies in b (k 2) and d (k 1, the top-1); a low one survives in b (k 7), e (k 6), f (k 5); both only in b.
    assert (m.n_dead_high, m.n_live_low, m.n_complex, m.n_top1) == (2, 3, 1, 1)
    assert [c.verdict for c in m.claims] == ["reproduced"] * 3
    assert [(c.value, c.n, c.reason) for c in m.claims] == [
        (2 / 6, 6, "observed"),
        (3 / 6, 6, "observed"),
        (1 / 6, 6, "observed"),
    ]
    cis = [x for c in m.claims for x in c.ci]
    assert cis == pytest.approx([0.0968, 0.700, 0.188, 0.812, 0.0301, 0.564], abs=1e-3)
    assert m.example["id"] == "b" and m.example["dead_high"] == [2] and m.example["live_low"] == [7]
    # The contrast run: of a and c (nothing dies high, nothing survives low), counts 3 and 4 lie equally near their
    # median 3.5, and the tie goes to the first in id order.
    assert m.typical["id"] == "a"
    assert m.K == 7 and m.counts["mean"] == pytest.approx(
        22 / 6
    )  # survivors per run: 3, 3, 4, 3, 4, 5
    # Survivors are at 1 and the dead at 0, so every τ gives the same counts.
    assert [(r["dead_high"], r["live_low"], r["complex"], r["top1_dies"]) for r in m.per_tau] == [
        (2, 3, 1, 1)
    ] * 3


def test_complex_dynamics_measure_high_top_moves_the_counts():
    m = complex_dynamics.measure(
        _complex_runs(), complex_dynamics.ComplexDynamicsAnalysis(high_top=1)
    )
    assert (m.n_dead_high, m.n_complex) == (1, 0)  # only d loses k = 1
    assert [c.verdict for c in m.claims] == ["reproduced", "reproduced", "not reproduced"]
    # Wilson's upper end for 0 of 6 is z²/(n + z²) = 39%.
    both = m.claims[2]
    assert (both.reason, both.value, both.ci[0]) == ("not_observed", 0.0, 0.0)
    assert both.ci[1] == pytest.approx(1.959963985**2 / (6 + 1.959963985**2))
    assert m.example is None


def test_complex_dynamics_write_names_the_wilson_interval(tmp_path):
    trials = _complex_runs()
    section = analyse(
        complex_dynamics, record_of("complex_dynamics", trials, {"high_top": 3}), trials, tmp_path
    )
    assert section.verdict == "reproduced"
    assert "Wilson 95% CI" in section.verdict_rule and "Clopper" not in section.verdict_rule
    assert section.summary["complex_share_ci95"] == pytest.approx(
        (1 / 6, 0.030053369748, 0.563502822186)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "complex_dynamics_example.png",
        "survival_by_initial_rank.png",
    ]


def test_measure_with_too_few_valid_runs_is_not_assessable():
    runs = _complex_runs()[:2] + [diverged(i, p=15) for i in range(4)]
    m = complex_dynamics.measure(runs, None)
    assert m.assessable is False and len(m.valid) == 2 and len(m.trials) == 6
    assert [c.name for c in m.claims] == list(complex_dynamics.CLAIM_NAMES)
    assert all(c.verdict == "not assessable" for c in m.claims)
    assert m.classes == [] and m.example is None
    m = fourier_evolution.measure(runs, None)
    assert (
        m.assessable is False
        and all(c.verdict == "not assessable" for c in m.claims)
        and m.stats == []
    )


def _fourier_runs(counts, survivors_start_high=True, snapshots=False):
    """Runs at p = 59 (29 frequencies) whose initial signal ranks k as k; run i keeps `counts[i]` frequencies: the
    top ones by initial signal or the bottom ones."""
    K, p = 29, 59
    initial = np.arange(K, 0, -1, dtype=float)
    out = []
    for i, c in enumerate(counts):
        kept = list(range(1, c + 1)) if survivors_start_high else list(range(K - c + 1, K + 1))
        final = _finals(K, kept) * np.linspace(1.0, 0.5, K)  # survivors' final signal falls with k
        E = np.random.default_rng(i).normal(size=(p, 12))
        shots = np.stack([E, E]) if snapshots else None
        out.append(
            fake_trial(
                f"{i:02d}",
                initial,
                final,
                embedding_seed=10 + i,
                mlp_seed=i,
                E=E,
                p=p,
                snapshots=shots,
            )
        )
    return out


def test_fourier_evolution_measure_survivors_start_high():
    m = fourier_evolution.measure(_fourier_runs([4, 4, 3, 5, 4, 4], snapshots=True), None)
    assert [c.verdict for c in m.claims] == ["reproduced", "reproduced"]
    assert m.count_summary["mean"] == pytest.approx(4.0) and m.count_summary["n"] == 6
    # The example is the first run (by seed) with the median count, 4; the other runs follow in seed order.
    assert m.example.id == "00" and [t.id for t in m.runs] == ["00", "01", "02", "03", "04", "05"]
    assert m.top_share == 1.0 and m.top1 == 1.0  # every survivor ranks 1-5 at initialisation
    # Pooled ranks: 24 survivors (mean 2.5 + 1/12 ...) against 150 dead; the effect is their difference of means.
    surv = [r for c in (4, 4, 3, 5, 4, 4) for r in range(1, c + 1)]
    dead = [r for c in (4, 4, 3, 5, 4, 4) for r in range(c + 1, 30)]
    test = m.rank_test
    assert (test["n_survivors"], test["n_dead"]) == (24, 150)
    assert test["effect"] == pytest.approx(np.mean(dead) - np.mean(surv))
    # Fig. 3b: the dead frequency with the highest initial signal is k = 5 (rank 5); the survivor with the highest
    # final signal is k = 1.
    assert m.snapshot_frequencies == {"dead": 5, "surviving": 1, "steps": [0, 100]} and list(
        m.snapshot_ranks
    ) == [5, 1]


def test_fourier_evolution_rank_effect_is_welchs_difference():
    from scipy import stats

    surv, dead = [1, 2, 3, 1, 4, 2], [5, 9, 4, 12, 7, 20, 6]
    test = fourier_evolution.rank_test([SimpleNamespace(survivor_ranks=surv, dead_ranks=dead)])
    ref = stats.ttest_ind(dead, surv, equal_var=False).confidence_interval(0.95)
    assert test["effect"] == pytest.approx(np.mean(dead) - np.mean(surv))
    assert test["ci95"] == pytest.approx([ref.low, ref.high])
    assert test["p"] == pytest.approx(stats.mannwhitneyu(surv, dead, alternative="less").pvalue)


def test_fourier_evolution_measure_survivors_start_low():
    m = fourier_evolution.measure(
        _fourier_runs([4, 4, 3, 5, 4, 4], survivors_start_high=False), None
    )
    count, start = m.claims
    assert count.verdict == "reproduced" and start.verdict == "not reproduced"
    assert m.rank_test["effect"] < 0 and m.top_share == 0.0 and m.top1 == 0.0
    assert m.snapshot_frequencies is None and m.series == []  # no snapshots kept


def _survival_runs(boost, embeddings=3, trials=4, reverse=False, long=False):
    """`embeddings` × `trials` main-case runs at p = 59 whose survivors are always the same 4 frequencies: the top
    4 by initial signal (k 1-4, their signal raised by `boost`) or, `reverse`, the bottom 4."""
    K = 29
    initial = np.arange(K, 0, -1, dtype=float) + boost * (np.arange(1, K + 1) <= 4)
    kept = [26, 27, 28, 29] if reverse else [1, 2, 3, 4]
    out = [
        fake_trial(f"{e}{t}", initial, _finals(K, kept), embedding_seed=e, mlp_seed=t, p=59)
        for e in range(embeddings)
        for t in range(trials)
    ]
    if long:
        out.append(
            fake_trial(
                "z",
                initial,
                _finals(K, kept),
                0,
                0,
                middle=[_finals(K, kept)],
                steps=(0, 100, 300),
                case="long",
                p=59,
            )
        )
    return out


@pytest.mark.parametrize(
    "boost, reverse, verdict",
    [
        (16, False, "reproduced"),  # r = 0.843 over 87 points: 0.85 lies in its CI
        (0, False, "partly"),  # r = 0.598: positive, significant, but 0.85 lies above its CI
        (0, True, "not reproduced"),  # the weakest frequencies survive: r < 0
    ],
)
def test_survival_vs_norm_measure_correlation_known_answers(boost, reverse, verdict):
    trials = _survival_runs(boost, reverse=reverse)
    m = survival_vs_norm.measure(trials, survival_vs_norm.SurvivalAnalysis())
    signal = np.tile(survival.initial_signal(trials[0]), 3)
    rate = np.tile(_finals(29, [26, 27, 28, 29] if reverse else [1, 2, 3, 4]), 3)
    assert m.corr["r"] == pytest.approx(np.corrcoef(signal, rate)[0, 1]) and m.corr["n"] == 87
    # Rates of 0 and 1 carry no binomial noise: projecting to 50 trials changes nothing.
    assert m.att["factor_target"] == pytest.approx(1.0) and m.r_50 == pytest.approx(m.corr["r"])
    r_claim, count_claim = m.claims
    assert r_claim.verdict == verdict
    assert count_claim.verdict == "reproduced"  # 4 survivors in every run
    assert m.count_stats[survival.TAU]["mean"] == 4.0 and m.settling is None


def test_survival_vs_norm_measure_checks_the_longer_runs():
    trials = _survival_runs(16, long=True)
    m = survival_vs_norm.measure(trials, None)
    assert len(m.main) == 12 and [t.id for t in m.long] == ["z"] and len(m.valid) == 13
    v = m.settling["per_tau"][survival.TAU]
    assert (
        m.settling["short_steps"],
        v["same_set"],
        v["runs"],
        v["twins"],
        v["twin_same_set"],
    ) == (100, 1, 1, 1, 1)


def test_survival_vs_norm_is_judged_on_the_main_case():
    # 2 of 6 main-case trials valid: not assessable, even though the settling case's run is valid.
    trials = _survival_runs(16, embeddings=1, trials=2, long=True) + [
        diverged(i, p=59) for i in range(4)
    ]
    m = survival_vs_norm.measure(trials, None)
    assert m.assessable is False and all(c.verdict == "not assessable" for c in m.claims)
    assert m.claims[0].detail.startswith("only 3 of 7 trials are valid")
    with pytest.raises(ValueError, match="outside the settling case"):
        survival_vs_norm.measure([t for t in trials if t.settings["case"] == "long"], None)
