"""Two-stage experiments: a case whose initial embedding keeps the top frequencies of another case's final signals."""

import textwrap

import numpy as np
import pytest

from cinit_tf.experiment.config import ConfigError, load_experiment
from cinit_tf.runner import in_shard, run_experiment
from cinit_tf.store import Store

TWO_STAGES = textwrap.dedent(
    """
    study = "convergence_ablation"
    [task]
    name = "modadd"
    p = 11
    [train]
    steps = 40
    d = 8
    log_every = 20
    first_steps = 1
    [seeds]
    count = 3
    [run]
    tensorboard_members = 0
    [[cases]]
    label = "full"
    [[cases]]
    label = "top1"
    transform = {{ name = "fourier_keep", rule = "top-1 final", source_case = "full", keep_zero = false }}
    [[cases]]
    label = "rand2"
    transform = {{ name = "fourier_keep", rule = "random 2", source_case = "{source}", keep_zero = false }}
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def experiment(tmp_path, source="full"):
    path = tmp_path / "two.toml"
    path.write_text(TWO_STAGES.format(source=source))
    return load_experiment(path, profile="smoke")


def run(e, tmp_path, **kw):
    return run_experiment(
        e,
        out=tmp_path / "runs",
        reports=tmp_path / "reports",
        progress=False,
        make_report=False,
        **kw,
    )


def test_second_stage_keeps_the_source_trials_top_frequencies(tmp_path):
    e = experiment(tmp_path)
    run(e, tmp_path)
    store = Store(tmp_path / "runs" / e.name)
    plans = e.trials()
    assert store.finished_ids() == {p.id for p in plans}
    for p in plans:
        if p.source is None:
            continue
        source, t = store.read_trial(p.source), store.read_trial(p.id)
        assert source.settings["seeds"] == t.settings["seeds"] and source.settings["case"] == "full"
        order = np.argsort(-source.result.fourier_norms[-1], kind="stable") + 1
        kept = t.chosen["kept"]
        if t.settings["case"] == "top1":
            assert kept == [int(order[0])]
        else:
            assert len(kept) == 2 and not set(kept) & set(
                order[:2].tolist()
            )  # "other" frequencies than k1, k2
        initial = t.result.fourier_norms[0]
        alive = np.flatnonzero(initial > 1e-6 * initial.max()) + 1
        assert alive.tolist() == sorted(kept)  # every other frequency was zeroed, k = 0 too
        np.testing.assert_allclose(t.result.initial_embedding.mean(axis=0), 0, atol=1e-5)


def test_killed_between_stages_then_rerun_trains_every_trial_exactly_once(tmp_path, monkeypatch):
    from cinit_tf import training

    e = experiment(tmp_path)
    real, calls = training.train_population, []

    def first_stage_only(task, config, trials, **kw):
        calls.append(len(trials))
        if len(calls) > 1:
            raise KeyboardInterrupt  # killed after the first stage was stored
        return real(task, config, trials, **kw)

    monkeypatch.setattr(training, "train_population", first_stage_only)
    with pytest.raises(KeyboardInterrupt):
        run(e, tmp_path)
    store = Store(tmp_path / "runs" / e.name)
    first = {p.id for p in e.trials() if p.source is None}
    assert store.finished_ids() == first
    stamps = {i: (store.trials_dir / f"{i}.npz").stat().st_mtime_ns for i in first}

    monkeypatch.setattr(training, "train_population", real)
    summary = run(e, tmp_path)
    assert store.finished_ids() == {p.id for p in e.trials()}
    assert summary.trained == len(e.trials()) - len(first)
    assert {
        i: (store.trials_dir / f"{i}.npz").stat().st_mtime_ns for i in first
    } == stamps  # not retrained
    assert sorted(x.stem for x in store.trials_dir.glob("*.npz")) == sorted(
        p.id for p in e.trials()
    )


def test_a_shard_trains_the_sources_it_needs(tmp_path):
    e = experiment(tmp_path)
    plans = e.trials()
    run(e, tmp_path, shard=(1, 2))
    store = Store(tmp_path / "runs" / e.name)
    second = [p for p in plans if p.source and in_shard(p.id, (1, 2))]
    assert second and all(p.source in store.finished_ids() for p in second)
    run(e, tmp_path, shard=(0, 2))
    assert store.finished_ids() == {p.id for p in plans}


def test_a_source_case_must_exist_and_not_be_a_second_stage(tmp_path):
    with pytest.raises(ConfigError, match="source_case: expected the label of another case"):
        experiment(tmp_path, source="nope")
    with pytest.raises(ConfigError, match="itself a second stage"):
        experiment(tmp_path, source="top1")
