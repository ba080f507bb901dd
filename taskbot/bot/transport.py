"""Sending to Telegram: per-chat pacing, retries on flood control and transient errors, and the
mapping of permanent failures onto `delivery.ChatGone` / `delivery.ChatMoved`.

The overall (30 msg/s) and per-group (20 msg/min) limits are PTB's AIORateLimiter's job (see
`build_application`); it does not pace messages to one private chat, so this class keeps
consecutive messages to the same chat at least `per_chat_interval` seconds apart.

`WindowedRateLimiter` (the application's rate limiter) keeps at most `in_flight` sendMessage requests
(default 1) on the wire at once: the window covers the HTTP request only, not the waits for the
limiter or a RetryAfter. The dispatcher records a delivery in the same loop turn as its reply comes
back (nothing between them suspends), so with one request in flight at most one message is ever
accepted by Telegram and not yet in the ledger: a crash at any moment duplicates at most one.
Without this bound the limiter releases a request every 1/29.5 s whether or not the earlier replies
came back, and when Telegram (or the bot's own loop) stalls, several accepted messages await their
replies at once: a crash then re-sends each of them (bench/crash.py --trigger count measured up to 4
such messages at once). The price: at most in_flight / round trip messages a second (29.5/s needs
a round trip under 34 ms; tests/test_delivery_window.py checks the ledger at each arrival).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter

from ..delivery import ChatGone, ChatMoved
from ..digest import DigestPart
from .keyboards import digest_keyboard

log = logging.getLogger("taskbot.bot.transport")

GONE_PHRASES = ("chat not found", "user not found", "bot was blocked", "bot was kicked", "user is deactivated",
                "peer_id_invalid", "have no rights to send", "not enough rights to send")


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a RetryAfter asks for, in seconds (int or timedelta across PTB versions)."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_gone(exc: Exception) -> bool:
    """A permanent 'cannot reach this chat' error (403, or 400 chat not found)."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and any(p in exc.message.lower() for p in GONE_PHRASES)


class WindowedRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter, with at most `in_flight` sendMessage requests on the wire (see above)."""

    def __init__(self, *args, in_flight: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self._window = asyncio.Semaphore(in_flight)

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if endpoint != "sendMessage":
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)

        async def on_the_wire(*a, **kw):  # called once the limiter admits the request, for each attempt
            async with self._window:
                return await callback(*a, **kw)

        return await super().process_request(on_the_wire, args, kwargs, endpoint, data, rate_limit_args)


class TelegramTransport:
    """The `delivery.Transport` for Telegram: paced, retried, confirmed by Telegram's reply."""

    def __init__(self, bot, *, per_chat_interval: float = 1.0, attempts: int = 5, backoff: float = 1.0,
                 max_backoff: float = 30.0):
        self.bot = bot
        self.per_chat_interval, self.attempts = per_chat_interval, attempts
        self.backoff, self.max_backoff = backoff, max_backoff
        self._next_at: dict[int, float] = {}  # chat id -> earliest monotonic time of the next send
        self._locks: dict[int, asyncio.Lock] = {}

    async def send(self, chat_id: int, part: DigestPart, coordinator: bool) -> int:
        """Send one digest part with its buttons; returns Telegram's message id."""
        markup = digest_keyboard(part.task_ids, done_buttons=coordinator and chat_id > 0, lang=part.lang)
        return await self.send_text(chat_id, part.text, markup)

    async def send_text(self, chat_id: int, text: str, reply_markup=None) -> int:
        """Send a text; raises ChatGone, ChatMoved, or the last transient error after the retries."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            await self._pace(chat_id)
            try:
                return await self._send_retrying(chat_id, text, reply_markup)
            finally:
                self._next_at[chat_id] = time.monotonic() + self.per_chat_interval
                self._prune()

    async def _pace(self, chat_id: int) -> None:
        wait = self._next_at.get(chat_id, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _prune(self) -> None:
        if len(self._next_at) > 10_000:
            now = time.monotonic()
            for chat_id, at in list(self._next_at.items()):
                if at < now and not (chat_id in self._locks and self._locks[chat_id].locked()):
                    self._next_at.pop(chat_id, None)
                    self._locks.pop(chat_id, None)

    async def _send_retrying(self, chat_id: int, text: str, reply_markup) -> int:
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                message = await self.bot.send_message(chat_id, text, reply_markup=reply_markup,
                                                      disable_web_page_preview=True)
                return message.message_id
            except RetryAfter as exc:
                last, delay = exc, retry_seconds(exc) + 0.1
                log.info("chat %s: flood control, retrying in %.1f s", chat_id, delay)
            except ChatMigrated as exc:
                raise ChatMoved(exc.new_chat_id) from exc
            except (Forbidden, BadRequest) as exc:
                if is_gone(exc):
                    raise ChatGone(exc.message) from exc
                raise  # a request Telegram will never accept: retrying cannot help
            except (TimedOut, NetworkError) as exc:  # 5xx, timeouts, connection errors
                last, delay = exc, min(self.backoff * 2 ** attempt, self.max_backoff)
                log.info("chat %s: %s, retrying in %.1f s", chat_id, exc.__class__.__name__, delay)
            if attempt + 1 < self.attempts:
                await asyncio.sleep(delay)
        raise last  # the dispatcher keeps the delivery pending and tries again on the next tick
