"""The command line as a user types it: invite, feed-url, feed-revoke, reload, and `python bot.py`."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taskbot.commands import parse_duration
from taskbot.store import Store
from tests.helpers import free_port, project_copy, read_until, taskbot

ROOT = Path(__file__).resolve().parent.parent


def test_invite_prints_the_code_as_its_last_line_and_it_redeems_once(tmp_path):
    db = str(tmp_path / "s.sqlite3")
    Store.open(db).close()  # only `taskbot run` and `taskbot init` create a database
    result = taskbot("invite", "城管局", "--uses", "1", "--expires", "2d", "--db", db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    code = lines[-1]
    assert lines[0].startswith("invite for 市城管局: 1 use(s), expires ") and lines[1] == f"liaisons send: /join {code}"
    assert len(code) == 10 and code.isalnum()
    store = Store.open(db)
    from datetime import datetime, timezone

    assert store.redeem_invite(code, datetime.now(timezone.utc)) == "市城管局"


@pytest.mark.parametrize("args,message", [
    (["invite", "市城管"], "invite: unknown unit '市城管'; did you mean 市城管局?"),
    (["invite", "市城管局", "--expires", "7x"], "invite: expires must be a positive number with d, h or m, got: '7x'"),
    (["invite", "市城管局", "--uses", "0"], "invite: --uses must be positive, got: 0"),
    (["feed-url", "--doc", "郑政文〔2018〕1430号"], "feed-url: unknown document '郑政文〔2018〕1430号'; did you mean 郑政文〔2018〕143号?"),
])
def test_bad_arguments_get_a_clear_error(tmp_path, args, message):
    result = taskbot(*args, "--db", str(tmp_path / "s.sqlite3"))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == message


def test_feed_url_prints_the_url_last_and_revoke_disables_it(tmp_path):
    db = str(tmp_path / "s.sqlite3")
    assert taskbot("init", "--db", db).returncode == 0
    result = taskbot("feed-url", "--unit", "市城管局", "--db", db, env={"TASKBOT_HTTP": "127.0.0.1:8765"})
    assert result.returncode == 0, result.stderr
    url = result.stdout.splitlines()[-1]
    assert url.startswith("http://127.0.0.1:8765/feeds/") and url.endswith(".ics")
    token = url.rsplit("/", 1)[1][:-4]
    assert len(token) >= 32
    assert Store.open(db).feed_token(token).value == "市城管局"
    assert taskbot("feed-revoke", url, "--db", db).stdout == f"revoked {token}\n"
    assert Store.open(db).feed_token(token) is None
    again = taskbot("feed-revoke", token, "--db", db)
    assert (again.returncode, again.stderr) == (1, f"feed-revoke: no active feed token '{token}'\n")


def test_reload_without_a_running_bot_says_how_to_start_it(tmp_path):
    result = taskbot("reload", "--pidfile", str(tmp_path / "none.pid"))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (f"reload: no running bot found through {tmp_path / 'none.pid'} "
                                              "(FileNotFoundError); start it with `python bot.py`")


def test_parse_duration():
    assert parse_duration("7d").days == 7 and parse_duration("12h").seconds == 12 * 3600
    with pytest.raises(ValueError, match="got: '0d'"):
        parse_duration("0d")


def test_python_bot_py_runs_without_a_token_and_says_what_it_would_send(tmp_path):
    """The README's first command, on a copy of the repository, driven by --clock."""
    work = project_copy(tmp_path)
    env = {**os.environ, "TASKBOT_HTTP": f"127.0.0.1:{free_port()}", "PYTHONPATH": str(ROOT)}
    env.pop("TASKBOT_TELEGRAM_TOKEN", None)
    # Mon 2018-10-08, the first working day after the National Day week: many reminders at 09:00
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "--clock", "2018-10-08T08:59:58+08:00"],
                            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("--- would send to "):
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    out = "".join(seen) + rest
    assert "taskbot: no TASKBOT_TELEGRAM_TOKEN, so reminders go to this console and to data/outbox.jsonl" in out
    assert "next reminders at 2018-10-08T09:00:00+08:00" in out
    assert "--- would send to the liaison of 市" in out and "📋 督办事项提醒 · 2018-10-08" in out
    assert proc.returncode == 0
    assert (work / "data" / "outbox.jsonl").read_text(encoding="utf-8").count("\n") >= 1
    assert json.loads((work / "data" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()[0])["unit"].startswith("市")
    assert "taskbot: stopped; " in out  # and what was pending
    assert (work / "data" / "taskbot.sqlite3").exists()


def start_bot(work, *args):
    env = {**os.environ, "TASKBOT_HTTP": f"127.0.0.1:{free_port()}", "PYTHONPATH": str(ROOT)}
    env.pop("TASKBOT_TELEGRAM_TOKEN", None)
    return subprocess.Popen([sys.executable, str(ROOT / "bot.py"), *args], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)




def test_taskbot_reload_signals_the_running_bot_which_rejects_an_invalid_registry(tmp_path):
    work = project_copy(tmp_path)
    proc = start_bot(work)
    try:
        read_until(proc, "next reminders at")
        registry = work / "tasks.yaml"
        good = registry.read_text(encoding="utf-8")
        registry.write_text(good.replace("lead: [市城管局", "lead: [市城管", 1), encoding="utf-8")
        bad = taskbot("reload", cwd=work, env={"PYTHONPATH": str(ROOT)})
        assert bad.returncode == 1
        assert bad.stderr.splitlines()[-1] == "reload: the registry is invalid; the running bot keeps the previous one"
        assert "error: unknown unit '市城管'; did you mean 市城管局?" in bad.stderr
        # the bot itself re-validates on SIGHUP and keeps serving the previous registry
        proc.send_signal(signal.SIGHUP)
        read_until(proc, "taskbot: reload rejected; the previous registry keeps serving")
        registry.write_text(good.replace("  - id: cw-30\n", "  - id: cw-30x\n", 1), encoding="utf-8")
        ok = taskbot("reload", cwd=work, env={"PYTHONPATH": str(ROOT)})
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.startswith(f"reload: signalled pid {proc.pid}; 26 documents, 916 tasks, ")
        lines = read_until(proc, "taskbot: reload applied")
        assert "added 1, changed 0, withdrawn 1, restored 0" in lines[-1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert not (work / "data" / "taskbot.pid").exists()
