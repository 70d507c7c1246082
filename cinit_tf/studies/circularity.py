"""App. E, Fig. 13: circularity of random initial embeddings against d, and initial circularity against survival.

The paper's claims: the circularity c_k (eq. 2) of random initial embeddings, its mean and maximum over
the frequencies, rises with the embedding dimension d (Fig. 13a, 50 draws per d), which the paper reads
as higher-dimensional embeddings encoding more at initialisation; and whether a frequency with a higher
initial circularity is more likely to survive training is inconclusive (Fig. 13b).

Trials: case "initial" (train.steps = 0: the initial embedding W_E ~ N(0, 1) is drawn and stored, nothing
trains) over a grid of d at p = 59; case "trained": modular addition at the paper's settings (p = 59,
d = 128, weight decay 0.5), whose initial c_k are compared between the frequencies that survive and those
that die (survival rule, docs/method.md#survival-rule). A trial belongs to the first group when it trained
for 0 steps, to the second otherwise.

c_k projects the centred embedding on u_k = Re(F_k)/‖Re(F_k)‖, a direction fitted to the same embedding
(docs/method.md#circularity-app-e-eq-2). Two nulls sit beside the measured curve, the selection null and
the independent-direction control (cinit_tf/measures/circularity_nulls.py, with the measurements).

Survival (Fig. 13b): initial c_k correlates with the initial signal ‖F_k‖² (the numerator of c_k holds
‖Re F_k‖², a part of it), and the signal predicts survival, so what c_k adds is read GIVEN the signal: a
logistic regression of survival on both, with an interval from resampling whole runs (stats.bootstrap).

Verdict rule: VERDICT_RULE below (three claims; headline = weakest). The paper's reading of Fig. 13a
(higher-dimensional embeddings encode more) is set beside the literal claims as an explanation, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures import circularity as circularity_figures
from cinit_tf.measures import circularity_nulls, survival
from cinit_tf.prose import circularity as circularity_text
from cinit_tf.settings import Int, setting
from cinit_tf.stats import bootstrap as trial_bootstrap
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import NOT_ASSESSABLE, NOT_REPRODUCED, PARTLY, REPRODUCED, Claim, Margin
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section

STRATA = 4  # quantile bins of the initial signal for the within-stratum AUC of c_k (described)
# Fig. 13a's rise carries no number: the conventional smallest correlation.
RISE_MARGIN = Margin(
    verdicts.CONVENTIONAL_RHO.value,
    'App. E: "Indeed, circularity increases as dimensionality increases" ("Indeed" '
    f"adds no size); {verdicts.CONVENTIONAL_RHO.source}",
)
INCONCLUSIVE_SOURCE = (
    'App. E: "the evidence shown in Figure 13(b) is inconclusive as to whether larger '
    'initial circularity implies a better chance of the representation being learned"'
)


@dataclass(frozen=True)
class CircularityAnalysis:
    """The `[analysis]` table: how many null matrices to simulate, how many bootstrap resamples."""

    null_draws: int = setting(
        Int(2), 200, doc="Gaussian matrices simulated per d for the selection-effect null"
    )
    bootstrap: int = setting(
        Int(10), 2000, doc="bootstrap resamples of the trained runs for the intervals of Fig. 13b"
    )


VERDICT_RULE = (
    "Three claims. (1) Mean circularity rises with d (Fig. 13a): Spearman ρ between d and each initial "
    "draw's mean of c_k over k (draws are independent matrices) with its Fisher-z 95% CI, margin "
    f"ρ = {RISE_MARGIN.value:g} ({RISE_MARGIN.source}): {verdicts.direction_outcomes('positive')}. (2) Max "
    "circularity rises with d: the same with each draw's max over k. (3) Whether a larger initial "
    f"circularity implies a better chance of survival is inconclusive (Fig. 13b; {INCONCLUSIVE_SOURCE}). "
    "c_k correlates with the initial signal ‖F_k‖², which predicts survival, so a raw AUC of c_k would show "
    "the signal's effect; the paper's hypothesis is about circularity itself, so the claim is read as: "
    "circularity adds nothing clear to survival beyond the initial signal. Rule: logistic regression "
    "(maximum likelihood) of survival at τ = 0.05 on the standardised initial signal and the standardised "
    "initial c_k, pooled over the (run, frequency) pairs of the valid trained runs (finite, reaching 100% "
    "test accuracy); the 95% percentile CI of c_k's coefficient from bootstrap resamples of whole runs "
    "(fixed seed). The CI holds 0 → reproduced (the evidence is inconclusive, as the paper says: the "
    "paper's reading, no clear added effect, β_c = 0, is compatible with ours; the detail states the "
    "largest added effect the CI leaves open); wholly above 0 → not reproduced (given the signal, larger "
    "circularity does imply a better chance); wholly below 0 → partly (the paper's hypothesis fails, as it "
    "leaves it, but not inconclusively: given the signal, circularity goes with death). The claim is that "
    "the evidence cannot tell, so it has no margin and an interval holding 0 is never 'too wide' here. Not "
    "assessable: fewer than half of the trained runs valid (or fewer than "
    f"{trial_bootstrap.MIN_TRIALS}, the fewest a run bootstrap draws an interval from), no survivors or no deaths, or no "
    "estimate (the classes separate) on all the runs or in more than half of the resamples. Described, not "
    "judged: the raw AUC of c_k and of the signal, and the AUC of c_k within quartiles of the signal (run "
    "bootstrap). Not judged: the paper's reading of Fig. 13a, that the rise shows higher-dimensional "
    "embeddings encoding more at initialisation. The initial embeddings are N(0, 1) matrices, the very "
    "distribution of the selection null (the same score on independent N(0, 1) matrices), so measured and "
    "null are two draws of one distribution and a test of one against the other can only pass by chance; "
    "the null and an independent-direction control stand beside the curve as the explanation of the rise. "
    "The headline is the weakest of the three."
)

CLAIM = (
    "Circularity (eq. 2, computed per Fourier frequency instead of per principal component as in Zhong et al.) of random "
    "initial embeddings increases with the embedding dimension: over 50 initial embeddings per d, both the mean and the "
    'maximum over frequencies rise (Fig. 13a), "confirming our observation that higher-dimensional embedding encodes more '
    'complex information at initialization". Whether a frequency whose initial embedding is closer to a circle is more '
    "likely to survive is inconclusive (Fig. 13b)."
)

PAPER_NUMBER = "mean and max c_k rise with d (Fig. 13a; 50 draws per d, no number given); survival against initial circularity inconclusive (Fig. 13b; no number)"

CLAIM_NAMES = (
    "mean c_k rises with d",
    "max c_k rises with d",
    "initial circularity adds nothing clear to survival beyond the initial signal (inconclusive)",
)

DECLARATION = Declaration(
    paper_ref="App. E, Fig. 13",
    title="Circularity of random initial embeddings against d, and against survival (modular addition)",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=CircularityAnalysis,
)


# ---------------------------------------------------------------- claims


def added_claim(fit: dict | None, n_valid: int, n_total: int) -> Claim:
    """Claim 3: what initial c_k adds to survival given the initial signal (logistic coefficient, run
    bootstrap CI). The claim is the paper's "inconclusive": its reading, no clear added effect (β_c = 0), is
    compared with our interval as a number."""
    name = CLAIM_NAMES[2]
    paper = "inconclusive: no clear added effect (β_c = 0)"

    def unassessable(detail: str, reason: str, n: int) -> Claim:
        return Claim(name, NOT_ASSESSABLE, detail, paper=paper, kind="number", reason=reason, n=n)

    if not verdicts.assessable(n_valid, n_total):
        return verdicts.not_assessable(
            name, n_valid, n_total, "valid (finite and generalising)", kind="number"
        )
    if fit is None:
        return unassessable(
            "no survivors or no deaths among the (run, frequency) pairs", "no_estimate", n_valid
        )
    if fit["trials"] < trial_bootstrap.MIN_TRIALS:
        return unassessable(
            f"{fit['trials']} valid runs: a bootstrap over runs needs at "
            f"least {trial_bootstrap.MIN_TRIALS} for a 95% interval",
            "too_few_valid",
            fit["trials"],
        )
    (_, bs, bc), (_, ls, lc), (_, hs, hc) = fit["coef"], fit["lo"], fit["hi"]
    missing = fit["requested"] - fit["resamples"]
    if not np.all(np.isfinite([bc, lc, hc])) or fit["resamples"] < fit["requested"] / 2:
        return unassessable(
            "no logistic estimate: the classes separate (on all the runs, "
            f"or in {missing} of {fit['requested']} resamples)",
            "no_estimate",
            fit["trials"],
        )
    note = (
        f"β_c per SD of the standardised initial c_k given the standardised initial signal, its CI from "
        f"resampling whole runs ({fit['resamples']} of {fit['requested']} resamples with an estimate; n "
        f"counts runs, {fit['n']} pairs), beside the signal's own β_s = {formatting.fmt(bs)} {circularity_text.ci(ls, hs)}"
    )
    numbers = dict(
        value=bc,
        ci=(lc, hc),
        n=fit["trials"],
        paper=paper,
        kind="number",
        effect="logistic coefficient β_c",
    )
    if lc <= 0 <= hc:
        widest = max(abs(lc), abs(hc))
        odds = formatting.fmt(float(np.exp(widest)))
        note += (
            "; the CI holds 0: circularity adds nothing clear beyond the signal (the CI leaves open "
            f"added effects up to |β_c| = {formatting.fmt(widest)}, an odds ratio of {odds} per SD)"
        )
        return Claim(name, REPRODUCED, note, reason="compatible", **numbers)
    if lc > 0:
        note += (
            "; the CI lies above 0: given the signal, a larger initial circularity implies a better "
            "chance of survival"
        )
        return Claim(name, NOT_REPRODUCED, note, reason="direction_fails", **numbers)
    note += (
        "; the CI lies below 0: given the signal, circularity goes with death (the hypothesis fails, "
        "but not inconclusively)"
    )
    return Claim(name, PARTLY, note, reason="incompatible", **numbers)


# ---------------------------------------------------------------- text


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class CircularityMeasured(Measured):
    """Fig. 13a's initial draws over d with their nulls; Fig. 13b's survival against initial circularity."""

    initial_all: list = field(default_factory=list)  # the initial draws (train.steps = 0), by id
    trained_all: list = field(default_factory=list)  # the trained runs, in id order
    initial: list = field(default_factory=list)  # the valid draws: finite
    trained: list = field(default_factory=list)  # the valid runs: finite, reaching 100% test acc.
    excluded_initial: dict = field(default_factory=dict)  # {reason: draws}
    excluded_trained: dict = field(default_factory=dict)  # {reason: runs}
    sweep: dict | None = None  # circularity_nulls.sweep of the valid draws; None without any
    excess: dict = field(default_factory=dict)  # circularity_nulls.excess: per d, measured − null
    rise: dict = field(default_factory=dict)  # {"control_mean", "pca": spearman_ci with d}
    runs: list = field(default_factory=list)  # circularity_nulls.survival_data of the valid runs
    # From circularity_nulls.survival_statistics: (AUC, lo, hi) of initial c_k and of the initial
    # signal for survival; the logistic fit of survival on both (None with one class); the AUC of c_k
    # within quartiles of the signal; the Spearman ρ of c_k and signal_k over the pooled (run, k) pairs.
    auc_circularity: tuple = (float("nan"),) * 3
    auc_signal: tuple = (float("nan"),) * 3
    added: dict | None = None
    auc_within: tuple = (float("nan"),) * 3
    pooled_spearman: dict | None = None
    settling: dict | None = None  # survival.settling of the valid runs


def _against_d(s: dict, key: str) -> tuple[list, list]:
    """(d, value) of every draw's `key` (a per-draw list of the sweep), pooled over d."""
    per_d = s["per_d"]
    return [d for d in s["ds"] for _ in per_d[d][key]], [v for d in s["ds"] for v in per_d[d][key]]


def rise_claims(s: dict) -> list[Claim]:
    """Claims 1–2 from a sweep ({"ds", "per_d": {d: {"mean", "max"}}}): each draw's mean and max c_k
    against d."""
    return [
        verdicts.trend(name, *_against_d(s, key), +1, margin=RISE_MARGIN)
        for name, key in zip(CLAIM_NAMES[:2], ("mean", "max"))
    ]


def _measure_sweep(m: CircularityMeasured) -> list:
    """Fig. 13a's claims (1, 2), with the sweep, its difference from the null and the rise of the control and the PCA variant."""
    if m.initial:
        s = m.sweep = circularity_nulls.sweep(m.initial, m.options.null_draws)
        m.rise = {
            key: inference.spearman_ci(*_against_d(s, key)) for key in ("control_mean", "pca")
        }
        m.excess = circularity_nulls.excess(s)
    if m.sweep is None or not verdicts.assessable(len(m.initial), len(m.initial_all)):
        return [
            verdicts.not_assessable(name, len(m.initial), len(m.initial_all), kind="trend")
            for name in CLAIM_NAMES[:2]
        ]
    return rise_claims(m.sweep)


def _measure_survival(m: CircularityMeasured) -> Claim:
    """Fig. 13b's claim (3): what c_k adds given the signal; the raw and within-stratum AUCs, the settling check."""
    m.runs = circularity_nulls.survival_data(m.trained)
    if m.runs:
        numbers = circularity_nulls.survival_statistics(m.runs, m.options.bootstrap, STRATA)
        m.auc_circularity, m.auc_signal, m.added, m.auc_within, m.pooled_spearman = numbers
        m.settling = survival.settling(m.trained, survival.settling_step(m.trained))
    return added_claim(m.added, len(m.trained), len(m.trained_all))


def measure(trials: list, options: CircularityAnalysis | None) -> CircularityMeasured:
    everything = sorted(trials, key=lambda t: t.id)
    initial_all = [t for t in everything if t.budget == 0]
    trained_all = [t for t in everything if t.budget > 0]
    initial, ex_initial = writeup.split_valid(initial_all, needs_generalised=False)
    trained, ex_trained = writeup.split_valid(trained_all, needs_generalised=True)
    excluded = {f"{why} (initial draws)": ts for why, ts in ex_initial.items()} | {
        f"{why} (trained runs)": ts for why, ts in ex_trained.items()
    }
    m = CircularityMeasured(
        trials=everything,
        valid=sorted(initial + trained, key=lambda t: t.id),
        excluded=excluded,
        options=options or CircularityAnalysis(),
        initial_all=initial_all,
        trained_all=trained_all,
        initial=initial,
        trained=trained,
        excluded_initial=ex_initial,
        excluded_trained=ex_trained,
    )
    m.claims = [*_measure_sweep(m), _measure_survival(m)]
    # Claims 1–2 are judged on the draws, 3 on the runs: unassessable when too few trials are valid and neither can be.
    m.assessable = verdicts.assessable(len(m.valid), len(everything)) or any(
        c.verdict != NOT_ASSESSABLE for c in m.claims
    )
    return m


# ---------------------------------------------------------------- write


def write(m: CircularityMeasured, record: dict, out_dir: Path) -> Section:
    if not m.assessable:
        return writeup.section(m, record, deviations=circularity_text.deviations(m))
    out_dir, s = Path(out_dir), m.sweep
    findings = (circularity_text.sweep_findings(m) if s is not None else []) + (
        circularity_text.survival_findings(m, STRATA) if m.runs else []
    )
    figures = ([circularity_figures.figure_13a(s, out_dir)] if s is not None else []) + (
        [circularity_figures.figure_13b(m.runs, m.auc_circularity, m.auc_signal, out_dir)]
        if m.runs
        else []
    )
    our, short = circularity_text.numbers(m)
    return writeup.section(
        m,
        record,
        our_number=our,
        short_number=short,
        what_we_ran=circularity_text.ran(m, record),
        excluded=circularity_text.excluded(m),
        deviations=circularity_text.deviations(m),
        findings=findings,
        figures=figures,
        summary=_summary(m),
    )


def _summary(m: CircularityMeasured) -> dict:
    s = m.sweep
    sweep = s and {
        "p": s["p"],
        "ds": s["ds"],
        "per_d": {
            str(d): {k: inference.mean_std(v)[:2] for k, v in s["per_d"][d].items()}
            for d in s["ds"]
        },
    }
    return {
        **({"settling": dict(m.settling)} if m.runs else {}),
        "sweep": sweep,
        "excess": {str(d): e for d, e in m.excess.items()},
        "auc_circularity": m.auc_circularity,
        "auc_signal": m.auc_signal,
        "added": m.added,
        "auc_within": m.auc_within,
        "trained_valid": len(m.trained),
        "trained": len(m.trained_all),
        "initial_valid": len(m.initial),
        "initial": len(m.initial_all),
    }
