"""Where a run was trained: library versions, CPU and its vector instruction sets, device, threads, commit.

Thousands of full-batch steps amplify the last bit of a float sum, so the same seeds give the same
numbers only on the same kind of CPU with the same library versions; elsewhere a rerun agrees with a
published report statistically, not bit for bit. Every run folder records this at the start of training
(config.json, "environment") and its report shows it, so a reader can tell which case a rerun is.
No TensorFlow import here: versions are read from the installed packages' metadata.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("tensorflow", "keras", "numpy", "scipy")
# The x86 and Arm vector extensions XLA's CPU code generator can use; which of them the CPU has decides
# how matrix products are blocked and summed, hence the last bits of every result.
VECTOR_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "neon",
    "asimd",
    "sve",
)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu() -> tuple[str, list[str]]:
    """(CPU model name, its vector instruction sets among VECTOR_FLAGS), from /proc/cpuinfo where there is one."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in ("model name", "hardware", "cpu model") and value.strip():
                model = value.strip()
            elif key in ("flags", "features"):
                flags |= set(value.split())
    except OSError:
        pass
    return model, [f for f in VECTOR_FLAGS if f in flags]


def commit(root: Path | None = None) -> str:
    """The project's git commit ("+ changes" when the work tree differs from it), or "unknown" outside a checkout."""
    root = root or Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "cinit_tf"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip()[:12] + (" + changes" if dirty else "")


def environment(device: str = "cpu", strategy: str = "default") -> dict:
    """What a run records of the machine it trains on (JSON-able)."""
    model, flags = cpu()
    return {
        "python": platform.python_version(),
        **{package: _version(package) for package in PACKAGES},
        "cpu": model,
        "instruction_sets": flags,
        "device": device,
        "strategy": strategy,
        "threads": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "commit": commit(),
    }


def describe(env: dict | None) -> str:
    """One line for a report's header."""
    if not env:
        return "not recorded (the run predates environment records)"
    versions = ", ".join(f"{p} {env.get(p, '?')}" for p in ("python", *PACKAGES))
    isa = ", ".join(env.get("instruction_sets") or []) or "none listed"
    return (
        f"{versions}; CPU {env.get('cpu', '?')} ({isa}); device {env.get('device', '?')}, strategy "
        f"{env.get('strategy', '?')}, {env.get('threads', '?')} threads; {env.get('platform', '?')}; commit {env.get('commit', '?')}"
    )
