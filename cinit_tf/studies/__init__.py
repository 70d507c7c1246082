"""One module per paper section: its declaration, and how it turns its trials into a report section.

A study module `cinit_tf/studies/<name>.py` defines `DECLARATION` (a `cinit_tf.section.Declaration`)
and `analyse(record, trials, out_dir) -> Section` (`record` is the run folder's config.json); an
experiment file names it with `study = "<name>"`. Modules whose name starts with `_` are helpers.
No study imports another study.
"""

from __future__ import annotations

import importlib
import pkgutil


def study_names() -> list[str]:
    """The studies an experiment file may name: every module of this package not starting with `_`."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def study(name: str):
    """The study module `name` (KeyError when there is none)."""
    if name not in study_names():
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{name}")


def declaration(name: str):
    """The `Declaration` of study `name`."""
    return study(name).DECLARATION


def declarations() -> dict:
    """{name: Declaration} of every study, in the paper's order."""
    out = {name: declaration(name) for name in study_names()}
    return dict(sorted(out.items(), key=lambda kv: (kv[1].order, kv[0])))
