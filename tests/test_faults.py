"""The runner under faults: unsafe names, unusable folders, signals, published reports, odd files, failing reports.

Each fault is one test; every run is a tiny smoke-sized experiment.
"""

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from run_process import run_args, stop_after_first_trial

from cinit_tf.experiment.config import ConfigError, load_experiment
from cinit_tf.run import main
from cinit_tf.store import Store
from cinit_tf.tensorboard import TensorBoardLog, run_name

ROOT = Path(__file__).resolve().parent.parent

TINY = textwrap.dedent(
    """
    name = "{name}"
    study = "freeze_embedding"
    [task]
    name = "xor"
    bits = 3
    [train]
    steps = {steps}
    d = 8
    weight_decay = 3.0
    log_every = {log_every}
    [seeds]
    count = {count}
    [run]
    group_size = 1
    jit_compile = false
    tensorboard_members = 0
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def tiny(folder: Path, name="tiny", steps=20, count=2, log_every=10, extra="") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(TINY.format(name=name, steps=steps, count=count, log_every=log_every) + extra)
    return path


def run_cli(*args, cwd=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "cinit_tf.run", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---- 1. names that become paths ----------------------------------------------------------------


def test_case_label_with_a_path_is_refused_at_load(tmp_path, capsys):
    exp = tmp_path / "bad.toml"
    exp.write_text(
        TINY.format(name="bad", steps=10, count=1, log_every=10)
        + '[[cases]]\nlabel = "../../evil"\n[[cases]]\nlabel = "ok"\n'
    )
    assert (
        main(
            [
                str(exp),
                "--out",
                str(tmp_path / "runs"),
                "--reports",
                str(tmp_path / "rep"),
                "--quiet",
            ]
        )
        == 2
    )
    line = one_error_line(capsys.readouterr().err)
    assert "cases[0].label" in line and "../../evil" in line
    assert not (tmp_path / "runs").exists()
    for label in ("a..b", ".hidden", "a/b", "", "sp ace"):
        exp.write_text(
            TINY.format(name="bad", steps=10, count=1, log_every=10)
            + f'[[cases]]\nlabel = "{label}"\n'
        )
        with pytest.raises(ConfigError, match=r"cases\[0\]\.label"):
            load_experiment(exp)
    with pytest.raises(ConfigError, match="name"):
        load_experiment(tiny(tmp_path, name="x..y"))


def test_tensorboard_runs_stay_inside_the_run_folder(tmp_path):
    exp = tmp_path / "grid.toml"
    exp.write_text(
        TINY.format(name="grid", steps=10, count=1, log_every=10)
        + '[grid]\n"train.lr" = [0.5, 1e-3]\n"train.freeze_embedding" = [true, false]\n'
    )
    plans = load_experiment(exp).trials()
    names = [run_name(p) for p in plans]
    assert len(set(names)) == 4 and all("/" not in n and ".." not in n for n in names)
    assert "lr-0.5_freeze_embedding-true_seed-0" in names
    log = TensorBoardLog(tmp_path / "tb", plans, 1)
    with pytest.raises(ValueError):
        log._inside("../outside")


# ---- 2. --out and --reports --------------------------------------------------------------------


def test_unusable_out_or_reports_exit_2_before_anything_runs(tmp_path, capsys):
    exp = tiny(tmp_path)
    afile = tmp_path / "a_file"
    afile.write_text("")
    cases = [
        (["--out", str(afile)], "--out"),
        (["--out", str(afile / "runs")], "--out"),
        (["--out", str(tmp_path / "runs"), "--reports", str(afile / "reports")], "--reports"),
        (["--out", "/proc/cinit_tf_runs"], "--out"),  # not creatable, even for root
    ]
    for args, flag in cases:
        assert main([str(exp), *args, "--quiet"]) == 2
        line = one_error_line(capsys.readouterr().err)
        assert line.startswith(f"error: {flag} ")
    assert not (tmp_path / "runs").exists()


# ---- 3. SIGINT and SIGTERM ----------------------------------------------------------------------


@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_run_keeps_trials_and_rerun_finishes_each_once(tmp_path, sig, status):
    exp = tiny(tmp_path, steps=1500, count=6, log_every=100)
    out = tmp_path / "runs"
    args = run_args(exp, out)
    trials = out / "tiny" / "trials"
    proc, stdout, stderr = stop_after_first_trial(args, trials, sig)
    saved = len(list(trials.glob("*.npz")))
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    line = one_error_line(stderr)
    assert f"{saved} of 6 trials saved in {out / 'tiny'}" in line and "same command resumes" in line
    assert 1 <= saved < 6, "the signal should land mid-run"
    assert not list(trials.glob("*.tmp"))

    # The stopped sitting is recorded with what it stored, as not completed.
    store = Store(out / "tiny")
    (stopped,) = store.sittings()
    assert stopped["completed"] is False
    assert stopped["trials"] == saved and stopped["model_steps"] == 1500 * saved
    assert stopped["seconds"] > 0

    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 0
    planned = {p.id for p in load_experiment(exp).trials()}
    assert sorted(p.stem for p in trials.glob("*.npz")) == sorted(planned)
    first, resumed = store.sittings()
    assert first == stopped
    assert resumed["completed"] is True
    assert resumed["trials"] == 6 - saved and resumed["model_steps"] == 1500 * (6 - saved)


# ---- 4. published reports ----------------------------------------------------------------------


def test_smoke_run_in_the_repository_leaves_published_reports_alone(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("needs the git repository")
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    if not (clone / "reports" / "xor_rank" / "summary.json").exists():
        pytest.skip("no committed xor_rank report to protect")
    shutil.rmtree(
        clone / "cinit_tf"
    )  # run the working tree's code (installed), in the clone's folders
    proc = run_cli("experiments/xor_rank.toml", "--profile", "smoke", "--quiet", cwd=clone)
    assert proc.returncode == 0, proc.stderr
    status = subprocess.run(
        ["git", "status", "--porcelain", "reports/"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""
    local = Path("runs") / "xor_rank" / "report"
    assert (clone / local / "xor_rank" / "README.md").is_file()
    last = proc.stdout.strip().splitlines()[-1]
    assert "report in " in last and last.endswith(str(local / "xor_rank" / "README.md"))
    assert proc.stdout.splitlines()[0] == "xor_rank: profile smoke"


def test_run_keeps_a_report_made_at_a_larger_profile(tmp_path, capsys):
    exp = tiny(tmp_path)
    reports = tmp_path / "reports"
    (reports / "tiny").mkdir(parents=True)
    published = json.dumps({"name": "tiny", "profile": "paper"})
    (reports / "tiny" / "summary.json").write_text(published)
    out = tmp_path / "runs"
    assert (
        main(
            [str(exp), "--profile", "cpu", "--out", str(out), "--reports", str(reports), "--quiet"]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert (reports / "tiny" / "summary.json").read_text() == published
    assert "kept the published report in" in printed and str(reports / "tiny") in printed
    assert (out / "tiny" / "report" / "tiny" / "README.md").is_file()
    # --replace-report replaces it
    assert (
        main(
            [
                str(exp),
                "--profile",
                "cpu",
                "--out",
                str(out),
                "--reports",
                str(reports),
                "--quiet",
                "--replace-report",
            ]
        )
        == 0
    )
    assert json.loads((reports / "tiny" / "summary.json").read_text())["profile"] == "cpu"


# ---- 5. odd files -------------------------------------------------------------------------------


def test_deeply_nested_toml_is_one_line(tmp_path, capsys):
    exp = tmp_path / "deep.toml"
    exp.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main([str(exp), "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "deep.toml" in line and "nested too deeply" in line


def test_a_fifo_or_device_as_the_experiment_file_is_refused_without_reading(tmp_path):
    import os

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    # In a child with a deadline: reading a FIFO that no one writes would block forever.
    for path, kind in ((fifo, "is a FIFO"), ("/dev/zero", "is a device")):
        proc = run_cli(path, "--out", tmp_path / "runs", "--quiet", timeout=120)
        assert proc.returncode == 2
        line = one_error_line(proc.stderr)
        assert line == f"error: {path}: {kind}, expected a regular .toml file"
    assert not (tmp_path / "runs").exists()


def test_a_byte_order_mark_is_accepted(tmp_path):
    plain = tiny(tmp_path)
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert [p.id for p in load_experiment(bom).trials()] == [
        p.id for p in load_experiment(plain).trials()
    ]


# ---- 6. a failing report ------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["ReportError", "OSError"])
def test_report_failure_is_one_line_and_keeps_trials(tmp_path, capsys, monkeypatch, error):
    from cinit_tf.reporting import generate as report

    def failing(run_dir, reports_dir="reports"):
        raise (
            report.ReportError(f"{run_dir}: broken on purpose")
            if error == "ReportError"
            else OSError(28, "No space left on device")
        )

    monkeypatch.setattr(report, "generate_report", failing)
    exp = tiny(tmp_path)
    out = tmp_path / "runs"
    assert (
        main([str(exp), "--out", str(out), "--reports", str(tmp_path / "reports"), "--quiet"]) == 1
    )
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert (
        "the report failed" in line
        and "2 of 2 trials saved" in line
        and "python -m cinit_tf.report" in line
    )
    assert len(Store(out / "tiny").finished_ids()) == 2


# ---- 7. a full disk with TensorBoard on ------------------------------------------------------------


def _records(path: Path) -> int:
    """The number of whole records of a TensorBoard events file; AssertionError on a partial one."""
    import struct

    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    data, at, n = path.read_bytes(), 0, 0
    while at < len(data):
        assert at + 12 <= len(data), f"{path}: a partial record header"
        length, crc = struct.unpack("<QI", data[at : at + 12])
        assert crc == masked_crc32c(data[at : at + 8]), f"{path}: a damaged record header"
        body = data[at + 12 : at + 12 + length]
        assert len(body) == length and at + 16 + length <= len(data), f"{path}: a partial record"
        assert struct.unpack("<I", data[at + 12 + length : at + 16 + length])[0] == masked_crc32c(
            body
        )
        at, n = at + 16 + length, n + 1
    return n


def test_a_full_disk_with_tensorboard_on_is_one_line_and_leaves_whole_event_files(
    tmp_path, capsys, monkeypatch
):
    from tensorboard.summary.writer import record_writer

    exp = tmp_path / "tb.toml"
    exp.write_text(
        TINY.format(name="tb", steps=20, count=2, log_every=10).replace(
            "tensorboard_members = 0", "tensorboard_members = 2"
        )
    )
    out = tmp_path / "runs"
    real = record_writer.RecordWriter.write
    writes: dict = {}

    def full_disk(self, data):
        # The disk fills while the second trial logs its curves: half a record reaches the file, then ENOSPC.
        name = str(getattr(self._writer, "name", ""))
        writes[name] = writes.get(name, 0) + 1
        if "seed-1" in name and writes[name] > 3:
            self._writer.write(data[:5])
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(record_writer.RecordWriter, "write", full_disk)
    thread_errors = []  # a writer thread's exception is printed as a traceback on the command line
    monkeypatch.setattr(threading, "excepthook", lambda args: thread_errors.append(args.exc_value))
    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 1
    saved = Store(out / "tb").finished_ids()
    assert len(saved) == 1  # the first trial finished before the disk filled, and is kept
    events = sorted((out / "tb" / "tensorboard").rglob("events.out.tfevents.*"))
    assert all(_records(p) >= 2 for p in events)  # whole files: no empty one, no half record
    # the layout, and the stored trial's curves
    assert [p.parent.name for p in events] == ["tensorboard", "seed-0"]
    assert not list((out / "tb" / "tensorboard").rglob("*.tmp")) and thread_errors == []
    line = one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line and "TensorBoard" in line
    assert f"{len(saved)} of 2 trials saved" in line and "same command resumes" in line

    monkeypatch.setattr(
        record_writer.RecordWriter, "write", real
    )  # space again: the same command finishes
    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 0
    assert len(Store(out / "tb").finished_ids()) == 2
    runs = sorted(p.name for p in (out / "tb" / "tensorboard").iterdir() if p.is_dir())
    assert runs == ["seed-0", "seed-1"]


# ---- 8. reports published at a larger profile, damaged run records ------------------------------------


def test_report_command_keeps_a_report_made_at_a_larger_profile(tmp_path, capsys):
    from test_report import make_run

    from cinit_tf.report import main as report_main

    run = make_run(tmp_path / "runs")  # a smoke run
    reports = tmp_path / "reports"
    (reports / "freeze_synth").mkdir(parents=True)
    summary = {"name": "freeze_synth", "profile": "cpu", "claims": []}
    published = {
        "freeze_synth/summary.json": json.dumps(summary),
        "freeze_synth/README.md": "# the published report\n",
        "README.md": "# the index\n",
    }
    for name, text in published.items():
        (reports / name).write_text(text)
    assert report_main([str(run), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len([x for x in err.splitlines() if x.strip()]) == 1
    assert f"{reports / 'freeze_synth'} holds a report made at profile cpu" in err
    assert "profile smoke" in err and "--replace-report" in err
    assert {name: (reports / name).read_text() for name in published} == published
    assert sorted(p.name for p in reports.iterdir()) == [
        "README.md",
        "freeze_synth",
    ]  # no lock, no temporary

    assert report_main([str(run), "--reports", str(reports), "--replace-report"]) == 0
    assert json.loads((reports / "freeze_synth" / "summary.json").read_text())["profile"] == "smoke"
    assert (
        report_main([str(run), "--reports", str(reports)]) == 0
    )  # smoke over smoke: none larger in the way


@pytest.mark.parametrize(
    "damage,expected",
    [
        ("{not json", "damaged, not valid JSON"),
        ("[1, 2]", "damaged: holds list, expected a JSON object"),
        ('{"trial_ids": "abc"}', "damaged: 'trial_ids' is not a list of trial ids"),
    ],
)
def test_a_damaged_run_record_exits_2_and_changes_nothing(tmp_path, capsys, damage, expected):
    from cinit_tf import results
    from cinit_tf.report import main as report_main
    from cinit_tf.store import RunFolderError

    exp = tiny(tmp_path)
    out = tmp_path / "runs"
    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 0
    capsys.readouterr()
    config = out / "tiny" / "config.json"
    config.write_text(damage)
    before = sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*"))
    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {config}: {expected}") and "move it away" in line
    assert report_main([str(out / "tiny"), "--reports", str(tmp_path / "reports")]) == 2
    assert one_error_line(capsys.readouterr().err).startswith(f"error: {config}: {expected}")
    with pytest.raises(RunFolderError, match="config.json: damaged"):
        results.load(out / "tiny")
    assert sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*")) == before
    assert config.read_text() == damage and not (tmp_path / "reports").exists()
