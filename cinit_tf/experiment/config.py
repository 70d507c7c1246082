"""Experiment files: one TOML file per paper section, validated whole before anything runs.

    # python -m cinit_tf.run experiments/xor_rank.toml
    name = "xor_rank"          # optional, default: the file's stem; results go to runs/<name>/
    study = "xor_rank"         # required: a module of cinit_tf.studies
    [task]                     # required here, or in every [[cases]] entry
    [train]                    # optional: cinit_tf.trial.TrainConfig's settings
    [seeds]                    # optional, default: layout "independent", count 1, base 0
    [transform]                # optional, default name "none"; anything else needs task modadd
    [grid]                     # optional: cartesian product; keys "section.key" of task/train/transform/seeds
    [[cases]]                  # optional: partial overrides of task/train/transform/seeds/grid plus a unique label
    [run]                      # optional: how to execute; never part of a trial's identity
    [analysis]                 # optional: the keys the study declares (DECLARATION.analysis)
    [profiles.smoke]           # all three required, possibly empty: partial overrides of the
    [profiles.cpu]             # tables above (task, train, seeds, transform, grid, cases, run, analysis)
    [profiles.paper]

The format is data in `cinit_tf.experiment.schema`; reading, merging and naming are in `cinit_tf.experiment.merge`;
which trials a validated file plans is in `cinit_tf.experiment.plan`. docs/experiment-format.md describes it.

The file alone, the file with each of the three profiles, and the chosen profile with the overrides
are all validated, so an error in the paper profile fails a smoke run too. Every problem raises
ConfigError with one line naming the file and the key as written.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import json
import math
from pathlib import Path

from cinit_tf import studies
from cinit_tf.experiment.merge import (
    ConfigError,
    Where,
    check_jsonable,
    dotted,
    flatten_grid,
    flatten_layer_grid,
    merge,
    override_layer,
    parse_override,
    read_profiles,
    read_toml,
    show,
)
from cinit_tf.experiment.plan import Experiment, TrialPlan, seed_count, source_points
from cinit_tf.experiment.point import check_fields, check_point
from cinit_tf.experiment.schema import (
    CASE_KEYS,
    DEFAULT_PROFILE,
    DISCRIMINATORS,
    MAX_TRIALS,
    POINT_SECTIONS,
    PROFILES,
    TOP_KEYS,
    RunSettings,
    grid_keys,
    runtime_seconds,
    safe_name,
    spec,
)

__all__ = [
    "ConfigError",
    "DEFAULT_PROFILE",
    "Experiment",
    "PROFILES",
    "TrialPlan",
    "load_experiment",
    "parse_override",
]


# ---- grid and cases ----------------------------------------------------------------------------


def _check_grid(grid, where: Where) -> list[tuple[str, list]]:
    path = ("grid",)
    grid = where.table(grid, path, ' of "section.key" = [values]')
    known = grid_keys()
    out = []
    for key, values in grid.items():
        kpath = path + (key,)
        section, _, name = key.partition(".")
        if section in DISCRIMINATORS and name == DISCRIMINATORS[section][0]:
            where.fail(
                kpath,
                f"{key} cannot vary in a grid, since it decides which other keys exist; declare one [[cases]] entry per {section}",
            )
        if key not in known:
            where.unknown(kpath, known, "grid key")
        if not isinstance(values, list) or not values:
            where.fail(kpath, f"expected a non-empty list of values, got {show(values)}")
        for j, v in enumerate(values):
            # Equal values would make equal trials; bool == int in Python, so compare types too.
            if any(u == v and isinstance(u, bool) == isinstance(v, bool) for u in values[:j]):
                where.fail_named(f"{where.name(kpath)}[{j}]", f"repeats the value {show(v)}")
        out.append((key, values))
    return out


def _grid_doc(doc: dict, where: Where, assignments) -> tuple[dict, dict]:
    """doc with grid values put in place: assignments are (grid key, index, value)."""
    pdoc = {
        s: dict(doc[s]) if isinstance(doc.get(s), dict) else doc[s]
        for s in POINT_SECTIONS
        if s in doc
    }
    origins = dict(where.origins)
    for key, j, value in assignments:
        section, name = key.split(".")
        pdoc.setdefault(section, {})[name] = value
        origins[(section, name)] = ("", f"{where.name(('grid', key))}[{j}]")
    return pdoc, origins


def _check_grid_values(doc: dict, grid, where: Where) -> None:
    """Each grid value on its own, so that a bad one is named without the grid point it happens in."""
    for key, values in grid:
        for j, value in enumerate(values):
            pdoc, origins = _grid_doc(doc, where, [(key, j, value)])
            check_point(pdoc, where.derive(origins), partial=True)


def _check_cases(doc: dict, where: Where) -> list[tuple[str, dict]]:
    """(label, override layer) per case, grids flattened; [] when there are none."""
    if "cases" not in doc:
        return []
    cases = doc["cases"]
    if not isinstance(cases, list):
        where.fail(("cases",), f"expected an array of tables ([[cases]]), got {show(cases)}")
    base = where.name(("cases",))
    out, seen = [], {}
    for i, case in enumerate(cases):
        cname = f"{base}[{i}]"
        if not isinstance(case, dict):
            where.fail_named(cname, f"expected a table, got {show(case)}")
        for key in case:
            if key not in CASE_KEYS:
                close = difflib.get_close_matches(str(key), CASE_KEYS, n=1)
                hint = (
                    f"did you mean '{cname}.{close[0]}'?"
                    if close
                    else "expected one of " + ", ".join(CASE_KEYS)
                )
                where.fail_named(f"{cname}.{dotted([key])}", f"unknown key ({hint})")
            if key != "label" and not isinstance(case[key], dict):
                where.fail_named(f"{cname}.{key}", f"expected a table, got {show(case[key])}")
        label = case.get("label")
        if label is None:
            where.fail_named(f"{cname}.label", "missing (every case needs a unique label)")
        if not safe_name(label):
            # A label names folders (TensorBoard runs): nothing that could step outside the run folder.
            where.fail_named(
                f"{cname}.label",
                f"expected a name of letters, digits, _ . - (starting with a letter or digit, no ..), got {show(label)}",
            )
        if label in seen:
            where.fail_named(
                f"{cname}.label",
                f"duplicate label {json.dumps(label)} (also {base}[{seen[label]}])",
            )
        seen[label] = i
        layer = {k: v for k, v in case.items() if k != "label"}
        out.append((label, flatten_layer_grid(layer, where.file, cname + ".")))
    return out


# ---- the whole document ------------------------------------------------------------------------


def _check_study(doc: dict, where: Where) -> str:
    if "study" not in doc:
        where.fail(("study",), "missing (expected the name of a module of cinit_tf.studies)")
    study = doc["study"]
    known = studies.study_names()
    if not isinstance(study, str) or study not in known:
        close = difflib.get_close_matches(str(study), known, n=1)
        hint = (
            f"did you mean {json.dumps(close[0])}?"
            if close
            else (
                "expected one of " + ", ".join(known)
                if known
                else "cinit_tf/studies/ has no study modules yet"
            )
        )
        where.fail(("study",), f"unknown study {show(study)} ({hint})")
    return study


def _check_analysis(table: dict, study: str, where: Where) -> dict:
    """[analysis] against the keys the study declares, defaults filled."""
    schema = studies.declaration(study).analysis
    if schema is None:
        for key in table:
            where.fail(
                ("analysis", key),
                f"unknown key (study {json.dumps(study)} declares no [analysis] keys)",
            )
        return {}
    fields = spec(schema)
    for key in table:
        if key not in fields:
            where.unknown(("analysis", key), list(fields))
    return check_fields(table, ("analysis",), fields, where, f"study {json.dumps(study)}")


def _check_runtime(value, where: Where) -> dict:
    """runtime = { smoke = "10 s", cpu = "8 min (...)", paper = "9 h" }: every profile, each a duration first."""
    table = where.table(
        value,
        ("runtime",),
        ' of profile = "duration", e.g. { smoke = "10 s", cpu = "8 min", paper = "9 h" }',
    )
    for key in table:
        if key not in PROFILES:
            where.unknown(("runtime", key), PROFILES, "profile")
    for key in PROFILES:
        if key not in table:
            where.fail(
                ("runtime", key),
                f"missing (declare the runtime of every profile: {', '.join(PROFILES)})",
            )
        text = table[key]
        if not isinstance(text, str) or runtime_seconds(text) is None:
            where.fail(
                ("runtime", key),
                f'expected a duration first, like "10 s", "~8 min" or "9 h (a note)", got {show(text)}',
            )
    return dict(table)


def _check_sources(points: list, wheres: list) -> None:
    """A second stage (fourier_keep with a source_case) names an earlier case that can supply it:
    one matching point per grid point, with the same task, embedding width and seeds."""
    labels = {label for label, _, _ in points}
    for (label, gpoint, point), where in zip(points, wheres):
        tr = point["transform"]
        if tr["name"] != "fourier_keep":
            continue
        source = tr.get("source_case", "")
        if not source:
            if tr["rule"].endswith("final"):
                where.fail(
                    ("transform", "rule"),
                    f"{json.dumps(tr['rule'])} keeps the top frequencies of an earlier run: "
                    "set transform.source_case to the label of the case that trains it",
                )
            continue
        path = ("transform", "source_case")
        if source == label or source not in labels:
            others = sorted(x for x in labels if x and x != label)
            where.fail(
                path,
                f"expected the label of another case ({', '.join(map(json.dumps, others)) or 'there is none'}), got {json.dumps(source)}",
            )
        found = source_points(points, source, gpoint)
        if len(found) != 1:
            where.fail(
                path,
                f"case {json.dumps(source)} has {len(found)} grid points matching this one; expected exactly one",
            )
        _, _, sp = found[0]
        if sp["transform"]["name"] == "fourier_keep" and sp["transform"].get("source_case"):
            where.fail(
                path,
                f"case {json.dumps(source)} is itself a second stage; a source must train from its own start",
            )
        for section, key in (("task", None), ("train", "d"), ("seeds", None)):
            mine, theirs = (
                (point[section], sp[section])
                if key is None
                else (point[section][key], sp[section][key])
            )
            if mine != theirs:
                where.fail(
                    path,
                    f"case {json.dumps(source)} has another {section if key is None else section + '.' + key}; "
                    "a second stage must share the task, the embedding width and the seeds of its source",
                )


def _validate(doc: dict, where: Where) -> tuple[dict, list]:
    """Check a merged document whole; return (resolved dict, [(case label, grid point, point)])."""
    for key in doc:
        if key not in TOP_KEYS:
            where.unknown((key,), TOP_KEYS)
    for key in (*POINT_SECTIONS, "grid", "run", "analysis"):
        if key in doc:
            where.table(doc[key], (key,))
    if "name" in doc and not safe_name(doc["name"]):
        where.fail(
            ("name",),
            f"expected a folder name (letters, digits, _ . -, starting with a letter or digit, no ..), got {show(doc['name'])}",
        )
    if "runtime" in doc:
        _check_runtime(doc["runtime"], where)
    study = _check_study(doc, where)
    if "description" in doc and not isinstance(doc["description"], str):
        where.fail(("description",), f"expected a string, got {show(doc['description'])}")
    run_table = doc.get("run", {})
    run_fields = spec(RunSettings)
    for key in run_table:
        if key not in run_fields:
            where.unknown(("run", key), list(run_fields))
    run = check_fields(run_table, ("run",), run_fields, where, "run")
    for key, value in doc.items():
        check_jsonable(value, where.name((key,)), where)
    analysis = _check_analysis(doc.get("analysis", {}), study, where)
    # Everything that does not depend on a case or grid point is checked first, so its messages
    # name no case or grid point.
    check_point(doc, where, partial=True)
    _check_grid_values(doc, _check_grid(doc.get("grid", {}), where), where)
    cases = _check_cases(doc, where)

    points, wheres, n_trials = [], [], 0
    for i, (label, layer) in enumerate(cases or [("", None)]):
        if layer is None:
            cdoc, cwhere = doc, where
        else:
            cdoc, corigins = merge(doc, where.origins, layer, f"{where.name(('cases',))}[{i}].")
            cwhere = where.derive(corigins, (f"in case {json.dumps(label)}", (f"cases[{i}]",)))
            check_point(cdoc, cwhere, partial=True)
        grid = _check_grid(cdoc.get("grid", {}), cwhere)
        _check_grid_values(cdoc, grid, cwhere)
        # Each grid point plans at least one trial: bound the product before walking it.
        n_points = math.prod(len(values) for _, values in grid)
        if n_trials + n_points > MAX_TRIALS:
            cwhere.fail(
                ("grid",),
                f"plans {n_points} grid points, so more than {MAX_TRIALS} trials in all (the limit)",
            )
        for combo in itertools.product(*(list(enumerate(values)) for _, values in grid)):
            pdoc, porigins = _grid_doc(
                cdoc, cwhere, [(key, j, value) for (key, _), (j, value) in zip(grid, combo)]
            )
            shown = ", ".join(f"{key}={show(value)}" for (key, _), (_, value) in zip(grid, combo))
            pwhere = (
                cwhere.derive(porigins, ("at grid point " + shown, ("grid.",))) if grid else cwhere
            )
            point = check_point(pdoc, pwhere)
            n_trials += seed_count(point["seeds"])
            if n_trials > MAX_TRIALS:
                key = "count" if point["seeds"]["layout"] == "independent" else "embeddings"
                swhere = pwhere if any(k.startswith("seeds.") for k, _ in grid) else cwhere
                swhere.fail(
                    ("seeds", key),
                    f"the experiment plans more than {MAX_TRIALS} trials (cases × grid points × seeds; the limit)",
                )
            gpoint = {key: point[key.split(".")[0]][key.split(".")[1]] for key, _ in grid}
            points.append((label, gpoint, point))
            wheres.append(pwhere)
    _check_sources(points, wheres)

    resolved = {k: copy.deepcopy(v) for k, v in doc.items() if k != "profiles"}
    if cases:
        resolved["cases"] = [{"label": label, **copy.deepcopy(layer)} for label, layer in cases]
    resolved["description"] = doc.get("description", "")
    resolved["run"] = run
    resolved["analysis"] = analysis
    return resolved, points


# ---- the public entry --------------------------------------------------------------------------


def load_experiment(path, profile: str | None = None, overrides=()) -> Experiment:
    """Read, validate and resolve an experiment file (profile None means DEFAULT_PROFILE).

    Raises ConfigError on any problem, before anything runs.
    """
    try:
        return _load(Path(path), profile, overrides)
    except RecursionError:
        # tomllib and the merging walk nested arrays recursively; say so in one line.
        raise ConfigError(
            f"{path}: nested too deeply (arrays or tables inside each other hundreds of levels deep)"
        ) from None


def _load(path: Path, profile: str | None, overrides) -> Experiment:
    path = Path(path)
    file = str(path)
    profile = DEFAULT_PROFILE if profile is None else profile
    if profile not in PROFILES:
        raise ConfigError(
            f"{file}: --profile {profile}: no such profile (expected one of {', '.join(PROFILES)})"
        )
    overrides = tuple(overrides or ())
    raw = read_toml(path, file)
    where = Where(file)
    if "grid" in raw:
        raw["grid"] = flatten_grid(raw["grid"], file, "grid")
    profiles = read_profiles(raw, where)
    base = {k: v for k, v in raw.items() if k != "profiles"}
    _validate(base, where)
    for name in PROFILES:
        doc, origins = merge(base, {}, profiles[name], f"profiles.{name}.")
        _validate(doc, where.derive(origins, (f"with profile {name}", (f"profiles.{name}.",))))
    doc, origins = merge(base, {}, profiles[profile], f"profiles.{profile}.")
    context = [(f"with profile {profile}", (f"profiles.{profile}.", "--set"))]
    if overrides:
        doc, origins = merge(doc, origins, override_layer(overrides, file), "--set ")
        context.append(("with --set " + " ".join(overrides), ("--set",)))
    resolved, points = _validate(doc, where.derive(origins, *context))
    resolved["name"] = resolved.get("name", path.stem)
    if not safe_name(resolved["name"]):
        raise ConfigError(
            f'{file}: name: the file\'s stem {json.dumps(path.stem)} is not a folder name; set name = "..."'
        )
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
        runtime=resolved.get("runtime", {}),
    )
