"""/board: the supervision board's URL for this chat (a coordinator's private chat: every item; a liaison: their units)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..i18n import tr
from .common import lang_of, privileged, reply, service


async def board(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send this chat's board URL; the token is made on first use and reused after."""
    svc = service(context)
    chat_id = update.effective_chat.id
    lang = lang_of(svc, chat_id)
    if privileged(svc, update):
        scope = "b.all"
    elif svc.store.chat_units(chat_id):
        scope = "b.chat"
    else:
        await reply(update, tr(lang, "This chat has not joined a unit yet. Join with /join CODE."))
        return
    token = svc.store.chat_feed_token(chat_id, svc.clock.now(), scope=scope)
    what = tr(lang, "Supervision board of every item:") if scope == "b.all" else tr(lang, "Supervision board of your units:")
    await reply(update, "\n".join([what, f"{svc.config.base_url}/board/{token}/",
                                   tr(lang, "Keep this URL private: anyone with it can read the board.")]))
