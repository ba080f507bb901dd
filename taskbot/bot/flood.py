"""Flood control and update ordering: one user's flood must not stall replies to everyone else.

`FloodGate` counts each user's updates in a fixed window: the first `burst` are handled, the next one
is answered once with "too many requests, wait N s", the rest are dropped until the window passes.

`ChatOrderedProcessor` lets PTB handle updates concurrently, each chat's in order: the gate is asked
before an update waits for its chat, so a flooder's dropped updates are discarded at once and never
queue behind (or in front of) anyone; the admitted ones wait only for their own chat.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseUpdateProcessor, ContextTypes

from ..i18n import tr
from .common import lang_of, service

BURST = 10  # updates a user may send per window: about Telegram's pace of one message a second per chat
WINDOW = 10.0  # seconds (real time: a flood is about how fast requests come, whatever the app's clock says)
CONCURRENT = 256  # updates handled at once (each chat's in order)

ADMIT, WARN, DROP = "admit", "warn", "drop"


@dataclass
class _Window:
    start: float
    count: int


class FloodGate:
    """Per-user fixed windows: `verdict(user, t)` is ADMIT, WARN (once per window) or DROP.

    `t` is in seconds (the bot's clock); pure bookkeeping, no I/O. Windows that have passed are
    forgotten now and then, so memory follows the users active in the last window.
    """

    def __init__(self, burst: int = BURST, window: float = WINDOW):
        self.burst, self.window = burst, window
        self._users: dict[int, _Window] = {}
        self._warned: dict[int, int] = {}  # update id -> seconds to wait, for the one warning
        self.dropped = 0
        self._sweep_at = 0.0

    def verdict(self, user: int, t: float) -> str:
        if t >= self._sweep_at:
            self._users = {u: w for u, w in self._users.items() if t < w.start + self.window}
            self._sweep_at = t + self.window
        w = self._users.get(user)
        if w is None or t >= w.start + self.window or t < w.start:
            self._users[user] = _Window(t, 1)
            return ADMIT
        w.count += 1
        if w.count <= self.burst:
            return ADMIT
        if w.count == self.burst + 1:
            return WARN
        self.dropped += 1
        return DROP

    def wait(self, user: int, t: float) -> int:
        """Whole seconds until `user`'s window passes (at least 1)."""
        w = self._users.get(user)
        return max(1, math.ceil(w.start + self.window - t)) if w else 1

    def mark_warning(self, update_id: int, seconds: int) -> None:
        self._warned[update_id] = seconds

    def take_warning(self, update_id: int) -> int | None:
        return self._warned.pop(update_id, None)


def _keys(update: object) -> tuple[int | None, int | None]:
    """(user id, chat id) of an update, None where it has none."""
    if not isinstance(update, Update):
        return None, None
    user = update.effective_user.id if update.effective_user else None
    chat = update.effective_chat.id if update.effective_chat else user
    return user, chat


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Concurrent update handling, in order within each chat, with the flood gate in front."""

    def __init__(self, gate: FloodGate, seconds: Callable[[], float] | None = None,
                 max_concurrent_updates: int = CONCURRENT):
        super().__init__(max_concurrent_updates)
        self.gate = gate
        self.seconds = seconds or time.monotonic
        self._chats: dict[int, list] = {}  # chat id -> [lock, users of it]

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        user, chat = _keys(update)
        if user is not None:
            t = self.seconds()
            verdict = self.gate.verdict(user, t)
            if verdict == DROP:
                coroutine.close()  # never started: nothing to clean up
                return
            if verdict == WARN:
                self.gate.mark_warning(update.update_id, self.gate.wait(user, t))
        if chat is None:
            await coroutine
            return
        entry = self._chats.setdefault(chat, [asyncio.Lock(), 0])
        entry[1] += 1
        started = False
        try:
            async with entry[0]:
                started = True
                await coroutine
        finally:
            if not started:  # cancelled while waiting for its chat (at shutdown)
                coroutine.close()
            entry[1] -= 1
            if entry[1] == 0:
                del self._chats[chat]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


async def warn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """First handler of every update: the one "too many requests" answer of a window, then stop."""
    gate: FloodGate | None = context.bot_data.get("flood")
    seconds = gate.take_warning(update.update_id) if gate is not None else None
    if seconds is None:
        return
    chat = update.effective_chat
    lang = lang_of(service(context), chat.id) if chat is not None else "zh"
    text = tr(lang, "Too many requests. Please wait {n} s, then send again; until then messages are ignored.",
              n=seconds)
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    raise ApplicationHandlerStop
