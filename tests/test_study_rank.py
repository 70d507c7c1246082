"""The rank studies (§3.1 remainder, §3.2 XOR): constructed stores whose answer is known, and the real
experiment files end to end at the smoke profile."""

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from smoke_reports import run_smoke

from cinit_tf.measures import rank as _rank
from cinit_tf.readout import canonical_permutation, permutation_index
from cinit_tf.signals import arrangement_scores, arrangements, permutation_scores, top_percent
from cinit_tf.stats import formatting, inference, verdicts
from cinit_tf.stats.claims import VERDICTS, headline
from cinit_tf.studies import analyse, remainder_rank, xor_rank
from cinit_tf.trial import StoredTrial, TrialResult
from cinit_tf.writeup import common as writeup

ROOT = Path(__file__).resolve().parent.parent


def stored(
    i: int,
    task: dict,
    E0: np.ndarray,
    E1: np.ndarray,
    generalises: bool = True,
    diverged: bool = False,
    head: str | None = None,
) -> StoredTrial:
    steps = np.array([0, 100, 200])
    test_acc = np.array([0.3, 1.0, 1.0]) if generalises else np.array([0.3, 0.9, 0.95])
    curve = np.array([0.7, 0.1, 0.05])
    result = TrialResult(
        steps=steps,
        train_loss=curve,
        train_acc=test_acc,
        test_loss=curve,
        test_acc=test_acc,
        fourier_norms=None,
        initial_embedding=E0,
        final_embedding=E1,
        convergence_step=100 if generalises else None,
        nonfinite_step=200 if diverged else None,
    )
    task = task if head is None else {**task, "head": head}
    settings = {
        "case": "",
        "grid": {},
        "task": task,
        "train": {"steps": 200, "d": E0.shape[1], "weight_decay": 3.0},
        "transform": {"name": "none"},
        "seeds": {"embedding": i, "mlp": i, "split": i},
        "index": {"embedding": i, "trial": 0},
    }
    return StoredTrial(f"{i:032x}", settings, result)


def record(name: str, trials) -> dict:
    return {
        "name": name,
        "study": name,
        "profile": "test",
        "overrides": [],
        "analysis": {"histogram_seeds": 2},
        "trial_ids": [t.id for t in trials],
    }


OPTIONS = _rank.RankAnalysis(histogram_seeds=2)


# ---------------------------------------------------------------- remainder


M, P, D = 6, 36, 8  # 720 orders: the same code path as 10!, in milliseconds
REMAINDER = {"name": "remainder", "p": P, "m": M}


def line_of_clusters(order, rng, spread: float, noise: float) -> np.ndarray:
    """Tokens clustered by remainder, the clusters evenly spaced along one axis in `order`."""
    position = np.empty(M)
    position[list(order)] = np.arange(M)
    E = noise * rng.standard_normal((P, D))
    E[:, 0] += spread * position[np.arange(P) % M]
    return E


def circle_of_clusters(rng, noise: float) -> np.ndarray:
    """Tokens clustered by remainder, the centres evenly spaced on a circle: half their variance on each of two axes."""
    angle = 2 * np.pi * (np.arange(P) % M) / M
    E = noise * rng.standard_normal((P, D))
    E[:, 0] += np.cos(angle)
    E[:, 1] += np.sin(angle)
    return E


def topping_trials(n: int, n_generalised: int, seed: int = 0) -> tuple[list, dict]:
    """Trials whose initial centres lie evenly on a line in a random order q, and whose final centres keep it."""
    rng = np.random.default_rng(seed)
    trials, chosen = [], {}
    for i in range(n):
        q = tuple(int(v) for v in rng.permutation(M))
        E0 = line_of_clusters(q, rng, spread=1.0, noise=0.01)
        # The premise: evenly spaced centres in order q give q (and its reversal) the highest f.
        f0 = permutation_scores(E0, M)
        assert top_percent(f0, f0[permutation_index(q)]) == 0.0
        trials.append(
            stored(
                i,
                REMAINDER,
                E0,
                line_of_clusters(q, rng, spread=0.5, noise=0.001),
                generalises=i < n_generalised,
            )
        )
        chosen[trials[-1].id] = list(canonical_permutation(q))
    return trials, chosen


def test_remainder_order_that_tops_the_initial_signal_ranks_zero():
    trials, chosen = topping_trials(12, n_generalised=10)
    m = remainder_rank.measure(trials, OPTIONS)
    assert m.assessable and m.head == "two" and len(m.valid) == 12 and not m.other_rows
    rows = {r["id"]: r for r in m.rows}
    assert all(rows[i]["q"] == q for i, q in chosen.items())
    assert all(r["top_percent"] == 0.0 and r["f_final_top_percent"] == 0.0 for r in m.rows)
    assert all(r["line_share"] > 0.999 for r in m.rows)
    assert m.stats["learned"]["mean"] == 0.0 and m.stats["learned"]["n"] == 12
    assert m.stats["generalised"]["n"] == 10 and m.stats["not_generalised"]["n"] == 2
    # Nothing moved: the initial centres already lie on the line in order q, so their own order is the learned one.
    assert (
        sum(r["same_as_initial_order"] for r in m.rows) == 12 and m.stats["initial"]["mean"] == 0.0
    )
    # Every learned order is the best (top 0%), far better than the paper's 15 ± 22: incompatible, so "partly";
    # every final embedding is a line: the shape claim holds.
    assert [(c.name, c.verdict) for c in m.claims] == [
        (remainder_rank.RANK_CLAIM, "partly"),
        (remainder_rank.SHAPE_CLAIM, "reproduced"),
    ]
    assert "difference -15" in m.claims[0].detail and "(holds at p < 0.01)" in m.claims[0].detail
    assert m.n_lines == 12 and m.lines_ci == pytest.approx(inference.share_ci(12, 12))
    # A random order is almost never the top one among 720.
    assert m.stats["control"]["mean"] > 20
    assert m.mann_whitney["p"] < 0.01


def test_remainder_section_has_its_figures_and_numbers(tmp_path):
    trials, _ = topping_trials(6, n_generalised=5, seed=5)
    section = analyse(remainder_rank, record("remainder_rank", trials), trials, tmp_path)
    assert section.verdict == "partly"
    assert len(section.figures) == 4
    for fig in section.figures:
        assert (tmp_path / fig.filename).stat().st_size > 10_000, fig.filename
    assert f"{formatting.fmt(0.0)} ± {formatting.fmt(0.0)}" in section.findings[1]
    s = section.summary
    assert (
        s["top_percent"]["n"] == 6
        and s["generalised"] == 5
        and s["lines"]["k"] == 6
        and s["valid"] == 6
    )
    assert len(s["per_trial"]) == 6 and s["other_head"] is None


def test_remainder_order_that_bottoms_the_initial_signal_is_not_reproduced():
    rng = np.random.default_rng(1)
    trials = []
    for i in range(10):
        E0 = rng.standard_normal((P, D))
        f0 = permutation_scores(E0, M)
        q = list(itertools.permutations(range(M)))[int(np.argmin(f0))]
        trials.append(stored(i, REMAINDER, E0, line_of_clusters(q, rng, spread=0.5, noise=0.001)))
    m = remainder_rank.measure(trials, OPTIONS)
    # Only the worst order's reversal ties with it, so every other order scores strictly higher.
    expected = 100.0 * (math.factorial(M) - 2) / math.factorial(M)
    assert m.stats["learned"]["mean"] == pytest.approx(expected) and m.stats["learned"][
        "std"
    ] == pytest.approx(0.0)
    assert [c.verdict for c in m.claims] == ["not reproduced", "reproduced"]
    assert "(fails at p < 0.01)" in m.claims[0].detail
    assert headline(m.claims) == "not reproduced"


def test_remainder_clusters_on_a_circle_are_not_lines():
    rng = np.random.default_rng(6)
    trials = [
        stored(i, REMAINDER, rng.standard_normal((P, D)), circle_of_clusters(rng, noise=0.001))
        for i in range(8)
    ]
    m = remainder_rank.measure(trials, OPTIONS)
    # Evenly spaced on a circle: the centres' variance splits equally between two axes.
    assert m.stats["line_share"]["mean"] == pytest.approx(0.5, abs=0.01)
    assert m.stats["plane_share"]["mean"] == pytest.approx(1.0, abs=1e-4)
    assert m.n_lines == 0
    assert (
        m.claims[1].name == remainder_rank.SHAPE_CLAIM and m.claims[1].verdict == "not reproduced"
    )
    assert "0 of 8 runs" in m.claims[1].detail


def test_remainder_claims_are_judged_on_the_main_head_and_the_other_compared_beside():
    trials, _ = topping_trials(8, n_generalised=8, seed=7)
    rng = np.random.default_rng(8)
    others = [
        stored(
            100 + i,
            REMAINDER,
            rng.standard_normal((P, D)),
            circle_of_clusters(rng, 0.001),
            head="p",
        )
        for i in range(3)
    ]
    m = remainder_rank.measure(trials + others, OPTIONS)
    assert m.head == "two" and len(m.valid) == 8 and len(m.main_trials) == 8 and m.n_valid_all == 11
    # The other head's circles do not count against the main head's lines (8 of 8: binomial p = 2/256 < 0.01).
    assert m.n_lines == 8 and m.claims[1].verdict == "reproduced"
    assert m.other_head["head"] == "p" and m.other_head["trials"] == 3
    assert m.other_head["line_share"]["mean"] == pytest.approx(0.5, abs=0.01)
    assert m.other_head["welch_vs_main"]["n_a"] == 8 and m.other_head["welch_vs_main"]["n_b"] == 3


def test_remainder_is_not_assessable_when_the_main_head_has_too_few_valid_trials():
    rng = np.random.default_rng(9)
    main = [
        stored(
            i,
            REMAINDER,
            rng.standard_normal((P, D)),
            np.full((P, D), np.nan) if i < 4 else line_of_clusters(range(M), rng, 0.5, 0.001),
            generalises=i >= 4,
            diverged=i < 4,
        )
        for i in range(6)
    ]
    others = [
        stored(
            100 + i,
            REMAINDER,
            rng.standard_normal((P, D)),
            line_of_clusters(range(M), rng, 0.5, 0.001),
            head="p",
        )
        for i in range(4)
    ]
    # 6 of 10 trials are valid, but only 2 of the main head's 6: the claims cannot be judged.
    m = remainder_rank.measure(main + others, OPTIONS)
    assert m.head == "two" and m.assessable is False and not m.rows
    assert [c.verdict for c in m.claims] == ["not assessable"] * 2
    assert "only 2 of 10 trials are valid" in m.claims[0].detail


@pytest.mark.parametrize("name", ["remainder_rank", "xor_rank"])
def test_every_trial_diverged_is_not_assessable(tmp_path, name):
    rng = np.random.default_rng(4)
    task = REMAINDER if name == "remainder_rank" else {"name": "xor", "bits": 3}
    p = P if name == "remainder_rank" else 8
    trials = [
        stored(
            i,
            task,
            rng.standard_normal((p, D)),
            np.full((p, D), np.nan),
            generalises=False,
            diverged=True,
        )
        for i in range(6)
    ]
    study = remainder_rank if name == "remainder_rank" else xor_rank
    m = study.measure(trials, OPTIONS)
    assert m.assessable is False and not m.valid and not m.rows
    assert [c.verdict for c in m.claims] == ["not assessable"] * 2
    assert all("only 0 of 6 trials are valid" in c.detail for c in m.claims)
    section = analyse(study, record(name, trials), trials, tmp_path)
    assert (
        section.verdict == "not assessable"
        and section.our_number == "not assessable: 0 of 6 trials valid"
    )
    assert "6 of 6 trials excluded" in section.excluded[0]
    assert not section.figures


def test_analysis_options_take_the_declared_defaults():
    assert (
        remainder_rank.DECLARATION.analysis is xor_rank.DECLARATION.analysis is _rank.RankAnalysis
    )
    options = writeup.analysis_of({"analysis": {"histogram_seeds": 3}}, _rank.RankAnalysis)
    assert (options.histogram_seeds, options.embedding_seeds) == (
        3,
        2,
    )  # a key missing from an old record: its default
    assert writeup.analysis_of({}, _rank.RankAnalysis) == _rank.RankAnalysis(4, 2)
    with pytest.raises(ValueError, match="histogram_seed"):
        writeup.analysis_of({"analysis": {"histogram_seed": 3}}, _rank.RankAnalysis)


def test_stats_of_known_values():
    s = _rank.stats_of([1.0, 2.0, 3.0, 10.0])
    assert (s["mean"], s["median"], s["n"]) == (4.0, 2.5, 4)
    assert s["std"] == pytest.approx(math.sqrt(((3**2) + (2**2) + (1**2) + (6**2)) / 3))
    half = 3.182446305284263 * s["std"] / 2  # t_{0.975, 3} · s / √4
    assert s["ci95"] == pytest.approx([4.0 - half, 4.0 + half])
    empty = _rank.stats_of([])
    assert empty["n"] == 0 and math.isnan(empty["mean"]) and math.isnan(empty["median"])


def test_mann_whitney_less_on_separated_and_identical_samples():
    low, high = [1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 11.0, 12.0, 13.0, 14.0]
    out = inference.mann_whitney_less(low, high)
    assert out["u"] == 0.0 and out["p"] == pytest.approx(
        1 / math.comb(10, 5)
    )  # exact: the one most extreme split
    assert inference.mann_whitney_less(high, low)["p"] > 0.9
    assert math.isnan(inference.mann_whitney_less([], high)["p"])


# ---------------------------------------------------------------- the rules, with known answers


CONTROL = list(np.linspace(20, 100, 100))


@pytest.mark.parametrize(
    "learned, verdict",
    [
        (
            list(np.linspace(0, 30, 100)),
            "reproduced",
        ),  # mean 15, spread like the paper's 15 ± 22: compatible
        ([0.0] * 100, "partly"),  # better than random, but not the paper's number (Welch)
        # Mean 33 ± 3: inside the paper's mean ± std (−7 to 37), which the old rule accepted; Welch says incompatible.
        (list(np.linspace(28, 38, 100)), "partly"),
        (
            list(np.linspace(20, 100, 100)),
            "not reproduced",
        ),  # no better than the control: the direction fails
    ],
)
def test_rank_claim_known_answers(learned, verdict):
    claim, info = verdicts.rank_claim(learned, CONTROL, 15.0, 22.0, 100, "rank")
    assert claim.verdict == verdict, claim.detail


@pytest.mark.parametrize(
    "k, n, verdict, reason",
    [
        (
            97,
            100,
            "reproduced",
            "beyond_margin",
        ),  # Wilson CI clear of ½ and reaching the declared 90%
        (70, 100, "partly", "short_of_margin"),  # a clear majority, but 90% ruled out
        (55, 100, "not reproduced", "rules_out_margin"),  # holds ½, short of 90%
        (34, 100, "not reproduced", "opposite"),  # the xor run's share: a minority
        (3, 4, "not assessable", "too_wide"),  # holds both ½ and 90%
    ],
)
def test_shape_claim_known_answers(k, n, verdict, reason):
    claim = verdicts.share_claim("shape", k, n, "cubes", 0.9, "a source")
    assert (claim.verdict, claim.reason) == (verdict, reason)
    assert claim.value == k / n and claim.margin == pytest.approx(0.4) and claim.kind == "share"


# ---------------------------------------------------------------- xor


XOR = {"name": "xor", "bits": 3}


def cube(index: int, rng, scale: float, noise: float) -> np.ndarray:
    """Token t at the unit-cube vertex M·t (first three axes of d = 8) for arrangement `index`."""
    matrices, _ = arrangements(3)
    bits = (np.arange(8)[:, None] >> np.arange(3)) & 1
    vertices = (bits @ matrices[index].T.astype(int)) % 2
    E = noise * rng.standard_normal((8, 8))
    E[:, :3] += scale * vertices
    return E


def cross_polytope(index: int, rng, noise: float) -> np.ndarray:
    """The 4 antipodal pairs of arrangement `index` (α = 3) at ±e_k: a 4-D cross-polytope."""
    _, alphas = arrangements(3)
    E = noise * rng.standard_normal((8, 8))
    pairs = sorted({tuple(sorted((t, int(np.argmax(alphas[index][t]))))) for t in range(8)})
    assert len(pairs) == 4
    for k, (i, j) in enumerate(pairs):
        E[i, k] += 1.0
        E[j, k] -= 1.0
    return E


def cube_trials(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        a = int(rng.integers(168))
        E0 = cube(a, rng, scale=1.0, noise=0.01)
        g0 = arrangement_scores(E0, 3)
        assert top_percent(g0, g0[a]) == 0.0  # the premise: the cube itself has the highest g
        trials.append(stored(i, XOR, E0, cube(a, rng, scale=0.5, noise=0.001)))
    return trials


def test_xor_cube_that_tops_the_initial_signal_ranks_zero():
    m = xor_rank.measure(cube_trials(12, seed=2), OPTIONS)
    assert m.bits == 3 and len(m.rows) == 12
    assert all(r["shape"] == "cube" and r["fit"] > 0.99 and r["top_percent"] == 0.0 for r in m.rows)
    assert m.stats["cube"][0]["n"] == 12 and m.stats["cross_polytope"][0]["n"] == 0
    assert m.stats["all"][0]["mean"] == 0.0
    assert m.stats["all"][1]["mean"] > 20  # the control: a random arrangement is rarely the top one
    assert m.n_cubes == 12 and m.cubes_ci == pytest.approx(inference.share_ci(12, 12))
    assert m.mann_whitney["p"] < 0.01 and set(m.shape_tests) == {"cube"}
    assert [(c.name, c.verdict) for c in m.claims] == [
        (xor_rank.RANK_CLAIM, "partly"),
        (xor_rank.SHAPE_CLAIM, "reproduced"),
    ]
    assert "12 of 12 runs" in m.claims[1].detail


def test_xor_section_has_its_figures_and_numbers(tmp_path):
    trials = cube_trials(6, seed=10)
    section = analyse(xor_rank, record("xor_rank", trials), trials, tmp_path)
    assert section.verdict == "partly" and len(section.figures) == 4
    for fig in section.figures:
        assert (tmp_path / fig.filename).stat().st_size > 10_000, fig.filename
    s = section.summary
    assert (
        s["per_shape"]["cube"]["n"] == 6
        and s["cubes"]["k"] == 6
        and s["valid"] == 6
        and s["excluded_trials"] == 0
    )


def test_xor_cross_polytope_is_classified_and_its_ties_reported(tmp_path):
    rng = np.random.default_rng(3)
    trials = []
    for i in range(6):
        a = int(rng.integers(168))
        final = cube(a, rng, 0.5, 0.001) if i < 2 else cross_polytope(a, rng, 0.001)
        trials.append(stored(i, XOR, cube(a, rng, 1.0, 0.01), final))
    m = xor_rank.measure(trials, OPTIONS)
    assert sorted(r["shape"] for r in m.rows) == ["cross_polytope"] * 4 + ["cube"] * 2
    for r in m.rows:
        if r["shape"] == "cross_polytope":
            # Every α with the same antipodal pairs fits alike: 28 α / 7 pairings = 4 tie, the true one among them.
            assert r["tied_alphas"] == 4 and r["tied_top_percent_min"] == 0.0
            assert 0.7 < r["fit"] < 0.8
        else:
            assert r["tied_alphas"] == 1 and r["top_percent"] == 0.0
    assert m.stats["cube"][0]["mean"] == 0.0 and m.stats["cross_polytope"][0]["n"] == 4
    assert set(m.shape_tests) == {"cube", "cross_polytope"}
    # 2 cubes of 6 is a minority: the shape claim fails.
    # 2 of 6: the share's CI holds ½ and lies short of the declared 90%
    assert (
        m.n_cubes == 2
        and m.claims[1].verdict == "not reproduced"
        and m.claims[1].reason == "rules_out_margin"
    )
    section = xor_rank.write(m, record("xor_rank", trials), tmp_path)
    assert section.summary["ambiguous"] == 4
    assert "4 trials with 4 tied α" in "\n".join(section.findings)


# ---------------------------------------------------------------- end to end


@pytest.mark.parametrize("name", ["remainder_rank", "xor_rank"])
def test_smoke_run_end_to_end(tmp_path, name):
    from cinit_tf.store import Store

    out, reports = tmp_path / "runs", tmp_path / "reports"
    run_smoke([name], out, reports)
    folder = reports / name
    readme = (folder / "README.md").read_text()
    summary = json.loads((folder / "summary.json").read_text())

    figures = re.findall(r"\]\(([^)]+\.png)\)", readme)
    fig_prefix = "fig1" if name == "remainder_rank" else "fig2"
    assert {
        f"{fig_prefix}a_embeddings.png",
        f"{fig_prefix}b_signal_histograms.png",
        "top_percent.png",
    } <= set(figures)
    assert len(figures) == 4
    for f in figures:
        assert (folder / f).stat().st_size > 10_000, f
    assert summary["profile"] == "smoke" and summary["trials"] == summary["planned"] == (
        6 if name == "remainder_rank" else 3
    )
    assert summary["verdict"] in VERDICTS and f"Verdict: **{summary['verdict']}**" in readme
    s = summary["summary"]
    top = s["top_percent"]
    assert f"{formatting.fmt(top['mean'])} ± {formatting.fmt(top['std'])}" in readme
    assert f"Our number: **{summary['our_number']}**" in readme

    # The report's numbers are the stored trials': recompute one trial's rank from the run folder.
    trial = Store(out / name).trials()[0]
    row = next(r for r in s["per_trial"] if r["id"] == trial.id)
    if name == "remainder_rank":
        f0 = permutation_scores(trial.result.initial_embedding, 10)
        assert row["top_percent"] == top_percent(f0, f0[permutation_index(row["q"])])
    else:
        g0 = arrangement_scores(trial.result.initial_embedding, 3)
        assert row["top_percent"] == top_percent(g0, g0[row["arrangement"]])
    assert row["generalised"] == (trial.result.convergence_step is not None)

    if name == "xor_rank":  # cheap enough to check that a regenerated report is byte-identical
        from cinit_tf.reporting.generate import generate_report

        before = readme.encode()
        generate_report(out / name, reports)
        assert (folder / "README.md").read_bytes() == before
