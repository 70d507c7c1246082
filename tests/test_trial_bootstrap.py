"""_trial_bootstrap: statistics pooled over trials with intervals from resampling whole trials, on data whose answer
is known (scipy's and scikit-learn's point estimates, exact p-values of the bootstrap, too few trials)."""

import math

import numpy as np
import pytest
from scipy import stats

from cinit_tf.stats import bootstrap as trial_bootstrap


def _pooled(trials=30, per=10, seed=0):
    g = np.random.default_rng(seed)
    X = g.normal(size=(trials * per, 3))
    y = (X[:, 0] + g.normal(size=X.shape[0]) > 1).astype(float)
    return X, y, np.repeat(np.arange(trials), per)


def test_spearman_point_is_scipys_and_the_bootstrap_repeats():
    X, y, groups = _pooled()
    out = trial_bootstrap.spearman(X, y, groups, resamples=300)
    for j, r in enumerate(out):
        assert r["rho"] == pytest.approx(stats.spearmanr(X[:, j], y)[0], abs=1e-12)
        assert (
            r["lo"] < r["rho"] < r["hi"]
            and r["trials"] == 30
            and r["n"] == 300
            and r["resamples"] == 300
        )
    assert out[0]["lo"] > 0.3 and out[0]["p"] == pytest.approx(
        2 / 301
    )  # every resample positive: the floor
    assert out[1]["lo"] < 0 < out[1]["hi"] and out[1]["p"] > 0.05
    assert trial_bootstrap.spearman(X, y, groups, resamples=300) == out  # fixed seed: byte for byte


def test_trial_bootstrap_is_wider_than_counting_pairs_when_trials_differ():
    # Each trial has its own offset shared by x and y: pairs within a trial are not independent.
    g = np.random.default_rng(1)
    groups = np.repeat(np.arange(12), 20)
    shared = g.normal(size=12)[groups] * 3
    x, y = shared + g.normal(size=groups.size), shared + g.normal(size=groups.size)
    r = trial_bootstrap.spearman(x, y, groups, resamples=500)[0]
    _, lo, hi, _, _ = __import__("cinit_tf.stats.inference", fromlist=["spearman_ci"]).spearman_ci(
        x, y
    )
    assert (r["hi"] - r["lo"]) > 2 * (hi - lo)


def test_fewer_than_min_trials_give_no_interval():
    X, y, groups = _pooled(trials=trial_bootstrap.MIN_TRIALS - 1, per=100)
    r = trial_bootstrap.spearman(X, y, groups)[0]
    assert (
        math.isfinite(r["rho"])
        and math.isnan(r["lo"])
        and math.isnan(r["p"])
        and r["resamples"] == 0
    )
    fit = trial_bootstrap.logistic(X, y, groups)
    assert math.isfinite(fit["coef"][1]) and math.isnan(fit["lo"][1]) and fit["resamples"] == 0
    assert all(
        math.isnan(v) for v in trial_bootstrap.stratified_auc(X[:, 1], y > 0, X[:, 0], groups)[1:]
    )


def test_bootstrap_p_known_values():
    assert trial_bootstrap.bootstrap_p([1.0] * 99) == pytest.approx(2 / 100)
    assert trial_bootstrap.bootstrap_p([-1.0] * 9 + [1.0] * 90) == pytest.approx(2 * 10 / 100)
    assert trial_bootstrap.bootstrap_p([-1.0] * 50 + [1.0] * 50) == 1.0
    assert math.isnan(trial_bootstrap.bootstrap_p([]))


def test_logistic_fit_is_the_maximum_likelihood_estimate():
    from sklearn.linear_model import LogisticRegression

    X, y, groups = _pooled()
    ours = trial_bootstrap.logistic_fit(X, y)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours, np.r_[ref.intercept_, ref.coef_.ravel()], atol=1e-5)
    fit = trial_bootstrap.logistic(X, y, groups, resamples=200)
    assert fit["lo"][1] > 0 and fit["lo"][2] < 0 < fit["hi"][2] and fit["resamples"] == 200
    # Separable classes have no estimate, nor does one class alone.
    assert np.all(np.isnan(trial_bootstrap.logistic_fit(X[:, 0], X[:, 0] > 0)))
    assert np.all(np.isnan(trial_bootstrap.logistic_fit(X[:, 0], np.zeros(X.shape[0]))))


def test_stratified_auc_removes_what_the_strata_explain():
    g = np.random.default_rng(2)
    groups = np.repeat(np.arange(20), 30)
    by = np.repeat(np.arange(4), 150).astype(float)  # four exact strata
    labels = g.random(by.size) < np.array([0.1, 0.3, 0.5, 0.7])[by.astype(int)]
    confounded = by + 0.01 * g.normal(size=by.size)  # tracks the strata, nothing within them
    auc, lo, hi = trial_bootstrap.stratified_auc(
        confounded, labels, by, groups, bins=4, resamples=300
    )
    assert lo < 0.5 < hi and abs(auc - 0.5) < 0.06
    perfect = by + labels  # within each stratum it orders every survivor above every death
    assert (
        trial_bootstrap.stratified_auc(perfect, labels, by, groups, bins=4, resamples=50)[0] == 1.0
    )
