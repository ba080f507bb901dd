"""Handlers for chats and membership: /start, /help, /join, /leave, /lang, /whoami, /feed, /invite."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.ext import ContextTypes

from ..invites import MAX_LIFETIME_DAYS, MAX_USES, parse_duration
from ..i18n import tr
from ..store import InviteError
from .common import is_private, lang_of, privileged, reply, service, usage, user_id
from .groupauth import may_manage, refusal
from .texts import help_text, join_names

log = logging.getLogger("taskbot.bot")

MAX_CODE = 32
_OPTION = re.compile(r"[0-9]+[dhm]?")  # USES or 7d: ASCII digits only (isdigit() takes ², which int() refuses)


def _invite_error(lang: str, reason: str) -> str:
    return {"unknown": lambda: tr(lang, "This invite code is unknown. Check it and send it again."),
            "expired": lambda: tr(lang, "This invite code has expired. Ask the supervision office for a new one."),
            "used up": lambda: tr(lang, "This invite code has been used up. Ask the supervision office for a new one."),
            "revoked": lambda: tr(lang, "This invite code was revoked. Ask the supervision office for a new one."),
            }.get(reason, lambda: reason)()


async def touch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remember every chat that talks to the bot (and reactivate it)."""
    chat = update.effective_chat
    if chat is not None:
        service(context).store.upsert_chat(chat.id, chat.type, chat.title, service(context).clock.now())


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet; with a deep-link payload (t.me/<bot>?start=CODE) join a unit."""
    if context.args:
        await join(update, context)
        return
    svc = service(context)
    lang = lang_of(svc, update.effective_chat.id)
    text = tr(lang, "Hello! I remind liaisons of the tasks that policy documents assign to their units.")
    if not svc.store.chat_units(update.effective_chat.id):
        text += "\n" + tr(lang, "To receive reminders, join your unit with /join CODE (ask the supervision office for a code).")
    await reply(update, text + "\n\n" + help_text(lang, svc.is_coordinator(user_id(update)), context.bot.username))


async def help_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands in the chat's language."""
    svc = service(context)
    lang = lang_of(svc, update.effective_chat.id)
    await reply(update, help_text(lang, svc.is_coordinator(user_id(update)), context.bot.username))


async def join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Redeem an invite code: this chat becomes a liaison of the code's unit."""
    svc = service(context)
    chat_id, lang = update.effective_chat.id, lang_of(svc, update.effective_chat.id)
    if len(context.args) != 1:
        await reply(update, usage(lang, "/join CODE"))
        return
    code, now = context.args[0], svc.clock.now()
    if len(code) > MAX_CODE:
        await reply(update, _invite_error(lang, "unknown"))
        return
    try:
        unit = svc.store.redeem_invite(code, now)
    except InviteError as exc:
        await reply(update, _invite_error(lang, exc.reason))
        return
    if not svc.store.join(chat_id, unit, user_id(update), now):
        await reply(update, tr(lang, "This chat already is a liaison of {unit}.", unit=unit))
        return
    svc.store.audit(user_id(update), "join", None, None, unit, f"chat {chat_id}", now)
    await reply(update, tr(lang, "Joined {unit}. This chat now receives its reminders. See /tasks.", unit=unit))


async def leave(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leave every unit of this chat (or the one named)."""
    svc = service(context)
    chat_id, lang = update.effective_chat.id, lang_of(svc, update.effective_chat.id)
    unit = svc.registry.units.resolve(" ".join(context.args)) if context.args else None
    if context.args and unit is None:
        await reply(update, tr(lang, "Unknown unit {unit}.", unit=" ".join(context.args)[:64]))
        return
    if not svc.store.chat_units(chat_id):
        await reply(update, tr(lang, "This chat is not a liaison of any unit."))
        return
    if not await may_manage(update, context):
        await reply(update, refusal(lang))
        return
    left = svc.store.leave(chat_id, unit)
    if not left:
        await reply(update, tr(lang, "This chat is not a liaison of any unit."))
        return
    svc.store.audit(user_id(update), "leave", None, join_names(left), None, f"chat {chat_id}", svc.clock.now())
    await reply(update, tr(lang, "Left {units}. No more reminders for them here.", units=join_names(left)))


async def lang_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch the chat's language: /lang zh or /lang en."""
    svc = service(context)
    chat_id = update.effective_chat.id
    choice = context.args[0].lower() if len(context.args) == 1 else ""
    if choice not in ("zh", "en"):
        await reply(update, tr(lang_of(svc, chat_id), "Usage: /lang zh or /lang en"))
        return
    if not await may_manage(update, context):
        await reply(update, refusal(lang_of(svc, chat_id)))
        return
    svc.store.set_lang(chat_id, choice)
    await reply(update, tr(choice, "Language set to English."))


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the caller's user id, this chat, its units and the caller's role."""
    svc = service(context)
    chat, uid = update.effective_chat, user_id(update)
    lang = lang_of(svc, chat.id)
    units = svc.store.chat_units(chat.id)
    role = tr(lang, "coordinator (supervision office)") if svc.is_coordinator(uid) else (
        tr(lang, "liaison") if units else tr(lang, "not registered"))
    lines = [tr(lang, "User id: {id}", id=uid), tr(lang, "Chat: {id} ({type})", id=chat.id, type=chat.type),
             tr(lang, "Role: {role}", role=role),
             tr(lang, "Units: {units}", units=join_names(units) if units else "—"),
             tr(lang, "Language: {code}", code=lang)]
    await reply(update, "\n".join(lines))


async def feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send this chat's personal calendar feed URL (webcal:// and http(s)://)."""
    svc = service(context)
    chat_id, lang = update.effective_chat.id, lang_of(svc, update.effective_chat.id)
    token = svc.store.chat_feed_token(chat_id, svc.clock.now())
    url = f"{svc.config.base_url}/feeds/{token}.ics"
    webcal = "webcal://" + url.split("://", 1)[1]
    await reply(update, "\n".join([tr(lang, "Your calendar feed (subscribe in your calendar app):"), webcal, url,
                                   tr(lang, "Keep this URL private: anyone with it can read the feed.")]))


async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Coordinators: create an invite code for a unit (/invite UNIT [USES] [7d])."""
    svc = service(context)
    lang = lang_of(svc, update.effective_chat.id)
    if not svc.is_coordinator(user_id(update)):
        await reply(update, tr(lang, "Only the supervision office (coordinators) can create invite codes."))
        return
    if not privileged(svc, update):
        await reply(update, tr(lang, "Send /invite in a private chat with me, not in a group."))
        return
    args, uses, lifetime = list(context.args), 1, "7d"
    while len(args) > 1 and _OPTION.fullmatch(args[-1]):
        if args[-1][-1] in "dhm":
            lifetime = args.pop()
        else:
            digits = args.pop()
            uses = int(digits) if len(digits) <= 7 else MAX_USES + 1  # more digits than any allowed number
    name = " ".join(args)
    unit = svc.registry.units.resolve(name) if name else None
    if unit is None or svc.registry.units.is_group(unit):
        text = usage(lang, "/invite UNIT [USES] [7d]")
        if name:
            text = tr(lang, "Unknown unit {unit}.", unit=name[:64]) if unit is None else tr(
                lang, "{unit} is a group; invite each of its units.", unit=unit)
        await reply(update, text)
        return
    try:
        expires_in = parse_duration(lifetime)
    except ValueError:
        expires_in = None
    if not 1 <= uses <= MAX_USES or expires_in is None:
        await reply(update, usage(lang, f"/invite UNIT [USES 1-{MAX_USES}] [7d|12h|30m, at most {MAX_LIFETIME_DAYS}d]"))
        return
    now = svc.clock.now()
    code = svc.store.create_invite(unit, uses=uses, expires_at=now + expires_in,
                                   created_by=user_id(update), now=now)
    svc.store.audit(user_id(update), "invite", None, None, unit, f"{uses} use(s), {lifetime}", now)
    expires = code.expires_at.astimezone(svc.registry.settings.tz).strftime("%Y-%m-%d %H:%M")
    await reply(update, "\n".join([
        tr(lang, "Invite code for {unit}: {uses} use(s), valid until {expires}.", unit=unit, uses=uses, expires=expires),
        f"https://t.me/{context.bot.username}?start={code.code}",
        tr(lang, "or send: /join {code}", code=code.code)]))


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command in a private chat: point to /help."""
    lang = lang_of(service(context), update.effective_chat.id)
    await reply(update, tr(lang, "Unknown command. Send /help for the list."))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log handler errors; tell the user something went wrong when we can."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None and is_private(update):
        try:
            await update.effective_message.reply_text("出错了,请稍后再试。\nSomething went wrong; please try again.")
        except Exception:  # noqa: BLE001 - the original error is logged already
            pass
