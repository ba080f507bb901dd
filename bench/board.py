"""Benchmark: the supervision board (taskbot/board) at 1k / 10k / 100k items.

For each size, on synthetic registries (bench/synth.py: 1,000 units, 100 documents, 5,000 liaisons), served by
taskbot.web.make_app on 127.0.0.1 and fetched over real HTTP:
- overview, unit and document pages and items.xlsx: cold (snapshot + render), render only (snapshot warm) and
  cached (one GET);
- throughput of each cached page against the same bytes served as a static file (aiohttp FileResponse on a
  route of the same app), with a load client in another process (bench/feeds.py's `load`: wrk or aiohttp);
- the weekly report (report.build + XLSX + HTML) at 10k items.
Targets: cached pages at least 0.8x the static file's rate; the 10k report under 5 s. Exit 1 when missed.

    python3 bench/board.py [--sizes 1000,10000,100000] [--seconds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402
from feeds import load  # noqa: E402
from harness import free_port  # noqa: E402

from taskbot.board import report  # noqa: E402
from taskbot.board.routes import BOARD  # noqa: E402
from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.service import Service  # noqa: E402
from taskbot.store import Store  # noqa: E402
from taskbot.web import make_app  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 16, 10, 0, tzinfo=TZ)
TARGET_RATIO, TARGET_REPORT = 0.8, 5.0
PAGES = [("overview", ""), ("unit", "unit/" + quote(synth.unit_name(600))), ("document", "doc/" + quote("郑测〔2027〕1号")),
         ("items.xlsx", "items.xlsx")]


def world(n: int, work: str):
    s = synth.make(n, work)
    t0 = time.perf_counter()
    registry = load_registry(s.registry, s.units)
    db = os.path.join(work, "state.sqlite3")
    store = Store.open(db)
    service = Service(Config(registry=s.registry, units=s.units, db=db), Clock(NOW, frozen=True), store, registry)
    s.join_all(store, NOW)
    for i in range(0, n, 7):  # some done, some reported on
        store.set_status(f"t{i:06d}", "done", "bench", None, NOW - timedelta(days=1))
    for i in range(1, n, 11):
        store.add_progress(f"t{i:06d}", synth.unit_name(i % 1000), 1, "按计划推进", NOW - timedelta(days=2))
    print(f"\n{n} items: registry, store and state ready in {time.perf_counter() - t0:.1f} s", flush=True)
    return service, store


async def run_size(n: int, a, failures: list) -> None:
    work = tempfile.mkdtemp(prefix=f"taskbot-board-{n}-")
    runner = None
    try:
        service, store = await asyncio.to_thread(world, n, work)
        app = make_app(service)
        board = app[BOARD]
        files: dict[str, str] = {}

        async def static(request):  # the page's bytes as a file, gzipped too when the client accepts it (as the board)
            name = request.match_info["name"]
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                return web.FileResponse(files[name] + ".gz", headers={"Content-Type": "text/html; charset=utf-8",
                                                                      "Content-Encoding": "gzip"})
            return web.FileResponse(files[name], headers={"Content-Type": "text/html; charset=utf-8"})

        app.router.add_get("/static/{name}", static)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        token = store.create_feed_token("b.all", "", NOW)
        import aiohttp

        async with aiohttp.ClientSession(auto_decompress=True) as http:
            async def fetch(path):
                t0 = time.perf_counter()
                async with http.get(f"{base}/board/{token}/{path}") as r:
                    body = await r.read()
                    assert r.status == 200, (r.status, path)
                return time.perf_counter() - t0, body

            for name, path in PAGES:
                board.pages.clear()
                board.snapshots.clear()
                cold, body = await fetch(path)
                board.pages.clear()
                render, body = await fetch(path)
                cached, again = await fetch(path)
                assert again == body, "the cached answer differs from the render it caches"
                print(f"  {name:<10} {len(body) / 1e3:>8.0f} kB  cold {cold * 1000:>7.0f} ms  render only "
                      f"{render * 1000:>7.0f} ms  cached {cached * 1000:>6.1f} ms", flush=True)
                files[name] = os.path.join(work, f"{name}.bin")
                with open(files[name], "wb") as fh:
                    fh.write(body)
                with open(files[name] + ".gz", "wb") as fh:
                    fh.write(gzip.compress(body, 6, mtime=0))
        for name, path in PAGES[:3]:
            runs = {"page": [], "static": []}
            for _ in range(2):  # alternated, best of two: the machine is shared, so single runs are noisy
                runs["page"].append(await load(f"{base}/board/{token}/{path}", a.seconds, a.connections, {}))
                runs["static"].append(await load(f"{base}/static/{name}", a.seconds, a.connections, {}))
            page, stat = (max(runs[k], key=lambda r: r["rps"]) for k in ("page", "static"))
            ratio = page["rps"] / stat["rps"]
            ok = ratio >= TARGET_RATIO and not page["bad"] and not stat["bad"]
            print(f"  {name:<10} cached {page['rps']:>7.0f} req/s  static file {stat['rps']:>7.0f} req/s  ratio "
                  f"{ratio:.2f} (target >= {TARGET_RATIO}: {'met' if ok else 'NOT met'}; {page['tool']}, "
                  f"{a.connections} connections, {a.seconds:g} s)", flush=True)
            if not ok:
                failures.append(f"{n} items, {name}: cached/static {ratio:.2f}")
        if n == 10_000:
            t0 = time.perf_counter()
            rep = report.build(service.registry, store.task_states(), store.progress(), store.members(), NOW.date())
            built = time.perf_counter() - t0
            xlsx = report.to_xlsx(rep, TZ)
            mid = time.perf_counter() - t0
            html = report.to_html(rep)
            total = time.perf_counter() - t0
            print(f"  weekly report at {n} items: build {built:.2f} s, + xlsx ({len(xlsx) / 1e3:.0f} kB) "
                  f"{mid - built:.2f} s, + html ({len(html) / 1e3:.0f} kB) {total - mid:.2f} s; total {total:.2f} s "
                  f"(target < {TARGET_REPORT:g} s: {'met' if total < TARGET_REPORT else 'NOT met'})", flush=True)
            if total >= TARGET_REPORT:
                failures.append(f"report at 10k: {total:.2f} s")
        store.close()
    finally:
        if runner is not None:
            await runner.cleanup()
        shutil.rmtree(work, ignore_errors=True)


async def main_async(a) -> int:
    failures: list[str] = []
    for n in a.sizes:
        await run_size(n, a, failures)
    print("\nboard: " + ("every target met" if not failures else "targets NOT met: " + "; ".join(failures)))
    return 1 if failures else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10000, 100000])
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--connections", type=int, default=16)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
