"""The weekly supervision report (督查通报) as of a date: figures, newly overdue, done this week, units ranked
by overdue items, items without progress for 30 days. Pure: states, progress and the day are passed in."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

from . import export
from .data import STALE_DAYS, Snapshot
from .render import render
from .views import totals

FORMATS = (".xlsx", ".html")


def as_of(states: dict, day: date, tz) -> dict:
    """States as they stood at the end of `day`: an item done later counts as open."""
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    out = {}
    for tid, s in states.items():
        if s.status == "done" and s.done_at is not None and s.done_at >= end:
            s = dataclasses.replace(s, status="open", done_at=None, done_by=None, note=None)
        out[tid] = s
    return out


def build(registry, states: dict, progress_rows: list, members: dict, day: date) -> dict:
    tz = registry.settings.tz
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    rows_progress = [p for p in progress_rows if p.at < end]
    snap = Snapshot(registry, as_of(states, day, tz), rows_progress, members, day)
    rows = [r for r in snap.rows if r.status != "withdrawn"]
    week_start = day - timedelta(days=6)
    newly = sorted((r for r in rows if r.status == "overdue" and week_start - timedelta(days=1) <= r.since < day),
                   key=lambda r: (r.since, r.id))
    done = sorted((r for r in rows if r.status == "done" and r.done_on and week_start <= r.done_on <= day),
                  key=lambda r: (r.done_on, r.id))
    ranked = [u for u in snap.units(rows) if u.overdue and not u.is_group]
    stale_before = day - timedelta(days=STALE_DAYS)
    stale = []
    for r in rows:
        if not r.open:
            continue
        doc = registry.documents.get(r.task.doc)
        last = r.progress.at.astimezone(tz).date() if r.progress else (doc.issued if doc else None)
        if last is not None and last < stale_before:
            stale.append((r, last))
    stale.sort(key=lambda e: (e[1], e[0].id))
    return {"day": day, "week_start": week_start, "totals": totals(rows), "newly": newly, "done": done,
            "ranked": ranked, "stale": stale, "snap": snap, "documents": snap.documents(rows)}


def to_xlsx(rep: dict, tz) -> bytes:
    t = rep["totals"]
    summary = [["截至", rep["day"].isoformat()], ["本周", f"{rep['week_start'].isoformat()} 至 {rep['day'].isoformat()}"],
               ["事项总数", t["items"]], ["已完成", t["done"]], ["未完成", t["open"]], ["已逾期", t["overdue"]],
               ["7日内到期", t["soon"]], ["完成率%", t["percent"]], ["本周新增逾期", len(rep["newly"])],
               ["本周完成", len(rep["done"])], ["30天无进展", len(rep["stale"])]]

    def items(rows):
        return [[("" if v is None else v.isoformat() if isinstance(v, date) else v) for v in export.item_values(r, tz)]
                for r in rows]

    header, _, units = export.table("units", rep["ranked"])
    dheader, _, docs = export.table("documents", rep["documents"])
    stale_header = export.ITEM_COLUMNS + ("最后进展或印发日期",)
    stale = [row + [last.isoformat()] for row, (_, last) in zip(items([r for r, _ in rep["stale"]]), rep["stale"])]
    return export.to_xlsx([("概况", ("项目", "数值"), summary), ("本周新增逾期", export.ITEM_COLUMNS, items(rep["newly"])),
                           ("本周完成", export.ITEM_COLUMNS, items(rep["done"])), ("单位逾期排名", header, units),
                           ("各文件进度", dheader, docs), ("30天无进展", stale_header, stale)])


def to_html(rep: dict, lang: str = "zh") -> bytes:
    return render("report.html", lang, **rep).encode("utf-8")


def write(path: str, rep: dict, tz) -> None:
    body = to_html(rep) if path.lower().endswith(".html") else to_xlsx(rep, tz)
    with open(path, "wb") as fh:
        fh.write(body)


__all__ = ["FORMATS", "as_of", "build", "to_html", "to_xlsx", "write"]
