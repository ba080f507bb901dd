"""The registry, `tasks.yaml`: typed objects and the validating loader behind `taskbot check`.

Nothing below this module reads raw YAML values: it hands out `Registry`, `Task`, `Policy`.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import sys
from dataclasses import replace
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .diagnostics import Diagnostic, Problems, RegistryError, did_you_mean, show
from .recurrence import parse_every
from .units import UnitDirectory, parse_units
from .yamlsrc import CONSUMED, Source, decode, read_source

KINDS = ("task", "goal", "target")
MIN_YEAR, MAX_YEAR = 1900, 2999  # reminders are planned years ahead and behind: keep dates plannable
ONGOING = ("monthly", "quarterly", "none")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # used with fullmatch
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")

# Longest text of each field, in characters (docs/registry.md); the gazette's longest are far below
MAX_LENGTH = {"number": 100, "title": 500, "plan_title": 500, "issuer": 200, "ref": 100, "detail": 10_000,
              "due_text": 200, "milestone title": 500}

TOP_KEYS = ("settings", "documents", "tasks")
SETTINGS_KEYS = ("timezone", "coordinators", "holidays", "workdays", "reminders", "feeds", "reports")
REPORT_KEYS = ("weekly", "format", "source")
REPORT_FORMATS = ("xlsx", "html")
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
            "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
            "周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6,
            "星期一": 0, "星期二": 1, "星期三": 2, "星期四": 3, "星期五": 4, "星期六": 5, "星期日": 6}
POLICY_KEYS = ("before_days", "at", "workdays_only", "overdue_every", "escalate_after", "ongoing")
DOC_KEYS = {"number": True, "title": True, "plan_title": False, "issued": True, "issuer": True}
TASK_KEYS = {"id": True, "doc": True, "ref": False, "title": True, "detail": False, "lead": True,
             "responsible": False, "cooperating": False, "due": False, "due_text": False,
             "milestones": False, "every": False, "kind": False, "source_line": False, "reminders": False}


from .model import ROLES, Document, Milestone, Policy, Registry, Reports, Settings, Task  # noqa: F401 (re-exported)


class _Checker:
    """Turns raw values into typed objects, collecting every problem on the way."""

    def __init__(self, source: Source | None, units: UnitDirectory, filename: str | None = None):
        self.p = Problems(source, filename)
        self.units = units
        self.prepared: tuple[Settings, dict] | None = None
        self.tasks: list[Task] = []
        self.seen: dict[str, tuple] = {}
        self.open_groups: set[str] = set()
        self.doc_numbers: set[str] = set()  # every number given, valid document or not

    def err(self, path, msg, key=False):
        self.p.add(path, msg, key=key)

    def keys(self, value: dict, path: tuple, allowed, required=(), what="entry"):
        for k in value:
            if k not in allowed:
                self.err(path + (k,), lambda k=k: f"unknown key {show(k)} in {what}"
                         f"{did_you_mean(str(k), list(allowed))}; valid keys: {', '.join(allowed)}", key=True)
        for k in required:
            if k not in value:
                self.err(path, f"{what} is missing required key '{k}'")

    def date(self, value, path, what="date", nullable=True) -> date | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.err(path, f"{what} must be a date YYYY-MM-DD{' or null' if nullable else ''}, got {show(value)}")
            return None
        y, m, d = (int(x) for x in _DATE.fullmatch(value).groups())
        if 1 <= y and not MIN_YEAR <= y <= MAX_YEAR:
            self.err(path, f"{what} {show(value)} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}")
            return None
        if not 1 <= m <= 12:
            self.err(path, f"impossible date {show(value)}: there is no month {m}")
            return None
        last = calendar.monthrange(y, m)[1] if y >= 1 else 31
        if y < 1 or not 1 <= d <= last:
            self.err(path, f"impossible date {show(value)}: " + (
                "there is no year 0" if y < 1 else f"{y}-{m:02d} has {last} days"))
            return None
        return date(y, m, d)

    def text(self, value, path, what, nullable=False) -> str | None:
        if value is None and nullable:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self.err(path, f"{what} must be a non-empty string, got {show(value)}")
            return None
        value = value.strip()
        limit = MAX_LENGTH.get(what, MAX_LENGTH["title"])
        if len(value) > limit:
            self.err(path, f"{what} is too long: {len(value):,} characters, at most {limit:,}; shorten it "
                     f"(it starts {show(value[:20] + '…')})")
            return None
        return value

    def integer(self, value, path, what, lo=0, hi=10_000) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(path, f"{what} must be a whole number, got {show(value)}")
            return None
        if not lo <= value <= hi:
            self.err(path, f"{what} must be between {lo} and {hi}, got: {show(value)}")
            return None
        return value

    def policy(self, value, path, base: Policy) -> Policy:
        if value is None:
            return base
        if not isinstance(value, dict):
            self.err(path, f"reminders must be a mapping, got {type(value).__name__}")
            return base
        self.keys(value, path, POLICY_KEYS, what="reminders")
        out = {}
        if "before_days" in value:
            days = value["before_days"]
            if not isinstance(days, list):
                self.err(path + ("before_days",), f"before_days must be a list of days, got {show(days)}")
            else:
                got = [self.integer(d, path + ("before_days", i), "before_days entry", 0, 3650) for i, d in enumerate(days)]
                out["before_days"] = tuple(sorted({d for d in got if d is not None}, reverse=True))
        if "at" in value:
            at = value["at"]
            m = _TIME.fullmatch(at) if isinstance(at, str) else None
            if isinstance(at, int) and not isinstance(at, bool) and 0 <= at < 1440:  # YAML 1.1 reads 9:00 as 540
                out["at"] = time(at // 60, at % 60)
            elif m:
                out["at"] = time(int(m.group(1)), int(m.group(2)))
            else:
                self.err(path + ("at",), f"at must be a time HH:MM, got {show(at)}")
        if "workdays_only" in value:
            if isinstance(value["workdays_only"], bool):
                out["workdays_only"] = value["workdays_only"]
            else:
                self.err(path + ("workdays_only",), f"workdays_only must be true or false, got {show(value['workdays_only'])}")
        for k, lo in (("overdue_every", 1), ("escalate_after", 0)):
            if k in value:
                n = self.integer(value[k], path + (k,), k, lo, 365)
                if n is not None:
                    out[k] = n
        if "ongoing" in value:
            if value["ongoing"] in ONGOING:
                out["ongoing"] = value["ongoing"]
            else:
                self.err(path + ("ongoing",), f"unknown ongoing {show(value['ongoing'])}; valid choices: {', '.join(ONGOING)}")
        return replace(base, **out)

    def settings(self, value) -> Settings:
        path = ("settings",)
        if value is None:
            return Settings()
        if not isinstance(value, dict):
            self.err(path, f"settings must be a mapping, got {type(value).__name__}")
            return Settings()
        self.keys(value, path, SETTINGS_KEYS, what="settings")
        tz = value.get("timezone", "Asia/Shanghai")
        try:
            ZoneInfo(tz) if isinstance(tz, str) and tz else (_ for _ in ()).throw(ValueError)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.err(path + ("timezone",), f"unknown time zone {show(tz)}; use an IANA name such as Asia/Shanghai")
            tz = "Asia/Shanghai"
        coords = []
        raw = value.get("coordinators") or []
        if not isinstance(raw, list):
            self.err(path + ("coordinators",), f"coordinators must be a list of Telegram user ids, got {show(raw)}")
            raw = []
        for i, c in enumerate(raw):
            n = self.integer(c, path + ("coordinators", i), "coordinator id", 1, 10**15)
            if n is not None:
                coords.append(n)
        days = {}
        for k in ("holidays", "workdays"):
            raw = value.get(k) or []
            if not isinstance(raw, list):
                self.err(path + (k,), f"{k} must be a list of dates, got {show(raw)}")
                raw = []
            days[k] = frozenset(d for i, v in enumerate(raw) if (d := self.date(v, path + (k, i), nullable=False)))
        alarm = 3
        feeds = value.get("feeds")
        if feeds is not None:
            if not isinstance(feeds, dict):
                self.err(path + ("feeds",), f"feeds must be a mapping, got {show(feeds)}")
            else:
                self.keys(feeds, path + ("feeds",), ("alarm_days",), what="feeds")
                if "alarm_days" in feeds:
                    alarm = self.integer(feeds["alarm_days"], path + ("feeds", "alarm_days"), "alarm_days", 0, 365) or 0
        policy = self.policy(value.get("reminders"), path + ("reminders",), Policy())
        reports = self.reports(value.get("reports"), path + ("reports",))
        return Settings(tz, tuple(coords), days["holidays"], days["workdays"], policy, alarm, reports)

    def reports(self, value, path) -> Reports:
        """settings.reports: {weekly: "monday 09:00", format: xlsx|html, source: data/gazette.txt}."""
        if value is None:
            return Reports()
        if not isinstance(value, dict):
            self.err(path, f"reports must be a mapping, got {show(value)}")
            return Reports()
        self.keys(value, path, REPORT_KEYS, what="reports")
        out = {}
        weekly = value.get("weekly")
        if weekly is not None:
            parts = str(weekly).split() if isinstance(weekly, str) else []
            day = WEEKDAYS.get(parts[0].lower()) if len(parts) == 2 else None
            at = _TIME.fullmatch(parts[1]) if len(parts) == 2 else None
            if day is None or at is None:
                self.err(path + ("weekly",), f"weekly must be a weekday and a time HH:MM, e.g. monday 09:00, got "
                         f"{show(weekly)}; weekdays: monday … sunday (or 周一 … 周日)")
            else:
                out.update(weekday=day, at=time(int(at.group(1)), int(at.group(2))))
        if "format" in value:
            if value["format"] in REPORT_FORMATS:
                out["format"] = value["format"]
            else:
                self.err(path + ("format",), f"unknown report format {show(value['format'])}; valid choices: "
                         f"{', '.join(REPORT_FORMATS)}")
        if "source" in value:
            source = self.text(value["source"], path + ("source",), "source")
            if source is not None:
                out["source"] = source
        return Reports(**out)

    def documents(self, value) -> dict[str, Document]:
        docs: dict[str, Document] = {}
        if not isinstance(value, list):
            self.err(("documents",), f"documents must be a list, got {type(value).__name__}")
            return docs
        for i, d in enumerate(value):
            path = ("documents", i)
            if not isinstance(d, dict):
                self.err(path, f"each document must be a mapping, got {show(d)}")
                continue
            self.keys(d, path, DOC_KEYS, [k for k, req in DOC_KEYS.items() if req], "document")
            number = self.text(d.get("number"), path + ("number",), "number") if "number" in d else None
            title = self.text(d.get("title"), path + ("title",), "title") if "title" in d else None
            issuer = self.text(d.get("issuer"), path + ("issuer",), "issuer") if "issuer" in d else None
            issued = self.date(d.get("issued"), path + ("issued",), "issued", False) if "issued" in d else None
            plan = self.text(d.get("plan_title"), path + ("plan_title",), "plan_title", True)
            if number:
                self.doc_numbers.add(number)
            if number in docs:
                self.err(path + ("number",), f"duplicate document number {show(number)}")
            elif number and title and issuer and issued:
                docs[sys.intern(number)] = Document(number, title, issued, issuer, plan)
        return docs

    def unit_list(self, value, path, role) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.err(path, f"{role} must be a list of unit names, got {type(value).__name__} {show(value)}"
                     + (f"; write [{value.strip()}]" if isinstance(value, str) and len(value) < 60 else ""))
            return ()
        out = []
        for i, name in enumerate(value):
            if not isinstance(name, str) or not name.strip():
                self.err(path + (i,), f"{role} must hold unit names, got {show(name)}")
                continue
            canon = self.units.resolve(name)
            if canon is None:
                # the suggestion is looked for only if the problem is shown (the first MAX_DIAGNOSTICS are)
                self.err(path + (i,), lambda name=name: self.units.unknown_message(name))
            elif canon in out:
                self.err(path + (i,), f"unit {show(name)} is listed twice in {role}")
            else:
                out.append(canon)
        return tuple(out)

    def task(self, t: dict, path: tuple, docs: dict, policy: Policy) -> Task | None:
        self.keys(t, path, TASK_KEYS, [k for k, req in TASK_KEYS.items() if req], "task")
        before = self.p.error_count
        tid = t.get("id")
        if "id" in t and (not isinstance(tid, str) or not _ID.fullmatch(tid)):
            self.err(path + ("id",), f"task id must be 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit, got {show(tid)}")
        doc = t.get("doc")
        if "doc" in t and not isinstance(doc, str):
            self.err(path + ("doc",), f"doc must be a document number from documents, got {show(doc)}")
            doc = None
        elif "doc" in t and doc not in docs and doc not in self.doc_numbers:  # else its document's error says why
            self.err(path + ("doc",), f"unknown document {show(doc)}{did_you_mean(doc, list(self.doc_numbers))}")
        title = self.text(t.get("title"), path + ("title",), "title") if "title" in t else None
        roles = {r: self.unit_list(t.get(r), path + (r,), r) for r in ROLES}
        kind = t.get("kind", "task")
        if kind not in KINDS:
            self.err(path + ("kind",), f"unknown kind {show(kind)}; valid kinds: {', '.join(KINDS)}")
        elif kind != "goal" and "lead" in t and not any(t.get(r) for r in ROLES):  # not when names were wrong
            self.err(path + ("lead",), f"a {kind} must name at least one lead, responsible or cooperating unit; "
                     "a dated aim with no unit is kind: goal")
        due = self.date(t.get("due"), path + ("due",), "due")
        due_text = self.text(t.get("due_text"), path + ("due_text",), "due_text", True)
        milestones = []
        raw = t.get("milestones") or []
        if not isinstance(raw, list):
            self.err(path + ("milestones",), f"milestones must be a list of {{due, title}}, got {show(raw)}")
            raw = []
        for j, m in enumerate(raw):
            mp = path + ("milestones", j)
            if not isinstance(m, dict):
                self.err(mp, f"a milestone must be a mapping {{due, title}}, got {show(m)}")
                continue
            self.keys(m, mp, ("due", "title"), ("due", "title"), "milestone")
            md = self.date(m.get("due"), mp + ("due",), "milestone due", False) if "due" in m else None
            mt = self.text(m.get("title"), mp + ("title",), "milestone title") if "title" in m else None
            if md and due and md > due:
                self.err(mp + ("due",), f"milestone due {md.isoformat()} is after the task's due {due.isoformat()}")
            if md and mt:
                milestones.append(Milestone(md, mt))
        if milestones and t.get("due") is None:  # not when `due` was given but wrong: that error says why
            self.err(path + ("milestones",), "a task with milestones needs a due date (the last milestone's)", key=True)
        every = None
        if t.get("every") is not None:
            try:
                every = parse_every(t["every"])
            except ValueError as exc:
                self.err(path + ("every",), str(exc))
        src = t.get("source_line")
        if src is not None:
            src = self.integer(src, path + ("source_line",), "source_line", 1, 10**9)
        ref = self.text(t.get("ref"), path + ("ref",), "ref", True) or ""
        detail = self.text(t.get("detail"), path + ("detail",), "detail", True)
        task_policy = self.policy(t.get("reminders"), path + ("reminders",), policy)
        if self.p.error_count > before or not (tid and doc in docs and title):
            return None
        return Task(tid, docs[doc].number, title, ref, detail, roles["lead"], roles["responsible"],
                    roles["cooperating"], due, due_text, tuple(sorted(milestones, key=lambda m: m.due)),
                    every, kind, src, task_policy)

    def prepare(self, data: dict) -> None:
        """Settings and documents: what every task is checked against."""
        self.prepared = (self.settings(data.get("settings")),
                         self.documents(data["documents"]) if "documents" in data else {})

    def consume(self, i: int, t) -> None:
        """Check one raw task and keep its Task."""
        path = ("tasks", i)
        settings, docs = self.prepared
        if not isinstance(t, dict):
            self.err(path, f"each task must be a mapping, got {show(t)}")
            return
        tid = t.get("id")
        if isinstance(tid, str) and tid in self.seen:
            self.p.add(path + ("id",), lambda first, tid=tid: f"duplicate task id {show(tid)} (first at {first})",
                       refs=(self.seen[tid],))
            return
        if isinstance(tid, str):
            self.seen[tid] = path + ("id",)
        task = self.task(t, path, docs, settings.reminders)
        if task is None:
            return
        self.tasks.append(task)
        for name, role in task.roles():
            if self.units.is_group(name) and not self.units.groups[name].members and name not in self.open_groups:
                self.open_groups.add(name)
                self.p.add(path + (role,), f"group {show(name)} has no members yet: nobody receives its reminders "
                           "until coordinators list its members in the unit directory", "warning")

    def stream(self, path: tuple, value, root) -> bool:
        """`on_item` of the YAML reader: check each task as soon as it is read (settings and documents first)."""
        if path[0] != "tasks" or not isinstance(root, dict):
            return False
        if self.prepared is None:
            if "documents" not in root or "settings" not in root:
                return False  # laid out in another order: checked after reading instead
            self.prepare(root)
        self.consume(path[1], value)
        return True

    def registry(self, data) -> tuple[Settings, dict, list[Task]]:
        if not isinstance(data, dict):
            got = "an empty file" if data is None else type(data).__name__
            self.err((), f"the registry must be a mapping with keys {', '.join(TOP_KEYS)}, got {got}")
            return Settings(), {}, []
        self.keys(data, (), TOP_KEYS, ("documents", "tasks"), "the registry")
        if self.prepared is None:
            self.prepare(data)
        raw = data.get("tasks")
        if "tasks" in data and not isinstance(raw, list):
            self.err(("tasks",), f"tasks must be a list, got {type(raw).__name__}")
            raw = []
        for i, t in enumerate(raw or []):
            if t is not CONSUMED:
                self.consume(i, t)
                raw[i] = CONSUMED  # positions come from the text: the raw mapping is no longer needed
        return (*self.prepared, self.tasks)


def check_files(registry_path: str, units_path: str) -> tuple[Registry | None, list[Diagnostic]]:
    """Validate both files; the registry is None when any error was found."""
    usource, uproblems = read_source(units_path)
    directory = None
    if usource is not None:
        directory, uproblems = parse_units(usource)
    units = directory or UnitDirectory([], [])
    if directory is None:  # unit names cannot be judged without a directory
        units.resolve = lambda name: name
    checker = _Checker(None, units, registry_path)
    rsource, rproblems = read_source(registry_path, checker.stream)  # tasks are checked as they are read
    diagnostics = list(uproblems.items)
    if rsource is None:
        return None, diagnostics + rproblems.items
    checker.p.source = rsource
    if checker.p.error_count:  # report in the plain order: check the whole file again, unstreamed
        checker = _Checker(rsource, units, registry_path)
        rsource.reparse()
    settings, docs, tasks = checker.registry(rsource.data)
    diagnostics += checker.p.items
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    fingerprint = hashlib.sha256(rsource.text.encode() + b"\0" + usource.text.encode()).hexdigest()[:16]
    return Registry(settings, docs, tuple(tasks), directory, fingerprint), diagnostics


def load_registry(registry_path: str, units_path: str) -> Registry:
    """Load a valid registry or raise RegistryError with every diagnostic."""
    registry, diagnostics = check_files(registry_path, units_path)
    if registry is None:
        raise RegistryError(diagnostics)
    return registry


__all__ = ["Document", "Milestone", "Policy", "Registry", "RegistryError", "Settings", "Task",
           "check_files", "load_registry", "read_source", "decode"]
