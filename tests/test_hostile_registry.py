"""Hostile registries: YAML alias bombs, huge values, through `taskbot check` and a running bot's SIGHUP reload.

Each attack runs through a real process (`python -m taskbot check`, `python bot.py` signalled with SIGHUP).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.test_check import FIXTURES, SUMMARY, TASKS, UNITS, edit
from tests.helpers import free_port, read_until

ROOT = Path(__file__).resolve().parent.parent


def bomb(levels: int = 10, prefix: str = "x") -> str:
    """The 'billion laughs': level 0 holds ten strings, each next level ten aliases of the one before."""
    lines = [f"{prefix}0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"{prefix}{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


BOMB_TASKS = bomb() + edit(TASKS, "    every: monthly:25", "    every: *a9")
REFUSED = ("error: aliases repeat more than 100,000 values (alias *a3 stands for 11,111); write the values out "
           "instead of repeating them with &anchors and *aliases")


def check(tmp_path, tasks=TASKS, units=UNITS):
    (tmp_path / "tasks.yaml").write_text(tasks, encoding="utf-8")
    (tmp_path / "units.yaml").write_text(units, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "taskbot", "check", "--registry", str(tmp_path / "tasks.yaml"),
                           "--units", str(tmp_path / "units.yaml")], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=ROOT, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr, str(tmp_path / "tasks.yaml"), str(tmp_path / "units.yaml")


def test_alias_bomb_in_every_is_refused_by_check(tmp_path):
    assert len(BOMB_TASKS.split("tasks:")[0].encode()) < 2000  # the attack is small
    rc, out, err, reg, _ = check(tmp_path, BOMB_TASKS)
    assert (rc, out) == (1, "")
    assert err == f"{reg}:5:45: {REFUSED}\n"


def test_alias_bomb_in_the_unit_directory_is_refused(tmp_path):
    units = bomb(prefix="y") + edit(UNITS, "aliases: [卫计委, 市卫生计生委]", "aliases: *a9")
    rc, out, err, _, path = check(tmp_path, units=units)
    assert rc == 1 and out == ""
    assert err.splitlines()[0] == f"{path}:5:45: {REFUSED}"


def test_a_recursive_alias_is_refused(tmp_path):
    rc, _, err, reg, _ = check(tmp_path, "x: &me [1, *me]\n" + TASKS)
    assert rc == 1
    assert err == (f"{reg}:1:12: error: alias *me is used inside the value of its own anchor &me; "
                   "a value cannot contain itself\n")


def test_modest_aliases_still_work(tmp_path):
    tasks = edit(TASKS, "    reminders: {before_days: [7, 0]}", "    reminders: &short {before_days: [7, 0]}")
    tasks = edit(tasks, "    every: monthly:25", "    every: monthly:25\n    reminders: *short")
    assert check(tmp_path, tasks)[:3] == (0, SUMMARY, "")


def test_a_bad_every_quotes_only_a_prefix(tmp_path):
    rc, _, err, reg, _ = check(tmp_path, edit(TASKS, "    every: monthly:25", "    every: [" + "x" * 100_000 + "]"))
    assert rc == 1
    assert err == (f"{reg}:47:12: error: cannot parse every ['" + "x" * 27 + "..." + "x" * 28 + "']; "
                   "valid forms: weekly, monthly, monthly:DD, quarterly, half-yearly, yearly:MM-DD\n")


def test_huge_values_are_bounded_and_quoted_short(tmp_path):
    tasks = edit(TASKS, "    title: 每月报送建筑垃圾治理进展", "    title: " + "题" * 600)
    tasks = edit(tasks, "    due_text: 长期", "    due_text: " + "期" * 201)
    tasks = edit(tasks, "    kind: goal", "    kind: goal\n    detail: " + "细" * 10_001)
    tasks = edit(tasks, "    ref: 二(一)2", "    ref: '" + "9" * 5000 + "'")
    tasks = edit(tasks, "    source_line: 5243", "    source_line: " + "9" * 4000)
    rc, _, err, reg, _ = check(tmp_path, tasks)
    assert rc == 1
    assert err.splitlines() == [
        f"{reg}:38:18: error: source_line must be between 1 and 1000000000, got: "
        + "9" * 18 + "..." + "9" * 19,
        f"{reg}:43:12: error: title is too long: 600 characters, at most 500; shorten it (it starts '题题题题题题题题题题题题题题题题题题题题…')",
        f"{reg}:46:15: error: due_text is too long: 201 characters, at most 200; shorten it (it starts '期期期期期期期期期期期期期期期期期期期期…')",
        f"{reg}:42:10: error: ref is too long: 5,000 characters, at most 100; shorten it (it starts '99999999999999999999…')",
        f"{reg}:55:13: error: detail is too long: 10,001 characters, at most 10,000; shorten it (it starts '细细细细细细细细细细细细细细细细细细细细…')",
    ]


def test_huge_unit_names_are_refused(tmp_path):
    units = edit(UNITS, "aliases: [卫计委, 市卫生计生委]", "aliases: [卫计委, " + "委" * 201 + "]")
    rc, _, err, _, path = check(tmp_path, units=units)
    assert rc == 1
    assert err.splitlines()[0].startswith(f"{path}:")
    assert err.splitlines()[0].endswith(": error: aliases is too long: 201 characters, at most 200; shorten it "
                                        "(it starts '委委委委委委委委委委委委委委委委委委委委…')")


def test_running_bot_rejects_an_alias_bomb_on_sighup_and_keeps_serving(tmp_path):
    work = tmp_path / "repo"
    (work / "data").mkdir(parents=True)
    shutil.copy(FIXTURES / "tasks.yaml", work / "tasks.yaml")
    shutil.copy(FIXTURES / "units.yaml", work / "data" / "units.yaml")
    port = free_port()
    env = {**os.environ, "TASKBOT_HTTP": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    env.pop("TASKBOT_TELEGRAM_TOKEN", None)
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py")], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        read_until(proc, "next reminders at")
        (work / "tasks.yaml").write_text(BOMB_TASKS, encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        lines = read_until(proc, "taskbot: reload rejected; the previous registry keeps serving")
        assert f"tasks.yaml:5:45: {REFUSED}\n" in lines
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as response:
            assert response.status == 200
        (work / "tasks.yaml").write_text(edit(TASKS, "title: 每月报送建筑垃圾治理进展", "title: 每月报送进展"),
                                         encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        assert "added 0, changed 1, withdrawn 0" in read_until(proc, "taskbot: reload applied")[-1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_a_big_registry_may_repeat_as_many_values_as_it_writes_out(tmp_path):
    """Past 100,000 repeated values, aliases may repeat as many as the file writes out: 6,000 tasks share a policy."""
    head, tasks = TASKS.split("tasks:\n")
    first = "\n".join(tasks.split("\n")[:8]) + "\n    reminders: *policy\n"  # cw-01 up to its due date
    registry = head.replace("  reminders:\n", "  reminders: &policy\n", 1) + "tasks:\n" + "".join(
        first.replace("id: cw-01", f"id: t-{i}") for i in range(6000))
    rc, out, err, _, _ = check(tmp_path, registry)
    assert (rc, out, err) == (0, "1 documents, 6000 tasks, 5 units\n", "")
