"""Delivery: transports (console, Telegram) and the tick that turns due reminders into digests.

A delivery is recorded in the ledger only after its transport confirmed it, so a restart never
re-sends what was confirmed and never drops what was not.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from .digest import DigestPart, render
from .planning import Delivery, recipients

log = logging.getLogger("taskbot.delivery")

CATCH_UP_GAP = timedelta(minutes=10)  # a longer gap since the last tick means the bot was down
CHECKINS_META = "checkins:{}"  # store meta key per chat: "list" when its digests list every check-in (/checkins)


class ChatGone(Exception):
    """The chat cannot be reached any more (bot blocked, chat deleted): deactivate it."""


class ChatMoved(Exception):
    """A group became a supergroup: the chat has a new id."""

    def __init__(self, new_id: int):
        super().__init__(f"chat moved to {new_id}")
        self.new_id = new_id


class NotLeading(Exception):
    """This instance stopped leading while it was sending: what is left is the new leader's."""


class Transport(Protocol):
    async def send(self, chat_id: int, part: DigestPart, coordinator: bool) -> int:
        """Deliver one message; return its message id. Raises ChatGone, ChatMoved or any transient error."""


class ConsoleTransport:
    """Without a Telegram token: print what would be sent and append it to an outbox file."""

    def __init__(self, outbox: str | None, stream=None, clock=None, label=None, unit_of=None):
        self.outbox, self.stream, self.clock = outbox, stream or sys.stdout, clock
        self.label = label or (lambda chat_id: f"chat {chat_id}")
        self.unit_of = unit_of  # chat id -> the unit name(s) its records carry
        self._next_id = 0

    async def send(self, chat_id, part: DigestPart, coordinator: bool) -> int:
        self._next_id += 1
        print(f"--- would send to {self.label(chat_id)} ---\n{part.text}\n", file=self.stream, flush=True)
        if self.outbox:
            record = {"chat_id": chat_id, "text": part.text, "tasks": list(part.task_ids),
                      "at": self.clock.now().isoformat() if self.clock else None}
            if self.unit_of is not None:
                record["unit"] = self.unit_of(chat_id)
            with open(self.outbox, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return self._next_id


@dataclass
class TickReport:
    """What one tick did: for logs, tests and benchmarks."""

    at: datetime
    catch_up: bool = False
    reminders: int = 0
    chats: int = 0
    messages: int = 0
    recorded: int = 0
    failed_chats: list = field(default_factory=list)
    deactivated: list = field(default_factory=list)


def relevant_after_gap(deliveries: list[Delivery], today) -> list[Delivery]:
    """Catch-up after downtime: the latest note per item and chat, and nothing stale.

    A "7 days before" note about a date that passed while the bot was down is stale: the item is
    overdue now, so it is told as overdue (a passed occurrence of a recurring duty is dropped).
    """
    latest: dict[tuple, Delivery] = {}
    for d in deliveries:
        r = d.reminder
        if r.due is not None and r.due < today and r.kind not in ("overdue", "escalation"):
            if r.kind == "recurring":
                continue
            d = Delivery(replace(r, kind="overdue"), d.chat_id, d.unit, d.role)
            r = d.reminder
        key = (r.item, d.chat_id)
        if key not in latest or r.at >= latest[key].reminder.at:
            latest[key] = d
    return list(latest.values())


class Dispatcher:
    """Sends digests through a transport and keeps the ledger; unconfirmed deliveries are retried."""

    def __init__(self, store, transport: Transport, concurrency: int = 64, fence=None):
        self.store, self.transport = store, transport
        self.fence = fence  # leader.Fence: claim before sending, confirm after; None = no claims (tests)
        self.pending: dict[str, Delivery] = {}  # key -> delivery not yet confirmed
        self._sem = asyncio.Semaphore(concurrency)

    def earliest_pending(self) -> datetime | None:
        return min((d.reminder.at for d in self.pending.values()), default=None)

    async def dispatch(self, deliveries: list[Delivery], registry, now: datetime, catch_up: bool,
                       coordinators=(), context=None) -> TickReport:
        """Send each chat its digest; `context` (chat -> deliveries, `standing.context`) adds what the digest
        shows besides its triggers (every open overdue item); only the triggers are recorded."""
        context = context or {}
        report = TickReport(now, catch_up, len({d.reminder.item for d in deliveries}))
        for d in deliveries:
            self.pending.setdefault(d.key, d)
        batch = list(self.pending.values())
        sent = self.store.sent_keys([d.key for d in batch])
        for k in sent:
            self.pending.pop(k, None)
        by_chat: dict[int, list[Delivery]] = {}
        for d in self.pending.values():
            by_chat.setdefault(d.chat_id, []).append(d)
        report.chats = len(by_chat)
        today = now.astimezone(registry.settings.tz).date()
        langs = self.store.chat_langs(by_chat)  # every chat of this dispatch, retries included
        listing = {k for k, v in self.store.meta_values(CHECKINS_META.format(c) for c in by_chat).items()
                   if v == "list"}  # chats whose digests list every check-in (/checkins list)
        leads = {}  # task id -> the units in charge, for the coordinators' overview by unit
        for ds in (*by_chat.values(), *context.values()):
            for d in ds:
                task = registry.by_id.get(d.reminder.task_id) if d.role == "coordinator" else None
                if task is not None:
                    leads[task.id] = "、".join(task.lead or task.responsible)
        coordinators = set(coordinators)

        def confirm(done: list[Delivery], msg_id) -> None:
            rows = [(d.key, d.reminder.item, d.reminder.kind, d.chat_id, d.reminder.at.date()) for d in done]
            if self.fence is not None:
                self.fence.confirm(rows, msg_id, now)
            else:
                self.store.record_sent(rows, msg_id, now)
            report.recorded += len(rows)
            for d in done:
                self.pending.pop(d.key, None)

        async def one(chat_id: int, items: list[Delivery]):
            lang = langs.get(chat_id) or "zh"
            async with self._sem:
                if self.fence is not None:  # claimed in the database before anything is sent
                    mine = self.fence.claim([d.key for d in items], now)
                    if mine is None:  # no longer the leader: the new one sends them
                        report.failed_chats.append(chat_id)
                        return
                    for d in items:
                        if d.key not in mine:  # confirmed meanwhile (by an earlier leader)
                            self.pending.pop(d.key, None)
                    items = [d for d in items if d.key in mine]
                    if not items:
                        return
                escalation = all(d.role == "coordinator" for d in items)
                shown = items + [d for d in context.get(chat_id, ()) if (d.role == "coordinator") == escalation]
                listed = CHECKINS_META.format(chat_id) in listing and any(d.reminder.due is None for d in shown)
                parts = render(shown, today, lang, catch_up, leads, list_checkins=listed)
                left = list(items)
                try:
                    for i, part in enumerate(parts):
                        if self.fence is not None and not self.fence.leading:
                            raise NotLeading("lost leadership; the new leader sends the rest")
                        msg_id = await self.transport.send(chat_id, part, chat_id in coordinators)
                        report.messages += 1
                        # each part is confirmed on its own: a failure later never resends it
                        last = i == len(parts) - 1
                        done = left if last else [d for d in left if d.reminder.task_id in part.task_ids]
                        left = [] if last else [d for d in left if d.reminder.task_id not in part.task_ids]
                        if done:
                            confirm(done, msg_id)
                except ChatGone as exc:
                    self.store.deactivate_chat(chat_id, str(exc) or "blocked", now)
                    report.deactivated.append(chat_id)
                    for d in left:
                        self.pending.pop(d.key, None)
                    log.warning("chat %s deactivated: %s", chat_id, exc)
                except ChatMoved as exc:
                    self.store.migrate_chat(chat_id, exc.new_id, now)
                    for d in left:
                        self.pending.pop(d.key, None)
                        moved = Delivery(d.reminder, exc.new_id, d.unit, d.role)
                        self.pending[moved.key] = moved
                    report.failed_chats.append(chat_id)
                except Exception as exc:  # transient: what is left stays pending, retried on the next tick
                    report.failed_chats.append(chat_id)
                    log.warning("delivery to chat %s failed, will retry: %s", chat_id, exc.__class__.__name__)

        await asyncio.gather(*(one(c, items) for c, items in by_chat.items()))
        return report


def address(registry, reminders, members: dict, coordinators) -> list[Delivery]:
    """Deliveries for chats: reminders times the liaison chats of their units (and coordinators)."""
    return [d for r in reminders for d in recipients(registry, r, members, coordinators) if d.chat_id is not None]
