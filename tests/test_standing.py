"""Digests tell the whole state (every open overdue item of the chat's units), and a catch-up never tells a
chat the same item twice within a minute (issue 11, findings 2 and 3)."""

import asyncio
from datetime import datetime, timedelta

from taskbot.clock import Clock
from taskbot.delivery import TickReport
from taskbot.runlog import after_send, next_reminders, stopped
from taskbot.standing import overdue_items
from tests.test_reminders import TASKS, TZ, Recorder, service, t, write_registry

MORE = TASKS + """\
  - {id: cw-05, doc: 郑政文〔2018〕143号, title: 清理积存垃圾, lead: [市城管局], due: 2018-07-31}
  - {id: cw-06, doc: 郑政文〔2018〕143号, title: 完成规划初稿, lead: [中原区], due: 2018-09-27,
     milestones: [{due: 2018-09-14, title: 完成调研}]}
"""


def items_told(sent, chat):
    """The items (id and title) listed in the digests to a chat, in order."""
    return [" ".join(line.split()[1:3]) for c, text in sent if c == chat for line in text.splitlines()
            if line[:2] in ("🔴 ", "🟠 ", "🟡 ", "🟢 ") and line.split()[1].startswith("cw-")]


def test_the_overdue_section_lists_every_open_overdue_item_oldest_first_whatever_triggered_the_digest(tmp_path):
    cfg, rec, clock = write_registry(tmp_path, MORE), Recorder(), Clock(t(28, 8, 59), frozen=True)
    svc = service(cfg, clock, rec)
    svc.store.upsert_chat(4, "private", None, clock.now())
    svc.store.join(4, "市城管局", 4, clock.now())
    svc.store.set_lang(4, "en")
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())  # 09-28: cw-01 is due; neither cw-05's nor cw-02's weekly overdue repeat falls today
    sent = dict(rec.sent)
    assert sent[1] == "\n".join([
        "📋 督办事项提醒 · 2018-09-28",
        "", "🔴 已逾期 (2)", "🔴 cw-05 清理积存垃圾 · 2018-07-31 · 逾期59天 · 牵头",
        "🔴 cw-02 建立台账 · 2018-08-31 · 逾期28天 · 牵头",
        "", "🟠 今日到期 (1)", "🟠 cw-01 编制规划 · 2018-09-28 · 今日到期 · 牵头",
        "", "详情:/task 编号 · 报进展:/progress 编号 内容"])
    assert sent[4] == "\n".join([
        "📋 Task reminders · 2018-09-28",
        "", "🔴 Overdue (2)", "🔴 cw-05 清理积存垃圾 · 2018-07-31 · 59 days overdue · lead",
        "🔴 cw-02 建立台账 · 2018-08-31 · 28 days overdue · lead",
        "", "🟠 Due today (1)", "🟠 cw-01 编制规划 · 2018-09-28 · due today · lead",
        "", "Details: /task ID · progress: /progress ID TEXT"])
    # 中原区: responsible for cw-01; its own overdue item cw-06 (the task, due yesterday) is listed too
    assert items_told(rec.sent, 2) == ["cw-06 完成规划初稿", "cw-01 编制规划"]


def test_overdue_items_name_a_late_milestone_until_the_next_date_of_its_task(tmp_path):
    cfg = write_registry(tmp_path, MORE)
    from taskbot.registry import load_registry

    registry = load_registry(cfg.registry, cfg.units)
    at = t(20)
    assert [r.item for r in overdue_items(registry, {}, at.date(), at)] == ["cw-05", "cw-02", "cw-06#1"]
    assert [r.item for r in overdue_items(registry, {}, t(28).date(), at)] == ["cw-05", "cw-02", "cw-06"]


def test_a_catch_up_just_before_a_send_time_is_merged_with_it_and_tells_each_item_once(tmp_path):
    cfg, rec = write_registry(tmp_path, MORE), Recorder()
    clock = Clock(datetime(2018, 8, 24, 8, 59, tzinfo=TZ), frozen=True)
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=2))
    asyncio.run(svc.tick())
    svc.store.close()
    # stopped; started again on Mon 09-03 at 08:59:30, the same database: what was missed, then the 09:00 send time
    clock = Clock(t(3, 8, 59) + timedelta(seconds=30), frozen=True)
    rec = Recorder()
    svc = service(cfg, clock, rec)
    assert svc.next_wake() < clock.now()
    assert next_reminders(svc.next_wake(), clock.now(), TZ) == \
        "next reminders at 2018-09-03T08:59:30+08:00 (now: due since 2018-08-28T09:00:00+08:00, missed while the bot " \
        "was stopped)"
    first = asyncio.run(svc.tick())
    assert first.catch_up and sorted(c for c, _ in rec.sent) == [1, 2, 3, 900]
    for _ in range(4):  # 09:00:00 and the sweeps after it
        clock.advance(timedelta(seconds=30))
        asyncio.run(svc.tick())
    for chat in (1, 2, 3):
        told = items_told(rec.sent, chat)
        assert len(told) == len(set(told)), (chat, told)
    assert [c for c, _ in rec.sent].count(1) == 1  # 市城管局: one digest with cw-02 (its 09-03 repeat) and cw-05
    assert items_told(rec.sent, 1) == ["cw-05 清理积存垃圾", "cw-02 建立台账", "cw-01 编制规划"]
    assert next_reminders(svc.next_wake(), clock.now(), TZ).startswith("next reminders at 2018-09-")


def test_the_run_lines_after_a_send_time_and_on_stop():
    report = TickReport(t(3), reminders=5, chats=4, messages=5, failed_chats=[7], deactivated=[8])
    assert after_send(report, t(4), TZ) == (
        "send time 2018-09-03T09:00:00+08:00: 2 digest(s) sent (5 message(s)) to 4 chat(s), 1 failed, "
        "1 chat(s) gone (deactivated); next send time 2018-09-04T09:00:00+08:00")
    assert after_send(TickReport(t(3)), t(4), TZ) is None
    assert stopped({}, t(4), TZ) == "taskbot: stopped; nothing pending; next reminders at 2018-09-04T09:00:00+08:00"
    assert stopped({"a": type("D", (), {"chat_id": 1})(), "b": type("D", (), {"chat_id": 1})()}, None, TZ) == (
        "taskbot: stopped; 2 reminder(s) to 1 chat(s) were pending (sent on the next start: the ledger has not "
        "recorded them)")


def test_a_chat_that_asked_for_the_list_gets_its_check_ins_listed(tmp_path):
    cfg, rec, clock = write_registry(tmp_path, MORE), Recorder(), Clock(t(3, 8, 59), frozen=True)
    svc = service(cfg, clock, rec)
    svc.store.set_meta("checkins:2", "list")  # what /checkins list stores
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())  # Mon 09-03: the monthly check-in of cw-03 (undated, 中原区)
    sent = dict(rec.sent)
    assert "⚪ 进展填报 (1)\n⚪ cw-03 长效管理 · — · 无时限 · 牵头" in sent[2]
    svc.store.set_meta("checkins:2", None)
    rec.sent.clear()
    svc.agenda.reopen("cw-03", t(3, 8, 59))
    svc.store.m.Delivery.delete().execute()
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())
    assert "⚪ 1 项长期任务请按月报进展: /tasks" in dict(rec.sent)[2]
