"""The command line as a user meets it: --list, --help, several files in one command, four shards at
once into one folder, and TensorBoard's dashboards read back over its HTTP API."""

import json
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from cinit_tf import studies
from cinit_tf.experiment.config import load_experiment
from cinit_tf.run import main
from cinit_tf.store import Store

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=ROOT, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "cinit_tf.run", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


SMALL = textwrap.dedent(
    """
    name = "{name}"
    study = "freeze_embedding"
    runtime = {{ smoke = "5 s", cpu = "1 min", paper = "2 h" }}
    [task]
    name = "{task}"
    {task_key} = {task_value}
    [train]
    steps = 20
    d = 8
    log_every = 10
    first_steps = 2
    [seeds]
    count = {count}
    [run]
    jit_compile = false
    group_size = 1
    [profiles.smoke]
    [profiles.cpu]
    [profiles.paper]
    """
)


def small(folder: Path, name: str, count=2, modadd=False, extra="") -> Path:
    task = ("modadd", "p", 11) if modadd else ("xor", "bits", 3)
    path = folder / f"{name}.toml"
    path.write_text(
        SMALL.format(name=name, task=task[0], task_key=task[1], task_value=task[2], count=count)
        + extra
    )
    return path


def test_list_shows_every_experiment_file_in_paper_order():
    proc = run_cli("--list")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("experiments/")]
    files = sorted(p.as_posix() for p in (ROOT / "experiments").glob("*.toml"))
    assert sorted(row.split()[0] for row in rows) == [str(Path(f).relative_to(ROOT)) for f in files]
    listed = [load_experiment(ROOT / row.split()[0], profile="smoke").study for row in rows]
    assert listed == list(
        studies.declarations()
    )  # the paper's order, checked against the paper in test_report
    for row in rows:
        experiment = load_experiment(ROOT / row.split()[0], profile="smoke")
        assert studies.declaration(experiment.study).paper_ref in row
        if experiment.runtime:  # each profile's declared duration appears in the row
            assert all(
                experiment.runtime[p].split("(")[0].strip().rstrip(",;") in row
                for p in ("smoke", "cpu", "paper")
            )
    assert proc.stdout.count("claim: ") == len(rows)


def test_help_states_the_default_profile():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "(default: cpu)" in proc.stdout and "The default profile is cpu" in proc.stdout
    assert "model-steps" in proc.stdout


def test_several_files_in_one_command_estimate_then_index(tmp_path, capsys):
    a, b = small(tmp_path, "first"), small(tmp_path, "second", count=3)
    out, reports = tmp_path / "runs", tmp_path / "reports"
    assert main([str(a), str(b), "--out", str(out), "--reports", str(reports), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "2 experiments, profile cpu: 100 model-steps to train; expected ~2 min on a 2-core "
        "CPU (the declared runtimes, as declared)"
    )
    assert lines[1] == "first: profile cpu (the default; --profile smoke for a quick try)"
    assert lines[-1] == f"index of the reports: {reports / 'README.md'}"
    assert (
        len(Store(out / "first").finished_ids()) == 2
        and len(Store(out / "second").finished_ids()) == 3
    )
    assert (reports / "first" / "README.md").is_file() and (
        reports / "second" / "README.md"
    ).is_file()
    # a bad file among good ones stops everything before anything trains
    bad = tmp_path / "bad.toml"
    bad.write_text(small(tmp_path, "third").read_text().replace("d = 8", 'd = "eight"'))
    assert (
        main(
            [
                str(small(tmp_path, "fourth")),
                str(bad),
                "--out",
                str(out),
                "--reports",
                str(reports),
                "--quiet",
            ]
        )
        == 2
    )
    assert not (out / "fourth").exists()


def test_four_shards_at_once_fill_one_folder_each_trial_once_and_one_report(tmp_path):
    exp = small(tmp_path, "sharded", count=8)
    out, reports = tmp_path / "runs", tmp_path / "reports"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cinit_tf.run",
                str(exp),
                "--profile",
                "smoke",
                "--shard",
                f"{i}/4",
                "--out",
                str(out),
                "--reports",
                str(reports),
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [r[1] for r in results]
    planned = sorted(p.id for p in load_experiment(exp, profile="smoke").trials())
    files = sorted(p.name for p in (out / "sharded" / "trials").iterdir())
    assert files == [
        f"{i}.npz" for i in planned
    ]  # every trial exactly once, no temporary files left
    trained = sum(int(re.search(r"(\d+) trained", r[0]).group(1)) for r in results)
    assert trained == 8
    assert sorted(p.name for p in reports.iterdir()) == ["README.md", "sharded"]
    summary = json.loads((reports / "sharded" / "summary.json").read_text())
    assert summary["trials"] == summary["planned"] == 8
    assert not list((reports / "sharded").glob("*.tmp"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"} if data else {}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_tensorboard_dashboards_over_http(tmp_path):
    """One run per case × grid point (the smallest embedding seed), Fig. 3a as one chart, HParams listing the grid."""
    exp = small(
        tmp_path,
        "tb",
        count=3,
        modadd=True,
        extra='[grid]\n"train.freeze_embedding" = [true, false]\n',
    )
    assert main([str(exp), "--out", str(tmp_path), "--no-report", "--quiet"]) == 0
    logdir = tmp_path / "tb" / "tensorboard"
    assert sorted(p.name for p in logdir.iterdir() if p.is_dir()) == [
        "freeze_embedding-false_seed-0",
        "freeze_embedding-true_seed-0",
    ]

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            str(logdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--reload_interval",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, tags = time.time() + 60, {}
        while time.time() < deadline:
            try:
                tags = _get(f"{base}/data/plugin/scalars/tags")
                if len(tags) == 2:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert set(tags) == {"freeze_embedding-false_seed-0", "freeze_embedding-true_seed-0"}
        for run_tags in tags.values():
            assert {"loss/train", "loss/test", "acc/train", "acc/test"} <= set(run_tags)
            assert {f"fourier_norm/k{k:03d}" for k in range(1, 6)} <= set(
                run_tags
            )  # p = 11: k = 1..5

        layout = _get(f"{base}/data/plugin/custom_scalars/layout")
        charts = [c for cat in layout["category"] for c in cat["chart"]]
        fourier = [c for c in charts if any("fourier_norm" in t for t in c["multiline"]["tag"])]
        assert len(fourier) == 1
        pattern = re.compile(fourier[0]["multiline"]["tag"][0])
        assert (
            sum(bool(pattern.search(t)) for t in next(iter(tags.values()))) == 5
        )  # one chart, five lines

        experiment = _get(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
        names = {h["name"] for h in experiment["hparamInfos"]}
        assert "train.freeze_embedding" in names
        groups = _get(
            f"{base}/data/plugin/hparams/session_groups",
            {
                "experimentName": "",
                "allowedStatuses": [
                    "STATUS_UNKNOWN",
                    "STATUS_SUCCESS",
                    "STATUS_FAILURE",
                    "STATUS_RUNNING",
                ],
                "colParams": [],
                "startIndex": 0,
                "sliceSize": 100,
            },
        )
        seen = {g["name"]: g["hparams"] for g in groups["sessionGroups"]}
        assert seen["freeze_embedding-true_seed-0"]["train.freeze_embedding"] is True
        assert seen["freeze_embedding-false_seed-0"]["seeds.embedding"] == 0
    finally:
        server.terminate()
        server.wait(timeout=30)


# A child that counts every trial it stores (one line per write, appended to a shared log) and, at its first
# look at the store, waits until every child has looked: the shards plan at the same moment, as shards started
# together do, so a source both need is unfinished for both.
COUNTING_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from cinit_tf import store as store_module

    log, barrier, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    write, finished = store_module.Store.write_trial, store_module.Store.finished_ids
    looked = []

    def write_trial(self, trial_id, *args, **kwargs):
        write(self, trial_id, *args, **kwargs)
        with open(log, "a") as f:
            f.write(trial_id + "\\n")

    def finished_ids(self):
        if not looked:
            looked.append(True)
            (barrier / str(os.getpid())).touch()
            deadline = time.time() + 120
            while len(list(barrier.iterdir())) < n and time.time() < deadline:
                time.sleep(0.05)
        return finished(self)

    store_module.Store.write_trial, store_module.Store.finished_ids = write_trial, finished_ids
    from cinit_tf.run import main
    sys.exit(main(sys.argv[4:]))
    """
)

COUNTS = re.compile(
    r"(\d+) trained, (\d+) already finished(?:, (\d+) trained meanwhile by another process)? "
    r"\((\d+) in this shard of (\d+)\)(?:; also trained (\d+) source trial)?"
)


def test_concurrent_shards_train_a_shared_source_once_and_print_true_counts(tmp_path):
    from test_stages import TWO_STAGES

    from cinit_tf.runner import in_shard

    exp = tmp_path / "two.toml"
    exp.write_text(TWO_STAGES.format(source="full"))
    plans = load_experiment(exp, profile="smoke").trials()
    # The case this test is about: a shard whose second stage needs sources that belong to the other shard.
    assert any(p.source and in_shard(p.id, (0, 2)) != in_shard(p.source, (0, 2)) for p in plans)
    log, barrier, out = tmp_path / "written.log", tmp_path / "barrier", tmp_path / "runs"
    barrier.mkdir()
    args = [str(exp), "--profile", "smoke", "--out", str(out), "--no-report", "--quiet"]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                COUNTING_CHILD,
                str(log),
                str(barrier),
                "2",
                *args,
                "--shard",
                f"{i}/2",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(2)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1] for r in results]
    written = log.read_text().split()
    assert sorted(written) == sorted(
        p.id for p in plans
    )  # every trial trained once, by one of the two
    total = 0
    for i, (stdout, _) in enumerate(results):
        m = COUNTS.search(stdout)
        assert m, stdout
        trained, before, meanwhile, in_this, planned, sources = (int(x or 0) for x in m.groups())
        assert before == 0 and planned == len(plans)
        assert in_this == sum(in_shard(p.id, (i, 2)) for p in plans)
        assert trained + before + meanwhile == in_this
        total += trained + sources
    assert total == len(written) == len(plans)


def test_a_single_file_gets_the_estimate_line_scaled_by_model_steps(tmp_path, capsys):
    from cinit_tf.run import estimate

    exp = small(tmp_path, "one", count=2)  # cpu: 2 trials x 20 steps declared as 1 min
    out = tmp_path / "runs"
    assert main([str(exp), "--out", str(out), "--no-report", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "one: profile cpu (the default; --profile smoke for a quick try)"
    assert lines[1] == (
        "one: 40 model-steps to train; expected ~60 s on a 2-core CPU "
        "(its declared cpu runtime, as declared)"
    )
    # resumed: nothing left to train
    assert estimate([load_experiment(exp)], out, (0, 1)).startswith(
        "one: 0 model-steps to train; expected ~0 s"
    )
    # 200M model-steps: 2 trials x 1e8 steps, the declared minute for 40 scaled to 5e6 minutes
    big = load_experiment(exp, overrides=["train.steps=100000000", "train.log_every=1000000"])
    line = estimate([big], tmp_path / "elsewhere", (0, 1))
    assert line == (
        "one: 200,000,000 model-steps to train; expected ~3,472.2 days on a 2-core CPU "
        "(its declared cpu runtime, scaled by model-steps)"
    )
