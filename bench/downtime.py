"""Reliability 2: downtime. The bot (`python bot.py --clock ...` against the Bot API emulator process)
runs Monday 2018-09-03 09:00 (sends that day's reminders), stops, stays down 72 hours, and restarts with
the clock carried forward to Thursday 09:00 + a few seconds. Checked from the emulator's log and the
delivery ledger, against the planner's own list of what fell due while it was down:

- one catch-up digest per chat (exactly one message after the restart, with the catch-up header);
- nothing overdue dropped: every overdue or escalation reminder of the downtime reaches its chat;
- no stale pre-deadline notes: nothing whose date passed before the restart day is delivered as a
  before/due/recurring note (e.g. a task due Wednesday at 10:00 is not caught up on Thursday 09:00:
  its overdue reminder is due at Thursday 10:00).

    python3 bench/downtime.py [--hours 72]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash import read_log, wait_for_line  # noqa: E402
from harness import ROOT, TOKEN, UNITS, free_port, stop_processes, write  # noqa: E402

from taskbot.i18n import tr  # noqa: E402
from taskbot.planning import recipients, reminders  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.store import Store  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
COORD = 900
D = "郑政文〔2018〕143号"
TASKS = f"""\
settings:
  coordinators: [{COORD}]
documents:
  - {{number: {D}, title: 方案, issued: 2018-08-07, issuer: 郑州市人民政府}}
tasks:
  - {{id: due-tue, doc: {D}, title: 周二到期, lead: [市城管局], due: 2018-09-04}}
  - {{id: due-wed, doc: {D}, title: 周三到期, lead: [中原区], responsible: [市城管局], due: 2018-09-05}}
  - {{id: due-wed-10, doc: {D}, title: 周三十点到期, lead: [二七区], due: 2018-09-05, reminders: {{at: "10:00"}}}}
  - {{id: due-thu, doc: {D}, title: 周四到期, lead: [中原区], due: 2018-09-06}}
  - {{id: due-fri, doc: {D}, title: 周五到期, lead: [各区政府], due: 2018-09-07}}
  - {{id: due-next, doc: {D}, title: 下周到期, lead: [市城管局], due: 2018-09-12}}
  - {{id: old-overdue, doc: {D}, title: 早已逾期, lead: [二七区], cooperating: [市城管局], due: 2018-08-27}}
  - {{id: ms, doc: {D}, title: 分阶段, lead: [中原区], due: 2018-09-30,
     milestones: [{{due: 2018-09-04, title: 第一阶段}}, {{due: 2018-09-30, title: 完成}}]}}
  - {{id: monthly, doc: {D}, title: 月报, lead: [二七区], every: "monthly:5"}}
  - {{id: ongoing, doc: {D}, title: 长效管理, lead: [市城管局]}}
"""
LIAISONS = [(1, "市城管局"), (2, "市城管局"), (3, "中原区"), (4, "二七区")]
START = datetime(2018, 9, 3, 8, 59, 56, tzinfo=TZ)  # Monday


def main(argv=None) -> int:
    met = False
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=72)
    a = ap.parse_args(argv)
    work = tempfile.mkdtemp(prefix="taskbot-downtime-")
    emu = bot = None
    t_start = time.monotonic()
    try:
        reg, units = write(os.path.join(work, "tasks.yaml"), TASKS), write(os.path.join(work, "units.yaml"), UNITS)
        registry = load_registry(reg, units)
        db = os.path.join(work, "state.sqlite3")
        store = Store.open(db)
        for chat, unit in LIAISONS:
            store.upsert_chat(chat, "private", None, START - timedelta(days=7))
            store.join(chat, unit, chat, START - timedelta(days=7))
        store.upsert_chat(COORD, "private", None, START - timedelta(days=7))
        store.close()
        log, emu_out = os.path.join(work, "emulator.jsonl"), os.path.join(work, "emu.out")
        emu = subprocess.Popen([sys.executable, "-m", "tests.tgemu", "--port", str(free_port()), "--limits",
                                "--log", log, "--token", TOKEN], cwd=ROOT, stdout=open(emu_out, "w"),
                               stderr=subprocess.STDOUT)
        api = wait_for_line(emu_out, "http://", 20, emu)
        env = {**os.environ, "TASKBOT_TELEGRAM_TOKEN": TOKEN, "TASKBOT_TELEGRAM_API_URL": api}
        http = f"127.0.0.1:{free_port()}"

        def run(clock: datetime, n: int, settle: float):
            out = os.path.join(work, f"bot{n}.out")
            real0 = time.time()
            p = subprocess.Popen([sys.executable, "bot.py", "--registry", reg, "--units", units, "--db", db,
                                  "--http", http, "--clock", clock.isoformat(), "--outbox",
                                  os.path.join(work, "outbox.jsonl")],
                                 cwd=ROOT, env=env, stdout=open(out, "w"), stderr=subprocess.STDOUT)
            wait_for_line(out, "next reminders at", 60, p)
            # until the log has been quiet for `settle` s (and at least past 09:00:00 of the clock)
            last, quiet_since = -1, time.monotonic()
            while time.monotonic() - quiet_since < settle:
                n_log = len(read_log(log))
                if n_log != last:
                    last, quiet_since = n_log, time.monotonic()
                time.sleep(0.1)
            p.send_signal(signal.SIGTERM)
            p.wait(30)
            return clock + timedelta(seconds=time.time() - real0)

        stop1 = run(START, 1, settle=6)
        sent1 = read_log(log)
        store = Store.open(db)
        last_tick = store.last_tick()
        store.close()
        restart = stop1 + timedelta(hours=a.hours)
        run(restart, 2, settle=5)
        sent2 = read_log(log)[len(sent1):]
        store = Store.open(db)
        ledger = list(store.m.Delivery.select().dicts())
        store.close()

        # what the planner says fell due while the bot was down (from the last tick to the restart's tick)
        now2 = restart  # the catch-up tick runs within a second of start: its window ends just after `restart`
        today = restart.astimezone(TZ).date()
        members = defaultdict(list)
        for chat, unit in LIAISONS:
            members[unit].append(chat)
        missed = [d for r in reminders(registry, {}, last_tick, now2 + timedelta(seconds=5))
                  for d in recipients(registry, r, members, (COORD,)) if d.chat_id is not None]
        catch_rows = [r for r in ledger if r["sent_at"] > stop1]
        delivered = {(r["item"], r["kind"], r["chat_id"]) for r in catch_rows}
        overdue = {(d.reminder.item, d.reminder.kind, d.chat_id) for d in missed
                   if d.reminder.kind in ("overdue", "escalation")}
        dropped = overdue - delivered
        due_of = {(d.reminder.item, d.reminder.kind): d.reminder.due for d in missed}
        stale = [(r["item"], r["kind"], r["chat_id"]) for r in catch_rows
                 if r["kind"] not in ("overdue", "escalation") and due_of.get((r["item"], r["kind"]))
                 and due_of[(r["item"], r["kind"])] < today]
        stale_candidates = {(d.reminder.item, d.reminder.kind) for d in missed if d.reminder.kind not in
                            ("overdue", "escalation") and d.reminder.due and d.reminder.due < today}
        per_chat = Counter(e["chat_id"] for e in sent2)
        header = tr("zh", "(catch-up: reminders missed while the bot was offline)")
        chats_due = {d.chat_id for d in missed}
        one_each = all(per_chat.get(c) == 1 for c in chats_due) and set(per_chat) <= chats_due
        headed = sum(header in e["text"] for e in sent2)

        print(f"downtime: bot up {START:%a %Y-%m-%d %H:%M:%S} .. {stop1:%H:%M:%S} ({len(sent1)} messages), down "
              f"{a.hours:g} h, restarted {restart:%a %Y-%m-%d %H:%M:%S} ({time.monotonic() - t_start:.0f} s in all)")
        print(f"  missed while down (planner, last tick {last_tick.astimezone(TZ):%a %H:%M:%S} .. restart): "
              f"{len(missed)} deliveries to {len(chats_due)} chats; {len(overdue)} overdue/escalation; "
              f"{len(stale_candidates)} pre-deadline notes of passed dates")
        print(f"  catch-up messages per chat: {dict(sorted(per_chat.items()))}; with the catch-up header {headed}/"
              f"{len(sent2)}  (target one per chat: {'met' if one_each and headed == len(sent2) else 'NOT met'})")
        print(f"  overdue/escalation dropped: {len(dropped)} of {len(overdue)}  (target 0: "
              f"{'met' if not dropped else 'NOT met'})" + (f" {sorted(dropped)}" if dropped else ""))
        print(f"  stale pre-deadline notes delivered: {len(stale)} of {len(stale_candidates)} candidates  (target 0: "
              f"{'met' if not stale else 'NOT met'})" + (f" {sorted(stale)}" if stale else ""))
        print(f"  catch-up ledger rows: {len(catch_rows)}: "
              + ", ".join(sorted({r["item"] + "/" + r["kind"] for r in catch_rows})))
        skipped = sorted({(d.reminder.item, d.reminder.kind) for d in missed} - {(i, k) for i, k, _ in delivered})
        print(f"  missed but not caught up (superseded or stale, by design): {skipped}")
        met = one_each and headed == len(sent2) and not dropped and not stale
        print(f"  overall: {'met' if met else 'NOT met'}")
    finally:
        stop_processes(bot, emu)
        shutil.rmtree(work, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
