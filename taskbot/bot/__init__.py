"""The Telegram bot: a python-telegram-bot 22 `Application` (long polling) over the `Service`.

`build_application(cfg)` builds it; `app.serve()` puts the service into `bot_data["service"]`
before `initialize()`, which publishes the command menu and registers the
announcements of changes (see `TaskbotApplication`).
"""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, MessageHandler,
                          TypeHandler, filters)

from . import handlers as h
from . import taskcmds as t
from .notify import Notifier
from .texts import menu
from .transport import TelegramTransport, WindowedRateLimiter

log = logging.getLogger("taskbot.bot")

RATE_RETRIES = 3  # RetryAfter retries inside PTB's rate limiter (the transport adds its own on top)


OVERALL_PER_SEC = 29.5  # just under Telegram's 30 messages per second


def rate_limiter() -> AIORateLimiter:
    """Pace, don't bounce: one request every 1/29.5 s overall (no bursts), 20/min per group.

    A bucket of 30 per second lets 30 requests leave at once, so a sliding one-second window
    (Telegram's) answers 429 at the seams; spacing them evenly keeps under it (bench/storm.py).
    RetryAfter still halts all sends and retries.
    """
    return WindowedRateLimiter(overall_max_rate=1, overall_time_period=1 / OVERALL_PER_SEC, group_max_rate=20,
                               group_time_period=60, max_retries=RATE_RETRIES)  # one sendMessage on the wire


def build_application(cfg) -> Application:
    """The bot's Application for `cfg.token` against `cfg.api_url`, with every handler registered."""
    base = cfg.api_url.rstrip("/")
    file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"
    application = (Application.builder().application_class(TaskbotApplication).token(cfg.token).base_url(base)
                   .base_file_url(file_base).rate_limiter(rate_limiter()).build())
    register(application)
    return application


def register(application: Application) -> None:
    """Add the handlers (commands work in groups as /cmd@botname too)."""
    application.add_handler(TypeHandler(Update, h.touch), group=-1)
    for name, callback in (("start", h.start), ("help", h.help_cmd), ("join", h.join), ("leave", h.leave),
                           ("lang", h.lang_cmd), ("whoami", h.whoami), ("feed", h.feed), ("invite", h.invite),
                           ("tasks", t.tasks), ("due", t.due), ("overdue", t.overdue), ("task", t.task),
                           ("done", t.done), ("undo", t.undo), ("progress", t.progress)):
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(t.on_button))
    application.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, h.unknown))
    application.add_error_handler(h.on_error)


def transport_of(application: Application) -> TelegramTransport:
    """The service's Telegram transport (shared pacing), or a new one for this bot."""
    service = application.bot_data.get("service")
    dispatcher = getattr(service, "dispatcher", None)
    transport = getattr(dispatcher, "transport", None)
    if isinstance(transport, TelegramTransport):
        return transport
    return application.bot_data.setdefault("transport", TelegramTransport(application.bot))


class TaskbotApplication(Application):
    """An Application whose `initialize()` also sets the menu and hooks announcements.

    (`post_init` runs only under `run_polling()`; `app.serve()` calls `initialize()` itself.)
    """

    async def initialize(self) -> None:
        was = self._initialized
        await super().initialize()
        if not was:
            await _on_initialize(self)


async def _on_initialize(application: Application) -> None:
    service = application.bot_data.get("service")
    if service is not None:
        notifier = Notifier(application, service, transport_of(application))
        application.bot_data["notifier"] = notifier
        service.listeners.append(notifier.on_change)
    await set_commands(application)


async def set_commands(application: Application) -> None:
    """setMyCommands for Chinese, English and the default (Chinese)."""
    try:
        for lang, code in (("zh", None), ("zh", "zh"), ("en", "en")):
            await application.bot.set_my_commands([BotCommand(c, d) for c, d in menu(lang)], language_code=code)
    except TelegramError as exc:  # the menu is a convenience: never a reason not to start
        log.warning("could not set the command menu: %s", exc)


__all__ = ["TelegramTransport", "build_application", "register", "set_commands", "rate_limiter"]
