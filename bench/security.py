"""Reliability 5: security. The whole application (app.serve: bot, scheduler, feed server) runs in-process
against the Bot API emulator; every attempt below must be refused.

- 100 status changes by non-coordinators through the bot (/done, /undo in private and group chats,
  digest buttons 标记完成/确认) and 100 through Service.set_status: task states and audit unchanged;
- 100 wrong feed tokens (random, one character off, malformed names) and 20 revoked ones (fetched
  before revocation, so cached, and revalidated with their old ETag after): all 404;
- supervision-board tokens: wrong or one-off tokens, feed tokens on the board and board tokens as feeds,
  a unit's board asked for another unit's item, and revoked board tokens (page and export): all 404;
- reused, used-up, expired, revoked and unknown invite codes (/join) and /invite by non-coordinators:
  no membership, no invite created;
- a live feed token requested under 16 odd spellings and routes (`/feeds//T.ics`, `/FEEDS/T.ics`,
  percent-encoded, `/board/T/...`, in a query): no access-log line shows it (nor half of it); the
  database, -wal and -shm files are not readable by others; no invite code is readable in them.
- hostile input (bench/hostile.py, the bot in another process): a YAML alias bomb through `taskbot check`
  and SIGHUP, a flood of 500 /whoami (another user's /help must be answered within 15 s), forged y:ID
  confirmations, group bystanders' /leave and /lang, numbers out of range.
Controls (a coordinator's /done, a valid feed token, a first /join) must succeed, so that a refusal is
not just a broken path.

    python3 bench/security.py
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
from datetime import timedelta

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile  # noqa: E402
from harness import TOKEN, UNITS, free_port, running_app, write  # noqa: E402

from taskbot.config import Config  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.service import NotAllowed  # noqa: E402
from tests.tgemu import BotApiEmulator  # noqa: E402

COORD = 900
TASKS = f"""\
settings:
  coordinators: [{COORD}]
documents:
  - {{number: 郑政文〔2018〕143号, title: 方案, issued: 2018-08-07, issuer: 郑州市人民政府}}
tasks:
  - {{id: cw-01, doc: 郑政文〔2018〕143号, title: 编制规划, lead: [市城管局], responsible: [各区政府], due: 2030-09-28}}
  - {{id: cw-02, doc: 郑政文〔2018〕143号, title: 建立台账, lead: [市城管局], due: 2030-08-31}}
  - {{id: cw-03, doc: 郑政文〔2018〕143号, title: 长效管理, lead: [中原区]}}
"""


class Tally:
    def __init__(self):
        self.rows: list[tuple[str, int, int, int]] = []  # (what, attempts, accepted, target)
        self.controls: dict[str, bool] = {}

    def add(self, what: str, attempts: int, accepted: int, target: int = 0):
        self.rows.append((what, attempts, accepted, target))

    def print(self):
        w = max(len(r[0]) for r in self.rows)
        print(f"  {'attempt':<{w}}  tries  accepted  target")
        for what, n, ok, target in self.rows:
            verdict = "ok" if ok == target else "FAIL"
            print(f"  {what:<{w}}  {n:>5}  {ok:>8}  {target:>6}  {verdict}")


async def settle(emu: BotApiEmulator, sent: int, answers: int, timeout: float = 60.0, grace: float = 0.3):
    await emu.wait_for(lambda e: len(e.sent) >= sent and len(e.callback_answers) >= answers
                       and not e.updates, timeout)
    await asyncio.sleep(grace)


async def token_paths_logged(port: int, token: str) -> tuple[int, int]:
    """Request a live token under odd spellings and routes; returns (access-log lines showing it, requests)."""
    import logging

    enc = "".join(f"%{ord(c):02X}" for c in token)
    paths = [f"/feeds/{token}.ics", f"/feeds//{token}.ics", f"/feeds/./{token}.ics", f"/FEEDS/{token}.ics",
             f"/Feeds/{token}.ics?todo=1", f"/feeds/{enc}.ics", f"/%66eeds/{token}.ics", f"/feeds/../feeds/{token}.ics",
             f"/board/{token}/tasks", f"/BOARD//{token}", f"/x/{token}", f"/healthz?t={token}", f"/{token}",
             f"/feeds/{token[:16]}-{token[16:]}.ics", f"/feeds/{token}.ics/extra", f"/feeds/{token}%00.ics"]
    lines: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger = logging.getLogger("taskbot.web.access")
    handler, level = Grab(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for path in paths:  # raw request lines: no client normalizes them first
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            await reader.read()
            writer.close()
        for _ in range(100):  # the access line is written just after the response
            if len(lines) >= len(paths):
                break
            await asyncio.sleep(0.01)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    forms = {token, token.lower(), token.upper(), enc, token[:16], token[16:]}
    return sum(1 for line in lines if any(f in line for f in forms)), len(paths)


async def main(quiet: bool = False) -> "Tally":
    """Run every attempt; prints the table unless quiet; returns the tally (rows and controls)."""
    work = tempfile.mkdtemp(prefix="taskbot-security-")
    t0 = time.perf_counter()
    tally = Tally()
    try:
        reg, units = write(os.path.join(work, "tasks.yaml"), TASKS), write(os.path.join(work, "units.yaml"), UNITS)
        port = free_port()
        async with BotApiEmulator(TOKEN) as emu:
            cfg = Config(registry=reg, units=units, db=os.path.join(work, "state.sqlite3"), token=TOKEN,
                         api_url=emu.base_url, http=f"127.0.0.1:{port}", outbox=os.path.join(work, "outbox.jsonl"))
            async with running_app(cfg, load_registry(reg, units)) as svc:
                store, now = svc.store, svc.clock.now()
                # control: a coordinator may change status
                emu.inject_message(COORD, COORD, "/done cw-02 台账已建立")
                await settle(emu, 1, 0)
                control_done = store.task_state("cw-02").status == "done"
                before = {t: store.task_state(t).status for t in ("cw-01", "cw-02", "cw-03")}
                audit_before = len(store.audit_log(limit=10_000))

                # 1. status changes by non-coordinators through the bot
                n_msg = n_cb = 0
                for i in range(100):
                    uid = 5000 + i
                    k = i % 5
                    if k == 0:
                        emu.inject_message(uid, uid, "/done cw-01")
                    elif k == 1:
                        emu.inject_message(uid, uid, "/undo cw-02")
                    elif k == 2:
                        emu.inject_message(-100 - i, uid, "/done@taskbot_test_bot cw-03 完成", chat_type="group")
                    elif k == 3:
                        emu.inject_callback(uid, uid, 1, "y:cw-01")  # confirm 标记完成
                        n_cb += 1
                        continue
                    else:
                        emu.inject_callback(-100 - i, uid, 1, "y:cw-03")
                        n_cb += 1
                        continue
                    n_msg += 1
                await settle(emu, 1 + n_msg, n_cb)
                after = {t: store.task_state(t).status for t in before}
                changed = sum(before[t] != after[t] for t in before)
                new_status_audits = [a for a in store.audit_log(limit=10_000)[: max(0, len(store.audit_log(limit=10_000))
                                                                                   - audit_before)]
                                     if a.action == "status"]
                tally.add("status change via bot by non-coordinator (/done, /undo, buttons)", 100,
                          changed + len(new_status_audits))
                refused = 0
                for i in range(100):
                    try:
                        svc.set_status(("cw-01", "cw-02", "cw-03")[i % 3], ("done", "open")[i % 2], 6000 + i)
                    except NotAllowed:
                        refused += 1
                tally.add("Service.set_status by non-coordinator", 100, 100 - refused)

                # 2. feed tokens
                base = f"http://127.0.0.1:{port}/feeds/"
                good = store.create_feed_token("all", "", now)
                async with aiohttp.ClientSession() as http:
                    async def status(name, headers=None):
                        async with http.get(base + name, headers=headers or {}) as r:
                            await r.read()
                            return r.status, r.headers.get("ETag")

                    control_feed = (await status(good + ".ics"))[0] == 200
                    wrong = [secrets.token_urlsafe(24) + ".ics" for _ in range(50)]
                    for i in range(30):
                        j = i % len(good)
                        c = "A" if good[j] != "A" else "B"
                        wrong.append(good[:j] + c + good[j + 1:] + ".ics")
                    wrong += [good, good + ".ICS", good.upper() + ".ics", good + ".ics/", good[:-1] + ".ics",
                              good + "x.ics", "../" + good + ".ics", "%2e%2e%2f" + good + ".ics", good[:7] + ".ics",
                              "A" * 129 + ".ics", ".ics", good + ".ics%00", good + ".ics?x=1&todo=1",
                              " " + good + ".ics", good + ".ics.ics", "*.ics", "%00.ics", good.lower() + ".ics",
                              good[::-1] + ".ics", "feeds/" + good + ".ics"]
                    accepted = 0
                    for name in wrong:
                        code, _ = await status(name)
                        if code != 404 and not (name == good + ".ics?x=1&todo=1" and code == 200):
                            accepted += code < 400
                    # "?x=1&todo=1" after a valid token is the valid feed (todo variant): not a wrong token
                    tally.add("wrong feed token", len(wrong) - 1, accepted)
                    revoked, accepted = [], 0
                    for _ in range(20):
                        tok = store.create_feed_token("unit", "市城管局", now)
                        code, etag = await status(tok + ".ics")
                        revoked.append((tok, etag, code))
                    for tok, _, _ in revoked:
                        store.revoke_feed_token(tok, now)
                    for tok, etag, _ in revoked:
                        c1, _ = await status(tok + ".ics")
                        c2, _ = await status(tok + ".ics", {"If-None-Match": etag or '"x"'})
                        accepted += (c1 != 404) + (c2 != 404)
                    tally.add("revoked feed token (plain GET + revalidation with old ETag)", 40, accepted)
                    first_ok = all(code == 200 for _, _, code in revoked)

                    # 2b. supervision-board tokens: wrong, feed tokens on the board and back, revoked, out of scope
                    board = f"http://127.0.0.1:{port}/board/"

                    async def board_status(path, headers=None):
                        async with http.get(board + path, headers=headers or {}, allow_redirects=False) as r:
                            await r.read()
                            return r.status, r.headers.get("ETag")

                    good_board = store.create_feed_token("b.all", "", now)
                    control_board = (await board_status(good_board + "/"))[0] == 200
                    wrong = [secrets.token_urlsafe(24) + "/" for _ in range(30)]
                    wrong += [good_board[:j] + ("A" if good_board[j] != "A" else "B") + good_board[j + 1:] + "/items.csv"
                              for j in range(10)]
                    wrong += [good + "/", good + "/items.xlsx", good_board.upper() + "/", good_board[:-1] + "/",
                              "%2e%2e/" + good_board + "/", "_static/" + good_board]
                    accepted = 0
                    for p in wrong:
                        accepted += (await board_status(p))[0] < 400
                    accepted += (await status(good_board + ".ics"))[0] != 404  # a board token opens no feed
                    tally.add("wrong board token (random, one off, a feed token, a board token as a feed)",
                              len(wrong) + 1, accepted)
                    unit_board = store.create_feed_token("b.unit", "中原区", now)
                    outside = ["item/cw-02", "item/cw-02.json", "item/CW-02"]  # cw-02 is 市城管局's alone
                    accepted = 0
                    for p in outside:
                        accepted += (await board_status(unit_board + "/" + p))[0] != 404
                    async with http.get(f"{board}{unit_board}/items.csv?unit=%E5%B8%82%E5%9F%8E%E7%AE%A1%E5%B1%80") as r:
                        accepted += "cw-02" in await r.text()  # filtering by another unit never widens the scope
                    tally.add("unit board asked for another unit's item", len(outside) + 1, accepted)
                    pages = []
                    for _ in range(10):
                        tok = store.create_feed_token("b.doc", "郑政文〔2018〕143号", now)
                        pages.append((tok, *(await board_status(tok + "/"))))
                    for tok, _, _ in pages:
                        store.revoke_feed_token(tok, now)
                    accepted = 0
                    for tok, _, etag in pages:
                        accepted += (await board_status(tok + "/"))[0] != 404
                        accepted += (await board_status(tok + "/items.csv", {"If-None-Match": etag or '"x"'}))[0] != 404
                    tally.add("revoked board token (page, export with the old ETag)", 20, accepted)
                    first_ok = first_ok and control_board and all(code == 200 for _, code, _ in pages)

                # 3. invites
                n_msg = len(emu.sent)
                I = store.m.Invite  # noqa: E741
                reused = [store.create_invite("市城管局", 1, now + timedelta(days=7), "bench", now).code for _ in range(20)]
                expired = [store.create_invite("中原区", 5, now - timedelta(seconds=1), "bench", now).code
                           for _ in range(20)]
                multi = [store.create_invite("二七区", 3, now + timedelta(days=1), "bench", now).code for _ in range(5)]
                revoked_codes = [store.create_invite("二七区", 5, None, "bench", now).code for _ in range(10)]
                for c in revoked_codes:
                    store.revoke_invite(c)
                unknown = ["".join(secrets.choice("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(10))
                           for _ in range(10)]
                plan = []  # (chat, code, should_join)
                for i, c in enumerate(reused):
                    plan += [(7000 + i, c, True), (7100 + i, c, False), (7200 + i, c.lower(), False)]
                for i, c in enumerate(expired):
                    plan.append((7300 + i, c, False))
                for i, c in enumerate(multi):
                    plan += [(7400 + 10 * i + k, c, k < 3) for k in range(5)]
                for i, c in enumerate(revoked_codes + unknown):
                    plan.append((7500 + i, c, False))
                # one at a time per code, so that "first use wins" is deterministic
                for chat, code, _ in plan:
                    emu.inject_message(chat, chat, f"/join {code}")
                    await settle(emu, n_msg + 1, 0, grace=0.01)
                    n_msg += 1
                invites_before = I.select().count()
                for i in range(20):
                    emu.inject_message(8000 + i, 8000 + i, "/invite 市城管局 5 7d")
                await settle(emu, n_msg + 20, 0)
                joined = {chat: bool(store.chat_units(chat)) for chat, _, _ in plan}
                controls = [joined[c] for c, _, ok in plan if ok]
                bad = [(c, code) for c, code, ok in plan if not ok and joined[c]]
                tally.add("reused invite (second use, other chat; lower-case spelling)", 40,
                          sum(joined[c] for c, _, ok in plan if not ok and 7100 <= c < 7300))
                tally.add("expired invite", 20, sum(joined[c] for c, _, _ in plan if 7300 <= c < 7400))
                tally.add("used-up multi-use invite (4th and 5th use of 3)", 10,
                          sum(joined[c] for c, _, ok in plan if 7400 <= c < 7500 and not ok))
                tally.add("revoked or unknown invite", 20, sum(joined[c] for c, _, _ in plan if 7500 <= c < 7600))
                tally.add("/invite by non-coordinator", 20, I.select().count() - invites_before)

                # 4. secrets in the access log and at rest
                leaked, spellings = await token_paths_logged(port, good)
                tally.add("feed/board token reaching the access log (odd spellings, any route)", spellings, leaked)
                db = cfg.db
                files = [db, db + "-wal", db + "-shm"]
                tally.add("database file readable by others (db, -wal, -shm)", 3,
                          sum(1 for f in files if not os.path.exists(f) or os.stat(f).st_mode & 0o077))
                raw = b"".join(open(f, "rb").read() for f in files[:2] if os.path.exists(f))
                codes = reused + expired + multi + revoked_codes
                tally.add("invite code readable in the database files", len(codes),
                          sum(1 for c in codes if c.encode() in raw))
        # hostile input (bench/hostile.py): alias bombs, floods, forged buttons, group bystanders, wild numbers
        hostile_figures = None if quiet else await hostile.run(tally, quiet=True)
        tally.controls = {"coordinator /done": control_done, "valid feed": control_feed,
                          "feeds before revocation": first_ok, "first invite uses": all(controls)}
        if hostile_figures is not None:
            tally.controls.update(hostile_figures["controls"])
        if quiet:
            return tally
        dt = time.perf_counter() - t0
        print(f"security: the whole app against the Bot API emulator, {dt:.1f} s")
        tally.print()
        total = sum(r[1] for r in tally.rows)
        accepted = sum(r[2] for r in tally.rows)
        print(f"  total: {accepted} of {total} hostile attempts accepted (ratio {accepted / total:.3f}; target 0)"
              f" -> {'met' if accepted == 0 else 'NOT met'}")
        print(f"  controls: coordinator /done {'ok' if control_done else 'FAILED'}; valid feed "
              f"{'200' if control_feed else 'FAILED'}; feeds before revocation {'200' if first_ok else 'FAILED'}; "
              f"first invite uses joined {sum(controls)}/{len(controls)}")
        if bad:
            print(f"  accepted invites: {bad[:10]}")
        hostile.report(hostile_figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tally


def met(tally: "Tally") -> bool:
    """Every hostile attempt refused (each row at its target) and every control passed."""
    return all(ok == target for _, _, ok, target in tally.rows) and all(tally.controls.values())


if __name__ == "__main__":
    sys.exit(0 if met(asyncio.run(main())) else 1)
