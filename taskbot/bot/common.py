"""Helpers shared by the handlers: the service, the chat's language, roles, replies."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from ..i18n import tr
from ..service import Service, UnknownTask
from ..diagnostics import suggest
from .texts import clip

MAX_ID = 64  # longer "ids" are not looked up at all


def service(context: ContextTypes.DEFAULT_TYPE) -> Service:
    return context.bot_data["service"]


def lang_of(svc: Service, chat_id: int) -> str:
    row = svc.store.chat(chat_id)
    return row.lang if row else "zh"


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def user_id(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user else None


def privileged(svc: Service, update: Update) -> bool:
    """Coordinator-only detail is shown only in a coordinator's private chat."""
    return is_private(update) and svc.is_coordinator(user_id(update))


def scope_units(svc: Service, update: Update) -> list[str] | None:
    """The units whose items this chat sees; None (all) for a coordinator's chat without units."""
    units = svc.store.chat_units(update.effective_chat.id)
    if not units and svc.is_coordinator(user_id(update)):
        return None
    return units


async def reply(update: Update, text: str, **kwargs) -> None:
    await update.effective_message.reply_text(clip(text), disable_web_page_preview=True, **kwargs)


def find_task(svc: Service, lang: str, raw: str):
    """(task, None) or (None, a localized 'unknown id' message with a suggestion)."""
    raw = (raw or "").strip()
    if len(raw) <= MAX_ID:
        try:
            return svc.task(raw), None
        except UnknownTask:
            pass
    shown = raw if len(raw) <= MAX_ID else raw[:MAX_ID] + "…"
    text = tr(lang, "Unknown task {id}.", id=shown)
    best = suggest(raw.lower(), list(svc.registry.by_id)) if len(raw) <= MAX_ID else []
    sep = "" if lang == "zh" else " "
    if best:
        text += sep + tr(lang, "Did you mean {id}?", id=best[0])
    else:
        text += sep + tr(lang, "See /tasks for the ids.")
    return None, text


def usage(lang: str, synopsis: str) -> str:
    return tr(lang, "Usage: {synopsis}", synopsis=synopsis)


def refuse_status(lang: str) -> str:
    return tr(lang, "Only the supervision office (coordinators) can change an item's status. Nothing was changed.")
