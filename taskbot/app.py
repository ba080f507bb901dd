"""`taskbot run`: bot, scheduler and feed server in one asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import zlib

from . import runlog
from .clock import Clock
from .delivery import ConsoleTransport
from .i18n import cli_tr
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


def _warn_clock_behind(cfg, clock, store, registry) -> None:
    """A replay (--clock) on a database that has already lived past that instant sends only what it never sent."""
    last = store.last_tick()
    now = clock.now()
    if cfg.clock is None or last is None or now >= last:
        return
    tz = registry.settings.tz
    fresh = os.path.join(os.path.dirname(cfg.db) or ".", "replay.sqlite3") if "://" not in cfg.db else "data/replay.sqlite3"
    print("taskbot: " + cli_tr(
        "the clock ({clock}) is before the last tick in this database ({last}): reminders its ledger already records "
        "are not sent again; use a fresh database for replays: --db {fresh}",
        clock=now.astimezone(tz).isoformat(timespec="minutes"), last=last.astimezone(tz).isoformat(timespec="minutes"),
        fresh=fresh), file=sys.stderr, flush=True)


LINK_GRACE = 10.0  # seconds serve() waits for Telegram before reporting ready without it


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


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
    from .dburl import redact_url
    from .dburl import sqlite_path
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
        print(f"taskbot: cannot connect to the database {redact_url(cfg.db)}: {reason}; check TASKBOT_DB "
              "and that the server is up", file=sys.stderr, flush=True)
        return 1
    with startup:
        store = Store.open(with_app_name(cfg.db, owner) if pg else cfg.db, create=True, check=True)
        if store.integrity is not None:
            log.info("database %s: quick_check %s", cfg.redacted()["db"], "; ".join(store.integrity))
        if cfg.token:
            from .bot import build_application
            from .bot.link import LinkedTransport

            application = build_application(cfg)
            transport = LinkedTransport(application.bot)
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
    _warn_clock_behind(cfg, clock, store, registry)
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
    tz = registry.settings.tz

    def after_tick(report):
        line = runlog.after_send(report, service.next_wake(), tz)
        if line:
            log.info("%s", line)

    scheduler = ReminderScheduler(service, on_tick=after_tick, gate=lambda: leadership.fence.leading)
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

    link, exit_code = None, 0

    async def on_elected() -> None:
        service.resync()
        if polling:  # only the leader calls getUpdates, so Telegram never answers 409 Conflict
            await link.set_polling(True)
        scheduler.wake_now()
        print(f"taskbot: leading ({leadership.kind}, epoch {leadership.fence.epoch})", flush=True)

    async def on_demoted() -> None:
        print("taskbot: not leading any more: stopped sending reminders; following", flush=True)
        if polling:
            await link.set_polling(False)

    scheduler.start()
    if application is not None:  # Telegram may be unreachable: the link retries, feeds and scheduler keep going
        from .bot.link import TelegramLink

        def rejected(message: str) -> None:
            nonlocal exit_code
            print(f"taskbot: {message}", file=sys.stderr, flush=True)
            exit_code = 1
            stop.set()

        link = TelegramLink(application, token=cfg.token, api_url=cfg.api_url, say=lambda m: print(m, flush=True),
                            on_up=lambda: scheduler.wake_now(), on_rejected=rejected, webhook=webhook)
        transport.link = link
        link.start()
        await _first_of(link.settled, stop, timeout=LINK_GRACE)  # up, or said that it is not
    leader_task = None
    if stop.is_set():  # (a rejected token: nothing to lead)
        pass
    elif isinstance(leadership, SoleLeadership):
        await leadership.run(on_elected, on_demoted, stop)
    else:
        leader_task = asyncio.create_task(leadership.run(on_elected, on_demoted, stop))
        print("taskbot: following until this instance is elected leader (PostgreSQL advisory lock)", flush=True)
    from .board import weekly

    weekly_task = weekly.start(service, application, cfg.outbox, stop)  # settings.reports.weekly
    if not stop.is_set():  # (a rejected token has already said why it stops)
        now = clock.now()
        print(f"taskbot: {registry.summary()}; clock {now.astimezone(tz).isoformat(timespec='seconds')}; "
              f"{runlog.next_reminders(service.next_wake(), now, tz)}", flush=True)
    if ready is not None:
        ready(service)
    try:
        await stop.wait()
    finally:
        weekly_task.cancel()
        await asyncio.gather(weekly_task, return_exceptions=True)
        leadership.fence.leading = False
        if leader_task is not None:
            await leader_task
        scheduler.shutdown()
        print(runlog.stopped(service.dispatcher.pending if service.dispatcher else {}, service.next_wake(), tz),
              flush=True)
        if link is not None:
            await link.stop()
        if web is not None:
            await web.cleanup()
        await asyncio.to_thread(leadership.close)
        store.close()
    return exit_code


def _report_reload(result) -> None:
    report_diagnostics(result.diagnostics)
    print(f"taskbot: reload {'applied: ' + result.summary if result.ok else 'rejected; the previous registry keeps serving'}",
          file=sys.stderr, flush=True)


def report_diagnostics(diagnostics) -> None:
    """After a reload: every error, and only the number of warnings (they were logged at start)."""
    errors = [d for d in diagnostics if d.severity == "error"]
    for d in errors:
        print(d, file=sys.stderr)
    if len(diagnostics) > len(errors):
        print(f"taskbot: {len(diagnostics) - len(errors)} warning(s): run taskbot check", file=sys.stderr)


def run(cfg) -> int:
    """Validate the registry, then serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the bot token
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    from . import logsafe

    logsafe.install([cfg.token])  # no token in any log line, no traceback for a Telegram outage
    registry, diagnostics = check_files(cfg.registry, cfg.units)
    errors = [d for d in diagnostics if d.severity == "error"]
    for d in errors:
        print(d, file=sys.stderr)
    if registry is not None:
        for d in diagnostics:  # the warnings are logged once, here; reloads count them
            log.warning("%s", d)
    if registry is None:
        print("taskbot: the registry is invalid; fix the errors above (see `taskbot check`)", file=sys.stderr)
        return 1
    log.info("starting with %s", cfg.redacted())
    from .dbcheck import DatabaseProblem

    try:
        return asyncio.run(serve(cfg, registry))
    except DatabaseProblem as exc:
        print(f"taskbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
