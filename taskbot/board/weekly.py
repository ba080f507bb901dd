"""The weekly report from the running bot: at `settings.reports.weekly` the 督查通报 goes to every coordinator as a
document (sendDocument), once per week and chat, recorded in the delivery ledger like a reminder; a week missed
during downtime is sent when the bot is back (the latest week only). Without a Telegram token the report is
written next to the outbox instead, and the console says where.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from datetime import date, datetime, timedelta

from ..i18n import tr
from ..store import ledger_key
from . import report

log = logging.getLogger("taskbot.board.weekly")

ITEM, KIND = "report:weekly", "weekly"
CONSOLE = 0  # the ledger's chat id for the console's copy
POLL = 60.0  # seconds between checks (the app's clock may be offset, so no long sleeps)


def last_slot(reports, now: datetime, tz) -> datetime | None:
    """The latest scheduled instant at or before `now` (None without a weekly schedule)."""
    if reports.weekday is None:
        return None
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - reports.weekday) % 7)
    slot = datetime.combine(day, reports.at, tz)
    return slot if slot <= now else slot - timedelta(days=7)


def filename(day: date, fmt: str) -> str:
    return f"督查通报-{day.isoformat()}.{fmt}"


def render(registry, states, progress, members, day: date, fmt: str) -> tuple[bytes, dict]:
    rep = report.build(registry, states, progress, members, day)
    return (report.to_html(rep) if fmt == "html" else report.to_xlsx(rep, registry.settings.tz)), rep


class WeeklyReports:
    """`check()` sends what is due; `send(chat_id, name, data, caption) -> message id` is the transport."""

    def __init__(self, service, send, chats=None):
        self.service, self.send = service, send
        self.chats = chats or (lambda: sorted(service.coordinators))
        self._lock = asyncio.Lock()

    async def check(self) -> list[int]:
        """Send this week's report to every chat that has not had it; returns the chats sent to."""
        async with self._lock:
            service = self.service
            settings = service.registry.settings
            now = service.clock.now()
            slot = last_slot(settings.reports, now, settings.tz)
            if slot is None:
                return []
            day = slot.date()
            keys = {chat: ledger_key(ITEM, KIND, chat, day) for chat in self.chats()}
            sent = service.store.sent_keys(keys.values())
            todo = [chat for chat, key in keys.items() if key not in sent]
            if not todo:
                return []
            fmt = settings.reports.format
            store = service.store  # read here, in the loop's thread; the report is built in a worker thread
            data, rep = await asyncio.to_thread(render, service.registry, store.task_states(), store.progress(),
                                                store.members(), day, fmt)
            langs = service.store.chat_langs(todo)
            done = []
            for chat in todo:
                caption = tr(langs.get(chat), "Weekly supervision report as of {day}: {items} items, {overdue} overdue, "
                             "{done} done this week.", day=day.isoformat(), items=rep["totals"]["items"],
                             overdue=rep["totals"]["overdue"], done=len(rep["done"]))
                try:
                    msg_id = await self.send(chat, filename(day, fmt), data, caption)
                except Exception as exc:  # retried at the next check; the ledger has no entry yet
                    log.warning("weekly report to chat %s failed, will retry: %s", chat, exc.__class__.__name__)
                    continue
                service.store.record_sent([(keys[chat], ITEM, KIND, chat, day)], msg_id, service.clock.now())
                done.append(chat)
            return done

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # never stop the loop; the next check retries
                log.exception("weekly report check failed")
            try:
                await asyncio.wait_for(stop.wait(), POLL)
            except asyncio.TimeoutError:
                pass


def telegram_sender(bot):
    from telegram import InputFile

    async def send(chat_id: int, name: str, data: bytes, caption: str) -> int:
        message = await bot.send_document(chat_id, document=InputFile(io.BytesIO(data), filename=name),
                                          caption=caption[:1024])
        return message.message_id

    return send


def console_sender(folder: str, stream=None):
    async def send(chat_id: int, name: str, data: bytes, caption: str) -> int:
        os.makedirs(folder or ".", exist_ok=True)
        path = os.path.join(folder or ".", name)
        with open(path, "wb") as fh:
            fh.write(data)
        print(f"taskbot: weekly report written to {path} (no Telegram token, so it is not sent): {caption}",
              file=stream, flush=True)
        return 0

    return send


def start(service, application, outbox: str | None, stop: asyncio.Event) -> asyncio.Task:
    """The weekly-report loop of `taskbot run`: Telegram with a bot, else files next to the outbox."""
    if application is not None:
        weekly = WeeklyReports(service, telegram_sender(application.bot))
    else:
        weekly = WeeklyReports(service, console_sender(os.path.dirname(outbox or "data/outbox.jsonl")),
                               chats=lambda: [CONSOLE])
    return asyncio.create_task(weekly.run(stop), name="weekly-report")


__all__ = ["ITEM", "KIND", "WeeklyReports", "console_sender", "filename", "last_slot", "start", "telegram_sender"]
