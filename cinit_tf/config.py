"""Experiment files (SPEC §7-9): one TOML file per paper section, validated whole before anything runs.

    # python -m cinit_tf.run experiments/xor_rank.toml
    name = "xor_rank"          # optional, default: the file's stem; results go to runs/<name>/
    study = "xor_rank"         # required: a module of cinit_tf.studies
    description = "..."        # optional

    [task]                     # required here, or in every [[cases]] entry
    name = "xor"               # remainder (p, m), xor (bits), modadd (p); no other keys

    [train]                    # optional: TrainConfig fields except jit_compile and group_size
    steps = 30000              # omitted fields take TrainConfig's defaults

    [seeds]                    # optional, default: layout "independent", count 1, base 0
    layout = "independent"     # trial i: embedding = mlp = split seed = base + i
    count = 100
    # layout = "fixed_embedding": embedding seed base + e (e < embeddings); trial t of it has
    # mlp = split seed = base + e * trials_per_embedding + t, so no two trials share an MLP or split.

    [transform]                # optional, default name "none"; anything else needs task modadd
    name = "fourier_keep"      # fourier_scale (k, s), fourier_keep (rule, keep_zero),
    rule = "mean+1std"         # construct_two (s, r, eps)

    [grid]                     # optional: cartesian product; keys "section.key" of task/train/transform/seeds
    "train.d" = [4, 8, 16]     # (train.d = [...] without quotes means the same)

    [[cases]]                  # optional: partial overrides of task/train/transform/seeds/grid plus a unique label
    label = "modadd"
    task = { name = "modadd", p = 59 }

    [run]                      # optional: how to execute; never part of a trial's identity
    jit_compile = true         # group_size = 0 (automatic), strategy = "default" | "mirrored",
                               # tensorboard_members = 4

    [analysis]                 # optional, free-form: the study checks its own keys

    [profiles.smoke]           # all three required, possibly empty: partial overrides of the
    [profiles.cpu]             # tables above (task, train, seeds, transform, grid, cases, run, analysis)
    [profiles.paper]

Merging (profiles, `--set` overrides, cases): tables merge key by key; lists and scalars replace,
so a profile's `cases` replaces the whole list and a case's grid replaces the grid key by key. A
layer that changes task.name, transform.name or seeds.layout replaces that table whole, because
the keys of one task, transform or layout mean nothing to another. All `--set` overrides form one
layer applied after the profile, so their order does not matter except for repeated keys.

Trials come out cases first (declared order), then grid points (first grid key outermost), then
seeds. A trial's identity is its settings (TrialPlan): case, grid point, the task, train and
transform tables with defaults filled, and its seeds; [run] is not part of it, so how a run is
executed never changes which trials it finds already finished.

The file alone, the file with each of the three profiles, and the chosen profile with the overrides
are all validated, so an error in the paper profile fails a smoke run too. Every problem raises
ConfigError with one line naming the file and the key as written (profiles.cpu.train.steps,
cases[1].task.p, grid."train.d"[2], --set train.lr).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from cinit_tf.studies import study_names
from cinit_tf.tasks import TASK_NAMES, Task, make_task

PROFILES = ("smoke", "cpu", "paper")
# The committed reports are made with the cpu profile (SPEC §8), so a bare run reproduces them.
DEFAULT_PROFILE = "cpu"

LAYER_KEYS = ("task", "train", "seeds", "transform", "grid", "cases", "run", "analysis")  # what profiles and --set change
TOP_KEYS = ("name", "study", "description", *LAYER_KEYS, "profiles")
CASE_KEYS = ("label", "task", "train", "transform", "seeds", "grid")
POINT_SECTIONS = ("task", "train", "transform", "seeds")  # what one trial is made of
# The key that decides which other keys a table may have, and its value when absent.
DISCRIMINATORS = {"task": ("name", None), "transform": ("name", "none"), "seeds": ("layout", "independent")}

# The keep rules of cinit_tf.transforms.keep_rule, repeated here because importing that module
# imports TensorFlow, and validating a file should not wait for it (a test keeps the two equal).
KEEP_RULES = ("mean+1std", "top-1 final", "top-2 final", "random 1", "random 2")
CONSTRUCT_EPS = 1e-6
MAX_XOR_BITS = 12  # p = 4096: p² pairs is already 16.8 million


class ConfigError(Exception):
    """A problem in an experiment file, its profile or a --set override; the message is one line."""


# ---- value rules ---------------------------------------------------------------------------

_REQUIRED = object()


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class _Int:
    lo: int
    hi: int | None = None

    def expected(self) -> str:
        return f"an integer >= {self.lo}" if self.hi is None else f"an integer in {self.lo}..{self.hi}"

    def check(self, v):
        # TOML keeps 8 and 8.0 apart; a float where a count is meant is a mistake worth reporting.
        if isinstance(v, bool) or not isinstance(v, int) or v < self.lo or (self.hi is not None and v > self.hi):
            raise ValueError
        return v


@dataclass(frozen=True)
class _Float:
    lo: float
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def expected(self) -> str:
        if self.hi is None:
            return f"a number {'>' if self.lo_open else '>='} {_num(self.lo)}"
        return f"a number in {'(' if self.lo_open else '['}{_num(self.lo)}, {_num(self.hi)}{')' if self.hi_open else ']'}"

    def check(self, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError
        v = float(v)  # lr = 1 and lr = 1.0 must give one trial id
        if not math.isfinite(v) or v < self.lo or (self.lo_open and v == self.lo):
            raise ValueError
        if self.hi is not None and (v > self.hi or (self.hi_open and v == self.hi)):
            raise ValueError
        return v


@dataclass(frozen=True)
class _Bool:
    def expected(self) -> str:
        return "true or false"

    def check(self, v):
        if not isinstance(v, bool):
            raise ValueError
        return v


@dataclass(frozen=True)
class _Choice:
    options: tuple

    def expected(self) -> str:
        return "one of " + ", ".join(json.dumps(o) for o in self.options)

    def check(self, v):
        if not isinstance(v, str) or v not in self.options:
            raise ValueError
        return v

    def hint(self, v) -> str:
        close = difflib.get_close_matches(v, self.options, n=1) if isinstance(v, str) else []
        return f" (did you mean {json.dumps(close[0])}?)" if close else ""


@dataclass(frozen=True)
class _Either:
    first: Any
    second: Any

    def expected(self) -> str:
        return f"{self.first.expected()} or {self.second.expected()}"

    def check(self, v):
        try:
            return self.first.check(v)
        except ValueError:
            return self.second.check(v)


# Defaults are cinit_tf.training.TrainConfig's (a test keeps them equal); kept here so that
# validation does not import TensorFlow.
TRAIN_FIELDS: dict[str, tuple[Any, Any]] = {
    "steps": (1000, _Int(1)),
    "d": (128, _Int(1)),
    "width": (100, _Int(1)),
    "lr": (0.01, _Float(0.0, lo_open=True)),
    "weight_decay": (0.5, _Float(0.0)),
    "beta_1": (0.9, _Float(0.0, 1.0, hi_open=True)),
    "beta_2": (0.999, _Float(0.0, 1.0, hi_open=True)),
    "epsilon": (1e-8, _Float(0.0, lo_open=True)),
    "train_fraction": (0.8, _Float(0.0, 1.0, lo_open=True, hi_open=True)),
    "freeze_embedding": (False, _Bool()),
    "log_every": (100, _Int(1)),
    "eval_every": (100, _Int(1)),
    "first_steps": (10, _Int(0)),
    "dtype": ("float32", _Choice(("float32", "float64"))),
}
RUN_ONLY = ("jit_compile", "group_size")  # TrainConfig fields that are execution, set in [run]

TASKS: dict[str, dict[str, tuple[Any, Any]]] = {
    "remainder": {"p": (_REQUIRED, _Int(2)), "m": (_REQUIRED, _Int(2))},
    "xor": {"bits": (_REQUIRED, _Int(1, MAX_XOR_BITS))},
    "modadd": {"p": (_REQUIRED, _Int(2))},
}
assert tuple(TASKS) == TASK_NAMES

TRANSFORMS: dict[str, dict[str, tuple[Any, Any]]] = {
    "none": {},
    "fourier_scale": {"k": (_REQUIRED, _Either(_Int(1), _Choice(("random",)))), "s": (_REQUIRED, _Float(0.0))},
    "fourier_keep": {"rule": (_REQUIRED, _Choice(KEEP_RULES)), "keep_zero": (True, _Bool())},
    "construct_two": {
        "s": (_REQUIRED, _Float(0.0, lo_open=True)),
        "r": (_REQUIRED, _Float(0.0, 1.0)),
        "eps": (CONSTRUCT_EPS, _Float(0.0, lo_open=True)),
    },
}

SEED_LAYOUTS: dict[str, dict[str, tuple[Any, Any]]] = {
    "independent": {"count": (1, _Int(1)), "base": (0, _Int(0))},
    "fixed_embedding": {"embeddings": (1, _Int(1)), "trials_per_embedding": (1, _Int(1)), "base": (0, _Int(0))},
}

RUN_FIELDS: dict[str, tuple[Any, Any]] = {
    "jit_compile": (True, _Bool()),
    "group_size": (0, _Int(0)),
    "strategy": ("default", _Choice(("default", "mirrored"))),
    "tensorboard_members": (4, _Int(0)),
}

VARIANTS = {"task": TASKS, "transform": TRANSFORMS, "seeds": SEED_LAYOUTS}


def _section_keys(section: str) -> list[str]:
    if section == "train":
        return list(TRAIN_FIELDS)
    disc, _ = DISCRIMINATORS[section]
    keys = [disc]
    for spec in VARIANTS[section].values():
        keys += [k for k in spec if k not in keys]
    return keys


GRID_KEYS = [f"{s}.{k}" for s in POINT_SECTIONS for k in _section_keys(s)]


# ---- naming values by where they were written ----------------------------------------------

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _dotted(path) -> str:
    return ".".join(p if _BARE.match(p) else json.dumps(p) for p in map(str, path))


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        s = json.dumps(v, default=str)
        return s if len(s) <= 60 else f"a list of {len(v)} values"
    return f"a {type(v).__name__}"


def _quoted_hint(v, rule) -> str:
    """A number or bool written in quotes is the commonest type error; say so."""
    if not isinstance(v, str) or isinstance(rule, _Choice):
        return ""
    try:
        parsed = tomllib.loads(f"v = {v}")["v"]
    except (tomllib.TOMLDecodeError, KeyError):
        return ""
    return " (a string: write it without quotes)" if isinstance(parsed, (int, float, bool)) else ""


class _Where:
    """Names a key by where its value was written (file, profile, --set, case, grid point) and raises.

    `origins` maps a path in the merged document to (prefix, absolute): a value a layer put at
    that path (or below it) is named prefix + dotted path, or `absolute` when that is set.
    `context` holds (text, markers) pairs appended to messages whose key name has none of the markers.
    """

    def __init__(self, file: str, origins: dict | None = None, context: tuple = ()):
        self.file, self.origins, self.context = file, origins or {}, tuple(context)

    def derive(self, origins: dict, *context) -> "_Where":
        return _Where(self.file, origins, self.context + tuple(context))

    def _origin(self, path):
        for n in range(len(path), 0, -1):
            o = self.origins.get(tuple(path[:n]))
            if o is not None:
                return o
        return ("", None)

    def name(self, path) -> str:
        prefix, absolute = self._origin(path)
        return absolute if absolute is not None else prefix + _dotted(path)

    def sibling(self, path, key) -> str:
        """The name `path` would have with its last part replaced: for "did you mean"."""
        prefix, _ = self._origin(path)
        return prefix + _dotted(tuple(path[:-1]) + (key,))

    def fail_named(self, name: str, message: str) -> NoReturn:
        extra = [text for text, markers in self.context if not any(m in name for m in markers)]
        suffix = f" ({'; '.join(extra)})" if extra else ""
        raise ConfigError(f"{self.file}: {name}: {message}{suffix}")

    def fail(self, path, message: str) -> NoReturn:
        self.fail_named(self.name(path), message)

    def unknown(self, path, candidates, what: str = "key") -> NoReturn:
        close = difflib.get_close_matches(str(path[-1]), list(candidates), n=1)
        if close:
            hint = f"did you mean '{self.sibling(path, close[0])}'?"
        else:
            hint = "expected one of " + ", ".join(map(str, candidates))
        self.fail(path, f"unknown {what} ({hint})")


# ---- merging layers --------------------------------------------------------------------------


def _switches(path, old: dict, new: dict) -> bool:
    if len(path) != 1 or path[0] not in DISCRIMINATORS:
        return False
    disc, default = DISCRIMINATORS[path[0]]
    return disc in new and new[disc] != old.get(disc, default)


def _merge(doc: dict, origins: dict, layer: dict, prefix: str) -> tuple[dict, dict]:
    """doc with `layer` merged in, and the origins updated so that the layer's values are named prefix + key."""
    doc, origins = copy.deepcopy(doc), dict(origins)

    def put(dst, key, value, path):
        for q in [q for q in origins if q[: len(path)] == path]:
            del origins[q]
        dst[key] = copy.deepcopy(value)
        origins[path] = (prefix, None)

    def into(dst, src, path):
        for key, value in src.items():
            p = path + (key,)
            old = dst.get(key)
            if isinstance(value, dict) and isinstance(old, dict) and p != ("cases",) and not _switches(p, old, value):
                into(old, value, p)
            else:
                put(dst, key, value, p)

    into(doc, layer, ())
    return doc, origins


def _flatten_grid(grid, file: str, name: str):
    """{"train": {"d": [..]}} (TOML's dotted keys) and {"train.d": [..]} (quoted) are one grid key."""
    if not isinstance(grid, dict):
        return grid
    flat: dict = {}

    def walk(table, keys):
        for k, v in table.items():
            ks = keys + (k,)
            if isinstance(v, dict):
                walk(v, ks)
                continue
            key = ".".join(ks)
            if key in flat:
                raise ConfigError(f"{file}: {name}.{_dotted([key])}: given twice (quoted and as dotted keys)")
            flat[key] = v

    walk(grid, ())
    return flat


def _flatten_layer_grid(layer: dict, file: str, prefix: str) -> dict:
    if isinstance(layer.get("grid"), dict):
        layer = dict(layer)
        layer["grid"] = _flatten_grid(layer["grid"], file, prefix + "grid")
    return layer


# ---- checks ----------------------------------------------------------------------------------


def _apply(rule, value, path, where: _Where):
    try:
        return rule.check(value)
    except ValueError:
        hint = rule.hint(value) if hasattr(rule, "hint") else _quoted_hint(value, rule)
        where.fail(path, f"expected {rule.expected()}, got {_show(value)}{hint}")


def _table(value, path, where: _Where, example: str = "") -> dict:
    if not isinstance(value, dict):
        where.fail(path, f"expected a table{example}, got {_show(value)}")
    return value


def _check_fields(table: dict, path: tuple, spec: dict, where: _Where, what: str, partial: bool = False) -> dict:
    """Each value within its rule, required ones present (unless partial), defaults filled."""
    out = {}
    for key, (default, rule) in spec.items():
        if key in table:
            out[key] = _apply(rule, table[key], path + (key,), where)
        elif default is not _REQUIRED:
            out[key] = default
        elif not partial:
            needs = " and ".join(k for k, (d, _) in spec.items() if d is _REQUIRED)
            where.fail(path + (key,), f"missing ({what} needs {needs})")
    return out


def _check_variant(value, section: str, where: _Where, partial: bool = False) -> dict:
    """task, transform or seeds: the discriminator picks which keys are allowed."""
    path = (section,)
    table = _table(value, path, where)
    disc, default = DISCRIMINATORS[section]
    variants = VARIANTS[section]
    allowed = _section_keys(section)
    for key in table:
        if key not in allowed:
            where.unknown(path + (key,), allowed)
    if disc not in table and default is None:
        if partial:  # a case may still name it
            return {}
        where.fail(path + (disc,), f"missing (expected one of {', '.join(variants)})")
    kind = _apply(_Choice(tuple(variants)), table.get(disc, default), path + (disc,), where)
    spec = variants[kind]
    noun = f"{section} {json.dumps(kind)}" if disc == "name" else f"{section} {disc} {json.dumps(kind)}"
    for key in table:
        if key != disc and key not in spec:
            where.fail(path + (key,), f"not a key of {noun} (its keys: {', '.join([disc, *spec])})")
    return {disc: kind, **_check_fields(table, path, spec, where, noun, partial)}


def _check_train(value, where: _Where) -> dict:
    path = ("train",)
    table = _table(value, path, where)
    for key in table:
        if key in RUN_ONLY:
            where.fail(path + (key,), f"belongs in [run] as run.{key} (how to execute is not part of a trial's identity)")
        if key not in TRAIN_FIELDS:
            where.unknown(path + (key,), list(TRAIN_FIELDS))
    return _check_fields(table, path, TRAIN_FIELDS, where, "train")


def _n_frequencies(p: int) -> int:
    return (p - 1) // 2


def _check_point(doc: dict, where: _Where, partial: bool = False) -> dict:
    """One trial's task, train, transform and seeds tables, normalised and with defaults filled.

    partial: check what is there (keys, values, which transform suits which task) but let a case or
    a grid supply missing keys and decide what depends on them; run before expanding cases and grid,
    so that a value the grid replaces everywhere is still checked and errors name no grid point.
    """
    if "task" not in doc:
        if partial:
            task = {}
        else:
            where.fail(("task",), 'missing (expected a [task] table, e.g. name = "modadd", p = 59, here or in every case)')
    else:
        task = _check_variant(doc["task"], "task", where, partial)
    train = _check_train(doc.get("train", {}), where)
    transform = _check_variant(doc.get("transform", {}), "transform", where, partial)
    seeds = _check_variant(doc.get("seeds", {}), "seeds", where, partial)
    if transform["name"] != "none" and task.get("name", "modadd") != "modadd":
        where.fail(
            ("transform", "name"),
            f"transform {json.dumps(transform['name'])} applies only to task \"modadd\", "
            f"but task.name is {json.dumps(task['name'])}",
        )
    if partial:
        return {}
    if task["name"] == "remainder" and task["m"] > task["p"]:
        where.fail(("task", "m"), f"expected m <= p = {task['p']}, got {task['m']}")
    if transform["name"] != "none":
        K = _n_frequencies(task["p"])
        k = transform.get("k")
        if isinstance(k, int) and k > K:
            where.fail(("transform", "k"), f"expected a frequency in 1..{K} for p = {task['p']}, got {k}")
        if transform["name"] == "construct_two" and K < 2:
            where.fail(("transform", "name"), f"construct_two needs two frequencies, i.e. task.p >= 5, got p = {task['p']}")
    return {"task": task, "train": train, "transform": transform, "seeds": seeds}


def _check_grid(grid, where: _Where) -> list[tuple[str, list]]:
    path = ("grid",)
    grid = _table(grid, path, where, ' of "section.key" = [values]')
    out = []
    for key, values in grid.items():
        kpath = path + (key,)
        section, _, name = key.partition(".")
        if section in DISCRIMINATORS and name == DISCRIMINATORS[section][0]:
            where.fail(kpath, f"{key} cannot vary in a grid, since it decides which other keys exist; declare one [[cases]] entry per {section}")
        if key not in GRID_KEYS:
            where.unknown(kpath, GRID_KEYS, "grid key")
        if not isinstance(values, list) or not values:
            where.fail(kpath, f"expected a non-empty list of values, got {_show(values)}")
        for j, v in enumerate(values):
            # Equal values would make equal trials; bool == int in Python, so compare types too.
            if any(u == v and isinstance(u, bool) == isinstance(v, bool) for u in values[:j]):
                where.fail_named(f"{where.name(kpath)}[{j}]", f"repeats the value {_show(v)}")
        out.append((key, values))
    return out


def _grid_doc(doc: dict, where: _Where, assignments) -> tuple[dict, _Where]:
    """doc with grid values put in place: assignments are (grid key, index, value)."""
    pdoc = {s: dict(doc[s]) if isinstance(doc.get(s), dict) else doc[s] for s in POINT_SECTIONS if s in doc}
    origins = dict(where.origins)
    for key, j, value in assignments:
        section, name = key.split(".")
        pdoc.setdefault(section, {})[name] = value
        origins[(section, name)] = ("", f"{where.name(('grid', key))}[{j}]")
    return pdoc, origins


def _check_grid_values(doc: dict, grid, where: _Where) -> None:
    """Each grid value on its own, so that a bad one is named without the grid point it happens in."""
    for key, values in grid:
        for j, value in enumerate(values):
            pdoc, origins = _grid_doc(doc, where, [(key, j, value)])
            _check_point(pdoc, where.derive(origins), partial=True)


def _check_cases(doc: dict, where: _Where) -> list[tuple[str, dict]]:
    """(label, override layer) per case, grids flattened; [] when there are none."""
    if "cases" not in doc:
        return []
    cases = doc["cases"]
    if not isinstance(cases, list):
        where.fail(("cases",), f"expected an array of tables ([[cases]]), got {_show(cases)}")
    base = where.name(("cases",))
    out, seen = [], {}
    for i, case in enumerate(cases):
        cname = f"{base}[{i}]"
        if not isinstance(case, dict):
            where.fail_named(cname, f"expected a table, got {_show(case)}")
        for key in case:
            if key not in CASE_KEYS:
                close = difflib.get_close_matches(str(key), CASE_KEYS, n=1)
                hint = f"did you mean '{cname}.{close[0]}'?" if close else "expected one of " + ", ".join(CASE_KEYS)
                where.fail_named(f"{cname}.{_dotted([key])}", f"unknown key ({hint})")
            if key != "label" and not isinstance(case[key], dict):
                where.fail_named(f"{cname}.{key}", f"expected a table, got {_show(case[key])}")
        label = case.get("label")
        if label is None:
            where.fail_named(f"{cname}.label", "missing (every case needs a unique label)")
        if not isinstance(label, str) or not label:
            where.fail_named(f"{cname}.label", f"expected a non-empty string, got {_show(label)}")
        if label in seen:
            where.fail_named(f"{cname}.label", f"duplicate label {json.dumps(label)} (also {base}[{seen[label]}])")
        seen[label] = i
        layer = {k: v for k, v in case.items() if k != "label"}
        out.append((label, _flatten_layer_grid(layer, where.file, cname + ".")))
    return out


def _jsonable(value, name: str, where: _Where) -> None:
    """The resolved config is written as JSON; TOML's dates and times have no JSON form."""
    if isinstance(value, dict):
        for k, v in value.items():
            _jsonable(v, f"{name}.{_dotted([k])}", where)
    elif isinstance(value, list):
        for j, v in enumerate(value):
            _jsonable(v, f"{name}[{j}]", where)
    elif not isinstance(value, (str, int, float, bool)):
        where.fail_named(name, f"dates and times are not supported (the resolved config is JSON), got {_show(value)}")


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _validate(doc: dict, where: _Where) -> tuple[dict, list]:
    """Check a merged document whole; return (resolved dict, [(case label, grid point, point)])."""
    for key in doc:
        if key not in TOP_KEYS:
            where.unknown((key,), TOP_KEYS)
    for key in (*POINT_SECTIONS, "grid", "run", "analysis"):
        if key in doc:
            _table(doc[key], (key,), where)
    if "name" in doc and (not isinstance(doc["name"], str) or not _NAME.match(doc["name"])):
        where.fail(("name",), f"expected a folder name (letters, digits, _ . -), got {_show(doc['name'])}")
    if "study" not in doc:
        where.fail(("study",), "missing (expected the name of a module of cinit_tf.studies)")
    study = doc["study"]
    known = study_names()
    if not isinstance(study, str) or study not in known:
        close = difflib.get_close_matches(str(study), known, n=1)
        hint = f"did you mean {json.dumps(close[0])}?" if close else (
            "expected one of " + ", ".join(known) if known else "cinit_tf/studies/ has no study modules yet"
        )
        where.fail(("study",), f"unknown study {_show(study)} ({hint})")
    if "description" in doc and not isinstance(doc["description"], str):
        where.fail(("description",), f"expected a string, got {_show(doc['description'])}")
    run_table = doc.get("run", {})
    for key in run_table:
        if key not in RUN_FIELDS:
            where.unknown(("run", key), list(RUN_FIELDS))
    run = _check_fields(run_table, ("run",), RUN_FIELDS, where, "run")
    analysis = doc.get("analysis", {})
    for key, value in doc.items():
        _jsonable(value, where.name((key,)), where)
    # Everything that does not depend on a case or grid point is checked first, so its messages
    # name no case or grid point.
    _check_point(doc, where, partial=True)
    _check_grid_values(doc, _check_grid(doc.get("grid", {}), where), where)
    cases = _check_cases(doc, where)

    points = []
    for i, (label, layer) in enumerate(cases or [("", None)]):
        if layer is None:
            cdoc, cwhere = doc, where
        else:
            cdoc, corigins = _merge(doc, where.origins, layer, f"{where.name(('cases',))}[{i}].")
            cwhere = where.derive(corigins, (f"in case {json.dumps(label)}", (f"cases[{i}]",)))
            _check_point(cdoc, cwhere, partial=True)
        grid = _check_grid(cdoc.get("grid", {}), cwhere)
        _check_grid_values(cdoc, grid, cwhere)
        for combo in itertools.product(*(list(enumerate(values)) for _, values in grid)):
            pdoc, porigins = _grid_doc(cdoc, cwhere, [(key, j, value) for (key, _), (j, value) in zip(grid, combo)])
            shown = ", ".join(f"{key}={_show(value)}" for (key, _), (_, value) in zip(grid, combo))
            pwhere = cwhere.derive(porigins, ("at grid point " + shown, ("grid.",))) if grid else cwhere
            point = _check_point(pdoc, pwhere)
            gpoint = {key: point[key.split(".")[0]][key.split(".")[1]] for key, _ in grid}
            points.append((label, gpoint, point))

    resolved = {k: copy.deepcopy(v) for k, v in doc.items() if k != "profiles"}
    if cases:
        resolved["cases"] = [{"label": label, **copy.deepcopy(layer)} for label, layer in cases]
    resolved["description"] = doc.get("description", "")
    resolved["run"] = run
    resolved["analysis"] = copy.deepcopy(analysis)
    return resolved, points


# ---- reading the file and the overrides ------------------------------------------------------

_TOML_WHERE = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")


def _read(path: Path, file: str) -> dict:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{file}: is a directory, expected a .toml file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise ConfigError(f"{file}: cannot read: {e.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_WHERE.match(msg)
        if m:
            raise ConfigError(f"{file}: line {m[2]}, column {m[3]}: TOML syntax error: {m[1]}") from None
        raise ConfigError(f"{file}: TOML syntax error: {msg}") from None


def _parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """("train", "steps"), 500 from "train.steps=500"; raises ConfigError without a file name."""
    if "=" not in text:
        raise ConfigError(f"--set {text}: expected dotted.key=value, e.g. train.steps=500")
    key, _, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    try:
        if not key or "\n" in key:
            raise tomllib.TOMLDecodeError("empty")
        node = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise ConfigError(f"--set {text}: {json.dumps(key)} is not a dotted key like train.steps") from None
    path = []
    while isinstance(node, dict):
        (k, node), = node.items()
        path.append(k)
    try:
        parsed = tomllib.loads(f"v = {raw}")
        value = parsed["v"] if set(parsed) == {"v"} else raw
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word: task.name=xor
    return tuple(path), value


def parse_override(text: str) -> tuple[str, Any]:
    """("train.steps", 500) from "train.steps=500". The value is read as TOML (500, "xor", true,
    [4, 8]); a bare word that is not TOML is a string. grid.train.d=[4,8] sets the grid key "train.d"."""
    path, value = _parse_override(text)
    return ".".join(path), value


def _override_layer(overrides, file: str) -> dict:
    layer: dict = {}
    for text in overrides:
        try:
            path, value = _parse_override(text)
        except ConfigError as e:
            raise ConfigError(f"{file}: {e}") from None
        if path[0] not in LAYER_KEYS:
            close = difflib.get_close_matches(path[0], LAYER_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "expected a key under " + ", ".join(LAYER_KEYS)
            raise ConfigError(f"{file}: --set {_dotted(path)}: cannot be set ({hint})")
        node = layer
        for k in path[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{file}: --set {_dotted(path)}: conflicts with another --set of {k}")
        node[path[-1]] = value
    return _flatten_layer_grid(layer, file, "--set ")


def _profiles(raw: dict, where: _Where) -> dict[str, dict]:
    if "profiles" not in raw:
        where.fail(("profiles",), "missing (every experiment file declares [profiles.smoke], [profiles.cpu] and [profiles.paper], possibly empty)")
    profiles = _table(raw["profiles"], ("profiles",), where)
    for name in profiles:
        if name not in PROFILES:
            where.unknown(("profiles", name), PROFILES, "profile")
    out = {}
    for name in PROFILES:
        path = ("profiles", name)
        if name not in profiles:
            where.fail(path, f"missing (declare [profiles.{name}], possibly empty; expected all of {', '.join(PROFILES)})")
        layer = _table(profiles[name], path, where)
        for key in layer:
            if key in ("name", "study", "description"):
                where.fail(path + (key,), f"a profile cannot change {key} (it may change {', '.join(LAYER_KEYS)})")
            if key not in LAYER_KEYS:
                where.unknown(path + (key,), LAYER_KEYS)
        out[name] = _flatten_layer_grid(layer, where.file, f"profiles.{name}.")
    return out


# ---- the public objects ----------------------------------------------------------------------


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True, eq=True)
class TrialPlan:
    """One trial to run: `settings` is its whole identity (execution settings in [run] are not part of it).

    settings = {"case": label or "", "grid": {"train.d": 8, ...}, "task": {...}, "train": {...},
                "transform": {...}, "seeds": {"embedding", "mlp", "split"}, "index": {"embedding", "trial"}}
    """

    id: str
    settings: dict = field(compare=False)

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def from_settings(cls, settings: dict) -> "TrialPlan":
        return cls(hashlib.sha256(_canonical(settings).encode()).hexdigest()[:16], settings)

    def task(self) -> Task:
        return make_task(**self.settings["task"])

    def train_config(self, run: dict | None = None):
        """The TrainConfig of this trial; jit_compile and group_size come from `run` (group_size 0 = automatic)."""
        from cinit_tf.training import TrainConfig  # here, so that validating a file does not import TensorFlow

        run = {**{k: d for k, (d, _) in RUN_FIELDS.items()}, **(run or {})}
        return TrainConfig(**self.settings["train"], jit_compile=run["jit_compile"], group_size=run["group_size"] or None)

    def trial(self):
        """The engine's Trial (seeds only; a transformed initial embedding is made by the runner)."""
        from cinit_tf.training import Trial

        s = self.settings["seeds"]
        return Trial(embedding_seed=s["embedding"], mlp_seed=s["mlp"], split_seed=s["split"])

    @property
    def population_key(self) -> str:
        """Equal for trials that differ only in seeds, which can therefore train as one population."""
        return _canonical({k: v for k, v in self.settings.items() if k not in ("seeds", "index")})


def _seed_trials(seeds: dict):
    """((embedding, mlp, split), (e, t)) per trial of a seeds table, in order."""
    base = seeds["base"]
    if seeds["layout"] == "independent":
        for i in range(seeds["count"]):
            yield (base + i, base + i, base + i), (i, 0)
    else:
        per = seeds["trials_per_embedding"]
        for e in range(seeds["embeddings"]):
            for t in range(per):
                s = base + e * per + t
                yield (base + e, s, s), (e, t)


@dataclass
class Experiment:
    """A validated experiment: the file with a profile and overrides applied."""

    path: Path
    name: str
    study: str
    description: str
    profile: str
    overrides: tuple[str, ...]
    resolved: dict  # merged and JSON-able, without profiles; run filled with defaults
    analysis: dict
    run: dict
    points: list = field(default_factory=list, repr=False)  # (case label, grid point, tables) per case × grid point

    def record(self, trial_ids: list[str]) -> dict:
        """What a run folder keeps of the experiment (config.json): enough to rebuild its report."""
        return {
            "name": self.name,
            "study": self.study,
            "description": self.description,
            "profile": self.profile,
            "overrides": list(self.overrides),
            "source": str(self.path),
            "resolved": self.resolved,
            "analysis": self.analysis,
            "run": self.run,
            "trial_ids": list(trial_ids),
        }

    def trials(self) -> list[TrialPlan]:
        """Every trial: cases in declared order, then grid points (first grid key outermost), then seeds."""
        plans = []
        for label, gpoint, point in self.points:
            for (emb, mlp, split), (e, t) in _seed_trials(point["seeds"]):
                settings = {
                    "case": label,
                    "grid": copy.deepcopy(gpoint),
                    "task": dict(point["task"]),
                    "train": dict(point["train"]),
                    "transform": dict(point["transform"]),
                    "seeds": {"embedding": emb, "mlp": mlp, "split": split},
                    "index": {"embedding": e, "trial": t},
                }
                plans.append(TrialPlan.from_settings(settings))
        return plans

    def populations(self) -> list[list[TrialPlan]]:
        """Trials grouped by population_key, groups in order of first appearance."""
        groups: dict[str, list[TrialPlan]] = {}
        for plan in self.trials():
            groups.setdefault(plan.population_key, []).append(plan)
        return list(groups.values())


def load_experiment(path, profile: str | None = None, overrides=()) -> Experiment:
    """Read, validate and resolve an experiment file (profile None means DEFAULT_PROFILE).

    Raises ConfigError on any problem, before anything runs.
    """
    path = Path(path)
    file = str(path)
    profile = DEFAULT_PROFILE if profile is None else profile
    if profile not in PROFILES:
        raise ConfigError(f"{file}: --profile {profile}: no such profile (expected one of {', '.join(PROFILES)})")
    overrides = tuple(overrides or ())
    raw = _read(path, file)
    where = _Where(file)
    if "grid" in raw:
        raw["grid"] = _flatten_grid(raw["grid"], file, "grid")
    profiles = _profiles(raw, where)
    base = {k: v for k, v in raw.items() if k != "profiles"}
    _validate(base, where)
    for name in PROFILES:
        doc, origins = _merge(base, {}, profiles[name], f"profiles.{name}.")
        _validate(doc, where.derive(origins, (f"with profile {name}", (f"profiles.{name}.",))))
    doc, origins = _merge(base, {}, profiles[profile], f"profiles.{profile}.")
    context = [(f"with profile {profile}", (f"profiles.{profile}.", "--set"))]
    if overrides:
        doc, origins = _merge(doc, origins, _override_layer(overrides, file), "--set ")
        context.append(("with --set " + " ".join(overrides), ("--set",)))
    resolved, points = _validate(doc, where.derive(origins, *context))
    resolved["name"] = resolved.get("name", path.stem)
    if not _NAME.match(resolved["name"]):
        raise ConfigError(f"{file}: name: the file's stem {json.dumps(path.stem)} is not a folder name; set name = \"...\"")
    return Experiment(
        path=path,
        name=resolved["name"],
        study=resolved["study"],
        description=resolved["description"],
        profile=profile,
        overrides=overrides,
        resolved=resolved,
        analysis=resolved["analysis"],
        run=resolved["run"],
        points=points,
    )
