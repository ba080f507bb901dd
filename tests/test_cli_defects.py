"""Small defects of the command line, each through a real `taskbot` process as a user types it."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from taskbot.registry import load_registry
from taskbot.store import Store

ROOT = Path(__file__).resolve().parent.parent


def taskbot(*args, cwd=ROOT, env=None):
    full = {k: v for k, v in os.environ.items() if not k.startswith("TASKBOT_")}
    full.update({"PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(env or {})})
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True, cwd=cwd,
                          env=full, timeout=120)


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "s.sqlite3"
    Store.open(str(path)).close()
    return str(path)


def test_inviting_a_group_names_its_members(db):
    result = taskbot("invite", "各县(市、区)政府", "--db", db)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "invite: 各县(市、区)政府 is a group of 12 units; invite one of them: 巩义市、登封市、新密市、荥阳市、新郑市、"
        "中牟县、中原区、二七区、金水区、管城回族区、惠济区、上街区")


def test_inviting_a_group_without_members_says_so(db):
    result = taskbot("invite", "各级政府", "--db", db)
    assert result.stderr.splitlines()[-1] == (
        "invite: 各级政府 is a group with no members yet; list its members in the unit directory, or invite one unit")


def test_simulate_a_group_expands_it_to_its_members():
    result = taskbot("simulate", "--from", "2018-08-01", "--to", "2018-12-31", "--unit", "各县(市、区)政府",
                     "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    members = set(load_registry(str(ROOT / "tasks.yaml"), str(ROOT / "data" / "units.yaml")).units.expand(
        "各县(市、区)政府"))
    assert rows and {r["unit"] for r in rows} == members
    one = taskbot("simulate", "--from", "2018-08-01", "--to", "2018-12-31", "--unit", "巩义市", "--format", "jsonl")
    assert [json.loads(line) for line in one.stdout.splitlines()] == [r for r in rows if r["unit"] == "巩义市"]
