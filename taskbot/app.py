"""`taskbot run`: bot, scheduler and feed server in one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import zlib

from . import runlog
from .clock import Clock
from .delivery import ConsoleTransport
from .registry import check_files
from .scheduler import ReminderScheduler
from .service import Service

log = logging.getLogger("taskbot")


def virtual_chat(unit: str) -> int:
    """A stable stand-in chat id for a unit's liaison when running without Telegram."""
    return -(10**15) - zlib.crc32(unit.encode())


class ConsoleService(Service):
    """Without a token every unit has one virtual liaison, so the console shows what would be sent."""

    def members(self) -> dict[str, list[int]]:
        out = {u: [virtual_chat(u)] for u in self.registry.units.units}
        for unit, chats in self.store.members().items():
            out.setdefault(unit, []).extend(chats)
        return out


def _pidfile(path: str):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as fh:
        fh.write(str(os.getpid()))


async def serve(cfg, registry, stop: asyncio.Event | None = None, ready=None) -> int:
    """Run until `stop` is set (or a signal arrives)."""
    from .store import Store

    clock = Clock(cfg.clock)
    store = Store.open(cfg.db)
    stop = stop or asyncio.Event()
    application = None
    if cfg.token:
        from .bot import TelegramTransport, build_application

        application = build_application(cfg)
        transport = TelegramTransport(application.bot)
        service = Service(cfg, clock, store, registry, transport)
        application.bot_data["service"] = service
    else:
        virtual = {virtual_chat(u): u for u in registry.units.units}

        def unit_of(chat_id):
            return virtual.get(chat_id) or "、".join(store.chat_units(chat_id)) or None

        transport = ConsoleTransport(cfg.outbox, clock=clock, unit_of=unit_of, label=lambda chat_id: (
            f"the liaison of {virtual[chat_id]}" if chat_id in virtual else
            f"chat {chat_id} ({unit_of(chat_id)})" if unit_of(chat_id) else f"chat {chat_id}"))
        service = ConsoleService(cfg, clock, store, registry, transport)
        print("taskbot: no TASKBOT_TELEGRAM_TOKEN, so reminders go to this console and to "
              f"{cfg.outbox} (every unit has one virtual liaison)", flush=True)
    web = None
    try:
        from .web import start_web

        host, port = cfg.http_host_port
        web = await start_web(service, host, port)
        print(f"taskbot: calendar feeds on http://{host}:{port}/feeds/<token>.ics "
              "(create one with `taskbot feed-url --all`)", flush=True)
    except ImportError:
        log.info("feed server not available")
    except OSError as exc:
        print(f"taskbot: cannot serve feeds on {cfg.http}: {exc.strerror or exc}", file=sys.stderr)
        store.close()
        return 1
    tz = registry.settings.tz

    def after_tick(report):
        line = runlog.after_send(report, service.next_wake(), tz)
        if line:
            log.info("%s", line)

    scheduler = ReminderScheduler(service, on_tick=after_tick)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: _report_reload(service.reload()))
    pidfile = os.path.join(os.path.dirname(cfg.db) or ".", "taskbot.pid") if "://" not in cfg.db else "data/taskbot.pid"
    _pidfile(pidfile)
    if application is not None:
        await application.initialize()
        await application.start()
        await application.updater.start_polling(drop_pending_updates=False, allowed_updates=["message", "callback_query"])
    scheduler.start()
    now = clock.now()
    print(f"taskbot: {registry.summary()}; clock {now.astimezone(tz).isoformat(timespec='seconds')}; "
          f"{runlog.next_reminders(service.next_wake(), now, tz)}", flush=True)
    if ready is not None:
        ready(service)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown()
        print(runlog.stopped(service.dispatcher.pending if service.dispatcher else {}, service.next_wake(), tz),
              flush=True)
        if application is not None:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
        if web is not None:
            await web.cleanup()
        store.close()
        try:
            os.remove(pidfile)  # so that `taskbot reload` never signals a stranger
        except OSError:
            pass
    return 0


def _report_reload(result) -> None:
    for d in result.diagnostics:
        print(d, file=sys.stderr)
    print(f"taskbot: reload {'applied: ' + result.summary if result.ok else 'rejected; the previous registry keeps serving'}",
          file=sys.stderr, flush=True)


def run(cfg) -> int:
    """Validate the registry, then serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the bot token
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    registry, diagnostics = check_files(cfg.registry, cfg.units)
    errors = [d for d in diagnostics if d.severity == "error"]
    for d in errors:
        print(d, file=sys.stderr)
    if len(diagnostics) > len(errors):
        print(f"taskbot: {len(diagnostics) - len(errors)} warning(s) about the registry; `taskbot check` lists them",
              file=sys.stderr)
    if registry is None:
        print("taskbot: the registry is invalid; fix the errors above (see `taskbot check`)", file=sys.stderr)
        return 1
    log.info("starting with %s", cfg.redacted())
    try:
        return asyncio.run(serve(cfg, registry))
    except KeyboardInterrupt:
        return 130
