"""Every study declares its paper section; studies share code only through helper modules; reading
results needs no TensorFlow."""

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cinit_tf.settings import schema_fields
from cinit_tf.stats.claims import Margin
from cinit_tf.studies import declaration, declarations, study, study_names
from cinit_tf.writeup.section import Declaration

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ROOT / "cinit_tf" / "studies"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute, including `from cinit_tf.studies import x` as cinit_tf.studies.x."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the studies package
                base = ".".join(
                    ["cinit_tf", "studies"][: 3 - node.level] + ([base] if base else [])
                )
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def test_no_study_imports_another_study():
    names = set(study_names())
    assert len(names) >= 10
    for path in sorted(STUDIES.glob("*.py")):
        own = path.stem
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[:2] == ["cinit_tf", "studies"] and len(parts) > 2:
                assert parts[2] not in names or parts[2] == own, (
                    f"{path.name} imports the study {parts[2]}"
                )


def test_the_import_check_sees_a_sibling_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from cinit_tf.studies.gradient_signal import settled\nfrom cinit_tf.studies import perturbation\n"
        "from cinit_tf.measures import survival\n"
    )
    found = imported_modules(bad)
    assert {
        "cinit_tf.studies.gradient_signal",
        "cinit_tf.studies.perturbation",
        "cinit_tf.measures.survival",
    } <= found


def test_report_and_studies_import_no_tensorflow():
    code = (
        "import sys\nimport cinit_tf.report\nfrom cinit_tf.studies import study, study_names\n"
        "[study(n) for n in study_names()]\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))[:3])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("name", study_names())
def test_every_study_declares_its_section(name):
    d = declaration(name)
    assert isinstance(d, Declaration)
    for text in (d.paper_ref, d.title, d.claim, d.paper_number, d.verdict_rule):
        assert isinstance(text, str) and text.strip() and "\n" not in text
    assert "reproduced" in d.verdict_rule  # the rule says what decides the verdict
    for text in (
        d.claim,
        d.paper_number,
        d.verdict_rule,
    ):  # no placeholder left unfilled by a missing f-prefix
        assert not re.search(r"\{(?:[A-Z_][A-Z_0-9]*|\w+\.[\w.]+)(?::[^}]*)?\}", text), (
            name,
            text,
        )  # {NAME}, {ALPHA:g}
    module = study(name)
    assert (
        callable(module.measure) and callable(module.write) and not hasattr(module, "analyse")
    )  # two halves
    if d.analysis is not None:
        assert dataclasses.is_dataclass(d.analysis) and d.analysis.__dataclass_params__.frozen
        fields = schema_fields(d.analysis)
        assert set(fields) == {
            f.name for f in dataclasses.fields(d.analysis)
        }  # every key has a value rule
        defaults = d.analysis()
        for key, (default, rule) in fields.items():
            assert rule.check(default) == default == getattr(defaults, key), (name, key)


def test_declarations_are_in_the_papers_order():
    from cinit_tf.writeup.section import paper_key

    declared = declarations()
    keys = [paper_key(d.paper_ref) for d in declared.values()]
    assert len(set(keys)) == len(keys)  # no two sections at one place of the paper
    assert list(declared)[:2] == ["remainder_rank", "xor_rank"]
    names = list(declared)
    assert names.index("complex_dynamics") > names.index("freeze_embedding")  # App. F after §5
    assert names.index("fourier_gradients") == len(names) - 1  # App. H, the last


def test_every_margin_quotes_the_paper_in_its_rule_and_in_the_method():
    """A margin's source quotes the paper; that passage is in docs/method.md's table and in the study's rule."""
    import importlib
    import re
    from pathlib import Path

    method = (
        Path(__file__)
        .resolve()
        .parent.parent.joinpath("docs", "method.md")
        .read_text(encoding="utf-8")
    )
    found = 0
    for name in study_names():
        module = importlib.import_module(f"cinit_tf.studies.{name}")
        for key, value in vars(module).items():
            if isinstance(value, Margin):
                source = value.source
            elif key.endswith("_SOURCE") and isinstance(value, str):
                source = value
            else:
                continue
            quotes = re.findall(r'"([^"]+)"', source)
            assert quotes, f"{name}.{key} quotes no passage of the paper: {source!r}"
            assert quotes[0] in method, (
                f"{name}.{key}: {quotes[0]!r} is not quoted in docs/method.md"
            )
            rule = module.DECLARATION.verdict_rule
            assert quotes[0] in rule, f"{name}.{key}: {quotes[0]!r} is not in its rule"
            found += 1
    assert found >= 25
