"""Benchmark 1: delivery storm.

3,000 liaison chats (1,000 units x 3, joined in the store) each due one digest at the same minute
(bench/synth.py: 1,000 tasks due at 09:00, each led by a different unit). One Service.tick() with the
real Dispatcher, TelegramTransport and PTB Bot built by taskbot.bot.build_application (AIORateLimiter)
against the in-process BotApiEmulator(limits=True): Telegram's 30 msg/s overall and 1 msg/s per chat,
beyond them 429 with retry_after. Ticks repeat (as the scheduler's sweep would) until every delivery
is confirmed or --timeout passes.
Reports accepted messages per second from the first to the last accepted message, as a fraction of
30, and the number of 429 answers. Target: at least 0.95 of the limit and zero 429s.

    python3 bench/storm.py [--chats 3000] [--timeout 240]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402
from harness import TOKEN  # noqa: E402

from taskbot.bot import TelegramTransport, build_application  # noqa: E402
from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.service import Service  # noqa: E402
from taskbot.store import Store  # noqa: E402
from tests.tgemu import BotApiEmulator  # noqa: E402

LIMIT = 30


async def storm(chats: int, timeout: float, work: str) -> dict:
    per_unit = 3
    units = max(1, chats // per_unit)
    s = synth.make(2 * units, work, n_units=units, liaisons=units * per_unit, due_per_tick=units, ticks=1)
    registry = load_registry(s.registry, s.units)
    start = synth.tick_at(0) - timedelta(minutes=1)
    clock = Clock(start, frozen=True)
    db = os.path.join(work, "state.sqlite3")
    store = Store.open(db)
    s.join_all(store, start)
    store.set_last_tick(start)
    async with BotApiEmulator(TOKEN, limits=True, global_per_sec=LIMIT, per_chat_per_sec=1) as emu:
        cfg = Config(registry=s.registry, units=s.units, db=db, token=TOKEN, api_url=emu.base_url)
        application = build_application(cfg)
        transport = TelegramTransport(application.bot)
        confirmed_at: dict = {}
        record_sent = store.record_sent

        def timed_record_sent(rows, message_id, now):  # when the ledger holds it (for the crash window)
            record_sent(rows, message_id, now)
            t = time.monotonic()
            for row in rows:
                confirmed_at.setdefault(row[3], t)

        store.record_sent = timed_record_sent
        service = Service(cfg, clock, store, registry, transport)
        application.bot_data["service"] = service
        await application.initialize()
        try:
            clock.advance(synth.tick_at(0) - clock.now())
            t0 = time.monotonic()
            reports = []
            while True:
                reports.append(await service.tick())
                confirmed = store.m.Delivery.select().count()
                if confirmed >= len(s.liaisons) or time.monotonic() - t0 > timeout:
                    break
                clock.advance(timedelta(seconds=60))  # the next sweep: retries what is pending
            wall = time.monotonic() - t0
        finally:
            await application.shutdown()
        sends = [e for e in emu.sent]
        times = [e["t"] for e in sends]
        per_chat: dict = {}
        for e in sends:
            per_chat[e["chat_id"]] = per_chat.get(e["chat_id"], 0) + 1
        # the densest 1-second window, as the emulator counts it
        densest, j = 0, 0
        for i in range(len(times)):
            while times[i] - times[j] >= 1.0:
                j += 1
            densest = max(densest, i - j + 1)
        lags = sorted(confirmed_at[e["chat_id"]] - e["t"] for e in sends if e["chat_id"] in confirmed_at)
        out = {"lag_p50": lags[len(lags) // 2] if lags else 0, "lag_p95": lags[int(len(lags) * 0.95)] if lags else 0,
               "lag_mean": sum(lags) / len(lags) if lags else 0,
               "expected": len(s.liaisons), "accepted": len(sends), "confirmed": confirmed,
               "count_429": emu.count_429, "count_5xx": emu.count_5xx, "requests": emu.requests.get("sendMessage", 0),
               "span": (times[-1] - times[0]) if len(times) > 1 else 0.0, "wall": wall, "ticks": len(reports),
               "duplicates": sum(n - 1 for n in per_chat.values() if n > 1), "densest": densest,
               "missing": len(s.liaisons) - len(per_chat)}
    store.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", type=int, default=3000)
    ap.add_argument("--timeout", type=float, default=240.0)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    work = tempfile.mkdtemp(prefix="taskbot-storm-")
    try:
        r = asyncio.run(storm(a.chats, a.timeout, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = (r["accepted"] - 1) / r["span"] if r["span"] else 0.0
    frac = rate / LIMIT
    print(f"delivery storm: {r['expected']} chats, one digest each, due at one minute; emulator at {LIMIT} msg/s "
          f"overall, 1 msg/s per chat")
    print(f"  accepted {r['accepted']} messages in {r['span']:.1f} s (first to last accepted; tick wall "
          f"{r['wall']:.1f} s over {r['ticks']} tick(s)); confirmed in the ledger {r['confirmed']}")
    print(f"  rate {rate:.2f} msg/s = {frac:.3f} of {LIMIT}  (target >= 0.95: {'met' if frac >= 0.95 else 'NOT met'})")
    print(f"  429 answers: {r['count_429']}  (target 0: {'met' if r['count_429'] == 0 else 'NOT met'}); "
          f"sendMessage requests {r['requests']}; 5xx {r['count_5xx']}; densest 1-s window {r['densest']} msgs")
    print(f"  duplicates {r['duplicates']}, chats missing {r['missing']}")
    print(f"  accepted-to-ledger lag (the window in which a crash duplicates): p50 {r['lag_p50'] * 1000:.0f} ms, "
          f"p95 {r['lag_p95'] * 1000:.0f} ms, mean {r['lag_mean'] * 1000:.0f} ms; x {rate:.1f} msg/s = "
          f"{r['lag_mean'] * rate:.2f} expected duplicates per crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
