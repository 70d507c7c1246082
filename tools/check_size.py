"""The size limits the package holds itself to: no function over 80 lines, no module over 450.

    python tools/check_size.py [--functions 80] [--modules 450]

Prints every function and module past its limit (lines counted from `def` to the last line of its
body, decorators excluded) and exits 1 when there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "cinit_tf"


def oversized(root: Path = ROOT, max_function: int = 80, max_module: int = 450) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        rel = path.relative_to(root.parent)
        n = len(text.splitlines())
        if n > max_module:
            out.append(f"{rel}: module {n} lines (limit {max_module})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > max_function:
                    out.append(
                        f"{rel}:{node.lineno}: {node.name} {length} lines (limit {max_function})"
                    )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=80)
    ap.add_argument("--modules", type=int, default=450)
    a = ap.parse_args(argv)
    found = oversized(max_function=a.functions, max_module=a.modules)
    print("\n".join(found) if found else "every function and module within its limit")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
