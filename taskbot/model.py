"""The registry's typed objects: what every module below the loader works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from zoneinfo import ZoneInfo

from .recurrence import Every
from .units import UnitDirectory

ROLES = ("lead", "responsible", "cooperating")


@dataclass(frozen=True, slots=True)
class Policy:
    """When reminders go out (`settings.reminders`, overridable per task)."""

    before_days: tuple[int, ...] = (30, 14, 7, 3, 1, 0)
    at: time = time(9, 0)
    workdays_only: bool = True
    overdue_every: int = 7
    escalate_after: int = 3
    ongoing: str = "monthly"


@dataclass(frozen=True, slots=True)
class Reports:
    """`settings.reports`: the weekly report (督查通报) the running bot sends to coordinators."""

    weekday: int | None = None  # 0 = Monday; None: no weekly report
    at: time = time(9, 0)
    format: str = "xlsx"  # xlsx | html
    source: str | None = None  # the text file `source_line` points into (relative to tasks.yaml)


@dataclass(frozen=True, slots=True)
class Settings:
    timezone: str = "Asia/Shanghai"
    coordinators: tuple[int, ...] = ()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    reminders: Policy = Policy()
    alarm_days: int = 3
    reports: Reports = Reports()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Document:
    number: str
    title: str
    issued: date
    issuer: str
    plan_title: str | None = None


@dataclass(frozen=True, slots=True)
class Milestone:
    due: date
    title: str


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    doc: str
    title: str
    ref: str = ""
    detail: str | None = None
    lead: tuple[str, ...] = ()
    responsible: tuple[str, ...] = ()
    cooperating: tuple[str, ...] = ()
    due: date | None = None
    due_text: str | None = None
    milestones: tuple[Milestone, ...] = ()
    every: Every | None = None
    kind: str = "task"
    source_line: int | None = None
    policy: Policy = Policy()

    def roles(self) -> tuple[tuple[str, str], ...]:
        """(unit or group name, role) pairs in the order lead, responsible, cooperating."""
        return tuple((n, r) for r in ROLES for n in getattr(self, r))


@dataclass(frozen=True)
class Registry:
    settings: Settings
    documents: dict[str, Document]
    tasks: tuple[Task, ...]
    units: UnitDirectory
    fingerprint: str = ""
    by_id: dict[str, Task] = field(default_factory=dict)

    def __post_init__(self):
        if not self.by_id:
            self.by_id.update((t.id, t) for t in self.tasks)

    def summary(self) -> str:
        return f"{len(self.documents)} documents, {len(self.tasks)} tasks, {len(self.units)} units"

    def document(self, text: str) -> str | None:
        """The number of the document `text` names, however it is spaced or bracketed (None if none)."""
        from .diagnostics import normalize_name

        if text in self.documents:
            return text
        key = normalize_name(text)
        return next((n for n in self.documents if normalize_name(n) == key), None)
