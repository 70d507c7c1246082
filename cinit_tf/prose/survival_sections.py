"""What the two constructed-embedding survival sections (manual_construction, perturbation) write
around their own text: the deviations every survival section states, the settling check, the trials'
health, and the summary keys they share."""

from __future__ import annotations

from typing import NamedTuple

from cinit_tf.measures import survival
from cinit_tf.stats import formatting
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health
from cinit_tf.writeup.section import Measured, Section


def frequency_check_text(lead: str, check: dict, disagreeing: str) -> str:
    """The finding that states a check of the transform's stored choice against the norms ({"checked", "agree",
    "disagree"}): `lead` says what was checked on what, `disagreeing` lists the ones that disagree."""
    tail = f", {len(check['disagree'])} disagree ({disagreeing})." if check["disagree"] else "."
    return f"{lead}: {check['agree']} agree{tail}"


class SectionText(NamedTuple):
    """A survival section's own text, which `section` sets inside what every survival section states."""

    numbers: tuple[str, str]  # our number and its short form for the index
    what_we_ran: list[str]
    deviations: list[
        str
    ]  # the section's own: `section` adds the short budget and the survival rule
    findings: list[
        str
    ]  # the section's own: `section` adds the settling check and the trials' health


def section(m: Measured, record: dict, text: SectionText, figures: list, summary: dict) -> Section:
    """The closing of `write` in a survival section on its valid trials, `m.settling` its settling check:
    `writeup.section` with the section's own `text` inside what every such section states (the short budget and
    the survival rule before the trials' deviations, the settling check and the trials' health after the
    findings), and its `summary` with the settling, claims and trial counts added."""
    our, short = text.numbers
    rule = (
        f"Survival: final signal ≥ τ · max with τ = {survival.TAU:g} ({formatting.method('survival-rule')}, our "
        "rule); the τ table is under What we saw."
    )
    return writeup.section(
        m,
        record,
        our_number=our,
        what_we_ran=text.what_we_ran,
        deviations=[
            survival.short_budget_deviation(m.valid),
            *text.deviations,
            rule,
            *writeup.paper_setting_deviations(m.valid),
            *writeup.common_deviations(m.valid),
            writeup.STATISTICS_NOTE,
        ],
        findings=[
            *text.findings,
            survival.settling_text(m.settling),
            *health.health_findings(m.trials, convergence_matters=False),
        ],
        figures=figures,
        summary={
            **summary,
            "settling": m.settling,
            "claims": {c.name: c.verdict for c in m.claims},
            "valid": len(m.valid),
            "excluded_trials": len(m.trials) - len(m.valid),
        },
        short_number=short,
    )
