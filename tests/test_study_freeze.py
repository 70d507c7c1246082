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


_ids = iter(range(10**9))


def fake(loss, d=59, frozen=True, task=None, curve=None):
    """Shaped like a StoredTrial: a test-loss curve over steps 0, 750, 1000 ending at `loss` (flat over its last quarter
    unless `curve` says otherwise), finite unless the loss is not."""
    test_loss = np.array(curve if curve is not None else [5.0, loss, loss], dtype=float)
    finite = bool(np.all(np.isfinite(test_loss)))
    task = task or {"name": "modadd", "p": 59}
    return SimpleNamespace(
        id=f"{next(_ids):016x}",
        settings={"case": task["name"], "grid": {}, "task": task, "seeds": {"embedding": 0, "mlp": 0, "split": 0},
                  "train": {"d": d, "freeze_embedding": frozen, "steps": 1000, "weight_decay": 0.5}},
        result=SimpleNamespace(steps=np.array([0, 750, 1000]), test_loss=test_loss, test_acc=np.array([0.0, 0.5, 1.0]),
                               nonfinite_step=None if finite else 1000, convergence_step=None, final_embedding=None))


@pytest.mark.parametrize("at, below, above, shape", [
    ([1.0, 1.1, 0.9], [3.0, 3.1, 2.9], [2.0, 2.1, 1.9], "dip"),
    ([4.0, 4.1, 3.9], [3.0, 3.1, 2.9], [2.0, 2.1, 1.9], "bump"),
    ([2.5, 2.6, 2.4], [3.0, 3.1, 2.9], [2.0, 2.1, 1.9], "step"),
    ([1.0, 1.1, 0.9], [3.0, 3.1, 2.9], [0.5, 3.0, 1.5], "lower than d = 56 only"),
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
        tasks = {}
        for plan in experiment.trials():
            s = plan.settings
            point = tasks.setdefault(s["task"]["name"], {"p": s["task"].get("p") or 2 ** s["task"]["bits"], "frozen": {}, "trained": {}})
            arm = point["frozen" if s["train"]["freeze_embedding"] else "trained"]
            arm[s["train"]["d"]] = arm.get(s["train"]["d"], 0) + 1
        assert sorted(tasks) == ["modadd", "remainder", "xor"], profile
        for name, t in tasks.items():
            ds = sorted(t["frozen"])
            # The frozen grid spans d below, at and above p; a trained reference exists.
            assert min(ds) < t["p"] < max(ds) and t["p"] in ds, (profile, name)
            assert t["trained"], (profile, name)
        if profile != "smoke":
            modadd = tasks["modadd"]["frozen"]
            ds = sorted(modadd)
            i = ds.index(59)
            # A dense grid around d = p with at least 12 seeds at p and at its neighbours.
            assert 59 - ds[i - 1] <= 2 and ds[i + 1] - 59 <= 2, profile
            assert min(modadd[d] for d in ds[i - 1 : i + 2]) >= 12, profile


def _case(loss_of, task=None, ds=(16, 32, 57, 59, 61, 128), seeds=4, curve=None):
    from cinit_tf.studies.freeze_embedding import analyse_case

    task = task or {"name": "modadd", "p": 59}
    trials = [fake(loss_of(d, s), d=d, task=task, curve=None if curve is None else curve(loss_of(d, s)))
              for d in ds for s in range(seeds)]
    return analyse_case(task["name"], trials)


NOISE = (0.9, 1.0, 1.1, 1.05)


@pytest.mark.parametrize("factor, verdict", [
    (0.3, "reproduced"),       # a clear dip at d = p
    (0.999, "partly"),         # a dip of 0.1% in seed noise of ±10%: the sign holds, not significant
    (3.0, "not reproduced"),   # a bump
])
def test_dip_claim_known_answers(factor, verdict):
    from cinit_tf.studies.freeze_embedding import dip_claim

    c = _case(lambda d, s: 10.0 / d * NOISE[s] * (factor if d == 59 else 1.0))
    assert dip_claim(c).verdict == verdict


def test_dip_claim_is_not_assessable_while_the_curves_still_fall():
    from cinit_tf.studies.freeze_embedding import dip_claim

    c = _case(lambda d, s: 10.0 / d * NOISE[s] * (0.3 if d == 59 else 1.0), curve=lambda v: [5.0, 3 * v, v])
    claim = dip_claim(c)
    assert claim.verdict == "not assessable" and "not flattened" in claim.detail


def test_falls_claim_known_answers_and_a_hidden_rise():
    from cinit_tf.studies.freeze_embedding import falls_claim

    xor = {"name": "xor", "bits": 3}
    ds = (1, 2, 4, 8, 16, 32)
    assert falls_claim(_case(lambda d, s: 10.0 / d * NOISE[s], task=xor, ds=ds)).verdict == "reproduced"
    assert falls_claim(_case(lambda d, s: d * NOISE[s], task=xor, ds=ds)).verdict == "not reproduced"
    # Falling overall (ρ < 0 at p < 0.01) but rising from d = 1 to d = 4: a rank correlation alone would say reproduced.
    bumpy = {1: 5.0, 2: 8.0, 4: 12.0, 8: 1.0, 16: 0.5, 32: 0.1}
    claim = falls_claim(_case(lambda d, s: bumpy[d] * NOISE[s], task=xor, ds=ds))
    assert claim.verdict == "partly" and "rises significantly" in claim.detail
    # The rise out of modular addition's own dip does not count against the trend.
    dip = _case(lambda d, s: 10.0 / d * NOISE[s] * (0.3 if d == 59 else 1.0))
    assert falls_claim(dip).verdict == "reproduced"


def test_every_trial_diverged_is_not_assessable():
    from cinit_tf.studies.freeze_embedding import dip_claim, falls_claim

    c = _case(lambda d, s: float("nan"))
    assert falls_claim(c).verdict == "not assessable"
    assert dip_claim(c).verdict == "not assessable"
    assert c["valid_frozen"] == 0 and c["total_frozen"] == 24


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
    assert summary["verdict"] in ("reproduced", "partly", "not reproduced", "not assessable")
    assert f"Verdict: **{summary['verdict']}**" in readme
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
