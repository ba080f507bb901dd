"""The Telegram bot: a python-telegram-bot 22 `Application` (long polling) over the `Service`.

`build_application(cfg)` builds it; `app.serve()` puts the service into `bot_data["service"]`
before `initialize()`, which publishes the command menu and registers the
announcements of changes (see `TaskbotApplication`).
"""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from . import boardcmd as b
from . import flood
from . import handlers as h
from . import taskcmds as t
from .notify import Notifier
from .pacing import Pacer
from .prefs import checkins
from .texts import menu
from .transport import TelegramTransport

log = logging.getLogger("taskbot.bot")

def rate_limiter() -> Pacer:
    """Pace, don't bounce: a response-anchored window of 30 sends per second, 1/s per chat, 20/min per group,
    digests and replies sharing it fairly (taskbot/bot/pacing.py; bench/storm.py measures it)."""
    return Pacer()


def build_application(cfg, gate: flood.FloodGate | None = None) -> Application:
    """The bot's Application for `cfg.token` against `cfg.api_url`, with every handler registered.

    Updates are handled concurrently, each chat's in order, behind per-user flood control (`gate`).
    """
    base = cfg.api_url.rstrip("/")
    file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"
    gate = gate or flood.FloodGate()
    application = (Application.builder().application_class(TaskbotApplication).token(cfg.token).base_url(base)
                   .base_file_url(file_base).rate_limiter(rate_limiter())
                   .concurrent_updates(flood.ChatOrderedProcessor(gate)).build())
    application.bot_data["flood"] = gate
    register(application)
    return application


def register(application: Application) -> None:
    """Add the handlers (commands work in groups as /cmd@botname too)."""
    application.add_handler(TypeHandler(Update, flood.warn), group=-2)
    application.add_handler(TypeHandler(Update, h.touch), group=-1)
    for name, callback in (("start", h.start), ("help", h.help_cmd), ("join", h.join), ("leave", h.leave),
                           ("lang", h.lang_cmd), ("whoami", h.whoami), ("feed", h.feed), ("invite", h.invite),
                           ("board", b.board),
                           ("tasks", t.tasks), ("due", t.due), ("overdue", t.overdue), ("task", t.task),
                           ("done", t.done), ("undo", t.undo), ("progress", t.progress), ("checkins", checkins)):
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
