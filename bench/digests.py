"""Benchmark 7: what digests tell, on the 2018 gazette (tasks.yaml, data/units.yaml; one virtual liaison per
unit and one coordinator chat, as the console demo runs).

1. The README demo's catch-up (issue 11, finding 3): the service runs 2018-08-24 09:00, stops, and starts
   again on the same database at 2018-09-03 08:59:30; ticks every 30 s until 09:02. Counted: digests on
   09-03, chats with more than one digest, chats told one item twice (target 0).
2. Every send time from 2018-09-03 to 2018-12-31 (finding 2): for each liaison digest, the overdue items it
   lists against the open overdue items of its unit (target: all of them, ratio 1.00), and against what its
   triggers alone named (the baseline: what a digest listed before); and the longest digest in lines
   (target at most 45 non-blank lines, the 40-line budget plus titles and the footer).

    python3 bench/digests.py [--until 2018-12-31]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT  # noqa: E402

from taskbot.app import ConsoleService, virtual_chat  # noqa: E402
from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.standing import overdue_items  # noqa: E402
from taskbot.store import Store  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
COORDINATOR = 900000001
SWEEP = timedelta(minutes=10)  # as often as a tick must come for the next not to be a catch-up
ITEM = re.compile(r"^(🔴|🟠|🟡|🟢) (\S+) (.*?) · ")


class Recorder:
    """A transport that keeps (chat, text, triggers) of every message."""

    def __init__(self):
        self.sent: list[tuple[int, str, datetime]] = []
        self.clock = None

    async def send(self, chat_id, part, coordinator):
        self.sent.append((chat_id, part.text, self.clock.now()))
        return len(self.sent)


def told(text: str) -> list[tuple[str, str, str]]:
    return [m.groups() for line in text.splitlines() if (m := ITEM.match(line))]


def start(cfg, registry, at: datetime, rec: Recorder):
    clock = Clock(at, frozen=True)
    rec.clock = clock
    store = Store.open(cfg.db)
    store.upsert_chat(COORDINATOR, "private", None, at)
    svc = ConsoleService(cfg, clock, store, registry, rec)
    return svc, clock


async def catch_up(cfg, registry) -> dict:
    rec = Recorder()
    svc, clock = start(cfg, registry, datetime(2018, 8, 24, 8, 59, tzinfo=TZ), rec)
    for _ in range(3):
        await svc.tick()
        clock.advance(timedelta(seconds=60))
    svc.store.close()
    rec.sent.clear()
    svc, clock = start(cfg, registry, datetime(2018, 9, 3, 8, 59, 30, tzinfo=TZ), rec)
    for _ in range(6):
        await svc.tick()
        clock.advance(timedelta(seconds=30))
    svc.store.close()
    per_chat = defaultdict(list)
    for chat, text, _ in rec.sent:
        per_chat[chat].append(text)
    twice = [c for c, texts in per_chat.items() if any(n > 1 for n in Counter(i for t in texts for i in told(t)).values())]
    return {"digests": len(rec.sent), "chats": len(per_chat), "more_than_one": sum(len(t) > 1 for t in per_chat.values()),
            "twice": len(twice)}


async def period(cfg, registry, until: date) -> dict:
    rec = Recorder()
    svc, clock = start(cfg, registry, datetime(2018, 9, 3, 8, 59, tzinfo=TZ), rec)
    await svc.tick()
    unit_of = {virtual_chat(u): u for u in registry.units.units}
    triggers_named = listed = should = digests = 0
    longest = 0
    day = date(2018, 9, 3)
    while day <= until:
        nine = datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ)
        while clock.now() + SWEEP < nine:  # the scheduler's sweeps: no downtime, so the 09:00 tick is no catch-up
            clock.advance(SWEEP)
            await svc.tick()
        clock.advance(nine - clock.now())
        before = len(rec.sent)
        due = list(svc.agenda._heap)  # the triggers of this send time, for the baseline
        named = defaultdict(set)
        for at, item, kind, _ in due:
            if at <= clock.now() and kind == "overdue":
                named[item].add(kind)
        await svc.tick()
        overdue = overdue_items(registry, svc.store.task_states(), day, clock.now())
        for chat, text, _ in rec.sent[before:]:
            unit = unit_of.get(chat)
            longest = max(longest, sum(1 for line in text.splitlines() if line))
            if unit is None:
                continue
            digests += 1
            mine = {r.item for r in overdue if unit in {u for name, _ in registry.by_id[r.task_id].roles()
                                                        for u in registry.units.expand(name)}}
            shown = {i for mark, i, _ in told(text) if mark == "🔴"}
            shown_tasks = {i.split("#")[0] for i in shown}
            should += len(mine)
            listed += sum(1 for i in mine if i.split("#")[0] in shown_tasks)
            triggers_named += sum(1 for i in mine if i in named)
        day += timedelta(days=1)
    svc.store.close()
    return {"digests": digests, "should": should, "listed": listed, "triggers": triggers_named, "longest": longest}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--until", type=date.fromisoformat, default=date(2018, 12, 31))
    a = ap.parse_args(argv)
    registry = load_registry(os.path.join(ROOT, "tasks.yaml"), os.path.join(ROOT, "data", "units.yaml"))
    work = tempfile.mkdtemp(prefix="taskbot-digests-")
    ok = True
    try:
        cfg = Config(registry=os.path.join(ROOT, "tasks.yaml"), units=os.path.join(ROOT, "data", "units.yaml"),
                     db=os.path.join(work, "demo.sqlite3"), coordinators=[COORDINATOR])
        t0 = time.perf_counter()
        c = asyncio.run(catch_up(cfg, registry))
        print(f"digests on the 2018 gazette ({len(registry.tasks)} tasks, {len(registry.units.units)} units)")
        print(f"  README demo catch-up (08-24 09:00, restart 09-03 08:59:30, ticks to 09:02): {c['digests']} digests "
              f"to {c['chats']} chats; chats with more than one digest {c['more_than_one']}; chats told one item "
              f"twice {c['twice']} (target 0: {'met' if c['twice'] == 0 else 'NOT met'})")
        ok &= c["twice"] == 0
        cfg.db = os.path.join(work, "period.sqlite3")
        p = asyncio.run(period(cfg, registry, a.until))
        cover = p["listed"] / p["should"] if p["should"] else 1.0
        base = p["triggers"] / p["should"] if p["should"] else 1.0
        print(f"  send times 2018-09-03..{a.until}: {p['digests']} liaison digests; open overdue items of their units "
              f"{p['should']}: listed {p['listed']} = {cover:.2f} (target 1.00: {'met' if cover == 1 else 'NOT met'}); "
              f"named by the triggers alone (the baseline) {p['triggers']} = {base:.2f}; ratio {cover / base if base else float('inf'):.1f}x")
        print(f"  longest digest: {p['longest']} non-blank lines (target <= 45: {'met' if p['longest'] <= 45 else 'NOT met'})"
              f"; {time.perf_counter() - t0:.1f} s")
        ok &= cover == 1 and p["longest"] <= 45
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
