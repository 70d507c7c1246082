"""Value rules of the experiment format: what one setting may hold, and how to say what was expected.

A rule has `expected()` (the text an error message shows) and `check(value)` (the normalised value,
or ValueError). Schema dataclasses carry their rule in `field(metadata={"rule": ...})`; the config
loader applies them generically. No TensorFlow here: validating a file must not wait for it.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from dataclasses import MISSING, dataclass, fields
from typing import Any


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Int:
    lo: int
    hi: int | None = None

    def expected(self) -> str:
        return (
            f"an integer >= {self.lo}" if self.hi is None else f"an integer in {self.lo}..{self.hi}"
        )

    def check(self, v):
        # TOML keeps 8 and 8.0 apart; a float where a count is meant is a mistake worth reporting.
        if (
            isinstance(v, bool)
            or not isinstance(v, int)
            or v < self.lo
            or (self.hi is not None and v > self.hi)
        ):
            raise ValueError
        return v


@dataclass(frozen=True)
class Float:
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
class Bool:
    def expected(self) -> str:
        return "true or false"

    def check(self, v):
        if not isinstance(v, bool):
            raise ValueError
        return v


@dataclass(frozen=True)
class Text:
    """A short string of letters, digits and `_ . -` (a case label or a name another key refers to)."""

    def expected(self) -> str:
        return "a non-empty string"

    def check(self, v):
        if not isinstance(v, str) or not v:
            raise ValueError
        return v


@dataclass(frozen=True)
class Choice:
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
class Either:
    first: Any
    second: Any

    def expected(self) -> str:
        return f"{self.first.expected()} or {self.second.expected()}"

    def check(self, v):
        try:
            return self.first.check(v)
        except ValueError:
            return self.second.check(v)


REQUIRED = MISSING  # a schema field without a default must be given


def schema_fields(cls) -> dict[str, tuple[Any, Any]]:
    """{name: (default or REQUIRED, rule)} of a schema dataclass, in declaration order.

    Fields without a "rule" in their metadata are not settings (the engine's own fields).
    """
    out = {}
    for f in fields(cls):
        rule = f.metadata.get("rule")
        if rule is None:
            continue
        out[f.name] = (f.default if f.default is not MISSING else REQUIRED, rule)
    return out


def setting(rule, default=REQUIRED, *, new: bool = False, doc: str = ""):
    """A schema field: its rule, its default (none: the key is required), and whether it is new.

    new=True marks a setting added after trials were run: at its default it is not part of a
    trial's identity, so those trials keep their ids.
    """
    return dataclasses.field(default=default, metadata={"rule": rule, "new": new, "doc": doc})
