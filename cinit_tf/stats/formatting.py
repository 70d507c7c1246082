"""How every report writes a number, a p-value, a mean with its spread and a table: one way each, so a
report regenerated from the same trials is byte-identical."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from cinit_tf.stats.inference import mean_std


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
    """ "m ± s (n = N)" over the finite values; non-finite ones are counted in the text, not hidden."""
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


def one_line(text: str) -> str:
    """Text for one cell of a Markdown table: one line, no column bars."""
    return " ".join(str(text).replace("|", "/").split())


def method(anchor: str) -> str:
    """A Markdown link from a report (reports/<name>/README.md) to a section of docs/method.md."""
    return f"[method](../../docs/method.md#{anchor})"
