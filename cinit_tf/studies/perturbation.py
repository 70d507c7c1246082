"""§4.2, Fig. 5b: scale one frequency of the initial embedding; does its survival follow its signal?

The paper's claim: taking one frequency of a given initial embedding and enlarging or shrinking
its Fourier coefficients (inverse FFT back to an embedding), its survival rate is near 100% when
its signal lies far above the mean of the other signals and it rarely survives when far below;
one line per embedding (Fig. 5b).

Trials: seeds layout "fixed_embedding" (each embedding seed trained with several MLP and split
seeds) × a grid over the scale factor `transform.s` of transform fourier_scale; the frequency k is
fixed in the file or drawn per embedding seed (k = "random"), so every grid point of an embedding
perturbs the same k, and the store keeps the k the transform chose with each trial. Per trial: the deviation z = (signal_k − mean of the other signals) / their
standard deviation on the transformed initial embedding, and whether k survives (final signal ≥
τ · max, docs/method.md#survival-rule). Per (embedding, s): the survival rate over its trials.

Verdict rule (fixed here, before any numbers): see VERDICT_RULE, declared in DECLARATION.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinit_tf.figures.perturbation import figure_final_share, figure_lines
from cinit_tf.measures import survival
from cinit_tf.measures.survival import TAUS
from cinit_tf.prose import survival_sections as survival_text
from cinit_tf.readout import SURVIVAL_TAU, survivors
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import Margin
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup.section import Declaration, Measured, Section

FAR = 3.0  # "much higher / much lower than the mean": at least 3 standard deviations of the other signals
# "Near 100%" and "rarely" (§4.2: "if the frequency is much higher than the others, the survival rate is
# near 100%, while the frequency rarely survives if it is much lower") read as ≥ 90% and ≤ 10%.
HIGH_RATE, LOW_RATE = 0.9, 0.1
HIGH_SOURCE = '§4.2: "the survival rate is near 100%", read as'
LOW_SOURCE = '§4.2: "the frequency rarely survives", read as'
# §4.2 (Fig. 5b) draws survival rising with the deviation and states no number: the conventional small ρ.
MONOTONE_MARGIN = Margin(
    verdicts.CONVENTIONAL_RHO.value,
    'Fig. 5b: "Survival rate of an arbitrary perturbed frequency '
    'versus deviation from the mean initial signal", drawn rising, no size given: '
    + verdicts.CONVENTIONAL_RHO.source,
)
BINS = (
    -np.inf,
    -FAR,
    -1.0,
    1.0,
    FAR,
    np.inf,
)  # z bins of the pooled table; the outer two decide the verdict

ABOVE_CLAIM = "survival near 100% when far above the mean"
BELOW_CLAIM = "survival rare when far below the mean"
MONOTONE_CLAIM = "survival rises with the deviation"
CLAIM_NAMES = (ABOVE_CLAIM, BELOW_CLAIM, MONOTONE_CLAIM)
VERDICT_RULE = (
    f"three claims on the valid trials pooled (finite training), survival at τ = {SURVIVAL_TAU:g}, with z = (signal_k − "
    "mean of the other signals) / their standard deviation on the transformed initial embedding; the headline is the "
    f"weakest. ({ABOVE_CLAIM}) over the trials with z ≥ {FAR:g}, their survival rate: {verdicts.rate_outcomes(True, HIGH_RATE, HIGH_SOURCE)}. "
    f"({BELOW_CLAIM}) the mirror image over z ≤ −{FAR:g}: {verdicts.rate_outcomes(False, LOW_RATE, LOW_SOURCE)}. ({MONOTONE_CLAIM}) "
    f"Spearman ρ between z and survival (0/1) with its Fisher-z 95% CI, margin ρ = {MONOTONE_MARGIN.value:g} "
    f"({MONOTONE_MARGIN.source}): {verdicts.direction_outcomes('positive')}. "
    f"A range with no trial is not assessable; so is the section when fewer than {verdicts.MIN_VALID_SHARE:.0%} of the trials (or "
    "fewer than 3) are valid."
)

CLAIM = (
    "Enlarging or shrinking the Fourier coefficients of one frequency of an initial embedding changes whether it "
    "survives: if its signal is much higher than the mean of the other signals its survival rate is near 100%, "
    "if much lower it rarely survives (Fig. 5b, one line per embedding, the same frequency within a line)."
)

PAPER_NUMBER = "survival ≈ 100% when far above the mean of the other signals, rare when far below (Fig. 5b; embeddings and trials not given)"

DECLARATION = Declaration(
    paper_ref="§4.2, Fig. 5b",
    title="Perturbing one frequency: survival against its initial deviation",
    claim=CLAIM,
    paper_number=PAPER_NUMBER,
    verdict_rule=VERDICT_RULE,
    analysis=None,
)


# ---------------------------------------------------------------- data


def perturbed_frequency(trial) -> int:
    """The k that fourier_scale scaled, as the transform chose it (the file's k, or its draw for k = "random")."""
    return int(writeup.chosen(trial, "k"))


def deviation(norms, k: int) -> float:
    """(signal_k − mean of the other signals) / their standard deviation (population std, as the keep rule's)."""
    norms = np.asarray(norms, dtype=float)
    others = np.delete(norms, k - 1)
    sd = others.std()
    return float((norms[k - 1] - others.mean()) / sd) if sd > 0 else float("nan")


def trial_rows(trials) -> list[dict]:
    rows = []
    for t in sorted(trials, key=lambda t: t.id):
        norms = np.asarray(t.result.fourier_norms, dtype=float)
        k = perturbed_frequency(t)
        rows.append(
            {
                "id": t.id,
                "embedding": int(t.settings["index"]["embedding"]),
                "embedding_seed": t.seeds[0],
                "s": float(t.settings["transform"]["s"]),
                "k": k,
                "z": deviation(norms[0], k),
                "final_share": float(norms[-1][k - 1] / norms[-1].max())
                if norms[-1].max() > 0
                else float("nan"),
                "survived": {tau: bool(survivors(norms[-1], tau)[k - 1]) for tau in TAUS},
                "initial": norms[0],
            }
        )
    return rows


def verify_frequencies(rows) -> dict:
    """Check k against the data: across two scale factors of one embedding, only signal_k may change.

    Returns {"checked", "agree", "disagree": [embedding seeds]}; an embedding with a single s cannot be checked.
    """
    out = {"checked": 0, "agree": 0, "disagree": []}
    for seed, rs in _by(rows, "embedding_seed").items():
        by_s = {}
        for r in rs:
            by_s.setdefault(r["s"], r)
        if len(by_s) < 2:
            continue
        (_, a), (_, b) = sorted(by_s.items())[0], sorted(by_s.items())[-1]
        change = np.abs(
            np.log(np.maximum(a["initial"], 1e-300)) - np.log(np.maximum(b["initial"], 1e-300))
        )
        out["checked"] += 1
        if int(np.argmax(change)) + 1 == a["k"] == b["k"]:
            out["agree"] += 1
        else:
            out["disagree"].append(seed)
    return out


def _by(rows, key) -> dict:
    groups: dict = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    return {k: groups[k] for k in sorted(groups)}


def lines(rows, tau: float = SURVIVAL_TAU) -> list[dict]:
    """One line per embedding: its points (s, z, survival rate, trials) in order of s."""
    out = []
    for e, rs in _by(rows, "embedding").items():
        points = []
        for s, ps in _by(rs, "s").items():
            points.append(
                {
                    "s": s,
                    "z": float(np.mean([p["z"] for p in ps])),
                    "z_spread": float(np.ptp([p["z"] for p in ps])),
                    "rate": float(np.mean([p["survived"][tau] for p in ps])),
                    "n": len(ps),
                }
            )
        natural = [p for p in points if p["s"] == 1.0]
        out.append(
            {
                "embedding": e,
                "embedding_seed": rs[0]["embedding_seed"],
                "k": rs[0]["k"],
                "points": points,
                "natural_z": natural[0]["z"] if natural else None,
            }
        )
    return out


def binned(rows, tau: float = SURVIVAL_TAU) -> list[dict]:
    """Pooled survival rate per z bin (BINS; the outer bins are closed at ±FAR)."""
    z = np.array([r["z"] for r in rows], dtype=float)
    y = np.array([r["survived"][tau] for r in rows], dtype=float)
    out = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        if lo == -np.inf:
            m, name = z <= hi, f"z ≤ {hi:g}"
        elif hi == np.inf:
            m, name = z >= lo, f"z ≥ {lo:g}"
        else:
            m, name = (z > lo) & (z < hi), f"{lo:g} < z < {hi:g}"
        out.append(
            {
                "bin": name,
                "lo": float(lo),
                "hi": float(hi),
                "n": int(m.sum()),
                "rate": float(y[m].mean()) if m.any() else float("nan"),
            }
        )
    return out


# ---------------------------------------------------------------- measure


@dataclass(kw_only=True)
class PerturbationMeasured(Measured):
    """Per-trial rows, one line per embedding, the pooled z bins at each τ, and the checks behind them."""

    rows: list = field(default_factory=list)  # trial_rows of the valid trials
    lines: list = field(default_factory=list)  # lines(rows) at τ = SURVIVAL_TAU
    bins: dict = field(default_factory=dict)  # {τ: binned(rows, τ)}
    spearman: dict = field(default_factory=dict)  # ρ(z, survived) at τ = SURVIVAL_TAU
    check: dict = field(default_factory=dict)  # verify_frequencies
    settling: dict = field(default_factory=dict)  # survival.settling


def claims_of(rows: list[dict]) -> list:
    """The three declared claims from the per-trial rows (z, survived at each τ)."""
    alive = [bool(r["survived"][SURVIVAL_TAU]) for r in rows]
    z = [r["z"] for r in rows]
    above = [a for a, v in zip(alive, z) if v >= FAR]
    below = [a for a, v in zip(alive, z) if v <= -FAR]
    return [
        verdicts.rate_claim(
            ABOVE_CLAIM, sum(above), len(above), True, HIGH_RATE, f"with z ≥ {FAR:g}", HIGH_SOURCE
        ),
        verdicts.rate_claim(
            BELOW_CLAIM, sum(below), len(below), False, LOW_RATE, f"with z ≤ −{FAR:g}", LOW_SOURCE
        ),
        verdicts.trend(
            MONOTONE_CLAIM,
            z,
            [float(a) for a in alive],
            +1,
            "Spearman ρ(z, survived)",
            margin=MONOTONE_MARGIN,
        ),
    ]


def measure(trials, options=None) -> PerturbationMeasured:
    """The three claims over the valid trials pooled: pure, no text and no figures."""
    m = writeup.begin(trials, CLAIM_NAMES, options, cls=PerturbationMeasured)
    if not m.assessable:
        return m
    m.rows = trial_rows(m.valid)
    m.lines = lines(m.rows)
    m.bins = {tau: binned(m.rows, tau) for tau in TAUS}
    m.spearman = inference.spearman(
        [r["z"] for r in m.rows], [float(r["survived"][SURVIVAL_TAU]) for r in m.rows]
    )
    m.check = verify_frequencies(m.rows)
    m.settling = survival.settling(m.valid, survival.settling_step(m.valid))
    m.claims = claims_of(m.rows)
    return m


# ---------------------------------------------------------------- write


def _rate(b: dict) -> str:
    return "n/a (no trials)" if not b["n"] else f"{100 * b['rate']:.1f}% (n = {b['n']})"


def json_k(k) -> str:
    return '"random" (drawn per embedding seed)' if k == "random" else str(k)


def _what_we_ran(m: PerturbationMeasured, record: dict) -> list[str]:
    rows, line_data = m.rows, m.lines
    per_emb = sorted(
        {len(_by([r for r in rows if r["embedding"] == e], "s")) for e in _by(rows, "embedding")}
    )
    trials_per_point = sorted({p["n"] for ln in line_data for p in ln["points"]})
    s_values = sorted({r["s"] for r in rows})
    k_setting = sorted({json_k(t.settings["transform"]["k"]) for t in m.valid})
    ran = writeup.profile_lines(record, m.trials)
    ran.append(
        f"Scale factors s ∈ {{{', '.join(formatting.fmt(s) for s in s_values)}}} applied to F_k and F_(p−k) "
        f"(signal_k becomes s² · signal_k); k = {', '.join(k_setting)} in the file."
    )
    ran.append(
        f"{len(line_data)} embeddings × {'/'.join(map(str, per_emb))} scale factors × "
        f"{'/'.join(map(str, trials_per_point))} MLP and split seeds per point."
    )
    ran.append(
        "Per embedding: "
        + "; ".join(
            f"seed {ln['embedding_seed']}: k = {ln['k']}, unscaled z = {formatting.fmt(ln['natural_z']) if ln['natural_z'] is not None else 'n/a'}"
            for ln in line_data
        )
        + "."
    )
    return ran


def _deviations() -> list[str]:
    """The section's own deviations (`survival_text.section` adds those every survival section states)."""
    return [
        "The paper does not give its scale factors, the number of embeddings (lines) or of trials per point; ours are "
        'under What we ran. Its x-axis is "deviation from the mean"; we measure it in standard deviations of the other '
        "signals (population std) on the transformed initial embedding (our reading).",
        f'"Much higher" and "much lower" are our z ≥ {FAR:g} and z ≤ −{FAR:g}, and "near 100%" and "rarely" our '
        f"≥ {HIGH_RATE * 100:g}% and ≤ {LOW_RATE * 100:g}%; the paper gives no thresholds.",
    ]


def _findings(m: PerturbationMeasured) -> list[str]:
    check = m.check
    table_rows = [
        [b["bin"], b["n"]] + [_rate(m.bins[tau][i]) for tau in TAUS]
        for i, b in enumerate(m.bins[SURVIVAL_TAU])
    ]
    point_rows = [
        [
            f"{ln['embedding_seed']}",
            f"{ln['k']}",
            formatting.fmt(p["s"]),
            formatting.fmt(p["z"]),
            f"{100 * p['rate']:.0f}%",
            p["n"],
        ]
        for ln in m.lines
        for p in ln["points"]
    ]
    return [
        "**All trials pooled by their deviation z.**",
        formatting.md_table(
            ["z bin", "trials"] + [f"survival rate, τ = {tau:g}" for tau in TAUS], table_rows
        ),
        "**Each embedding and scale factor.**",
        formatting.md_table(
            ["embedding seed", "k", "s", "z", f"survival rate (τ = {SURVIVAL_TAU:g})", "trials"],
            point_rows,
        ),
        survival_text.frequency_check_text(
            f"The perturbed frequency was checked against the data on {check['checked']} embeddings (across scale "
            "factors only signal_k changes)",
            check,
            f"embedding seeds {', '.join(map(str, check['disagree']))}",
        ),
    ]


def _numbers(m: PerturbationMeasured) -> tuple[str, str]:
    """(our number, its short form for the index)."""
    bins, rho = m.bins[SURVIVAL_TAU], m.spearman
    low, high = bins[0], bins[-1]
    our = (
        f"survival rate of the scaled frequency: {_rate(high)} at z ≥ {FAR:g}, {_rate(low)} at z ≤ −{FAR:g}; "
        f"Spearman ρ(z, survived) = {formatting.fmt(rho['rho'])} ({formatting.fmt_p(rho['p'])}); {len(m.lines)} embeddings, "
        f"{len(m.rows)} trials"
    )
    short = f"z ≥ {FAR:g}: {_rate(high)}; z ≤ −{FAR:g}: {_rate(low)}; {len(m.lines)} embeddings"
    return our, short


def write(m: PerturbationMeasured, record: dict, out_dir: Path) -> Section:
    """The report section: survival against the deviation z in words, tables and the two figures."""
    if not m.assessable:
        return writeup.section(m, record)
    out_dir = Path(out_dir)
    figures = [
        figure_lines(m.lines, m.bins[SURVIVAL_TAU], FAR, out_dir),
        figure_final_share(m.rows, out_dir),
    ]
    text = survival_text.SectionText(
        _numbers(m), _what_we_ran(m, record), _deviations(), _findings(m)
    )
    summary = {
        "bins": {str(tau): m.bins[tau] for tau in TAUS},
        "spearman": m.spearman,
        "lines": [dict(ln) for ln in m.lines],
        "frequency_check": m.check,
    }
    return survival_text.section(m, record, text, figures, summary)
