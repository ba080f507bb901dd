"""Reliability 3: API faults. One digest due to each of --chats liaison chats; the real Dispatcher,
TelegramTransport and PTB Bot (build_application) against the in-process BotApiEmulator with Telegram's
limits, 20 % of sends answered 5xx (502), a burst of ten 429s (retry_after 1-2 s) every 3 s (when
the previous one is used up), and
5 % of the chats blocked (403), and 2 % of accepted sends whose reply is lost (the emulator carries
the message out, then drops the connection without answering: the case that makes duplicates). Ticks repeat, as the scheduler's sweep would (clock +60 s each), until
every live chat is served or --timeout passes.
Checks: nothing lost to live chats (each gets its digest; duplicates counted); each blocked chat is
deactivated after its first 403 (403 answers = blocked chats; no send to it afterwards); at most one
duplicate per lost reply (a reply lost after acceptance can only be retried, never confirmed).
Exit 1 when a target is not met.

    python3 bench/faults.py [--chats 600] [--error-rate 0.2] [--blocked 0.05] [--lost-replies 0.02] [--timeout 180]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
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


async def run(a, work: str) -> dict:
    units = max(1, a.chats // 2)
    s = synth.make(units, work, n_units=units, liaisons=2 * units, due_per_tick=units, ticks=1)
    registry = load_registry(s.registry, s.units)
    start = synth.tick_at(0) - timedelta(minutes=1)
    clock = Clock(start, frozen=True)
    db = os.path.join(work, "state.sqlite3")
    store = Store.open(db)
    s.join_all(store, start)
    store.set_last_tick(start)
    rnd = random.Random(a.seed)
    chats = [c for c, _ in s.liaisons]
    blocked = set(rnd.sample(chats, max(1, int(len(chats) * a.blocked))))
    live = set(chats) - blocked
    async with BotApiEmulator(TOKEN, limits=True, error_rate=a.error_rate, seed=a.seed,
                              lose_reply_rate=a.lost_replies) as emu:
        for c in blocked:
            emu.block_chat(c)
        attempts_after_403: Counter = Counter()
        first_403: set = set()
        check = emu._check_faults

        def watch(method, params):  # counts sends to a chat after it answered 403 once
            chat = params.get("chat_id")
            if method == "sendmessage" and chat in first_403:
                attempts_after_403[chat] += 1
            try:
                check(method, params)
            except Exception as exc:
                if getattr(exc, "status", None) == 403:
                    first_403.add(chat)
                raise

        emu._check_faults = watch
        cfg = Config(registry=s.registry, units=s.units, db=db, token=TOKEN, api_url=emu.base_url)
        application = build_application(cfg)
        service = Service(cfg, clock, store, registry, TelegramTransport(application.bot))
        application.bot_data["service"] = service
        await application.initialize()
        stop = asyncio.Event()
        bursts = 0

        async def burst_429():
            nonlocal bursts
            while not stop.is_set():
                await asyncio.sleep(3)
                if any(f["status"] == 429 for f in emu._faults):
                    continue  # the last burst is not used up yet: bursts do not pile up
                emu.fail_next("sendMessage", 429, count=10, retry_after=rnd.choice([1, 2]))
                bursts += 1

        burster = asyncio.create_task(burst_429())
        t0 = time.monotonic()
        ticks = []
        try:
            clock.advance(synth.tick_at(0) - clock.now())
            while True:
                ticks.append(await service.tick())
                served = {e["chat_id"] for e in emu.sent}
                if live <= served and not service.dispatcher.pending or time.monotonic() - t0 > a.timeout:
                    break
                clock.advance(timedelta(seconds=60))
        finally:
            stop.set()
            burster.cancel()
            await application.shutdown()
        per_chat = Counter(e["chat_id"] for e in emu.sent)
        inactive = {c for c in chats if not store.chat(c).active}
        out = {"chats": len(chats), "live": len(live), "blocked": len(blocked), "wall": time.monotonic() - t0,
               "ticks": len(ticks), "lost": len(live - set(per_chat)),
               "dups": sum(n - 1 for n in per_chat.values() if n > 1), "to_blocked": sum(per_chat[c] for c in blocked),
               "count_5xx": emu.count_5xx, "lost_replies": emu.count_lost_replies, "count_429": emu.count_429, "count_403": emu.count_403,
               "bursts": bursts, "deactivated_ok": inactive == blocked, "inactive": len(inactive),
               "after_403": sum(attempts_after_403.values()), "pending": len(service.dispatcher.pending),
               "requests": emu.requests.get("sendMessage", 0),
               "failed_per_tick": [len(t.failed_chats) for t in ticks]}
    store.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", type=int, default=600)
    ap.add_argument("--error-rate", type=float, default=0.2)
    ap.add_argument("--blocked", type=float, default=0.05)
    ap.add_argument("--lost-replies", type=float, default=0.02, help="share of accepted sends whose reply is lost")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=180.0)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    work = tempfile.mkdtemp(prefix="taskbot-faults-")
    try:
        r = asyncio.run(run(a, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"API faults: {r['chats']} chats ({r['blocked']} blocked), {a.error_rate:.0%} 5xx, {r['bursts']} bursts of "
          f"ten 429s; {r['wall']:.0f} s, {r['ticks']} tick(s); failed chats per tick {r['failed_per_tick']}")
    print(f"  answers: {r['requests']} sendMessage requests, {r['count_5xx']} 5xx, {r['count_429']} 429, "
          f"{r['count_403']} 403, {r['lost_replies']} accepted with the reply lost")
    print(f"  live chats lost: {r['lost']} of {r['live']}  (target 0: {'met' if r['lost'] == 0 else 'NOT met'}); "
          f"still pending {r['pending']}")
    dups_ok = r["dups"] <= r["lost_replies"]
    print(f"  duplicates {r['dups']} for {r['lost_replies']} lost replies  (target at most one per lost reply: "
          f"{'met' if dups_ok else 'NOT met'})")
    ok = r["deactivated_ok"] and r["count_403"] == r["blocked"] and r["after_403"] == 0
    print(f"  blocked chats: deactivated {r['inactive']} of {r['blocked']}, 403 answers {r['count_403']} "
          f"(= one per blocked chat), sends after a chat's first 403 {r['after_403']}  (target: deactivated after "
          f"the first 403: {'met' if ok else 'NOT met'})")
    return 0 if ok and dups_ok and r["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
