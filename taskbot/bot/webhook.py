"""Webhook mode: Telegram POSTs updates to `--webhook-url`, served by the instance's own aiohttp app.

Every instance behind the load balancer registers the same URL with the same secret token (derived from
the bot token, so instances agree without sharing another secret) and answers the updates it is given.
An update is claimed by its update_id in the database before it is handled (`taskbot.claims`), so one
that Telegram retries, or that the balancer hands to a second instance, is handled once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from .. import claims

log = logging.getLogger("taskbot.bot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_BODY = 1024 * 1024
_WARN_EVERY = 60.0


def secret_token(bot_token: str) -> str:
    """The webhook's secret_token: an HMAC of the bot token (1-256 of A-Z a-z 0-9 _ -)."""
    return hmac.new(bot_token.encode(), b"taskbot-webhook-v1", hashlib.sha256).hexdigest()


def webhook_path(url: str) -> str:
    """The local path the webhook is served on: the public URL's path (the proxy passes it through)."""
    return urlsplit(url).path or "/"


async def register(application, url: str) -> None:
    """setWebhook with the secret token; idempotent, so every instance calls it when it starts."""
    await application.bot.set_webhook(url, secret_token=secret_token(application.bot.token),
                                      allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)


class WebhookHandler:
    """The aiohttp handler of POST <path>: check the secret, claim the update, hand it to PTB, answer 200."""

    def __init__(self, application, service, owner: str):
        self.application, self.service, self.owner = application, service, owner
        self.secret = secret_token(application.bot.token).encode()
        self.handled = self.duplicates = self.refused = 0
        self._warned = 0.0

    def route(self, url: str) -> tuple[str, str, object]:
        return ("POST", webhook_path(url), self)

    async def __call__(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.refused += 1
            if time.monotonic() - self._warned > _WARN_EVERY:  # once a minute, not per request
                self._warned = time.monotonic()
                log.warning("webhook: refused a request without the secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden\n")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="too large\n")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.application.bot)
            update_id = int(update.update_id)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400, text="bad update\n")
        if not self.application.running:  # starting or stopping: let Telegram retry (here or elsewhere)
            return web.Response(status=503, text="unavailable\n")
        store, now = self.service.store, self.service.clock.now()
        try:
            mine = claims.claim_update(store, update_id, self.owner, now)
        except Exception as exc:  # no database: let Telegram retry (on this or another instance)
            log.warning("webhook: cannot claim update %s: %s", update_id, exc.__class__.__name__)
            return web.Response(status=503, text="unavailable\n")
        if not mine:
            self.duplicates += 1
            return web.Response(text="ok\n")
        try:
            await self.application.process_update(update)  # handler errors go to PTB's error handlers
        except Exception as exc:  # not handled: not marked done, so a retry after STALE_UPDATE is handled
            log.warning("webhook: update %s not handled: %s", update_id, exc.__class__.__name__)
            return web.Response(status=500, text="not handled\n")
        try:
            claims.finish_update(store, update_id, self.service.clock.now())
        except Exception as exc:
            log.warning("webhook: cannot mark update %s done: %s", update_id, exc.__class__.__name__)
        self.handled += 1
        return web.Response(text="ok\n")


__all__ = ["ALLOWED_UPDATES", "SECRET_HEADER", "WebhookHandler", "register", "secret_token", "webhook_path"]
