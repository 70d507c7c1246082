"""The index of the reports, `reports/README.md`: every claim of every section first, then one row per section.

Built from the studies' declarations (the paper's order) and the summary.json files present, so it is the
same whichever report was generated last. No TensorFlow here.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from cinit_tf.stats.formatting import one_line
from cinit_tf.store import atomic_write
from cinit_tf.studies import declarations
from cinit_tf.writeup.section import PAPER_TITLE, RULES


def write_index(reports_dir: str | os.PathLike) -> Path:
    """`reports/README.md`: one row per study in the paper's order (its declaration), with the numbers of
    the summary.json files present; a study with none yet is listed as not yet run."""
    reports_dir = Path(reports_dir)
    summaries = []
    for path in sorted(reports_dir.glob("*/summary.json")):
        if path.parent.name.startswith("."):
            continue  # a report being written or being removed
        try:
            summaries.append(json.loads(path.read_text()))
        except json.JSONDecodeError:
            continue  # a half-written or foreign file must not break the index of the others
    by_study: dict = {}
    for s in summaries:
        by_study.setdefault(s.get("study"), []).append(s)
    header = "| section | paper | paper's result | ours | profile | verdict | claims | report |"
    rows = [header, "|---|---|---|---|---|---|---|---|"]
    declared = declarations()
    for study, d in declared.items():
        found = sorted(
            by_study.get(study, []), key=lambda s: (s.get("name") != study, s.get("name", ""))
        )
        if not found:
            rows.append(
                f"| {study} | {d.paper_ref} | {one_line(d.paper_number)} | not yet run | – | not yet run | – | – |"
            )
        for s in found:
            rows.append(_index_row(s, study, d.paper_ref, d.paper_number))
    others = [
        s
        for st, ss in sorted(by_study.items(), key=lambda kv: str(kv[0]))
        if st not in declared
        for s in ss
    ]
    ordered = [
        s
        for study in declared
        for s in sorted(by_study.get(study, []), key=lambda s: s.get("name", ""))
    ]
    lines = [
        "# Reports",
        "",
        f"Every claim of every section of the paper ({PAPER_TITLE}) that a study reproduces, in the paper's order: "
        "the paper's number where it gives one, ours (with its 95% interval where the claim has one) and the verdict "
        "its rule gave, with the rule's reason code (and old → new where regenerating the report changed it). "
        "A section's headline verdict is the weakest of its claims; the second table gives it with "
        "the tally of its claims. Each report is generated from its run's stored trials "
        "(`python -m cinit_tf.report runs/<name>`); `python -m cinit_tf.report --compare reports/<name> runs/<name>` "
        "checks a rerun against it claim by claim.",
        "",
        *claim_table(ordered),
        "",
        "## Sections",
        "",
        *rows,
        "",
    ]
    if others:
        lines += ["Reports of studies that no longer exist:", "", header, rows[1]]
        lines += [
            _index_row(s, s.get("study", "?"), s.get("paper_ref", ""), s.get("paper_number", ""))
            for s in sorted(others, key=lambda s: s.get("name", ""))
        ]
        lines += [""]
    path = reports_dir / "README.md"
    atomic_write(path, lambda f: f.write("\n".join(lines).encode("utf-8")))
    return path


def _claim_number(c: dict) -> str:
    value, ci = c.get("value"), c.get("ci")
    if isinstance(value, (int, float)) and math.isfinite(value):
        shown = f"{value:.3g}"
        if isinstance(ci, list) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
            shown += f" [{ci[0]:.3g}, {ci[1]:.3g}]"
        return shown
    return "–"


def claim_table(summaries: list[dict]) -> list[str]:
    """The index's first table: one row per claim of every summary (section, claim, paper, ours, verdict)."""
    rows = ["| section | claim | paper | ours | verdict |", "|---|---|---|---|---|"]
    for s in summaries:
        earlier = " (earlier rules)" if s.get("rules", 1) < RULES else ""
        for c in s.get("claims") or []:
            verdict = str(c.get("verdict", "?"))
            if isinstance(c.get("previous_verdict"), str):
                verdict = f"{c['previous_verdict']} → {verdict}"
            if c.get("reason"):
                verdict += f" ({str(c['reason']).replace('_', ' ')})"
            rows.append(
                f"| {s.get('name', '?')} | {one_line(c.get('name', '?'))} | {one_line(c.get('paper') or '–')} | "
                f"{_claim_number(c)} | {verdict}{earlier} |"
            )
    return rows


def tally(claims: list[dict]) -> str:
    """ "2 reproduced, 1 partly": how a section's claims fell, strongest first."""
    order = ("reproduced", "partly", "not reproduced", "not assessable")
    counts = [(sum(c.get("verdict") == v for c in claims), v) for v in order]
    return ", ".join(f"{n} {v}" for n, v in counts if n) or "none"


def _index_row(s: dict, section: str, ref: str, paper: str) -> str:
    ours = one_line(s.get("short_number") or s.get("our_number", ""))
    name = s.get("name", section)
    verdict = s.get("verdict", "?")
    if "claims" not in s or s.get("rules", 1) < RULES:
        # Judged under an earlier edition of the verdict rules (docs/method.md#verdict-rules): say so
        # rather than let an old verdict stand beside the current ones.
        verdict += " (earlier rules; to be republished)"
    return (
        f"| {section} | {ref} | {one_line(paper)} | {ours} | {s.get('profile', '?')} | "
        f"{verdict} | {tally(s.get('claims') or [])} | [{name}/README.md]({name}/README.md) |"
    )
