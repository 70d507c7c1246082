"""App. G (winning_tickets): spikes and the time-averaged log loss on known curves, each claim's verdict on
constructed runs whose answer is known, and the experiment end to end on its smoke profile."""

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cinit_tf.studies import _verdicts as V
from cinit_tf.studies import winning_tickets as W

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
STEPS = np.arange(0, 2001, 20)


def curve(low: float, scale: float) -> np.ndarray:
    """A test loss falling a decade every `scale` steps from about 4 down to `low`, then flat."""
    return 10.0 ** np.maximum(math.log10(low), 0.61 - STEPS / scale)


def trial(case, seed, loss, circles=2, kept=(), nonfinite=False):
    """A stored trial as the runner writes it: its final Fourier norms give `circles` survivors out of 6."""
    final = np.array([1.0] * circles + [1e-4] * (6 - circles))
    norms = np.vstack([np.ones(6), final])
    result = SimpleNamespace(steps=STEPS, test_loss=np.asarray(loss, dtype=float), test_acc=np.ones(STEPS.size),
                             fourier_norms=norms, nonfinite_step=40 if nonfinite else None, convergence_step=100)
    settings = {"case": case, "seeds": {"embedding": seed, "mlp": seed, "split": seed},
                "task": {"name": "modadd", "p": 13}, "train": {"steps": int(STEPS[-1]), "log_every": 20}}
    return SimpleNamespace(id=f"{case}{seed:02d}", settings=settings, result=result,
                           chosen={"kept": list(kept)} if case != W.FULL else {})


def by_seed(trials):
    out = {}
    for t in trials:
        out.setdefault(t.settings["seeds"]["embedding"], {})[t.settings["case"]] = W.run_stats(t)
    return out


def verdicts(trials):
    return {c.name.split(" ")[0] + ("" if c.name[0] != "B" else "_" + c.name.split(" ")[1]): c.verdict
            for c in W.claims_of(by_seed(trials))}


def population(b_low=5e-7, b_scale=lambda s: 50 + s, c_scale=lambda s: 400 + s, a_circles=lambda s: 4,
               b_bad=lambda s: False, c_low=1e-2, n=16):
    out = []
    for s in range(n):
        out += [trial(W.FULL, s, curve(1e-5, 100 + s), circles=4),
                trial("A", s, curve(1e-1, 300), circles=a_circles(s), kept=[1]),
                trial("B", s, curve(b_low, b_scale(s)), circles=2, kept=[1, 2], nonfinite=b_bad(s)),
                trial("C", s, curve(c_low, c_scale(s)), circles=1, kept=[3]),
                trial("D", s, curve(c_low, c_scale(s) + 7), circles=2, kept=[3, 4])]
    return out


# ---------------------------------------------------------------- per run


def test_spikes_count_rises_above_ten_times_the_running_minimum_after_the_loss_first_falls_below_one():
    loss = [4.0, 11.0, 0.5, 1e-2, 1e-3, 2e-2, 3e-2, 1e-4, 8e-4, 1e-5, 1e-3, 1e-6]
    # 11 is the memorisation bump (before 0.5); 2e-2, 3e-2 is one spike (> 10 × 1e-3); 8e-4 is 8× 1e-4, not one;
    # 1e-3 is 100× 1e-5.
    assert W.count_spikes(loss) == 2
    assert W.count_spikes(loss, rise=5.0) == 3  # a looser rule would count the 8× rise too
    assert W.count_spikes([4.0, 3.0, 5.0, 2.0]) == 0  # never below 1: nothing counted


def test_mean_log_loss_is_the_time_average_of_log10_loss():
    assert W.mean_log_loss([0, 10, 20], [1.0, 0.1, 0.01]) == pytest.approx(-1.0)
    assert W.mean_log_loss([0, 10, 30], [1.0, 0.1, 0.1]) == pytest.approx((-5 - 20) / 30)
    assert W.mean_log_loss([0, 10], [1.0, 0.0]) == pytest.approx(-5.0)  # an exact 0 is floored at 1e-10


def test_run_stats_reads_levels_circles_and_revivals():
    s = W.run_stats(trial("A", 3, curve(1e-5, 100), circles=4, kept=[2]))
    assert s["lowest"] == pytest.approx(1e-5) and s["lowest_step"] == 580  # 0.61 − t/100 ≤ −5 first at t = 580
    assert s["to"] == {"0.01": 280.0, "0.0001": 480.0, "1e-06": s["to"]["1e-06"]} and math.isnan(s["to"]["1e-06"])
    assert s["circles"] == 4 and s["survivors"] == [1, 2, 3, 4] and s["revived"] == [1, 3, 4]
    assert W.censored_steps(s, 1e-6) == 2000.0  # never reached: counted at the budget


# ---------------------------------------------------------------- each claim's verdict, known answers


def test_every_claim_reproduced():
    v = verdicts(population())
    assert v == {"B_reaches": V.REPRODUCED, "B_faster": V.REPRODUCED, "C": V.REPRODUCED, "D": V.REPRODUCED,
                 "A": V.REPRODUCED}


def test_partly():
    # B at 2e-6: 20× above 1e-7, outside the declared factor 10 but below 1e-4.
    assert verdicts(population(b_low=2e-6))["B_reaches"] == V.PARTLY
    # B lower than full in 9 seeds and higher in 7, by similar amounts: the direction, not significant.
    mixed = population(b_scale=lambda s: 100 + s + (-8 if s < 9 else 8), b_low=1e-5)
    assert verdicts(mixed)["B_faster"] == V.PARTLY
    # A ends with more than one circle in 10 of 16 seeds: a majority, binomial p = 0.23.
    assert verdicts(population(a_circles=lambda s: 3 if s < 10 else 1))["A"] == V.PARTLY


def test_not_reproduced():
    v = verdicts(population(b_low=1e-3, b_scale=lambda s: 300 + s, c_scale=lambda s: 50 + s, c_low=1e-6,
                            a_circles=lambda s: 1))
    assert v["B_reaches"] == V.NOT_REPRODUCED  # above 1e-4
    assert v["B_faster"] == V.NOT_REPRODUCED  # B slower than full
    assert v["C"] == V.NOT_REPRODUCED and v["D"] == V.NOT_REPRODUCED  # the random arms beat full
    assert v["A"] == V.NOT_REPRODUCED  # A keeps its single circle


def test_not_assessable_when_most_b_runs_are_invalid():
    v = verdicts(population(b_bad=lambda s: s >= 6))
    assert v["B_reaches"] == V.NOT_ASSESSABLE and v["B_faster"] == V.NOT_ASSESSABLE
    assert v["C"] == V.REPRODUCED  # other arms are judged on their own valid pairs
    assert V.headline(W.claims_of(by_seed(population(b_bad=lambda s: s >= 6)))) == V.NOT_ASSESSABLE


# ---------------------------------------------------------------- end to end on the smoke profile


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    from cinit_tf.run import main

    root = tmp_path_factory.mktemp("tickets")
    assert main([str(EXPERIMENTS / "winning_tickets.toml"), "--profile", "smoke", "--out", str(root),
                 "--reports", str(root), "--quiet"]) == 0
    return root / "winning_tickets"


def test_smoke_report(smoke):
    text = (smoke / "README.md").read_text()
    summary = json.loads((smoke / "summary.json").read_text())
    shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text))
    assert shown == {"test_loss_arms.png", "mean_log_loss_paired.png"}
    for png in shown:
        assert (smoke / png).stat().st_size > 5000
    assert text.index("Rule:") < text.index("Verdict: **")
    assert "Fig. 15" in text and "keep_zero = false" in text
    runs = summary["summary"]["runs"]
    assert len(runs) == 3 and all(set(r) == set(W.CASES) for r in runs.values())
    for r in runs.values():
        top = r["full"]["survivors"]
        assert len(r["A"]["kept"]) == 1 and len(r["B"]["kept"]) == 2 and r["A"]["kept"][0] in r["B"]["kept"]
        assert not set(r["C"]["kept"]) & set(r["B"]["kept"]) and not set(r["D"]["kept"]) & set(r["B"]["kept"])
        assert set(r["B"]["kept"]) <= set(top) or len(top) < 2
    assert [c["name"] for c in summary["summary"]["claims"]][0] == "B reaches a loss near 1e-7"
