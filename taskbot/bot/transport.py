"""Sending to Telegram: digests marked for the pacer, retries on transient errors, and the mapping of
permanent failures onto `delivery.ChatGone` / `delivery.ChatMoved`.

Pacing (30 msg/s overall, 1 msg/s per chat, 20 msg/min per group) and the waits a 429 asks for are the
bot's rate limiter's job (`taskbot.bot.pacing.Pacer`, see `build_application`); a 429 that outlives its
retries is not retried here again: the delivery stays pending for the next sweep.

At most one digest request is on the wire at once (the Pacer's `digest_in_flight`, taken after the
chat's own pacing so a chat that must wait holds up nobody; this class's own bound when the bot has
no Pacer). The dispatcher records a delivery in the same loop turn as its reply comes back, so at most
one message is ever accepted by Telegram and not yet in the ledger: a crash at any moment duplicates at
most one message (bench/crash.py --trigger count measured up to 4 at once without the bound). The price:
digest throughput is at most one per round trip (30/s needs round trips under 33 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from ..delivery import ChatGone, ChatMoved
from ..digest import DigestPart
from .keyboards import digest_keyboard
from .pacing import Pacer, retry_seconds

log = logging.getLogger("taskbot.bot.transport")

GONE_PHRASES = ("chat not found", "user not found", "bot was blocked", "bot was kicked", "user is deactivated",
                "peer_id_invalid", "have no rights to send", "not enough rights to send")


def is_gone(exc: Exception) -> bool:
    """A permanent 'cannot reach this chat' error (403, or 400 chat not found)."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and any(p in exc.message.lower() for p in GONE_PHRASES)


class TelegramTransport:
    """The `delivery.Transport` for Telegram: paced by the bot's Pacer, retried, confirmed by Telegram's reply."""

    def __init__(self, bot, *, attempts: int = 3, backoff: float = 1.0, max_backoff: float = 30.0):
        self.bot = bot
        self.attempts, self.backoff, self.max_backoff = attempts, backoff, max_backoff
        # digests go in the pacer's digest class (fair against command replies, one on the wire at once)
        paced = isinstance(getattr(bot, "rate_limiter", None), Pacer)
        self._digest_args = {"rate_limit_args": {"kind": "digest"}} if paced else {}
        self._window = contextlib.nullcontext() if paced else asyncio.Semaphore(1)

    async def send(self, chat_id: int, part: DigestPart, coordinator: bool) -> int:
        """Send one digest part with its buttons; returns Telegram's message id."""
        markup = digest_keyboard(part.task_ids, done_buttons=coordinator and chat_id > 0, lang=part.lang)
        async with self._window:  # (the Pacer bounds it itself; see the module's docstring)
            return await self._send_retrying(chat_id, part.text, markup, self._digest_args)

    async def send_text(self, chat_id: int, text: str, reply_markup=None) -> int:
        """Send a text; raises ChatGone, ChatMoved, or the last transient error after the retries."""
        return await self._send_retrying(chat_id, text, reply_markup, {})

    async def _send_retrying(self, chat_id: int, text: str, reply_markup, extra: dict) -> int:
        for attempt in range(self.attempts):
            try:
                message = await self.bot.send_message(chat_id, text, reply_markup=reply_markup,
                                                      disable_web_page_preview=True, **extra)
                return message.message_id
            except RetryAfter:
                raise  # the pacer already waited and retried: the dispatcher keeps it pending
            except ChatMigrated as exc:
                raise ChatMoved(exc.new_chat_id) from exc
            except (Forbidden, BadRequest) as exc:
                if is_gone(exc):
                    raise ChatGone(exc.message) from exc
                raise  # a request Telegram will never accept: retrying cannot help
            except (TimedOut, NetworkError) as exc:  # 5xx, timeouts, connection errors
                if attempt + 1 >= self.attempts:
                    raise  # the dispatcher keeps the delivery pending and tries again on the next tick
                delay = min(self.backoff * 2 ** attempt, self.max_backoff)
                log.info("chat %s: %s, retrying in %.1f s", chat_id, exc.__class__.__name__, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")


__all__ = ["TelegramTransport", "is_gone", "retry_seconds"]
