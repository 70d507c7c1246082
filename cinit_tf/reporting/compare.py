"""A rerun checked against a published report, claim by claim.

    python -m cinit_tf.report --compare PUBLISHED RERUN

Each side is a report folder (`reports/<name>/`, holding summary.json), a run folder (`runs/<name>/`,
whose report is generated into a temporary folder first), or a folder of reports (`reports/`, every
section in it). One line per claim: both verdicts, both numbers with their 95% intervals where the claim
has them, and whether each number lies in the other's interval. Training a model for thousands of steps
amplifies the last bit of a float sum, so a rerun on another CPU or other library versions gives other
numbers; what should agree is the verdicts, and the numbers within their intervals.

Exit status: 0 when every claim is on both sides with the same verdict, 1 when a verdict differs or a
claim is missing on one side, 2 on anything that cannot be compared: a folder that is none of these,
unreadable JSON, a claim that is not an object with a non-empty string `name` and one of the verdicts, a
claim name repeated, a `value` or `ci` that is not a number, a report without claims, two sides with no
section in common, or one section name standing for two different studies. Keys compare does not read are
free.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cinit_tf.reporting.folders import ReportError
from cinit_tf.reporting.generate import generate_report
from cinit_tf.stats.claims import VERDICTS


class CompareError(Exception):
    """A side that cannot be read as reports; the message names the folder and what is wrong."""


def _summary(path: Path) -> dict:
    """summary.json read and checked: what compare reads is there and of its type; other keys are free."""
    if not path.is_file():
        raise CompareError(f"{path}: not a regular file (expected a report's summary.json)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise CompareError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list) or "name" not in data:
        raise CompareError(
            f"{path}: not a report summary (expected an object with 'name' and a 'claims' list)"
        )
    for key in ("name", "study"):
        if key in data and not (isinstance(data[key], str) and data[key]):
            raise CompareError(f"{path}: {key!r} is {data[key]!r:.60}; expected a non-empty string")
    if not data["claims"]:
        raise CompareError(
            f"{path}: 'claims' is empty; a report without claims has nothing to compare"
        )
    seen = set()
    for i, c in enumerate(data["claims"]):
        _check_claim(path, i, c)
        if c["name"] in seen:
            raise CompareError(
                f"{path}: claims[{i}]: name {c['name']!r} repeats an earlier claim's; "
                "each claim is compared by its name, so names must be unique"
            )
        seen.add(c["name"])
    return data


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_claim(path: Path, i: int, c) -> None:
    """A claim needs a name and one of the verdicts; its value and ci, where given, are numbers or null."""

    where = f"{path}: claims[{i}]"
    if not isinstance(c, dict):
        raise CompareError(
            f"{where}: expected an object with 'name' and 'verdict', "
            f"got {type(c).__name__} {c!r:.60}"
        )
    for key in ("name", "verdict"):
        if key not in c:
            raise CompareError(f"{where}: missing key {key!r} (a claim needs 'name' and 'verdict')")
    if not (isinstance(c["name"], str) and c["name"]):
        raise CompareError(f"{where}: name is {c['name']!r:.60}; expected a non-empty string")
    if not (isinstance(c["verdict"], str) and c["verdict"] in VERDICTS):
        raise CompareError(
            f"{where} ({c['name']!r}): verdict {c['verdict']!r:.60} is not one of "
            f"{', '.join(VERDICTS)}"
        )
    value = c.get("value")
    if value is not None and not _is_number(value):
        raise CompareError(f"{where} ({c['name']!r}): value {value!r:.60} is not a number or null")
    ci = c.get("ci")
    pair = isinstance(ci, list) and len(ci) == 2 and all(x is None or _is_number(x) for x in ci)
    if ci is not None and not pair:
        raise CompareError(
            f"{where} ({c['name']!r}): ci {ci!r:.60} is not null or a list of two numbers"
        )


def sections(side: str | Path) -> dict[str, dict]:
    """{section name: summary.json contents} of a report folder, a run folder or a folder of reports."""
    side = Path(side)
    if not side.is_dir():
        raise CompareError(
            f"{side}: no such folder (expected a report folder, a run folder or a folder of reports)"
        )
    if (side / "summary.json").is_file():
        s = _summary(side / "summary.json")
        return {s["name"]: s}
    if (side / "config.json").is_file():
        with tempfile.TemporaryDirectory(prefix="cinit-compare-") as tmp:
            try:
                out = generate_report(side, tmp)
            except ReportError as e:
                raise CompareError(str(e)) from None
            s = _summary(out / "summary.json")
        return {s["name"]: s}
    found, where = {}, {}
    for path in sorted(side.glob("*/summary.json")):
        s = _summary(path)
        if s["name"] in found:
            raise CompareError(
                f"{side}: {where[s['name']]} and {path} are both section {s['name']!r}; "
                "a folder of reports holds each section once"
            )
        found[s["name"]], where[s["name"]] = s, path
    if not found:
        raise CompareError(
            f"{side}: holds no summary.json, config.json or */summary.json; not a report, run or reports folder"
        )
    return found


@dataclass
class Row:
    section: str
    claim: str
    published: dict | None  # the claim as summary.json holds it, None when missing on that side
    rerun: dict | None

    @property
    def agrees(self) -> bool:
        return (
            self.published is not None
            and self.rerun is not None
            and self.published["verdict"] == self.rerun["verdict"]
        )


def _former_names(section: dict | None) -> dict:
    """{claim name: its former name} that the section's study declares (`Declaration.former_names`)."""
    from cinit_tf.studies import declaration

    try:
        return dict(declaration(str((section or {}).get("study"))).former_names)
    except KeyError:  # a study this version does not have
        return {}


def rows(published: dict[str, dict], rerun: dict[str, dict]) -> list[Row]:
    """One row per claim of every section on either side, in the published order, then the rerun's extra ones;
    a claim the study renamed is paired with its former name's."""
    out = []
    for name in list(published) + [n for n in rerun if n not in published]:
        a = {c["name"]: c for c in (published.get(name) or {}).get("claims", [])}
        b = {c["name"]: c for c in (rerun.get(name) or {}).get("claims", [])}
        former = {
            new: old
            for new, old in _former_names(rerun.get(name) or published.get(name)).items()
            if new in b and new not in a and old in a and old not in b
        }
        renamed = {old: new for new, old in former.items()}
        for claim in list(a) + [c for c in b if c not in a and c not in former]:
            out.append(
                Row(name, renamed.get(claim, claim), a.get(claim), b.get(renamed.get(claim, claim)))
            )
    return out


def _number(c: dict | None) -> tuple[float | None, list | None]:
    if c is None:
        return None, None
    value, ci = c.get("value"), c.get("ci")
    value = float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
    ok = (
        isinstance(ci, list)
        and len(ci) == 2
        and all(isinstance(x, (int, float)) and math.isfinite(x) for x in ci)
    )
    return value, (ci if ok else None)


def _shown(value, ci) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" + (f" [{ci[0]:.3g}, {ci[1]:.3g}]" if ci else "")


def _inside(value, ci) -> str:
    if value is None or ci is None:
        return "n/a"
    return "yes" if ci[0] <= value <= ci[1] else "no"


def _field(c: dict | None, key: str):
    value = None if c is None else c.get(key)
    return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


def _verdict(c: dict | None) -> str:
    if c is None:
        return "missing"
    reason = _field(c, "reason")
    return c["verdict"] + (f", {str(reason).replace('_', ' ')}" if reason else "")


def line(row: Row) -> str:
    """`section: claim: verdicts (with their reason codes); numbers; each within the other's interval; margins`."""
    va, ca = _number(row.published)
    vb, cb = _number(row.rerun)
    mark = "same" if row.agrees else "DIFFERS"
    numbers = ""
    if va is not None or vb is not None:
        numbers = (
            f"; published {_shown(va, ca)}, rerun {_shown(vb, cb)}; rerun in published CI: {_inside(vb, ca)}, "
            f"published in rerun CI: {_inside(va, cb)}"
        )
    ma, mb = _field(row.published, "margin"), _field(row.rerun, "margin")
    if (
        ma is not None
        and mb is not None
        and not math.isclose(float(ma), float(mb), rel_tol=1e-9, abs_tol=0.0)
    ):
        numbers += f"; margins differ ({ma:.3g} / {mb:.3g}): the rule or its scale changed"
    elif (ma is None) != (mb is None) and row.published is not None and row.rerun is not None:
        numbers += "; a margin on one side only: judged under different rules"
    return f"{row.section}: {row.claim}: {mark} ({_verdict(row.published)} / {_verdict(row.rerun)}){numbers}"


def comparable(
    published: dict[str, dict], rerun: dict[str, dict], names=("published", "rerun")
) -> None:
    """CompareError unless the two sides share a section and each shared section is the same study on both."""
    common = [n for n in published if n in rerun]
    if not common:
        raise CompareError(
            f"no section in common: {names[0]} holds {', '.join(sorted(published))}, "
            f"{names[1]} holds {', '.join(sorted(rerun))}; "
            "compare a report with a rerun of the same section"
        )
    for n in common:
        a, b = published[n].get("study"), rerun[n].get("study")
        if a is not None and b is not None and a != b:
            raise CompareError(
                f"section {n!r} is study {a!r} in {names[0]} but study {b!r} in {names[1]}; "
                "compare a report with a rerun of the same study"
            )


def compare(published: str | Path, rerun: str | Path) -> tuple[list[str], int]:
    """(the lines to print, exit status 0 or 1); CompareError on bad input."""
    a, b = sections(published), sections(rerun)
    comparable(a, b, (str(published), str(rerun)))
    rs = rows(a, b)
    lines = [line(r) for r in rs]
    differ = sum(not r.agrees for r in rs)
    lines.append(
        f"{len(rs)} claims: {len(rs) - differ} agree, {differ} differ or are missing on one side"
    )
    return lines, (1 if differ else 0)
