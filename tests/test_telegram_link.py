"""Telegram unreachable at start or later: say so once, retry with backoff, keep serving HTTP and the scheduler,
deliver when it comes back; a rejected token is one line with the token masked. Real processes and sockets:
`python bot.py` and the Bot API emulator `tests/tgemu.py` started, stopped and started again on one port."""

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from taskbot.store import Store
from tests.helpers import clean_env, free_port, project_copy

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST"
CHAT = 4242


class Output:
    """A process's merged output, read by a thread so that waiting for a line never blocks on a pipe."""

    def __init__(self, proc):
        self.proc, self.lines, self._q = proc, [], queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self._q.put(line)
        self._q.put(None)

    def until(self, needle, limit=90):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                line = self._q.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if needle in line:
                return line
        raise AssertionError(f"{needle!r} not seen in:\n{''.join(self.lines)}")

    def rest(self):
        while True:
            line = self._q.get(timeout=30)
            if line is None:
                return "".join(self.lines)
            self.lines.append(line)


def start_emulator(port):
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "tgemu.py"), "--port", str(port), "--token", TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env())
    Output(proc).until(f"http://127.0.0.1:{port}/bot", limit=30)
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def project(tmp_path):
    work = project_copy(tmp_path)
    return work


def test_an_outage_at_start_and_later_keeps_feeds_and_scheduler_and_delivers_when_telegram_is_back(tmp_path):
    work = project(tmp_path)
    db = work / "data" / "taskbot.sqlite3"
    store = Store.open(str(db))
    now = datetime.now(timezone.utc)
    store.upsert_chat(CHAT, "private", None, now)
    from taskbot.registry import load_registry

    for unit in load_registry(str(work / "tasks.yaml"), str(work / "data" / "units.yaml")).units.units:
        store.join(CHAT, unit, CHAT, now)
    store.close()
    api, http = free_port(), free_port()
    env = {**clean_env(), "TASKBOT_TELEGRAM_TOKEN": TOKEN, "TASKBOT_TELEGRAM_API_URL": f"http://127.0.0.1:{api}/bot",
           "TASKBOT_HTTP": f"127.0.0.1:{http}"}
    # Mon 2018-10-08 09:00 brings reminders; Telegram is down when they are due
    bot = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "--clock", "2018-10-08T08:59:58+08:00"], cwd=work,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, emu = Output(bot), None
    try:
        out.until("taskbot: cannot reach Telegram at 127.0.0.1:")
        assert get(f"http://127.0.0.1:{http}/healthz")[0] == 200  # the feed server is up without Telegram
        out.until("next reminders at 2018-10-08T09:00:00+08:00")
        out.until("reminder(s) held until Telegram can be reached")  # due at 09:00 while Telegram is down
        emu = start_emulator(api)
        out.until("taskbot: connected to Telegram as @")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the reminders that waited are delivered now
            sent = json.loads(get(f"http://127.0.0.1:{api}/_emu/state")[1])["sent"]
            if any(s["chat_id"] == CHAT for s in sent):
                break
            time.sleep(0.5)
        assert any(s["chat_id"] == CHAT and "2018-10-08" in s["text"] for s in sent), sent
        stop(emu)  # a later outage
        out.until("taskbot: cannot reach Telegram at 127.0.0.1:")
        assert get(f"http://127.0.0.1:{http}/healthz")[0] == 200
        emu = start_emulator(api)
        out.until("taskbot: Telegram is reachable again")
    finally:
        stop(bot)
        if emu is not None:
            stop(emu)
    text = out.rest()
    assert bot.returncode == 0
    assert text.count("cannot reach Telegram") == 2, text  # once per outage, not once per retry
    assert "Traceback" not in text, text


def test_a_rejected_token_is_one_line_with_only_the_bot_id_shown(tmp_path):
    work = project(tmp_path)
    api = free_port()
    emu = start_emulator(api)
    secret = "123456:AAWrongWrongWrongWrongWrongWrong"
    try:
        env = {**clean_env(), "TASKBOT_HTTP": f"127.0.0.1:{free_port()}"}
        result = subprocess.run([sys.executable, str(ROOT / "bot.py"), "--token", secret, "--api-url",
                                 f"http://127.0.0.1:{api}/bot"], cwd=work, env=env, capture_output=True, text=True,
                                timeout=120)
    finally:
        stop(emu)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "taskbot: Telegram rejected the bot token 123456:*** (Unauthorized); check TASKBOT_TELEGRAM_TOKEN (or the "
        f"variable named by token_env in taskbot.toml) and the Bot API URL http://127.0.0.1:{api}/bot: @BotFather "
        "gives the token")
    assert "AAWrong" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_logs_never_show_a_token_and_network_errors_have_no_traceback():
    import io
    import logging

    from telegram.error import InvalidToken, NetworkError

    from taskbot.logsafe import SecretFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretFilter(["123456:FAKE"]))
    logger = logging.getLogger("test.logsafe")
    logger.addHandler(handler)
    try:
        try:
            raise InvalidToken("The token `123456:FAKE` was rejected by the server.")
        except InvalidToken:
            logger.exception("start failed")
        try:
            raise NetworkError("httpx.ConnectError: All connection attempts failed")
        except NetworkError:
            logger.exception("polling")
        logger.error("GET https://api.telegram.org/bot987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe")
        ptb = logging.getLogger("telegram.request")
        ptb.addHandler(handler)
        try:
            json.loads("404: Not Found")
        except ValueError:
            ptb.exception('Can not load invalid JSON data: "404: Not Found"')
        finally:
            ptb.removeHandler(handler)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "start failed (InvalidToken: The token `123456:***` was rejected by the server.)",
        "polling (NetworkError: httpx.ConnectError: All connection attempts failed)",
        "GET https://api.telegram.org/bot987654321:***/getMe",
        'Can not load invalid JSON data: "404: Not Found" (JSONDecodeError: Extra data: line 1 column 4 (char 3))']
