"""The weekly report (settings.reports.weekly): sent by the running bot with sendDocument through the real PTB
client against the Bot API emulator, once per week, caught up after downtime; written to a file without a token."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from taskbot.board.weekly import CONSOLE, WeeklyReports, console_sender, last_slot, telegram_sender
from taskbot.clock import Clock
from taskbot.config import Config
from taskbot.model import Reports
from taskbot.registry import check_files, load_registry
from taskbot.service import Service
from taskbot.store import Store

from .test_bot import COORD, TASKS, UNITS, running

CST = timezone(timedelta(hours=8))
ROOT = Path(__file__).resolve().parent.parent
WEEKLY = TASKS.replace("  coordinators: [900001]\n", "  coordinators: [900001]\n  reports: {weekly: monday 09:30}\n")


def test_last_slot():
    r = Reports(weekday=0, at=datetime(2018, 1, 1, 9, 30).time())
    tz = timezone(timedelta(hours=8))
    assert last_slot(r, datetime(2018, 9, 3, 9, 29, tzinfo=tz), tz) == datetime(2018, 8, 27, 9, 30, tzinfo=tz)
    assert last_slot(r, datetime(2018, 9, 3, 9, 30, tzinfo=tz), tz) == datetime(2018, 9, 3, 9, 30, tzinfo=tz)
    assert last_slot(r, datetime(2018, 9, 9, 23, 0, tzinfo=tz), tz) == datetime(2018, 9, 3, 9, 30, tzinfo=tz)
    assert last_slot(Reports(), datetime(2018, 9, 9, tzinfo=tz), tz) is None


@pytest.fixture
def cfg(tmp_path):
    (tmp_path / "tasks.yaml").write_text(WEEKLY, encoding="utf-8")
    (tmp_path / "units.yaml").write_text(UNITS, encoding="utf-8")
    return Config(registry=str(tmp_path / "tasks.yaml"), units=str(tmp_path / "units.yaml"),
                  db=str(tmp_path / "taskbot.sqlite3"), token="123456:TEST", http="127.0.0.1:0",
                  outbox=str(tmp_path / "outbox.jsonl"))


def test_weekly_report_is_sent_once_per_week_and_caught_up_after_downtime(cfg):
    async def body():
        async with running(cfg) as env:
            bot = env.svc.dispatcher.transport.bot
            weekly = WeeklyReports(env.svc, telegram_sender(bot))
            first = await weekly.check()  # the slot of 08-27 (before START): sent as the week in course
            assert first == [COORD] and env.emu.documents[-1]["filename"] == "督查通报-2018-08-27.xlsx"
            assert await weekly.check() == []  # once
            env.clock.advance(datetime(2018, 9, 3, 9, 30, tzinfo=CST) - env.clock.now())
            assert await weekly.check() == [COORD]
            doc = env.emu.documents[-1]
            assert doc["chat_id"] == COORD and doc["filename"] == "督查通报-2018-09-03.xlsx"
            assert doc["caption"] == "督查通报(截至2018-09-03):督办事项3项,已逾期1项,本周完成0项。"
            wb = load_workbook(io.BytesIO(doc["content"]))
            assert wb.sheetnames[0] == "概况" and [r[0] for r in wb["本周新增逾期"].iter_rows(min_row=2, values_only=True)] == ["cw-03"]
            assert await weekly.check() == []
            # down from Monday 09-10 08:00 to Wednesday 09-19: only the latest week (09-17) is sent, once
            env.clock.advance(datetime(2018, 9, 19, 10, 0, tzinfo=CST) - env.clock.now())
            assert await weekly.check() == [COORD] and await weekly.check() == []
            assert [d["filename"] for d in env.emu.documents][-1] == "督查通报-2018-09-17.xlsx"
            assert len(env.emu.documents) == 3
            assert env.store.sent_keys([f"report:weekly|weekly|{COORD}|2018-09-17"])
            # a failed send is retried at the next check and recorded once
            env.clock.advance(timedelta(days=5))  # Monday 09-24 10:00
            env.emu.fail_next("sendDocument", 500)
            assert await weekly.check() == []
            assert await weekly.check() == [COORD]
            assert await weekly.check() == []  # recorded: not sent a second time
            assert [d["filename"] for d in env.emu.documents][3:] == ["督查通报-2018-09-24.xlsx"]
            assert env.store.sent_keys([f"report:weekly|weekly|{COORD}|2018-09-24"])
    asyncio.run(asyncio.wait_for(body(), 60))


def test_console_mode_writes_the_report_and_says_so(cfg, tmp_path, capsys):
    async def body():
        store = Store.open(cfg.db)
        clock = Clock(datetime(2018, 9, 3, 10, 0, tzinfo=CST), frozen=True)
        svc = Service(cfg, clock, store, load_registry(cfg.registry, cfg.units))
        weekly = WeeklyReports(svc, console_sender(str(tmp_path / "reports")), chats=lambda: [CONSOLE])
        assert await weekly.check() == [CONSOLE] and await weekly.check() == []
        store.close()
    asyncio.run(body())
    out = capsys.readouterr().out
    path = tmp_path / "reports" / "督查通报-2018-09-03.xlsx"
    assert path.exists() and f"taskbot: weekly report written to {path} (no Telegram token" in out


def test_check_names_a_bad_weekly_setting(tmp_path):
    (tmp_path / "tasks.yaml").write_text(TASKS.replace("  coordinators: [900001]\n",
                                                       "  coordinators: [900001]\n  reports: {weekly: mon 9am, format: pdf}\n"),
                                         encoding="utf-8")
    (tmp_path / "units.yaml").write_text(UNITS, encoding="utf-8")
    registry, diagnostics = check_files(str(tmp_path / "tasks.yaml"), str(tmp_path / "units.yaml"))
    assert registry is None
    assert [str(d).split(": ", 1)[1] for d in diagnostics] == [
        "error: weekly must be a weekday and a time HH:MM, e.g. monday 09:00, got 'mon 9am'; weekdays: monday … sunday (or 周一 … 周日)",
        "error: unknown report format 'pdf'; valid choices: xlsx, html"]
    assert str(diagnostics[0]).startswith(f"{tmp_path / 'tasks.yaml'}:4:")


def test_taskbot_run_without_a_token_writes_the_weekly_report(cfg, tmp_path, capsys):
    from taskbot.app import serve

    cfg.token, cfg.clock = None, datetime(2018, 9, 3, 10, 0, tzinfo=CST)
    cfg.outbox = str(tmp_path / "out" / "outbox.jsonl")
    path = tmp_path / "out" / "督查通报-2018-09-03.xlsx"

    async def body():
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(cfg, load_registry(cfg.registry, cfg.units), stop, lambda svc: ready.set()))
        await asyncio.wait_for(ready.wait(), 30)

        async def written():
            while not path.exists():
                await asyncio.sleep(0.02)
        try:
            await asyncio.wait_for(written(), 30)  # the weekly loop's first check runs at start
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    asyncio.run(body())
    assert load_workbook(path).sheetnames[0] == "概况"
    assert f"taskbot: weekly report written to {path} (no Telegram token, so it is not sent)" in capsys.readouterr().out
