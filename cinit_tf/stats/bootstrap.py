"""Statistics of samples pooled over trials, with intervals and p-values from resampling whole trials.

The samples of one trial (its frequencies) share its MLP, split and embedding, so they are not independent:
a p-value or a Fisher-z interval that counts (trial, frequency) pairs as independent is too narrow. Here the
trial is the unit of resampling: a percentile bootstrap draws whole trials with replacement, `resamples`
times from a fixed seed (so a report regenerates byte for byte), and recomputes the pooled statistic.
With fewer than MIN_TRIALS trials there is no interval (nan): G trials give at most C(2G − 1, G) distinct
resamples (10 for 3 trials, 35 for 4, 126 for 5), too few to place the 2.5% and 97.5% tails, and a bootstrap
over so few clusters is far too narrow. Five is also the fewest trials the SVM's folds by trial need (_svm.FOLDS).

- `spearman`: Spearman's ρ of each column of X with y over the pooled samples, with its bootstrap 95%
  interval and a two-sided bootstrap p (`bootstrap_p`);
- `logistic_fit` / `logistic`: an unpenalised logistic regression (Newton's method; nan when the classes
  separate and the maximum-likelihood estimate does not exist), its coefficients with bootstrap intervals;
- `stratified_auc`: the AUC of a score within strata of another (quantile bins fixed on all samples), the
  strata pooled by their survivor–death pair counts, with its bootstrap interval.

Pure: arrays in, numbers out; nan where a statistic is undefined (docs/method.md#statistics).
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP = 2000  # resamples of whole trials
SEED = 0
MIN_TRIALS = 5  # the fewest trials a bootstrap interval is drawn from


def trial_rows(groups) -> list[np.ndarray]:
    """The sample indices of each trial, trials in sorted order."""
    groups = np.asarray(groups)
    return [np.flatnonzero(groups == g) for g in np.unique(groups)]


def draws(groups, resamples: int, seed: int):
    """Index arrays of `resamples` bootstrap samples, each the rows of len(trials) trials drawn with replacement;
    none with fewer than MIN_TRIALS trials."""
    rows = trial_rows(groups)
    if len(rows) < MIN_TRIALS:
        return  # no resamples: every interval is nan
    g = np.random.default_rng(seed)
    for _ in range(resamples):
        yield np.concatenate([rows[i] for i in g.integers(0, len(rows), len(rows))])


def bootstrap_p(values) -> float:
    """Two-sided bootstrap p of a statistic against 0: twice the smaller share of resamples on either side of 0,
    counted with the observed sample as one more draw ((k + 1)/(B + 1)), at most 1; nan without resamples."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    k = min(int(np.sum(v <= 0)), int(np.sum(v >= 0)))
    return float(min(1.0, 2 * (k + 1) / (v.size + 1)))


def interval(values) -> tuple[float, float]:
    """The 95% percentile interval of the finite bootstrap values; nan for none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    return float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


def _rank_correlations(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's ρ (Pearson of average ranks) of each column of X with y; nan for a constant column or y."""
    from scipy.stats import rankdata

    rx = rankdata(X, axis=0)
    ry = rankdata(y)
    rx = rx - rx.mean(axis=0)
    ry = ry - ry.mean()
    den = np.sqrt(np.sum(rx**2, axis=0) * np.sum(ry**2))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (ry @ rx) / den
    return np.where(den > 0, r, np.nan)


def spearman(X, y, groups, resamples: int = BOOTSTRAP, seed: int = SEED) -> list[dict]:
    """Per column of X (a vector is one column): {"rho", "lo", "hi", "p", "n", "trials", "resamples"}.

    ρ over the pooled samples; lo, hi the 95% percentile interval and p the two-sided bootstrap p
    (`bootstrap_p`) from resampling whole trials; "resamples" counts the finite ones. Rows with a
    non-finite value are left out.
    """
    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    y, groups = np.asarray(y, dtype=float), np.asarray(groups)
    keep = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
    X, y, groups = X[keep], y[keep], groups[keep]
    n, trials = int(y.size), int(np.unique(groups).size)
    if n < 4 or trials < 2:
        return [
            {
                "rho": float("nan"),
                "lo": float("nan"),
                "hi": float("nan"),
                "p": float("nan"),
                "n": n,
                "trials": trials,
                "resamples": 0,
            }
            for _ in range(X.shape[1])
        ]
    point = _rank_correlations(X, y)
    boot = np.array(
        [_rank_correlations(X[take], y[take]) for take in draws(groups, resamples, seed)]
    ).reshape(-1, X.shape[1])
    out = []
    for j in range(X.shape[1]):
        lo, hi = interval(boot[:, j])
        ok = bool(np.isfinite(point[j]))
        out.append(
            {
                "rho": float(point[j]),
                "lo": lo if ok else float("nan"),
                "hi": hi if ok else float("nan"),
                "p": bootstrap_p(boot[:, j]) if ok else float("nan"),
                "n": n,
                "trials": trials,
                "resamples": int(np.isfinite(boot[:, j]).sum()),
            }
        )
    return out


def logistic_fit(X, y, iterations: int = 50, tol: float = 1e-9, bound: float = 30.0) -> np.ndarray:
    """Maximum-likelihood logistic regression of y on X with an intercept: (intercept, coefficients…).

    Newton's method from 0. All nan when the estimate does not exist or is not reached: one class only, a
    singular Hessian, no convergence within `iterations`, or a coefficient beyond ±`bound` (the classes
    separate, and the likelihood grows without limit as the coefficients do).
    """
    from scipy.special import expit

    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    y = np.asarray(y, dtype=float)
    A = np.column_stack([np.ones(y.size), X])
    fail = np.full(A.shape[1], np.nan)
    if y.size == 0 or y.min() == y.max():
        return fail
    b = np.zeros(A.shape[1])
    for _ in range(iterations):
        mu = expit(A @ b)
        H = (A * (mu * (1 - mu))[:, None]).T @ A
        try:
            step = np.linalg.solve(H, A.T @ (y - mu))
        except np.linalg.LinAlgError:
            return fail
        b = b + step
        if not np.all(np.isfinite(b)) or np.max(np.abs(b)) > bound:
            return fail
        if np.max(np.abs(step)) < tol:
            return b
    return fail


def logistic(X, y, groups, resamples: int = BOOTSTRAP, seed: int = SEED) -> dict:
    """`logistic_fit` on the pooled samples with 95% percentile intervals from resampling whole trials.

    {"coef": [intercept, β…], "lo", "hi", "p": per coefficient (two-sided bootstrap p), "n", "trials",
    "resamples": finite resamples (a resample whose classes separate has no estimate and is left out),
    "requested"}.
    """
    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    y, groups = np.asarray(y, dtype=float), np.asarray(groups)
    point = logistic_fit(X, y)
    boot = np.array(
        [logistic_fit(X[take], y[take]) for take in draws(groups, resamples, seed)]
    ).reshape(-1, point.size)
    ok = np.all(np.isfinite(boot), axis=1)
    bounds = [interval(boot[ok, j]) for j in range(point.size)]
    return {
        "coef": [float(c) for c in point],
        "lo": [b[0] for b in bounds],
        "hi": [b[1] for b in bounds],
        "p": [bootstrap_p(boot[ok, j]) for j in range(point.size)],
        "n": int(y.size),
        "trials": int(np.unique(groups).size),
        "resamples": int(ok.sum()),
        "requested": int(resamples),
    }


def _strata_auc(score, labels, strata, n_strata: int) -> float:
    """Σ_s AUC_s · n1_s · n0_s / Σ_s n1_s · n0_s over the strata holding both classes: the chance that a survivor
    outranks a death of the same stratum (ties half); nan when no stratum holds both."""
    from cinit_tf.stats import inference

    num = den = 0.0
    for s in range(n_strata):
        m = strata == s
        n1 = int(labels[m].sum())
        n0 = int(m.sum()) - n1
        if n1 and n0:
            num += inference.auc(score[m], labels[m]) * n1 * n0
            den += n1 * n0
    return num / den if den else float("nan")


def stratified_auc(
    score, labels, by, groups, bins: int = 4, resamples: int = BOOTSTRAP, seed: int = SEED
) -> tuple[float, float, float]:
    """(AUC of `score` for `labels` within `bins` quantile bins of `by`, lo, hi): the bins' edges are fixed on all
    samples, the strata pooled by `_strata_auc`, the 95% interval from resampling whole trials."""
    score, by = np.asarray(score, dtype=float), np.asarray(by, dtype=float)
    labels, groups = np.asarray(labels, dtype=bool), np.asarray(groups)
    if score.size == 0:
        return float("nan"), float("nan"), float("nan")
    edges = np.quantile(by, np.linspace(0, 1, bins + 1))[1:-1]
    strata = np.searchsorted(edges, by, side="right")
    point = _strata_auc(score, labels, strata, bins)
    boot = [
        _strata_auc(score[t], labels[t], strata[t], bins) for t in draws(groups, resamples, seed)
    ]
    lo, hi = interval(boot)
    return float(point), lo, hi
