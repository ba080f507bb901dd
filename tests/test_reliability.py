"""Reliability items that fit CI's time (each well under 20 s); the long ones are scripts in bench/.

No timing assertions: these check outcomes only (nothing lost, nothing accepted that must not be).
"""

import asyncio
import logging
import random
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import downtime  # noqa: E402  (bench/downtime.py: its registry and liaisons)
import fuzz_registries  # noqa: E402
import security  # noqa: E402
import synth  # noqa: E402
from harness import TOKEN  # noqa: E402

from taskbot.bot import TelegramTransport, build_application  # noqa: E402
from taskbot.clock import Clock  # noqa: E402
from taskbot.config import Config  # noqa: E402
from taskbot.i18n import tr  # noqa: E402
from taskbot.planning import recipients, reminders  # noqa: E402
from taskbot.registry import load_registry  # noqa: E402
from taskbot.service import Service  # noqa: E402
from taskbot.store import Store  # noqa: E402
from tests.tgemu import BotApiEmulator  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


class Recorder:
    def __init__(self):
        self.sent = []

    async def send(self, chat_id, part, coordinator):
        self.sent.append((chat_id, part.text))
        return len(self.sent)


# --- 2. downtime: 72 hours down, then one catch-up digest per chat -------------------------------------

def test_downtime_72h_one_catch_up_digest_per_chat_nothing_overdue_dropped_nothing_stale(tmp_path):
    reg = tmp_path / "tasks.yaml"
    units = tmp_path / "units.yaml"
    reg.write_text(downtime.TASKS, encoding="utf-8")
    units.write_text(downtime.UNITS, encoding="utf-8")
    cfg = Config(registry=str(reg), units=str(units), db=str(tmp_path / "state.sqlite3"))
    registry = load_registry(cfg.registry, cfg.units)
    clock = Clock(datetime(2018, 9, 3, 8, 59, tzinfo=TZ), frozen=True)
    store = Store.open(cfg.db)
    for chat, unit in downtime.LIAISONS:
        store.upsert_chat(chat, "private", None, clock.now())
        store.join(chat, unit, chat, clock.now())

    async def run():
        first = Service(cfg, clock, store, registry, Recorder())
        await first.tick()  # fresh install at 08:59
        clock.advance(timedelta(minutes=1, seconds=5))
        await first.tick()  # Monday 09:00 reminders
        last = store.last_tick()
        clock.advance(timedelta(hours=72))  # down until Thursday 09:01:05
        transport = Recorder()
        second = Service(cfg, clock, store, registry, transport)  # the restart
        report = await second.tick()
        return last, report, transport

    last, report, transport = asyncio.run(run())
    now, today = clock.now(), clock.now().astimezone(TZ).date()
    members = {}
    for chat, unit in downtime.LIAISONS:
        members.setdefault(unit, []).append(chat)
    missed = [d for r in reminders(registry, {}, last, now) for d in recipients(registry, r, members, (downtime.COORD,))]
    assert report.catch_up
    per_chat = Counter(chat for chat, _ in transport.sent)
    assert set(per_chat) == {d.chat_id for d in missed} and set(per_chat.values()) == {1}
    header = tr("zh", "(catch-up: reminders missed while the bot was offline)")
    assert all(header in text for _, text in transport.sent)
    rows = [r for r in store.m.Delivery.select().dicts() if r["sent_at"] == now]
    delivered = {(r["item"], r["kind"], r["chat_id"]) for r in rows}
    overdue = {(d.reminder.item, d.reminder.kind, d.chat_id) for d in missed
               if d.reminder.kind in ("overdue", "escalation")}
    assert overdue and overdue <= delivered  # nothing overdue dropped
    due_of = {(d.reminder.item, d.reminder.kind): d.reminder.due for d in missed}
    stale = [r for r in rows if r["kind"] not in ("overdue", "escalation")
             and due_of.get((r["item"], r["kind"])) and due_of[(r["item"], r["kind"])] < today]
    assert stale == []
    texts = {chat: text for chat, text in transport.sent}
    # due Wednesday (its notes at 10:00): passed while down, so it is caught up as overdue
    assert "🔴 due-wed-10 周三十点到期 · 2018-09-05 · 逾期1天 · 牵头" in texts[4]
    store.close()


# --- 3. API faults: 5xx, 429 bursts, blocked chats ----------------------------------------------------------

def test_api_faults_lose_nothing_to_live_chats_and_deactivate_blocked_chats_after_first_403(tmp_path):
    s = synth.make(30, str(tmp_path), n_units=30, liaisons=60, due_per_tick=30, ticks=1)
    registry = load_registry(s.registry, s.units)
    start = synth.tick_at(0) - timedelta(minutes=1)
    clock = Clock(start, frozen=True)
    store = Store.open(str(tmp_path / "state.sqlite3"))
    s.join_all(store, start)
    store.set_last_tick(start)
    chats = [c for c, _ in s.liaisons]
    blocked = set(random.Random(5).sample(chats, 4))

    async def run():
        async with BotApiEmulator(TOKEN, limits=True, error_rate=0.2, seed=3) as emu:
            for c in blocked:
                emu.block_chat(c)
            emu.fail_next("sendMessage", 429, count=5, retry_after=1)
            cfg = Config(registry=s.registry, units=s.units, db=str(tmp_path / "state.sqlite3"), token=TOKEN,
                         api_url=emu.base_url)
            app = build_application(cfg)
            service = Service(cfg, clock, store, registry, TelegramTransport(app.bot, backoff=0.05))
            app.bot_data["service"] = service
            await app.initialize()
            try:
                clock.advance(synth.tick_at(0) - clock.now())
                for _ in range(5):
                    await service.tick()
                    if not service.dispatcher.pending:
                        break
                    clock.advance(timedelta(seconds=60))
            finally:
                await app.shutdown()
            return emu, service

    emu, service = asyncio.run(run())
    per_chat = Counter(e["chat_id"] for e in emu.sent)
    live = set(chats) - blocked
    assert live <= set(per_chat), f"lost: {sorted(live - set(per_chat))}"
    assert not service.dispatcher.pending
    assert emu.count_403 == len(blocked)  # each blocked chat answered 403 once, then was never tried again
    assert {c for c in chats if not store.chat(c).active} == blocked
    assert not blocked & set(per_chat)
    store.close()


# --- 4. bad input: fuzzed registries (a CI-sized sample; bench/fuzz_registries.py runs 10,000) -------------

def test_fuzzed_registries_never_raise_and_invalid_reload_keeps_the_previous_registry(tmp_path, caplog):
    caplog.set_level(logging.CRITICAL, logger="taskbot")  # "reload rejected" 200 times; restored after the test
    h = fuzz_registries.run(200, seed_value=1, work=str(tmp_path))
    assert h.stats["examples"] == 200
    assert h.stats["invalid"] > 0 and h.stats["reload rejected, previous kept"] == h.stats["invalid"]
    assert not h.failures, "\n\n".join(f"{sig}\n{tb}\n{tasks[:300]!r}" for sig, tb, tasks, _ in h.failures[:3])


def test_extreme_dates_are_rejected_with_their_position(tmp_path):
    from taskbot.registry import check_files

    text = downtime.TASKS.replace("due: 2018-09-04", "due: 0001-01-01", 1)
    (tmp_path / "tasks.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "units.yaml").write_text(downtime.UNITS, encoding="utf-8")
    registry, diagnostics = check_files(str(tmp_path / "tasks.yaml"), str(tmp_path / "units.yaml"))
    assert registry is None
    line = text.splitlines().index(next(l for l in text.splitlines() if "0001-01-01" in l)) + 1
    col = text.splitlines()[line - 1].index("0001-01-01") + 1
    assert [str(d) for d in diagnostics] == [
        f"{tmp_path / 'tasks.yaml'}:{line}:{col}: error: due '0001-01-01' is out of range; use a year from 1900 to 2999"]


# --- 5. security: nothing accepted from non-coordinators, wrong or revoked tokens, bad invites ---------------

def test_security_no_hostile_attempt_is_accepted():
    tally = asyncio.run(security.main(quiet=True))
    assert all(tally.controls.values()), tally.controls
    accepted = [(what, n, ok) for what, n, ok, target in tally.rows if ok != target]
    assert accepted == [], accepted
    assert sum(n for _, n, _, _ in tally.rows) >= 400
