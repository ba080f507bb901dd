"""The feed server (taskbot.web): a real aiohttp server on 127.0.0.1, a real SQLite store, real clients."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from taskbot import cli
from taskbot.clock import Clock
from taskbot.config import Config
from taskbot.registry import load_registry
from taskbot.service import Service
from taskbot.store import Store
from taskbot.web import FEED_CACHE, NOT_FOUND, accepts_gzip, bound_port, etag_matches, redact, start_web

from .test_feeds import by_uid, parse, write_registry

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2018, 10, 30, 9, 0, tzinfo=SH)
COORDINATOR = 1


class Server:
    """taskbot.web in its own thread and event loop, as `taskbot run` hosts it in the bot's loop."""

    def __init__(self, service):
        self.service = service
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.run(self._main())

    async def _main(self):
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        self.runner = await start_web(self.service, "127.0.0.1", 0)
        self.port = bound_port(self.runner)
        self.ready.set()
        await self.stop_event.wait()
        await self.runner.cleanup()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10), "the feed server did not start"
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)

    @property
    def cache(self):
        return self.runner.app[FEED_CACHE]

    def request(self, path, headers=None, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


class World:
    """A registry and a SQLite store in tmp_path, and a Service over them with a frozen clock."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.tasks, self.units = write_registry(tmp_path / "reg")
        self.db = str(tmp_path / "state.sqlite3")
        self.open()

    def open(self):
        self.store = Store.open(self.db)
        self.clock = Clock(START, frozen=True)
        self.service = Service(Config(registry=self.tasks, units=self.units, db=self.db, coordinators=(COORDINATOR,)),
                               self.clock, self.store, load_registry(self.tasks, self.units))

    def close(self):
        self.store.close()

    def token(self, scope="all", value=""):
        return self.store.create_feed_token(scope, value, self.clock.now())


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.close()


@pytest.fixture
def server(world):
    with Server(world.service) as s:
        yield s


def feed(server, token, query="", headers=None, method="GET"):
    return server.request(f"/feeds/{token}.ics{query}", headers, method)


# --- serving ---------------------------------------------------------------------------------------------

def test_feed_is_served_valid_and_complete(world, server):
    status, headers, body = feed(server, world.token())
    assert status == 200
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["etag"].startswith('"') and "last-modified" in headers
    assert int(headers["content-length"]) == len(body)
    cal = parse(body)
    assert str(cal["NAME"]) == "全部督办事项"
    assert {"cw-01@taskbot", "cw-01-m1@taskbot", "cw-02@taskbot", "ws-01@taskbot"} <= set(by_uid(cal))


def test_head_has_the_headers_and_no_body(world, server):
    token = world.token()
    _, get_headers, body = feed(server, token)
    status, headers, head_body = feed(server, token, method="HEAD")
    assert status == 200 and head_body == b""
    assert headers["etag"] == get_headers["etag"] and headers["content-type"] == get_headers["content-type"]
    assert headers["content-length"] == str(len(body))


def test_unknown_and_revoked_tokens_answer_the_same_404(world, server):
    token = world.token()
    assert feed(server, token)[0] == 200
    unknown = feed(server, "A" * len(token))
    malformed = server.request("/feeds/..%2F..%2Fetc.ics")
    no_suffix = server.request(f"/feeds/{token}")
    world.store.revoke_feed_token(token, world.clock.now())
    revoked = feed(server, token)
    for status, headers, body in (unknown, malformed, no_suffix, revoked):
        assert status == 404 and body == NOT_FOUND.encode()
        assert "etag" not in headers and "last-modified" not in headers
    assert unknown[1]["content-length"] == revoked[1]["content-length"]


def test_conditional_requests(world, server):
    token = world.token()
    _, headers, _ = feed(server, token)
    etag, last_modified = headers["etag"], headers["last-modified"]
    status, h304, body = feed(server, token, headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and h304["etag"] == etag
    assert feed(server, token, headers={"If-None-Match": f'W/{etag}, "other"'})[0] == 304
    assert feed(server, token, headers={"If-None-Match": '"other"'})[0] == 200
    assert feed(server, token, headers={"If-Modified-Since": last_modified})[0] == 304
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True)
    assert feed(server, token, headers={"If-Modified-Since": earlier})[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110)
    assert feed(server, token, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified})[0] == 200


def test_gzip_when_asked(world, server):
    token = world.token()
    _, plain_headers, plain = feed(server, token)
    status, headers, body = feed(server, token, headers={"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain and len(body) < len(plain)
    assert "accept-encoding" in headers["vary"].lower() and "accept-encoding" in plain_headers["vary"].lower()
    assert headers["etag"] != plain_headers["etag"]  # two representations, two strong validators
    assert "content-encoding" not in feed(server, token, headers={"Accept-Encoding": "gzip;q=0"})[1]
    assert feed(server, token, headers={"Accept-Encoding": "gzip", "If-None-Match": plain_headers["etag"]})[0] == 304


def test_rendered_once_per_change_and_sequence_rises_after_done(world, server):
    token = world.token()
    _, first_headers, first = feed(server, token)
    for _ in range(3):
        feed(server, token)
        feed(server, token, headers={"Accept-Encoding": "gzip"})
    assert server.cache.renders == 1
    before = by_uid(parse(first))
    world.service.set_status("cw-01", "done", COORDINATOR, "已完成")
    _, headers, after_body = feed(server, token, headers={"If-None-Match": first_headers["etag"]})
    assert server.cache.renders == 2 and headers["etag"] != first_headers["etag"]
    after = by_uid(parse(after_body))
    assert set(after) == set(before)
    for uid in ("cw-01@taskbot", "cw-01-m1@taskbot"):
        assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
        assert str(after[uid]["SUMMARY"]).startswith("✅ ")
    assert int(after["cw-02@taskbot"]["SEQUENCE"]) == int(before["cw-02@taskbot"]["SEQUENCE"])
    assert parsedate_to_datetime(headers["last-modified"]) > parsedate_to_datetime(first_headers["last-modified"])
    world.service.add_progress("cw-01", "市规划局", 42, "专项规划已批复")
    _, _, body = feed(server, token)
    ev = by_uid(parse(body))["cw-01@taskbot"]
    assert int(ev["SEQUENCE"]) > int(after["cw-01@taskbot"]["SEQUENCE"]) and "专项规划已批复" in str(ev["DESCRIPTION"])


def test_a_new_day_rerenders_and_overdue_raises_sequence(world, server):
    token = world.token()
    _, h1, b1 = feed(server, token)
    world.clock.advance(timedelta(days=2))  # 2018-11-01: milestone 1 (10-31) is overdue
    _, h2, b2 = feed(server, token, headers={"If-None-Match": h1["etag"]})
    assert server.cache.renders == 2
    m1, m1_later = by_uid(parse(b1))["cw-01-m1@taskbot"], by_uid(parse(b2))["cw-01-m1@taskbot"]
    assert str(m1_later["SUMMARY"]).startswith("⚠️ ") and not str(m1["SUMMARY"]).startswith("⚠️")
    assert int(m1_later["SEQUENCE"]) > int(m1["SEQUENCE"])
    assert parsedate_to_datetime(h2["last-modified"]) > parsedate_to_datetime(h1["last-modified"])


def test_uids_and_bytes_survive_a_restart(world):
    token = world.token()
    with Server(world.service) as s:
        _, h1, b1 = feed(s, token)
    world.close()
    world.open()
    with Server(world.service) as s:
        status, h2, b2 = feed(s, token)
        assert feed(s, token, headers={"If-None-Match": h1["etag"]})[0] == 304
    assert status == 200 and b2 == b1 and h2["etag"] == h1["etag"] and h2["last-modified"] == h1["last-modified"]
    assert set(by_uid(parse(b2))) == set(by_uid(parse(b1)))


def test_unit_doc_and_personal_feeds(world, server):
    _, _, body = feed(server, world.token("unit", "巩义市"))
    cal = parse(body)
    assert str(cal["X-WR-CALNAME"]) == "巩义市 · 督办事项"
    assert set(by_uid(cal)) == {"cw-01@taskbot", "cw-01-m1@taskbot", "cw-05@taskbot"}  # cw-01 via its group
    _, _, body = feed(server, world.token("doc", "郑政办〔2018〕60号"))
    assert set(by_uid(parse(body))) == {"ws-01@taskbot"}
    chat = 5001
    world.store.join(chat, "市卫计委", 77, world.clock.now())
    token = world.store.chat_feed_token(chat, world.clock.now())
    _, _, body = feed(server, token)
    cal = parse(body)
    assert str(cal["NAME"]) == "我的督办事项" and set(by_uid(cal)) == {"cw-04@taskbot"}
    world.store.join(chat, "荥阳市", 77, world.clock.now())  # a membership change reaches the feed
    _, _, body = feed(server, token)
    assert set(by_uid(parse(body))) == {"cw-04@taskbot", "cw-01@taskbot", "cw-01-m1@taskbot", "ws-01@taskbot"}


def test_todo_variant(world, server):
    token = world.token()
    _, h_events, _ = feed(server, token)
    status, headers, body = feed(server, token, "?todo=1")
    assert status == 200 and headers["etag"] != h_events["etag"]
    cal = parse(body)
    assert not cal.walk("VEVENT") and "cw-08-todo@taskbot" in by_uid(cal, "VTODO")


def test_withdrawn_task_is_cancelled(world, server):
    token = world.token()
    _, _, before = feed(server, token)
    assert "cw-05@taskbot" in by_uid(parse(before))
    write_registry(world.tmp / "reg", ids=("cw-01", "cw-02", "cw-03", "cw-04", "cw-08", "ws-01"))
    assert world.service.reload().ok
    _, _, after = feed(server, token)
    ev = by_uid(parse(after))["cw-05@taskbot"]
    assert str(ev["STATUS"]) == "CANCELLED" and str(ev["SUMMARY"]).startswith("🚫 ")
    assert int(ev["SEQUENCE"]) > int(by_uid(parse(before))["cw-05@taskbot"]["SEQUENCE"])


def test_healthz(world, server):
    import json

    world.store.set_last_tick(START)
    status, headers, body = server.request("/healthz")
    assert (status, headers["content-type"]) == (200, "application/json; charset=utf-8")
    answer = json.loads(body)
    assert answer["role"] == "leader" and answer["db"] == "ok"  # a single instance leads
    assert answer["registry"] == world.service.registry.fingerprint and answer["registry"]
    assert answer["last_tick"] == START.isoformat()


def test_healthz_answers_503_when_the_database_is_unreachable(world, server, tmp_path):
    import json

    from taskbot.store import connect_db

    good = world.service.store
    (tmp_path / "gone").mkdir()
    world.service.store = Store(connect_db(str(tmp_path / "gone" / "db.sqlite3")))
    (tmp_path / "gone").rmdir()  # the database's directory disappeared (a lost volume)
    try:
        status, _, body = server.request("/healthz")
    finally:
        world.service.store = good
    answer = json.loads(body)
    assert status == 503 and answer["db"] == "unreachable" and answer["last_tick"] is None
    assert server.request("/healthz")[0] == 200


def test_access_log_hides_tokens(world, server, caplog):
    caplog.set_level(logging.INFO, logger="taskbot.web.access")
    token = world.token()
    feed(server, token, "?todo=1")
    feed(server, "B" * 32)
    server.request("/healthz")
    for _ in range(200):  # the line is written just after the response went out
        lines = [r.getMessage() for r in caplog.records if r.name == "taskbot.web.access"]
        if len(lines) >= 3:
            break
        time.sleep(0.01)
    assert len(lines) == 3, lines
    assert all(token not in line and "B" * 32 not in line for line in lines)
    assert '"GET /feeds/***.ics?todo=1 HTTP/1.1" 200' in lines[0] and '"GET /feeds/***.ics HTTP/1.1" 404' in lines[1]
    assert redact("/feeds/abc.ics?x=1") == "/feeds/***.ics?x=1"


def test_header_helpers():
    assert accepts_gzip("gzip") and accepts_gzip("deflate, gzip;q=0.5") and accepts_gzip("*")
    assert not accepts_gzip(None) and not accepts_gzip("gzip;q=0") and not accepts_gzip("br")
    assert etag_matches('"abc"', "abc") and etag_matches('W/"abc-gz"', "abc") and etag_matches("*", "abc")
    assert not etag_matches('"abcd"', "abc")


# --- the command line ------------------------------------------------------------------------------------

def test_feed_url_and_feed_revoke_commands(world, server, capsys):
    base = ["--registry", world.tasks, "--units", world.units, "--db", world.db]
    public = f"http://127.0.0.1:{server.port}"
    for scope in (["--all"], ["--unit", "城管局"], ["--doc", "郑政办〔2018〕60号"]):
        assert cli.main(["feed-url", *scope, *base, "--public-url", public]) == 0
        url = capsys.readouterr().out.strip().splitlines()[-1]
        assert url.startswith(f"{public}/feeds/") and url.endswith(".ics")
        status, _, body = server.request(url[len(public):])
        assert status == 200
        parse(body)
    assert cli.main(["feed-revoke", url, *base[4:]]) == 0
    assert server.request(url[len(public):])[:3:2] == (404, NOT_FOUND.encode())


# --- a real client: vdirsyncer into a folder, khal reads it ----------------------------------------------

def _tool(name):
    found = shutil.which(name)
    if found is None:
        candidate = Path(sys.executable).with_name(name)
        found = str(candidate) if candidate.exists() else None
    return found


@pytest.mark.skipif(not (_tool("vdirsyncer") and _tool("khal")),
                    reason="vdirsyncer and khal are not installed (pip install vdirsyncer khal)")
def test_vdirsyncer_and_khal_show_the_feed(world, server, tmp_path):
    token = world.token("unit", "市城管局")
    cal_dir, status_dir = tmp_path / "calendars" / "feed", tmp_path / "vdirsyncer-status"
    cal_dir.mkdir(parents=True)
    vconf = tmp_path / "vdirsyncer.conf"
    vconf.write_text(f"""\
[general]
status_path = "{status_dir}/"

[pair taskbot]
a = "taskbot_remote"
b = "taskbot_local"
collections = null
conflict_resolution = "a wins"

[storage taskbot_remote]
type = "http"
url = "http://127.0.0.1:{server.port}/feeds/{token}.ics"

[storage taskbot_local]
type = "filesystem"
path = "{cal_dir}/"
fileext = ".ics"
""", encoding="utf-8")
    kconf = tmp_path / "khal.conf"
    kconf.write_text(f"""\
[calendars]
[[taskbot]]
path = {cal_dir}
type = calendar

[locale]
local_timezone = Asia/Shanghai
default_timezone = Asia/Shanghai
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M

[sqlite]
path = {tmp_path / "khal.db"}
""", encoding="utf-8")
    env = {**os.environ, "HOME": str(tmp_path), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "Asia/Shanghai"}

    def run(*args):
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, input="y\n")
        assert proc.returncode == 0, f"{args[0]} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    vdirsyncer = [_tool("vdirsyncer"), "-c", str(vconf)]
    run(*vdirsyncer, "discover")
    run(*vdirsyncer, "sync")
    files = sorted(p.name for p in cal_dir.glob("*.ics"))
    assert len(files) == 3, files  # cw-01, its first milestone, cw-02 (recurring)
    khal = [_tool("khal"), "-c", str(kconf)]
    out = run(*khal, "list", "2018-01-01", "2019-12-31")
    assert "【市规划局、市城管局】编制完成建筑垃圾专项规划" in out
    assert "（阶段 1/2：完成规划初稿）" in out
    assert out.count("【市城管局】每月报送建筑垃圾治理进展") >= 12  # the RRULE, expanded by khal

    world.service.set_status("cw-01", "done", COORDINATOR)  # the client follows a change
    run(*vdirsyncer, "sync")
    out = run(*khal, "list", "2018-12-31", "2018-12-31")
    assert "✅ 【市规划局、市城管局】编制完成建筑垃圾专项规划" in out
