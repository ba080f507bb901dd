"""Benchmark 3: calendar feeds.

A synthetic registry (bench/synth.py) of about 10,000 feed components. Reports:
- render time of the whole feed (feeds.build_feed, cold: no memo; best of 3), and with the memo warm;
- served throughput of the cached feed (GET /feeds/TOKEN.ics of taskbot.web.make_app) against the same
  bytes served as a static file (aiohttp FileResponse on a route added to the same app), plain and gzip;
- 304 revalidation throughput (If-None-Match with the feed's ETag).
Load: `wrk` (apt-get install -y wrk) when installed, else a bounded aiohttp client in a subprocess.
Target: cached at least 0.8 of static.

    python3 bench/feeds.py [--tasks 9150] [--seconds 5] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402
from harness import free_port  # noqa: E402

from taskbot import feeds  # noqa: E402
from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.service import Service  # noqa: E402
from taskbot.store import Store  # noqa: E402
from taskbot.web import make_app  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")

CLIENT = r'''
import asyncio, json, sys, time
import aiohttp
url, seconds, conns, headers = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
async def main():
    n = nbytes = bad = 0
    end = time.monotonic() + seconds
    async with aiohttp.ClientSession(auto_decompress=False) as s:
        async def worker():
            nonlocal n, nbytes, bad
            while time.monotonic() < end:
                async with s.get(url, headers=headers) as r:
                    body = await r.read()
                    n += 1; nbytes += len(body); bad += r.status >= 400
        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(conns)))
        print(json.dumps({"rps": n / (time.monotonic() - t0), "bytes": nbytes, "n": n, "bad": bad}))
asyncio.run(main())
'''


async def load(url: str, seconds: float, conns: int, headers: dict) -> dict:
    if shutil.which("wrk"):
        cmd = ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency"]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        p = await asyncio.create_subprocess_exec(*cmd, url, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(p.communicate(), seconds + 30)
        text = out.decode()
        if "Requests/sec" not in text:
            raise RuntimeError(f"wrk failed: {text} {err.decode()}")
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        p50 = re.search(r"50%\s+([\d.]+\w+)", text)
        return {"rps": rps, "bad": int(bad.group(1)) if bad else 0, "p50": p50.group(1) if p50 else "?", "tool": "wrk"}
    p = await asyncio.create_subprocess_exec(sys.executable, "-c", CLIENT, url, str(seconds), str(conns),
                                             json.dumps(headers), stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(p.communicate(), seconds + 30)
    r = json.loads(out)
    r.update(p50="?", tool="aiohttp client")
    return r


async def main_async(a) -> int:
    work = tempfile.mkdtemp(prefix="taskbot-feeds-")
    runner = None
    try:
        s = synth.make(a.tasks, work)
        registry = load_registry(s.registry, s.units)
        now = datetime(2027, 3, 16, 10, 0, tzinfo=TZ)
        store = Store.open(os.path.join(work, "state.sqlite3"))
        cfg = Config(registry=s.registry, units=s.units, db=os.path.join(work, "state.sqlite3"))
        service = Service(cfg, Clock(now, frozen=True), store, registry)
        states = store.task_states()
        progress = {}
        cold = []
        for _ in range(3):
            t0 = time.perf_counter()
            feed = feeds.build_feed(registry, states, progress, ("all", None), now)
            cold.append(time.perf_counter() - t0)
        memo: dict = {}
        feeds.build_feed(registry, states, progress, ("all", None), now, memo=memo)
        t0 = time.perf_counter()
        feeds.build_feed(registry, states, progress, ("all", None), now, memo=memo)
        warm = time.perf_counter() - t0
        print(f"feeds: {len(registry.tasks)} tasks -> {feed.components} components, {len(feed.body) / 1e6:.2f} MB")
        print(f"  render (build_feed, cold, best of 3): {min(cold) * 1000:.0f} ms "
              f"({min(cold) / feed.components * 1e6:.0f} us per component); with the memo warm: {warm * 1000:.0f} ms")

        token = store.create_feed_token("all", "", now)
        app = make_app(service)
        static_plain = os.path.join(work, "feed.ics")

        async def static(request):
            return web.FileResponse(static_plain, headers={"Content-Type": "text/calendar; charset=utf-8"})

        async def static_gz(request):
            return web.FileResponse(static_plain + ".gzip", headers={"Content-Type": "text/calendar; charset=utf-8",
                                                                   "Content-Encoding": "gzip"})

        app.router.add_get("/static/feed.ics", static)
        app.router.add_get("/static/feed.ics.gz", static_gz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        import aiohttp

        async with aiohttp.ClientSession(auto_decompress=False) as http:
            t0 = time.perf_counter()
            async with http.get(f"{base}/feeds/{token}.ics", headers={"Accept-Encoding": "identity"}) as r:
                body = await r.read()
                assert "Content-Encoding" not in r.headers and body == feed.body, "served bytes differ from build_feed's"
                etag = r.headers["ETag"]
            first = time.perf_counter() - t0
            async with http.get(f"{base}/feeds/{token}.ics", headers={"Accept-Encoding": "gzip"}) as r:
                gz = await r.read()
                etag_gz = r.headers["ETag"]
                assert r.headers.get("Content-Encoding") == "gzip"
            async with http.get(f"{base}/feeds/{token}.ics", headers={"If-None-Match": etag}) as r:
                assert r.status == 304, r.status
        with open(static_plain, "wb") as fh:
            fh.write(body)
        with open(static_plain + ".gzip", "wb") as fh:
            fh.write(gz)
        print(f"  first GET (render + gzip + serve): {first * 1000:.0f} ms; body {len(body) / 1e6:.2f} MB, "
              f"gzip {len(gz) / 1e6:.2f} MB")
        runs = [("cached feed", f"/feeds/{token}.ics", {}), ("static file", "/static/feed.ics", {}),
                ("cached feed, gzip", f"/feeds/{token}.ics", {"Accept-Encoding": "gzip"}),
                ("static file, gzip", "/static/feed.ics.gz", {"Accept-Encoding": "gzip"}),
                ("304 revalidation (If-None-Match)", f"/feeds/{token}.ics", {"If-None-Match": etag}),
                ("304 revalidation, gzip", f"/feeds/{token}.ics", {"If-None-Match": etag_gz, "Accept-Encoding": "gzip"}),
                ("/healthz (smallest response)", "/healthz", {})]
        met = False
        res = {}
        for name, path, headers in runs:
            r = res[name] = await load(base + path, a.seconds, a.connections, headers)
            print(f"  {name:<34} {r['rps']:>8.0f} req/s  (p50 {r['p50']}, errors {r['bad']}, {r['tool']}, "
                  f"{a.connections} connections, {a.seconds:g} s)", flush=True)
        ratio = res["cached feed"]["rps"] / res["static file"]["rps"]
        ratio_gz = res["cached feed, gzip"]["rps"] / res["static file, gzip"]["rps"]
        met = min(ratio, ratio_gz) >= 0.8
        print(f"  ratio cached / static: {ratio:.2f} plain, {ratio_gz:.2f} gzip  (target >= 0.8: "
              f"{'met' if met else 'NOT met'})")
        print(f"  ratio 304 / static: {res['304 revalidation (If-None-Match)']['rps'] / res['static file']['rps']:.1f}; "
              f"304 / healthz: {res['304 revalidation (If-None-Match)']['rps'] / res['/healthz (smallest response)']['rps']:.2f}")
        store.close()
    finally:
        if runner is not None:
            await runner.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if met else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=9150)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--connections", type=int, default=16)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
