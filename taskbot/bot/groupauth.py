"""Who may change a group chat's settings (/leave, /lang): not every member of the group.

In a private chat, its user. In a group: the members who joined the group to its units, the group's
administrators (getChatMember), and coordinators. A bystander is told who can, and nothing changes.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from ..i18n import tr
from .common import is_private, service, user_id

log = logging.getLogger("taskbot.bot")

ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender may change this chat's membership or language."""
    if is_private(update):
        return True
    svc, uid, chat = service(context), user_id(update), update.effective_chat
    if uid is None or chat is None:
        return False
    if svc.is_coordinator(uid) or uid in svc.store.joined_by(chat.id):
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, uid)
    except TelegramError as exc:  # cannot tell: refuse, the group's admins can retry
        log.warning("getChatMember failed for chat %s: %s", chat.id, exc)
        return False
    return member.status in ADMINS


def refusal(lang: str) -> str:
    return tr(lang, "In a group, only the member who joined it to its unit, the group's administrators and the "
                    "supervision office can do this. Nothing was changed.")
