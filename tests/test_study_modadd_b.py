"""Studies of §4.2–4.4 on modular addition: perturbation, manual_construction, gradient_signal,
convergence_ablation — end to end on their smoke profiles, and the section of a run too broken to judge.
Their claims on constructed trials whose answer is known: tests/test_study_<name>.py."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from smoke_reports import run_smoke

from cinit_tf.reporting.generate import generate_report
from cinit_tf.trial import StoredTrial

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
STUDIES = ("gradient_signal", "convergence_ablation", "perturbation", "manual_construction")
FIGURES = {
    "gradient_signal": {
        "delta_step4_distribution.png",
        "survival_rate_vs_delta.png",
        "signal_delta_plane.png",
    },
    "convergence_ablation": {"convergence_steps.png", "convergence_pairs.png"},
    "perturbation": {"survival_vs_deviation.png", "final_share_vs_deviation.png"},
    "manual_construction": {"survival_vs_r.png", "revivals_vs_r.png"},
}


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    return run_smoke(STUDIES, tmp_path_factory.mktemp("modadd_b"))


def read_report(root: Path, name: str) -> tuple[str, dict]:
    return (root / name / "README.md").read_text(), json.loads(
        (root / name / "summary.json").read_text()
    )


@pytest.mark.parametrize("name", STUDIES)
def test_smoke_report_has_every_figure_and_section(smoke_runs, name):
    text, summary = read_report(smoke_runs, name)
    shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text))
    assert shown == FIGURES[name]
    for fig in shown:
        assert (
            smoke_runs / name / fig
        ).stat().st_size > 5000  # a drawn figure, not an empty canvas
    for heading in (
        "## What the paper claims",
        "## What we ran",
        "## Deviations and choices",
        "## What we saw",
        "## Verdict",
    ):
        assert heading in text
    # The rule is printed before the verdict it decides, and the deviations name the reduced scale.
    assert text.index("Rule:") < text.index("Verdict: **")
    assert "train.steps" in text and "30000 in the paper" in text
    assert summary["verdict"] in ("reproduced", "partly", "not reproduced", "not assessable")
    assert summary["profile"] == "smoke"


@pytest.mark.parametrize("name", STUDIES)
def test_smoke_report_is_deterministic(smoke_runs, name, tmp_path):
    again = generate_report(smoke_runs / name, tmp_path)
    assert (again / "README.md").read_bytes() == (smoke_runs / name / "README.md").read_bytes()
    assert (again / "summary.json").read_bytes() == (
        smoke_runs / name / "summary.json"
    ).read_bytes()


def test_smoke_gradient_signal_numbers(smoke_runs):
    text, summary = read_report(smoke_runs, "gradient_signal")
    s = summary["summary"]
    assert s["samples"] == 4 * 15  # 4 trials x floor((31 - 1) / 2) frequencies
    assert 0 < s["survivors"] < s["samples"]
    both = s["svm"]["signal + Δ₄"]
    for key in ("cv_accuracy", "train_accuracy"):
        assert 0.0 <= both["plain"][key] <= 1.0
    assert 0.0 <= both["balanced"]["cv_balanced_accuracy"] <= 1.0
    assert s["majority_baseline"] == pytest.approx(
        max(s["survivors"], s["samples"] - s["survivors"]) / s["samples"]
    )
    assert [row["step"] for row in s["per_step"]] == [1, 2, 3, 4]
    assert "83.8%" in text and "majority baseline" in text


def test_smoke_convergence_ablation_numbers(smoke_runs):
    _, summary = read_report(smoke_runs, "convergence_ablation")
    s = summary["summary"]
    paired = s["paired"]
    assert paired["pairs"] == 3
    assert (
        paired["both_converged"]
        + paired["only_original_converged"]
        + paired["only_ablated_converged"]
        + paired["neither_converged"]
    ) == 3
    for arm in ("original", "ablated"):
        a = s["arms"][arm]
        assert a["n"] == 3 and 0 <= a["never"] <= 3
        assert a["never_fraction"] == pytest.approx(a["never"] / 3)
    # The ablation keeps fewer frequencies than the K = 15 of the drawn embedding.
    assert s["arms"]["original"]["kept"]["mean"] == 15
    assert 1 <= s["arms"]["ablated"]["kept"]["mean"] < 15


def test_smoke_perturbation_numbers(smoke_runs):
    _, summary = read_report(smoke_runs, "perturbation")
    s = summary["summary"]
    assert s["frequency_check"]["checked"] == 2 and s["frequency_check"]["agree"] == 2
    bins = s["bins"]["0.05"]
    assert sum(b["n"] for b in bins) == 8
    # s = 0 removes the frequency (z far below); s = 2 quadruples it (far above, at d = 32).
    assert bins[0]["n"] == 4 and bins[-1]["n"] == 4
    assert len(s["lines"]) == 2


def test_smoke_manual_construction_numbers(smoke_runs):
    _, summary = read_report(smoke_runs, "manual_construction")
    s = summary["summary"]
    assert s["frequency_check"]["checked"] == 6 and s["frequency_check"]["agree"] == 6
    rows = s["per_r"]["0.05"]
    assert [row["r"] for row in rows] == [0.0, 1.0] and all(row["n"] == 3 for row in rows)
    assert 0.0 <= s["any_revival"] <= 1.0


# ---------------------------------------------------------------- the section of a run that cannot be judged


def _diverged(i, case=""):
    from types import SimpleNamespace

    nan = np.full(2, np.nan)
    result = SimpleNamespace(
        steps=np.array([0, 100]),
        train_loss=nan,
        test_loss=nan,
        train_acc=nan,
        test_acc=nan,
        fourier_norms=np.full((2, 3), np.nan),
        initial_embedding=np.zeros((7, 2)),
        final_embedding=np.full((7, 2), np.nan),
        convergence_step=None,
        nonfinite_step=50,
        gradient_norms=None,
    )
    settings = {
        "case": case,
        "grid": {},
        "task": {"name": "modadd", "p": 7},
        "transform": {"name": "fourier_scale", "k": 1, "s": 2.0},
        "train": {
            "steps": 100,
            "d": 2,
            "lr": 1e6,
            "weight_decay": 0.0,
            "log_every": 100,
            "first_steps": 10,
        },
        "seeds": {"embedding": i, "mlp": i, "split": i},
        "index": {"embedding": i, "trial": 0},
    }
    return StoredTrial(id=f"{i:016x}{case}", settings=settings, result=result, chosen={"k": 1})


@pytest.mark.parametrize("name", STUDIES)
def test_every_trial_diverged_is_not_assessable(tmp_path, name):
    from cinit_tf.studies import analyse, study

    module = study(name)
    cases = ("original", "ablated") if name == "convergence_ablation" else ("",)
    trials = [_diverged(i, case) for case in cases for i in range(6)]
    record = {
        "name": name,
        "study": name,
        "profile": "test",
        "overrides": [],
        "analysis": {},
        "trial_ids": [t.id for t in trials],
    }
    section = analyse(module, record, trials, tmp_path)
    assert section.verdict == "not assessable" and [c.name for c in section.claims] == list(
        module.CLAIM_NAMES
    )
    assert all(c.verdict == "not assessable" for c in section.claims)
    assert f"{len(trials)} of {len(trials)} trials excluded" in section.excluded[0]
    assert (
        section.our_number == f"not assessable: 0 of {len(trials)} trials valid"
        and not section.figures
    )
    assert not list(tmp_path.iterdir())  # no figure drawn from nothing
