"""Benchmark 2: tick cost against registry size.

Synthetic registries of 1k, 10k and 100k tasks (1,000 units, 5,000 liaisons; bench/synth.py) with the
same number of reminders due at each tick (100 tasks, 5 liaisons each: 500 digests). The real
Service.tick() runs against a SQLite store in a temp dir, with a transport that confirms at once.
Reports each tick's time and the ratio of the median tick at 100k to the median tick at 1k.
Target: at most 2 (a tick costs what is due, not what is registered).

    python3 bench/tick_cost.py [--sizes 1000,10000,100000] [--ticks 5] [--due 100]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402

from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.service import Service  # noqa: E402
from taskbot.store import Store  # noqa: E402


class NullTransport:
    """Confirms every message at once (the tick's own cost, not the network's)."""

    def __init__(self):
        self.n = 0

    async def send(self, chat_id, part, coordinator):
        self.n += 1
        return self.n


async def measure(n: int, ticks: int, due: int, work: str) -> dict:
    d = os.path.join(work, f"n{n}")
    s = synth.make(n, d, due_per_tick=due, ticks=ticks)
    t0 = time.perf_counter()
    registry = load_registry(s.registry, s.units)
    t_load = time.perf_counter() - t0
    start = synth.tick_at(0) - timedelta(minutes=1)
    clock = Clock(start, frozen=True)
    store = Store.open(os.path.join(d, "state.sqlite3"))
    s.join_all(store, start)
    store.set_last_tick(start)
    cfg = Config(registry=s.registry, units=s.units, db=os.path.join(d, "state.sqlite3"))
    transport = NullTransport()
    t0 = time.perf_counter()
    service = Service(cfg, clock, store, registry, transport)
    t_init = time.perf_counter() - t0
    times, reports = [], []
    gc.collect()
    for r in range(ticks):
        clock.advance(synth.tick_at(r) - clock.now())
        t0 = time.perf_counter()
        report = await service.tick()
        times.append(time.perf_counter() - t0)
        reports.append(report)
    bad = [(rep.reminders, rep.messages) for rep in reports if rep.reminders != due or rep.messages != due * 5]
    store.close()
    shutil.rmtree(d, ignore_errors=True)
    return {"n": n, "load": t_load, "init": t_init, "times": times, "median": statistics.median(times),
            "messages": [rep.messages for rep in reports], "bad": bad, "agenda": len(service.agenda)}


async def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--ticks", type=int, default=5)
    ap.add_argument("--due", type=int, default=100, help="tasks due at each tick (each unit has 5 liaisons)")
    a = ap.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="taskbot-tick-")
    results = []
    try:
        print(f"tick cost: {a.due} reminders due per tick ({a.due * 5} digests), {a.ticks} ticks per size")
        for n in sizes:
            r = await measure(n, a.ticks, a.due, work)
            results.append(r)
            print(f"  {n:>7} tasks: load {r['load']:.2f} s, Service() {r['init']:.2f} s, agenda {r['agenda']} "
                  f"entries; ticks " + ", ".join(f"{t * 1000:.1f}" for t in r["times"])
                  + f" ms (median {r['median'] * 1000:.1f} ms); messages/tick {r['messages'][0]}"
                  + (f"; UNEXPECTED (reminders, messages): {r['bad']}" if r["bad"] else ""), flush=True)
        base, top = results[0], results[-1]
        ratio = top["median"] / base["median"]
        print(f"ratio {top['n']} / {base['n']} (median tick): {ratio:.2f}  (target <= 2: "
              f"{'met' if ratio <= 2 else 'NOT met'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ratio <= 2 and not any(r["bad"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
