"""Studies of §4.2–4.4 on modular addition: perturbation, manual_construction, gradient_signal,
convergence_ablation — end to end on their smoke profiles, and their statistics on data whose answer is known."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cinit_tf.report import generate_report
from cinit_tf.run import main
from cinit_tf.studies import convergence_ablation, gradient_signal, manual_construction, perturbation

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
STUDIES = ("gradient_signal", "convergence_ablation", "perturbation", "manual_construction")
FIGURES = {
    "gradient_signal": {"delta_step4_distribution.png", "survival_rate_vs_delta.png", "signal_delta_plane.png"},
    "convergence_ablation": {"convergence_steps.png", "convergence_pairs.png"},
    "perturbation": {"survival_vs_deviation.png", "final_share_vs_deviation.png"},
    "manual_construction": {"survival_vs_r.png", "revivals_vs_r.png"},
}


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Each study's smoke profile run once through the command line's entry point."""
    root = tmp_path_factory.mktemp("modadd_b")
    for name in STUDIES:
        assert main([str(EXPERIMENTS / f"{name}.toml"), "--profile", "smoke", "--out", str(root), "--reports", str(root), "--quiet"]) == 0
    return root


def _report(root: Path, name: str) -> tuple[str, dict]:
    return (root / name / "README.md").read_text(), json.loads((root / name / "summary.json").read_text())


@pytest.mark.parametrize("name", STUDIES)
def test_smoke_report_has_every_figure_and_section(smoke_runs, name):
    text, summary = _report(smoke_runs, name)
    shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text))
    assert shown == FIGURES[name]
    for fig in shown:
        assert (smoke_runs / name / fig).stat().st_size > 5000  # a drawn figure, not an empty canvas
    for heading in ("## What the paper claims", "## What we ran", "## Deviations and choices", "## What we saw", "## Verdict"):
        assert heading in text
    # The rule is printed before the verdict it decides, and the deviations name the reduced scale.
    assert text.index("Rule:") < text.index("Verdict: **")
    assert "train.steps" in text and "30000 in the paper" in text
    assert summary["verdict"] in ("reproduced", "partly", "not reproduced", "not assessable")
    assert summary["profile"] == "smoke"


@pytest.mark.parametrize("name", STUDIES)
def test_smoke_report_is_deterministic(smoke_runs, name, tmp_path):
    again = generate_report(smoke_runs / name, tmp_path)
    assert (again / "README.md").read_bytes() == (smoke_runs / name / "README.md").read_bytes()
    assert (again / "summary.json").read_bytes() == (smoke_runs / name / "summary.json").read_bytes()


def test_smoke_gradient_signal_numbers(smoke_runs):
    text, summary = _report(smoke_runs, "gradient_signal")
    s = summary["summary"]
    assert s["samples"] == 4 * 15  # 4 trials x floor((31 - 1) / 2) frequencies
    assert 0 < s["survivors"] < s["samples"]
    both = s["svm"]["signal + Δ₄"]
    for key in ("cv_accuracy", "train_accuracy"):
        assert 0.0 <= both["plain"][key] <= 1.0
    assert 0.0 <= both["balanced"]["cv_balanced_accuracy"] <= 1.0
    assert s["majority_baseline"] == pytest.approx(max(s["survivors"], s["samples"] - s["survivors"]) / s["samples"])
    assert [row["step"] for row in s["per_step"]] == [1, 2, 3, 4]
    assert "83.8%" in text and "majority baseline" in text


def test_smoke_convergence_ablation_numbers(smoke_runs):
    _, summary = _report(smoke_runs, "convergence_ablation")
    s = summary["summary"]
    paired = s["paired"]
    assert paired["pairs"] == 3
    assert (paired["both_converged"] + paired["only_original_converged"] + paired["only_ablated_converged"]
            + paired["neither_converged"]) == 3
    for arm in ("original", "ablated"):
        a = s["arms"][arm]
        assert a["n"] == 3 and 0 <= a["never"] <= 3
        assert a["never_fraction"] == pytest.approx(a["never"] / 3)
    # The ablation keeps fewer frequencies than the K = 15 of the drawn embedding.
    assert s["arms"]["original"]["kept"]["mean"] == 15
    assert 1 <= s["arms"]["ablated"]["kept"]["mean"] < 15


def test_smoke_perturbation_numbers(smoke_runs):
    _, summary = _report(smoke_runs, "perturbation")
    s = summary["summary"]
    assert s["frequency_check"]["checked"] == 2 and s["frequency_check"]["agree"] == 2
    bins = s["bins"]["0.05"]
    assert sum(b["n"] for b in bins) == 8
    # s = 0 removes the frequency (z far below); s = 2 quadruples it (far above, at d = 32).
    assert bins[0]["n"] == 4 and bins[-1]["n"] == 4
    assert len(s["lines"]) == 2


def test_smoke_manual_construction_numbers(smoke_runs):
    _, summary = _report(smoke_runs, "manual_construction")
    s = summary["summary"]
    assert s["frequency_check"]["checked"] == 6 and s["frequency_check"]["agree"] == 6
    rows = s["per_r"]["0.05"]
    assert [row["r"] for row in rows] == [0.0, 1.0] and all(row["n"] == 3 for row in rows)
    assert 0.0 <= s["any_revival"] <= 1.0


# ---------------------------------------------------------------- the SVM on synthetic data


def test_svm_separable_data_scores_one():
    g = np.random.default_rng(0)
    X = np.vstack([g.normal([3, 3], 0.3, (60, 2)), g.normal([-3, -3], 0.3, (40, 2))])
    y = np.r_[np.ones(60, bool), np.zeros(40, bool)]
    for balanced in (False, True):
        out = gradient_signal.svm_accuracies(X, y, balanced=balanced)
        assert out["cv_accuracy"] == 1.0 and out["train_accuracy"] == 1.0
        assert out["cv_balanced_accuracy"] == 1.0


def test_svm_one_informative_feature_alone_does_as_well_as_both():
    g = np.random.default_rng(1)
    n = 400
    y = g.random(n) < 0.3
    informative = np.where(y, 1.0, -1.0) + g.normal(0, 0.6, n)  # overlapping: accuracy below 1
    noise = g.normal(0, 1, n)
    X = np.column_stack([informative, noise])
    table = gradient_signal.svm_table(X, y)
    both = table["signal + Δ₄"]["balanced"]["cv_balanced_accuracy"]
    alone = table["signal alone"]["balanced"]["cv_balanced_accuracy"]
    useless = table["Δ₄ alone"]["balanced"]["cv_balanced_accuracy"]
    assert 0.85 < alone < 1.0
    assert abs(alone - both) <= 0.02
    assert abs(useless - 0.5) < 0.1


def test_svm_on_uninformative_imbalanced_data_scores_the_majority_baseline():
    g = np.random.default_rng(2)
    n = 500
    y = np.zeros(n, bool)
    y[:65] = True  # 13% positives, as survivors are among frequencies
    X = g.normal(size=(n, 2))
    assert gradient_signal.majority_baseline(y) == pytest.approx(0.87)
    plain = gradient_signal.svm_accuracies(X, y)
    balanced = gradient_signal.svm_accuracies(X, y, balanced=True)
    assert plain["cv_accuracy"] == pytest.approx(0.87, abs=0.01)  # it learns to say "dead"
    assert abs(balanced["cv_balanced_accuracy"] - 0.5) < 0.1


def test_svm_with_one_class_gives_nan_not_an_error():
    out = gradient_signal.svm_accuracies(np.arange(10.0)[:, None], np.zeros(10, bool))
    assert math.isnan(out["cv_accuracy"]) and math.isnan(out["train_accuracy"])


def test_grouped_folds_need_as_many_groups_as_folds():
    g = np.random.default_rng(3)
    y = np.tile(np.r_[np.ones(5, bool), np.zeros(15, bool)], 4)
    X = np.where(y, 1.0, 0.0)[:, None] + g.normal(0, 0.1, (y.size, 1))
    few = gradient_signal.svm_accuracies(X, y, groups=np.repeat(np.arange(4), 20))
    assert math.isnan(few["cv_accuracy"]) and few["train_accuracy"] == 1.0
    enough = gradient_signal.svm_accuracies(X, y, groups=np.repeat(np.arange(10), 8))
    assert enough["cv_accuracy"] == 1.0


# ---------------------------------------------------------------- confidence interval and paired test


def test_mean_ci95_matches_scipy_t_interval():
    values = [3.0, 7.0, 1.0, 9.0, 4.0, 6.0, float("nan")]
    finite = np.array(values[:-1])
    out = convergence_ablation.mean_ci95(values)
    lo, hi = stats.t.interval(0.95, df=finite.size - 1, loc=finite.mean(), scale=stats.sem(finite))
    assert out["n"] == 6 and out["mean"] == pytest.approx(5.0)
    assert out["ci95"] == pytest.approx([lo, hi], rel=1e-12)
    assert out["ci95"][0] == pytest.approx(5.0 - 2.5705818366147395 * finite.std(ddof=1) / math.sqrt(6))
    one = convergence_ablation.mean_ci95([42.0])
    assert one["ci95"] == [42.0, 42.0]


def test_paired_convergence_counts_and_tests_constructed_pairs():
    original = [100, 200, 300, 400, 500, 600, None, 700, None]
    ablated = [10, 20, 30, 40, 50, 60, 70, None, None]
    out = convergence_ablation.paired_convergence(original, ablated)
    assert (out["pairs"], out["both_converged"]) == (9, 6)
    assert (out["only_original_converged"], out["only_ablated_converged"], out["neither_converged"]) == (1, 1, 1)
    assert (out["ablated_faster"], out["ablated_slower"], out["ties"]) == (6, 0, 0)
    assert out["median_difference"] == -315.0
    # Six differences all of one sign: the exact two-sided signed-rank p is 2 / 2^6.
    assert out["p"] == pytest.approx(2 / 64)
    assert out["statistic"] == 0.0


def test_paired_convergence_without_differences_has_no_test():
    out = convergence_ablation.paired_convergence([100, 200], [100, 200])
    assert out["ties"] == 2 and math.isnan(out["p"])
    with pytest.raises(ValueError):
        convergence_ablation.paired_convergence([1, 2], [1])


def test_paired_convergence_mixed_signs_matches_scipy():
    original = [120, 340, 200, 410, 90, 300, 260, 150]
    ablated = [60, 300, 260, 100, 95, 120, 200, 30]
    out = convergence_ablation.paired_convergence(original, ablated)
    ref = stats.wilcoxon(np.subtract(ablated, original))
    assert out["p"] == pytest.approx(ref.pvalue) and out["statistic"] == pytest.approx(ref.statistic)
    assert (out["ablated_faster"], out["ablated_slower"]) == (6, 2)


# ---------------------------------------------------------------- frequencies the transforms chose


def _chosen_trial(tid, chosen, initial, final, transform, seed=0):
    """A stored trial as the runner writes it: its settings, its result and what its transform chose."""
    from types import SimpleNamespace

    steps = np.array([0, 100, 200])
    norms = np.array([initial, initial, final], dtype=float)
    result = SimpleNamespace(steps=steps, fourier_norms=norms, initial_embedding=np.zeros((7, 2)))
    settings = {"transform": transform, "task": {"name": "modadd", "p": 2 * norms.shape[1] + 1},
                "train": {"steps": 200, "d": 2}, "seeds": {"embedding": seed, "mlp": seed, "split": seed},
                "index": {"embedding": seed, "trial": 0}}
    return SimpleNamespace(id=tid, settings=settings, result=result, chosen=chosen)


def test_perturbation_reads_the_frequency_the_transform_chose():
    # k = 3 was scaled up: it dominates at the start and survives; nothing in the settings says which k it was.
    t = _chosen_trial("a", {"k": 3, "s": 4.0}, [1.0, 2.0, 16.0, 3.0], [0.01, 0.5, 1.0, 0.0],
                      {"name": "fourier_scale", "k": "random", "s": 4.0})
    (row,) = perturbation.trial_rows([t])
    assert row["k"] == 3 and row["survived"][0.05] 
    assert row["z"] == pytest.approx((16.0 - 2.0) / math.sqrt(2 / 3))  # the others 1, 2, 3: mean 2, std √(2/3)
    old = _chosen_trial("b", {}, [1.0] * 4, [1.0] * 4, {"name": "fourier_scale", "k": "random", "s": 4.0})
    with pytest.raises(ValueError, match="no stored transform choice 'k'"):
        perturbation.trial_rows([old])


def test_manual_construction_reads_the_frequencies_the_transform_chose():
    eps, s = 1e-6, 100.0
    initial = [eps, s, eps, 0.5 * s, eps]
    t = _chosen_trial("a", {"k_top": 2, "k_second": 4, "signal_top": s, "signal_second": 0.5 * s}, initial,
                      [0.0, 1.0, 0.3, 0.01, 0.0], {"name": "construct_two", "s": s, "r": 0.5, "eps": eps})
    (row,) = manual_construction.trial_rows([t])
    assert (row["k_top"], row["k_second"]) == (2, 4)
    assert row[0.05] == {"top": True, "second": False, "revived": 1, "survivors": 2}  # k = 3 came back from ε
    assert manual_construction.check_frequencies([row])["agree"] == 1
    with pytest.raises(ValueError, match="no stored transform choice 'k_top'"):
        manual_construction.trial_rows([_chosen_trial("b", {}, initial, initial, t.settings["transform"])])


def test_deviation_in_units_of_the_other_signals():
    norms = np.array([1.0, 3.0, 5.0, 20.0])
    # others = 1, 3, 5: mean 3, population std sqrt(8/3)
    assert perturbation.deviation(norms, 4) == pytest.approx((20 - 3) / math.sqrt(8 / 3))
    assert perturbation.deviation(norms, 2) == pytest.approx((3 - 26 / 3) / np.std([1.0, 5.0, 20.0]))


# ---------------------------------------------------------------- verdict rules with known answers


def _diverged(i, case=""):
    from types import SimpleNamespace

    nan = np.full(2, np.nan)
    result = SimpleNamespace(steps=np.array([0, 100]), train_loss=nan, test_loss=nan, train_acc=nan, test_acc=nan,
                             fourier_norms=np.full((2, 3), np.nan), initial_embedding=np.zeros((7, 2)),
                             final_embedding=np.full((7, 2), np.nan), convergence_step=None, nonfinite_step=50,
                             gradient_norms=None)
    settings = {"case": case, "grid": {}, "task": {"name": "modadd", "p": 7},
                "transform": {"name": "fourier_scale", "k": 1, "s": 2.0},
                "train": {"steps": 100, "d": 2, "lr": 1e6, "weight_decay": 0.0, "log_every": 100, "first_steps": 10},
                "seeds": {"embedding": i, "mlp": i, "split": i}, "index": {"embedding": i, "trial": 0}}
    return SimpleNamespace(id=f"{i:016x}{case}", settings=settings, result=result, chosen={"k": 1})


@pytest.mark.parametrize("name", STUDIES)
def test_every_trial_diverged_is_not_assessable(tmp_path, name):
    from cinit_tf.studies import study

    cases = ("original", "ablated") if name == "convergence_ablation" else ("",)
    trials = [_diverged(i, case) for case in cases for i in range(6)]
    record = {"name": name, "study": name, "profile": "test", "overrides": [], "analysis": {},
              "trial_ids": [t.id for t in trials]}
    section = study(name).analyse(record, trials, tmp_path)
    assert section.verdict == "not assessable" and section.claims
    assert all(c.verdict == "not assessable" for c in section.claims)
    assert f"{len(trials)} of {len(trials)} trials excluded" in section.excluded[0]


def _z_rows(above, below, n=100, middle=40):
    """Perturbation rows: n trials far above (z = 5) of which `above` survive, n far below of which `below` survive."""
    tau = perturbation.SURVIVAL_TAU
    rows = [{"z": 5.0, "survived": {tau: i < above}} for i in range(n)]
    rows += [{"z": -5.0, "survived": {tau: i < below}} for i in range(n)]
    rows += [{"z": 0.0, "survived": {tau: i % 2 == 0}} for i in range(middle)]
    return rows


@pytest.mark.parametrize("above, below, verdicts", [
    (100, 0, ("reproduced", "reproduced", "reproduced")),
    (75, 25, ("partly", "partly", "reproduced")),            # the right side of ½, but not near 100% / 0%
    (50, 50, ("not reproduced", "not reproduced", "not reproduced")),
])
def test_perturbation_claims_known_answers(above, below, verdicts):
    claims = perturbation.claims_of(_z_rows(above, below))
    assert tuple(c.verdict for c in claims) == verdicts


def _r_rows(top, second_by_r, revived):
    tau = manual_construction.SURVIVAL_TAU
    rows = []
    for r, k in second_by_r.items():
        for i in range(20):
            rows.append({"r": r, tau: {"top": i < top, "second": i < k, "revived": int(i < revived)}})
    return rows


@pytest.mark.parametrize("top, second, revived, verdicts", [
    (20, {0.0: 0, 0.5: 10, 1.0: 20}, 3, ("reproduced", "reproduced", "reproduced")),
    (16, {0.0: 0, 0.5: 10, 1.0: 20}, 0, ("partly", "reproduced", "not reproduced")),   # top 80%; no revival at all
    (20, {0.0: 20, 0.5: 10, 1.0: 0}, 20, ("reproduced", "not reproduced", "not reproduced")),  # falls; always revives
])
def test_manual_construction_claims_known_answers(top, second, revived, verdicts):
    claims = manual_construction.claims_of(_r_rows(top, second, revived))
    assert tuple(c.verdict for c in claims) == verdicts


@pytest.mark.parametrize("balanced, ci, verdict", [
    (0.84, (0.80, 0.88), "reproduced"),
    (0.65, (0.60, 0.70), "partly"),          # above chance, but the paper's 83.8% lies outside
    (0.52, (0.45, 0.60), "not reproduced"),  # not above chance
])
def test_svm_claim_known_answers(balanced, ci, verdict):
    fit = {"balanced": balanced, "balanced_ci": list(ci)}
    assert gradient_signal.svm_claim(1, fit).verdict == verdict


def test_rises_claim_known_answers_and_the_split_of_delta():
    rng = np.random.default_rng(0)
    delta = rng.normal(size=400)
    alive = delta + 0.3 * rng.normal(size=400) > 1.0
    assert gradient_signal.rises_claim(1, delta, alive).verdict == "reproduced"
    assert gradient_signal.rises_claim(1, -delta, alive).verdict == "not reproduced"
    # Weight decay alone (no gradient): E ← (1 − lr·wd)·E changes every signal by exactly ((1 − lr·wd)² − 1)·signal.
    from cinit_tf.signals import fourier_norms

    E = rng.normal(size=(59, 8))
    train = {"lr": 0.01, "weight_decay": 0.5}
    norms = np.stack([fourier_norms(E), fourier_norms((1 - 0.01 * 0.5) * E)])
    part = gradient_signal.weight_decay_part(norms, [0, 1], 1, train)
    assert part == pytest.approx(norms[1] - norms[0], rel=1e-9)


def _conv_trial(i, case, step):
    from types import SimpleNamespace

    result = SimpleNamespace(steps=np.array([0, 1000]), convergence_step=step, nonfinite_step=None, final_embedding=None,
                             fourier_norms=np.ones((2, 29)) if case == "original" else np.r_[np.ones(5), np.zeros(24)][None].repeat(2, 0),
                             test_loss=np.ones(2), train_loss=np.ones(2))
    settings = {"case": case, "grid": {}, "task": {"name": "modadd", "p": 59}, "transform": {"name": "none"},
                "train": {"steps": 1000, "log_every": 100, "first_steps": 10, "d": 128},
                "seeds": {"embedding": i, "mlp": i, "split": i}, "index": {"embedding": i, "trial": 0}}
    return SimpleNamespace(id=f"{case[0]}{i:015x}", settings=settings, result=result)


@pytest.mark.parametrize("ablated, verdicts", [
    (lambda i, o: o // 4, ("reproduced", "reproduced")),
    (lambda i, o: o + 50, ("not reproduced", "reproduced")),                    # slower
    (lambda i, o: o // 4 if i < 17 else None, ("reproduced", "partly")),        # faster, but 3 of 20 never converge
])
def test_convergence_claims_known_answers(tmp_path, ablated, verdicts):
    original = [300 + 10 * i for i in range(20)]
    trials = [_conv_trial(i, "original", o) for i, o in enumerate(original)]
    trials += [_conv_trial(i, "ablated", ablated(i, o)) for i, o in enumerate(original)]
    record = {"name": "c", "study": "convergence_ablation", "profile": "test", "overrides": [], "analysis": {},
              "trial_ids": [t.id for t in trials]}
    section = convergence_ablation.analyse(record, trials, tmp_path)
    assert tuple(c.verdict for c in section.claims) == verdicts
