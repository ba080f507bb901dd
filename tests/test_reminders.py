"""Reminders end to end in the core: ledger across real restarts, catch-up after downtime, reload."""

import asyncio
import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from taskbot.clock import Clock
from taskbot.config import Config
from taskbot.delivery import ChatGone, ConsoleTransport
from taskbot.registry import load_registry
from taskbot.service import NotAllowed, Service
from taskbot.store import Store

TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent

UNITS = """\
units:
  - {name: 市城管局, full_name: 郑州市城市管理局, aliases: [城管局], kind: department}
  - {name: 中原区, full_name: 郑州市中原区, kind: district}
  - {name: 二七区, full_name: 郑州市二七区, kind: district}
groups:
  - {name: 各区政府, members: [中原区, 二七区]}
"""

TASKS = """\
settings:
  coordinators: [900]
documents:
  - {number: 郑政文〔2018〕143号, title: 方案, issued: 2018-08-07, issuer: 郑州市人民政府}
tasks:
  - {id: cw-01, doc: 郑政文〔2018〕143号, title: 编制规划, lead: [市城管局], responsible: [各区政府], due: 2018-09-28}
  - {id: cw-02, doc: 郑政文〔2018〕143号, title: 建立台账, lead: [市城管局], due: 2018-08-31}
  - {id: cw-03, doc: 郑政文〔2018〕143号, title: 长效管理, lead: [中原区]}
"""


class Recorder:
    """A transport that keeps what it was given; can refuse chats like Telegram would."""

    def __init__(self, blocked=(), failing=()):
        self.sent, self.blocked, self.failing = [], set(blocked), set(failing)

    async def send(self, chat_id, part, coordinator):
        if chat_id in self.blocked:
            raise ChatGone("Forbidden: bot was blocked by the user")
        if chat_id in self.failing:
            raise TimeoutError("timed out")
        self.sent.append((chat_id, part.text))
        return len(self.sent)


def write_registry(tmp_path, tasks=TASKS):
    (tmp_path / "tasks.yaml").write_text(tasks, encoding="utf-8")
    (tmp_path / "units.yaml").write_text(UNITS, encoding="utf-8")
    return Config(registry=str(tmp_path / "tasks.yaml"), units=str(tmp_path / "units.yaml"),
                  db=str(tmp_path / "state.sqlite3"))


def service(cfg, clock, transport):
    store = Store.open(cfg.db)
    for chat, unit in ((1, "市城管局"), (2, "中原区"), (3, "二七区")):
        store.upsert_chat(chat, "private", None, clock.now())
        store.join(chat, unit, chat, clock.now())
    store.upsert_chat(900, "private", None, clock.now())
    return Service(cfg, clock, store, load_registry(cfg.registry, cfg.units), transport)


def t(day, hh=9, mm=0):
    return datetime(2018, 9, day, hh, mm, tzinfo=TZ)


def test_fresh_install_does_not_treat_the_past_as_missed(tmp_path):
    cfg, rec = write_registry(tmp_path), Recorder()
    svc = service(cfg, Clock(t(28, 8), frozen=True), rec)
    report = asyncio.run(svc.tick())
    assert report.messages == 0 and rec.sent == []
    assert svc.store.last_tick() == t(28, 8)


def test_a_digest_goes_out_once_per_chat_at_the_send_time(tmp_path):
    cfg, rec, clock = write_registry(tmp_path), Recorder(), Clock(t(28, 8, 59), frozen=True)
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    report = asyncio.run(svc.tick())
    # 09-28 is cw-01's due date: lead 市城管局 (chat 1), responsible 中原区/二七区 (chats 2, 3)
    assert sorted(c for c, _ in rec.sent) == [1, 2, 3] and report.catch_up is False
    text = dict(rec.sent)[2]
    assert "🟠 今日到期 (1)" in text and "cw-01 编制规划 · 2018-09-28 · 今日到期 · 责任" in text
    assert asyncio.run(svc.tick()).messages == 0  # nothing twice
    assert len(rec.sent) == 3


def test_catch_up_after_72_hours_is_one_digest_per_chat_without_stale_notes(tmp_path):
    cfg, rec, clock = write_registry(tmp_path), Recorder(), Clock(t(24, 8), frozen=True)
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    clock.advance(timedelta(hours=72))  # down from Mon 09-24 08:00 to Thu 09-27 08:00... and on to 10:00
    clock.advance(timedelta(hours=2))
    report = asyncio.run(svc.tick())
    assert report.catch_up is True
    chats = [c for c, _ in rec.sent]
    assert sorted(chats) == sorted(set(chats)), "one digest per chat"
    lead = dict(rec.sent)[1]
    assert "补发" in lead
    # cw-02 (due 08-31) overdue: kept; cw-01 due 09-28: its before:3 note of 09-25 is still relevant
    assert "cw-02 建立台账 · 2018-08-31 · 逾期27天" in lead and "cw-01 编制规划 · 2018-09-28 · 剩余1天" in lead
    coordinator = dict(rec.sent)[900]
    assert "逾期事项(按单位)" in coordinator and "cw-02" in coordinator


def test_stale_pre_deadline_notes_are_dropped_after_downtime(tmp_path):
    cfg, rec, clock = write_registry(tmp_path), Recorder(), Clock(t(20, 8), frozen=True)
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    clock.advance(timedelta(days=10, hours=2))  # 09-30 10:00: cw-01's before-notes and due day have passed
    asyncio.run(svc.tick())
    lead = dict(rec.sent)[1]
    assert "剩余" not in lead and "cw-01 编制规划 · 2018-09-28 · 逾期2天" in lead


def test_blocked_chat_is_deactivated_and_failed_chat_retried_without_loss(tmp_path):
    cfg, clock = write_registry(tmp_path), Clock(t(28, 8, 59), frozen=True)
    rec = Recorder(blocked={2}, failing={3})
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    report = asyncio.run(svc.tick())
    assert report.deactivated == [2] and report.failed_chats == [3]
    assert svc.store.chat(2).active is False and 2 not in sum(svc.store.members().values(), [])
    rec.failing.clear()
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())
    assert sorted(c for c, _ in rec.sent) == [1, 3]


def test_only_coordinators_change_status_and_done_items_get_nothing(tmp_path):
    cfg, rec, clock = write_registry(tmp_path), Recorder(), Clock(t(28, 8, 59), frozen=True)
    svc = service(cfg, clock, rec)
    with pytest.raises(NotAllowed):
        svc.set_status("cw-01", "done", 1)
    assert svc.store.task_state("cw-01").status == "open"
    svc.set_status("CW-01", "done", 900, "已完成")
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())
    assert rec.sent == []
    assert [(a.action, a.actor) for a in svc.store.audit_log("cw-01")][:1] == [("status", "900")]


def test_reload_with_an_invalid_registry_keeps_the_previous_one(tmp_path):
    cfg, rec, clock = write_registry(tmp_path), Recorder(), Clock(t(28, 8), frozen=True)
    svc = service(cfg, clock, rec)
    before = svc.registry
    Path(cfg.registry).write_text(TASKS.replace("lead: [中原区]", "lead: [中原]"), encoding="utf-8")
    result = svc.reload()
    assert result.ok is False and svc.registry is before
    assert [str(d).split(": ", 1)[1] for d in result.diagnostics] == [
        "error: unknown unit '中原'; did you mean 中原区?"]
    Path(cfg.registry).write_text(TASKS.replace("  - {id: cw-03, doc: 郑政文〔2018〕143号, title: 长效管理, lead: [中原区]}\n", ""),
                                  encoding="utf-8")
    result = svc.reload()
    assert result.ok and "withdrawn 1" in result.summary
    assert svc.store.task_state("cw-03").withdrawn is True and "cw-03" not in svc.registry.by_id


CHILD = textwrap.dedent("""
    import asyncio, json, os, sys
    from datetime import datetime
    from taskbot.clock import Clock
    from taskbot.config import Config
    from taskbot.registry import load_registry
    from taskbot.service import Service
    from taskbot.store import Store

    tmp, crash_after = sys.argv[1], int(sys.argv[2])
    cfg = Config(registry=tmp + "/tasks.yaml", units=tmp + "/units.yaml", db=tmp + "/state.sqlite3")

    class Log:
        count = 0
        async def send(self, chat_id, part, coordinator):
            with open(tmp + "/wire.jsonl", "a") as fh:
                fh.write(json.dumps({"chat": chat_id}) + "\\n")
            Log.count += 1
            if Log.count == crash_after:
                os._exit(9)  # dies after the transport accepted, before the ledger recorded
            return Log.count

    clock = Clock(datetime.fromisoformat(sys.argv[3]), frozen=True)
    store = Store.open(cfg.db)
    svc = Service(cfg, clock, store, load_registry(cfg.registry, cfg.units), Log())
    report = asyncio.run(svc.tick())
    print(json.dumps({"messages": report.messages, "recorded": report.recorded}))
""")


def test_ledger_survives_a_real_process_crash_and_restart(tmp_path):
    cfg, clock = write_registry(tmp_path), Clock(t(28, 8, 59), frozen=True)
    svc = service(cfg, clock, Recorder())
    asyncio.run(svc.tick())  # 08:59: first tick of this install
    svc.store.close()

    def child(crash_after, when):
        return subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(crash_after), when.isoformat()],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)

    first = child(2, t(28, 9, 1))  # sends chat A, dies right after sending chat B
    assert first.returncode == 9
    second = child(0, t(28, 9, 2))
    assert second.returncode == 0, second.stderr
    third = child(0, t(28, 9, 3))
    assert json.loads(third.stdout) == {"messages": 0, "recorded": 0}
    wire = [json.loads(line)["chat"] for line in (tmp_path / "wire.jsonl").read_text().splitlines()]
    assert sorted(set(wire)) == [1, 2, 3]  # nothing lost
    assert len(wire) - len(set(wire)) <= 1  # at most the one message in flight at the crash is repeated


def test_console_transport_says_what_it_would_send(tmp_path, capsys):
    outbox = tmp_path / "outbox.jsonl"
    transport = ConsoleTransport(str(outbox), clock=Clock(t(28), frozen=True))
    from taskbot.digest import DigestPart

    asyncio.run(transport.send(5, DigestPart("hello", ("cw-01",)), False))
    assert capsys.readouterr().out == "--- would send to chat 5 ---\nhello\n\n"
    assert json.loads(outbox.read_text()) == {"chat_id": 5, "text": "hello", "tasks": ["cw-01"],
                                              "at": "2018-09-28T09:00:00+08:00"}


def test_the_sweep_reloads_when_the_registry_file_changes(tmp_path):
    import os

    from taskbot.scheduler import ReminderScheduler

    cfg, rec, clock = write_registry(tmp_path), Recorder(), Clock(t(28, 8), frozen=True)
    svc = service(cfg, clock, rec)
    sched = ReminderScheduler(svc)
    asyncio.run(sched.sweep_job())
    assert set(svc.registry.by_id) == {"cw-01", "cw-02", "cw-03"}
    Path(cfg.registry).write_text(TASKS.replace("id: cw-03", "id: cw-04"), encoding="utf-8")
    st = os.stat(cfg.registry)
    os.utime(cfg.registry, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    asyncio.run(sched.sweep_job())
    assert set(svc.registry.by_id) == {"cw-01", "cw-02", "cw-04"}
    assert svc.store.task_state("cw-03").withdrawn is True


def test_a_deadline_that_passed_during_downtime_is_caught_up_as_overdue(tmp_path):
    cfg, rec, clock = write_registry(tmp_path), Recorder(), Clock(t(25, 8), frozen=True)
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    # down from Tue 09-25 08:00 to Sat 09-29 08:30 (an adjusted workday), before that day's 09:00 notes;
    # cw-01 is due Fri 09-28: its before-notes and due-day note went out while down
    clock.advance(timedelta(days=4, minutes=30))
    report = asyncio.run(svc.tick())
    assert report.catch_up
    lead = dict(rec.sent)[2]
    assert "🔴 已逾期 (1)" in lead and "cw-01 编制规划 · 2018-09-28 · 逾期1天 · 责任" in lead
    assert "剩余" not in lead


def test_a_chat_that_keeps_failing_does_not_turn_later_ticks_into_catch_ups(tmp_path):
    cfg, clock = write_registry(tmp_path), Clock(t(27, 8, 59), frozen=True)
    rec = Recorder(failing={3})
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())  # Thu 09-27 09:00: cw-01's before:1 note fails for chat 3 and stays pending
    for _ in range(4):  # the process keeps sweeping every 5 minutes; chat 3 keeps failing
        clock.advance(timedelta(minutes=5))
        report = asyncio.run(svc.tick())
        assert report.catch_up is False and report.failed_chats == [3]
    assert svc.store.last_tick() < t(27, 9)  # held back 20 minutes, so that a restart would retry chat 3
    rec.failing.clear()
    clock.advance(timedelta(minutes=5))
    report = asyncio.run(svc.tick())
    assert report.catch_up is False and report.recorded == 1
    assert rec.sent[-1][0] == 3 and "补发" not in rec.sent[-1][1] and "剩余1天" in rec.sent[-1][1]
    assert svc.store.last_tick() == clock.now()


def test_a_long_digest_confirms_each_part_so_a_failure_never_resends_the_first(tmp_path):
    many = "".join(f"  - {{id: m-{i:03d}, doc: 郑政文〔2018〕143号, title: {'建筑垃圾治理' * 20}{i}, lead: [市城管局], "
                   f"due: 2018-09-28}}\n" for i in range(120))
    cfg, clock = write_registry(tmp_path, TASKS + many), Clock(t(28, 8, 59), frozen=True)

    class SecondPartFails(Recorder):
        async def send(self, chat_id, part, coordinator):
            if chat_id == 1 and len([c for c, _ in self.sent if c == 1]) == 1 and self.failing:
                raise TimeoutError("timed out")
            return await super().send(chat_id, part, coordinator)

    rec = SecondPartFails(failing={"once"})
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    report = asyncio.run(svc.tick())
    first = [text for c, text in rec.sent if c == 1]
    assert len(first) == 1 and report.failed_chats == [1]
    rec.failing.clear()
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())
    to_lead = [text for c, text in rec.sent if c == 1]
    assert len(to_lead) >= 2
    listed = [line.split()[1] for text in to_lead for line in text.splitlines()
              if line.startswith("🟠 ") and not line.startswith("🟠 今日到期")]
    assert len(listed) == len(set(listed)) > 20  # no item twice (the digest lists up to MAX_LINES lines)


def test_a_retried_digest_is_in_the_chats_language(tmp_path):
    cfg, clock = write_registry(tmp_path), Clock(t(28, 8, 59), frozen=True)
    rec = Recorder(failing={3})
    svc = service(cfg, clock, rec)
    svc.store.set_lang(3, "en")
    asyncio.run(svc.tick())
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())
    rec.failing.clear()
    clock.advance(timedelta(minutes=1))
    asyncio.run(svc.tick())  # nothing new is due: only the pending retry goes out
    assert [c for c, _ in rec.sent] == [1, 2, 3]
    assert "🟠 cw-01 编制规划 · 2018-09-28 · due today · responsible" in dict(rec.sent)[3]
    assert "今日到期 · 责任" in dict(rec.sent)[2]


def test_set_status_says_whether_anything_changed(tmp_path):
    cfg, clock = write_registry(tmp_path), Clock(t(28, 8), frozen=True)
    svc = service(cfg, clock, Recorder())
    events = []
    svc.listeners.append(lambda event, task_id: events.append((event, task_id)))
    assert svc.set_status("cw-01", "done", 900) is True
    assert svc.set_status("cw-01", "done", 900) is False  # already done: no announcement
    assert svc.set_status("cw-01", "open", 900) is True
    assert events == [("status", "cw-01"), ("status", "cw-01")]


def test_a_status_changed_by_another_process_reaches_the_running_agenda(tmp_path):
    """`taskbot done`/`undo` from the shell (or another instance) write the store; the running bot follows."""
    only = TASKS.replace("  - {id: cw-02, doc: 郑政文〔2018〕143号, title: 建立台账, lead: [市城管局], due: 2018-08-31}\n", "")
    cfg, rec, clock = write_registry(tmp_path, only), Recorder(), Clock(t(20, 8), frozen=True)
    svc = service(cfg, clock, rec)
    asyncio.run(svc.tick())
    shell = Store.open(cfg.db)  # the CLI's own connection to the same file
    shell.set_status("cw-01", "done", "cli:operator", None, t(20, 8, 30))
    for day in range(21, 31):  # the bot runs on: cw-01's notes and due day pass while it is done
        clock.advance(t(day, 9, 1) - clock.now())
        asyncio.run(svc.tick())
    assert not any("cw-01" in text for _, text in rec.sent)
    shell.set_status("cw-01", "open", "cli:operator", None, datetime(2018, 10, 1, 10, 0, tzinfo=TZ))
    shell.close()
    for day in range(8, 16):  # after the National Day week the reopened item is overdue, and its lead is told
        clock.advance(datetime(2018, 10, day, 9, 1, tzinfo=TZ) - clock.now())
        asyncio.run(svc.tick())
    lead = [text for chat, text in rec.sent if chat == 1]
    assert lead and "cw-01 编制规划 · 2018-09-28 · 逾期" in lead[0]
