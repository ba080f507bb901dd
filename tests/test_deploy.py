"""The sample deployment files stay valid: deploy/taskbot.service (systemd-analyze verify where it exists) and
deploy/Dockerfile (its files exist, its command parses; `docker build` only where a docker daemon answers)."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from taskbot.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "taskbot.service"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_systemd_unit_runs_taskbot_run_and_reloads_with_sighup():
    u = unit()
    assert set(u.sections()) == {"Unit", "Service", "Install"}
    argv = shlex.split(u["Service"]["ExecStart"])
    assert argv[0].endswith("/bin/taskbot")
    args = build_parser().parse_args(argv[1:])  # every option is one `taskbot run` knows
    assert args.command == "run" and args.registry.startswith(u["Service"]["WorkingDirectory"])
    assert u["Service"]["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert u["Service"]["ReadWritePaths"] == u["Service"]["WorkingDirectory"] + "/data"  # the SQLite/pid files


def test_systemd_analyze_verifies_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; the unit was checked by parsing only")
    base = unit()["Service"]["WorkingDirectory"]
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    exe = tmp_path / "venv" / "bin" / "taskbot"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    (tmp_path / "env").write_text("")
    text = UNIT.read_text(encoding="utf-8").replace(base, str(tmp_path)).replace("/etc/taskbot/env", str(tmp_path / "env"))
    text = text.replace("User=taskbot", "User=root").replace("Group=taskbot", "Group=root")  # no such user here
    copy = tmp_path / "taskbot.service"
    copy.write_text(text)
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "taskbot.service" not in result.stderr, result.stderr


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    return out


def test_the_dockerfile_copies_files_that_exist_and_runs_taskbot_with_a_health_check():
    steps = dockerfile()
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.11")
    for word, rest in steps:
        if word == "COPY":
            *sources, _dest = shlex.split(rest)
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
    (cmd,) = [rest for word, rest in steps if word == "CMD"]
    import json

    argv = json.loads(cmd)
    assert argv[0] == "taskbot" and build_parser().parse_args(argv[1:]).command == "run"
    assert any(word == "HEALTHCHECK" and "/healthz" in rest for word, rest in steps)
    assert any(word == "ENV" and "TASKBOT_HTTP=0.0.0.0:8080" in rest for word, rest in steps)
