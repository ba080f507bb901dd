"""A chat's digest preference: /checkins list|brief (progress check-ins of undated items listed, or one line)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..delivery import CHECKINS_META
from ..i18n import tr
from .common import lang_of, reply, service


async def checkins(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/checkins list: digests list every check-in; /checkins brief: one line (the default)."""
    svc = service(context)
    chat_id = update.effective_chat.id
    lang = lang_of(svc, chat_id)
    key = CHECKINS_META.format(chat_id)
    choice = context.args[0].lower() if len(context.args) == 1 else ""
    if choice not in ("list", "brief"):
        now = "list" if svc.store.get_meta(key) == "list" else "brief"
        await reply(update, tr(lang, "Usage: /checkins list or /checkins brief (now: {now})", now=now))
        return
    svc.store.set_meta(key, "list" if choice == "list" else None)
    await reply(update, tr(lang, "Digests now list every progress check-in.") if choice == "list" else
                tr(lang, "Digests now fold progress check-ins into one line."))
