"""Inline keyboards of digests: one row per task, a detail button and (for coordinators) 标记完成.

Callback data is `ACTION:TASK_ID` (well under Telegram's 64 bytes: ids have at most 32 characters):
`d` detail, `x` ask to mark done, `y` confirmed, `n` cancelled.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..i18n import tr

DETAIL, ASK, CONFIRM, CANCEL = "d", "x", "y", "n"
ACTIONS = (DETAIL, ASK, CONFIRM, CANCEL)
MAX_ROWS = 50  # Telegram accepts 100 buttons per keyboard; two per row


def data(action: str, task_id: str) -> str:
    return f"{action}:{task_id}"


def parse(value: str | None) -> tuple[str, str] | None:
    """(action, task id) from callback data, or None when it is not ours."""
    action, sep, task_id = (value or "").partition(":")
    if not sep or action not in ACTIONS or not task_id or len(task_id) > 32:
        return None
    return action, task_id


def _row(task_id: str, state: str, lang: str) -> list[InlineKeyboardButton]:
    """state: 'plain' (detail only), 'done' (detail + 标记完成), 'confirm' (确认 / 取消)."""
    if state == "confirm":
        return [InlineKeyboardButton(tr(lang, "✔ Confirm {id} done", id=task_id), callback_data=data(CONFIRM, task_id)),
                InlineKeyboardButton(tr(lang, "Cancel"), callback_data=data(CANCEL, task_id))]
    row = [InlineKeyboardButton(tr(lang, "ℹ️ {id} details", id=task_id), callback_data=data(DETAIL, task_id))]
    if state == "done":
        row.append(InlineKeyboardButton(tr(lang, "✅ Mark {id} done", id=task_id), callback_data=data(ASK, task_id)))
    return row


def build(rows: list[tuple[str, str]], lang: str = "zh") -> InlineKeyboardMarkup | None:
    """A keyboard from (task id, state) rows; None when there is nothing to show."""
    rows = rows[:MAX_ROWS]
    return InlineKeyboardMarkup([_row(t, s, lang) for t, s in rows]) if rows else None


def digest_keyboard(task_ids, done_buttons: bool, lang: str = "zh") -> InlineKeyboardMarkup | None:
    """Detail buttons per task id, plus 标记完成 when `done_buttons` (a coordinator's private chat)."""
    return build([(t, "done" if done_buttons else "plain") for t in task_ids], lang)


def offers(markup, value: str | None) -> bool:
    """Whether a message's keyboard (as Telegram holds it) has a button with this callback data.

    Telegram sends the pressed message along with the data, but a client can put any data in a
    callback: a confirmation is accepted only from a message whose keyboard asks for it.
    """
    return any(getattr(b, "callback_data", None) == value
               for row in getattr(markup, "inline_keyboard", None) or () for b in row)


def rows_of(markup) -> list[tuple[str, str]]:
    """Read (task id, state) rows back from a message's current keyboard."""
    out = []
    for row in getattr(markup, "inline_keyboard", None) or ():
        parsed = [parse(b.callback_data) for b in row]
        parsed = [p for p in parsed if p]
        if not parsed:
            continue
        actions = {a for a, _ in parsed}
        state = "confirm" if CONFIRM in actions else "done" if ASK in actions else "plain"
        out.append((parsed[0][1], state))
    return out


def with_row(markup, task_id: str, state: str, lang: str = "zh") -> InlineKeyboardMarkup | None:
    """The message's keyboard with the row of `task_id` switched to `state`."""
    return build([(t, state if t == task_id else s) for t, s in rows_of(markup)], lang)
