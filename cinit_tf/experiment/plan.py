"""Which trials an experiment is, and what identifies each (docs/method.md#seeds-and-splits, #population-training).

Trials come out cases first (declared order), then grid points (first grid key outermost), then
seeds. A trial's identity is its settings: case, grid point, the task, train and transform tables
with defaults filled, and its seeds; [run] is not part of it, so how a run is executed never
changes which trials it finds already finished. A setting marked new in the schema is left out of
the identity while it holds its default, so adding a setting keeps every existing id.

Planning builds one small dict per trial and nothing proportional to a trial's steps.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from cinit_tf.experiment.schema import RunSettings, defaults, new_at_default, schema_of
from cinit_tf.tasks import Task, make_task
from cinit_tf.trial import TrainConfig


def canonical(obj) -> str:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def identity(settings: dict) -> dict:
    """The part of a trial's settings its id is the hash of: settings without new settings at their default."""
    out, dropped = settings, set()
    for section in ("task", "train", "transform"):
        table = settings.get(section)
        new = new_at_default(schema_of(section, table), table) if table is not None else ()
        if new:
            out = dict(out) if out is settings else out
            out[section] = {k: v for k, v in table.items() if k not in new}
            dropped |= {f"{section}.{k}" for k in new}
    if dropped and "grid" in settings:
        out["grid"] = {k: v for k, v in settings["grid"].items() if k not in dropped}
    return out


@dataclass(frozen=True, eq=True)
class TrialPlan:
    """One trial to run: `settings` is its whole identity (execution settings in [run] are not part of it).

    settings = {"case": label or "", "grid": {"train.d": 8, ...}, "task": {...}, "train": {...},
                "transform": {...}, "seeds": {"embedding", "mlp", "split"}, "index": {"embedding", "trial"}}
    """

    id: str
    settings: dict = field(compare=False)
    source: str | None = field(
        default=None, compare=False
    )  # id of the earlier-stage trial this one starts from

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def from_settings(cls, settings: dict, source: str | None = None) -> TrialPlan:
        return cls(
            hashlib.sha256(canonical(identity(settings)).encode()).hexdigest()[:16],
            settings,
            source,
        )

    def task(self) -> Task:
        return make_task(**self.settings["task"])

    def train_config(self, run: dict | None = None) -> TrainConfig:
        """The TrainConfig of this trial; jit_compile and group_size come from `run` (group_size 0 = automatic)."""
        run = {**defaults(RunSettings), **(run or {})}
        return TrainConfig(
            **self.settings["train"],
            jit_compile=run["jit_compile"],
            group_size=run["group_size"] or None,
        )

    @functools.cached_property
    def population_key(self) -> str:
        """Equal for trials that differ only in seeds, which can therefore train as one population."""
        return canonical({k: v for k, v in self.settings.items() if k not in ("seeds", "index")})


def source_points(points: list, label: str, gpoint: dict) -> list:
    """The points of case `label` whose grid values agree with `gpoint` on the keys both have."""
    return [
        q
        for q in points
        if q[0] == label and all(q[1][k] == v for k, v in gpoint.items() if k in q[1])
    ]


def seed_count(seeds: dict) -> int:
    """How many trials a resolved seeds table makes."""
    if seeds["layout"] == "independent":
        return seeds["count"]
    return seeds["embeddings"] * seeds["trials_per_embedding"]


def seed_trials(seeds: dict):
    """((embedding, mlp, split), (e, t)) per trial of a resolved seeds table, in order."""
    base = seeds["base"]
    if seeds["layout"] == "independent":
        for i in range(seeds["count"]):
            yield (base + i, base + i, base + i), (i, 0)
    else:
        # No two trials share an MLP or split seed, whichever embedding they start from.
        per = seeds["trials_per_embedding"]
        for e in range(seeds["embeddings"]):
            for t in range(per):
                s = base + e * per + t
                yield (base + e, s, s), (e, t)


def flat_settings(settings: dict, sections=("task", "train", "transform")) -> dict:
    """A trial's settings as one flat {"section.key": value} table, sections in the given order, keys sorted."""
    return {
        f"{section}.{key}": value
        for section in sections
        for key, value in sorted(settings.get(section, {}).items())
    }


@dataclass
class Experiment:
    """A validated experiment: the file with a profile and overrides applied."""

    path: Path
    name: str
    study: str
    description: str
    profile: str
    overrides: tuple[str, ...]
    resolved: dict  # merged and JSON-able, without profiles; run and analysis filled with defaults
    analysis: dict
    run: dict
    points: list = field(
        default_factory=list, repr=False
    )  # (case label, grid point, tables) per case × grid point
    runtime: dict = field(
        default_factory=dict
    )  # the file's declared runtime per profile ({} when it declares none)

    def steps(self, ids=None) -> int:
        """Model-steps of the experiment: optimizer steps summed over its trials, or over those whose id is in `ids`."""
        return sum(
            p.settings["train"]["steps"] for p in self.trials() if ids is None or p.id in ids
        )

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
        """Every trial: cases in declared order, then grid points (first grid key outermost), then seeds.

        A trial of a second stage (fourier_keep with a source_case) carries the id of the trial of
        that case with the same seeds at the matching grid point, whose final signals it keeps.
        """
        plans = self._trials()
        by_point_seeds = {
            (
                p.settings["case"],
                canonical(p.settings["grid"]),
                canonical(p.settings["seeds"]),
            ): p.id
            for p in plans
        }
        out = []
        for plan in plans:
            source = plan.settings["transform"].get("source_case", "")
            if source:
                ((label, gpoint, _),) = source_points(self.points, source, plan.settings["grid"])
                sid = by_point_seeds[(label, canonical(gpoint), canonical(plan.settings["seeds"]))]
                plan = TrialPlan(plan.id, plan.settings, sid)
            out.append(plan)
        return out

    def _trials(self) -> list[TrialPlan]:
        plans = []
        for label, gpoint, point in self.points:
            key = None
            for (emb, mlp, split), (e, t) in seed_trials(point["seeds"]):
                settings = {
                    "case": label,
                    "grid": dict(gpoint),  # scalars only
                    "task": dict(point["task"]),
                    "train": dict(point["train"]),
                    "transform": dict(point["transform"]),
                    "seeds": {"embedding": emb, "mlp": mlp, "split": split},
                    "index": {"embedding": e, "trial": t},
                }
                plan = TrialPlan.from_settings(settings)
                # Every trial of one point is one population: compute its key once per point.
                key = (
                    plan.population_key
                    if key is None
                    else plan.__dict__.setdefault("population_key", key)
                )
                plans.append(plan)
        return plans

    def populations(self) -> list[list[TrialPlan]]:
        """Trials grouped by population_key, groups in order of first appearance."""
        groups: dict[str, list[TrialPlan]] = {}
        for plan in self.trials():
            groups.setdefault(plan.population_key, []).append(plan)
        return list(groups.values())
