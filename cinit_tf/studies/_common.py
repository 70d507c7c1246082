"""Helpers every study shares: number formatting, statistics, which trials are valid, trial health,
the deviations every report lists, and the study's `[analysis]` options. Verdict rules are in
`_verdicts` (docs/method.md#verdict-rules); the helpers here only feed them.

Everything here is deterministic (sorted inputs give identical text), so a report regenerated from
the same `runs/` folder is byte-identical. The functions are a stable interface for the study
modules; add new ones rather than changing what an existing one returns.

Statistics conventions (stated in every report through `STATISTICS_NOTE`):
- spread is the sample standard deviation (ddof = 1; 0 for a single value);
- a 95% confidence interval of a mean is Student-t based: mean ± t_{0.975, n-1} · std / √n;
- correlations and tests are scipy.stats (pearsonr, spearmanr, Welch's ttest_ind).
Method: docs/method.md#statistics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import field, fields

import numpy as np

from cinit_tf.section import VERDICTS

REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_ASSESSABLE = VERDICTS


def method(anchor: str) -> str:
    """A Markdown link from a report (reports/<name>/README.md) to a section of docs/method.md."""
    return f"[method](../../docs/method.md#{anchor})"


STATISTICS_NOTE = (
    "Spread is the sample standard deviation over seeds (ddof = 1); 95% confidence intervals of a "
    "mean are Student-t based; correlations and tests are scipy.stats (Pearson, Spearman, Welch's t-test)."
)

# Choices of ours (docs/method.md) that hold for every trial of every study; each report lists them
# under "Deviations and choices" because the paper states none of them.
COMMON_DEVIATIONS = (
    "TensorFlow/Keras reimplementation. The paper does not name its framework; where a default matters we "
    "follow PyTorch's, the usual choice in this line of work.",
    f"Initialisation follows PyTorch's defaults ({method('model')}): W_E ~ N(0, 1); every Dense weight and bias "
    "~ U(−1/√fan_in, 1/√fan_in). The paper does not state its initialisation.",
    "Model: concat[E_a, E_b] → Dense 100 → ReLU → Dense 100 → ReLU → Dense classes, cross-entropy on logits "
    f"({method('model')}); the first layer is computed in factored form, (E·W1_top)[a] + (E·W1_bottom)[b], which is the same function.",
    "Optimiser: AdamW, lr 0.01, β₁ 0.9, β₂ 0.999, ε 1e-8, decoupled weight decay on every trainable variable "
    "(embedding included unless frozen). Keras adds ε to √v̂ after bias correction where PyTorch adds it to "
    "√v/√(1−β₂ᵗ); at ε = 1e-8 the difference is negligible.",
    "Full batch: every step is one AdamW update on the whole train split.",
    "Split: a seeded random permutation of all p² ordered pairs; the first round(0.8·p²) are train, the rest test.",
    "Three independent seed streams per trial (embedding, MLP, split); several trials are trained together "
    "as one population program, which is exactly equivalent to independent runs (AdamW is elementwise).",
    "float32 throughout.",
)


# The paper's settings (its App. A table and §2), for listing every difference a run makes.
PAPER_TASK_SETTINGS = {
    "remainder": {"task": {"p": 100, "m": 10}, "train": {"d": 8, "weight_decay": 3.0, "steps": 10000}},
    "xor": {"task": {"bits": 3}, "train": {"d": 8, "weight_decay": 3.0, "steps": 30000}},
    "modadd": {"task": {"p": 59}, "train": {"d": 128, "weight_decay": 0.5, "steps": 30000}},
}
PAPER_TRAIN_SETTINGS = {
    "width": 100, "lr": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
    "train_fraction": 0.8, "freeze_embedding": False,
}


# ---------------------------------------------------------------- the study's [analysis] options


def option(default, rule, doc: str):
    """A field of a study's `[analysis]` schema dataclass: its default, its value rule (cinit_tf.rules) and what it sets."""
    return field(default=default, metadata={"rule": rule, "doc": doc})


def analysis_of(record: dict, schema: type):
    """The run's `[analysis]` options as an instance of the study's schema dataclass.

    The experiment loader has validated the table against the schema and filled its defaults; a key
    missing here (a record written before the key existed) takes the schema's default.
    """
    given = dict(record.get("analysis") or {})
    known = {f.name for f in fields(schema)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"[analysis] {unknown[0]}: unknown key; expected one of {', '.join(sorted(known))}")
    return schema(**given)


# ---------------------------------------------------------------- formatting


def fmt(x: float | int | None, digits: int = 3) -> str:
    """A number as a report prints it: `digits` significant figures, scientific when very small or large."""
    if x is None:
        return "n/a"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x)).lower()
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 0)}e}"


def fmt_p(p: float | None) -> str:
    """A p-value: "p = 0.012", or "p < 1e-6" below that, so tiny values do not look exact."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p = n/a"
    if p < 1e-6:
        return "p < 1e-6"
    return f"p = {fmt(p, 2)}"


def fmt_mean_std(values: Iterable[float], digits: int = 3, unit: str = "") -> str:
    """"m ± s (n = N)" over the finite values; non-finite ones are counted in the text, not hidden."""
    a = np.asarray(list(values), dtype=float)
    finite = a[np.isfinite(a)]
    dropped = a.size - finite.size
    tail = f" (n = {finite.size}" + (f"; {dropped} non-finite excluded" if dropped else "") + ")"
    if finite.size == 0:
        return "n/a" + tail
    m, s, _ = mean_std(finite)
    return f"{fmt(m, digits)}{unit} ± {fmt(s, digits)}{unit}{tail}"


def md_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown table; cells that are not strings go through `fmt`."""
    def cell(v):
        return v if isinstance(v, str) else fmt(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- statistics


def mean_std(values: Iterable[float]) -> tuple[float, float, int]:
    """(mean, sample std with ddof = 1, n); std is 0 for a single value, mean nan for none."""
    a = np.asarray(list(values), dtype=float)
    if a.size == 0:
        return (float("nan"), float("nan"), 0)
    return (float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0, int(a.size))


def ci95(values: Iterable[float]) -> tuple[float, float]:
    """Student-t 95% confidence interval of the mean; (m, m) for a single value, nan for none."""
    from scipy import stats

    m, s, n = mean_std(values)
    if n < 2:
        return (m, m)
    half = float(stats.t.ppf(0.975, n - 1)) * s / math.sqrt(n)
    return (m - half, m + half)


def pearson(x: Iterable[float], y: Iterable[float]) -> dict:
    """{"r", "p", "n"}; r and p are nan when fewer than 3 points or a constant input make them undefined."""
    return _correlation("pearsonr", x, y)


def spearman(x: Iterable[float], y: Iterable[float]) -> dict:
    """{"rho", "p", "n"} (Spearman rank correlation); nan when undefined, as `pearson`."""
    out = _correlation("spearmanr", x, y)
    return {"rho": out["r"], "p": out["p"], "n": out["n"]}


def _correlation(name: str, x, y) -> dict:
    from scipy import stats

    x, y = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"r": float("nan"), "p": float("nan"), "n": n}
    res = getattr(stats, name)(x, y)
    return {"r": float(res[0]), "p": float(res[1]), "n": n}


def welch(a: Iterable[float], b: Iterable[float]) -> dict:
    """Welch's two-sample t-test (unequal variances): {"t", "p", "n_a", "n_b"}; nan when undefined."""
    from scipy import stats

    a, b = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return {"t": float("nan"), "p": float("nan"), "n_a": int(a.size), "n_b": int(b.size)}
    res = stats.ttest_ind(a, b, equal_var=False)
    return {"t": float(res[0]), "p": float(res[1]), "n_a": int(a.size), "n_b": int(b.size)}


# ---------------------------------------------------------------- valid trials


def is_finite_trial(trial) -> bool:
    """Training kept a finite loss and the final embedding is finite: the trial's numbers mean something."""
    if trial.result.nonfinite_step is not None:
        return False
    final = getattr(trial.result, "final_embedding", None)
    return final is None or bool(np.all(np.isfinite(np.asarray(final, dtype=np.float64))))


def split_valid(trials: Iterable, needs_generalised: bool = False) -> tuple[list, dict]:
    """(valid trials, {reason: [excluded trials]}), both in id order.

    A trial is invalid when its training diverged (non-finite loss or embedding), and, where the claim
    needs a trained solution (`needs_generalised`), when it never reached 100% test accuracy. Invalid
    trials are left out of every statistic of the claim and counted in the report (`exclusion_lines`).
    """
    valid, excluded = [], {}
    for t in sorted(trials, key=lambda t: t.id):
        if not is_finite_trial(t):
            excluded.setdefault("non-finite training loss or embedding (diverged)", []).append(t)
        elif needs_generalised and t.result.convergence_step is None:
            excluded.setdefault("never reached 100% test accuracy", []).append(t)
        else:
            valid.append(t)
    return valid, excluded


def exclusion_lines(n_total: int, excluded: dict, max_listed: int = 10) -> list[str]:
    """The report's account of excluded trials: how many of how many, why, and which."""
    n_out = sum(len(v) for v in excluded.values())
    if not n_out:
        return [f"None: all {n_total} trials are valid (finite, and generalising where a claim needs it)."]
    out = [f"{n_out} of {n_total} trials excluded from every statistic; {n_total - n_out} valid."]
    for why, ts in excluded.items():
        listed = ", ".join(_describe(t) for t in ts[:max_listed]) + (f" and {len(ts) - max_listed} more" if len(ts) > max_listed else "")
        out.append(f"{len(ts)} for {why}: {listed}.")
    return out


def unassessable_section(record: dict, trials: Sequence, valid: Sequence, excluded: dict, claim_names: Sequence[str],
                         deviations: Sequence[str] = (), min_share: float = 0.5):
    """The section of a run with too few valid trials: every claim not assessable, the exclusions counted, no statistic."""
    from cinit_tf.section import Section
    from cinit_tf.studies import _verdicts as V

    n, k = len(trials), len(valid)
    claims = [V.not_assessable(name, k, n, f"valid (at least {min_share:.0%} and 3 are needed)") for name in claim_names]
    return Section(
        our_number=f"not assessable: {k} of {n} trials valid",
        verdict=V.headline(claims),
        what_we_ran=profile_lines(record, trials),
        deviations=list(deviations),
        findings=health_findings(trials, convergence_matters=False),
        summary={"valid": k, "trials": n, "excluded": {why: [t.id for t in ts] for why, ts in excluded.items()}},
        short_number=f"not assessable ({k}/{n} valid)",
        claims=claims,
        excluded=exclusion_lines(n, excluded),
    )


def typical(items: Sequence, value: Callable, n: int) -> list:
    """The `n` items whose value lies nearest the median of all (ties by the given order): examples chosen to be typical."""
    items = list(items)
    if not items:
        return []
    values = np.array([float(value(x)) for x in items])
    med = float(np.median(values))
    order = sorted(range(len(items)), key=lambda i: (abs(values[i] - med), i))
    return [items[i] for i in order[:n]]


def wilson_ci(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson 95% interval of a binomial share k / n; (nan, nan) when n = 0."""
    if n <= 0:
        return (float("nan"), float("nan"))
    phat = k / n
    den = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / den
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate_claim(name: str, k: int, n: int, high: bool, bound: float, what: str, alpha: float = 0.01, verb: str = "survived"):
    """A claim that a rate is near 1 (`high`) or near 0: "near" is a bound declared in advance (e.g. ≥ 0.9).

    Not assessable with no trials; not reproduced unless the rate is on the claimed side of ½ (exact binomial
    test, p < alpha); reproduced when its Wilson 95% CI reaches the bound (compatible with "near"); partly otherwise.
    """
    from cinit_tf.studies import _verdicts as V

    if n <= 0:
        return V.Claim(name, V.NOT_ASSESSABLE, f"no trials {what}")
    _, _, _, p = share_vs_half(k, n)
    lo, hi = wilson_ci(k, n)
    side = (k / n > 0.5) if high else (k / n < 0.5)
    detail = (f"{k} of {n} trials {what} {verb}: {100 * k / n:.1f}% (Wilson 95% CI {100 * lo:.1f}–{100 * hi:.1f}%); "
              f"needs the rate {'above' if high else 'below'} ½ at p < {alpha:g} (exact binomial {fmt_p(p)}) and a CI reaching "
              f"{'≥' if high else '≤'} {100 * bound:g}%")
    if not (side and p < alpha):
        return V.Claim(name, V.NOT_REPRODUCED, detail + "; the direction does not hold")
    if (hi >= bound) if high else (lo <= bound):
        return V.Claim(name, V.REPRODUCED, detail)
    return V.Claim(name, V.PARTLY, detail + "; the direction holds but the rate is not near " + ("100%" if high else "0%"))


def share_vs_half(k: int, n: int) -> tuple[float, float, float, float]:
    """(share − ½, lo, hi, p): a share against one half, Wilson CI (shifted) and the two-sided exact binomial test."""
    from scipy import stats

    if n <= 0:
        return (float("nan"),) * 4
    lo, hi = wilson_ci(k, n)
    p = float(stats.binomtest(k, n, 0.5).pvalue)
    return (k / n - 0.5, lo - 0.5, hi - 0.5, p)


# ---------------------------------------------------------------- trials


def final(curve: np.ndarray) -> float:
    """The last recorded value of a curve (what "final test loss" means in every report)."""
    return float(np.asarray(curve)[-1])


def steps_of(trials: Iterable) -> list[int]:
    """The step budgets (`train.steps`) of these trials, sorted, each once."""
    return sorted({int(t.settings["train"]["steps"]) for t in trials})


def chosen(trial, key: str):
    """What the trial's transform chose under `key` (the store keeps it with the trial; docs/method.md#transforms)."""
    choice = getattr(trial, "chosen", None) or {}
    if key not in choice:
        raise ValueError(f"trial {trial.id}: no stored transform choice {key!r}; it was stored before transforms "
                         "returned what they chose, so re-run its experiment to report on it")
    return choice[key]


def group_trials(trials: Iterable, key: Callable) -> dict:
    """Trials grouped by `key(trial)`, groups in sorted key order, trials in id order within a group."""
    groups: dict = {}
    for t in sorted(trials, key=lambda t: t.id):
        groups.setdefault(key(t), []).append(t)
    return {k: groups[k] for k in sorted(groups)}


def trial_health(trials: Iterable) -> dict:
    """Trials whose training produced a non-finite loss, and trials that never reached 100% test accuracy.

    {"n", "nonfinite": [(id, step)], "unconverged": [id]}, both lists sorted by id. Studies report these
    (`health_findings`), never drop them silently.
    """
    trials = sorted(trials, key=lambda t: t.id)
    return {
        "n": len(trials),
        "nonfinite": [(t.id, int(t.result.nonfinite_step)) for t in trials if t.result.nonfinite_step is not None],
        "unconverged": [t.id for t in trials if t.result.convergence_step is None],
    }


def _describe(t) -> str:
    s = t.settings
    grid = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in sorted(s.get("grid", {}).items()))
    parts = [x for x in (s.get("case", ""), grid) if x]
    return f"`{t.id[:12]}`" + (f" ({'; '.join(parts)})" if parts else "")


def health_findings(trials: Iterable, convergence_matters: bool = True, max_listed: int = 20) -> list[str]:
    """Findings lines counting and listing non-finite and (if it matters to the study) unconverged trials."""
    trials = sorted(trials, key=lambda t: t.id)
    h = trial_health(trials)
    by_id = {t.id: t for t in trials}
    out = []
    if h["nonfinite"]:
        listed = ", ".join(f"{_describe(by_id[i])} at step {s}" for i, s in h["nonfinite"][:max_listed])
        more = f" and {len(h['nonfinite']) - max_listed} more" if len(h["nonfinite"]) > max_listed else ""
        out.append(f"Non-finite training loss in {len(h['nonfinite'])} of {h['n']} trials: {listed}{more}.")
    else:
        out.append(f"Every one of the {h['n']} trials kept a finite training loss.")
    if convergence_matters:
        if h["unconverged"]:
            listed = ", ".join(_describe(by_id[i]) for i in h["unconverged"][:max_listed])
            more = f" and {len(h['unconverged']) - max_listed} more" if len(h["unconverged"]) > max_listed else ""
            out.append(f"{len(h['unconverged'])} of {h['n']} trials never reached 100% test accuracy: {listed}{more}.")
        else:
            out.append(f"Every one of the {h['n']} trials reached 100% test accuracy.")
    return out


def profile_lines(record: dict, trials: Sequence, case_order: Sequence[str] | None = None) -> list[str]:
    """The "What we ran" lines every study starts with: overrides, then trials, steps and seeds per case.

    Cases come in `case_order` (labels; others after it, sorted), default sorted by label. The report
    itself already states the experiment, study, profile and trial count above these lines.
    """
    out = []
    if record.get("overrides"):
        out.append("Overrides: " + ", ".join(f"`{o}`" for o in sorted(record["overrides"])) + ".")
    per_case = group_trials(trials, lambda t: t.settings.get("case", ""))
    order = [c for c in (case_order or []) if c in per_case] + [c for c in per_case if c not in (case_order or [])]
    for case in order:
        ts = per_case[case]
        steps = steps_of(ts)
        emb = sorted({int(t.settings["seeds"]["embedding"]) for t in ts})
        name = f"`{case}`" if case else "All trials"
        task = dict(ts[0].settings.get("task", {}))
        task_text = ", ".join([str(task.pop("name", "?"))] + [f"{k} = {v}" for k, v in sorted(task.items())])
        out.append(f"{name} ({task_text}): {len(ts)} trials, {', '.join(map(str, steps))} steps, "
                   f"{len(emb)} distinct embedding seeds.")
    return out


# ---------------------------------------------------------------- deviations


def paper_setting_deviations(trials: Sequence) -> list[str]:
    """One line per case and setting that differs from the paper's (App. A table, §2), e.g. fewer steps.

    Settings a case varies on purpose (its grid keys) are skipped: the study describes its sweep itself.
    """
    out = []
    for case, ts in group_trials(trials, lambda t: t.settings.get("case", "")).items():
        task = ts[0].settings.get("task", {})
        paper = PAPER_TASK_SETTINGS.get(task.get("name"))
        if paper is None:
            continue
        varied = set()
        for t in ts:
            varied |= set(t.settings.get("grid", {}))
        where = f"`{case}`" if case else task.get("name")
        for section, expected in (("task", paper["task"]), ("train", {**PAPER_TRAIN_SETTINGS, **paper["train"]})):
            for key in sorted(expected):
                if f"{section}.{key}" in varied:
                    continue
                values = sorted({json_key(t.settings.get(section, {}).get(key)) for t in ts})
                if values != [json_key(expected[key])]:
                    shown = ", ".join(values)
                    out.append(f"{where}: {section}.{key} = {shown} here, {json_key(expected[key])} in the paper.")
    return out


def json_key(value) -> str:
    """A setting value as text that sorts and compares the same for 3, 3.0 and "3"."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):.10g}"
    return str(value)
