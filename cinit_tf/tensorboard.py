"""TensorBoard curves of a few chosen trials, laid out as the paper draws them.

    runs/<name>/tensorboard/                     the layout (custom scalars) and the HParams table's columns
    runs/<name>/tensorboard/<case>_<grid>_seed-<e>/   one run per chosen trial

Which trials: per case × grid point, the `run.tensorboard_members` trials with the smallest embedding
seed (then MLP seed), so every setting the experiment varies has its curves. Each run logs
loss/{train,test}, acc/{train,test} and, on modular addition, fourier_norm/kNNN; the custom-scalars
layout draws all frequencies of a run in one chart (Fig. 3a), and the HParams dashboard lists each
run's varying settings (case, grid keys, seeds) beside its final losses and accuracies.

Events are written with TensorBoard's record format and summary protos, by this process into plain
files (no writer thread, no TensorFlow file system): a write that fails, a full disk, is an OSError
here, and the curves it leaves half-written (the open runs) are removed before it is raised, so the
folder holds whole event files only. The layout file is written whole and renamed into place.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import time
from pathlib import Path

from cinit_tf.experiment.plan import flat_settings
from cinit_tf.experiment.schema import safe_name

METRIC_TAGS = ("loss/train", "loss/test", "acc/train", "acc/test")
FOURIER_TAG = "fourier_norm/k{k:03d}"
LAYOUT_TITLE = "Fig. 3a: Fourier norm of every frequency over training"


def chosen_members(plans: list, per_point: int) -> list:
    """Per case × grid point, the `per_point` trials with the smallest (embedding seed, MLP seed)."""
    if per_point <= 0:
        return []
    points: dict = {}
    for plan in plans:
        key = (
            plan.settings["case"],
            tuple(sorted((k, str(v)) for k, v in plan.settings["grid"].items())),
        )
        points.setdefault(key, []).append(plan)
    out = []
    for members in points.values():
        out += sorted(
            members,
            key=lambda p: (p.settings["seeds"]["embedding"], p.settings["seeds"]["mlp"], p.id),
        )[:per_point]
    return out


def _part(text) -> str:
    # Grid values (true, 0.5, "random", -1) made folder-safe: anything else becomes "-".
    text = re.sub(
        r"[^A-Za-z0-9_.-]", "-", str(text).lower() if isinstance(text, bool) else str(text)
    )
    return re.sub(r"\.{2,}", ".", text)


def run_name(plan) -> str:
    """A trial's TensorBoard run: modadd_d-59_freeze_embedding-true_seed-0 (mlp seed added when it differs)."""
    s = plan.settings
    seeds = s["seeds"]
    seed = f"seed-{seeds['embedding']}" + (
        f"-{seeds['mlp']}" if seeds["mlp"] != seeds["embedding"] else ""
    )
    grid = [f"{_part(k.split('.')[-1])}-{_part(v)}" for k, v in s["grid"].items()]
    name = "_".join(x for x in (s["case"], *grid, seed) if x)
    if not safe_name(
        name
    ):  # cannot happen with validated labels; never write a path that is not one folder
        name = f"trial-{plan.id}"
    return name


def varying_settings(plans: list) -> dict[str, list]:
    """{setting: sorted distinct values} of the settings that differ between the experiment's trials."""
    values: dict = {}
    for plan in plans:
        for key, value in hparam_values(plan).items():
            values.setdefault(key, set()).add(value)
    return {
        k: sorted(v, key=lambda x: (str(type(x)), x))
        for k, v in sorted(values.items())
        if len(v) > 1
    }


def hparam_values(plan) -> dict:
    """The plan's case, settings and seeds as TensorBoard's HParams takes them (scalars only)."""
    out = {
        "case": plan.settings["case"],
        **flat_settings(plan.settings, ("task", "train", "transform", "seeds")),
    }
    return {k: v for k, v in out.items() if isinstance(v, (bool, int, float, str))}


class TensorBoardLog:
    """Writes the chosen trials' curves as `train_population` trains them (start / log / finish per trial)."""

    def __init__(self, root: Path, plans: list, per_point: int):
        self.root = Path(root)
        self.chosen = chosen_members(plans, per_point)
        self.names = {p.id: run_name(p) for p in self.chosen}
        if len(set(self.names.values())) < len(
            self.names
        ):  # two trials alike but for settings outside the name
            self.names = {p.id: f"{n}_{p.id[:8]}" for p, n in zip(self.chosen, self.names.values())}
        self.varying = varying_settings(plans)
        self.hparams = {
            p.id: {k: v for k, v in hparam_values(p).items() if k in self.varying}
            for p in self.chosen
        }
        self.fourier = any(p.settings["task"]["name"] == "modadd" for p in self.chosen)
        self.writers: dict = {}
        self._wrote_layout = False

    def _inside(self, name: str) -> Path:
        folder = self.root / name
        if folder.resolve().parent != self.root.resolve():
            raise ValueError(f"TensorBoard run {name!r} would leave {self.root}")
        return folder

    def _write_layout(self) -> None:
        """The custom-scalars layout and the HParams columns, once per run of the experiment."""
        from tensorboard.plugins.custom_scalar import layout_pb2
        from tensorboard.plugins.custom_scalar import summary as custom_scalar
        from tensorboard.plugins.hparams import summary_v2 as hp

        self._wrote_layout = True
        charts = []
        if self.fourier:
            charts.append(
                layout_pb2.Chart(
                    title="fourier_norm: one line per frequency k",
                    multiline=layout_pb2.MultilineChartContent(tag=[r"^fourier_norm/k\d+$"]),
                )
            )
        charts += [
            layout_pb2.Chart(
                title="loss: train and test",
                multiline=layout_pb2.MultilineChartContent(tag=[r"^loss/(train|test)$"]),
            ),
            layout_pb2.Chart(
                title="accuracy: train and test",
                multiline=layout_pb2.MultilineChartContent(tag=[r"^acc/(train|test)$"]),
            ),
        ]
        layout = layout_pb2.Layout(
            category=[
                layout_pb2.Category(
                    title=LAYOUT_TITLE if self.fourier else "Training curves", chart=charts
                )
            ]
        )
        config = hp.hparams_config_pb(
            hparams=[hp.HParam(k, hp.Discrete(v)) for k, v in self.varying.items()],
            metrics=[hp.Metric(tag, display_name=tag) for tag in METRIC_TAGS],
        )
        # Written whole under a name TensorBoard ignores, then renamed: shards writing it at once, or a full
        # disk, never leave a partial layout.
        tmp = self.root / f".layout-{os.getpid()}-{next(_UID)}.tmp"
        try:
            writer = _EventFile(tmp)
            for summary in (custom_scalar.pb(layout), config):
                writer.add(_event(0, summary))
            writer.close()
            for old in self.root.glob("events.out.tfevents.*"):  # an earlier run's layout
                if old.name != LAYOUT_FILE:
                    old.unlink(missing_ok=True)
            os.replace(tmp, self.root / LAYOUT_FILE)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise _failed(e, self.root) from None

    def start(self, slot: int, plan) -> None:
        """Trial `plan` starts training in `slot`: open its writer if it is one of the chosen."""
        if plan.id not in self.names:
            return
        from tensorboard.plugins.hparams import summary_v2 as hp

        if not self._wrote_layout:
            self._write_layout()
        folder = self._inside(self.names[plan.id])
        shutil.rmtree(folder, ignore_errors=True)  # a rerun trial starts its curves afresh
        try:
            writer = _EventFile(folder / _event_file_name())
            self.writers[slot] = (plan.id, writer)
            writer.add(
                _event(0, hp.hparams_pb(self.hparams[plan.id], trial_id=self.names[plan.id]))
            )
        except OSError as e:
            self.discard()
            shutil.rmtree(folder, ignore_errors=True)
            raise _failed(e, folder) from None

    def log(self, steps: dict[int, int], measurements: dict) -> None:
        """Measurements of every slot (axis 0); `steps` = {slot: its own step} of the slots measured now."""
        from tensorboard.compat.proto import summary_pb2

        for slot, (_, writer) in self.writers.items():
            if slot not in steps:
                continue
            values = [
                summary_pb2.Summary.Value(
                    tag=tag,
                    simple_value=float(
                        measurements[f"{tag.split('/')[1]}_{tag.split('/')[0]}"][slot]
                    ),
                )
                for tag in METRIC_TAGS
            ]
            if "fourier_norms" in measurements:
                values += [
                    summary_pb2.Summary.Value(tag=FOURIER_TAG.format(k=k), simple_value=float(v))
                    for k, v in enumerate(measurements["fourier_norms"][slot], start=1)
                ]
            try:
                writer.add(_event(steps[slot], summary_pb2.Summary(value=values)))
            except OSError as e:
                folder = writer.path.parent
                self.discard()
                raise _failed(e, folder) from None

    def finish(self, plan) -> None:
        """Trial `plan` has stopped: close (and so flush) its writer, if it has one."""
        for slot, (plan_id, writer) in list(self.writers.items()):
            if plan_id == plan.id:
                del self.writers[slot]
                try:
                    writer.close()
                except OSError as e:
                    shutil.rmtree(writer.path.parent, ignore_errors=True)
                    self.discard()
                    raise _failed(e, writer.path.parent) from None

    def discard(self) -> None:
        """Drop the curves of every trial still open (not stored, or a write failed) and their runs."""
        for _, writer in self.writers.values():
            writer.abandon()
            shutil.rmtree(writer.path.parent, ignore_errors=True)
        self.writers.clear()


LAYOUT_FILE = "events.out.tfevents.layout"
_UID = itertools.count()


def _event_file_name() -> str:
    """TensorBoard's own naming: events.out.tfevents.<time>.<host>.<pid>.<n>."""
    return f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_UID)}"


def _failed(e: OSError, where: Path) -> OSError:
    return OSError(
        e.errno,
        f"{e.strerror or e} (writing TensorBoard curves in {where}; the curves of "
        "trials not stored were removed)",
    )


class _EventFile:
    """One events file written by this process, in TensorBoard's record format (length, CRCs, Event proto)."""

    FLUSH_SECONDS = 30.0  # TensorBoard reads a file as it grows: flush at least this often

    def __init__(self, path: Path):
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")
        self._records = RecordWriter(self._file)
        self._flushed = time.monotonic()
        self.add(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def add(self, event) -> None:
        self._records.write(event.SerializeToString())
        if time.monotonic() - self._flushed > self.FLUSH_SECONDS:
            self._file.flush()
            self._flushed = time.monotonic()

    def close(self) -> None:
        self._file.close()

    def abandon(self) -> None:
        """Close without caring whether the last bytes reach the disk (the file is about to be removed)."""
        try:
            self._file.close()
        except OSError:
            pass


def _event(step: int, summary):
    from tensorboard.compat.proto import event_pb2, summary_pb2

    if not isinstance(
        summary, summary_pb2.Summary
    ):  # a plugin may build TensorFlow's own Summary class
        summary = summary_pb2.Summary.FromString(summary.SerializeToString())
    return event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
