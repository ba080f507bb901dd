"""Helpers several test modules share: a copy of the project to run real processes in, and reading their output."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def project_copy(tmp_path: Path, name: str = "repo") -> Path:
    """tasks.yaml and data/ copied into tmp_path/name, without runtime state (databases, outbox, pid files)."""
    work = tmp_path / name
    work.mkdir()
    shutil.copy(ROOT / "tasks.yaml", work)
    shutil.copytree(ROOT / "data", work / "data", ignore=shutil.ignore_patterns("*.sqlite3*", "outbox.jsonl", "*.pid"))
    return work


def read_until(proc, needle: str, limit: float = 60) -> list[str]:
    """Lines of the process's output up to the one containing `needle` (bounded)."""
    seen, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not seen in:\n{''.join(seen)}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra) -> dict:
    """The environment of a taskbot process under test: none of the caller's TASKBOT_*, this checkout first on
    the path, the C.UTF-8 locale (English messages), then `extra`."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("TASKBOT_")}
    return {**out, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **extra}


def taskbot(*args, cwd=ROOT, env=None):
    """`python -m taskbot ARGS` in a clean environment (`clean_env`), plus `env`."""
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True, cwd=cwd,
                          env=clean_env(**(env or {})), timeout=120)
