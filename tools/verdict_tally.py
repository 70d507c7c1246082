"""The index's tally of claim verdicts, and what changed when the reports were last regenerated.

    python tools/verdict_tally.py [reports]

Reads every reports/*/summary.json: per verdict, how many claims have it now, and how many had it
before their last change (a claim's `previous_verdict`, else its verdict); then one line per claim
whose verdict changed, old → new, with the rule's reason code; one line per claim not assessable,
with the n it has and the n its rule says would decide it against the margin (`needs_n`); and the
reports still judged under an earlier edition of the rules.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

ORDER = ("reproduced", "partly", "not reproduced", "not assessable")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "reports")
    from cinit_tf.writeup.section import RULES

    now, before, changes, earlier = collections.Counter(), collections.Counter(), [], []
    undecided = []
    for path in sorted(root.glob("*/summary.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        if summary.get("rules", 1) < RULES:
            earlier.append(summary.get("name", path.parent.name))
        for c in summary.get("claims") or []:
            verdict, old = c.get("verdict"), c.get("previous_verdict") or c.get("verdict")
            now[verdict] += 1
            before[old] += 1
            if verdict == "not assessable":
                needs = c.get("needs_n")
                undecided.append(
                    f"{summary.get('name')}: {c.get('name')}: n = {c.get('n')}, "
                    + (f"needs n ≈ {needs:,}" if needs else "no n given")
                    + f" ({c.get('reason', '?')})"
                )
            if old != verdict:
                changes.append(
                    f"{summary.get('name')}: {c.get('name')}: {old} → {verdict} ({c.get('reason', '?')})"
                )
    print("verdict          before  now")
    for v in ORDER:
        print(f"{v:<16} {before[v]:>6}  {now[v]:>3}")
    print(f"{len(changes)} claims changed:")
    for line in changes:
        print("  " + line)
    print(f"{len(undecided)} claims not assessable:")
    for line in undecided:
        print("  " + line)
    if earlier:
        print(
            f"judged under an earlier edition of the rules (to be republished): {', '.join(earlier)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
