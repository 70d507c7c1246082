"""The freeze_embedding experiment end to end at the smoke profile: TOML → trials → report."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cinit_tf.studies import _common as C

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = ROOT / "experiments" / "freeze_embedding.toml"


def fake(loss):
    """Just enough of a StoredTrial for the dip test: a final test loss."""
    return SimpleNamespace(result=SimpleNamespace(test_loss=np.array([5.0, loss]), test_acc=np.array([0.0, 1.0])))


@pytest.mark.parametrize("at, below, above, shape", [
    ([1.0, 1.1, 0.9], [3.0, 3.1, 2.9], [2.0, 2.1, 1.9], "dip"),
    ([4.0, 4.1, 3.9], [3.0, 3.1, 2.9], [2.0, 2.1, 1.9], "bump"),
    ([2.5, 2.6, 2.4], [3.0, 3.1, 2.9], [2.0, 2.1, 1.9], "step"),
    ([1.0, 1.1, 0.9], [3.0, 3.1, 2.9], [0.0, 3.0, 1.5], "lower than d = 56 only"),
    ([1.0, 2.0, 3.0], [1.5, 2.5, 3.5], [0.5, 1.5, 2.5], "not resolved from seed noise"),
])
def test_dip_test_tells_dip_from_bump_from_noise(at, below, above, shape):
    from cinit_tf.studies.freeze_embedding import dip_test

    frozen = {40: [fake(5.0)] * 3, 56: [fake(v) for v in below], 59: [fake(v) for v in at], 62: [fake(v) for v in above]}
    out = dip_test(frozen, 59)
    assert (out["below"], out["above"]) == (56, 62)
    assert out["shape"] == shape
    assert out["dip"] == (shape == "dip")
    assert out["at"]["mean"] == pytest.approx(np.mean(at))


def test_dip_test_needs_p_and_both_sides():
    from cinit_tf.studies.freeze_embedding import dip_test

    assert dip_test({56: [fake(1.0)], 62: [fake(1.0)]}, 59) is None
    assert dip_test({59: [fake(1.0)], 62: [fake(1.0)]}, 59) is None


def test_every_profile_loads_with_the_grid_the_study_needs():
    config = pytest.importorskip("cinit_tf.config")
    for profile in ("smoke", "cpu", "paper"):
        experiment = config.load_experiment(EXPERIMENT, profile=profile)
        plans = experiment.trials()
        cases = {}
        for plan in plans:
            s = plan.settings
            cases.setdefault(s["case"], set()).add((s["train"]["d"], s["train"]["freeze_embedding"]))
        assert sorted(cases) == ["modadd", "remainder", "xor"], profile
        for label, points in cases.items():
            task = next(p.settings["task"] for p in plans if p.settings["case"] == label)
            p = task.get("p") or 2 ** task["bits"]
            ds = {d for d, _ in points}
            # Each d is run both frozen and trained; the grid spans d below, at and above p.
            assert points == {(d, f) for d in ds for f in (True, False)}, (profile, label)
            assert min(ds) < p < max(ds) and p in ds, (profile, label)
        if profile != "smoke":
            assert experiment.resolved["seeds"]["count"] >= 3
            modadd = sorted({d for d, _ in cases["modadd"]})
            i = modadd.index(59)
            # A fine grid around d = p: neighbours within a few dimensions on either side.
            assert 59 - modadd[i - 1] <= 6 and modadd[i + 1] - 59 <= 6, profile


def test_smoke_run_end_to_end(tmp_path):
    pytest.importorskip("cinit_tf.config")
    from cinit_tf.run import main

    out, reports = tmp_path / "runs", tmp_path / "reports"
    assert main([str(EXPERIMENT), "--profile", "smoke", "--out", str(out), "--reports", str(reports), "--quiet"]) == 0
    folder = reports / "freeze_embedding"
    readme = (folder / "README.md").read_text()
    summary = json.loads((folder / "summary.json").read_text())

    figures = re.findall(r"\]\(([^)]+\.png)\)", readme)
    assert {"test_loss_curves.png", "final_test_loss_vs_d.png", "modadd_around_p.png"} <= set(figures)
    for name in figures:
        assert (folder / name).stat().st_size > 10_000, name
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(figures)

    assert summary["profile"] == "smoke" and summary["trials"] == summary["planned"] > 0
    assert summary["verdict"] in ("reproduced", "partly", "not reproduced")
    assert f"Verdict: **{summary['verdict']}**." in readme
    # Every number of the summary's per-point table is in the README as printed.
    for label, case in summary["summary"]["cases"].items():
        for arm in ("frozen", "trained"):
            for d, point in case[arm].items():
                text = f"{C.fmt(point['mean'])} ± {C.fmt(point['std'])} (n = {point['n']})"
                assert text in readme, (label, arm, d, text)
        rho = case["spearman_frozen"]
        assert f"ρ = {C.fmt(rho['rho'])}" in readme
    dip = summary["summary"]["cases"]["modadd"]["dip"]
    assert (dip["below"], dip["p"], dip["above"]) == (32, 59, 128)
    assert f"**{dip['shape']}**" in readme

    # The stored trials agree with the report: recompute one point's mean from the run folder.
    from cinit_tf.store import Store

    trials = Store(out / "freeze_embedding").trials()
    losses = [float(t.result.test_loss[-1]) for t in trials
              if t.settings["case"] == "modadd" and t.settings["train"]["d"] == 59 and t.settings["train"]["freeze_embedding"]]
    assert dip["at"]["mean"] == pytest.approx(np.mean(losses), rel=1e-12)

    # Regenerating the report from the same run folder gives the same bytes.
    from cinit_tf.report import generate_report

    before = readme.encode()
    generate_report(out / "freeze_embedding", reports)
    assert (folder / "README.md").read_bytes() == before
    assert "freeze_embedding/README.md" in (reports / "README.md").read_text()
