"""Warnings belong to `taskbot check`: other commands count them, the bot logs them once at start."""

import signal
import subprocess
import sys
from pathlib import Path

from taskbot.registry import check_files
from taskbot.store import Store
from tests.helpers import clean_env, free_port, project_copy, read_until

ROOT = Path(__file__).resolve().parent.parent


def env():
    return clean_env(TASKBOT_HTTP=f"127.0.0.1:{free_port()}")


def taskbot(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True, cwd=cwd,
                          env=env(), timeout=120)


def n_warnings():
    _, diagnostics = check_files(str(ROOT / "tasks.yaml"), str(ROOT / "data" / "units.yaml"))
    n = sum(d.severity == "warning" for d in diagnostics)
    assert n > 1
    return n


def test_a_command_error_is_not_buried_under_the_registry_warnings(tmp_path):
    db = tmp_path / "s.sqlite3"
    Store.open(str(db)).close()
    result = taskbot("invite", "市城管局", "--uses", "0", "--db", str(db))
    assert result.returncode == 1
    assert result.stderr == f"{n_warnings()} warnings: run taskbot check\ninvite: --uses must be positive, got: 0\n"


def test_check_still_lists_every_warning():
    result = taskbot("check")
    assert result.returncode == 0
    assert result.stderr.count(": warning: ") == n_warnings()




def test_the_bot_logs_the_warnings_once_at_start_and_only_counts_them_on_reload(tmp_path):
    work = project_copy(tmp_path)
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py")], cwd=work, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        start = read_until(proc, "next reminders at")
        assert sum("has no members yet" in line for line in start) == n_warnings()
        registry = work / "tasks.yaml"
        registry.write_text(registry.read_text(encoding="utf-8").replace("  - id: cw-30\n", "  - id: cw-30x\n", 1),
                            encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        reload = read_until(proc, "taskbot: reload applied")
        assert not any("has no members yet" in line for line in reload), "".join(reload)
        assert f"taskbot: {n_warnings()} warning(s): run taskbot check\n" in reload
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_a_replay_clock_before_the_last_tick_of_the_database_says_what_happens_and_the_fix(tmp_path):
    from datetime import datetime, timezone

    work = project_copy(tmp_path)
    store = Store.open(str(work / "data" / "demo.sqlite3"))
    store.set_last_tick(datetime(2018, 12, 31, 1, 0, tzinfo=timezone.utc))
    store.close()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "--clock", "2018-08-24T08:59:00+08:00", "--db",
                             "data/demo.sqlite3"], cwd=work, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        line = read_until(proc, "is before the last tick")[-1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert line == ("taskbot: the clock (2018-08-24T08:59+08:00) is before the last tick in this database "
                    "(2018-12-31T09:00+08:00): reminders its ledger already records are not sent again; use a fresh "
                    "database for replays: --db data/replay.sqlite3\n")
