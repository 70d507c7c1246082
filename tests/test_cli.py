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
from cinit_tf.config import load_experiment
from cinit_tf.run import main
from cinit_tf.store import Store

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=ROOT, timeout=300):
    return subprocess.run([sys.executable, "-m", "cinit_tf.run", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


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
    path.write_text(SMALL.format(name=name, task=task[0], task_key=task[1], task_value=task[2], count=count) + extra)
    return path


def test_list_shows_every_experiment_file_in_paper_order():
    proc = run_cli("--list")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("experiments/")]
    files = sorted(p.as_posix() for p in (ROOT / "experiments").glob("*.toml"))
    assert sorted(row.split()[0] for row in rows) == [str(Path(f).relative_to(ROOT)) for f in files]
    listed = [load_experiment(ROOT / row.split()[0], profile="smoke").study for row in rows]
    assert listed == list(studies.declarations())  # the paper's order, checked against the paper in test_report
    for row in rows:
        experiment = load_experiment(ROOT / row.split()[0], profile="smoke")
        assert studies.declaration(experiment.study).paper_ref in row
        if experiment.runtime:  # each profile's declared duration appears in the row
            assert all(experiment.runtime[p].split("(")[0].strip().rstrip(",;") in row for p in ("smoke", "cpu", "paper"))
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
    assert lines[0] == "2 experiments, profile cpu: 100 model-steps to train; declared runtimes sum to ~2 min on a 2-core CPU (from scratch)"
    assert lines[1] == "first: profile cpu (the default; --profile smoke for a quick try)"
    assert lines[-1] == f"index of the reports: {reports / 'README.md'}"
    assert len(Store(out / "first").finished_ids()) == 2 and len(Store(out / "second").finished_ids()) == 3
    assert (reports / "first" / "README.md").is_file() and (reports / "second" / "README.md").is_file()
    # a bad file among good ones stops everything before anything trains
    bad = tmp_path / "bad.toml"
    bad.write_text(small(tmp_path, "third").read_text().replace("d = 8", "d = \"eight\""))
    assert main([str(small(tmp_path, "fourth")), str(bad), "--out", str(out), "--reports", str(reports), "--quiet"]) == 2
    assert not (out / "fourth").exists()


def test_four_shards_at_once_fill_one_folder_each_trial_once_and_one_report(tmp_path):
    exp = small(tmp_path, "sharded", count=8)
    out, reports = tmp_path / "runs", tmp_path / "reports"
    procs = [
        subprocess.Popen([sys.executable, "-m", "cinit_tf.run", str(exp), "--profile", "smoke", "--shard", f"{i}/4",
                          "--out", str(out), "--reports", str(reports), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [r[1] for r in results]
    planned = sorted(p.id for p in load_experiment(exp, profile="smoke").trials())
    files = sorted(p.name for p in (out / "sharded" / "trials").iterdir())
    assert files == [f"{i}.npz" for i in planned]  # every trial exactly once, no temporary files left
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
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_tensorboard_dashboards_over_http(tmp_path):
    """One run per case × grid point (the smallest embedding seed), Fig. 3a as one chart, HParams listing the grid."""
    exp = small(tmp_path, "tb", count=3, modadd=True, extra='[grid]\n"train.freeze_embedding" = [true, false]\n')
    assert main([str(exp), "--out", str(tmp_path), "--no-report", "--quiet"]) == 0
    logdir = tmp_path / "tb" / "tensorboard"
    assert sorted(p.name for p in logdir.iterdir() if p.is_dir()) == ["freeze_embedding-false_seed-0", "freeze_embedding-true_seed-0"]

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1",
                               "--port", str(port), "--reload_interval", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
            assert {f"fourier_norm/k{k:03d}" for k in range(1, 6)} <= set(run_tags)  # p = 11: k = 1..5

        layout = _get(f"{base}/data/plugin/custom_scalars/layout")
        charts = [c for cat in layout["category"] for c in cat["chart"]]
        fourier = [c for c in charts if any("fourier_norm" in t for t in c["multiline"]["tag"])]
        assert len(fourier) == 1
        pattern = re.compile(fourier[0]["multiline"]["tag"][0])
        assert sum(bool(pattern.search(t)) for t in next(iter(tags.values()))) == 5  # one chart, five lines

        experiment = _get(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
        names = {h["name"] for h in experiment["hparamInfos"]}
        assert "train.freeze_embedding" in names
        groups = _get(f"{base}/data/plugin/hparams/session_groups", {
            "experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": [], "startIndex": 0, "sliceSize": 100})
        seen = {g["name"]: g["hparams"] for g in groups["sessionGroups"]}
        assert seen["freeze_embedding-true_seed-0"]["train.freeze_embedding"] is True
        assert seen["freeze_embedding-false_seed-0"]["seeds.embedding"] == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
