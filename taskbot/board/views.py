"""Page contexts: pure functions of a Snapshot, the filters and what the store said; templates render them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .data import ROLE_ZH, Row, Snapshot
from .query import Filters, apply, page

LIGHT_COLORS = {"red": "#d93025", "yellow": "#f2b600", "green": "#1e8e3e", "done": "#5f6368", "grey": "#bdc1c6"}


def filtered(snap: Snapshot, rows: list[Row], f: Filters) -> list[Row]:
    unit_ids = {r.id for r, _, _ in snap.unit_rows(f.unit)} if f.unit else None
    return apply(rows, f, unit_ids)


def totals(rows: list[Row]) -> dict:
    live = [r for r in rows if r.status != "withdrawn"]
    done = sum(r.status == "done" for r in live)
    return {"items": len(live), "done": done, "open": len(live) - done,
            "overdue": sum(r.status == "overdue" for r in live), "soon": sum(r.light == "yellow" for r in live),
            "percent": round(100 * done / len(live)) if live else 0}


def overview(snap: Snapshot, rows: list[Row]) -> dict:
    units = snap.units(rows)
    return {"totals": totals(rows), "documents": snap.documents(rows), "units": units,
            "silent": [u for u in units if not u.chats and not u.is_group and u.open]}


def item_list(snap: Snapshot, rows: list[Row], f: Filters) -> dict:
    rows = filtered(snap, rows, f)
    shown, offset, limit = page(rows, f)
    return {"rows": shown, "total": len(rows), "offset": offset, "limit": limit, "filters": f}


def overdue(snap: Snapshot, rows: list[Row], f: Filters) -> dict:
    """Overdue items, oldest first, grouped by lead unit (the first lead, else responsible)."""
    rows = [r for r in filtered(snap, rows, f) if r.status == "overdue"]
    rows.sort(key=lambda r: (r.since, r.id))
    shown, offset, limit = page(rows, f)
    groups: dict[str, list[Row]] = {}
    for r in shown:
        t = r.task
        groups.setdefault((t.lead or t.responsible or t.cooperating or ("—",))[0], []).append(r)
    return {"groups": sorted(groups.items(), key=lambda g: (g[1][0].since, g[0])), "rows": shown,
            "total": len(rows), "offset": offset, "limit": limit, "filters": f}


@dataclass(frozen=True)
class Bar:
    row: Row
    y: int
    x0: float
    x1: float
    color: str
    marks: tuple[tuple[float, str], ...]


def timeline(snap: Snapshot, issued: date, rows: list[Row], width: int = 900, label: int = 110,
             row_h: int = 18) -> dict:
    """Bars from the issue date to each due date, milestones as marks, today as a line (SVG coordinates)."""
    dated = [r for r in rows if r.task.due is not None or r.task.milestones]
    ends = [d for r in dated for d in ([r.task.due] if r.task.due else []) + [m.due for m in r.task.milestones]]
    start = min([issued, snap.today] + ends)
    end = max([snap.today + timedelta(days=7)] + ends + [issued + timedelta(days=30)])
    span = max((end - start).days, 1)
    plot = width - label - 10

    def x(day: date) -> float:
        return round(label + plot * (day - start).days / span, 1)

    bars = []
    for i, r in enumerate(dated):
        last = r.task.due or max(m.due for m in r.task.milestones)
        marks = tuple((x(m.due), f"{m.due.isoformat()} {m.title}") for m in r.task.milestones)
        bars.append(Bar(r, 22 + i * row_h, x(issued), max(x(last), x(issued) + 2), LIGHT_COLORS[r.light], marks))
    ticks, month = [], date(start.year, start.month, 1)
    step = max(1, span // 300 + 1)  # months between ticks
    while month <= end:
        if month >= start:
            ticks.append((x(month), month.strftime("%Y-%m")))
        m = month.month - 1 + step
        month = date(month.year + m // 12, m % 12 + 1, 1)
    return {"bars": bars, "today": x(snap.today), "ticks": ticks, "width": width, "label": label,
            "height": 30 + len(bars) * row_h, "row_h": row_h}


def document(snap: Snapshot, number: str, rows: list[Row], f: Filters) -> dict:
    doc = snap.registry.documents.get(number)
    rows = filtered(snap, [r for r in rows if r.task.doc == number], f)
    shown, offset, limit = page(rows, f)
    issued = doc.issued if doc else snap.today
    return {"doc": doc, "number": number, "totals": totals(rows), "rows": shown, "total": len(rows),
            "offset": offset, "limit": limit, "filters": f, "timeline": timeline(snap, issued, shown)}


def unit(snap: Snapshot, name: str, rows: list[Row], f: Filters, ledger: list[dict], next_for) -> dict:
    """A unit's items by role, with its liaison chats and the reminders delivered to them.

    next_for(tasks) -> {task id: the next reminder}: asked for the open items of the page shown only.
    """
    wanted = {r.id for r in filtered(snap, rows, f)}
    entries = [(r, role, via) for r, role, via in snap.unit_rows(name) if r.id in wanted]
    entries.sort(key=lambda e: (("lead", "responsible", "cooperating").index(e[1]), e[0].status != "overdue",
                                e[0].task.due or date.max, e[0].id))
    shown, offset, limit = page(entries, f)
    next_dates = next_for([r.task for r, _, _ in shown if r.open and r.task.id in snap.registry.by_id])
    by_role: dict[str, list] = {}
    for r, role, via in shown:
        by_role.setdefault(role, []).append((r, via, next_dates.get(r.id)))
    units = snap.registry.units
    members = units.expand(name) if units.is_group(name) else (name,)
    chats = len({c for m in members for c in snap.members.get(m, ())})
    figures = snap.unit_figures(name, {e[0].id for e in entries})
    sent: dict[tuple, dict] = {}
    for d in ledger:  # newest first: one line per (day, item, kind), counting chats
        key = (d["day"], d["item"], d["kind"])
        line = sent.setdefault(key, {"day": d["day"], "item": d["item"], "task_id": d["item"].split("#")[0].split("@")[0],
                                     "kind": d["kind"], "sent_at": d["sent_at"], "chats": set()})
        line["chats"].add(d["chat_id"])
    return {"name": name, "unit": units.units.get(name), "group": units.groups.get(name), "members": members,
            "chats": chats, "figures": figures, "by_role": [(role, ROLE_ZH[role], by_role[role])
                                                             for role in ("lead", "responsible", "cooperating")
                                                             if role in by_role],
            "total": len(entries), "offset": offset, "limit": limit, "filters": f, "sent": list(sent.values()),
            "rows": [e[0] for e in shown]}


def item(snap: Snapshot, row: Row, source: list[tuple[int, str, bool]], progress: list, audit: list,
         ledger: list[dict]) -> dict:
    doc = snap.registry.documents.get(row.task.doc)
    units = snap.registry.units
    roles = [(ROLE_ZH[role], [(n, units.expand(n) if units.is_group(n) else ()) for n in getattr(row.task, role)])
             for role in ("lead", "responsible", "cooperating")]
    return {"row": row, "task": row.task, "doc": doc, "roles": roles, "source": source, "progress": progress,
            "audit": audit, "ledger": ledger}


def source_excerpt(lines: list[str] | None, line: int | None, before: int = 2, after: int = 5) -> list[tuple[int, str, bool]]:
    """(line number, text, is the cited line) around a 1-based line of the source text, blank lines skipped."""
    if not lines or not line or line > len(lines):
        return []
    out, n = [], line - 1
    while n >= 1 and len(out) < before:
        if lines[n - 1].strip():
            out.insert(0, (n, lines[n - 1].strip(), False))
        n -= 1
    out.append((line, lines[line - 1].strip(), True))
    n, taken = line + 1, 0
    while n <= len(lines) and taken < after:
        if lines[n - 1].strip():
            out.append((n, lines[n - 1].strip(), False))
            taken += 1
        n += 1
    return out


__all__ = ["LIGHT_COLORS", "document", "filtered", "item", "item_list", "overdue", "overview",
           "source_excerpt", "timeline", "totals", "unit"]
