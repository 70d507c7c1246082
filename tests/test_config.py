"""Experiment files (SPEC §7-9): validation messages, profiles and --set, trial expansion and identity."""

import dataclasses
import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from cinit_tf import config
from cinit_tf.config import ConfigError, load_experiment, parse_override

HERE = Path(__file__).parent
BAD = HERE / "bad_configs"
EXPERIMENTS = HERE.parent / "experiments"


@pytest.fixture(autouse=True)
def demo_study(monkeypatch):
    """Study modules are written separately; these tests name a stand-in."""
    monkeypatch.setattr(config, "study_names", lambda: ["demo", "other"])


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
    "profile_bad_value.toml": ["profiles.cpu.train.steps", "got 0"],
    "duplicate_case_labels.toml": ["cases[1].label", 'duplicate label "small"'],
    "case_bad_value.toml": ["cases[0].train.lr", "got -0.1"],
    "transform_not_modadd.toml": ["transform.name", '"fourier_keep"', '"xor"'],
    "transform_frequency_range.toml": ["transform.k", "1..29", "got 30"],
    "seeds_other_layout.toml": ["seeds.trials_per_embedding", 'layout "independent"'],
    "run_bad_strategy.toml": ["run.strategy", 'did you mean "mirrored"?'],
    "run_key_in_train.toml": ["train.jit_compile", "run.jit_compile"],
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
    assert str(info.value) == f"{path}: --profile gpu: no such profile (expected one of smoke, cpu, paper)"


def test_every_profile_is_checked_whichever_is_chosen(tmp_path):
    path = write(tmp_path, BASE.replace("train = { steps = 30000 }", "train = { lr = 0 }"))
    with pytest.raises(ConfigError, match=r"profiles\.paper\.train\.lr: expected a number > 0, got 0"):
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
        (["train.steps=abc"], '--set train.steps: expected an integer >= 1, got "abc"'),
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
    text = text.replace("seeds = { count = 2 }", 'seeds = { count = 1 }\ncases = [{ label = "only" }]\ngrid = { train.lr = [0.5] }')
    path = write(tmp_path, text)
    cpu = load_experiment(path, profile="cpu")
    runs = [(t.settings["case"], t.settings["grid"]) for t in cpu.trials() if t.settings["index"]["embedding"] == 0]
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
    assert by_case["modadd"]["transform"] == {"name": "fourier_keep", "rule": "mean+1std", "keep_zero": True}


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
    assert set(s["train"]) == set(config.TRAIN_FIELDS)
    assert s["task"] == {"name": "modadd", "p": 7} and s["transform"] == {"name": "none"}
    assert s["seeds"] == {"embedding": 2, "mlp": 2, "split": 2} and s["index"] == {"embedding": 2, "trial": 0}
    json.dumps(s)  # JSON-able


def test_independent_seeds(tmp_path):
    exp = load_experiment(write(tmp_path, BASE), profile="cpu", overrides=["seeds.base=5", "seeds.count=4"])
    assert [tuple(t.settings["seeds"].values()) for t in exp.trials()] == [(5, 5, 5), (6, 6, 6), (7, 7, 7), (8, 8, 8)]
    assert [t.settings["index"] for t in exp.trials()] == [{"embedding": i, "trial": 0} for i in range(4)]


def test_fixed_embedding_seeds(tmp_path):
    text = BASE.replace("count = 3", 'layout = "fixed_embedding"\nbase = 10\nembeddings = 2\ntrials_per_embedding = 3')
    text = text.replace("seeds = { count = 2 }", "seeds = { embeddings = 1 }")
    exp = load_experiment(write(tmp_path, text), profile="cpu")
    got = [(t.settings["seeds"]["embedding"], t.settings["seeds"]["mlp"], t.settings["seeds"]["split"]) for t in exp.trials()]
    assert got == [(10, 10, 10), (10, 11, 11), (10, 12, 12), (11, 13, 13), (11, 14, 14), (11, 15, 15)]
    assert [tuple(t.settings["index"].values()) for t in exp.trials()] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert len(load_experiment(write(tmp_path, text), profile="smoke").trials()) == 3


def test_ids_are_stable_and_follow_every_setting(tmp_path):
    path = write(tmp_path, GRID_CASES)
    first = load_experiment(path)
    ids = [t.id for t in first.trials()]
    assert ids == [t.id for t in first.trials()] == [t.id for t in load_experiment(path).trials()]
    t = first.trials()[0]
    canonical = json.dumps(t.settings, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
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
    assert plain.run == {"jit_compile": True, "group_size": 0, "strategy": "default", "tensorboard_members": 2}
    ran = load_experiment(path, overrides=["run.group_size=8", "run.jit_compile=false", "run.strategy=mirrored"])
    assert ran.run == {"jit_compile": False, "group_size": 8, "strategy": "mirrored", "tensorboard_members": 2}
    assert ran.resolved["run"] == ran.run
    assert [t.id for t in ran.trials()] == [t.id for t in plain.trials()]


def test_population_key_groups_trials_that_differ_only_in_seeds(tmp_path):
    exp = load_experiment(write(tmp_path, GRID_CASES), profile="cpu")
    trials = exp.trials()
    groups = exp.populations()
    assert len(groups) == 2 * 3 * 2 and all(len(g) == 3 for g in groups)
    for group in groups:
        assert len({t.population_key for t in group}) == 1
        strip = [{k: v for k, v in t.settings.items() if k not in ("seeds", "index")} for t in group]
        assert all(s == strip[0] for s in strip)
        assert len({t.settings["seeds"]["embedding"] for t in group}) == 3
    assert len({t.population_key for t in trials}) == len(groups)
    hash(trials[0].population_key)
    assert [t for g in groups for t in g] == trials  # the order within and between groups is kept


def test_task_and_train_config(tmp_path):
    from cinit_tf.training import TrainConfig

    exp = load_experiment(write(tmp_path, BASE), profile="smoke")
    plan = exp.trials()[0]
    task = plan.task()
    assert (task.name, task.p, task.classes) == ("modadd", 7, 7)
    cfg = plan.train_config(exp.run)
    assert isinstance(cfg, TrainConfig) and cfg.steps == 20 and cfg.d == 8
    assert cfg.jit_compile is True and cfg.group_size is None  # 0 means automatic
    cfg = plan.train_config({"jit_compile": False, "group_size": 8})
    assert cfg.jit_compile is False and cfg.group_size == 8
    trial = plan.trial()
    assert (trial.embedding_seed, trial.mlp_seed, trial.split_seed) == (0, 0, 0)


def test_defaults_and_rules_match_the_engine():
    # config.py repeats these to validate without importing TensorFlow; they must not drift.
    from cinit_tf.training import TrainConfig
    from cinit_tf.transforms import CONSTRUCT_EPS, KEEP_RULES

    fields = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.name not in config.RUN_ONLY}
    assert {k: d for k, (d, _) in config.TRAIN_FIELDS.items()} == fields
    assert set(config.RUN_ONLY) <= {f.name for f in dataclasses.fields(TrainConfig)}
    assert config.KEEP_RULES == KEEP_RULES and config.CONSTRUCT_EPS == CONSTRUCT_EPS


def test_resolved_is_json_without_profiles(tmp_path):
    exp = load_experiment(write(tmp_path, GRID_CASES + '[analysis]\ntau = [0.01, 0.05]\n', "my_exp.toml"))
    assert exp.name == "my_exp" and exp.study == "demo" and exp.description == ""
    assert "profiles" not in exp.resolved and exp.resolved["name"] == "my_exp"
    assert exp.analysis == {"tau": [0.01, 0.05]}
    json.dumps(exp.resolved)
    named = load_experiment(write(tmp_path, 'name = "other_name"\ndescription = "d"\n' + BASE))
    assert named.name == "other_name" and named.description == "d"
    dated = write(tmp_path, BASE + "[analysis]\nwhen = 1979-05-27\n", "dated.toml")
    with pytest.raises(ConfigError, match=r"analysis\.when: dates and times are not supported"):
        load_experiment(dated)


# ---- the committed experiment files ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.toml")), ids=lambda p: p.name)
@pytest.mark.parametrize("profile", config.PROFILES)
def test_experiment_files_load(path, profile, monkeypatch):
    from cinit_tf import studies

    monkeypatch.setattr(config, "study_names", studies.study_names)
    exp = load_experiment(path, profile=profile)
    assert exp.trials()
