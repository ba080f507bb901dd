"""`taskbot run`: bot, scheduler and feed server in one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import zlib

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


def _pidfile(path: str):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as fh:
        fh.write(str(os.getpid()))


async def serve(cfg, registry, stop: asyncio.Event | None = None, ready=None) -> int:
    """Run until `stop` is set (or a signal arrives)."""
    from .store import Store

    clock = Clock(cfg.clock)
    store = Store.open(cfg.db, create=True, check=True)
    if store.integrity is not None:
        log.info("database %s: quick_check %s", cfg.redacted()["db"], "; ".join(store.integrity))
    stop = stop or asyncio.Event()
    application = None
    if cfg.token:
        from .bot import build_application
        from .bot.link import LinkedTransport

        application = build_application(cfg)
        transport = LinkedTransport(application.bot)
        service = Service(cfg, clock, store, registry, transport)
        application.bot_data["service"] = service
    else:
        virtual = {virtual_chat(u): u for u in registry.units.units}
        transport = ConsoleTransport(cfg.outbox, clock=clock, label=lambda chat_id: (
            f"the liaison of {virtual[chat_id]}" if chat_id in virtual else f"chat {chat_id}"))
        service = ConsoleService(cfg, clock, store, registry, transport)
        print("taskbot: no TASKBOT_TELEGRAM_TOKEN, so reminders go to this console and to "
              f"{cfg.outbox} (every unit has one virtual liaison)", flush=True)
    _warn_clock_behind(cfg, clock, store, registry)
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
    scheduler = ReminderScheduler(service)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: _report_reload(service.reload()))
    pidfile = os.path.join(os.path.dirname(cfg.db) or ".", "taskbot.pid") if "://" not in cfg.db else "data/taskbot.pid"
    _pidfile(pidfile)
    scheduler.start()
    link, exit_code = None, 0
    if application is not None:  # Telegram may be unreachable: the link retries, feeds and scheduler keep going
        from .bot.link import TelegramLink

        def rejected(message: str) -> None:
            nonlocal exit_code
            print(f"taskbot: {message}", file=sys.stderr, flush=True)
            exit_code = 1
            stop.set()

        link = TelegramLink(application, token=cfg.token, api_url=cfg.api_url, say=lambda m: print(m, flush=True),
                            on_up=lambda: loop.create_task(scheduler.tick()), on_rejected=rejected)
        transport.link = link
        link.start()
        await _first_of(link.settled, stop, timeout=LINK_GRACE)  # up, or said that it is not
    nxt = service.next_wake()
    if not stop.is_set():  # (a rejected token has already said why it stops)
        print(f"taskbot: {registry.summary()}; clock {clock.now().astimezone(registry.settings.tz).isoformat(timespec='seconds')}; "
              f"next reminders at {nxt.isoformat() if nxt else 'never'}", flush=True)
    if ready is not None:
        ready(service)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown()
        if link is not None:
            await link.stop()
        if web is not None:
            await web.cleanup()
        store.close()
        try:
            os.remove(pidfile)  # so that `taskbot reload` never signals a stranger
        except OSError:
            pass
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
