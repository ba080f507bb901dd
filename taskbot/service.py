"""The running service: the current registry, the store, the agenda and the rules for changes.

Bot handlers, HTTP routes and CLI commands call one method here and render its result.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import standing
from .delivery import CATCH_UP_GAP, Dispatcher, TickReport, address, relevant_after_gap
from .diagnostics import Diagnostic, did_you_mean
from .planning import Agenda
from .registry import Registry, Task, check_files

log = logging.getLogger("taskbot.service")

CATCH_UP_AHEAD = timedelta(minutes=10)  # reminders due this soon join a catch-up digest
TOLD_GAP = timedelta(hours=1)  # a standing overdue item told within this is not told again
MAX_NOTE = 500  # characters of a status note or progress report


class NotAllowed(Exception):
    """The caller may not do this (only coordinators change task status)."""


class UnknownTask(LookupError):
    """No such task id; the message carries a suggestion."""


class TooLong(ValueError):
    """An input is longer than allowed; nothing was stored."""


@dataclass
class ReloadResult:
    ok: bool
    diagnostics: list[Diagnostic]
    summary: str = ""


class Service:
    """Holds what is current and applies every change through the store."""

    def __init__(self, config, clock, store, registry: Registry, transport=None):
        self.config, self.clock, self.store = config, clock, store
        self.registry = registry
        self.dispatcher = Dispatcher(store, transport) if transport is not None else None
        self.listeners: list = []  # callables(event: str, task_id: str | None) after changes
        self._lock = asyncio.Lock()
        self._ticked_at: datetime | None = None  # this process's last tick
        self._told: dict[int, tuple[datetime, set]] = {}  # chat -> (when, items) of its last digest
        self._dated: tuple = (None, [])  # (registry fingerprint, standing.dated_items)
        self._overdue: tuple = (None, [])  # ((fingerprint, day, data version), standing.overdue_items)
        store.sync_registry(registry, clock.now())
        last = store.last_tick()
        self.agenda = Agenda(registry, store.task_states(), last or clock.now())
        self._audit_mark = store.last_audit_id()  # status changes after it are news to the agenda
        self._synced = (last, self._audit_mark)  # the stored state the agenda was built from (see resync)

    # --- who may do what -------------------------------------------------
    @property
    def coordinators(self) -> frozenset[int]:
        return frozenset(self.registry.settings.coordinators) | frozenset(self.config.coordinators)

    def is_coordinator(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.coordinators

    def task(self, task_id: str) -> Task:
        """A task by id (case-insensitive), or UnknownTask with a suggestion."""
        tid = (task_id or "").strip().lower()
        task = self.registry.by_id.get(tid)
        if task is None:
            raise UnknownTask(f"unknown task {task_id!r}{did_you_mean(tid, list(self.registry.by_id))}")
        return task

    # --- changes ---------------------------------------------------------
    def set_status(self, task_id: str, status: str, user_id: int | None, note: str | None = None) -> bool:
        """Mark a task done or open again; only coordinators may. False when it already had that status."""
        if not self.is_coordinator(user_id):
            raise NotAllowed("only coordinators change task status")
        task = self.task(task_id)
        if note and len(note) > MAX_NOTE:
            raise TooLong(f"the note has {len(note)} characters; the limit is {MAX_NOTE}")
        now = self.clock.now()
        before = self.store.task_state(task.id)
        state = self.store.set_status(task.id, status, str(user_id), note, now)
        if before is not None and state.sequence == before.sequence:
            return False  # already in that status: no change, nothing to announce
        if status == "open":
            self.agenda.reopen(task.id, now)
        self._changed("status", task.id)
        return True

    def add_progress(self, task_id: str, unit: str, user_id: int, text: str) -> Task:
        task = self.task(task_id)
        if len(text) > MAX_NOTE:
            raise TooLong(f"the report has {len(text)} characters; the limit is {MAX_NOTE}")
        now = self.clock.now()
        self.store.add_progress(task.id, unit, user_id, text, now)
        self.store.audit(str(user_id), "progress", task.id, None, unit, text, now)
        self._changed("progress", task.id)
        return task

    def reload(self) -> ReloadResult:
        """Re-read the registry; an invalid one is rejected and the current one keeps serving."""
        registry, diagnostics = check_files(self.config.registry, self.config.units)
        if registry is None:
            log.error("reload rejected: %d error(s); the previous registry keeps serving",
                      sum(d.severity == "error" for d in diagnostics))
            return ReloadResult(False, diagnostics)
        if registry.fingerprint == self.registry.fingerprint:
            return ReloadResult(True, diagnostics, "unchanged")
        now = self.clock.now()
        agenda = Agenda(registry, self.store.task_states(), self.store.last_tick() or now)  # before anything changes
        result = self.store.sync_registry(registry, now)
        self.registry, self.agenda = registry, agenda
        self._changed("reload", None)
        summary = (f"{registry.summary()}; added {len(result.added)}, changed {len(result.changed)}, "
                   f"withdrawn {len(result.withdrawn)}, restored {len(result.restored)}")
        log.info("registry reloaded: %s", summary)
        return ReloadResult(True, diagnostics, summary)

    def _changed(self, event: str, task_id: str | None) -> None:
        for listener in list(self.listeners):
            listener(event, task_id)

    # --- reminders -------------------------------------------------------
    async def tick(self) -> TickReport:
        """Send what is due since the last tick; after downtime, one catch-up digest per chat."""
        async with self._lock:
            now = self.clock.now()
            last = self.store.last_tick()
            if last is None or now < last:  # a fresh install does not treat the past as missed
                self.store.set_last_tick(now)
                self.agenda = Agenda(self.registry, self.store.task_states(), now)
                self._ticked_at = now
                return TickReport(now)
            self._follow_reopened(now)
            # downtime is measured from this process's last tick when there is one: a chat that keeps
            # failing holds the stored mark back (so a restart retries it) but is no downtime
            catch_up = now - (self._ticked_at or last) > CATCH_UP_GAP
            # a catch-up takes in what is due in the next minutes too (a restart at 08:59:30 before a 09:00
            # send time): one digest, not the same items twice within a minute
            due = self.agenda.pop_due(now + CATCH_UP_AHEAD if catch_up else now, _LazyStates(self.store))
            members = self.members() if due else {}
            deliveries = address(self.registry, due, members, sorted(self.coordinators))
            if catch_up:
                deliveries = relevant_after_gap(deliveries, now.astimezone(self.registry.settings.tz).date())
            report = TickReport(now, catch_up)
            if self.dispatcher is not None and (deliveries or self.dispatcher.pending):
                if getattr(self.dispatcher.transport, "ready", True):
                    context = self.standing(members, deliveries, now)
                    report = await self.dispatcher.dispatch(deliveries, self.registry, now, catch_up, self.coordinators,
                                                            context)
                    self._remember_told(deliveries, context, report, now)
                else:  # Telegram cannot be reached: keep them pending (the stored mark stays before them)
                    for d in deliveries:
                        self.dispatcher.pending.setdefault(d.key, d)
                    if deliveries:
                        log.info("%d reminder(s) held until Telegram can be reached", len(deliveries))
            pending = self.dispatcher.earliest_pending() if self.dispatcher else None
            fence = getattr(self.dispatcher, "fence", None)
            if fence is None or fence.leading:  # a leader that lost its lock leaves the mark to the new one
                self.store.set_last_tick(min(now, pending - timedelta(microseconds=1)) if pending else now)
            self._ticked_at = now
            return report

    def _follow_reopened(self, now: datetime) -> None:
        """Items set open again by another process (`taskbot undo`, another instance) get their reminders back."""
        reopened, self._audit_mark = self.store.reopened_since(self._audit_mark)
        for task_id, at in reopened:
            self.agenda.reopen(task_id, min(at, now))

    def resync(self) -> None:
        """Take up from the store after another instance led: the agenda from the stored last tick, nothing pending.
        Nothing to do when no tick and no status change happened since the agenda was built (a first election)."""
        mark, last = self.store.last_audit_id(), self.store.last_tick()  # (before the states the new agenda reads)
        if (last, mark) == self._synced and self._ticked_at is None:
            return
        self._audit_mark, self._synced = mark, (last, mark)
        self.agenda = Agenda(self.registry, self.store.task_states(), last or self.clock.now())
        self._ticked_at = None
        if self.dispatcher is not None:
            self.dispatcher.pending.clear()

    def standing(self, members, deliveries, now: datetime) -> dict:
        """What the chats about to get a digest should see besides its triggers: every open overdue item,
        less what this process told the chat within the last TOLD_GAP (a second digest soon after a first)."""
        chats = {d.chat_id for d in (*deliveries, *self.dispatcher.pending.values())}
        context = standing.context(self.registry, self.overdue(now), members or self.members(), self.coordinators,
                                   chats)
        for chat, ds in context.items():
            at, items = self._told.get(chat, (None, ()))
            if at is not None and now - at < TOLD_GAP:
                context[chat] = [d for d in ds if d.reminder.item not in items]
        return context

    def overdue(self, now: datetime) -> list:
        """Every open overdue item (standing.overdue_items), kept until the day, the registry or the data change:
        a tick costs what is past its date, not what is registered."""
        today = now.astimezone(self.registry.settings.tz).date()
        key = (self.registry.fingerprint, today, self.store.data_version())
        if self._overdue[0] != key:
            if self._dated[0] != self.registry.fingerprint:
                self._dated = (self.registry.fingerprint, standing.dated_items(self.registry))
            self._overdue = (key, standing.overdue_items(self.registry, _LazyStates(self.store), today, now,
                                                         self._dated[1]))
        return self._overdue[1]

    def _remember_told(self, deliveries, context: dict, report, now: datetime) -> None:
        failed = set(report.failed_chats) | set(report.deactivated)
        told: dict[int, set] = {}
        for d in (*deliveries, *(d for ds in context.values() for d in ds)):
            if d.chat_id not in failed:
                told.setdefault(d.chat_id, set()).add(d.reminder.item)
        self._told = {c: v for c, v in self._told.items() if now - v[0] < TOLD_GAP}
        for chat, items in told.items():
            self._told[chat] = (now, items | set(self._told.get(chat, (now, set()))[1]))

    def members(self) -> dict[str, list[int]]:
        """Liaison chats by unit."""
        return self.store.members()

    def next_wake(self) -> datetime | None:
        return self.agenda.next_at()


class _LazyStates:
    """Task state looked up only for the items that are due (keeps a tick's cost to what is due)."""

    def __init__(self, store):
        self.store, self._cache = store, {}

    def get(self, task_id, default=None):
        if task_id not in self._cache:
            self._cache[task_id] = self.store.task_state(task_id)
        return self._cache[task_id] or default

    def __bool__(self):
        return True
