"""The board's facts: one row per item with its status and traffic light, and the figures built on them.

Pure: the caller passes the registry, the task states, the progress rows, the liaison chats and `today`;
nothing here reads a clock, a store or a file. A `Snapshot` is built once per (registry, data version,
day) and every page, export and report reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Mapping

from ..feeds import ProgressInfo as Progress  # the latest report per item, as the feeds show it
from ..feeds import scope_filter
from ..feeds import summarize_progress as summarize
from ..model import ROLES, Registry, Task

SOON_DAYS = 7  # yellow: due within this many days
STALE_DAYS = 30  # the weekly report lists open items with no progress for this long
STATUSES = ("open", "overdue", "done", "withdrawn")
STATUS_ZH = {"open": "进行中", "overdue": "已逾期", "done": "已完成", "withdrawn": "已撤销"}
STATUS_EN = {"open": "open", "overdue": "overdue", "done": "done", "withdrawn": "withdrawn"}
ROLE_ZH = {"lead": "牵头单位", "responsible": "责任单位", "cooperating": "配合单位"}


@dataclass(frozen=True, slots=True)
class Row:
    """One item as the board shows it."""

    id: str
    task: Task
    status: str  # open | overdue | done | withdrawn
    light: str  # red | yellow | green | done | grey
    done_on: date | None
    note: str | None
    progress: Progress | None
    late: bool  # done after its due date
    since: date | None = None  # overdue: the first missed date (a milestone or the due date)

    @property
    def open(self) -> bool:
        return self.status in ("open", "overdue")


@dataclass
class UnitFigures:
    name: str
    is_group: bool
    open: int = 0
    overdue: int = 0
    done_on_time: int = 0
    done_late: int = 0
    soon: int = 0
    last_progress: date | None = None
    chats: int = 0

    @property
    def light(self) -> str:
        return "red" if self.overdue else ("yellow" if self.soon else "green")


@dataclass
class DocFigures:
    number: str
    title: str
    issued: date
    items: int = 0
    done: int = 0
    open: int = 0
    overdue: int = 0
    soon: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.items) if self.items else 0

    @property
    def light(self) -> str:
        return "red" if self.overdue else ("yellow" if self.soon else "green")


def item_row(task: Task, state, progress: Progress | None, today: date, tz, withdrawn: bool = False) -> Row:
    done = state is not None and state.status == "done"
    missed = None
    done_on = state.done_at.astimezone(tz).date() if done and state.done_at else None
    if withdrawn or (state is not None and state.withdrawn):
        status, light = "withdrawn", "grey"
    elif done:
        status, light = "done", "done"
    elif (missed := min([m.due for m in task.milestones if m.due < today]
                        + ([task.due] if task.due is not None and task.due < today else []), default=None)):
        status, light = "overdue", "red"
    else:
        status = "open"
        nxt = next_date(task, today)
        light = "yellow" if nxt is not None and nxt <= today + timedelta(days=SOON_DAYS) else "green"
    late = bool(done and task.due is not None and done_on is not None and done_on > task.due)
    return Row(task.id, task, status, light, done_on, state.note if state is not None else None, progress, late,
               missed if status == "overdue" else None)


def next_date(task: Task, today: date) -> date | None:
    """The next date an open item must meet: a milestone, an occurrence or the due date."""
    days = [m.due for m in task.milestones if m.due >= today]
    if task.due is not None and task.due >= today:
        days.append(task.due)
    if task.every is not None:
        end = task.due or today + timedelta(days=400)
        occ = next(task.every.occurrences(today, end), None) if end >= today else None
        if occ is not None:
            days.append(occ)
    return min(days, default=None)


class Snapshot:
    """Every item's row and the indexes the pages need, for one registry, state version and day."""

    def __init__(self, registry: Registry, states: Mapping, progress_rows: Iterable,
                 members: Mapping[str, list[int]], today: date, withdrawn: Mapping[str, Task] | None = None):
        """`progress_rows`: the store's progress rows (task_id, unit, text, at) in time order."""
        self.registry, self.today, self.members = registry, today, members
        tz = registry.settings.tz
        progress_rows = list(progress_rows)
        progress = summarize(progress_rows)  # the latest report per item
        self.rows: list[Row] = [item_row(t, states.get(t.id), progress.get(t.id), today, tz) for t in registry.tasks]
        for tid, task in sorted((withdrawn or {}).items()):
            if tid not in registry.by_id:
                self.rows.append(item_row(task, states.get(tid), progress.get(tid), today, tz, withdrawn=True))
        self.by_id: dict[str, Row] = {r.id: r for r in self.rows}
        self._unit_index: dict[str, list[tuple[Row, str, bool]]] | None = None
        self._progress_by_unit: dict[str, date] = {}  # each unit's latest report on any item, not only latest ones
        for p in progress_rows:
            if p.unit:
                day = p.at.astimezone(tz).date()
                if self._progress_by_unit.get(p.unit) is None or day > self._progress_by_unit[p.unit]:
                    self._progress_by_unit[p.unit] = day

    # --- who is on what --------------------------------------------------------------------------------
    def unit_index(self) -> dict[str, list[tuple[Row, str, bool]]]:
        """unit or group name -> (row, role, through a group) for every item naming it (groups resolved)."""
        if self._unit_index is None:
            units, index = self.registry.units, {}
            for row in self.rows:
                for name, role in row.task.roles():
                    index.setdefault(name, []).append((row, role, False))
                    if units.is_group(name):
                        for member in units.expand(name):
                            if member != name:
                                index.setdefault(member, []).append((row, role, True))
            self._unit_index = index
        return self._unit_index

    def unit_rows(self, unit: str) -> list[tuple[Row, str, bool]]:
        """(row, best role, through a group) per item, one entry per item."""
        seen: dict[str, tuple[Row, str, bool]] = {}
        for row, role, via in self.unit_index().get(unit, []):
            prev = seen.get(row.id)
            if prev is None or ROLES.index(role) < ROLES.index(prev[1]):
                seen[row.id] = (row, role, via)
        return list(seen.values())

    def in_scope(self, scope: tuple) -> list[Row]:
        """Rows of a board scope: ('all', _) | ('doc', NUMBER) | ('unit', NAME) | ('units', [NAMES])."""
        if scope[0] == "all":
            return self.rows
        keep = scope_filter(self.registry, scope)  # the feeds' rule: a board shows what the same feed shows
        return [r for r in self.rows if keep(r.task)]

    # --- figures ---------------------------------------------------------------------------------------
    def documents(self, rows: list[Row]) -> list[DocFigures]:
        out: dict[str, DocFigures] = {}
        docs = self.registry.documents
        for number, doc in docs.items():
            out[number] = DocFigures(number, doc.plan_title or doc.title, doc.issued)
        for r in rows:
            f = out.get(r.task.doc)
            if f is None:
                f = out[r.task.doc] = DocFigures(r.task.doc, r.task.doc, self.today)
            if r.status == "withdrawn":
                continue
            f.items += 1
            if r.status == "done":
                f.done += 1
            else:
                f.open += 1
                f.overdue += r.status == "overdue"
                f.soon += r.light == "yellow"
        return [f for f in out.values() if f.items]

    def units(self, rows: list[Row] | None = None) -> list[UnitFigures]:
        """The league table: every unit and group on an item in `rows`, worst first."""
        wanted = None if rows is None or rows is self.rows else {r.id for r in rows}
        out = [f for name in self.unit_index() if (f := self.unit_figures(name, wanted)) is not None]
        out.sort(key=lambda f: (-f.overdue, -f.open, f.name))
        return out

    def unit_figures(self, name: str, wanted: set[str] | None = None) -> UnitFigures | None:
        """One unit's (or group's) figures over its items (those in `wanted` only); None when it has none."""
        units = self.registry.units
        f = UnitFigures(name, units.is_group(name))
        seen = set()
        for row, _, _ in self.unit_index().get(name, ()):
            if row.id in seen or (wanted is not None and row.id not in wanted) or row.status == "withdrawn":
                continue
            seen.add(row.id)
            if row.status == "done":
                if row.late:
                    f.done_late += 1
                else:
                    f.done_on_time += 1
            else:
                f.open += 1
                f.overdue += row.status == "overdue"
                f.soon += row.light == "yellow"
        if not seen:
            return None
        members = units.expand(name) if f.is_group else (name,)
        f.chats = len({c for m in members for c in self.members.get(m, ())})
        days = [d for m in (name, *members) if (d := self._progress_by_unit.get(m)) is not None]
        f.last_progress = max(days, default=None)
        return f

    def days_since(self, day: date | None) -> int | None:
        return None if day is None else (self.today - day).days


__all__ = ["DocFigures", "Progress", "ROLE_ZH", "Row", "STATUSES", "STATUS_EN", "STATUS_ZH", "SOON_DAYS",
           "STALE_DAYS", "Snapshot", "UnitFigures", "item_row", "next_date", "summarize"]
