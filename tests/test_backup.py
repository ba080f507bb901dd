"""`taskbot backup FILE` while the bot runs, and the restore the operator's guide describes."""

import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from tests.helpers import clean_env, free_port, project_copy


ROOT = Path(__file__).resolve().parent.parent


def env(http):
    return clean_env(TASKBOT_HTTP=http)


def taskbot(*args, cwd, http):
    return subprocess.run([sys.executable, "-m", "taskbot", *args], capture_output=True, text=True, cwd=cwd,
                          env=env(http), timeout=120)


def start(work, http):
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py")], cwd=work, env=env(http), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line or "next reminders at" in line:
            break
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 0


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_backup_while_running_then_restore_brings_the_state_back(tmp_path):
    work = project_copy(tmp_path, "office")
    (work / "backups").mkdir()
    http = f"127.0.0.1:{free_port()}"
    bot = start(work, http)
    try:
        url = taskbot("feed-url", "--all", cwd=work, http=http).stdout.splitlines()[-1]
        assert status(url) == 200
        result = taskbot("backup", "backups/monday.sqlite3", cwd=work, http=http)  # while the bot runs
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("backup: data/taskbot.sqlite3 -> backups/monday.sqlite3 (")
        assert result.stdout.endswith("bytes); quick_check ok\n")
        again = taskbot("backup", "backups/monday.sqlite3", cwd=work, http=http)
        assert (again.returncode, again.stderr) == (
            1, "backup: backups/monday.sqlite3 exists; give a new file name, or --force to replace it\n")
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        assert taskbot("feed-revoke", token, cwd=work, http=http).returncode == 0
        assert status(url) == 404
    finally:
        stop(bot)
    copy = work / "backups" / "monday.sqlite3"
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    # restore as docs/operations.md says: bot stopped, the copy in place of the database and its -wal/-shm
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work / 'data' / 'taskbot.sqlite3'}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, work / "data" / "taskbot.sqlite3")
    bot = start(work, http)
    try:
        assert status(url) == 200  # the token revoked after the backup is active again
    finally:
        stop(bot)


def test_backup_of_postgresql_points_to_pg_dump(tmp_path):
    result = taskbot("backup", str(tmp_path / "x"), "--db", "postgresql://u:secret@db.example/taskbot", cwd=ROOT,
                     http="127.0.0.1:8080")
    assert (result.returncode, result.stderr) == (
        1, "backup: backup copies a SQLite database; for PostgreSQL use pg_dump (the database is postgresql://***@db.example/taskbot)\n")


def test_backup_of_a_missing_database_names_it(tmp_path):
    result = taskbot("backup", str(tmp_path / "x"), "--db", str(tmp_path / "none.sqlite3"), cwd=ROOT,
                     http="127.0.0.1:8080")
    assert result.returncode == 1
    assert result.stderr.startswith(f"backup: no database at {tmp_path / 'none.sqlite3'}; ")
