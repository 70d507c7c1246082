"""The smoke profile of experiment files run through the command line's entry point, and a report
read back with its figures checked: the end-to-end fixture several study tests share."""

import json
import re
from pathlib import Path

from cinit_tf.run import main

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def run_smoke(names, root: Path, reports: Path | None = None) -> Path:
    """Run each experiment `names` at the smoke profile with runs in `root` and reports in `reports`
    (default: `root` too); returns root."""
    for name in names:
        argv = [str(EXPERIMENTS / f"{name}.toml"), "--profile", "smoke", "--out", str(root)]
        assert main([*argv, "--reports", str(reports or root), "--quiet"]) == 0, name
    return root


def read_report(root: Path, name: str) -> tuple[str, dict, set]:
    """(README text, summary.json, the PNG files present) of report `name`; every figure the README
    shows exists and is not empty."""
    folder = root / name
    readme = (folder / "README.md").read_text()
    summary = json.loads((folder / "summary.json").read_text())
    for png in re.findall(r"\]\(([^)]+\.png)\)", readme):
        assert (folder / png).stat().st_size > 1000, png
    return readme, summary, {p.name for p in folder.glob("*.png")}
