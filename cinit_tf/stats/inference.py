"""The statistics every study uses: one way to get each interval and each test (docs/method.md#statistics).

Each choice is made once, here:

- spread is the sample standard deviation (ddof = 1; 0 for a single value);
- the 95% interval of a mean is Student-t: mean ± t_{0.975, n−1} · s / √n (`mean_ci`);
- the 95% interval of a share k / n is Wilson's score interval (`share_ci`): it never leaves [0, 1],
  is not degenerate at k = 0 or k = n, and keeps close to its nominal coverage at the small n of a
  `cpu` run, where the exact (Clopper–Pearson) interval is conservative and the normal one fails;
- a share against one half is the two-sided exact binomial test (`share_vs_half`);
- a difference of means, or any linear contrast of group means, is Welch–Satterthwaite (`welch_contrast`),
  which needs no equal variances;
- a one-sided difference in location is Mann–Whitney (`mann_whitney_less`); paired differences against 0
  are Wilcoxon's signed-rank test (`signed_rank`); a skewed sample is summarised by median and quartiles
  (`median_iqr`);
- correlations are Pearson and Spearman (scipy.stats); their 95% intervals are Fisher-z, with standard error
  1/√(n−3) for Pearson (`pearson_ci`) and Bonett–Wright's 1.03/√(n−3) for Spearman (`spearman_ci`);
- a log-log slope is least squares with a Student-t interval (`loglog_slope`);
- how well a score separates a binary outcome is the area under the ROC curve (`auc`), with a percentile
  bootstrap over whole runs where values of one run are not independent (`bootstrap_auc`);
- a typical example is the item whose value lies nearest the median of all (`typical`).

Everything is pure (numbers in, numbers out) and returns nan where a statistic is undefined (too few
values, constant input) instead of raising, so a report can say "undefined" rather than crash.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def _finite(values: Iterable[float]) -> np.ndarray:
    a = np.asarray([v for v in values if v is not None], dtype=float)
    return a[np.isfinite(a)]


def mean_std(values: Iterable[float]) -> tuple[float, float, int]:
    """(mean, sample std with ddof = 1, n); std is 0 for a single value, mean nan for none."""
    a = np.asarray(list(values), dtype=float)
    if a.size == 0:
        return (float("nan"), float("nan"), 0)
    return (float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0, int(a.size))


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, lo, hi, n) of the finite values: Student-t interval; (m, m, m, 1) for one value, nan for none."""
    from scipy import stats

    a = _finite(values)
    n = int(a.size)
    if n == 0:
        return (float("nan"),) * 3 + (0,)
    m = float(a.mean())
    if n < 2:
        return m, m, m, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(a.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half, n


def share_ci(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson 95% interval of a binomial share k / n; (nan, nan) when n = 0."""
    if n <= 0:
        return (float("nan"), float("nan"))
    phat = k / n
    den = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / den
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / den
    # At k = 0 (k = n) the bound is exactly 0 (1); computed, it comes out a rounding error away from it.
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def share_vs_half(k: int, n: int) -> tuple[float, float, float, float]:
    """(share − ½, lo − ½, hi − ½, p): a share against one half, its Wilson CI shifted, and the two-sided exact binomial p."""
    from scipy import stats

    if n <= 0:
        return (float("nan"),) * 4
    lo, hi = share_ci(k, n)
    p = float(stats.binomtest(k, n, 0.5).pvalue)
    return (k / n - 0.5, lo - 0.5, hi - 0.5, p)


def welch_contrast(groups: Sequence[Iterable[float]], weights: Sequence[float]) -> dict:
    """Σ w_i · mean(group_i) with a Welch–Satterthwaite 95% CI and two-sided p (finite values only).

    Two groups with weights (1, −1) give Welch's difference of means. {"difference", "ci95", "p", "df", "n"};
    nan when a group has fewer than 2 values; a zero standard error gives p = 1 for a zero difference, else 0.
    """
    from scipy import stats

    gs = [_finite(g) for g in groups]
    out = {
        "difference": float("nan"),
        "ci95": [float("nan"), float("nan")],
        "p": float("nan"),
        "df": float("nan"),
        "n": [int(g.size) for g in gs],
    }
    if any(g.size < 2 for g in gs):
        return out
    diff = float(sum(w * g.mean() for w, g in zip(weights, gs)))
    parts = [w * w * g.var(ddof=1) / g.size for w, g in zip(weights, gs)]
    se = float(np.sqrt(sum(parts)))
    if se == 0:
        out.update({"difference": diff, "ci95": [diff, diff], "p": 1.0 if diff == 0 else 0.0})
        return out
    df = sum(parts) ** 2 / sum(v * v / (g.size - 1) for v, g in zip(parts, gs))
    half = float(stats.t.ppf(0.975, df)) * se
    out.update(
        {
            "difference": diff,
            "ci95": [diff - half, diff + half],
            "p": float(2 * stats.t.sf(abs(diff / se), df)),
            "df": float(df),
        }
    )
    return out


def welch_moments(m_a: float, s_a: float, n_a: int, m_b: float, s_b: float, n_b: int) -> dict:
    """Welch's difference m_a − m_b from summary numbers (a paper's mean ± std over n): {"difference", "ci95", "p", "df"}."""
    from scipy import stats

    va, vb = s_a * s_a / n_a, s_b * s_b / n_b
    se = math.sqrt(va + vb)
    diff = m_a - m_b
    if se == 0:
        return {
            "difference": diff,
            "ci95": [diff, diff],
            "p": 1.0 if diff == 0 else 0.0,
            "df": float("nan"),
        }
    df = (va + vb) ** 2 / (
        (va * va / (n_a - 1) if n_a > 1 else 0) + (vb * vb / (n_b - 1) if n_b > 1 else 0)
    )
    p = float(2 * stats.t.sf(abs(diff / se), df))
    half = float(stats.t.ppf(0.975, df)) * se
    return {"difference": diff, "ci95": [diff - half, diff + half], "p": p, "df": float(df)}


def welch_test(a: Iterable[float], b: Iterable[float], alternative: str = "two-sided") -> dict:
    """Welch's two-sample t-test (scipy; `alternative` "greater": a's mean above b's): {"t", "p", "n_a", "n_b"}; nan when undefined."""
    from scipy import stats

    a, b = _finite(a), _finite(b)
    if a.size < 2 or b.size < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return {"t": float("nan"), "p": float("nan"), "n_a": int(a.size), "n_b": int(b.size)}
    res = stats.ttest_ind(a, b, equal_var=False, alternative=alternative)
    return {"t": float(res[0]), "p": float(res[1]), "n_a": int(a.size), "n_b": int(b.size)}


def mann_whitney_less(a: Iterable[float], b: Iterable[float]) -> dict:
    """One-sided Mann–Whitney U test that a tends to lie below b: {"u", "p", "n_a", "n_b"}; nan when undefined."""
    from scipy import stats

    a, b = _finite(a), _finite(b)
    if a.size < 1 or b.size < 1:
        return {"u": float("nan"), "p": float("nan"), "n_a": int(a.size), "n_b": int(b.size)}
    res = stats.mannwhitneyu(a, b, alternative="less")
    return {
        "u": float(res.statistic),
        "p": float(res.pvalue),
        "n_a": int(a.size),
        "n_b": int(b.size),
    }


def median_iqr(values) -> dict:
    """{"median", "q1", "q3", "n"} of the finite values (nan when there is none)."""
    a = np.asarray([float(x) for x in values], dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"median": float("nan"), "q1": float("nan"), "q3": float("nan"), "n": 0}
    q1, med, q3 = np.quantile(a, (0.25, 0.5, 0.75))
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "n": int(a.size)}


def median_ci(values, level: float = 0.95) -> tuple[float, float]:
    """A distribution-free interval for the median: the order statistics x_(k) and x_(n+1-k), with k the largest
    for which 2 · P(Binomial(n, ½) ≤ k − 1) ≤ 1 − level (coverage at least `level`). Below n = 6 no k reaches 95%
    and the interval is the sample's range (coverage 1 − 2^(1−n)); nan with no finite value."""
    from scipy import stats

    a = np.sort(_finite(values))
    n = a.size
    if n == 0:
        return float("nan"), float("nan")
    k = 0
    while k + 1 <= n // 2 and 2 * stats.binom.cdf(k, n, 0.5) <= 1 - level:
        k += 1
    k = max(k, 1)
    return float(a[k - 1]), float(a[n - k])


def signed_rank(differences, alternative: str = "two-sided") -> dict:
    """Wilcoxon signed-rank test of differences against 0 (paired seeds, or values minus a reference).

    Non-finite differences are left out and counted; zero differences are dropped by scipy's default
    ("wilcox"). {"n", "left_out", "positive", "negative", "zero", "median", "statistic", "p"}; p is nan
    when no non-zero difference is left.
    """
    from scipy import stats

    d = np.asarray([float(x) for x in differences], dtype=np.float64)
    finite = d[np.isfinite(d)]
    out = {
        "n": int(finite.size),
        "left_out": int(d.size - finite.size),
        "positive": int(np.sum(finite > 0)),
        "negative": int(np.sum(finite < 0)),
        "zero": int(np.sum(finite == 0)),
        "median": float(np.median(finite)) if finite.size else float("nan"),
        "statistic": float("nan"),
        "p": float("nan"),
    }
    if np.count_nonzero(finite) >= 1:
        res = stats.wilcoxon(finite, alternative=alternative)
        out["statistic"], out["p"] = float(res.statistic), float(res.pvalue)
    return out


def _paired_finite(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def pearson(x: Iterable[float], y: Iterable[float]) -> dict:
    """{"r", "p", "n"}; r and p are nan when fewer than 3 points or a constant input make them undefined."""
    return _correlation("pearsonr", x, y)


def spearman(x: Iterable[float], y: Iterable[float]) -> dict:
    """{"rho", "p", "n"} (Spearman rank correlation); nan when undefined, as `pearson`."""
    out = _correlation("spearmanr", x, y)
    return {"rho": out["r"], "p": out["p"], "n": out["n"]}


def _correlation(name: str, x, y) -> dict:
    from scipy import stats

    x, y = _paired_finite(x, y)
    n = int(x.size)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"r": float("nan"), "p": float("nan"), "n": n}
    res = getattr(stats, name)(x, y)
    return {"r": float(res[0]), "p": float(res[1]), "n": n}


def pearson_ci(r: float, n: int) -> tuple[float, float]:
    """95% interval of a Pearson r by Fisher's z transform (SE = 1/√(n−3)); nan when n < 4 or |r| = 1."""
    if not (n >= 4 and np.isfinite(r) and abs(r) < 1):
        return (float("nan"), float("nan"))
    z, half = np.arctanh(r), Z95 / np.sqrt(n - 3)
    return (float(np.tanh(z - half)), float(np.tanh(z + half)))


def spearman_ci(x: Iterable[float], y: Iterable[float]) -> tuple[float, float, float, float, int]:
    """(rho, lo, hi, p, n): Spearman's rank correlation with a Fisher-z 95% CI (SE = 1.03/√(n−3)); nan below 4 points."""
    from scipy import stats

    x, y = _paired_finite(x, y)
    n = int(x.size)
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan"), float("nan"), float("nan"), n
    rho, p = stats.spearmanr(x, y)
    rho = float(np.clip(rho, -0.999999, 0.999999))
    z, se = math.atanh(rho), 1.03 / math.sqrt(n - 3)
    return rho, math.tanh(z - 1.96 * se), math.tanh(z + 1.96 * se), float(p), n


def loglog_slope(x, y) -> dict:
    """Least-squares slope of log y on log x with its 95% CI (Student-t): {"slope", "lo", "hi", "n"}."""
    from scipy import stats

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    x, y = np.log(x[keep]), np.log(y[keep])
    n = int(x.size)
    if n < 3 or np.ptp(x) == 0:
        return {"slope": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": n}
    res = stats.linregress(x, y)
    half = float(stats.t.ppf(0.975, n - 2)) * float(res.stderr)
    return {
        "slope": float(res.slope),
        "lo": float(res.slope) - half,
        "hi": float(res.slope) + half,
        "n": n,
    }


def typical(items: Sequence, value: Callable, n: int) -> list:
    """The `n` items whose value lies nearest the median of all (ties by the given order): examples chosen to be typical."""
    items = list(items)
    if not items:
        return []
    values = np.array([float(value(x)) for x in items])
    med = float(np.median(values))
    order = sorted(range(len(items)), key=lambda i: (abs(values[i] - med), i))
    return [items[i] for i in order[:n]]


def auc(scores, labels) -> float:
    """Area under the ROC curve of `scores` for the positive `labels`: Mann–Whitney U / (n₁·n₀), ties counted half.

    0.5 = no better than chance; nan when one class is empty.
    """
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=bool).ravel()
    keep = np.isfinite(s)
    s, y = s[keep], y[keep]
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(s)
    u = float(ranks[y].sum()) - n1 * (n1 + 1) / 2.0
    return u / (n1 * n0)


def bootstrap_auc(
    per_run: Sequence[tuple[np.ndarray, np.ndarray]],
    resamples: int,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """(AUC pooled over runs, lo, hi): a percentile bootstrap CI that resamples whole runs with replacement.

    Frequencies of one run share an MLP, a split and an embedding, so the run is the unit of resampling.
    `per_run` holds (scores, labels) of each run. The resampling stream is fixed by `seed`, so a report
    regenerates byte for byte.
    """
    if not per_run:
        return float("nan"), float("nan"), float("nan")
    scores = [np.asarray(s, dtype=np.float64).ravel() for s, _ in per_run]
    labels = [np.asarray(y, dtype=bool).ravel() for _, y in per_run]
    point = auc(np.concatenate(scores), np.concatenate(labels))
    g = np.random.default_rng(seed)
    n = len(per_run)
    values = []
    for _ in range(resamples):
        pick = g.integers(0, n, n)
        values.append(
            auc(
                np.concatenate([scores[i] for i in pick]), np.concatenate([labels[i] for i in pick])
            )
        )
    values = np.asarray(values)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return point, float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    return point, float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
