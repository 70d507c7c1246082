"""Experiment files (docs/experiment-format.md): validation messages, profiles and --set, trial expansion and identity."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from cinit_tf import studies
from cinit_tf.experiment import config, schema
from cinit_tf.experiment.config import ConfigError, load_experiment, parse_override
from cinit_tf.experiment.plan import identity
from cinit_tf.experiment.schema import setting
from cinit_tf.settings import Either, Float, Int
from cinit_tf.trial import MAX_RECORDS, TrainConfig
from cinit_tf.writeup.section import Declaration

HERE = Path(__file__).parent
BAD = HERE / "bad_configs"
EXPERIMENTS = HERE.parent / "experiments"
REAL_STUDY_NAMES, REAL_DECLARATION = studies.study_names, studies.declaration


class Numbers:
    """A value rule of the stand-in study: a non-empty list of numbers (rules are duck-typed)."""

    def expected(self):
        return "a non-empty list of numbers"

    def check(self, v):
        if (
            not isinstance(v, list)
            or not v
            or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v)
        ):
            raise ValueError
        return [float(x) for x in v]


@dataclass(frozen=True)
class DemoAnalysis:
    tau: float = setting(Either(Float(0.0), Numbers()), 0.05)
    seeds_shown: int = setting(Int(1), 4)


def _declaration(analysis):
    return Declaration(
        paper_ref="§0",
        order=0,
        title="t",
        claim="c",
        paper_number="n",
        verdict_rule="r",
        analysis=analysis,
    )


FAKE = {"demo": _declaration(DemoAnalysis), "other": _declaration(None)}


@pytest.fixture(autouse=True)
def demo_study(monkeypatch):
    """Two stand-in studies beside the real ones: "demo" declares [analysis] keys, "other" none."""
    monkeypatch.setattr(studies, "study_names", lambda: sorted([*REAL_STUDY_NAMES(), *FAKE]))
    monkeypatch.setattr(
        studies, "declaration", lambda name: FAKE[name] if name in FAKE else REAL_DECLARATION(name)
    )


def write(tmp_path, text, name="exp.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


BASE = """
study = "demo"
[task]
name = "modadd"
p = 7
[train]
steps = 1000
d = 8
[seeds]
count = 3
[profiles.smoke]
train = { steps = 20 }
seeds = { count = 2 }
[profiles.cpu]
[profiles.paper]
train = { steps = 30000 }
"""


# ---- malformed files -------------------------------------------------------------------------

# file -> what the message must contain besides the file's name
BAD_CASES = {
    "unknown_key.toml": ["train.stepz", "did you mean 'train.steps'?"],
    "string_for_int.toml": ["train.steps", "integer", '"500"', "without quotes"],
    "bool_for_int.toml": ["train.d", "got true"],
    "float_for_int.toml": ["train.width", "got 100.0"],
    "p_too_small.toml": ["task.p", ">= 2", "got 1"],
    "m_too_small.toml": ["task.m", ">= 2", "got 1"],
    "m_above_p.toml": ["task.m", "m <= p = 5"],
    "train_fraction.toml": ["train.train_fraction", "expected a number in (0, 1), got 1.5"],
    "negative_steps.toml": ["train.steps", "got -5"],
    "until_unknown_rule.toml": ["train.until", '"accuracy_settled"', "loss_settled"],
    "until_window_not_below_steps.toml": [
        "train.settle_window",
        "fewer steps than train.steps = 500",
        "got 500",
    ],
    "until_negative_tolerance.toml": ["train.settle_tolerance", "got -0.1"],
    "until_survivors_not_modadd.toml": ["train.until", "modular addition", '"xor"'],
    "until_window_below_log_every.toml": [
        "train.settle_window",
        "at least train.log_every = 100",
        "got 1",
    ],
    "name_trailing_newline.toml": ["name: expected a folder name", '"abc\\n"'],
    "label_trailing_newline.toml": ["cases[0].label: expected a name", '"small\\n"'],
    "missing_profile.toml": ["profiles.paper", "missing"],
    "unknown_profile.toml": ["profiles.gpu", "unknown profile"],
    "unknown_study.toml": ["study", "no_such_study"],
    "unknown_task.toml": ["task.name", '"modsub"', '"modadd"'],
    "wrong_task_key.toml": ["task.bits", 'not a key of task "modadd"'],
    "missing_task_key.toml": ["task.m", "missing"],
    "syntax_error.toml": ["line 6, column", "TOML syntax error"],
    "grid_empty.toml": ['grid."train.d"', "non-empty list"],
    "grid_unknown_key.toml": ['grid."train.dd"', "did you mean 'grid.\"train.d\"'?"],
    "grid_bad_value.toml": ['grid."train.d"[2]', "got 0"],
    "grid_task_name.toml": ['grid."task.name"', "[[cases]]"],
    "profile_bad_value.toml": ["profiles.cpu.train.steps", "got -1"],
    "duplicate_case_labels.toml": ["cases[1].label", 'duplicate label "small"'],
    "case_bad_value.toml": ["cases[0].train.lr", "got -0.1"],
    "transform_not_modadd.toml": ["transform.name", '"fourier_keep"', '"xor"'],
    "transform_frequency_range.toml": ["transform.k", "1..29", "got 30"],
    "seeds_other_layout.toml": ["seeds.trials_per_embedding", 'layout "independent"'],
    "run_bad_strategy.toml": ["run.strategy", 'did you mean "mirrored"?'],
    "run_key_in_train.toml": ["train.jit_compile", "run.jit_compile"],
    "eval_every.toml": ["train.eval_every", "unknown key", "did you mean 'train.log_every'?"],
    "analysis_unknown_key.toml": [
        "analysis.seeds_shwn",
        "unknown key",
        "did you mean 'analysis.seeds_shown'?",
    ],
    "analysis_bad_value.toml": [
        "profiles.cpu.analysis.seeds_shown",
        "expected an integer >= 1, got 0",
    ],
    "p_too_large.toml": ["task.p", "expected p <= 2048", "got 5000"],
    "too_many_records.toml": [
        "train.log_every",
        "1000010 measurements per trial",
        f"more than {MAX_RECORDS}",
        "log_every >= 51",
    ],
    "too_many_trials.toml": ["profiles.paper.seeds.count", "more than 100000 trials"],
}


def test_every_bad_config_is_checked():
    assert sorted(p.name for p in BAD.glob("*.toml")) == sorted(BAD_CASES)
    assert len(BAD_CASES) >= 12


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_config(name):
    path = BAD / name
    with pytest.raises(ConfigError) as info:
        load_experiment(path, profile="smoke")
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for part in BAD_CASES[name]:
        assert part in message, message


def test_missing_file_and_bad_profile_argument(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_experiment(tmp_path / "nope.toml")
    path = write(tmp_path, BASE)
    with pytest.raises(ConfigError) as info:
        load_experiment(path, profile="gpu")
    assert (
        str(info.value)
        == f"{path}: --profile gpu: no such profile (expected one of smoke, cpu, paper)"
    )


def test_every_profile_is_checked_whichever_is_chosen(tmp_path):
    path = write(tmp_path, BASE.replace("train = { steps = 30000 }", "train = { lr = 0 }"))
    with pytest.raises(
        ConfigError, match=r"profiles\.paper\.train\.lr: expected a number > 0, got 0"
    ):
        load_experiment(path, profile="smoke")


def test_profile_switching_the_task_is_named(tmp_path):
    # A profile that changes the task makes the base transform invalid; the message says which profile.
    text = BASE + '[transform]\nname = "fourier_keep"\nrule = "random 1"\n'
    text = text.replace("[profiles.cpu]\n", '[profiles.cpu]\ntask = { name = "xor", bits = 3 }\n')
    with pytest.raises(ConfigError, match=r"transform\.name: .*\(with profile cpu\)$"):
        load_experiment(write(tmp_path, text), profile="smoke")


# ---- profiles and --set ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, key, value",
    [
        ("train.steps=500", "train.steps", 500),
        ("train.lr = 1e-3", "train.lr", 1e-3),
        ('task.name="xor"', "task.name", "xor"),
        ("task.name=xor", "task.name", "xor"),
        ("train.freeze_embedding=true", "train.freeze_embedding", True),
        ("grid.train.d=[4,8]", "grid.train.d", [4, 8]),
        ('grid."train.d"=[4, 8]', "grid.train.d", [4, 8]),
        ("transform.rule=random 1", "transform.rule", "random 1"),
        ("analysis.note=a=b", "analysis.note", "a=b"),
    ],
)
def test_parse_override(text, key, value):
    assert parse_override(text) == (key, value)


@pytest.mark.parametrize("text", ["train.steps", "=5", "train steps=5"])
def test_parse_override_rejects(text):
    with pytest.raises(ConfigError, match="^--set "):
        parse_override(text)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["train.steps"], "--set train.steps: expected dotted.key=value"),
        (["trian.steps=5"], "--set trian.steps: cannot be set (did you mean 'train'?)"),
        (["study=other"], "--set study: cannot be set"),
        (["train.steps=abc"], '--set train.steps: expected an integer >= 0, got "abc"'),
        (["train.stepz=5"], "--set train.stepz: unknown key (did you mean '--set train.steps'?)"),
        (["grid.train.d=[]"], '--set grid."train.d": expected a non-empty list'),
        (["task.name=xor"], "--set task.bits: missing"),
    ],
)
def test_set_errors_name_the_override(tmp_path, overrides, expected):
    path = write(tmp_path, BASE)
    with pytest.raises(ConfigError) as info:
        load_experiment(path, profile="smoke", overrides=overrides)
    assert str(info.value).startswith(f"{path}: {expected}"), str(info.value)


def test_profile_then_overrides(tmp_path):
    path = write(tmp_path, BASE)
    assert config.DEFAULT_PROFILE == "cpu"
    default = load_experiment(path)
    assert default.profile == "cpu" and default.resolved["train"]["steps"] == 1000
    assert len(default.trials()) == 3
    smoke = load_experiment(path, profile="smoke")
    assert smoke.resolved["train"] == {"steps": 20, "d": 8}  # tables merge key by key
    assert len(smoke.trials()) == 2
    assert load_experiment(path, profile="paper").trials()[0].settings["train"]["steps"] == 30000
    over = load_experiment(path, profile="smoke", overrides=["train.steps=7", "seeds.count=4"])
    assert over.overrides == ("train.steps=7", "seeds.count=4")
    assert over.resolved["train"]["steps"] == 7 and len(over.trials()) == 4
    # one --set layer: switching the task and giving its key work in either order
    for order in (["task.name=xor", "task.bits=2"], ["task.bits=2", "task.name=xor"]):
        xor = load_experiment(path, profile="smoke", overrides=order)
        assert xor.trials()[0].settings["task"] == {"name": "xor", "bits": 2}
        assert xor.trials()[0].task().p == 4


def test_profile_cases_replace_the_list_and_grids_merge_by_key(tmp_path):
    text = BASE + textwrap.dedent(
        """
        [grid]
        "train.d" = [4, 8]
        "train.lr" = [0.01, 0.1]
        [[cases]]
        label = "a"
        [[cases]]
        label = "b"
        grid = { "train.d" = [16] }
        """
    )
    text = text.replace(
        "seeds = { count = 2 }",
        'seeds = { count = 1 }\ncases = [{ label = "only" }]\ngrid = { train.lr = [0.5] }',
    )
    path = write(tmp_path, text)
    cpu = load_experiment(path, profile="cpu")
    runs = [
        (t.settings["case"], t.settings["grid"])
        for t in cpu.trials()
        if t.settings["index"]["embedding"] == 0
    ]
    assert runs == [
        ("a", {"train.d": 4, "train.lr": 0.01}),
        ("a", {"train.d": 4, "train.lr": 0.1}),
        ("a", {"train.d": 8, "train.lr": 0.01}),
        ("a", {"train.d": 8, "train.lr": 0.1}),
        ("b", {"train.d": 16, "train.lr": 0.01}),  # the case's grid replaced "train.d" only
        ("b", {"train.d": 16, "train.lr": 0.1}),
    ]
    smoke = load_experiment(path, profile="smoke")
    assert [(t.settings["case"], t.settings["grid"]) for t in smoke.trials()] == [
        ("only", {"train.d": 4, "train.lr": 0.5}),
        ("only", {"train.d": 8, "train.lr": 0.5}),
    ]
    assert smoke.resolved["grid"] == {"train.d": [4, 8], "train.lr": [0.5]}


def test_quoted_and_dotted_grid_keys_are_one_key(tmp_path):
    dotted = load_experiment(write(tmp_path, BASE + "[grid]\ntrain.d = [4, 8]\n", "a.toml"))
    quoted = load_experiment(write(tmp_path, BASE + '[grid]\n"train.d" = [4, 8]\n', "a2.toml"))
    assert [t.id for t in dotted.trials()] == [t.id for t in quoted.trials()]
    both = write(tmp_path, BASE + '[grid]\n"train.d" = [4]\ntrain.d = [8]\n', "b.toml")
    with pytest.raises(ConfigError, match=r'grid\."train\.d": given twice'):
        load_experiment(both)


def test_case_switching_the_task_replaces_the_task_table(tmp_path):
    text = BASE.replace('name = "modadd"\np = 7', 'name = "xor"\nbits = 3') + textwrap.dedent(
        """
        [[cases]]
        label = "xor"
        [[cases]]
        label = "modadd"
        task = { name = "modadd", p = 11 }
        transform = { name = "fourier_keep", rule = "mean+1std" }
        """
    )
    exp = load_experiment(write(tmp_path, text), profile="smoke")
    by_case = {t.settings["case"]: t.settings for t in exp.trials()}
    assert by_case["xor"]["task"] == {"name": "xor", "bits": 3}
    assert by_case["xor"]["transform"] == {"name": "none"}
    assert by_case["modadd"]["task"] == {"name": "modadd", "p": 11}
    assert by_case["modadd"]["transform"] == {
        "name": "fourier_keep",
        "rule": "mean+1std",
        "keep_zero": True,
        "source_case": "",
    }


# ---- trial expansion ---------------------------------------------------------------------------

GRID_CASES = BASE + textwrap.dedent(
    """
    [grid]
    "train.d" = [4, 8, 16]
    "train.freeze_embedding" = [true, false]
    [[cases]]
    label = "plain"
    [[cases]]
    label = "decayed"
    train = { weight_decay = 2 }
    """
)


def test_counts_order_and_settings_layout(tmp_path):
    exp = load_experiment(write(tmp_path, GRID_CASES), profile="cpu")
    trials = exp.trials()
    assert len(trials) == 2 * (3 * 2) * 3
    assert len({t.id for t in trials}) == len(trials)
    # cases outermost, then the grid in declared key order, then seeds
    assert [t.settings["case"] for t in trials[:18]] == ["plain"] * 18
    assert [t.settings["grid"]["train.d"] for t in trials[:18:3]] == [4, 4, 8, 8, 16, 16]
    assert [t.settings["seeds"]["embedding"] for t in trials[:3]] == [0, 1, 2]
    s = trials[-1].settings
    assert set(s) == {"case", "grid", "task", "train", "transform", "seeds", "index"}
    assert s["case"] == "decayed" and s["grid"] == {"train.d": 16, "train.freeze_embedding": False}
    assert s["train"]["weight_decay"] == 2.0 and isinstance(s["train"]["weight_decay"], float)
    assert s["train"]["d"] == 16 and s["train"]["freeze_embedding"] is False
    assert set(s["train"]) == set(schema.spec(TrainConfig))
    assert s["task"] == {"name": "modadd", "p": 7} and s["transform"] == {"name": "none"}
    assert s["seeds"] == {"embedding": 2, "mlp": 2, "split": 2} and s["index"] == {
        "embedding": 2,
        "trial": 0,
    }
    json.dumps(s)  # JSON-able


def test_independent_seeds(tmp_path):
    exp = load_experiment(
        write(tmp_path, BASE), profile="cpu", overrides=["seeds.base=5", "seeds.count=4"]
    )
    assert [tuple(t.settings["seeds"].values()) for t in exp.trials()] == [
        (5, 5, 5),
        (6, 6, 6),
        (7, 7, 7),
        (8, 8, 8),
    ]
    assert [t.settings["index"] for t in exp.trials()] == [
        {"embedding": i, "trial": 0} for i in range(4)
    ]


def test_fixed_embedding_seeds(tmp_path):
    text = BASE.replace(
        "count = 3",
        'layout = "fixed_embedding"\nbase = 10\nembeddings = 2\ntrials_per_embedding = 3',
    )
    text = text.replace("seeds = { count = 2 }", "seeds = { embeddings = 1 }")
    exp = load_experiment(write(tmp_path, text), profile="cpu")
    got = [
        (t.settings["seeds"]["embedding"], t.settings["seeds"]["mlp"], t.settings["seeds"]["split"])
        for t in exp.trials()
    ]
    assert got == [
        (10, 10, 10),
        (10, 11, 11),
        (10, 12, 12),
        (11, 13, 13),
        (11, 14, 14),
        (11, 15, 15),
    ]
    assert [tuple(t.settings["index"].values()) for t in exp.trials()] == [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    assert len(load_experiment(write(tmp_path, text), profile="smoke").trials()) == 3


def test_ids_are_stable_and_follow_every_setting(tmp_path):
    path = write(tmp_path, GRID_CASES)
    first = load_experiment(path)
    ids = [t.id for t in first.trials()]
    assert ids == [t.id for t in first.trials()] == [t.id for t in load_experiment(path).trials()]
    t = first.trials()[0]
    canonical = json.dumps(
        identity(t.settings), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert t.id == hashlib.sha256(canonical.encode()).hexdigest()[:16] and len(t.id) == 16
    for change in (
        ["train.steps=999"],
        ["train.lr=0.02"],
        ["train.dtype=float64"],
        ["task.p=11"],
        ["seeds.base=1"],
        ["transform.name=fourier_scale", "transform.k=1", "transform.s=2"],
        ['cases=[{label = "plain2"}, {label = "decayed", train = {weight_decay = 2}}]'],
    ):
        changed = [t.id for t in load_experiment(path, overrides=change).trials()]
        assert ids[0] not in changed, change
    # an int where a float is meant is the same trial
    assert [t.id for t in load_experiment(path, overrides=["train.lr=1"]).trials()] == [
        t.id for t in load_experiment(path, overrides=["train.lr=1.0"]).trials()
    ]


def test_run_settings_do_not_change_ids(tmp_path):
    path = write(tmp_path, GRID_CASES + "[run]\ntensorboard_members = 2\n")
    plain = load_experiment(path)
    assert plain.run == {
        "jit_compile": True,
        "group_size": 0,
        "strategy": "default",
        "tensorboard_members": 2,
    }
    ran = load_experiment(
        path, overrides=["run.group_size=8", "run.jit_compile=false", "run.strategy=mirrored"]
    )
    assert ran.run == {
        "jit_compile": False,
        "group_size": 8,
        "strategy": "mirrored",
        "tensorboard_members": 2,
    }
    assert ran.resolved["run"] == ran.run
    assert [t.id for t in ran.trials()] == [t.id for t in plain.trials()]


def test_population_key_groups_trials_that_differ_only_in_seeds(tmp_path):
    exp = load_experiment(write(tmp_path, GRID_CASES), profile="cpu")
    trials = exp.trials()
    groups = exp.populations()
    assert len(groups) == 2 * 3 * 2 and all(len(g) == 3 for g in groups)
    for group in groups:
        assert len({t.population_key for t in group}) == 1
        strip = [
            {k: v for k, v in t.settings.items() if k not in ("seeds", "index")} for t in group
        ]
        assert all(s == strip[0] for s in strip)
        assert len({t.settings["seeds"]["embedding"] for t in group}) == 3
    assert len({t.population_key for t in trials}) == len(groups)
    hash(trials[0].population_key)
    assert [t for g in groups for t in g] == trials  # the order within and between groups is kept


def test_task_and_train_config(tmp_path):
    exp = load_experiment(write(tmp_path, BASE), profile="smoke")
    plan = exp.trials()[0]
    task = plan.task()
    assert (task.name, task.p, task.classes) == ("modadd", 7, 7)
    cfg = plan.train_config(exp.run)
    assert isinstance(cfg, TrainConfig) and cfg.steps == 20 and cfg.d == 8
    assert cfg.jit_compile is True and cfg.group_size is None  # 0 means automatic
    cfg = plan.train_config({"jit_compile": False, "group_size": 8})
    assert cfg.jit_compile is False and cfg.group_size == 8


def test_resolved_is_json_without_profiles(tmp_path):
    exp = load_experiment(
        write(tmp_path, GRID_CASES + "[analysis]\ntau = [0.01, 0.05]\n", "my_exp.toml")
    )
    assert exp.name == "my_exp" and exp.study == "demo" and exp.description == ""
    assert "profiles" not in exp.resolved and exp.resolved["name"] == "my_exp"
    assert exp.analysis == {"tau": [0.01, 0.05], "seeds_shown": 4}  # validated, defaults filled
    assert exp.record(trial_ids=[])["analysis"] == exp.analysis == exp.resolved["analysis"]
    json.dumps(exp.resolved)
    named = load_experiment(write(tmp_path, 'name = "other_name"\ndescription = "d"\n' + BASE))
    assert named.name == "other_name" and named.description == "d"
    dated = write(tmp_path, BASE + "[analysis]\nwhen = 1979-05-27\n", "dated.toml")
    with pytest.raises(ConfigError, match=r"analysis\.when: dates and times are not supported"):
        load_experiment(dated)


# ---- the committed experiment files ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.toml")), ids=lambda p: p.name)
@pytest.mark.parametrize("profile", config.PROFILES)
def test_experiment_files_load(path, profile):
    exp = load_experiment(path, profile=profile)
    assert exp.trials()
    assert "eval_every" not in path.read_text()


# ---- [analysis] against the study's declaration ------------------------------------------------


def test_analysis_is_validated_through_profiles_and_set(tmp_path):
    path = write(
        tmp_path, BASE.replace("[profiles.cpu]\n", "[profiles.cpu]\nanalysis = { tau = 0.1 }\n")
    )
    assert load_experiment(path, profile="smoke").analysis == {"tau": 0.05, "seeds_shown": 4}
    assert load_experiment(path, profile="cpu").analysis == {"tau": 0.1, "seeds_shown": 4}
    over = load_experiment(path, overrides=["analysis.seeds_shown=2", "analysis.tau=[0.01, 0.05]"])
    assert over.analysis == {"tau": [0.01, 0.05], "seeds_shown": 2}
    assert over.record(trial_ids=["a"])["analysis"] == over.analysis
    for overrides, expected in (
        (
            ["analysis.seeds_shwn=2"],
            "--set analysis.seeds_shwn: unknown key (did you mean '--set analysis.seeds_shown'?)",
        ),
        (
            ["analysis.seeds_shown=two"],
            '--set analysis.seeds_shown: expected an integer >= 1, got "two"',
        ),
        (
            ["analysis.tau=[]"],
            "--set analysis.tau: expected a number >= 0 or a non-empty list of numbers, got []",
        ),
    ):
        with pytest.raises(ConfigError) as info:
            load_experiment(path, overrides=overrides)
        assert str(info.value).startswith(f"{path}: {expected}"), str(info.value)


def test_study_without_analysis_keys_refuses_any(tmp_path):
    path = write(
        tmp_path, BASE.replace('study = "demo"', 'study = "other"') + "[analysis]\ntau = 1\n"
    )
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert (
        str(info.value)
        == f'{path}: analysis.tau: unknown key (study "other" declares no [analysis] keys)'
    )
    assert (
        load_experiment(
            write(tmp_path, BASE.replace('study = "demo"', 'study = "other"'), "b.toml")
        ).analysis
        == {}
    )


def _declared_study():
    """A real study that declares [analysis] keys, its experiment file, and one of its keys."""
    for name in REAL_STUDY_NAMES():
        analysis = getattr(REAL_DECLARATION(name), "analysis", None)
        if (
            analysis is not None
            and schema.spec(analysis)
            and (EXPERIMENTS / f"{name}.toml").exists()
        ):
            return name, EXPERIMENTS / f"{name}.toml", next(iter(schema.spec(analysis)))
    pytest.skip("no study declares [analysis] keys yet")


def _with_analysis_typo(tmp_path, source: Path, key: str) -> tuple[Path, str]:
    typo = key[:-1] + ("z" if key[-1] != "z" else "y")
    text = source.read_text()
    text = (
        text.replace("[analysis]\n", f"[analysis]\n{typo} = 1\n")
        if "[analysis]\n" in text
        else text + f"\n[analysis]\n{typo} = 1\n"
    )
    path = tmp_path / source.name
    path.write_text(text)
    return path, typo


def test_analysis_typo_in_a_real_study(tmp_path):
    name, source, key = _declared_study()
    path, typo = _with_analysis_typo(tmp_path, source, key)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert (
        str(info.value) == f"{path}: analysis.{typo}: unknown key (did you mean 'analysis.{key}'?)"
    )
    assert (
        load_experiment(source).analysis.keys()
        == schema.spec(REAL_DECLARATION(name).analysis).keys()
    )


def test_runner_refuses_an_analysis_typo_before_writing(tmp_path):
    _, source, key = _declared_study()
    path, typo = _with_analysis_typo(tmp_path, source, key)
    out, reports = tmp_path / "runs", tmp_path / "reports"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cinit_tf.run",
            str(path),
            "--out",
            str(out),
            "--reports",
            str(reports),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=HERE.parent,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: {path}: analysis.{typo}: unknown key (did you mean 'analysis.{key}'?)"
    ]
    assert proc.stdout == "" and not out.exists() and not reports.exists()


# ---- identity of new settings and limits -------------------------------------------------------


@dataclass(frozen=True)
class ModaddWithNewSetting:
    p: int = setting(Int(2))
    q: int = setting(Int(0), 0, new=True)  # as a setting added after trials were run would be


def test_a_new_setting_at_its_default_keeps_every_id(tmp_path, monkeypatch):
    path = write(tmp_path, GRID_CASES)
    before = [t.id for t in load_experiment(path).trials()]
    monkeypatch.setitem(schema.TASKS, "modadd", ModaddWithNewSetting)
    after = load_experiment(path).trials()
    assert after[0].settings["task"] == {
        "name": "modadd",
        "p": 7,
        "q": 0,
    }  # settings hold it, the id leaves it out
    assert [t.id for t in after] == before
    assert [t.id for t in load_experiment(path, overrides=["task.q=0"]).trials()] == before
    changed = [t.id for t in load_experiment(path, overrides=["task.q=1"]).trials()]
    assert not set(changed) & set(before) and len(set(changed)) == len(before)
    # varied in a grid, the default point is still the trial that ran before
    grid = load_experiment(
        path,
        overrides=[
            "grid.task.q=[0, 1]",
            'cases=[{label = "plain"}]',
            "grid.train.d=[4]",
            "grid.train.freeze_embedding=[true]",
        ],
    )
    assert [t.settings["grid"] for t in grid.trials()[:4:3]] == [
        {"train.d": 4, "train.freeze_embedding": True, "task.q": 0},
        {"train.d": 4, "train.freeze_embedding": True, "task.q": 1},
    ]
    assert grid.trials()[0].id == before[0] and grid.trials()[3].id not in before
    with pytest.raises(ConfigError, match=r"--set task\.q: expected an integer >= 0"):
        load_experiment(path, overrides=["task.q=-1"])


def test_an_old_setting_at_its_default_is_part_of_the_id(tmp_path):
    path = write(tmp_path, BASE)
    explicit = load_experiment(path, overrides=["train.width=100"]).trials()  # 100 is the default
    assert [t.id for t in explicit] == [t.id for t in load_experiment(path).trials()]
    t = explicit[0]
    assert t.settings["train"]["width"] == 100 and identity(t.settings)["train"]["width"] == 100
    canonical = json.dumps(
        identity(t.settings), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert t.id == hashlib.sha256(canonical.encode()).hexdigest()[:16]


def test_measurement_limit_names_a_log_every_that_fits(tmp_path):
    path = write(tmp_path, BASE)
    with pytest.raises(ConfigError) as info:
        load_experiment(path, overrides=["train.steps=3000000", "train.log_every=1"])
    message = str(info.value)
    assert (
        message.startswith(f"{path}: --set train.log_every: 3000000 steps measured every 1 ")
        and " 3000001 measurements" in message
    )
    every = int(message.rsplit("log_every >= ", 1)[1].split(")")[0])
    fits = lambda e: TrainConfig(steps=3_000_000, log_every=e).n_records() <= MAX_RECORDS  # noqa: E731
    assert fits(every) and not fits(every - 1)
    assert load_experiment(
        path, overrides=["train.steps=3000000", f"train.log_every={every}"]
    ).trials()
    with pytest.raises(ConfigError, match=r"--set train\.first_steps: .*set a smaller first_steps"):
        load_experiment(path, overrides=["train.steps=3000000", "train.first_steps=2000000"])


def test_planning_does_not_grow_with_steps(tmp_path):
    path = write(tmp_path, BASE)
    start = time.perf_counter()
    exp = load_experiment(
        path, overrides=["train.steps=1000000000000", "train.log_every=100000000"]
    )
    plan = exp.trials()[0]
    assert plan.train_config(exp.run).n_records() == 10_000 + 11
    assert time.perf_counter() - start < 5


def test_trial_count_limit(tmp_path):
    path = write(tmp_path, BASE)
    with pytest.raises(ConfigError) as info:
        load_experiment(path, overrides=["seeds.count=100001"])
    assert (
        str(info.value)
        == f"{path}: --set seeds.count: the experiment plans more than 100000 trials (cases × grid points × seeds; the limit)"
    )
    assert (
        len(load_experiment(path, overrides=["seeds.count=100000", "grid.train.d=[4]"]).points) == 1
    )
    # a grid whose product alone is over the limit fails before any point is walked
    start = time.perf_counter()
    huge = ", ".join(str(i) for i in range(1, 101))
    with pytest.raises(
        ConfigError, match=r"--set grid: plans 1000000 grid points, so more than 100000 trials"
    ):
        load_experiment(
            path,
            overrides=[
                f"grid.train.d=[{huge}]",
                f"grid.train.width=[{huge}]",
                f"grid.train.steps=[{huge}]",
            ],
        )
    assert time.perf_counter() - start < 5


# ---- runtime declarations, folder names, odd files ---------------------------------------------

RUNTIME = (
    'runtime = { smoke = "10 s", cpu = "~8 min (measured, idle 2-core CPU)", paper = "1.5 h" }\n'
)


def test_runtime_is_read_and_validated(tmp_path):
    path = write(tmp_path, 'study = "xor_rank"\n' + RUNTIME + BASE.replace('study = "demo"\n', ""))
    assert load_experiment(path).runtime["paper"] == "1.5 h"
    assert (
        schema.runtime_seconds("~8 min (measured)") == 480
        and schema.runtime_seconds("1.5 h") == 5400
    )
    cases = {
        'runtime = { smoke = "10 s", cpu = "8 min" }': "runtime.paper: missing",
        'runtime = { smoke = "10 s", cpu = "8 min", paper = "soon" }': "runtime.paper: expected a duration first",
        'runtime = { smoke = "10 s", cpu = "8 min", paper = "1 h", gpu = "1 s" }': "runtime.gpu: unknown profile",
        'runtime = "8 min"': "runtime: expected a table",
    }
    for line, message in cases.items():
        path = write(
            tmp_path, 'study = "xor_rank"\n' + line + "\n" + BASE.replace('study = "demo"\n', "")
        )
        with pytest.raises(ConfigError, match=message):
            load_experiment(path)
    path = write(
        tmp_path,
        'study = "xor_rank"\n'
        + BASE.replace('study = "demo"\n', "")
        + '[profiles.smoke.runtime]\nsmoke = "1 s"\n',
    )
    with pytest.raises(ConfigError, match="a profile cannot change runtime"):
        load_experiment(path)


def test_every_experiment_file_declares_its_runtime():
    for path in sorted(EXPERIMENTS.glob("*.toml")):
        assert set(load_experiment(path, profile="smoke").runtime) == {"smoke", "cpu", "paper"}, (
            path.name
        )


def test_tensorboard_members_default_is_one_per_point(tmp_path):
    path = write(tmp_path, 'study = "xor_rank"\n' + BASE.replace('study = "demo"\n', ""))
    assert load_experiment(path).run["tensorboard_members"] == 1


@pytest.mark.parametrize("label", ["../evil", "a/b", "..", ".x", "a..b", "-x", "", "x\\n", "x\\r"])
def test_case_labels_must_be_folder_names(tmp_path, label):
    path = write(
        tmp_path,
        'study = "xor_rank"\n'
        + BASE.replace('study = "demo"\n', "")
        + f'[[cases]]\nlabel = "{label}"\n',
    )
    with pytest.raises(ConfigError, match=r"cases\[0\]\.label: expected a name"):
        load_experiment(path)
