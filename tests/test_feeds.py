"""Calendar feed rendering (taskbot.feeds): golden files per edge case, strict validation, the rules."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from dateutil.rrule import rrulestr

from taskbot.feeds import ProgressInfo, build_calendar, build_feed, rrule, scope_filter
from taskbot.recurrence import parse_every
from taskbot.registry import load_registry
from taskbot.store_models import TaskState

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TASKBOT_UPDATE_GOLDEN") == "1"  # regenerate: TASKBOT_UPDATE_GOLDEN=1 pytest ...
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2018, 8, 24, 1, 0, tzinfo=timezone.utc)
NOW = datetime(2018, 11, 20, 9, 0, tzinfo=SH)
DOC1, DOC2 = "郑政文〔2018〕143号", "郑政办〔2018〕60号"

UNITS_YAML = """\
units:
  - {name: 市城管局, full_name: 郑州市城市管理局, aliases: [城管局], kind: department}
  - {name: 市规划局, full_name: 郑州市城乡规划局, kind: department}
  - {name: 市卫计委, full_name: 郑州市卫生和计划生育委员会, kind: department}
  - {name: 巩义市, kind: district}
  - {name: 荥阳市, kind: district}
groups:
  - {name: 各县(市、区)政府, aliases: [各县(市、区)人民政府], members: [巩义市, 荥阳市]}
"""

HEAD_YAML = """\
settings:
  timezone: Asia/Shanghai
  coordinators: [1]
  feeds: {{alarm_days: {alarm}}}
documents:
  - number: 郑政文〔2018〕143号
    title: 郑州市人民政府关于印发郑州市建筑垃圾治理试点工作实施方案的通知
    issued: 2018-08-07
    issuer: 郑州市人民政府
  - number: 郑政办〔2018〕60号
    title: 郑州市人民政府办公厅关于加强城市精细化管理的通知
    issued: 2018-09-01
    issuer: 郑州市人民政府办公厅
tasks:
"""

TASKS = {
    "cw-01": """\
  - id: cw-01
    doc: 郑政文〔2018〕143号
    ref: 二(一)1
    title: 编制完成建筑垃圾专项规划
    lead: [市规划局, 市城管局]
    cooperating: [各县(市、区)政府]
    due: 2018-12-31
    due_text: 2018年12月
    milestones:
      - {due: 2018-10-31, title: 完成规划初稿}
      - {due: 2018-12-31, title: 完成招标和建设任务}
""",
    "cw-02": """\
  - id: cw-02
    doc: 郑政文〔2018〕143号
    ref: 二(一)2
    title: 每月报送建筑垃圾治理进展
    lead: [市城管局]
    due_text: 长期
    every: monthly:25
""",
    "cw-03": """\
  - id: cw-03
    doc: 郑政文〔2018〕143号
    title: 建筑垃圾资源化利用率达到30%
    lead: []
    due: 2018-12-31
    kind: goal
""",
    "cw-04": """\
  - id: cw-04
    doc: 郑政文〔2018〕143号
    ref: 三(二)
    title: 建立建筑垃圾处置核准制度
    lead: [市卫计委]
    due: 2018-10-15
    due_text: 2018年10月15日前
""",
    "cw-05": """\
  - id: cw-05
    doc: 郑政文〔2018〕143号
    ref: 三(三)
    title: 建成区建筑垃圾消纳场选址
    lead: [巩义市]
    due: 2018-09-30
""",
    "cw-06": """\
  - id: cw-06
    doc: 郑政文〔2018〕143号
    title: 开展建筑垃圾运输车辆专项整治
    lead: [市城管局]
    due: 2018-12-15
""",
    "cw-08": """\
  - id: cw-08
    doc: 郑政文〔2018〕143号
    title: 持续推进建筑垃圾治理试点
    lead: [市城管局]
    due_text: 试点全程
""",
    "ws-01": """\
  - id: ws-01
    doc: 郑政办〔2018〕60号
    ref: 四
    title: 报送城市精细化管理季度考核结果
    lead: [荥阳市]
    due: 2019-06-30
    due_text: 2019年上半年
    every: quarterly
""",
}
ALL = ("cw-01", "cw-02", "cw-03", "cw-04", "cw-05", "cw-08", "ws-01")


def write_registry(folder: Path, ids=ALL, alarm: int = 3) -> tuple[str, str]:
    """Write tasks.yaml and units.yaml with the chosen tasks; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks, units = folder / "tasks.yaml", folder / "units.yaml"
    tasks.write_text(HEAD_YAML.format(alarm=alarm) + "".join(TASKS[i] for i in ids), encoding="utf-8")
    units.write_text(UNITS_YAML, encoding="utf-8")
    return str(tasks), str(units)


def registry(tmp_path, ids=ALL, alarm: int = 3):
    return load_registry(*write_registry(tmp_path / "reg", ids, alarm))


def state(tid, status="open", seq=0, updated=T0, withdrawn=False, done_at=None, note=None, doc=DOC1):
    return TaskState(tid, status, "1" if status == "done" else None, done_at, note, withdrawn, seq, updated, doc)


def states_for(reg, **overrides):
    out = {t.id: state(t.id, doc=t.doc) for t in reg.tasks}
    out.update(overrides)
    return out


def parse(body: bytes):
    """Parse with icalendar and validate strictly with vobject; returns the icalendar object."""
    text = body.decode("utf-8")
    assert text.endswith("END:VCALENDAR\r\n")
    vobject.readOne(text, validate=True)
    return icalendar.Calendar.from_ical(body)


def by_uid(cal, kind="VEVENT"):
    return {str(c["UID"]): c for c in cal.walk(kind)}


def check_golden(name: str, body: bytes) -> None:
    path = GOLDEN / f"{name}.ics"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(body)
    assert path.exists(), f"missing {path}; create it with TASKBOT_UPDATE_GOLDEN=1"
    assert body == path.read_bytes(), f"{name}.ics differs from the golden file (TASKBOT_UPDATE_GOLDEN=1 to accept)"


# --- golden files, one per edge case ----------------------------------------------------------------

def test_golden_milestones(tmp_path):
    reg = registry(tmp_path, ("cw-01",))
    body = build_calendar(reg, states_for(reg), {}, ("all", None), NOW)
    check_golden("milestones", body)
    events = by_uid(parse(body))
    assert set(events) == {"cw-01@taskbot", "cw-01-m1@taskbot"}  # the last milestone is the due date's event
    m1, due = events["cw-01-m1@taskbot"], events["cw-01@taskbot"]
    assert str(m1["SUMMARY"]).startswith("⚠️ 【市规划局、市城管局】")  # 2018-10-31 is past on 11-20
    assert "阶段 2/2：完成招标和建设任务" in str(due["DESCRIPTION"])
    assert due.decoded("DTSTART") == date(2018, 12, 31) and due.decoded("DTEND") == date(2019, 1, 1)
    assert str(due["TRANSP"]) == "TRANSPARENT"
    assert [a.decoded("TRIGGER") for a in due.walk("VALARM")] == [timedelta(days=-3)]


def test_golden_recurring(tmp_path):
    reg = registry(tmp_path, ("cw-02", "ws-01"))
    body = build_calendar(reg, states_for(reg, **{"ws-01": state("ws-01", doc=DOC2)}), {}, ("all", None), NOW)
    check_golden("recurring", body)
    events = by_uid(parse(body))
    monthly, quarterly = events["cw-02@taskbot"], events["ws-01@taskbot"]
    assert monthly.decoded("DTSTART") == date(2018, 8, 25)  # first 25th after the document's issue
    assert monthly["RRULE"].to_ical() == b"FREQ=MONTHLY;BYMONTHDAY=25"
    assert quarterly.decoded("DTSTART") == date(2018, 9, 30)
    assert quarterly["RRULE"].to_ical() == b"FREQ=MONTHLY;UNTIL=20190630;BYMONTHDAY=-1;BYMONTH=3,6,9,12"
    assert "⚠️" not in str(monthly["SUMMARY"])  # an ongoing duty is never overdue as a whole


def test_golden_done(tmp_path):
    reg = registry(tmp_path, ("cw-04",))
    done_at = datetime(2018, 10, 12, 2, 30, tzinfo=timezone.utc)
    states = {"cw-04": state("cw-04", "done", seq=1, updated=done_at, done_at=done_at, note="已印发实施")}
    progress = {"cw-04": ProgressInfo(2, "制度草案已报市政府常务会审议", "市卫计委",
                                      datetime(2018, 10, 10, 8, tzinfo=timezone.utc))}
    body = build_calendar(reg, states, progress, ("all", None), NOW)
    check_golden("done", body)
    ev = by_uid(parse(body))["cw-04@taskbot"]
    assert str(ev["SUMMARY"]) == "✅ 【市卫计委】建立建筑垃圾处置核准制度"  # done, so not overdue
    assert int(ev["SEQUENCE"]) == 2 * (1 + 2)
    assert "最新进展（市卫计委，2018-10-10）：制度草案已报市政府常务会审议" in str(ev["DESCRIPTION"])
    assert "状态：已完成（2018-10-12；已印发实施）" in str(ev["DESCRIPTION"])
    assert not ev.walk("VALARM")
    assert ev.decoded("LAST-MODIFIED") == done_at.replace(microsecond=0)


def test_golden_withdrawn(tmp_path):
    old = registry(tmp_path / "old", ("cw-01", "cw-06"))
    reg = registry(tmp_path, ("cw-01",))
    gone = datetime(2018, 9, 3, 2, 0, tzinfo=timezone.utc)
    states = states_for(reg, **{"cw-06": state("cw-06", seq=1, updated=gone, withdrawn=True),
                                "cw-07": state("cw-07", seq=2, updated=gone, withdrawn=True)})
    body = build_calendar(reg, states, {}, ("all", None), NOW, withdrawn={"cw-06": old.by_id["cw-06"]})
    check_golden("withdrawn", body)
    events = by_uid(parse(body))
    known, bare = events["cw-06@taskbot"], events["cw-07@taskbot"]
    assert str(known["STATUS"]) == "CANCELLED" and known.decoded("DTSTART") == date(2018, 12, 15)
    assert str(known["SUMMARY"]).startswith("🚫 ")
    assert str(bare["STATUS"]) == "CANCELLED" and str(bare["SUMMARY"]) == "🚫 已撤销：cw-07"
    assert bare.decoded("DTSTART") == date(2018, 9, 3)  # the day of withdrawal, in Shanghai
    assert not known.walk("VALARM") and not bare.walk("VALARM")


def test_golden_group_expansion(tmp_path):
    reg = registry(tmp_path)
    body = build_calendar(reg, states_for(reg, **{"ws-01": state("ws-01", doc=DOC2)}), {}, ("unit", "巩义市"), NOW)
    check_golden("group", body)
    cal = parse(body)
    assert str(cal["X-WR-CALNAME"]) == str(cal["NAME"]) == "巩义市 · 督办事项"
    events = by_uid(cal)
    assert set(events) == {"cw-01@taskbot", "cw-01-m1@taskbot", "cw-05@taskbot"}  # cw-01 through its group
    assert "配合单位：各县(市、区)政府（巩义市、荥阳市）" in str(events["cw-01@taskbot"]["DESCRIPTION"])


def test_golden_todo(tmp_path):
    reg = registry(tmp_path)
    states = states_for(reg, **{"ws-01": state("ws-01", doc=DOC2),
                                "cw-04": state("cw-04", "done", 1, T0, done_at=T0)})
    body = build_calendar(reg, states, {}, ("all", None), NOW, todo=True)
    check_golden("todo", body)
    cal = parse(body)
    assert not cal.walk("VEVENT")
    todos = by_uid(cal, "VTODO")
    assert "cw-08-todo@taskbot" in todos and "DUE" not in todos["cw-08-todo@taskbot"]  # undated: no DUE
    assert str(todos["cw-04-todo@taskbot"]["STATUS"]) == "COMPLETED"
    assert todos["cw-01-m1-todo@taskbot"]["RELATED-TO"] == "cw-01-todo@taskbot"
    assert todos["cw-02-todo@taskbot"].decoded("DTSTART") == todos["cw-02-todo@taskbot"].decoded("DUE")
    alarm = todos["cw-01-todo@taskbot"].walk("VALARM")[0]
    assert alarm["TRIGGER"].params["RELATED"] == "END"


def test_golden_personal(tmp_path):
    reg = registry(tmp_path)
    body = build_calendar(reg, states_for(reg, **{"ws-01": state("ws-01", doc=DOC2)}), {},
                          ("units", ("市城管局", "荥阳市")), NOW)
    check_golden("personal", body)
    cal = parse(body)
    assert str(cal["NAME"]) == "我的督办事项"
    assert set(by_uid(cal)) == {"cw-01@taskbot", "cw-01-m1@taskbot", "cw-02@taskbot", "ws-01@taskbot"}


# --- the calendar header -----------------------------------------------------------------------------

def test_calendar_properties(tmp_path):
    reg = registry(tmp_path)
    text = build_calendar(reg, states_for(reg), {}, ("doc", DOC1), NOW).decode()
    for line in ("VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"NAME:{DOC1} · 督办事项",
                 f"X-WR-CALNAME:{DOC1} · 督办事项", "X-WR-TIMEZONE:Asia/Shanghai",
                 "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"):
        assert f"\r\n{line}\r\n" in text, line
    assert "PRODID:-//taskbot//" in text
    assert "全部督办事项" in build_calendar(reg, {}, {}, ("all", None), NOW).decode()


def test_goal_is_an_event_and_undated_task_is_not(tmp_path):
    reg = registry(tmp_path)
    events = by_uid(parse(build_calendar(reg, states_for(reg), {}, ("all", None), NOW)))
    assert str(events["cw-03@taskbot"]["SUMMARY"]) == "【目标】建筑垃圾资源化利用率达到30%"
    assert "cw-08@taskbot" not in events


# --- rules ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["weekly", "monthly", "monthly:1", "monthly:25", "monthly:29", "monthly:31",
                                  "quarterly", "quarterly:30", "half-yearly", "half-yearly:15",
                                  "yearly:06-30", "yearly:02-29", "yearly:12-31"])
def test_rrule_matches_every(form):
    every = parse_every(form)
    start, end = date(2018, 8, 7), date(2023, 12, 31)
    expected = list(every.occurrences(start, end))
    rule = icalendar.vRecur(rrule(every)).to_ical().decode()
    got = [d.date() for d in rrulestr(rule, dtstart=datetime.combine(expected[0], datetime.min.time()))
           .between(datetime(2018, 1, 1), datetime(2023, 12, 31), inc=True)]
    assert got == expected


def test_uids_are_stable_and_sequence_rises_with_every_visible_change(tmp_path):
    reg = registry(tmp_path, ("cw-01",))
    seen = []

    def render(st, today, progress=None):
        cal = parse(build_calendar(reg, {"cw-01": st}, progress or {}, ("all", None), today))
        ev = by_uid(cal)
        seen.append(set(ev))
        return int(ev["cw-01-m1@taskbot"]["SEQUENCE"]), ev["cw-01-m1@taskbot"].decoded("LAST-MODIFIED")

    steps = [render(state("cw-01"), date(2018, 10, 30)),  # upcoming
             render(state("cw-01"), date(2018, 11, 2)),  # overdue: the mark appears
             render(state("cw-01", "done", 1, T0 + timedelta(days=80)), date(2018, 11, 3)),  # done
             render(state("cw-01", "open", 2, T0 + timedelta(days=81)), date(2018, 11, 4)),  # reopened, overdue
             render(state("cw-01", "open", 2, T0 + timedelta(days=81)), date(2018, 11, 5),
                    {"cw-01": ProgressInfo(1, "初稿已完成", "市规划局", T0 + timedelta(days=82))})]
    sequences = [s for s, _ in steps]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), sequences
    stamps = [m for _, m in steps]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(s == seen[0] for s in seen)


def test_bytes_depend_on_the_date_only(tmp_path):
    reg = registry(tmp_path)
    st = states_for(reg)
    early = build_calendar(reg, st, {}, ("all", None), datetime(2018, 11, 20, 0, 1, tzinfo=SH))
    late = build_calendar(reg, st, {}, ("all", None), datetime(2018, 11, 20, 23, 59, tzinfo=SH))
    assert early == late == build_calendar(reg, st, {}, ("all", None), date(2018, 11, 20))
    assert early != build_calendar(reg, st, {}, ("all", None), date(2018, 10, 1))  # m1 not yet overdue


def test_alarm_days_setting(tmp_path):
    body = build_calendar(registry(tmp_path / "a", ("cw-01",), alarm=7), {}, {}, ("all", None), NOW)
    assert b"TRIGGER:-P7D" in body
    body = build_calendar(registry(tmp_path / "b", ("cw-01",), alarm=0), {}, {}, ("all", None), NOW)
    assert b"VALARM" not in body
    parse(body)


def test_scopes(tmp_path):
    reg = registry(tmp_path)

    def ids(scope):
        wanted = scope_filter(reg, scope)
        return {t.id for t in reg.tasks if wanted(t)}

    assert ids(("all", None)) == set(ALL)
    assert ids(("unit", "巩义市")) == {"cw-01", "cw-05"}
    assert ids(("unit", "荥阳市")) == {"cw-01", "ws-01"}
    assert ids(("unit", "各县(市、区)政府")) == {"cw-01", "cw-05", "ws-01"}  # the group and its members
    assert ids(("unit", "市卫计委")) == {"cw-04"}
    assert ids(("doc", DOC2)) == {"ws-01"}
    assert ids(("units", ("市卫计委", "巩义市"))) == {"cw-01", "cw-04", "cw-05"}
    assert ids(("units", ())) == set()


def test_empty_feed_is_valid(tmp_path):
    reg = registry(tmp_path)
    feed = build_feed(reg, {}, {}, ("units", ()), NOW)
    assert feed.components == 0 and feed.last_modified is None
    parse(feed.body)


def test_large_feed_is_valid(tmp_path):
    """A large feed stays valid (long Chinese lines folded on UTF-8 boundaries)."""
    reg = registry(tmp_path)
    tasks = [t for t in reg.tasks]
    from dataclasses import replace
    many = tuple(replace(tasks[0], id=f"x-{i}", title=tasks[0].title * 3) for i in range(300))
    big = replace(reg, tasks=many, by_id={})
    cal = parse(build_calendar(big, {}, {}, ("all", None), NOW))
    assert len(cal.walk("VEVENT")) == 600


def test_memo_reuses_unchanged_items_and_gives_the_same_bytes(tmp_path):
    reg = registry(tmp_path)
    memo, st = {}, states_for(reg)
    first = build_feed(reg, st, {}, ("all", None), NOW, memo=memo)
    assert memo and first.body == build_calendar(reg, st, {}, ("all", None), NOW)
    st["cw-04"] = state("cw-04", "done", 1, T0 + timedelta(days=1), done_at=T0)
    size = len(memo)
    second = build_feed(reg, st, {}, ("all", None), NOW, memo=memo)
    assert len(memo) == size + 1  # only the changed task was rendered again
    assert second.body == build_calendar(reg, st, {}, ("all", None), NOW) != first.body
