"""The figures a reader trips on, rendered from constructed data: no two texts overlap.

Covered: freeze_embedding (final_test_loss_vs_d, modadd_around_p), xor_rank (fig2a_embeddings), remainder_rank
(fig1a_embeddings), fourier_evolution (fourier_projections), survival_vs_norm (survival_vs_signal),
min_signal_vs_dim (min_mean_max_expectation), circles_vs_size (circles_vs_weight_decay). Texts are titles,
axis labels, legends (title and entries), annotations and point labels; tick labels are left out. The data are
made to crowd: clustered points whose labels would overprint, and bands that overlap.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cinit_tf.figures import clusters, plotting
from cinit_tf.figures import counts as count_figures
from cinit_tf.measures.count_runs import CountRun
from cinit_tf.studies import (
    fourier_evolution,
    freeze_embedding,
    min_signal_vs_dim,
    survival_vs_norm,
    xor_rank,
)


@pytest.fixture
def drawn(monkeypatch):
    """The figures `plotting.finish` lays out, kept open instead of saved."""
    figs = []
    monkeypatch.setattr(
        plotting,
        "save_figure",
        lambda fig, path: fig.set_label(Path(path).name) or figs.append(fig),
    )
    yield figs
    import matplotlib.pyplot as plt

    for fig in figs:
        plt.close(fig)


def overlaps(fig) -> list[tuple[str, str]]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in plotting.texts(fig)]
    return [
        (a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1 :] if ba.overlaps(bb)
    ]


def loss_stats(rng, ds):
    out = {}
    for d in ds:
        values = list(10 ** rng.normal(0.5, 0.4, 5))
        logs = np.log10(values)
        out[d] = {
            "values": values,
            "log_mean": float(logs.mean()),
            "log_ci95": [float(logs.min()), float(logs.max())],
        }
    return out


def freeze_figures(rng, out):
    ds = [8, 16, 32, 59, 64, 128]
    case = {
        "task": "modadd",
        "p": 59,
        "dip": None,
        "frozen": loss_stats(rng, ds),
        "trained": loss_stats(rng, ds),
    }
    freeze_embedding.figure_final([case, dict(case, task="xor", p=16)], out)
    freeze_embedding.figure_around_p(case, out)


def crowded(rng, p, d, spread=0.05):
    """An embedding whose tokens sit close together: their labels would overprint."""
    return rng.normal(0, spread, (p, d)) + rng.normal(0, 1, (1, d))


def cluster_figures(rng, out):
    trials = [
        SimpleNamespace(
            id=f"t{i}",
            result=SimpleNamespace(
                initial_embedding=crowded(rng, 40, 8), final_embedding=crowded(rng, 40, 8, 1.0)
            ),
        )
        for i in range(2)
    ]
    rows = {
        t.id: {"seed": i, "q": list(range(10)), "line_share": 0.5, "top_percent": 3.0}
        for i, t in enumerate(trials)
    }
    clusters.figure_embeddings(trials, rows, 10, out)
    shapes = ("cube", "cross_polytope", "other")
    xor = [
        SimpleNamespace(
            id=f"x{i}",
            result=SimpleNamespace(
                initial_embedding=crowded(rng, 8, 6), final_embedding=crowded(rng, 8, 6, 1.0)
            ),
        )
        for i in range(3)
    ]
    xrows = {
        t.id: {"seed": i, "arrangement": i, "top_percent": 10.0, "shape": shapes[i], "fit": 0.9}
        for i, t in enumerate(xor)
    }
    xor_rank.figure_embeddings(xor, xrows, 3, out)


def fourier_figure(rng, out):
    p = 23
    snapshots = [
        (step, crowded(rng, p, 16, 0.02 * (1 + step / 100))) for step in (0, 2, 100, 300, 400)
    ]
    fourier_evolution.figure_snapshots(snapshots, 4, 9, p, out)


def survival_figure(rng, out):
    signal = rng.uniform(200, 600, (3, 11))
    rate = np.clip(np.round((signal - 250) / 300 * 4) / 4, 0, 1)
    rates = {"embeddings": [0, 1, 2], "trials": [4, 4, 4], "signal": signal, "rate": rate}
    survival_vs_norm.figure_scatter(
        rates, {"r": 0.7, "p": 1e-4, "n": rate.size}, rate.mean(axis=0), out
    )


def min_signal_figure(rng, out):
    cases = []
    for label, p in (("remainder", 100), ("xor", 8), ("modadd", 59)):
        ds = [1, 2, 4, 8, 16, 59, 64]
        per_d = {
            d: [
                min_signal_vs_dim.draw_stats(None, 1.0, (m, 1 + e, m + 2 * s))
                for m, e, s in zip(
                    rng.uniform(0.3, 0.9, 6) / d**0.3,
                    rng.normal(0, 0.05, 6),
                    rng.uniform(0.5, 1, 6),
                )
            ]
            for d in ds
        }
        cases.append({"label": label, "p": p, "ds": ds, "per_d": per_d, "candidates": 10})
    min_signal_vs_dim.figure_fig10(cases, out, "expectation")


def circles_figure(rng, out):
    runs = []
    for i, wd in enumerate([0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0] * 2):
        small = wd < 0.1
        runs.append(
            CountRun(
                id=f"r{i}",
                p=59,
                d=128,
                wd=wd,
                K=29,
                valid=not small,
                why=None if not small else "never reached 100% test accuracy",
                generalised=not small,
                finite=True,
                test_acc=0.2 if small else 1.0,
                convergence_step=None if small else 100,
                until="steps",
                stop_reason="max_steps",
                counts={0.05: 29 if small else int(rng.integers(3, 16))},
                same_set_late=None,
                settled_at=None,
            )
        )
    count_figures.figure_12(runs, SimpleNamespace(centre_p=59, centre_d=128), out)


def test_no_two_texts_overlap(drawn, tmp_path):
    rng = np.random.default_rng(0)
    for draw in (
        freeze_figures,
        cluster_figures,
        fourier_figure,
        survival_figure,
        min_signal_figure,
        circles_figure,
    ):
        draw(rng, tmp_path)
    assert len(drawn) == 8
    found = {fig.get_label(): overlaps(fig) for fig in drawn}
    assert not {k: v for k, v in found.items() if v}, found


def test_point_labels_are_moved_or_dropped_not_overprinted(drawn, tmp_path):
    plt = plotting.setup_matplotlib()
    fig, ax = plt.subplots()
    for i in range(6):  # six labels at one point: at most the eight offsets, never two on one spot
        plotting.label_point(ax, f"token {i}", (0.5, 0.5))
    plotting.finish(fig, tmp_path, "labels.png", "")
    assert not overlaps(fig)
    assert any(t.get_visible() for t in ax.texts)


def test_marks_stay_behind_and_rates_inside_their_range(drawn, tmp_path):
    rng = np.random.default_rng(1)
    freeze_figures(rng, tmp_path)
    survival_figure(rng, tmp_path)
    circles_figure(rng, tmp_path)
    figs = {fig.get_label(): fig for fig in drawn}
    for name in (
        "final_test_loss_vs_d.png",
        "modadd_around_p.png",
    ):  # the d = p line is drawn under the bars it marks
        ax = figs[name].axes[0]
        marks = [ln for ln in ax.get_lines() if ln.get_label().startswith("d = p")]
        assert marks and all(
            m.get_zorder() < min(c.get_zorder() for c in ax.collections) for m in marks
        )
    ax = figs["survival_vs_signal.png"].axes[0]
    rates = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    assert rates.min() >= 0 and rates.max() <= 1
    fit = [
        y
        for ln in ax.get_lines()
        for y in np.asarray(ln.get_ydata(), dtype=float)
        if np.isfinite(y)
    ]
    assert fit and min(fit) >= 0 and max(fit) <= 1
    top = figs["circles_vs_weight_decay.png"].axes[:3]
    assert len({a.get_ylim() for a in top}) == 1  # one count axis for the three weight-decay ranges
