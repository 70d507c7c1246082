"""The experiment format as data: what each table of an experiment file may hold.

Each table is a frozen dataclass whose fields carry their rule in `field(metadata={"rule": ...})`;
the loader (`cinit_tf.experiment.config`) validates every table generically from these. `[train]` is
`cinit_tf.trial.TrainConfig` itself, so the file's defaults are the engine's. A table with a
discriminator (`task.name`, `transform.name`, `seeds.layout`) has one dataclass per variant.

A field added later gets `setting(..., new=True)`: at its default it is left out of a trial's
identity, so adding a setting never changes the ids of trials already run (`cinit_tf.experiment.plan`).
No TensorFlow here (method: docs/method.md#tasks, #transforms, #seeds-and-splits).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields

from cinit_tf.settings import (
    REQUIRED,
    Bool,
    Choice,
    Either,
    Float,
    Int,
    Text,
    schema_fields,
    setting,
)
from cinit_tf.tasks import TASK_NAMES
from cinit_tf.transforms import CONSTRUCT_EPS, KEEP_RULES
from cinit_tf.trial import TrainConfig

PROFILES = ("smoke", "cpu", "paper")
# The committed reports are made with the cpu profile (docs/method.md#profiles), so a bare run reproduces them.
DEFAULT_PROFILE = "cpu"

# Limits that keep validation and planning small whatever a file says.
MAX_P = 2048  # p² pairs: 4.2 million, each a row of every measurement
MAX_XOR_BITS = 12  # p = 4096: p² pairs is already 16.8 million
MAX_TRIALS = 100_000  # trials one experiment may plan (cases × grid points × seeds)


# ---- [task]: one dataclass per task name -------------------------------------------------------


@dataclass(frozen=True)
class RemainderTask:
    p: int = setting(Int(2), doc="tokens 0..p-1; at most MAX_P")
    m: int = setting(Int(2), doc="label: a ≡ b (mod m); m <= p")
    head: str = setting(
        Choice(("two", "p")),
        "two",
        new=True,
        doc='output layer: "two" logits (the label is binary) or "p" logits as the paper\'s App. A states',
    )


@dataclass(frozen=True)
class XorTask:
    bits: int = setting(Int(1, MAX_XOR_BITS), doc="p = 2**bits tokens")


@dataclass(frozen=True)
class ModaddTask:
    p: int = setting(Int(2), doc="label: (a + b) mod p; at most MAX_P")


TASKS = {"remainder": RemainderTask, "xor": XorTask, "modadd": ModaddTask}
assert tuple(TASKS) == TASK_NAMES


# ---- [transform]: one dataclass per transform name (modular addition only) -------------------


@dataclass(frozen=True)
class NoTransform:
    pass


@dataclass(frozen=True)
class FourierScale:
    k: int | str = setting(
        Either(Int(1), Choice(("random",))), doc="frequency 1..(p-1)/2, or drawn per embedding"
    )
    s: float = setting(Float(0.0), doc="factor on F_k and F_{p-k}")


@dataclass(frozen=True)
class FourierKeep:
    rule: str = setting(
        Choice(KEEP_RULES),
        doc='which frequencies keep their signal ("random as many as mean+1std": '
        'as many as "mean+1std" keeps on the same embedding, drawn at random from the embedding seed)',
    )
    keep_zero: bool = setting(Bool(), True, doc="keep F_0 (the mean)")
    source_case: str = setting(
        Text(),
        "",
        new=True,
        doc="the case whose trial with the same seeds supplies the final "
        'signals of the "top-k final" rules (a second stage; random rules then avoid its top two)',
    )


@dataclass(frozen=True)
class ConstructTwo:
    s: float = setting(Float(0.0, lo_open=True), doc="total signal of the two circles")
    r: float = setting(Float(0.0, 1.0), doc="share of s on the first circle")
    eps: float = setting(
        Float(0.0, lo_open=True), CONSTRUCT_EPS, doc="signal of every other frequency"
    )


TRANSFORMS = {
    "none": NoTransform,
    "fourier_scale": FourierScale,
    "fourier_keep": FourierKeep,
    "construct_two": ConstructTwo,
}


# ---- [seeds]: one dataclass per layout ----------------------------------------------------------


@dataclass(frozen=True)
class IndependentSeeds:
    count: int = setting(Int(1), 1, doc="trial i: embedding = mlp = split seed = base + i")
    base: int = setting(Int(0), 0)


@dataclass(frozen=True)
class FixedEmbeddingSeeds:
    embeddings: int = setting(Int(1), 1, doc="embedding seeds base + e")
    trials_per_embedding: int = setting(
        Int(1), 1, doc="mlp = split seed = base + e * trials_per_embedding + t"
    )
    base: int = setting(Int(0), 0)


SEED_LAYOUTS = {"independent": IndependentSeeds, "fixed_embedding": FixedEmbeddingSeeds}


# ---- [run]: how to execute, never part of a trial's identity -----------------------------------


@dataclass(frozen=True)
class RunSettings:
    jit_compile: bool = setting(Bool(), True)
    group_size: int = setting(Int(0), 0, doc="members per compiled program; 0 = automatic")
    strategy: str = setting(Choice(("default", "mirrored")), "default")
    tensorboard_members: int = setting(
        Int(0),
        1,
        doc="trials per case × grid point with TensorBoard curves: those with the smallest embedding seed (then MLP seed)",
    )


# ---- how the tables fit together ---------------------------------------------------------------

VARIANTS = {"task": TASKS, "transform": TRANSFORMS, "seeds": SEED_LAYOUTS}
# The key that decides which other keys a table may have, and its value when absent.
DISCRIMINATORS = {
    "task": ("name", None),
    "transform": ("name", "none"),
    "seeds": ("layout", "independent"),
}
# TrainConfig's fields without a rule are execution, set from [run].
RUN_ONLY = tuple(f.name for f in fields(TrainConfig) if "rule" not in f.metadata)

LAYER_KEYS = (
    "task",
    "train",
    "seeds",
    "transform",
    "grid",
    "cases",
    "run",
    "analysis",
)  # what profiles and --set change
TOP_KEYS = ("name", "study", "description", "runtime", *LAYER_KEYS, "profiles")
CASE_KEYS = ("label", "task", "train", "transform", "seeds", "grid")
POINT_SECTIONS = ("task", "train", "transform", "seeds")  # what one trial is made of

# runtime = { smoke = "10 s", cpu = "8 min (measured ...)", paper = "9 h" }: a duration, then any note.
RUNTIME_PATTERN = r"^~?(\d+(?:\.\d+)?) ?(s|min|h)\b"
RUNTIME_UNITS = {"s": 1, "min": 60, "h": 3600}

# Names that become folder names (experiment name, case label, TensorBoard run): no separators, no "..".
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def safe_name(text) -> bool:
    """True when `text` can be a folder name inside a run folder without leaving it: the whole text
    matches SAFE_NAME (fullmatch: `$` would also match before a final newline) and holds no `..`."""
    return isinstance(text, str) and SAFE_NAME.fullmatch(text) is not None and ".." not in text


def runtime_seconds(text: str) -> float | None:
    """Seconds of a declared runtime ("~8 min (measured ...)" -> 480.0); None when it names no duration."""
    m = re.match(RUNTIME_PATTERN, text)
    return float(m[1]) * RUNTIME_UNITS[m[2]] if m else None


def duration(seconds: float) -> str:
    """A duration as runtimes are written: "40 s", "12 min", "2.4 h", "3.2 days"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.1f} days"


def spec(cls) -> dict:
    """{key: (default or REQUIRED, rule)} of a schema dataclass."""
    return schema_fields(cls)


def defaults(cls) -> dict:
    return {k: d for k, (d, _) in spec(cls).items() if d is not REQUIRED}


def section_keys(section: str) -> list[str]:
    """Every key a point section may hold, whichever variant it is."""
    if section == "train":
        return list(spec(TrainConfig))
    disc, _ = DISCRIMINATORS[section]
    keys = [disc]
    for cls in VARIANTS[section].values():
        keys += [k for k in spec(cls) if k not in keys]
    return keys


def grid_keys() -> list[str]:
    return [f"{s}.{k}" for s in POINT_SECTIONS for k in section_keys(s)]


def schema_of(section: str, table: dict):
    """The dataclass a resolved task, train or transform table follows."""
    if section == "train":
        return TrainConfig
    return VARIANTS[section][table[DISCRIMINATORS[section][0]]]


@functools.cache
def _new_settings(cls) -> tuple:
    return tuple((f.name, f.default) for f in fields(cls) if f.metadata.get("new"))


def new_at_default(cls, table: dict) -> set[str]:
    """Keys of `table` that are new settings holding their default (left out of a trial's identity)."""
    out = set()
    for name, default in _new_settings(cls):
        v = table.get(name, REQUIRED)
        # bool == int in Python: a new flag at False is not a count at 0
        if v == default and isinstance(v, bool) == isinstance(default, bool):
            out.add(name)
    return out
