"""Announcements after changes: status changes to the lead unit's liaisons, progress to coordinators.

Registered as a `Service.listeners` callback, so a change made anywhere (bot, CLI, web) is announced.
"""

from __future__ import annotations

import logging

from ..delivery import ChatGone, ChatMoved
from ..i18n import tr
from .texts import clip
from .views import lead_units

log = logging.getLogger("taskbot.bot.notify")


class Notifier:
    """Turns service events into messages, sent through the (paced, retrying) transport."""

    def __init__(self, application, service, transport):
        self.application, self.service, self.transport = application, service, transport

    def on_change(self, event: str, task_id: str | None) -> None:
        """Service listener: schedule the announcement without blocking the change."""
        if task_id is None or event not in ("status", "progress"):
            return
        state = self.service.store.task_state(task_id)  # read now: a later change must not leak in
        progress = self.service.store.progress(task_id)[-1:] if event == "progress" else []
        self.application.create_task(self.announce(event, task_id, state, progress[0] if progress else None),
                                     name=f"announce:{event}:{task_id}")

    async def announce(self, event: str, task_id: str, state, progress) -> None:
        """Send one event's messages."""
        task = self.service.registry.by_id.get(task_id)
        if task is None:
            return
        if event == "status" and state is not None:
            members = self.service.members()
            chats = sorted({c for u in lead_units(self.service.registry, task) for c in members.get(u, ())})
            await self._send_all(chats, lambda lang: status_text(lang, task, state))
        elif event == "progress" and progress is not None:
            chats = [c for c in sorted(self.service.coordinators) if self._active(c)]
            await self._send_all(chats, lambda lang: progress_text(lang, task, progress))

    def _active(self, chat_id: int) -> bool:
        row = self.service.store.chat(chat_id)
        return row is None or row.active

    async def _send_all(self, chats, text_for) -> None:
        langs = self.service.store.chat_langs(chats)
        for chat_id in chats:
            await self.send(chat_id, text_for(langs.get(chat_id) or "zh"))

    async def send(self, chat_id: int, text: str) -> bool:
        """Send, deactivating a gone chat and following a migrated one; False when not delivered."""
        store, now = self.service.store, self.service.clock.now()
        try:
            await self.transport.send_text(chat_id, clip(text))
            return True
        except ChatGone as exc:
            store.deactivate_chat(chat_id, str(exc) or "blocked", now)
            log.warning("chat %s deactivated: %s", chat_id, exc)
        except ChatMoved as exc:
            store.migrate_chat(chat_id, exc.new_id, now)
            log.info("chat %s moved to %s", chat_id, exc.new_id)
            return await self.send(exc.new_id, text)
        except Exception as exc:  # announcements are best effort; the audit log has the change
            log.warning("announcement to chat %s failed: %s", chat_id, exc.__class__.__name__)
        return False


def status_text(lang: str, task, state) -> str:
    if state.status == "done":
        text = tr(lang, "✅ The supervision office marked {id} {title} done.", id=task.id, title=task.title)
    else:
        text = tr(lang, "↩️ The supervision office opened {id} {title} again.", id=task.id, title=task.title)
    if state.note:
        text += "\n" + tr(lang, "Note: {note}", note=state.note)
    return text


def progress_text(lang: str, task, progress) -> str:
    return tr(lang, "📝 Progress on {id} {title} from {unit}:", id=task.id, title=task.title,
              unit=progress.unit or "?") + "\n" + progress.text
