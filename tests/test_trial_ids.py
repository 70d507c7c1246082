"""Trial ids are stable: adding a setting (at its default) must not change the id of any planned trial.

tests/data/trial_ids.json holds, per experiment file and profile, a hash of the sorted trial ids.
Change it only on purpose, when an experiment's trials themselves change (and say so).
"""

import hashlib
import json
from pathlib import Path

import pytest

from cinit_tf.experiment.config import load_experiment

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((Path(__file__).parent / "data" / "trial_ids.json").read_text())


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_trial_ids_are_unchanged(key):
    file, profile = key.split(":")
    ids = sorted(
        p.id for p in load_experiment(ROOT / "experiments" / file, profile=profile).trials()
    )
    assert hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16] + f":{len(ids)}" == GOLDEN[key]


def test_every_experiment_file_is_pinned():
    pinned = {key.split(":")[0] for key in GOLDEN}
    assert pinned == {p.name for p in (ROOT / "experiments").glob("*.toml")}
