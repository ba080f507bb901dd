"""Calendar feeds: the registry plus task state rendered as iCalendar (RFC 5545, RFC 7986) bytes.

Pure: no clock, no store, no I/O. The caller passes the task states, a summary of progress reports
and `now`; the same inputs give the same bytes, whatever the time of day (only `now`'s date in the
registry's time zone matters: it decides what is overdue). So a rendered feed can be cached per
(scope, registry, data version, day) and compared byte for byte with golden files.

What a subscriber sees of one item, and the rules that keep clients in step:

* one all-day VEVENT per due date (UID `<task-id>@taskbot`) and per milestone (`<task-id>-m<N>@taskbot`,
  N counting the task's milestones from 1 in date order); the last milestone normally falls on the
  task's due date and is then told inside the due-date event instead of doubling it;
* a recurring duty (`every`) is one VEVENT with an RRULE starting at its first date on or after the
  document's issue date, UNTIL the task's due date when it has one;
* SEQUENCE = 2 x (the store's sequence + number of progress reports) + 1 while the date is overdue.
  The store's sequence rises with every definition or status change and progress changes DESCRIPTION,
  so every change a subscriber can see raises SEQUENCE, including the day an item turns overdue (the
  factor 2 keeps it rising when an overdue item is then marked done, which drops the overdue mark);
* DTSTAMP and LAST-MODIFIED are the latest of the state's update, the latest progress report and the
  moment the date turned overdue: stable between changes, never the time of rendering;
* withdrawn items stay as STATUS:CANCELLED: with their last known definition when the caller has it,
  otherwise as one event on the day of withdrawal that names the task id.

`todo=True` renders the same items as VTODOs instead (for Thunderbird and other task-aware clients;
most calendar apps ignore VTODO). Their UIDs end in `-todo@taskbot`, so that a client subscribed to
both variants never sees one UID twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping

from icalendar import Alarm, Calendar, Event, Todo

from .recurrence import describe_every, rrule  # noqa: F401 (rrule is part of this module's interface)
from .model import Registry, Task

PRODID = "-//taskbot//supervision calendar feeds//ZH"
TTL = timedelta(hours=1)
UID_DOMAIN = "taskbot"
DONE, OVERDUE, CANCELLED = "✅", "⚠️", "🚫"
ROLE_LABELS = (("lead", "牵头单位"), ("responsible", "责任单位"), ("cooperating", "配合单位"))
MAX_NAMES = 3  # lead units named in SUMMARY before "等N个单位"


@dataclass(frozen=True, slots=True)
class ProgressInfo:
    """What the feed shows of an item's progress reports: how many, and the latest one."""

    count: int
    text: str
    unit: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Feed:
    body: bytes
    last_modified: datetime | None  # the latest LAST-MODIFIED in it (UTC); None when empty
    components: int


def summarize_progress(rows: Iterable) -> dict[str, ProgressInfo]:
    """ProgressInfo per task from progress rows (`task_id`, `unit`, `text`, `at`) in time order."""
    out: dict[str, ProgressInfo] = {}
    for r in rows:
        prev = out.get(r.task_id)
        out[r.task_id] = ProgressInfo((prev.count if prev else 0) + 1, r.text, r.unit, r.at)
    return out


def calendar_name(scope: tuple) -> str:
    kind, value = scope
    if kind == "all":
        return "全部督办事项"
    if kind in ("unit", "doc"):
        return f"{value} · 督办事项"
    return "我的督办事项"


def scope_filter(registry: Registry, scope: tuple):
    """A predicate over tasks for ('all'|'unit'|'doc'|'units', value); units are matched through groups."""
    kind, value = scope
    if kind == "all":
        return lambda task: True
    if kind == "doc":
        return lambda task: task.doc == value
    if kind not in ("unit", "units"):
        raise ValueError(f"unknown feed scope {kind!r}")
    units = registry.units
    targets: set[str] = set()
    for name in ([value] if kind == "unit" else list(value or ())):
        targets.add(name)
        targets.update(units.expand(name))  # a group's feed also shows what its members are given
    cache: dict[str, bool] = {}

    def named(name: str) -> bool:
        if name not in cache:
            cache[name] = name in targets or any(m in targets for m in units.expand(name))
        return cache[name]

    return lambda task: any(named(n) for n, _ in task.roles())


def _names(registry: Registry, names: tuple[str, ...]) -> str:
    """Units joined with 、; a group shows its members: 各县(市、区)政府（巩义市、荥阳市）."""
    out = []
    for n in names:
        members = registry.units.expand(n) if registry.units.is_group(n) else ()
        out.append(f"{n}（{'、'.join(members)}）" if members else n)
    return "、".join(out) or "—"


def _who(task: Task) -> str:
    names = task.lead or task.responsible or task.cooperating
    if not names:
        return "目标" if task.kind == "goal" else "—"
    if len(names) > MAX_NAMES:
        return f"{'、'.join(names[:MAX_NAMES - 1])}等{len(names)}个单位"
    return "、".join(names)


@dataclass(frozen=True, slots=True)
class _Item:
    """One dated thing of a task: its due date (milestone 0) or milestone N."""

    task: Task
    n: int  # 0 for the due date, else the milestone's 1-based number
    day: date | None
    title: str | None  # the milestone's title
    folded: str | None  # the due-date event tells the last milestone, which falls on the same day


class _Renderer:
    def __init__(self, registry: Registry, states: Mapping, progress: Mapping[str, ProgressInfo],
                 today: date, todo: bool):
        self.registry, self.states, self.progress = registry, states, progress
        self.today, self.todo = today, todo
        self.tz = registry.settings.tz
        self.alarm_days = registry.settings.alarm_days
        self.latest: datetime | None = None

    # --- shared parts ------------------------------------------------------------------------------
    def uid(self, task_id: str, n: int = 0) -> str:
        return f"{task_id}{f'-m{n}' if n else ''}{'-todo' if self.todo else ''}@{UID_DOMAIN}"

    def midnight_utc(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.tz).astimezone(timezone.utc)

    def stamp(self, task: Task | None, state, overdue_day: date | None) -> datetime:
        """LAST-MODIFIED: the latest change a subscriber can see, without reading a clock."""
        tid = task.id if task is not None else state.task_id
        if state is not None:
            times = [state.updated_at.astimezone(timezone.utc)]
        else:  # not synced to the store yet: the document's issue date stands in
            doc = self.registry.documents.get(task.doc)
            times = [self.midnight_utc(doc.issued if doc else date(2000, 1, 1))]
        p = self.progress.get(tid)
        if p is not None:
            times.append(p.at.astimezone(timezone.utc))
        if overdue_day is not None:
            times.append(self.midnight_utc(overdue_day + timedelta(days=1)))
        stamp = max(times).replace(microsecond=0)
        self.latest = stamp if self.latest is None or stamp > self.latest else self.latest
        return stamp

    def common(self, comp, uid: str, stamp: datetime, sequence: int, summary: str, description: str,
               doc: str | None) -> None:
        comp.add("uid", uid)
        comp.add("dtstamp", stamp)
        comp.add("last-modified", stamp)
        comp.add("sequence", sequence)
        comp.add("summary", summary)
        comp.add("description", description)
        if doc:
            comp.add("categories", [doc])

    def alarm(self, comp, summary: str, related_end: bool) -> None:
        if self.alarm_days <= 0:
            return
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{self.alarm_days}天后到期：{summary}")
        params = {"RELATED": "END"} if related_end else {}
        alarm.add("trigger", timedelta(days=-self.alarm_days), parameters=params)
        comp.add_component(alarm)

    # --- one task ----------------------------------------------------------------------------------
    def first_date(self, task: Task) -> date | None:
        doc = self.registry.documents.get(task.doc)
        start = doc.issued if doc else (task.due or self.today)
        end = task.due or start + timedelta(days=800)
        return next(task.every.occurrences(start, end), None)

    def items(self, task: Task) -> list[_Item]:
        out = []
        if task.every is not None or task.due is not None or self.todo:
            ms = task.milestones
            folded = ms[-1].title if ms and task.due is not None and ms[-1].due == task.due else None
            out.append(_Item(task, 0, task.due, None, folded))
        for i, m in enumerate(task.milestones, 1):
            if i == len(task.milestones) and out and out[0].folded is not None:
                continue
            out.append(_Item(task, i, m.due, m.title, None))
        return out

    def description(self, item: _Item, status: str) -> str:
        task, reg = item.task, self.registry
        doc = reg.documents.get(task.doc)
        lines = [f"{task.doc}《{doc.title}》" if doc else task.doc,
                 f"条目：{task.ref or '—'}（编号 {task.id}）",
                 f"事项：{task.title}"]
        total = len(task.milestones)
        if item.n:
            lines.append(f"阶段 {item.n}/{total}：{item.title}（{item.day.isoformat()}）")
        elif item.folded is not None:
            lines.append(f"阶段 {total}/{total}：{item.folded}")
        if task.detail:
            lines.append(f"内容：{task.detail}")
        for role, label in ROLE_LABELS:
            lines.append(f"{label}：{_names(reg, getattr(task, role))}")
        if task.every is not None:
            deadline = describe_every(task.every) + (f"，至 {task.due.isoformat()}" if task.due else "")
        elif task.due is not None:
            deadline = f"{task.due_text}（{task.due.isoformat()}）" if task.due_text else task.due.isoformat()
        else:
            deadline = task.due_text or "未定"
        lines.append(f"期限：{deadline}")
        lines.append(f"状态：{status}")
        p = self.progress.get(task.id)
        if p is not None:
            when = p.at.astimezone(self.tz).date().isoformat()
            lines.append(f"最新进展（{p.unit + '，' if p.unit else ''}{when}）：{p.text}")
        return "\n".join(lines)

    def status(self, state, withdrawn: bool, overdue: bool) -> tuple[str, str]:
        """(mark for SUMMARY, status words for DESCRIPTION)."""
        if withdrawn:
            return CANCELLED, "已撤销"
        if state is not None and state.status == "done":
            when = state.done_at.astimezone(self.tz).date().isoformat() if state.done_at else ""
            note = f"；{state.note}" if state.note else ""
            return DONE, f"已完成（{when}{note}）" if when or note else "已完成"
        if overdue:
            return OVERDUE, "已逾期"
        return "", "进行中"

    def render_task(self, task: Task, withdrawn: bool) -> list:
        state = self.states.get(task.id)
        done = state is not None and state.status == "done"
        base = (state.sequence if state is not None else 0) + (p.count if (p := self.progress.get(task.id)) else 0)
        start = self.first_date(task) if task.every is not None else None
        out = []
        for item in self.items(task):
            recurring = item.n == 0 and task.every is not None and start is not None
            day = start if recurring else item.day
            if day is None and not self.todo:
                continue  # undated: nothing to put in a calendar (the VTODO variant lists it)
            overdue = bool(not done and not withdrawn and item.day is not None and item.day < self.today
                           and (item.n or task.every is None))
            mark, words = self.status(state, withdrawn, overdue)
            title = task.title if not item.n else f"{task.title}（阶段 {item.n}/{len(task.milestones)}：{item.title}）"
            plain = f"【{_who(task)}】{title}"
            summary = f"{mark} {plain}" if mark else plain
            stamp = self.stamp(task, state, item.day if overdue else None)
            comp = Todo() if self.todo else Event()
            self.common(comp, self.uid(task.id, item.n), stamp, 2 * base + int(overdue), summary,
                        self.description(item, words), task.doc)
            if self.todo:
                self.todo_fields(comp, task, item, state, withdrawn, recurring, day)
            else:
                comp.add("dtstart", day)
                comp.add("dtend", day + timedelta(days=1))
                comp.add("transp", "TRANSPARENT")
                comp.add("status", "CANCELLED" if withdrawn else "CONFIRMED")
                if recurring:
                    comp.add("rrule", rrule(task.every, task.due))
            if not done and not withdrawn and day is not None:
                self.alarm(comp, plain, related_end=self.todo)
            out.append(comp)
        return out

    def todo_fields(self, comp, task, item, state, withdrawn, recurring, day) -> None:
        if recurring:
            comp.add("dtstart", day)
            comp.add("due", day)
            comp.add("rrule", rrule(task.every, task.due))
        elif day is not None:
            comp.add("due", day)
        if item.n:
            comp.add("related-to", self.uid(task.id), parameters={"RELTYPE": "PARENT"})
        if withdrawn:
            comp.add("status", "CANCELLED")
        elif state is not None and state.status == "done":
            comp.add("status", "COMPLETED")
            comp.add("percent-complete", 100)
            if state.done_at:
                comp.add("completed", state.done_at.astimezone(timezone.utc).replace(microsecond=0))
        else:
            comp.add("status", "NEEDS-ACTION")

    def render_withdrawn_id(self, state) -> object:
        """A withdrawn item whose definition is gone: one cancelled event on the day it was withdrawn."""
        stamp = self.stamp(None, state, None)
        day = state.updated_at.astimezone(self.tz).date()
        base = state.sequence + (p.count if (p := self.progress.get(state.task_id)) else 0)
        comp = Todo() if self.todo else Event()
        summary = f"{CANCELLED} 已撤销：{state.task_id}"
        desc = f"{state.doc or '—'}\n编号 {state.task_id}\n状态：已撤销（{day.isoformat()} 从督办清单中撤销）"
        self.common(comp, self.uid(state.task_id), stamp, 2 * base, summary, desc, state.doc or None)
        if self.todo:
            comp.add("status", "CANCELLED")
        else:
            comp.add("dtstart", day)
            comp.add("dtend", day + timedelta(days=1))
            comp.add("transp", "TRANSPARENT")
            comp.add("status", "CANCELLED")
        return comp


def build_feed(registry: Registry, states: Mapping, progress: Mapping[str, ProgressInfo], scope: tuple,
               now: datetime | date, todo: bool = False, withdrawn: Mapping[str, Task] | None = None,
               memo: dict | None = None) -> Feed:
    """Render one feed.

    states: task id -> TaskState (status, done_at, note, withdrawn, sequence, updated_at, doc);
    progress: task id -> ProgressInfo; scope: ('all', _) | ('unit', NAME) | ('doc', NUMBER) |
    ('units', [NAME, ...]); now: an aware datetime (or a date) deciding what is overdue;
    withdrawn: last known definitions of tasks no longer in the registry (may be partial or empty);
    memo: a dict the caller keeps between renders: each task's rendered bytes are reused while its
    definition, state, progress and the registry are the same and no date of it passed (`_passed`): across
    days too, so a new day re-renders only the items that turned overdue.
    """
    today = now if not isinstance(now, datetime) else now.astimezone(registry.settings.tz).date()
    r = _Renderer(registry, states, progress, today, todo)
    memo = {} if memo is None else memo
    wanted = scope_filter(registry, scope)
    parts: list[bytes] = []
    latest, count = None, 0

    def put(key, render) -> None:
        nonlocal latest, count
        hit = memo.get(key)
        if hit is None:
            r.latest = None
            comps = render()
            hit = memo[key] = (b"".join(c.to_ical() for c in comps), r.latest, len(comps))
        parts.append(hit[0])
        count += hit[2]
        if hit[1] is not None and (latest is None or hit[1] > latest):
            latest = hit[1]

    base = (registry.fingerprint, todo)
    for task in registry.tasks:
        if wanted(task):
            put(base + (_passed(registry, task, today), False, task, states.get(task.id), progress.get(task.id)),
                lambda task=task: r.render_task(task, withdrawn=False))
    known = withdrawn or {}
    for tid in sorted(t for t, s in states.items() if s.withdrawn and t not in registry.by_id):
        state, task = states[tid], known.get(tid)
        if task is not None:
            if wanted(task):
                put(base + (_passed(registry, task, today), True, task, state, progress.get(tid)),
                    lambda task=task: r.render_task(task, withdrawn=True))
        elif scope[0] == "all" or (scope[0] == "doc" and state.doc == scope[1]):
            put(base + (True, tid, state, progress.get(tid)), lambda state=state: [r.render_withdrawn_id(state)])
    cal = Calendar()
    name = calendar_name(scope)
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", registry.settings.timezone)
    cal.add("refresh-interval", TTL, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    head = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    return Feed(head[:-len(end)] + b"".join(parts) + end, latest, count)


def _passed(registry: Registry, task: Task, today: date):
    """What of `today` a task's rendering depends on: how many of its dates are past (an item turns overdue);
    the day itself only for a task whose document is unknown (its first occurrence counts from today)."""
    n = sum(1 for d in (task.due, *(m.due for m in task.milestones)) if d is not None and d < today)
    return n if task.doc in registry.documents else (n, today)


def build_calendar(registry: Registry, states: Mapping, progress: Mapping[str, ProgressInfo], scope: tuple,
                   now: datetime | date, todo: bool = False, withdrawn: Mapping[str, Task] | None = None) -> bytes:
    """The feed's bytes (see `build_feed`)."""
    return build_feed(registry, states, progress, scope, now, todo, withdrawn).body


__all__ = ["Feed", "ProgressInfo", "build_calendar", "build_feed", "calendar_name", "describe_every", "rrule",
           "scope_filter", "summarize_progress"]
