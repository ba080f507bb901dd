"""Waking the service: APScheduler jobs at the next send time plus a periodic sweep.

The jobs run on an AsyncIOScheduler (the scheduler PTB's JobQueue wraps) in the bot's loop.
Misfires coalesce; times come from the application's clock, mapped back to real time.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("taskbot.scheduler")

SWEEP = timedelta(seconds=60)


class _QuietCancel(logging.Filter):
    """A job cancelled at shutdown before it started is not an error: drop APScheduler's traceback of it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


logging.getLogger("apscheduler.executors.default").addFilter(_QuietCancel())


class ReminderScheduler:
    """Ticks the service at each send time and every minute; reloads when the registry file changes."""

    def __init__(self, service, sweep: timedelta = SWEEP, on_tick=None, gate=None):
        self.service, self.sweep, self.on_tick = service, sweep, on_tick
        self.gate = gate  # ticks only while gate() holds (the leader); the registry is watched regardless
        self.scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        self._mtimes = self._stat()

    def _stat(self):
        out = []
        for path in (self.service.config.registry, self.service.config.units):
            try:
                out.append(os.stat(path).st_mtime_ns)
            except OSError:
                out.append(None)
        return out

    def start(self) -> None:
        self.scheduler.add_job(self.sweep_job, IntervalTrigger(seconds=self.sweep.total_seconds()),
                               id="sweep", next_run_time=datetime.now().astimezone())
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def sweep_job(self) -> None:
        mtimes = self._stat()
        if mtimes != self._mtimes:
            self._mtimes = mtimes
            result = self.service.reload()
            for d in result.diagnostics:  # errors only: the warnings were logged at start
                if d.severity == "error":
                    log.warning("%s", d)
        await self.tick()

    def wake_now(self) -> None:
        """Tick as soon as possible (a new leader takes up what is due)."""
        self.scheduler.add_job(self.tick, id="wake", replace_existing=True)

    async def tick(self) -> None:
        if self.gate is not None and not self.gate():
            return
        try:
            report = await self.service.tick()
        except asyncio.CancelledError:  # shutting down mid-tick: what was not confirmed stays unsent, no traceback
            log.info("tick interrupted by shutdown; unconfirmed reminders go out after the restart")
            return
        except Exception:  # a failing tick must not stop the scheduler; the ledger keeps it safe
            log.exception("tick failed")
            report = None
        if report is not None and self.on_tick:
            self.on_tick(report)
        self.arm()

    def arm(self) -> None:
        """Schedule a wake at the next send time (in real time)."""
        at = self.service.next_wake()
        if at is None:
            return
        real = self.service.clock.to_real(at)
        self.scheduler.add_job(self.tick, DateTrigger(run_date=real), id="wake", replace_existing=True)
