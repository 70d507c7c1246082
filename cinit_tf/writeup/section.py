"""What a study declares about its paper section, and what its analysis returns.

A study module `cinit_tf/studies/<name>.py` holds

    DECLARATION = Declaration(...)                         # the section: paper reference, claim, rule
    def measure(trials, options) -> Measured:              # the numbers and the judged claims; pure
    def write(measured, record, out_dir) -> Section:       # the Markdown text and the figures

The report index, the validation of an experiment file's `[analysis]` table and each report's
header are built from the declarations; nothing else lists the sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Declaration:
    """A paper section as a study reproduces it, declared before any number is computed."""

    paper_ref: str  # e.g. "§3.2, Fig. 2"; the report index is in the order of these references (`paper_key`)
    title: str  # e.g. "Multi-digit XOR: rank of the learned cube arrangement"
    claim: str  # what the paper claims, in a sentence or two
    paper_number: str  # the paper's headline number, as the report header and the index show it
    verdict_rule: str  # the rule that will decide the verdict
    analysis: type | None = (
        None  # a dataclass: its fields (metadata "rule") are the [analysis] keys
    )
    order: float = (
        0.0  # breaks a tie between two sections with the same paper reference (rarely needed)
    )
    # {claim name: the name it had in reports published before}: a renamed claim keeps its verdict history
    former_names: dict = field(default_factory=dict)


def paper_key(ref: str) -> tuple:
    """Where a reference lies in the paper: body sections (§) before appendices, then by number or letter,
    then by the first figure (number, then panel letter). "§4.2, Fig. 5b" < "§4.2, Fig. 5c" < "§5" < "App. C".

    Sections are ordered by this, so a new one goes where its reference says without renumbering any other.
    """
    body = re.match(r"\s*§(\d+)(?:\.(\d+))?", ref)
    appendix = re.match(r"\s*App\.\s*([A-Z])", ref)
    if body:
        where = (0, int(body.group(1)), int(body.group(2) or 0))
    elif appendix:
        where = (1, ord(appendix.group(1)) - ord("A"), 0)
    else:
        where = (2, 0, 0)
    fig = re.search(r"Fig\.\s*(\d+)([a-z]?)", ref)
    return where + ((int(fig.group(1)), fig.group(2)) if fig else (0, ""))


class StudyInputError(ValueError):
    """The trials cannot make this study's report: a case it compares is missing, or a measurement it reads
    was not recorded. The run's fault, not the study's: the report command says so in one line."""


@dataclass(kw_only=True)
class Measured:
    """What a study's `measure` returns: the numbers and the judged claims, no text and no figures.

    A study subclasses it with the fields its `write` needs (each with a default, so that a run too
    small to judge can return the base fields alone, with `assessable` False).
    """

    trials: list  # every trial of the run, in id order
    valid: list  # the trials every statistic uses, in id order
    excluded: dict  # {reason: [trials]}: left out of every statistic, and why
    claims: list = field(default_factory=list)  # cinit_tf.stats.claims.Claim, one per sub-claim
    options: object = None  # the study's [analysis] options (its schema dataclass), or None
    assessable: bool = True  # False: too few valid trials; every claim is "not assessable" and nothing else is measured


@dataclass
class Figure:
    filename: str  # a PNG written by the study into the report folder
    caption: str  # names the paper's figure it mirrors, e.g. "Mirrors Fig. 1b."


@dataclass(kw_only=True)
class Section:
    """What a study found, in the order a reader wants it."""

    our_number: str  # ours, computed, with spread and sample size
    verdict: str  # one of cinit_tf.stats.claims.VERDICTS
    excluded: list[
        str
    ]  # which trials were left out of every statistic, and why (required: a report always says)
    what_we_ran: list[str] = field(default_factory=list)  # profile, seeds, steps, sizes
    deviations: list[str] = field(
        default_factory=list
    )  # every difference from the paper and every choice of ours
    findings: list[str] = field(
        default_factory=list
    )  # further numbers, in prose or Markdown tables
    figures: list[Figure] = field(default_factory=list)
    summary: dict = field(default_factory=dict)  # machine-readable numbers, written to summary.json
    verdict_details: list[str] = field(
        default_factory=list
    )  # each condition of the rule and whether it held
    short_number: str = ""  # our number as the index shows it (default: our_number)
    verdict_rule: str = ""  # the rule as applied, when the declaration's depends on [analysis] (default: the declaration's)
    claims: list = field(
        default_factory=list
    )  # cinit_tf.stats.claims.Claim, one per sub-claim; verdict = the weakest


PAPER_TITLE = "Interpretable patterns in random initialization unveil final representation"
# The verdict rules' edition (docs/method.md#verdict-rules). 2: an interval holding both directions is "not
# assessable", never "not reproduced". 3: every qualitative claim is judged against the margin the paper's words
# imply (four outcomes), and summary.json keeps each claim as a record. The index marks a report judged under an
# earlier edition.
RULES = 3
