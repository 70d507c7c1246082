"""Declared paper runtimes agree with the ones computed from each file's model-steps and measured cpu rate."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import cost  # noqa: E402

FILES = sorted(str(p) for p in (ROOT / "experiments").glob("*.toml"))


def test_every_declared_paper_runtime_is_the_computed_one(capsys):
    assert FILES
    assert cost.check(FILES) == 0, capsys.readouterr().out


def test_a_paper_runtime_far_from_the_computed_one_is_flagged(tmp_path, capsys):
    source = ROOT / "experiments" / "fourier_evolution.toml"
    text = source.read_text()
    changed, n = re.subn(r'paper = "[^"]*"', 'paper = "~1 s"', text)
    assert n == 1
    path = tmp_path / source.name
    path.write_text(changed)
    assert cost.runtime_check(path)["declared"] == 1
    assert cost.check([str(path)]) == 1
    assert "| NO |" in capsys.readouterr().out


def test_the_cost_table_in_the_cluster_notes_is_the_tools_output(capsys):
    assert cost.main(FILES) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    docs = [
        line
        for line in (ROOT / "docs" / "cluster.md").read_text().splitlines()
        if line.startswith("| ")
    ]
    assert docs == [line for line in table if line.startswith("| ")]


def test_a_file_whose_cpu_runs_stop_when_settled_bounds_its_paper_runtime_from_below(
    tmp_path, capsys
):
    """Its caps overcount what it trained: a declared runtime above the computed one passes, one far below fails."""
    source = ROOT / "experiments" / "circles_vs_size.toml"
    text = source.read_text()
    check = cost.runtime_check(source)
    assert check["lower_bound"] is True
    for declared, ok in (
        (f"~{10 * check['computed'] / 3600:.0f} h", True),
        (f"~{check['computed'] / 3600 / 4:.1f} h", False),
    ):
        path = tmp_path / source.name
        path.write_text(re.sub(r'paper = "[^"]*"', f'paper = "{declared}"', text, count=1))
        assert cost.runtime_check(path)["ok"] is ok, declared
    fixed = cost.runtime_check(ROOT / "experiments" / "fourier_evolution.toml")
    assert fixed["lower_bound"] is False  # a fixed-length file keeps the two-sided check
