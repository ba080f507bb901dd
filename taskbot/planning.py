"""Reminder planning: pure functions from (registry, state, policy, calendar, window) to deliveries.

Every item (a task's due date, a milestone, an occurrence of a recurring duty, an undated task's
check-in) has a trigger: an iterator of reminders in time order, like an APScheduler trigger.
`plan` merges them over a window; `Agenda` keeps them in a heap so that a tick costs what is
due, not what is registered. No clock is read here: every instant is passed in.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Iterator

from .registry import Policy, Registry, Task
from .workdays import WorkCalendar

ROLE_RANK = {"lead": 0, "responsible": 1, "cooperating": 2, "coordinator": 3}
_PERIOD_DAYS = {"weekly": 7, "monthly": 28, "quarterly": 90, "half-yearly": 180, "yearly": 365}


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder about one item, before recipients are known."""

    at: datetime
    task_id: str
    item: str  # "cw-01", milestone "cw-01#2", occurrence "cw-01@2018-09-30"
    kind: str  # before:N | due | overdue | escalation | checkin | recurring
    due: date | None
    title: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """A reminder addressed to one chat (or, in a simulation, to one unit)."""

    reminder: Reminder
    chat_id: int | None
    unit: str | None
    role: str  # lead | responsible | cooperating | coordinator

    @property
    def key(self) -> str:
        r = self.reminder
        return f"{r.item}|{r.kind}|{self.chat_id}|{r.at.date().isoformat()}"


def calendar_for(registry: Registry) -> WorkCalendar:
    s = registry.settings
    return WorkCalendar(s.holidays, s.workdays)


class _Shift:
    """Moves days onto working days when the policy asks for it."""

    def __init__(self, cal: WorkCalendar, policy: Policy):
        self.cal, self.on = cal, policy.workdays_only

    def back(self, day: date) -> date:
        return self.cal.previous_workday(day) if self.on else day

    def forward(self, day: date) -> date:
        return self.cal.next_workday(day) if self.on else day


def _before(due: date, policy: Policy, shift: _Shift, kinds: Iterable[int] | None = None,
            label: Callable[[int], str] | None = None) -> list[tuple[date, str]]:
    """Reminder days before a date, earliest first; on a shared day the nearer one wins."""
    by_day: dict[date, int] = {}
    for n in (policy.before_days if kinds is None else kinds):
        day = shift.back(due - timedelta(days=n))
        if day not in by_day or n < by_day[day]:
            by_day[day] = n
    label = label or (lambda n: "due" if n == 0 else f"before:{n}")
    return [(d, label(n)) for d, n in sorted(by_day.items())]


def _repeating(first: date, step: int, shift: _Shift, since: date | None, until: date | None = None) -> Iterator[date]:
    """first, first+step, ... each moved forward to a working day; skips ahead to `since`."""
    k = max(0, (since - first).days // step - 1) if since else 0
    last = None
    while True:
        day = shift.forward(first + timedelta(days=k * step))
        if until is not None and day >= until:
            return
        if day != last:
            yield day
        last, k = day, k + 1


def _dated(task: Task, item: str, title: str, due: date, policy: Policy, shift: _Shift,
           since: date | None, until: date | None, tz) -> Iterator[Reminder]:
    at = lambda d: datetime.combine(d, policy.at, tz)  # noqa: E731
    for day, kind in _before(due, policy, shift):
        yield Reminder(at(day), task.id, item, kind, due, title)
    overdue = _repeating(shift.forward(due + timedelta(days=1)), policy.overdue_every, shift, since, until)
    streams = [((at(d), "overdue") for d in overdue)]
    if until is None and task.roles():
        esc = _repeating(shift.forward(due + timedelta(days=max(1, policy.escalate_after))),
                         policy.overdue_every, shift, since)
        streams.append(((at(d), "escalation") for d in esc))
    for when, kind in heapq.merge(*streams):  # on one day: escalation, then overdue (the order of `_key`)
        yield Reminder(when, task.id, item, kind, due, title)


def task_triggers(task: Task, cal: WorkCalendar, tz, start: date, since: date | None = None) -> list[Iterator[Reminder]]:
    """The trigger of each item of a task, each in time order. `start` is the document's issue date."""
    policy, shift = task.policy, _Shift(cal, task.policy)
    out: list[Iterator[Reminder]] = []
    if task.due is not None:
        out.append(_dated(task, task.id, task.title, task.due, policy, shift, since, None, tz))
        later = [m.due for m in task.milestones] + [task.due]
        for i, m in enumerate(task.milestones, 1):
            if m.due < task.due:
                nxt = next(d for d in later if d > m.due)
                out.append(_dated(task, f"{task.id}#{i}", m.title, m.due, policy, shift, since, nxt, tz))
    if task.every is not None:
        out.append(_recurring(task, policy, shift, tz, max(start, since or start)))
    elif task.due is None and policy.ongoing != "none":
        out.append(_checkins(task, policy, cal, tz, max(start, since or start)))
    return out


def _recurring(task: Task, policy: Policy, shift: _Shift, tz, start: date) -> Iterator[Reminder]:
    period = _PERIOD_DAYS[task.every.freq]
    lead = max((n for n in policy.before_days if 0 < n <= period // 4), default=None)
    days = [0] if lead is None else [lead, 0]
    end = task.due or date.max
    for occ in task.every.occurrences(start, min(end, date(9998, 12, 31))):
        for day, _ in _before(occ, policy, shift, days):
            yield Reminder(datetime.combine(day, policy.at, tz), task.id, f"{task.id}@{occ.isoformat()}",
                           "recurring", occ, task.title)


def _checkins(task: Task, policy: Policy, cal: WorkCalendar, tz, start: date) -> Iterator[Reminder]:
    step = 3 if policy.ongoing == "quarterly" else 1
    year, month = start.year, start.month
    if step == 3:
        month = ((month - 1) // 3) * 3 + 1
    while True:
        day = cal.first_workday_of_month(year, month) if policy.workdays_only else date(year, month, 1)
        if day >= start:
            yield Reminder(datetime.combine(day, policy.at, tz), task.id, task.id, "checkin", None, task.title)
        month += step
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1


def _open(task: Task, states) -> bool:
    state = states.get(task.id) if states else None
    return state is None or (state.status != "done" and not state.withdrawn)


def reminders(registry: Registry, states, start: datetime, end: datetime) -> Iterator[Reminder]:
    """Every reminder of open items with start < at <= end, in time order."""
    cal, tz = calendar_for(registry), registry.settings.tz
    since = start.astimezone(tz).date() - timedelta(days=1)
    streams = []
    for task in registry.tasks:
        if _open(task, states):
            issued = registry.documents[task.doc].issued
            streams += task_triggers(task, cal, tz, issued, since)
    for r in heapq.merge(*streams, key=lambda r: r.at):
        if r.at > end:
            return
        if r.at > start:
            yield r


def recipients(registry: Registry, reminder: Reminder, members: dict, coordinators: Iterable[int]) -> list[Delivery]:
    """Address a reminder: liaison chats of the item's units (groups expanded), or coordinators."""
    if reminder.kind == "escalation":
        return [Delivery(reminder, c, None, "coordinator") for c in coordinators]
    task = registry.by_id[reminder.task_id]
    best: dict = {}
    for name, role in task.roles():
        for unit in registry.units.expand(name):
            for chat in members.get(unit, ()):
                key = (chat, unit) if chat is None else chat
                if key not in best or ROLE_RANK[role] < ROLE_RANK[best[key].role]:
                    best[key] = Delivery(reminder, chat, unit, role)
    return list(best.values())


def plan(registry: Registry, states, members: dict, start: datetime, end: datetime,
         coordinators: Iterable[int] = ()) -> list[Delivery]:
    """All deliveries in (start, end]: the planner as one pure function."""
    coordinators = tuple(coordinators)
    return [d for r in reminders(registry, states, start, end) for d in recipients(registry, r, members, coordinators)]


def simulate(registry: Registry, first: date, last: date, unit: str | None = None, states=None) -> list[dict]:
    """Rows for `taskbot simulate`: as if every unit had one liaison and coordinators one chat."""
    tz = registry.settings.tz
    start = datetime.combine(first, datetime.min.time(), tz) - timedelta(microseconds=1)
    end = datetime.combine(last, datetime.max.time(), tz)
    members = {u: (None,) for u in registry.units.units}
    rows = []
    for d in plan(registry, states or {}, members, start, end, coordinators=(None,)):
        if unit is not None and d.unit != unit:
            continue
        r = d.reminder
        rows.append({"at": r.at.isoformat(), "unit": d.unit or "coordinators", "task": r.task_id,
                     "item": r.item, "kind": r.kind, "due": r.due.isoformat() if r.due else None,
                     "role": d.role, "title": r.title})
    return rows


def _key(r: Reminder) -> tuple:
    """The total order of reminders: time, then item, then kind."""
    return (r.at, r.item, r.kind)


class Agenda:
    """The next reminder of every open task in a heap: `pop_due(now)` costs what is due, not what is registered.

    One small entry per task; when it fires, the task's triggers are run again from that point to
    find the next one, so no iterator is kept alive (100k tasks fit in a few dozen MB).
    """

    def __init__(self, registry: Registry, states, since: datetime):
        self.registry = registry
        self._cal, self._tz = calendar_for(registry), registry.settings.tz
        self._heap: list = []
        for task in registry.tasks:
            if _open(task, states):
                self._add(task, (since, _LAST, ""))
        heapq.heapify(self._heap)

    def _next(self, task: Task, after: tuple) -> Reminder | None:
        """The task's first reminder whose key is after `after`."""
        issued = self.registry.documents[task.doc].issued
        day = after[0].astimezone(self._tz).date() - timedelta(days=1)
        best = None
        for r in heapq.merge(*task_triggers(task, self._cal, self._tz, issued, day), key=_key):
            if best is not None and r.at > best.at:
                break
            if _key(r) > after and (best is None or _key(r) < _key(best)):
                best = r
        return best

    def _add(self, task: Task, after: tuple) -> None:
        r = self._next(task, after)
        if r is not None:
            self._heap.append((r.at, r.item, r.kind, r))

    def next_at(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: datetime, states) -> list[Reminder]:
        """Reminders with at <= now, for items still open; their tasks move on to their next reminder."""
        out = []
        while self._heap and self._heap[0][0] <= now:
            *_, r = heapq.heappop(self._heap)
            task = self.registry.by_id.get(r.task_id)
            if task is None or not _open(task, states):
                continue  # done or withdrawn: dropped (reopen() adds the task back)
            out.append(r)
            nxt = self._next(task, _key(r))
            if nxt is not None:
                heapq.heappush(self._heap, (nxt.at, nxt.item, nxt.kind, nxt))
        return out

    def reopen(self, task_id: str, since: datetime) -> None:
        """Add a task again after it was reopened (`/undo`)."""
        self._heap = [e for e in self._heap if e[3].task_id != task_id]
        task = self.registry.by_id.get(task_id)
        if task is not None:
            self._add(task, (since, _LAST, ""))
        heapq.heapify(self._heap)

    def __len__(self) -> int:
        return len(self._heap)


_LAST = "\U0010ffff"  # sorts after every item id: "strictly after this instant"
