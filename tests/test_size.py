"""The size limits hold on the formatted code: no module over 450 lines, no function over 80."""

import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "check_size.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("check_size", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_module_or_function_is_over_its_limit():
    assert load_tool().oversized() == []


def test_the_check_finds_a_long_function_and_a_long_module(tmp_path):
    pkg = tmp_path / "cinit_tf"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    (pkg / "long.py").write_text(f"def f():\n{body}\n" + "\n" * 400)
    found = load_tool().oversized(pkg)
    assert any("f 82 lines" in line for line in found), found
    assert any("module" in line for line in found), found
