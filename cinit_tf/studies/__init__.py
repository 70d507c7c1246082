"""One module per paper section: what it needs from its trials and how it turns them into a report section.

A study module `cinit_tf/studies/<name>.py` defines `analyse(record, trials, out_dir) -> Section`
(see `cinit_tf.report`; `record` is the run folder's config.json); an experiment file names it with `study = "<name>"`.
"""

import pkgutil


def study_names() -> list[str]:
    """The studies an experiment file may name: every module of this package."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
