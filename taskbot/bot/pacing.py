"""Pacing of Bot API requests that holds Telegram's limits by construction, whatever the network's latency.

Telegram counts a send when it arrives; we only know when we released it and when its answer came back.
Every arrival lies between the two, so a send that holds one of 30 overall slots from its release until
its response arrived plus one second can never put a 31st arrival into any one-second window, however
late the request or its answer travels. The same response-anchored rule keeps each chat at one message
per second and each group at 20 per minute (a digest split into parts goes out part after part).

A 429 (RetryAfter) pauses what it must: the chat it answered; the whole bot only when 429s come from
more than one chat within the pause (Telegram's overall limit) or for a request without a chat, and then
once: for as long again after an overall pause, further 429s pause only their chats. A pause is waited out
*before* a slot is taken, so nothing piles up to fire together when it ends.

Requests come in two classes that share the overall slots fairly: scheduled digests (the transport marks
them with `rate_limit_args={"kind": "digest"}`) and everything else (command replies, button answers).
While both wait, digests get `DIGEST_SHARE` of the slots, so command traffic never delays a send time
by much and a digest storm never silences the bot's replies.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import deque
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger("taskbot.bot.pacing")

OVERALL = 30  # sends in any sliding second
HOLD = 1.0  # seconds a slot stays taken after the response arrived
SPACING = 0.012  # minimum seconds between two releases (no bursts of 30 at once)
GROUP_LIMIT, GROUP_HOLD = 20, 60.0  # per group chat: 20 per minute
CHAT_HOLD = 1.0  # per chat: one per second
DIGEST_SHARE = 3  # of every DIGEST_SHARE + 1 slots while both classes wait, digests get DIGEST_SHARE
UNPACED = frozenset({"getUpdates", "getMe", "setMyCommands", "deleteMyCommands", "getMyCommands",
                     "deleteWebhook", "getWebhookInfo", "close", "logOut"})


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a RetryAfter asks for, in seconds (int or timedelta across PTB versions)."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class _Chat:
    """One chat's pacing: its requests go one at a time, each after the last response + CHAT_HOLD."""

    __slots__ = ("lock", "next_at", "paused_until", "group")

    def __init__(self, group: bool):
        self.lock, self.next_at, self.paused_until = asyncio.Lock(), 0.0, 0.0
        self.group: deque | None = deque() if group else None  # response times of the last GROUP_LIMIT sends

    def ready_at(self) -> float:
        at = max(self.next_at, self.paused_until)
        if self.group is not None and len(self.group) >= GROUP_LIMIT:
            at = max(at, self.group[-GROUP_LIMIT] + GROUP_HOLD)
        return at


class Pacer(BaseRateLimiter):
    """PTB's rate limiter interface over the response-anchored window (see the module's docstring)."""

    def __init__(self, overall: int = OVERALL, hold: float = HOLD, spacing: float = SPACING,
                 max_retries: int = 3, digest_share: int = DIGEST_SHARE, digest_in_flight: int = 1):
        self.overall, self.hold, self.spacing = overall, hold, spacing
        self.max_retries, self.digest_share = max_retries, digest_share
        self._queues = {"digest": deque(), "reply": deque()}
        # digests on the wire at once: with one, a crash leaves at most one accepted digest out of the ledger
        self._digest_window = asyncio.Semaphore(digest_in_flight)
        self._in_flight = 0
        self._cooling: list[float] = []  # heap: when each released slot becomes free again
        self._last_release = 0.0
        self._paused_until = 0.0  # overall pause after a 429 of Telegram's overall limit
        self._last_429: tuple[float, Any] = (0.0, None)  # (until, chat) of the last chat-level pause
        self._grace_until = 0.0  # after an overall pause, as long again: 429s pause only their chats
        self._credit = 0  # digests granted since a reply was last granted while both waited
        self._timer: asyncio.TimerHandle | None = None
        self._chats: dict[Any, _Chat] = {}
        self.count_429 = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- the request path ----------------------------------------------------------------------------------
    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if endpoint in UNPACED:
            return await callback(*args, **kwargs)
        kind = "digest" if isinstance(rate_limit_args, dict) and rate_limit_args.get("kind") == "digest" else "reply"
        chat_id = data.get("chat_id")
        chat = self._chat(chat_id) if chat_id is not None else None
        attempt = 0
        while True:
            try:
                if chat is None:
                    return await self._send(callback, args, kwargs, kind, None)
                async with chat.lock:
                    while (wait := chat.ready_at() - time.monotonic()) > 0:
                        await asyncio.sleep(wait)
                    return await self._send(callback, args, kwargs, kind, chat)
            except RetryAfter as exc:
                self._on_429(chat_id, chat, retry_seconds(exc))
                attempt += 1
                if attempt > self.max_retries:
                    raise
                log.info("chat %s: 429, waiting %.1f s (attempt %d of %d)", chat_id, retry_seconds(exc), attempt,
                         self.max_retries)

    async def _send(self, callback, args, kwargs, kind: str, chat: _Chat | None):
        if kind == "digest":  # taken after the chat's own wait: a chat that must wait holds up nobody
            async with self._digest_window:
                return await self._send_now(callback, args, kwargs, kind, chat)
        return await self._send_now(callback, args, kwargs, kind, chat)

    async def _send_now(self, callback, args, kwargs, kind: str, chat: _Chat | None):
        await self._acquire(kind)
        try:
            return await callback(*args, **kwargs)
        finally:
            now = time.monotonic()
            self._release(now)
            if chat is not None:
                chat.next_at = now + CHAT_HOLD
                if chat.group is not None:
                    chat.group.append(now)
                    while len(chat.group) > GROUP_LIMIT:
                        chat.group.popleft()

    def _chat(self, chat_id) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            if len(self._chats) > 20_000:
                self._prune()
            group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
            chat = self._chats[chat_id] = _Chat(group)
        return chat

    def _prune(self) -> None:
        now = time.monotonic()
        for key, chat in list(self._chats.items()):
            if not chat.lock.locked() and chat.ready_at() < now and not (chat.group and chat.group[-1] + GROUP_HOLD > now):
                del self._chats[key]

    def _on_429(self, chat_id, chat: _Chat | None, seconds: float) -> None:
        """Pause the chat; pause everything when a second chat is told to wait during a pause, or no chat."""
        self.count_429 += 1
        now = time.monotonic()
        until = now + seconds
        last_until, last_chat = self._last_429
        if chat is None or (last_until > now and last_chat != chat_id and now >= self._grace_until):
            self._paused_until = max(self._paused_until, until)
            self._grace_until = self._paused_until + seconds  # answers to sends of before the pause: not again
            log.warning("Telegram's overall limit answered 429: all sends wait %.1f s", seconds)
        if chat is not None:
            chat.paused_until = max(chat.paused_until, until)
            self._last_429 = (until, chat_id)

    # --- the overall window ----------------------------------------------------------------------------------
    async def _acquire(self, kind: str) -> None:
        future = asyncio.get_running_loop().create_future()
        self._queues[kind].append(future)
        self._pump()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted just before the cancel: give it back
                self._in_flight -= 1
                self._pump()
            raise

    def _release(self, now: float) -> None:
        self._in_flight -= 1
        heapq.heappush(self._cooling, now + self.hold)
        self._pump()

    def _pump(self) -> None:
        """Grant free slots to waiters, fairly between the classes; arm a timer for the next possible grant."""
        digests, replies = self._queues["digest"], self._queues["reply"]
        while digests or replies:
            now = time.monotonic()
            while self._cooling and self._cooling[0] <= now:
                heapq.heappop(self._cooling)
            at = max(self._paused_until, self._last_release + self.spacing)
            if self._in_flight + len(self._cooling) >= self.overall:
                if not self._cooling:
                    return  # every slot is in flight: a response will pump again
                at = max(at, self._cooling[0])
            if at > now:
                self._arm(at)
                return
            queue = self._pick(digests, replies)
            future = queue.popleft()
            if future.done():  # cancelled while waiting
                continue
            self._in_flight += 1
            self._last_release = now
            future.set_result(None)

    def _pick(self, digests: deque, replies: deque) -> deque:
        if not digests or not replies:
            self._credit = 0
            return digests or replies
        if self._credit >= self.digest_share:
            self._credit = 0
            return replies
        self._credit += 1
        return digests

    def _arm(self, at: float) -> None:
        loop = asyncio.get_running_loop()
        when = loop.time() + (at - time.monotonic())
        if self._timer is not None:
            if not self._timer.cancelled() and self._timer.when() <= when + 1e-4:
                return
            self._timer.cancel()
        self._timer = loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._pump()
