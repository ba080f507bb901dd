"""An unusable database is one clear line naming the file and the fix, from `run` and every CLI command."""

import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from taskbot.dbcheck import DatabaseProblem
from taskbot.store_models import SCHEMA_VERSION
from taskbot.store import Store
from tests.helpers import clean_env, free_port, project_copy

ROOT = Path(__file__).resolve().parent.parent
FIX = "restore it from a backup (see docs/operations.md, Backups), or move it away (mv {p} {p}.broken) and start " \
      "`taskbot run` to begin with a fresh one"


def env():
    return clean_env(TASKBOT_HTTP=f"127.0.0.1:{free_port()}")


def taskbot(*args):
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env(), timeout=120)


def bot(*args):
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], capture_output=True, text=True, cwd=ROOT,
                          env=env(), timeout=120)


def last_line(result):
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A real database with some state, checkpointed into its main file."""
    path = tmp_path_factory.mktemp("db") / "good.sqlite3"
    store = Store.open(str(path))
    now = datetime.now(timezone.utc)
    for _ in range(300):
        store.create_feed_token("all", "", now=now)
    store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def _truncated(path):
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) // 2)


def _zeroed_page(path):
    with open(path, "r+b") as fh:
        fh.seek(4096 * 3)
        fh.write(b"\0" * 4096)


def _random(path):
    path.write_bytes(os.urandom(os.path.getsize(path)))


def _empty(path):
    path.write_bytes(b"")


DAMAGED = "the database {p} is damaged (SQLite: database disk image is malformed); "
CASES = {
    "truncated": (_truncated, DAMAGED + FIX),
    "zeroed page": (_zeroed_page, DAMAGED + FIX),
    "random bytes": (_random, "{p} is not a SQLite database (it does not start with the SQLite header); " + FIX),
    "zero bytes": (_empty, "the database {p} is empty (0 bytes): it was truncated or never written; " + FIX),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_corrupt_database_is_refused_by_the_cli_and_by_run_with_the_fix(tmp_path, good, case):
    damage, message = CASES[case]
    path = tmp_path / "state.sqlite3"
    shutil.copy(good, path)
    damage(path)
    before = path.read_bytes()
    cli = taskbot("feed-url", "--all", "--db", str(path))
    assert cli.returncode == 1 and cli.stdout == ""
    assert last_line(cli) == "feed-url: " + message.format(p=path)
    run = bot("--db", str(path))
    assert run.returncode == 1
    assert last_line(run) == "taskbot: " + message.format(p=path)
    assert path.read_bytes() == before  # nothing was "repaired" into a fresh database


@pytest.mark.parametrize("args", [["invite", "市城管局"], ["feed-revoke", "x"], ["feed-url", "--unit", "市城管局"],
                                  ["init"]])
def test_a_directory_is_not_a_database_for_any_command(tmp_path, args):
    result = taskbot(*args, "--db", str(tmp_path))
    assert result.returncode == 1
    assert last_line(result) == (f"{args[0]}: the database {tmp_path} is a directory, not a file; give a file path "
                                 f"such as {tmp_path / 'taskbot.sqlite3'}")


def test_python_bot_py_with_a_directory_says_so_in_one_line(tmp_path):
    result = bot("--db", str(tmp_path))
    assert result.returncode == 1
    assert last_line(result) == (f"taskbot: the database {tmp_path} is a directory, not a file; give a file path "
                                 f"such as {tmp_path / 'taskbot.sqlite3'}")


def test_an_unreachable_postgresql_server_is_one_line_with_the_password_masked():
    result = taskbot("feed-url", "--all", "--db", "postgresql://nobody:sekrit@127.0.0.1:1/x")
    assert result.returncode == 1
    line = last_line(result)
    assert line.startswith("feed-url: cannot use the PostgreSQL database postgresql://***@127.0.0.1:1/x: ")
    assert "Connection refused" in line and "sekrit" not in result.stderr
    assert line.endswith("; check that the server runs and accepts connections, and the URL in --db, TASKBOT_DB "
                         "or taskbot.toml")


def test_a_mistyped_path_is_refused_and_nothing_is_created(tmp_path):
    path = tmp_path / "nonexistent" / "dir" / "x.sqlite3"
    result = taskbot("feed-url", "--all", "--db", str(path))
    assert result.returncode == 1
    assert last_line(result) == (f"feed-url: no database at {path}; `taskbot run` (or `taskbot init`) creates it, "
                                 "or point to the existing one with --db, TASKBOT_DB or db in taskbot.toml")
    assert not (tmp_path / "nonexistent").exists()


def test_init_creates_the_database_and_then_commands_use_it(tmp_path):
    path = tmp_path / "new" / "state.sqlite3"
    first = taskbot("init", "--db", str(path))
    assert (first.returncode, first.stdout) == (0, f"init: created {path}; schema version {SCHEMA_VERSION}\n")
    again = taskbot("init", "--db", str(path))
    assert again.stdout == f"init: the database {path} already exists; schema version {SCHEMA_VERSION}\n"
    assert taskbot("feed-url", "--all", "--db", str(path)).returncode == 0


def test_run_logs_the_quick_check_at_start(tmp_path):
    work = project_copy(tmp_path)
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py")], cwd=work, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "next reminders at" in line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert any("database data/taskbot.sqlite3: quick_check ok" in line for line in seen), "".join(seen)


def test_store_open_refuses_without_create_and_names_the_file(tmp_path):
    with pytest.raises(DatabaseProblem, match="^no database at .*x.sqlite3; "):
        Store.open(str(tmp_path / "x.sqlite3"), create=False)
    assert not (tmp_path / "x.sqlite3").exists()
