"""The shape of the code: TensorFlow only in the engine, one way into training, a quiet console."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = {
    "cinit_tf.framework",
    "cinit_tf.losses",
    "cinit_tf.model",
    "cinit_tf.optimizer",
    "cinit_tf.training",
}  # the only modules that may import TensorFlow


def _python(code: str, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_reading_results_imports_no_tensorflow():
    """Config, planning, store, signals, read-offs, transforms, every study and the report generator."""
    out = _python(
        """
        import sys
        import cinit_tf.experiment.config, cinit_tf.experiment.plan, cinit_tf.store, cinit_tf.signals, cinit_tf.readout
        import cinit_tf.transforms, cinit_tf.report, cinit_tf.run, cinit_tf.runner, cinit_tf.framework
        from cinit_tf.studies import study_names, study
        for name in study_names():
            study(name)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print(len(study_names()), loaded[:3])
        """
    )
    assert out.returncode == 0, out.stderr
    count, loaded = out.stdout.split(" ", 1)
    assert int(count) >= 10
    assert loaded.strip() == "[]"


def imported_modules(node: ast.ImportFrom, module: str) -> list[str]:
    """Every module a `from X import a, b` may bind: X itself and X.a, X.b (a name may be a submodule), relative X resolved."""
    base = node.module or ""
    if node.level:
        package = module.split(".")[: -node.level]
        base = ".".join(package + ([base] if base else []))
    return [base] + [f"{base}.{a.name}" for a in node.names]


def test_the_import_check_sees_submodules_imported_by_name():
    forms = {
        "from cinit_tf import training": "cinit_tf.training",
        "from cinit_tf.training import train_population": "cinit_tf.training",
        "from . import training": "cinit_tf.training",
        "from .. import framework": "cinit_tf.framework",
    }
    for code, expected in forms.items():
        node = ast.parse(code).body[0]
        assert expected in imported_modules(
            node, "cinit_tf.studies.x" if code.startswith("from ..") else "cinit_tf.x"
        ), code


def test_only_the_engine_imports_tensorflow():
    """Source check: no module outside the engine names tensorflow or keras in an import."""
    for path in sorted((ROOT / "cinit_tf").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module in ENGINE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = imported_modules(node, module)
            for name in names:
                assert name.split(".")[0] not in ("tensorflow", "keras"), f"{module} imports {name}"
                assert name not in ENGINE or module in ("cinit_tf.run", "cinit_tf.runner"), (
                    f"{module} imports the engine ({name})"
                )


def test_runner_benchmark_and_tests_train_through_the_one_entry_point(tmp_path, monkeypatch):
    """Patch train_population and train_slots (the one loop over slots): every training happens inside the former."""
    from cinit_tf import training
    from cinit_tf.experiment.config import load_experiment
    from cinit_tf.runner import run_experiment
    from cinit_tf.tasks import make_task
    from cinit_tf.trial import TrainConfig, Trial

    sys.path.insert(0, str(ROOT / "tools"))
    import bench

    calls = {"entry": 0, "train_inside": 0, "train_outside": 0}
    inside = [False]
    real_entry, real_train = training.train_population, training.train_slots

    def entry(*args, **kwargs):
        calls["entry"] += 1
        inside[0] = True
        try:
            return real_entry(*args, **kwargs)
        finally:
            inside[0] = False

    def train(*args, **kwargs):
        calls["train_inside" if inside[0] else "train_outside"] += 1
        return real_train(*args, **kwargs)

    monkeypatch.setattr(training, "train_population", entry)
    monkeypatch.setattr(training, "train_slots", train)  # the one loop over slots (cinit_tf.slots)
    monkeypatch.setattr(
        bench, "train_population", entry
    )  # bench imported the name: patch its binding too

    experiment = load_experiment(ROOT / "experiments" / "xor_rank.toml", profile="smoke")
    run_experiment(
        experiment,
        out=tmp_path / "runs",
        reports=tmp_path / "reports",
        progress=False,
        make_report=False,
    )
    after_runner = dict(calls)
    assert after_runner["entry"] >= 1 and after_runner["train_inside"] >= 1

    bench.population(make_task("xor", bits=3), dict(d=8, weight_decay=3.0), members=4, seconds=0.05)
    assert calls["entry"] > after_runner["entry"]

    training.train_population(make_task("xor", bits=3), TrainConfig(steps=2, d=8), [Trial(0, 0, 0)])
    assert calls["train_outside"] == 0, calls


def test_bench_and_runner_name_no_private_engine_api():
    for path in [ROOT / "tools" / "bench.py", ROOT / "cinit_tf" / "run.py"]:
        text = path.read_text()
        for private in ("._run(", "._data", "._measure", "._learning_rate", "PopulationTrainer("):
            assert private not in text, f"{path.name} uses {private}"


@pytest.mark.parametrize("module", ["cinit_tf.run"])
def test_cli_prints_no_tensorflow_startup_lines(tmp_path, module):
    """A normal smoke run: no absl, oneDNN, CUDA or cuInit line on the console; --verbose keeps them possible."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            str(ROOT / "experiments" / "xor_rank.toml"),
            "--profile",
            "smoke",
            "--out",
            str(tmp_path / "runs"),
            "--reports",
            str(tmp_path / "reports"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    console = out.stdout + out.stderr
    for marker in (
        "absl",
        "oneDNN",
        "cuda",
        "cuInit",
        "I0000",
        "E0000",
        "W0000",
        "cpu_feature_guard",
        "tensorflow/",
    ):
        assert marker not in console, f"{marker!r} in console output:\n{console}"
    assert "xor_rank" in out.stdout
