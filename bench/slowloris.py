"""Availability under slow HTTP clients (issue 15, item 1): the real `python bot.py` with its open-file limit
lowered to 1,024 (soft and hard: it cannot raise it), against the Bot API emulator process; an attacker
process holds 1,100 connections to the feed port, each sending only `GET /feeds/` and never finishing,
and reconnects each one the bot closes, for --attack seconds. A scheduled digest (40 chats at 09:00)
falls inside the attack.

Measured before (baseline) and during the attack, in the same run: /healthz latency, a valid feed's
latency, and a coordinator's /whoami, /tasks and /feed reply latencies through Telegram (the emulator).
Also: every digest delivered and how late, the longest an attack connection stayed open, the bot's
log growth and its `Too many open files` lines; after the attack, how long a lone half-sent request stays open.

Targets: every /healthz, feed and command answered during the attack, each within 5 s; every digest
delivered within 10 s of 09:00; a lone half-sent request closed within the header timeout + 5 s;
at most one `Too many open files` line per minute; log growth under 1 MB.

    python3 bench/slowloris.py [--connections 1100] [--attack 40] [--nofile 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402
from crash import read_log, wait_for_line  # noqa: E402
from harness import ROOT, TOKEN, free_port, stop_processes  # noqa: E402

from taskbot import webguard  # noqa: E402
from taskbot.store import Store  # noqa: E402

COORD = 900000001  # synth's coordinator
LEAD = timedelta(seconds=30)  # the bot starts this long before the 09:00 digest


# --- the attacker (its own process) ---------------------------------------------------------------------

async def attack(port: int, n: int, seconds: float) -> dict:
    """n connections sending half a request line; each one closed by the server is reopened."""
    end = time.monotonic() + seconds
    stats = {"opened": 0, "closed_by_server": 0, "connect_errors": 0, "longest_open_s": 0.0}

    async def one():
        while time.monotonic() < end:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                stats["connect_errors"] += 1
                await asyncio.sleep(0.05)
                continue
            stats["opened"] += 1
            t0 = time.monotonic()
            try:
                writer.write(b"GET /feeds/")
                await asyncio.wait_for(reader.read(), max(0.01, end - time.monotonic()))
                stats["closed_by_server"] += 1
                stats["longest_open_s"] = max(stats["longest_open_s"], time.monotonic() - t0)
            except (asyncio.TimeoutError, OSError):
                stats["longest_open_s"] = max(stats["longest_open_s"], time.monotonic() - t0)
            finally:
                writer.close()

    await asyncio.gather(*(one() for _ in range(n)))
    return stats


# --- the measurements -----------------------------------------------------------------------------------

def lone_half_sent(port: int, timeout: float = 120.0) -> float:
    """Seconds until the bot closes one connection that sent only 'GET /feeds/' (timeout if never)."""
    import socket

    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"GET /feeds/")
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
    return time.perf_counter() - t


def http_get(url: str, timeout: float = 20.0) -> tuple[int, float]:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
            status = resp.status
    except OSError as exc:
        status = getattr(exc, "code", 0) or 0
    return status, time.perf_counter() - t


def emu_post(api_root: str, action: str, body: dict) -> dict:
    req = urllib.request.Request(f"{api_root}/_emu/{action}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def emu_sent(api_root: str) -> list[dict]:
    with urllib.request.urlopen(f"{api_root}/_emu/state", timeout=10) as resp:
        return json.loads(resp.read())["sent"]


def command_latency(api_root: str, chat: int, text: str, timeout: float = 20.0) -> float | None:
    """Seconds from a coordinator's message to the bot's reply in that chat (None: no reply in time)."""
    before = sum(1 for m in emu_sent(api_root) if m["chat_id"] == chat)
    t = time.perf_counter()
    emu_post(api_root, "inject", {"chat_id": chat, "user_id": COORD, "text": text})
    while time.perf_counter() - t < timeout:
        if sum(1 for m in emu_sent(api_root) if m["chat_id"] == chat) > before:
            return time.perf_counter() - t
        time.sleep(0.02)
    return None


def probe(http: str, feed_url: str, api_root: str) -> dict:
    out = {"healthz": http_get(f"http://{http}/healthz"), "feed": http_get(feed_url)}
    for cmd in ("/whoami", "/tasks", "/feed"):
        out[cmd] = command_latency(api_root, COORD, cmd)
    return out


def fmt(xs: list[float | None]) -> str:
    ok = sorted(x for x in xs if x is not None)
    if not ok:
        return "none answered"
    return f"median {ok[len(ok) // 2] * 1000:.0f} ms, max {ok[-1] * 1000:.0f} ms ({len(ok)}/{len(xs)} answered)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connections", type=int, default=1100)
    ap.add_argument("--attack", type=float, default=40.0, help="seconds of attack")
    ap.add_argument("--nofile", type=int, default=1024, help="the bot's open-file limit (soft and hard)")
    ap.add_argument("--attacker", nargs=3, metavar=("PORT", "N", "SECONDS"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.attacker:
        port, n, seconds = int(a.attacker[0]), int(a.attacker[1]), float(a.attacker[2])
        print(json.dumps(asyncio.run(attack(port, n, seconds))), flush=True)
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.connections + 200:  # the attacker's own sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.connections + 1000), hard))
    work = tempfile.mkdtemp(prefix="taskbot-slowloris-")
    emu = bot = attacker = None
    try:
        s = synth.make(20, work, n_units=20, liaisons=40, due_per_tick=20, ticks=1)
        db = os.path.join(work, "state.sqlite3")
        store = Store.open(db)
        s.join_all(store, synth.tick_at(0) - timedelta(days=1))
        feed_token = store.create_feed_token("all", None, synth.tick_at(0) - timedelta(days=1))
        store.close()
        log = os.path.join(work, "emulator.jsonl")
        emu_out = os.path.join(work, "emu.out")
        emu = subprocess.Popen([sys.executable, "-m", "tests.tgemu", "--port", str(free_port()), "--log", log,
                                "--token", TOKEN], cwd=ROOT, stdout=open(emu_out, "w"), stderr=subprocess.STDOUT)
        api = wait_for_line(emu_out, "http://", 20, emu)
        api_root = api.rsplit("/bot", 1)[0]
        port = free_port()
        http = f"127.0.0.1:{port}"
        env = {**os.environ, "TASKBOT_TELEGRAM_TOKEN": TOKEN, "TASKBOT_TELEGRAM_API_URL": api}
        clock0 = synth.tick_at(0) - LEAD
        out = os.path.join(work, "bot.out")
        nofile = a.nofile
        bot = subprocess.Popen([sys.executable, "bot.py", "--registry", s.registry, "--units", s.units, "--db", db,
                                "--http", http, "--clock", clock0.isoformat()], cwd=ROOT, env=env,
                               stdout=open(out, "w"), stderr=subprocess.STDOUT,
                               preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile)))
        started = time.time()
        wait_for_line(out, "next reminders at", 60, bot)
        digest_due = started + LEAD.total_seconds()  # the real moment the bot's clock reads 09:00 (approx.)
        feed_url = f"http://{http}/feeds/{feed_token}.ics"
        base = [probe(http, feed_url, api_root) for _ in range(6)]
        size0 = os.path.getsize(out)
        attacker = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--attacker", str(port),
                                     str(a.connections), str(a.attack)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        t_attack = time.monotonic()
        time.sleep(min(5.0, a.attack / 4))  # let every connection open
        under = []
        while time.monotonic() - t_attack < a.attack - 2:
            under.append(probe(http, feed_url, api_root))
            time.sleep(0.5)
        stats = json.loads(attacker.communicate(timeout=a.attack + 60)[0] or "{}")
        attack_s = time.monotonic() - t_attack
        after = probe(http, feed_url, api_root)
        lone_s = lone_half_sent(port)
        alive = bot.poll() is None
        deadline = time.time() + 30
        while time.time() < deadline and len({r["chat_id"] for r in read_log(log) if r["chat_id"] != COORD}) < 40:
            time.sleep(0.2)
        digests = [r for r in read_log(log) if r["chat_id"] != COORD]
        late = max((r["ts"] for r in digests), default=float("nan")) - digest_due
        with open(out, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        growth = os.path.getsize(out) - size0
        emfile = text.count("Too many open files")
        fd_line = next((ln for ln in text.splitlines() if "feed server: at most" in ln), "?")
    finally:
        stop_processes(attacker, bot, emu)
        shutil.rmtree(work, ignore_errors=True)

    def col(rows, key, http_probe=False):
        if http_probe:
            return [r[key][1] if r[key][0] == 200 else None for r in rows]
        return [r[key] for r in rows]

    print(f"slowloris: python bot.py with RLIMIT_NOFILE {a.nofile}/{a.nofile}; {a.connections} attack connections "
          f"for {attack_s:.0f} s sending only 'GET /feeds/'; header timeout {webguard.HEADER_TIMEOUT:.0f} s")
    print(f"  bot: {fd_line.split(': ', 2)[-1]}")
    print(f"  attacker: {stats.get('opened', 0)} connections opened, {stats.get('closed_by_server', 0)} closed by the "
          f"bot, {stats.get('connect_errors', 0)} connect errors; longest open {stats.get('longest_open_s', 0):.1f} s "
          "(as the attacker sees it: includes time in the kernel's full accept queue, where the bot holds no file)")
    ok = True
    fails = []
    for key, http_probe in (("healthz", True), ("feed", True), ("/whoami", False), ("/tasks", False),
                            ("/feed", False)):
        b, u = col(base, key, http_probe), col(under, key, http_probe)
        bm = sorted(x for x in b if x is not None)
        um = sorted(x for x in u if x is not None)
        ratio = (um[len(um) // 2] / bm[len(bm) // 2]) if bm and um else float("nan")
        good = bool(u) and all(x is not None and x <= 5.0 for x in u)
        ok &= good
        fails += [] if good else [key]
        print(f"  {key:<8} baseline {fmt(b)}; under attack {fmt(u)}; median ratio {ratio:.1f}x  "
              f"(target all answered <= 5 s: {'met' if good else 'NOT met'})")
    after_ok = after["healthz"][0] == 200 and after["/whoami"] is not None
    print(f"  after the attack: /healthz {after['healthz'][0]}, /whoami {'answered' if after['/whoami'] else 'NO reply'}; "
          f"bot {'running' if alive else 'EXITED'}")
    ok &= after_ok and alive
    d_ok = len({r['chat_id'] for r in digests}) == 40 and late <= 10
    print(f"  digests at 09:00 (inside the attack): {len({r['chat_id'] for r in digests})}/40 delivered, last "
          f"{late:.1f} s after 09:00  (target all, <= 10 s: {'met' if d_ok else 'NOT met'})")
    held_ok = lone_s <= webguard.HEADER_TIMEOUT + 5
    print(f"  a lone half-sent request after the attack: closed by the bot after {lone_s:.1f} s  (target <= "
          f"{webguard.HEADER_TIMEOUT + 5:.0f} s: {'met' if held_ok else 'NOT met'})")
    per_min = emfile / max(attack_s / 60, 1)
    log_ok = per_min <= 1 and growth < 1_000_000
    print(f"  bot log grew {growth / 1000:.1f} KB during the attack; 'Too many open files' {emfile} time(s)  "
          f"(target <= 1 a minute, < 1 MB: {'met' if log_ok else 'NOT met'})")
    ok &= d_ok and held_ok and log_ok
    print(f"  overall: {'met' if ok else 'NOT met'}" + (f" (failed: {', '.join(fails)})" if fails else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
