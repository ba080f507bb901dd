"""The supervision board: real aiohttp server on 127.0.0.1, real SQLite store, real headless Chromium (Selenium),
exports parsed back with csv/json/openpyxl and compared with the registry."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from taskbot.board import report
from taskbot.board.data import Snapshot
from taskbot.board.routes import CSP
from taskbot.clock import Clock
from taskbot.config import Config
from taskbot.registry import load_registry
from taskbot.service import Service
from taskbot.store import Store

from .test_feeds import HEAD_YAML, TASKS, UNITS_YAML
from . import helpers
from .test_web import Server

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2018, 11, 20, 9, 0, tzinfo=SH)
ROOT = Path(__file__).resolve().parent.parent
XSS = "<script>alert('x')</script>整治"
XSS_TASK = f"""\
  - id: xs-01
    doc: 郑政办〔2018〕60号
    ref: 五
    title: "{XSS}"
    lead: [市城管局]
    due: 2018-11-25
    source_line: 3
"""
SOURCE = "第一行\n\n二、工作任务\n（一）整治建筑垃圾。牵头单位：市城管局\n完成时限：2018年11月\n"


class World:
    def __init__(self, tmp: Path):
        folder = tmp / "reg"
        folder.mkdir()
        (folder / "tasks.yaml").write_text(HEAD_YAML.format(alarm=3) + "".join(TASKS.values()) + XSS_TASK, "utf-8")
        (folder / "units.yaml").write_text(UNITS_YAML, "utf-8")
        (folder / "data").mkdir()
        (folder / "data" / "gazette-zhengzhou-2018-08.txt").write_text(SOURCE, "utf-8")
        self.tasks, self.units, self.db = str(folder / "tasks.yaml"), str(folder / "units.yaml"), str(tmp / "s.db")
        self.store = Store.open(self.db)
        self.clock = Clock(NOW, frozen=True)
        self.registry = load_registry(self.tasks, self.units)
        self.service = Service(Config(registry=self.tasks, units=self.units, db=self.db, coordinators=(1,)),
                               self.clock, self.store, self.registry)
        self.service.set_status("cw-06", "done", 1, "已完成整治")
        self.store.add_progress("cw-01", "市规划局", 7, "初稿已完成", NOW - timedelta(days=3))
        self.store.join(-100, "市城管局", 9, NOW)
        self.store.record_sent([("cw-04|overdue|-100|2018-11-19", "cw-04", "overdue", -100, date(2018, 11, 19))],
                               5, NOW - timedelta(days=1))

    def token(self, scope="b.all", value=""):
        return self.store.create_feed_token(scope, value, NOW)

    def snapshot(self):
        return Snapshot(self.registry, self.store.task_states(), self.store.progress(), self.store.members(),
                        NOW.date())


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.store.close()


@pytest.fixture
def server(world):
    with Server(world.service) as s:
        yield s


def get(server, token, path="", headers=None):
    return server.request(quote(f"/board/{token}/{path}", safe="/?&=%,"), headers)


# --- browser --------------------------------------------------------------------------------------------

@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as ChromeService

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    opts.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})  # an office browser in Chinese
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                f"--user-data-dir={tmp_path / 'chrome'}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=ChromeService(executable_path="/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_browser_overview_unit_item_with_figures_xss_and_screenshots(world, server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    shots = Path(os.environ.get("TASKBOT_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    token = world.token()
    base = f"http://127.0.0.1:{server.port}/board/{token}/"
    browser.get(base)
    snap = world.snapshot()
    live = [r for r in snap.rows if r.status != "withdrawn"]
    assert browser.find_element(By.ID, "n-items").text == str(len(live))
    assert browser.find_element(By.ID, "n-done").text == str(sum(r.status == "done" for r in live)) == "1"
    overdue = sorted(r.id for r in live if r.status == "overdue")
    assert overdue == ["cw-01", "cw-04", "cw-05"]  # cw-01: its first milestone (10-31) is missed
    assert browser.find_element(By.ID, "n-overdue").text == str(len(overdue))
    doc_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-doc="郑政文〔2018〕143号"]')
    cells = [c.text for c in doc_row.find_elements(By.TAG_NAME, "td")]
    assert cells[3:7] == ["7", "1", "6", "3"]  # 7 items of 143号 in the registry, cw-06 done, cw-01/04/05 overdue
    assert len([t for t in world.registry.tasks if t.doc == "郑政文〔2018〕143号"]) == 7
    # units with no liaison stand out; 市城管局 has one chat
    silent = browser.find_element(By.CSS_SELECTOR, 'tr[data-unit="市卫计委"]')
    assert "silent" in silent.get_attribute("class") and "无联络员" in silent.text
    assert browser.find_element(By.CSS_SELECTOR, 'tr[data-unit="市城管局"] td.chats').text == "1"
    browser.save_screenshot(str(shots / "overview.png"))

    browser.find_element(By.LINK_TEXT, "市城管局").click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("市城管局")
    ids = {e.get_attribute("data-id") for e in browser.find_elements(By.CSS_SELECTOR, "tr[data-id]")}
    assert ids == {"cw-01", "cw-02", "cw-06", "cw-08", "xs-01"}
    delivered = browser.find_element(By.ID, "delivered").text
    assert "cw-04" not in delivered  # delivered to the chat, but cw-04 is not 市城管局's item
    browser.save_screenshot(str(shots / "unit.png"))

    browser.find_element(By.CSS_SELECTOR, 'tr[data-id="xs-01"] a').click()
    assert browser.find_element(By.ID, "title").text == XSS  # shown as text, not run
    assert browser.execute_script("return document.querySelectorAll('main script').length") == 0
    assert "（一）整治建筑垃圾。牵头单位：市城管局" in browser.find_element(By.CSS_SELECTOR, ".source").text
    browser.save_screenshot(str(shots / "item.png"))

    browser.get(base + "doc/" + "郑政文〔2018〕143号")
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect")
    assert len(bars) == 5  # the dated items: cw-01 (milestones), cw-03, cw-04, cw-05, cw-06
    assert browser.find_elements(By.CSS_SELECTOR, "svg.timeline line.today")
    browser.save_screenshot(str(shots / "document.png"))
    browser.get(base + "?lang=en")
    assert browser.find_element(By.TAG_NAME, "h2").text == "Documents"
    assert all((shots / f"{n}.png").stat().st_size > 10_000 for n in ("overview", "unit", "item", "document"))


# --- HTTP ---------------------------------------------------------------------------------------------------

def test_a_units_last_progress_survives_a_later_report_by_another_unit_on_the_same_item(world):
    """市规划局 reported on cw-01 three days ago; 市城管局 reports on it today: both dates stand."""
    world.store.add_progress("cw-01", "市城管局", 9, "已报送", NOW)
    figures = {f.name: f for f in world.snapshot().units()}
    assert figures["市规划局"].last_progress == (NOW - timedelta(days=3)).date()
    assert figures["市城管局"].last_progress == NOW.date()


def test_a_group_board_shows_what_the_groups_feed_shows(world):
    """各县(市、区)政府's board: items naming the group (cw-01) and items naming a member only (cw-05 巩义市,
    ws-01 荥阳市), as in the group's calendar feed."""
    from taskbot.feeds import scope_filter

    rows = world.snapshot().in_scope(("unit", "各县(市、区)政府"))
    keep = scope_filter(world.registry, ("unit", "各县(市、区)政府"))
    assert sorted(r.id for r in rows) == sorted(t.id for t in world.registry.tasks if keep(t)) == [
        "cw-01", "cw-05", "ws-01"]


def test_pages_send_a_csp_and_escape_registry_text(world, server):
    token = world.token()
    status, headers, body = get(server, token, "item/xs-01")
    assert status == 200 and headers["content-security-policy"] == CSP
    assert "default-src 'none'" in CSP and "script-src" not in CSP
    assert XSS.encode() not in body and b"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    status, headers, body = get(server, token, "")
    assert b"http://" not in body.replace(b'xmlns="http://www.w3.org/2000/svg"', b"") and b"https://" not in body


def test_unknown_revoked_and_feed_tokens_answer_the_feeds_404(world, server):
    token = world.token()
    assert get(server, token)[0] == 200
    feed = world.store.create_feed_token("all", "", NOW)
    board_404 = get(server, "x" * 32)
    assert board_404[0] == 404 and get(server, feed)[:1] == (404,) and get(server, feed)[2] == board_404[2]
    assert server.request(f"/feeds/{token}.ics")[0] == 404  # a board token opens no feed
    assert server.request(f"/feeds/{token}.ics")[2] == board_404[2]
    world.store.revoke_feed_token(token, NOW)  # revoked while the page is open: the next request is refused
    assert get(server, token, "items")[0] == 404
    assert get(server, "short")[0] == 404 and get(server, token + "%2F..%2F", "")[0] == 404


@pytest.mark.parametrize("query", ["limit=abc", "limit=-5", "limit=99999999999999999999", "offset=x", "status=nope",
                                   "due_before=2018-13-45", "due_after=yesterday", "unit=" + "x" * 5000,
                                   "doc=%FF%FE", "status=,,,", "limit=0&offset=99999999"])
def test_malformed_query_parameters_are_ignored_never_a_500(world, server, query):
    token = world.token()
    for path in ("items", "overdue", "items.csv", "items.json", "doc/郑政文〔2018〕143号", "unit/市城管局"):
        status, _, body = get(server, token, f"{path}?{query}")
        assert status == 200, (path, query, body[:300])


def test_a_huge_limit_is_capped_and_the_ignored_parameters_are_named(world, server):
    token = world.token()
    data = json.loads(get(server, token, "items.json?limit=100000000&status=open,bogus")[2])
    assert data["filters"]["limit"] == "1000" and data["ignored"] == ["status=open,bogus"]
    status, _, body = get(server, token, "items?due_before=nope")
    assert status == 200 and "due_before=nope" in body.decode()


def test_unit_board_shows_only_its_items_groups_resolved(world, server):
    token = world.token("b.unit", "巩义市")
    data = json.loads(get(server, token, "items.json")[2])
    assert sorted(r["id"] for r in data["rows"]) == ["cw-01", "cw-05"]  # cw-01 through 各县(市、区)政府
    assert get(server, token, "item/cw-04")[0] == 404
    assert get(server, token, "doc/郑政办〔2018〕60号")[0] == 404
    doc = world.token("b.doc", "郑政办〔2018〕60号")
    assert sorted(r["id"] for r in json.loads(get(server, doc, "items.json")[2])["rows"]) == ["ws-01", "xs-01"]


def test_filters_links_and_exports_keep_the_query(world, server):
    token = world.token()
    body = get(server, token, "items?status=overdue&unit=城管局")[2].decode()
    assert 'href="/board/%s/items.csv?unit=%%E5%%B8%%82' % token in body  # the export link keeps unit and status
    assert "status=overdue" in body.split("items.csv", 1)[1].split('"', 1)[0]
    data = json.loads(get(server, token, "items.json?status=overdue&unit=城管局")[2])
    assert [r["id"] for r in data["rows"]] == ["cw-01"] and data["next"] is None
    first = json.loads(get(server, token, "items.json?limit=5&status=open,overdue")[2])
    assert first["total"] == 8 and len(first["rows"]) == 5
    second = json.loads(server.request(first["next"])[2])  # Datasette style: follow "next" to the last page
    assert len(second["rows"]) == 3 and second["next"] is None
    assert {r["id"] for r in first["rows"] + second["rows"]} == {t.id for t in world.registry.tasks} - {"cw-06"}


# --- exports ------------------------------------------------------------------------------------------------

def test_items_csv_has_a_bom_and_every_item_of_the_registry(world, server):
    status, headers, body = get(server, world.token(), "items.csv")
    assert status == 200 and body.startswith(b"\xef\xbb\xbf") and headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    assert rows[0][:11] == ["编号", "文件", "条目", "事项", "牵头单位", "责任单位", "配合单位", "完成时限", "时限说明", "状态", "最新进展"]
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {t.id for t in world.registry.tasks}
    for t in world.registry.tasks:
        r = by_id[t.id]
        assert (r[1], r[2], r[3], r[4], r[7]) == (t.doc, t.ref, t.title, "、".join(t.lead), t.due.isoformat() if t.due else "")
    assert by_id["cw-06"][9] == "已完成" and by_id["cw-04"][9] == "已逾期" and by_id["ws-01"][9] == "进行中"
    assert by_id["cw-01"][10] == "初稿已完成" and by_id["cw-06"][12] == "2018-11-20"


def test_items_xlsx_has_a_frozen_header_widths_and_sheets(world, server, tmp_path):
    status, headers, body = get(server, world.token(), "items.xlsx")
    assert status == 200 and "attachment" in headers["content-disposition"]
    path = tmp_path / "items.xlsx"
    path.write_bytes(body)
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2" and ws.column_dimensions["D"].width == 60
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "文件", "条目", "事项")
    assert {r[0]: r[3] for r in rows[1:]} == {t.id: t.title for t in world.registry.tasks}
    assert [s.title for s in wb.worksheets] == ["督办事项", "单位", "文件"]


def test_documents_and_units_twins(world, server):
    token = world.token()
    docs = json.loads(get(server, token, "documents.json")[2])
    assert {d["doc"]: d["items"] for d in docs["rows"]} == {"郑政文〔2018〕143号": 7, "郑政办〔2018〕60号": 2}
    units = list(csv.reader(io.StringIO(get(server, token, "units.csv")[2][3:].decode())))
    assert units[0][0] == "单位" and {r[0] for r in units[1:]} >= {"市城管局", "巩义市", "各县(市、区)政府"}


# --- report and CLI -------------------------------------------------------------------------------------------

def test_weekly_report_figures(world, tmp_path):
    rep = report.build(world.registry, world.store.task_states(), world.store.progress(), world.store.members(),
                       date(2018, 11, 20))
    assert [r.id for r in rep["done"]] == ["cw-06"]
    assert [r.id for r in rep["newly"]] == []  # nothing fell due from 11-13 to 11-19
    assert [u.name for u in rep["ranked"]][:1] and all(u.overdue for u in rep["ranked"])
    earlier = report.build(world.registry, world.store.task_states(), world.store.progress(), {}, date(2018, 10, 16))
    assert [r.id for r in earlier["newly"]] == ["cw-04"] and earlier["done"] == []  # cw-06 was done later
    out = tmp_path / "r.xlsx"
    report.write(str(out), rep, SH)
    wb = load_workbook(out)
    assert wb.sheetnames == ["概况", "本周新增逾期", "本周完成", "单位逾期排名", "各文件进度", "30天无进展"]
    assert [r[0] for r in wb["本周完成"].iter_rows(min_row=2, values_only=True)] == ["cw-06"]
    html = report.to_html(rep).decode()
    assert "@page { size: A4" in html and "督查通报" in html and "<script>alert" not in html


def taskbot(*args, cwd=ROOT):
    return helpers.taskbot(*args, cwd=cwd, env={"TASKBOT_CLOCK": "2018-11-20T09:00:00+08:00"})


@pytest.mark.parametrize("args,message", [
    (["board-url", "--unit", "市城管"], "board-url: unknown unit '市城管'; did you mean 市城管局?"),
    (["board-url", "--doc", "郑政文〔2018〕1430号"], "board-url: unknown document '郑政文〔2018〕1430号'; did you mean 郑政文〔2018〕143号?"),
    (["board-revoke", "nosuchtoken123"], "board-revoke: no active board token 'nosuchtoken123'"),
    (["report", "-o", "out.pdf"], "report: -o must name a .xlsx or .html file, got 'out.pdf'"),
    (["report", "--date", "2018-02-30"], "report: --date must be a date YYYY-MM-DD, got '2018-02-30'"),
])
def test_cli_bad_input(world, args, message):
    result = taskbot(*args, "--registry", world.tasks, "--units", world.units, "--db", world.db)
    assert result.returncode == 1 and result.stderr.splitlines()[-1] == message


def test_cli_board_url_done_undo_and_the_board_shows_it_at_once(world, server):
    common = ["--registry", world.tasks, "--units", world.units, "--db", world.db]
    result = taskbot("board-url", "--unit", "城管局", *common, "--public-url", f"http://127.0.0.1:{server.port}")
    assert result.returncode == 0, result.stderr
    url = result.stdout.splitlines()[-1]
    assert url.startswith(f"http://127.0.0.1:{server.port}/board/") and url.endswith("/")
    token = url.split("/board/")[1].rstrip("/")
    assert json.loads(get(server, token, "item/cw-01.json")[2])["item"]["status"] == "已逾期"
    done = taskbot("done", "CW-01", "--note", "规划已批复", *common)
    assert done.returncode == 0 and done.stdout.startswith("cw-01 marked done by cli:")
    assert json.loads(get(server, token, "item/cw-01.json")[2])["item"]["status"] == "已完成"
    audit = world.store.audit_log("cw-01")[0]
    assert audit.actor.startswith("cli:") and audit.after == "done" and audit.note == "规划已批复"
    assert taskbot("undo", "cw-01", *common).returncode == 0
    assert json.loads(get(server, token, "item/cw-01.json")[2])["item"]["status"] == "已逾期"
    bad = taskbot("done", "cw-1", *common)
    assert bad.returncode == 1 and bad.stderr.splitlines()[-1].startswith("done: unknown task 'cw-1'; did you mean")
    revoke = taskbot("board-revoke", url, *common)
    assert revoke.returncode == 0 and get(server, token)[0] == 404


def test_cli_report_writes_html(world, tmp_path):
    out = tmp_path / "r.html"
    result = taskbot("report", "--date", "2018-11-20", "-o", str(out), "--registry", world.tasks, "--units",
                     world.units, "--db", world.db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == str(out) and "cw-06" in out.read_text("utf-8")


def test_language_by_query_and_accept_language(world, server):
    token = world.token()
    assert "<h2>Documents</h2>" in get(server, token, "", {"Accept-Language": "en-US,en;q=0.9"})[2].decode()
    assert "<h2>文件</h2>" in get(server, token, "", {"Accept-Language": "en;q=0.5,zh-CN;q=0.9"})[2].decode()
    assert "<h2>文件</h2>" in get(server, token, "?lang=zh", {"Accept-Language": "en"})[2].decode()
    body = get(server, token, "items?lang=en&status=overdue")[2].decode()
    assert 'href="/board/%s/item/cw-04?lang=en"' % token in body  # links keep the language


def test_pagination_etag_and_redacted_access_log(world, server):
    from taskbot.web import redact

    token = world.token()
    status, headers, body = get(server, token, "items?limit=2")
    assert status == 200 and body.decode().count('<tr class="') == 2 and 'rel="next"' in body.decode()
    assert get(server, token, "items?limit=2", {"If-None-Match": headers["etag"]})[0] == 304
    assert redact(f"/board/{token}/unit/x?y=1") == "/board/***/unit/x?y=1"
    assert redact("/board/_static/board.css") == "/board/_static/board.css"
    css = server.request("/board/_static/board.css")
    assert css[0] == 200 and css[1]["content-type"].startswith("text/css") and b"@media print" in css[2]


def test_a_liaison_chat_board_follows_its_units(world, server):
    token = world.store.chat_feed_token(-100, NOW, scope="b.chat")
    assert token == world.store.chat_feed_token(-100, NOW, scope="b.chat")
    ids = sorted(r["id"] for r in json.loads(get(server, token, "items.json")[2])["rows"])
    assert ids == ["cw-01", "cw-02", "cw-06", "cw-08", "xs-01"]
    world.store.leave(-100)
    assert json.loads(get(server, token, "items.json")[2])["rows"] == []


def test_templates_can_be_overridden_by_a_folder(world, server, tmp_path, monkeypatch):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "overview.html").write_text('{% extends "base.html" %}{% block main %}<p id="mine">{{ totals["items"] }} 项'
                                          '</p>{% endblock %}', "utf-8")
    monkeypatch.setenv("TASKBOT_BOARD_TEMPLATES", str(folder))
    assert '<p id="mine">9 项</p>' in get(server, world.token())[2].decode()


def test_unit_page_shows_the_next_reminder_and_what_was_delivered(world, server):
    world.store.record_sent([("cw-01|before:30|-100|2018-11-19", "cw-01", "before:30", -100, date(2018, 11, 19))],
                            6, NOW - timedelta(hours=20))
    body = get(server, world.token(), "unit/城管局")[2].decode()
    row = body.split('data-id="xs-01"', 1)[1].split("</tr>", 1)[0]
    assert "2018-11-22 09:00" in row  # due Sunday 11-25: 3 days before is Thursday 11-22, at 09:00
    delivered = body.split('id="delivered"', 1)[1]
    assert "2018-11-19 13:00" in delivered and "cw-01" in delivered and "cw-04" not in delivered


def test_report_html_prints_on_a4(world, browser, tmp_path):
    import base64
    import re

    from selenium.webdriver.common.by import By

    rep = report.build(world.registry, world.store.task_states(), world.store.progress(), world.store.members(),
                       date(2018, 11, 20))
    path = tmp_path / "report.html"
    path.write_bytes(report.to_html(rep))
    browser.get(path.as_uri())
    assert browser.find_element(By.ID, "r-done").text == "1" and browser.find_element(By.ID, "r-overdue").text == "3"
    # the page size comes from the report's own print stylesheet (@page { size: A4 })
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    assert pdf.startswith(b"%PDF")
    boxes = {tuple(round(float(v)) for v in m.split()) for m in re.findall(rb"/MediaBox\s*\[([\d.\s]+)\]", pdf)}
    assert boxes and all(abs(w - 595) <= 1 and abs(h - 842) <= 1 for _, _, w, h in boxes)  # A4 in points


def test_a_withdrawn_item_stays_on_the_board_as_withdrawn(world, server):
    token = world.token()
    assert "cw-08" in get(server, token, "items.csv")[2].decode()
    text = Path(world.tasks).read_text("utf-8")
    Path(world.tasks).write_text(text.replace(TASKS["cw-08"], ""), "utf-8")
    assert world.service.reload().ok
    rows = {r[0]: r for r in csv.reader(io.StringIO(get(server, token, "items.csv")[2][3:].decode()))}
    assert rows["cw-08"][9] == "已撤销" and rows["cw-08"][3] == "持续推进建筑垃圾治理试点"
    body = get(server, token, "item/cw-08")[2].decode()
    assert "已撤销" in body and "持续推进建筑垃圾治理试点" in body
    overview = get(server, token, "")[2].decode()
    assert '<b id="n-items">8</b>' in overview  # withdrawn items are not counted


@pytest.mark.parametrize("path", ["unit/%ZZ", "doc/%FF%FE", "item/..%2F..%2Fetc", "item/" + "x" * 600, "items.xlsx.csv",
                                  "unit/", "doc/", "item/cw-01.xlsx", "units.xlsx", "a/b/c", "%00", "overdue.json?limit=%00"])
def test_odd_paths_answer_404_or_200_never_500(world, server, path):
    status, _, _ = server.request(f"/board/{world.token()}/{path}")
    assert status in (200, 404), (path, status)
