"""One module per paper section: its declaration, and how it turns its trials into a report section.

A study module `cinit_tf/studies/<name>.py` defines `DECLARATION` (a `cinit_tf.writeup.section.Declaration`),
`measure(trials, options) -> Measured` (the numbers and the judged claims, pure) and
`write(measured, record, out_dir) -> Section` (the Markdown text and the figures; `record` is the run
folder's config.json); an experiment file names it with `study = "<name>"`. `analyse` below joins the
two halves. No study imports another study.
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
    from cinit_tf.writeup.section import paper_key

    out = {name: declaration(name) for name in study_names()}
    return dict(
        sorted(out.items(), key=lambda kv: (paper_key(kv[1].paper_ref), kv[1].order, kv[0]))
    )


def options(module, record: dict):
    """The run's `[analysis]` options for this study (its schema dataclass), or None when it declares none."""
    from cinit_tf.writeup.common import analysis_of

    schema = module.DECLARATION.analysis
    return analysis_of(record, schema) if schema is not None else None


def analyse(module, record: dict, trials: list, out_dir):
    """The report section of a study module for a run: `write(measure(trials, options), record, out_dir)`."""
    section = module.write(module.measure(trials, options(module, record)), record, out_dir)
    from cinit_tf.stats.claims import problems

    bad = [f"{c.name!r}: {'; '.join(problems(c))}" for c in section.claims if problems(c)]
    if bad:
        raise ValueError(
            f"study {module.__name__.rsplit('.', 1)[-1]} returned incomplete claim records: "
            + " | ".join(bad)
        )
    return section
