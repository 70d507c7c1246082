"""A linear SVM as a read-out of two classes (survived / dead frequencies) from a few features.

One choice of model and validation, made here: scikit-learn's LinearSVC (C = 1, squared hinge loss) on
features standardised within each training fold, plain or class-balanced; stratified k-fold cross-validation,
with folds split by group where samples of one group (a trial) are not independent; a 95% CI of a
cross-validated accuracy by resampling whole groups (`bootstrap_ci`). Accuracies are nan, never an error,
when a class has too few samples to fold. Pure: arrays in, numbers out.
"""

from __future__ import annotations

import numpy as np

from cinit_tf.stats import formatting

FOLDS = 5
CV_SEED = 0
BOOTSTRAP = 2000  # resamples of groups for the CI of a cross-validated accuracy


def majority_baseline(y) -> float:
    """Accuracy of always predicting the commoner class."""
    y = np.asarray(y, dtype=bool)
    if y.size == 0:
        return float("nan")
    share = float(y.mean())
    return max(share, 1.0 - share)


def _pipeline(balanced: bool, seed: int):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    # Standardising inside the pipeline keeps each fold's scaling to its own training part.
    return make_pipeline(
        StandardScaler(),
        LinearSVC(
            C=1.0, class_weight="balanced" if balanced else None, max_iter=20000, random_state=seed
        ),
    )


def svm_accuracies(
    X, y, balanced: bool = False, folds: int = FOLDS, seed: int = CV_SEED, groups=None
) -> dict:
    """A linear SVM on standardised X predicting y: cross-validated and training accuracy and balanced accuracy.

    Folds are stratified and shuffled with `seed`; with `groups`, no group is split across folds (samples of one
    trial share its MLP and split, so they are not independent). Returns {"cv_accuracy", "cv_balanced_accuracy",
    "train_accuracy", "train_balanced_accuracy", "coef", "intercept", "n", "positives"}; coef and intercept are of
    the fit on all samples, in standardised units.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict

    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=bool).astype(int)
    out = {
        "n": int(y.size),
        "positives": int(y.sum()),
        "cv_accuracy": float("nan"),
        "cv_balanced_accuracy": float("nan"),
        "train_accuracy": float("nan"),
        "train_balanced_accuracy": float("nan"),
        "coef": [],
        "intercept": float("nan"),
    }
    minority = min(int(y.sum()), int(y.size - y.sum()))
    if minority == 0:
        return out  # one class only: nothing to separate
    model = _pipeline(balanced, seed).fit(X, y)
    fitted = model.predict(X)
    out["train_accuracy"] = float(accuracy_score(y, fitted))
    out["train_balanced_accuracy"] = float(balanced_accuracy_score(y, fitted))
    svc = model[-1]
    out["coef"] = [float(c) for c in svc.coef_.ravel()]
    out["intercept"] = float(svc.intercept_[0])
    enough = minority >= folds and (groups is None or np.unique(groups).size >= folds)
    if enough:
        if groups is None:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            predicted = cross_val_predict(_pipeline(balanced, seed), X, y, cv=splitter)
        else:
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
            predicted = cross_val_predict(
                _pipeline(balanced, seed), X, y, cv=splitter, groups=np.asarray(groups)
            )
        out["cv_accuracy"] = float(accuracy_score(y, predicted))
        out["cv_balanced_accuracy"] = float(balanced_accuracy_score(y, predicted))
    return out


def cv_predictions(X, y, groups, balanced: bool = True, folds: int = FOLDS, seed: int = CV_SEED):
    """Cross-validated predictions of the (class-balanced) SVM with folds split by `groups`; None when too few."""
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    y = np.asarray(y, dtype=bool).astype(int)
    minority = min(int(y.sum()), int(y.size - y.sum()))
    if minority < folds or np.unique(groups).size < folds:
        return None
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(
        _pipeline(balanced, seed), X, y, cv=splitter, groups=np.asarray(groups)
    )


def balanced_accuracy(y, predicted) -> float:
    """Mean of the true-positive and true-negative rates (nan when a class is absent)."""
    y, predicted = np.asarray(y, dtype=bool), np.asarray(predicted, dtype=bool)
    if y.all() or (~y).all():
        return float("nan")
    return float(0.5 * (np.mean(predicted[y]) + np.mean(~predicted[~y])))


def bootstrap_ci(
    y, predicted, groups, metric, n: int = BOOTSTRAP, seed: int = CV_SEED
) -> tuple[float, float]:
    """95% percentile CI of metric(y, predicted) under resampling whole trials (groups) with replacement."""
    y, predicted, groups = np.asarray(y), np.asarray(predicted), np.asarray(groups)
    ids = np.unique(groups)
    index = {g: np.flatnonzero(groups == g) for g in ids}
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        take = np.concatenate([index[g] for g in rng.choice(ids, size=ids.size, replace=True)])
        v = metric(y[take], predicted[take])
        if np.isfinite(v):
            values.append(v)
    if not values:
        return (float("nan"), float("nan"))
    return (float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975)))


def accuracy(y, predicted) -> float:
    """Share of samples predicted right (nan for none)."""
    y, predicted = np.asarray(y, dtype=bool), np.asarray(predicted, dtype=bool)
    return float(np.mean(y == predicted)) if y.size else float("nan")


def judged_svm(X, y, groups) -> dict:
    """The balanced accuracy of the class-balanced SVM, folds by group, with its bootstrap CI, and plain accuracy
    beside: {"balanced", "balanced_ci", "accuracy", "accuracy_ci", "plain_svm_accuracy"}; nan when too few samples
    of a class."""
    out = {
        "balanced": float("nan"),
        "balanced_ci": [float("nan")] * 2,
        "accuracy": float("nan"),
        "accuracy_ci": [float("nan")] * 2,
        "plain_svm_accuracy": float("nan"),
    }
    pred = cv_predictions(X, y, groups, balanced=True)
    if pred is None:
        return out
    out["balanced"] = balanced_accuracy(y, pred)
    out["balanced_ci"] = list(bootstrap_ci(y, pred, groups, balanced_accuracy))
    out["accuracy"] = accuracy(y, pred)
    plain = cv_predictions(X, y, groups, balanced=False)
    if plain is not None:
        out["plain_svm_accuracy"] = accuracy(y, plain)
        out["accuracy_ci"] = list(bootstrap_ci(y, plain, groups, accuracy))
    return out


def svm_table(features: np.ndarray, y, feature_sets, groups=None) -> dict:
    """svm_accuracies for each (name, columns of `features`) of `feature_sets`, plain and class-balanced."""
    out = {}
    for name, columns in feature_sets:
        X = features[:, list(columns)]
        out[name] = {"plain": svm_accuracies(X, y), "balanced": svm_accuracies(X, y, balanced=True)}
        if groups is not None:
            out[name]["plain_grouped"] = svm_accuracies(X, y, groups=groups)
            out[name]["balanced_grouped"] = svm_accuracies(X, y, balanced=True, groups=groups)
    return out


# ---------------------------------------------------------------- as text


def percent(x: float) -> str:
    """An accuracy as a percentage with one decimal, "n/a" when not finite."""
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def percent_ci(fit: dict) -> str:
    """The 95% CI of a `judged_svm`'s balanced accuracy, "lo–hi"."""
    return f"{percent(fit['balanced_ci'][0])}–{percent(fit['balanced_ci'][1])}"


# The columns of `markdown_table`: (header, fit of `svm_table`, its accuracy).
TABLE_COLUMNS = (
    ("SVM: CV accuracy", "plain", "cv_accuracy"),
    ("SVM: training accuracy", "plain", "train_accuracy"),
    ("balanced SVM: CV balanced acc.", "balanced", "cv_balanced_accuracy"),
    ("balanced SVM: training balanced acc.", "balanced", "train_balanced_accuracy"),
    ("SVM: CV accuracy, folds by trial", "plain_grouped", "cv_accuracy"),
    (
        "balanced SVM: CV balanced acc., folds by trial (the judged metric)",
        "balanced_grouped",
        "cv_balanced_accuracy",
    ),
)


def markdown_table(table: dict, names: list, baseline: float) -> str:
    """An `svm_table` with groups as a Markdown table, a row per feature set of `names`, and the majority class
    beside (accuracy `baseline`; its balanced accuracy is 50% by definition)."""
    rows = [
        [name, *(percent(table[name][fit][key]) for _, fit, key in TABLE_COLUMNS)] for name in names
    ]
    chance = [
        percent(baseline) if fit.startswith("plain") else "50.0%" for _, fit, _ in TABLE_COLUMNS
    ]
    rows.append(["majority class (no model)", *chance])
    return formatting.md_table(["features", *(header for header, _, _ in TABLE_COLUMNS)], rows)
