"""Reading an experiment file and its layers (profiles, cases, `--set`), and naming where a value came from.

Merging: tables merge key by key; lists and scalars replace, so a profile's `cases` replaces the
whole list and a case's grid replaces the grid key by key. A layer that changes task.name,
transform.name or seeds.layout replaces that table whole, because the keys of one task, transform
or layout mean nothing to another. All `--set` overrides form one layer applied after the profile.

Every problem raises ConfigError with one line naming the file and the key as written
(profiles.cpu.train.steps, cases[1].task.p, grid."train.d"[2], --set train.lr), which is why each
merged value remembers the layer it came from (`Where`).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, NoReturn

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, published as tomli
    import tomli as tomllib

from cinit_tf.experiment.schema import DISCRIMINATORS, LAYER_KEYS, PROFILES
from cinit_tf.settings import Choice


class ConfigError(Exception):
    """A problem in an experiment file, its profile or a --set override; the message is one line."""


# ---- naming values by where they were written ----------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def dotted(path) -> str:
    return ".".join(p if _BARE.fullmatch(p) else json.dumps(p) for p in map(str, path))


def show(v) -> str:
    """A value as an error message quotes it."""
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
    if not isinstance(v, str) or isinstance(rule, Choice):
        return ""
    try:
        parsed = tomllib.loads(f"v = {v}")["v"]
    except (tomllib.TOMLDecodeError, KeyError):
        return ""
    return " (a string: write it without quotes)" if isinstance(parsed, (int, float, bool)) else ""


class Where:
    """Names a key by where its value was written (file, profile, --set, case, grid point) and raises.

    `origins` maps a path in the merged document to (prefix, absolute): a value a layer put at
    that path (or below it) is named prefix + dotted path, or `absolute` when that is set.
    `context` holds (text, markers) pairs appended to messages whose key name has none of the markers.
    """

    def __init__(self, file: str, origins: dict | None = None, context: tuple = ()):
        self.file, self.origins, self.context = file, origins or {}, tuple(context)

    def derive(self, origins: dict, *context) -> Where:
        return Where(self.file, origins, self.context + tuple(context))

    def _origin(self, path):
        for n in range(len(path), 0, -1):
            o = self.origins.get(tuple(path[:n]))
            if o is not None:
                return o
        return ("", None)

    def name(self, path) -> str:
        prefix, absolute = self._origin(path)
        return absolute if absolute is not None else prefix + dotted(path)

    def sibling(self, path, key) -> str:
        """The name `path` would have with its last part replaced: for "did you mean"."""
        prefix, _ = self._origin(path)
        return prefix + dotted(tuple(path[:-1]) + (key,))

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

    def apply(self, rule, value, path):
        """rule.check(value), or a failure saying what was expected."""
        try:
            return rule.check(value)
        except ValueError:
            hint = rule.hint(value) if hasattr(rule, "hint") else _quoted_hint(value, rule)
            self.fail(path, f"expected {rule.expected()}, got {show(value)}{hint}")

    def table(self, value, path, example: str = "") -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected a table{example}, got {show(value)}")
        return value


# ---- reading the file ----------------------------------------------------------------------------

_TOML_WHERE = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")


MAX_FILE_BYTES = 4 * 1024 * 1024  # experiment files are a few kilobytes


def _read_regular(path: Path, file: str) -> bytes:
    """The bytes of `path` if it is a regular file; ConfigError for anything else, without blocking on it.

    Opened non-blocking and checked before reading: a FIFO opened for reading waits for a writer, and a
    character device such as /dev/zero never ends.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "a socket"
                if stat.S_ISSOCK(info.st_mode)
                else "a device"
                if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "not a regular file"
            )
            raise ConfigError(f"{file}: is {kind}, expected a regular .toml file")
        if info.st_size > MAX_FILE_BYTES:
            raise ConfigError(
                f"{file}: {info.st_size:,} bytes; expected an experiment file of at most "
                f"{MAX_FILE_BYTES:,} bytes"
            )
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)


def read_toml(path: Path, file: str) -> dict:
    try:
        text = _read_regular(path, file).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{file}: is a directory, expected a .toml file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise ConfigError(f"{file}: cannot read: {e.strerror}") from None
    # A byte-order mark (some Windows editors write one) is not TOML; it carries no meaning in UTF-8, so drop it.
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(
            f"{file}: TOML nested too deeply (arrays or tables inside each other hundreds of levels deep)"
        ) from None
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_WHERE.match(msg)
        if m:
            raise ConfigError(
                f"{file}: line {m[2]}, column {m[3]}: TOML syntax error: {m[1]}"
            ) from None
        raise ConfigError(f"{file}: TOML syntax error: {msg}") from None


# ---- merging layers --------------------------------------------------------------------------


def _switches(path, old: dict, new: dict) -> bool:
    if len(path) != 1 or path[0] not in DISCRIMINATORS:
        return False
    disc, default = DISCRIMINATORS[path[0]]
    return disc in new and new[disc] != old.get(disc, default)


def merge(doc: dict, origins: dict, layer: dict, prefix: str) -> tuple[dict, dict]:
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
            if (
                isinstance(value, dict)
                and isinstance(old, dict)
                and p != ("cases",)
                and not _switches(p, old, value)
            ):
                into(old, value, p)
            else:
                put(dst, key, value, p)

    into(doc, layer, ())
    return doc, origins


def flatten_grid(grid, file: str, name: str):
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
                raise ConfigError(
                    f"{file}: {name}.{dotted([key])}: given twice (quoted and as dotted keys)"
                )
            flat[key] = v

    walk(grid, ())
    return flat


def flatten_layer_grid(layer: dict, file: str, prefix: str) -> dict:
    if isinstance(layer.get("grid"), dict):
        layer = dict(layer)
        layer["grid"] = flatten_grid(layer["grid"], file, prefix + "grid")
    return layer


# ---- profiles and --set --------------------------------------------------------------------------


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
        raise ConfigError(
            f"--set {text}: {json.dumps(key)} is not a dotted key like train.steps"
        ) from None
    path = []
    while isinstance(node, dict):
        ((k, node),) = node.items()
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


def override_layer(overrides, file: str) -> dict:
    """All --set overrides as one layer."""
    layer: dict = {}
    for text in overrides:
        try:
            path, value = _parse_override(text)
        except ConfigError as e:
            raise ConfigError(f"{file}: {e}") from None
        if path[0] not in LAYER_KEYS:
            close = difflib.get_close_matches(path[0], LAYER_KEYS, n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else "expected a key under " + ", ".join(LAYER_KEYS)
            )
            raise ConfigError(f"{file}: --set {dotted(path)}: cannot be set ({hint})")
        node = layer
        for k in path[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(
                    f"{file}: --set {dotted(path)}: conflicts with another --set of {k}"
                )
        node[path[-1]] = value
    return flatten_layer_grid(layer, file, "--set ")


def read_profiles(raw: dict, where: Where) -> dict[str, dict]:
    """{profile: layer} of the file's [profiles.*] tables, all three required."""
    if "profiles" not in raw:
        where.fail(
            ("profiles",),
            "missing (every experiment file declares [profiles.smoke], [profiles.cpu] and [profiles.paper], possibly empty)",
        )
    profiles = where.table(raw["profiles"], ("profiles",))
    for name in profiles:
        if name not in PROFILES:
            where.unknown(("profiles", name), PROFILES, "profile")
    out = {}
    for name in PROFILES:
        path = ("profiles", name)
        if name not in profiles:
            where.fail(
                path,
                f"missing (declare [profiles.{name}], possibly empty; expected all of {', '.join(PROFILES)})",
            )
        layer = where.table(profiles[name], path)
        for key in layer:
            if key in ("name", "study", "description", "runtime"):
                where.fail(
                    path + (key,),
                    f"a profile cannot change {key} (it may change {', '.join(LAYER_KEYS)})",
                )
            if key not in LAYER_KEYS:
                where.unknown(path + (key,), LAYER_KEYS)
        out[name] = flatten_layer_grid(layer, where.file, f"profiles.{name}.")
    return out


def check_jsonable(value, name: str, where: Where) -> None:
    """The resolved config is written as JSON; TOML's dates and times have no JSON form."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_jsonable(v, f"{name}.{dotted([k])}", where)
    elif isinstance(value, list):
        for j, v in enumerate(value):
            check_jsonable(v, f"{name}[{j}]", where)
    elif not isinstance(value, (str, int, float, bool)):
        where.fail_named(
            name,
            f"dates and times are not supported (the resolved config is JSON), got {show(value)}",
        )
