"""`taskbot run`: bot, scheduler and feed server in one asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import zlib

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


async def serve(cfg, registry, stop: asyncio.Event | None = None, ready=None) -> int:
    """Run until `stop` is set (or a signal arrives). One instance per SQLite file (its pid file's lock)."""
    from .instance import AlreadyRunning, acquire

    try:
        lock = acquire(cfg.db)
    except AlreadyRunning as exc:
        print(f"taskbot: {exc}", file=sys.stderr, flush=True)
        return 1
    try:
        return await _serve(cfg, registry, stop, ready)
    finally:
        lock.release()  # removes the pid file this process holds, never another's


async def _serve(cfg, registry, stop: asyncio.Event | None, ready) -> int:
    from .config import _redact_url
    from .instance import sqlite_path
    from .leader import PgLeadership, SoleLeadership, instance_id, startup_lock, with_app_name
    from .store import Store

    clock = Clock(cfg.clock)
    owner = instance_id()
    pg = "://" in cfg.db and sqlite_path(cfg.db) is None
    stop = stop or asyncio.Event()
    application = None
    startup = contextlib.ExitStack()  # instances starting together migrate and sync the registry one by one
    try:
        if pg:
            startup.enter_context(startup_lock(cfg.db))
    except Exception as exc:  # psycopg2.OperationalError: no server, refused, bad credentials
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        print(f"taskbot: cannot connect to the database {_redact_url(cfg.db)}: {reason}; check TASKBOT_DB "
              "and that the server is up", file=sys.stderr, flush=True)
        return 1
    with startup:
        store = Store.open(with_app_name(cfg.db, owner) if pg else cfg.db)
        if cfg.token:
            from .bot import TelegramTransport, build_application

            application = build_application(cfg)
            transport = TelegramTransport(application.bot)
            service = Service(cfg, clock, store, registry, transport)
            application.bot_data["service"] = service
        else:
            virtual = {virtual_chat(u): u for u in registry.units.units}
            transport = ConsoleTransport(cfg.outbox, clock=clock, label=lambda chat_id: (
                f"the liaison of {virtual[chat_id]}" if chat_id in virtual else f"chat {chat_id}"))
            service = ConsoleService(cfg, clock, store, registry, transport)
            print("taskbot: no TASKBOT_TELEGRAM_TOKEN, so reminders go to this console and to "
                  f"{cfg.outbox} (every unit has one virtual liaison)", flush=True)
    leadership = PgLeadership(cfg.db, store, owner) if pg else SoleLeadership(store, owner)
    service.leadership = leadership  # /healthz shows the role
    service.dispatcher.fence = leadership.fence  # claimed before sending, only while leading
    webhook = cfg.webhook_url if application is not None else None
    service.mode = "webhook" if webhook else "polling" if application is not None else "console"
    routes = []
    if webhook:
        from .bot.webhook import WebhookHandler

        routes.append(WebhookHandler(application, service, owner).route(webhook))
    web = None
    try:
        from .web import start_web

        host, port = cfg.http_host_port
        web = await start_web(service, host, port, routes)
        print(f"taskbot: calendar feeds on http://{host}:{port}/feeds/<token>.ics "
              "(create one with `taskbot feed-url --all`)", flush=True)
    except ImportError:
        log.info("feed server not available")
    except OSError as exc:
        print(f"taskbot: cannot serve feeds on {cfg.http}: {exc.strerror or exc}", file=sys.stderr)
        store.close()
        return 1
    scheduler = ReminderScheduler(service, gate=lambda: leadership.fence.leading)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def reload() -> None:
        try:
            with leadership.startup_lock():  # instances signalled together sync one after the other
                _report_reload(service.reload())
        except Exception as exc:  # the database is unreachable: the current registry keeps serving
            print(f"taskbot: reload failed ({exc.__class__.__name__}); the previous registry keeps serving",
                  file=sys.stderr, flush=True)

    loop.add_signal_handler(signal.SIGHUP, reload)
    polling = application is not None and not webhook

    async def on_elected() -> None:
        service.resync()
        if polling and not application.updater.running:
            await application.updater.start_polling(drop_pending_updates=False, allowed_updates=["message", "callback_query"])
        scheduler.wake_now()
        print(f"taskbot: leading ({leadership.kind}, epoch {leadership.fence.epoch})", flush=True)

    async def on_demoted() -> None:
        print("taskbot: not leading any more: stopped sending reminders; following", flush=True)
        if polling and application.updater.running:
            await application.updater.stop()

    if application is not None:
        await application.initialize()
        await application.start()
        if webhook:
            from .bot.webhook import register

            await register(application, webhook)
    scheduler.start()
    leader_task = None
    if isinstance(leadership, SoleLeadership):
        await leadership.run(on_elected, on_demoted, stop)
    else:
        leader_task = asyncio.create_task(leadership.run(on_elected, on_demoted, stop))
        print("taskbot: following until this instance is elected leader (PostgreSQL advisory lock)", flush=True)
    nxt = service.next_wake()
    print(f"taskbot: {registry.summary()}; clock {clock.now().astimezone(registry.settings.tz).isoformat(timespec='seconds')}; "
          f"next reminders at {nxt.isoformat() if nxt else 'never'}", flush=True)
    if ready is not None:
        ready(service)
    try:
        await stop.wait()
    finally:
        leadership.fence.leading = False
        if leader_task is not None:
            await leader_task
        scheduler.shutdown()
        if application is not None:
            if application.updater.running:
                await application.updater.stop()
            await application.stop()
            await application.shutdown()
        if web is not None:
            await web.cleanup()
        await asyncio.to_thread(leadership.close)
        store.close()
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
