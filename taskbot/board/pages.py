"""One board request, from (scope, path, query, lang) to bytes: dispatch to a view, render or export.

Reads the store only for what the snapshot does not hold (an item's history, a unit's deliveries), through
the `Reader` the caller passes; everything else is a pure function of the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from ..planning import calendar_for, task_triggers
from . import export, views
from .data import STATUSES, Snapshot
from .query import Filters, parse
from .render import render

EXPORTS = {".csv": "text/csv", ".json": "application/json", ".xlsx":
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class NotFound(Exception):
    """The path names nothing in this board's scope."""


@dataclass(frozen=True)
class Output:
    body: bytes
    content_type: str
    filename: str | None = None  # Content-Disposition for exports


@dataclass
class Request:
    scope: tuple
    scope_label: str
    path: str  # below the board root, unquoted, without a leading slash
    query: dict
    lang: str
    root: str  # /board/<token>/
    static: str  # /board/_static/


def next_reminders(registry, tasks, now: datetime) -> dict:
    """The next reminder date of each open task (the planner's first trigger after now)."""
    cal, tz, out = calendar_for(registry), registry.settings.tz, {}
    since = now.astimezone(tz).date() - timedelta(days=1)
    for task in tasks:
        doc = registry.documents.get(task.doc)
        if doc is None:
            continue
        best = None
        for stream in task_triggers(task, cal, tz, doc.issued, since):
            for r in stream:
                if r.at > now:
                    best = r.at if best is None or r.at < best else best
                    break
                if best is not None and r.at > best:
                    break
        out[task.id] = best.astimezone(tz) if best else None
    return out


class Page:
    def __init__(self, snap: Snapshot, req: Request, reader, now: datetime):
        self.snap, self.req, self.reader, self.now = snap, req, reader, now
        self.registry = snap.registry
        self.rows = snap.in_scope(req.scope)

    # --- helpers -----------------------------------------------------------------------------------
    def u(self, path: str, args: dict | None = None) -> str:
        args = dict(args or {})
        if self.req.lang == "en":
            args["lang"] = "en"
        return self.req.root + path + (("?" + urlencode(args)) if args else "")

    def filters(self) -> Filters:
        units = self.registry.units
        return parse(self.req.query, units.resolve, self.registry.document)

    def html(self, template: str, **ctx) -> Output:
        other = dict(self.req.query)
        if self.req.lang == "en":
            other.pop("lang", None)
        else:
            other["lang"] = "en"
        path = self.req.root + quote(self.req.path)
        body = render(template, self.req.lang, u=self.u, static=self.req.static, scope_label=self.req.scope_label,
                      today=self.snap.today, statuses=STATUSES, tz=self.registry.settings.tz,
                      days_since=self.snap.days_since,
                      other_lang=path + (("?" + urlencode(other)) if other else ""), **ctx)
        return Output(body.encode("utf-8"), "text/html")

    def export(self, kind: str, ext: str, data, total: int, name: str, f: Filters | None) -> Output:
        nxt = None
        if f is not None and f.limit is not None:  # exports hold everything unless a page was asked for
            if f.offset + f.limit < len(data):
                nxt = self.u(self.req.path, f.args(offset=str(f.offset + f.limit)))
            data = data[f.offset:f.offset + f.limit]
        header, keys, values = export.table(kind, data, self.registry.settings.tz)
        if ext == ".csv":
            return Output(export.to_csv(header, values), "text/csv", name + ".csv")
        if ext == ".json":
            extra = {"filters": f.args() if f else {}, "ignored": list(f.ignored) if f else [], "next": nxt}
            return Output(export.to_json(keys, values, total, extra), "application/json")
        sheets = [(name, header, values)]
        if kind == "items":
            snap = self.snap
            sheets.append(("单位", *export.table("units", snap.units(data))[::2]))
            sheets.append(("文件", *export.table("documents", snap.documents(data))[::2]))
        return Output(export.to_xlsx(sheets), EXPORTS[".xlsx"], name + ".xlsx")

    # --- dispatch ----------------------------------------------------------------------------------
    def build(self) -> Output:
        path = self.req.path
        base, ext = path, ""
        for e in EXPORTS:
            if path.endswith(e):
                base, ext = path[: -len(e)], e
                break
        head, _, rest = base.partition("/")
        if base == "" and not ext:
            return self.html("overview.html", **views.overview(self.snap, self.rows))
        if base in ("items", "overdue") and not rest:
            return self.items(base, ext)
        if base in ("units", "documents") and ext in (".csv", ".json"):
            data = self.snap.units(self.rows) if base == "units" else self.snap.documents(self.rows)
            return self.export(base, ext, data, len(data), base, None)
        if head == "doc" and rest:
            return self.document(rest, ext)
        if head == "unit" and rest:
            return self.unit(rest, ext)
        if head == "item" and rest and ext in ("", ".json"):
            return self.item(rest, ext)
        raise NotFound(path)

    def items(self, which: str, ext: str) -> Output:
        f = self.filters()
        if ext:
            rows = views.filtered(self.snap, self.rows, f)
            if which == "overdue":
                rows = sorted((r for r in rows if r.status == "overdue"), key=lambda r: (r.since, r.id))
            return self.export("items", ext, rows, len(rows), "逾期事项" if which == "overdue" else "督办事项", f)
        ctx = views.item_list(self.snap, self.rows, f) if which == "items" else views.overdue(self.snap, self.rows, f)
        return self.html(f"{which}.html", self_page=ctx, **ctx)

    def document(self, number: str, ext: str) -> Output:
        number = self.registry.document(number) or number
        if not any(r.task.doc == number for r in self.rows):
            raise NotFound(number)
        f = self.filters()
        if ext:
            rows = views.filtered(self.snap, [r for r in self.rows if r.task.doc == number], f)
            return self.export("items", ext, rows, len(rows), "督办事项", f)
        ctx = views.document(self.snap, number, self.rows, f)
        return self.html("document.html", self_page=ctx, **ctx)

    def unit(self, name: str, ext: str) -> Output:
        units = self.registry.units
        canonical = units.resolve(name)
        if canonical is None or canonical not in self.snap.unit_index():
            raise NotFound(name)
        ids = {r.id for r in self.rows}
        mine = [r for r, _, _ in self.snap.unit_rows(canonical) if r.id in ids]
        if not mine:
            raise NotFound(name)
        f = self.filters()
        if ext:
            rows = views.filtered(self.snap, mine, f)
            return self.export("items", ext, rows, len(rows), "督办事项", f)
        members = units.expand(canonical) if units.is_group(canonical) else (canonical,)
        chats = [c for m in members for c in self.snap.members.get(m, ())]
        ledger = self.reader.deliveries(chat_ids=chats, limit=300) if chats else []
        theirs = {r.id for r in mine}
        ledger = [d for d in ledger if d["item"].split("#")[0].split("@")[0] in theirs]
        ctx = views.unit(self.snap, canonical, mine, f, ledger,
                         lambda tasks: next_reminders(self.registry, tasks, self.now))
        return self.html("unit.html", self_page=ctx, **ctx)

    def item(self, tid: str, ext: str) -> Output:
        row = self.snap.by_id.get(tid) or self.snap.by_id.get(tid.lower())
        if row is None or (self.req.scope[0] != "all" and row.id not in {r.id for r in self.rows}):
            raise NotFound(tid)
        source = views.source_excerpt(self.reader.source_lines(), row.task.source_line)
        ctx = views.item(self.snap, row, source, self.reader.progress(row.id), self.reader.audit_log(row.id),
                         self.reader.deliveries(task_id=row.id, limit=200))
        if ext == ".json":
            header, keys, values = export.table("items", [row], self.registry.settings.tz)
            data = dict(zip(keys, values[0]))
            data.update(progress=[{"at": p.at.isoformat(), "unit": p.unit, "text": p.text} for p in ctx["progress"]],
                        source=[{"line": n, "text": t} for n, t, _ in source])
            return Output(export.to_json(keys, [values[0]], 1, {"item": {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                                                          for k, v in data.items()}}),
                          "application/json")
        return self.html("item.html", **ctx)


__all__ = ["EXPORTS", "NotFound", "Output", "Page", "Request", "next_reminders"]
