"""Slow HTTP clients against the feed server (taskbot.webguard): a real server in a child process whose
open-file limit is lowered, attacked through real sockets; and access-log redaction of tokens."""

from __future__ import annotations

import asyncio
import http.client
import logging
import os
import resource
import select
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from taskbot import webguard
from taskbot.web import redact

ROOT = Path(__file__).resolve().parent.parent
FILE_LIMIT = 256
ATTACKERS = 400  # more than the child's whole file limit


def child(directory: str, header_timeout: str) -> None:
    """The feed server alone, as `taskbot run` hosts it: prints its port, serves until stdin closes."""
    from taskbot.clock import Clock
    from taskbot.config import Config
    from taskbot.registry import load_registry
    from taskbot.service import Service
    from taskbot.store import Store
    from taskbot.web import bound_port, start_web

    from .test_feeds import write_registry

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    webguard.HEADER_TIMEOUT = float(header_timeout)
    tasks, units = write_registry(Path(directory) / "reg")
    db = os.path.join(directory, "state.sqlite3")
    store = Store.open(db)
    service = Service(Config(registry=tasks, units=units, db=db, coordinators=(1,)),
                      Clock(datetime(2018, 10, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), frozen=True),
                      store, load_registry(tasks, units))

    async def main():
        runner = await start_web(service, "127.0.0.1", 0)
        print(bound_port(runner), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


def _limit_files():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


def _start_child(tmp_path, header_timeout: float):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.test_webguard", str(tmp_path), str(header_timeout)],
                            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=open(tmp_path / "child.err", "w"), text=True, preexec_fn=_limit_files)
    line = proc.stdout.readline()
    assert line.strip().isdigit(), (line, (tmp_path / "child.err").read_text())
    return proc, int(line)


def _slowloris(port: int, n: int) -> list[socket.socket]:
    """n connections that each send half a request line and never finish it."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            s.sendall(b"GET /feeds/")
        except OSError:  # already closed by the guard: fine, it is still an attempt
            pass
        socks.append(s)
    return socks


def _closed_by_server(socks, timeout: float) -> int:
    """How many sockets the server has closed, waiting up to timeout for all of them."""
    pending, closed, end = set(socks), 0, time.monotonic() + timeout
    while pending and time.monotonic() < end:
        ready, _, _ = select.select(list(pending)[:500], [], [], 0.2)
        for s in ready:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                pending.discard(s)
                closed += 1
    return closed


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _stop(proc):
    proc.stdin.close()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_slow_clients_over_the_file_limit_do_not_take_the_server_down(tmp_path):
    proc, port = _start_child(tmp_path, header_timeout=60)
    socks = []
    try:
        socks = _slowloris(port, ATTACKERS)
        assert _get(port, "/healthz") == 200  # a real client still gets in, past 400 half-sent requests
        assert _get(port, "/feeds/" + "x" * 32 + ".ics") == 404
        # the guard closed the oldest half-sent connections to stay under its cap (half the file limit)
        assert _closed_by_server(socks, 10) >= ATTACKERS - webguard.connection_limit(FILE_LIMIT)
        assert proc.poll() is None
    finally:
        for s in socks:
            s.close()
        _stop(proc)
    err = (tmp_path / "child.err").read_text()
    assert "Too many open files" not in err and "Traceback" not in err, err[-3000:]
    limit = webguard.connection_limit(FILE_LIMIT)
    assert f"feed server: at most {limit} connections (open-file limit {FILE_LIMIT}, hard {FILE_LIMIT})" in err
    assert len(err.splitlines()) < 20, err[-3000:]  # refusals are logged once per interval, not per connection


def test_half_sent_requests_are_closed_after_the_header_timeout(tmp_path):
    proc, port = _start_child(tmp_path, header_timeout=0.5)
    socks = []
    try:
        socks = _slowloris(port, 50)
        for s in socks[:25]:  # trickling bytes does not extend the deadline
            s.sendall(b"x")
        assert _closed_by_server(socks, 30) == 50
        assert _get(port, "/healthz") == 200
    finally:
        for s in socks:
            s.close()
        _stop(proc)


def test_a_refusal_or_accept_error_is_logged_once_per_interval(caplog):
    now = [0.0]
    throttled = webguard.Throttled(60, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="taskbot.web.guard")
    logged = []
    for second in range(0, 150):
        now[0] = float(second)
        for _ in range(1000):  # a thousand failed accepts a second
            logged.append(throttled(logging.ERROR, "feed server: accept() failed: %s", "EMFILE"))
    lines = [r.getMessage() for r in caplog.records]
    assert sum(logged) == 3 and throttled.total == 150_000
    assert lines == ["feed server: accept() failed: EMFILE (1 time(s) since the last such line)",
                     "feed server: accept() failed: EMFILE (60000 time(s) since the last such line)",
                     "feed server: accept() failed: EMFILE (60000 time(s) since the last such line)"]


def test_connection_limit_stays_below_the_file_limit():
    # four accept bursts (4 x backlog) kept free, then half for the feed server and half for the bot
    assert webguard.connection_limit(1024) == 448 and webguard.connection_limit(256) == 64
    assert webguard.connection_limit(1_048_576) == webguard.MAX_CONNECTIONS
    assert webguard.connection_limit(0) == webguard.MAX_CONNECTIONS  # no limit known (not on POSIX)


TOKEN = "Abc_defGHIjkl-mnoPQRstuVWXyz0123"


def test_redact_hides_token_shaped_segments_on_every_route_and_spelling():
    encoded = "".join(f"%{ord(c):02X}" for c in TOKEN)
    cases = {f"/feeds/{TOKEN}.ics?todo=1": "/feeds/***.ics?todo=1",
             f"/feeds//{TOKEN}.ics": "/feeds/***.ics",
             f"/feeds/./{TOKEN}.ics": "/feeds/***.ics",
             f"/FEEDS/{TOKEN}.ics": "/FEEDS/***.ics",
             f"/feeds/{encoded}.ics": "/feeds/***.ics",
             f"/%66eeds/{TOKEN}.ics": "/feeds/***.ics",
             f"/board/{TOKEN}/tasks/cw-01": "/board/***/tasks/cw-01",
             f"/Board//{TOKEN[:10]}": "/Board/***",
             f"/anything/{TOKEN}": "/anything/***",
             f"/x?token={TOKEN}": "/x?token=***",
             "/a%0d%0aFAKE LINE": "/a??FAKE LINE",
             "/healthz": "/healthz"}
    for path, want in cases.items():
        assert redact(path) == want, path


if __name__ == "__main__":
    child(*sys.argv[1:3])
