"""Benchmark 1: delivery storm.

3,000 liaison chats (1,000 units x 3, joined in the store) each due one digest at the same minute
(bench/synth.py: 1,000 tasks due at 09:00, each led by a different unit). One Service.tick() with the
real Dispatcher, TelegramTransport and PTB Bot built by taskbot.bot.build_application (taskbot.bot.pacing)
against the Bot API emulator with Telegram's limits (30 sends in any sliding second, 1 per chat per second,
beyond them 429 with retry_after). By default the emulator runs as another process over real HTTP
(`python3 tests/tgemu.py --strict-limits --jitter-ms N`), each send delayed by a random 0..N ms, first at
--jitter-ms (default 20), then at --wide-jitter-ms (default 50); the in-process emulator gives a third line.
Ticks repeat (as the scheduler's sweep would) until every delivery is confirmed or --timeout passes.
Reports accepted messages per second from the first to the last accepted message, as a fraction of
30, and the number of 429 answers. Targets: at least 0.95 of the limit and zero 429s at --jitter-ms; zero
429s at --wide-jitter-ms (throughput may drop there). Exit 1 when a target is not met.

In the first run a 10k-task registry's whole feed is requested cold (taskbot.web, curl) a third of the way
into the storm; the event loop's lag (a 5 ms sleep's overshoot) is reported during that render and before it.

    python3 bench/storm.py [--chats 3000] [--jitter-ms 20] [--wide-jitter-ms 50] [--feed-tasks 10000]
                           [--no-in-process] [--timeout 240]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402
from harness import ROOT, TOKEN, free_port, stop_processes  # noqa: E402

from taskbot.bot import TelegramTransport, build_application  # noqa: E402
from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.service import Service  # noqa: E402
from taskbot.store import Store  # noqa: E402
from tests.tgemu import BotApiEmulator  # noqa: E402

LIMIT = 30


class OutOfProcessEmulator:
    """`python3 tests/tgemu.py` in another process: its URL from the ready line, its log from /_emu/state."""

    def __init__(self, jitter_ms: float):
        self.jitter_ms, self.proc, self.base_url = jitter_ms, None, None

    async def __aenter__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "tgemu.py"), "--port", "0",
                                      "--token", TOKEN, "--strict-limits", "--jitter-ms", str(self.jitter_ms)],
                                     stdout=subprocess.PIPE, text=True)
        self.base_url = (await asyncio.to_thread(self.proc.stdout.readline)).strip()
        if not self.base_url.startswith("http://"):
            raise RuntimeError(f"the emulator did not start: {self.base_url!r}")
        return self

    async def __aexit__(self, *exc):
        stop_processes(self.proc)

    async def state(self) -> dict:
        url = self.base_url[: -len("/bot")] + "/_emu/state"
        return await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(url, timeout=60)))


class InProcess:
    def __init__(self):
        self.emu = BotApiEmulator(TOKEN, limits=True, global_per_sec=LIMIT, per_chat_per_sec=1)

    async def __aenter__(self):
        await self.emu.start()
        self.base_url = self.emu.base_url
        return self

    async def __aexit__(self, *exc):
        await self.emu.stop()

    async def state(self) -> dict:
        e = self.emu
        return {"sent": e.sent, "count_429": e.count_429, "count_5xx": e.count_5xx, "requests": dict(e.requests)}


class LagProbe:
    """The event loop's lag: how late a 5 ms sleep wakes, sampled all the time, with the instant of each sample."""

    def __init__(self):
        self.samples: list[tuple[float, float]] = []
        self.task = None

    async def _run(self):
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.005)
            self.samples.append((t, time.monotonic() - t - 0.005))

    def __enter__(self):
        self.task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc):
        self.task.cancel()

    def stats(self, inside=None) -> dict:
        """p99 and max lag (ms) of the samples inside (or, with inside=None, all) of a time window."""
        lags = sorted(lag for t, lag in self.samples if inside is None or inside[0] <= t <= inside[1])
        if not lags:
            return {"n": 0, "p99": 0.0, "max": 0.0}
        return {"n": len(lags), "p99": lags[int(len(lags) * 0.99)] * 1000, "max": lags[-1] * 1000}


async def cold_feed_request(service, store, now, delay: float) -> dict:
    """After `delay` s: GET the whole feed (cold: first request of the day) with curl, served by taskbot.web in
    this loop; returns the request's window on this process's clock and the feed's size."""
    from taskbot.web import start_web

    token = store.create_feed_token("all", "", now)
    port = free_port()
    runner = await start_web(service, "127.0.0.1", port)
    try:
        await asyncio.sleep(delay)
        t0 = time.monotonic()
        proc = await asyncio.create_subprocess_exec("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                                    f"http://127.0.0.1:{port}/feeds/{token}.ics",
                                                    stdout=subprocess.PIPE)
        out, _ = await proc.communicate()
        code, size = out.decode().split()
        return {"window": (t0, time.monotonic()), "status": int(code), "bytes": int(size)}
    finally:
        await runner.cleanup()


async def storm(chats: int, timeout: float, work: str, jitter_ms: float | None, feed_tasks: int = 0) -> dict:
    """One storm; `jitter_ms` None runs the emulator in this process (no jitter); `feed_tasks` > 0 adds that
    many tasks to the registry and a cold render of the whole feed in the middle of the storm."""
    per_unit = 3
    units = max(1, chats // per_unit)
    s = synth.make(max(2 * units, feed_tasks), work, n_units=units, liaisons=units * per_unit, due_per_tick=units,
                   ticks=1)
    registry = load_registry(s.registry, s.units)
    start = synth.tick_at(0) - timedelta(minutes=1)
    clock = Clock(start, frozen=True)
    db = os.path.join(work, f"state-{jitter_ms}.sqlite3")
    store = Store.open(db)
    s.join_all(store, start)
    store.set_last_tick(start)
    emulator = InProcess() if jitter_ms is None else OutOfProcessEmulator(jitter_ms)
    async with emulator as emu:
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
        feed = None
        try:
            clock.advance(synth.tick_at(0) - clock.now())
            with LagProbe() as probe:
                t0 = time.monotonic()
                if feed_tasks:  # a third of the way into the storm
                    feed = asyncio.create_task(cold_feed_request(service, store, clock.now(), chats / LIMIT / 3))
                reports = []
                while True:
                    reports.append(await service.tick())
                    confirmed = store.m.Delivery.select().count()
                    if confirmed >= len(s.liaisons) or time.monotonic() - t0 > timeout:
                        break
                    clock.advance(timedelta(seconds=60))  # the next sweep: retries what is pending
                wall = time.monotonic() - t0
                feed = await feed if feed is not None else None
        finally:
            await application.shutdown()
        state = await emu.state()
    sends = [e for e in state["sent"]]
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
    out = {"expected": len(s.liaisons), "accepted": len(sends), "confirmed": confirmed,
           "count_429": state["count_429"], "count_5xx": state["count_5xx"],
           "requests": state["requests"].get("sendMessage", 0),
           "span": (max(times) - min(times)) if len(times) > 1 else 0.0, "wall": wall, "ticks": len(reports),
           "duplicates": sum(n - 1 for n in per_chat.values() if n > 1), "densest": densest,
           "missing": len(s.liaisons) - len(per_chat), "tasks": len(registry.tasks)}
    if feed is not None:
        w = feed["window"]
        out["feed"] = {**feed, "render": w[1] - w[0], "during": probe.stats(w),
                       "storm": probe.stats((t0, w[0])) if w[0] - t0 > 1 else probe.stats()}
    store.close()
    return out


def report(label: str, r: dict, need_rate: bool) -> bool:
    rate = (r["accepted"] - 1) / r["span"] if r["span"] else 0.0
    frac = rate / LIMIT
    ok_rate, ok_429 = frac >= 0.95, r["count_429"] == 0
    print(f"  {label}: {r['accepted']} accepted in {r['span']:.1f} s = {rate:.2f} msg/s = {frac:.3f} of {LIMIT}"
          + (f" (target >= 0.95: {'met' if ok_rate else 'NOT met'})" if need_rate else "")
          + f"; 429 answers {r['count_429']} (target 0: {'met' if ok_429 else 'NOT met'})")
    print(f"      sendMessage requests {r['requests']}, 5xx {r['count_5xx']}, densest 1-s window {r['densest']}, "
          f"duplicates {r['duplicates']}, chats missing {r['missing']}, confirmed {r['confirmed']}, "
          f"tick wall {r['wall']:.1f} s over {r['ticks']} tick(s)")
    f = r.get("feed")
    if f:
        ratio = f["during"]["max"] / f["storm"]["max"] if f["storm"]["max"] else float("inf")
        print(f"      cold feed render beside the storm ({r['tasks']} tasks, HTTP {f['status']}, {f['bytes'] / 1e6:.1f} MB)"
              f": {f['render'] * 1000:.0f} ms; event-loop lag during it p99 {f['during']['p99']:.1f} ms, max "
              f"{f['during']['max']:.1f} ms; storm alone before it p99 {f['storm']['p99']:.1f} ms, max "
              f"{f['storm']['max']:.1f} ms (max ratio {ratio:.1f})")
    return ok_429 and (ok_rate or not need_rate) and not r["missing"] and not r["duplicates"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", type=int, default=3000)
    ap.add_argument("--timeout", type=float, default=240.0)
    ap.add_argument("--jitter-ms", type=float, default=20.0, help="the out-of-process run held to both targets")
    ap.add_argument("--wide-jitter-ms", type=float, default=50.0, help="a second run held to zero 429s (0 skips)")
    ap.add_argument("--no-in-process", action="store_true", help="skip the in-process line")
    ap.add_argument("--feed-tasks", type=int, default=10000,
                    help="registry size of the first run, whose feed is rendered cold mid-storm (0: no feed)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"delivery storm: {a.chats} chats, one digest each, due at one minute; emulator at {LIMIT} msg/s "
          f"in any sliding second, 1 msg/s per chat", flush=True)
    ok = True
    runs = [(f"out of process, jitter 0-{a.jitter_ms:g} ms", a.jitter_ms, True, a.feed_tasks)]
    if a.wide_jitter_ms:
        runs.append((f"out of process, jitter 0-{a.wide_jitter_ms:g} ms", a.wide_jitter_ms, False, 0))
    if not a.no_in_process:
        runs.append(("in process, no jitter", None, True, 0))
    for label, jitter, need_rate, feed_tasks in runs:
        work = tempfile.mkdtemp(prefix="taskbot-storm-")
        try:
            r = asyncio.run(storm(a.chats, a.timeout, work, jitter, feed_tasks))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        ok = report(label, r, need_rate) and ok
        sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
