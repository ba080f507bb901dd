"""Handlers for items: /tasks, /due, /overdue, /task, /done, /undo, /progress and digest buttons."""

from __future__ import annotations

import re

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from ..i18n import tr
from ..service import MAX_NOTE, NotAllowed, TooLong
from . import keyboards as kb
from .common import (find_task, is_private, lang_of, privileged, refuse_status, reply, scope_units, service,
                     usage, user_id)
from .views import render_due, render_open, render_overdue, render_task, task_units

MAX_DAYS = 3660
_DAYS = re.compile(r"[0-9]{1,6}")  # ASCII digits: str.isdigit() also takes ², which int() refuses


def _note_too_long(lang: str, n: int) -> str:
    return tr(lang, "The text is too long ({n} characters; at most {max}). Nothing was saved; please shorten it.",
              n=n, max=MAX_NOTE)


async def _units(update: Update, svc, lang: str):
    """This chat's units (None for a coordinator: all); [] after telling the chat to join first."""
    units = scope_units(svc, update)
    if units == []:
        await reply(update, tr(lang, "This chat has not joined a unit yet. Join with /join CODE."))
    return units


async def tasks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open items of this chat's units."""
    svc = service(context)
    lang = lang_of(svc, update.effective_chat.id)
    if (units := await _units(update, svc, lang)) != []:
        await reply(update, render_open(svc, lang, units))


async def due(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Items due within DAYS days (default 14)."""
    svc = service(context)
    lang = lang_of(svc, update.effective_chat.id)
    arg = context.args[0] if context.args else "14"
    if len(context.args) > 1 or not _DAYS.fullmatch(arg) or not 0 <= int(arg) <= MAX_DAYS:
        await reply(update, usage(lang, f"/due [DAYS] (0–{MAX_DAYS})"))
        return
    if (units := await _units(update, svc, lang)) != []:
        await reply(update, render_due(svc, lang, units, int(arg)))


async def overdue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Overdue open items of this chat's units."""
    svc = service(context)
    lang = lang_of(svc, update.effective_chat.id)
    if (units := await _units(update, svc, lang)) != []:
        await reply(update, render_overdue(svc, lang, units))


async def task(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One item in full (who did what only in a coordinator's private chat)."""
    svc = service(context)
    lang = lang_of(svc, update.effective_chat.id)
    if len(context.args) != 1:
        await reply(update, usage(lang, "/task ID"))
        return
    found, error = find_task(svc, lang, context.args[0])
    await reply(update, error or render_task(svc, lang, found, privileged(svc, update)))


def _note(update: Update) -> str:
    """The text after `/cmd ID`, kept exactly as typed."""
    parts = (update.effective_message.text or "").split(None, 2)
    return parts[2].strip() if len(parts) > 2 else ""


async def _set_status(update: Update, context: ContextTypes.DEFAULT_TYPE, status: str) -> None:
    svc = service(context)
    lang, uid = lang_of(svc, update.effective_chat.id), user_id(update)
    if not svc.is_coordinator(uid):
        await reply(update, refuse_status(lang))
        return
    if not context.args:
        await reply(update, usage(lang, "/done ID [NOTE]" if status == "done" else "/undo ID"))
        return
    found, error = find_task(svc, lang, context.args[0])
    if error:
        await reply(update, error)
        return
    note = _note(update) or None
    try:
        changed = svc.set_status(found.id, status, uid, note)
    except TooLong:
        await reply(update, _note_too_long(lang, len(note)))
        return
    except NotAllowed:
        await reply(update, refuse_status(lang))
        return
    await reply(update, status_reply(lang, found, status, changed=changed))


def status_reply(lang: str, found, status: str, changed: bool) -> str:
    if not changed:
        return (tr(lang, "{id} is already done.", id=found.id) if status == "done"
                else tr(lang, "{id} is already open.", id=found.id))
    return (tr(lang, "✅ {id} {title} is marked done.", id=found.id, title=found.title) if status == "done"
            else tr(lang, "↩️ {id} {title} is open again.", id=found.id, title=found.title))


async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Coordinators: mark an item done, with an optional note."""
    await _set_status(update, context, "done")


async def undo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Coordinators: open a done item again."""
    await _set_status(update, context, "open")


async def progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A liaison of a unit on the item records progress; coordinators are told."""
    svc = service(context)
    chat_id, lang = update.effective_chat.id, lang_of(svc, update.effective_chat.id)
    text = _note(update)
    if not context.args or not text:
        await reply(update, usage(lang, "/progress ID TEXT"))
        return
    found, error = find_task(svc, lang, context.args[0])
    if error:
        await reply(update, error)
        return
    named = task_units(svc.registry, found)
    mine = [u for u in svc.store.chat_units(chat_id) if u in named]
    if not mine:
        await reply(update, tr(lang, "Only a liaison of a unit named on {id} can report its progress.", id=found.id))
        return
    try:
        svc.add_progress(found.id, mine[0], user_id(update), text)
    except TooLong:
        await reply(update, _note_too_long(lang, len(text)))
        return
    await reply(update, tr(lang, "Progress on {id} recorded for {unit}. The supervision office has been told.",
                           id=found.id, unit=mine[0]))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Digest buttons: detail, 标记完成 (asks), confirm (marks done, edits the message), cancel."""
    query, svc = update.callback_query, service(context)
    parsed = kb.parse(query.data)
    if parsed is None or query.message is None:
        await query.answer()
        return
    action, task_id = parsed
    lang = lang_of(svc, update.effective_chat.id)
    found, error = find_task(svc, lang, task_id)
    if error:
        await query.answer(error[:200], show_alert=True)
        return
    if action == kb.DETAIL:
        if not kb.offers(query.message.reply_markup, query.data):
            await query.answer(_stale(lang)[:200], show_alert=True)
            return
        await query.answer()
        await query.message.reply_text(render_task(svc, lang, found, privileged(svc, update)),
                                       disable_web_page_preview=True)
        return
    if not (svc.is_coordinator(user_id(update)) and is_private(update)):
        await query.answer(refuse_status(lang)[:200], show_alert=True)
        return
    message = query.message
    if not kb.offers(message.reply_markup, query.data):  # e.g. a confirmation the message never asked for
        await query.answer(_stale(lang)[:200], show_alert=True)
        return
    if action == kb.ASK:  # the keyboard changes before the answer: the next press sees the new buttons
        await _edit(message, message.text, kb.with_row(message.reply_markup, found.id, "confirm", lang))
        await query.answer(tr(lang, "Mark {id} done? Confirm below.", id=found.id))
    elif action == kb.CANCEL:
        await _edit(message, message.text, kb.with_row(message.reply_markup, found.id, "done", lang))
        await query.answer(tr(lang, "Cancelled; nothing was changed."))
    else:
        changed = svc.set_status(found.id, "done", user_id(update))
        result = status_reply(lang, found, "done", changed=changed)
        await query.answer(result[:200])
        await _edit(message, f"{message.text}\n\n{result}", kb.with_row(message.reply_markup, found.id, "plain", lang))


def _stale(lang: str) -> str:
    return tr(lang, "This button is not on this message (any more). Nothing was changed; send /tasks for a fresh list.")


async def _edit(message, text: str, markup) -> None:
    try:
        await message.edit_text(text[:4096], reply_markup=markup, disable_web_page_preview=True)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
