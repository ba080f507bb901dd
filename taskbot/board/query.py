"""Query-string filters of the board's lists: parsed leniently (a bad value is ignored and named), never raising."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from .data import STATUSES, Row

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_VALUE = 200  # longer query values are ignored


@dataclass(frozen=True)
class Filters:
    unit: str | None = None
    doc: str | None = None
    status: tuple[str, ...] = ()
    due_before: date | None = None
    due_after: date | None = None
    limit: int | None = None  # None: the page's default (exports: everything)
    offset: int = 0
    ignored: tuple[str, ...] = field(default=(), compare=False)  # "name=value" pairs that were not understood

    def args(self, **override) -> dict[str, str]:
        """The filters as query arguments (for links that keep them)."""
        out = {"unit": self.unit, "doc": self.doc, "status": ",".join(self.status) or None,
               "due_before": self.due_before.isoformat() if self.due_before else None,
               "due_after": self.due_after.isoformat() if self.due_after else None,
               "limit": str(self.limit) if self.limit is not None else None,
               "offset": str(self.offset) if self.offset else None}
        out.update(override)
        return {k: v for k, v in out.items() if v not in (None, "")}


def parse(query: Mapping[str, str], resolve_unit=None, resolve_doc=None) -> Filters:
    """Filters from a query mapping; unknown values are dropped and listed in `ignored`."""
    ignored: list[str] = []
    kw: dict = {}

    def get(name):
        value = query.get(name)
        if value is None or value == "":
            return None
        if len(value) > MAX_VALUE:
            ignored.append(f"{name}=…")
            return None
        return value

    for key, resolve in (("unit", resolve_unit), ("doc", resolve_doc)):  # any spelling, to the canonical name
        if (v := get(key)) is not None:
            name = resolve(v) if resolve else v
            if name is None:
                ignored.append(f"{key}={v}")
            else:
                kw[key] = name
    if (v := get("status")) is not None:
        wanted = tuple(dict.fromkeys(s.strip().lower() for s in v.split(",") if s.strip()))
        good = tuple(s for s in wanted if s in STATUSES)
        if len(good) != len(wanted):
            ignored.append(f"status={v}")
        kw["status"] = good
    for name in ("due_before", "due_after"):
        if (v := get(name)) is not None:
            try:
                kw[name] = date.fromisoformat(v)
            except ValueError:
                ignored.append(f"{name}={v}")
    for name, lo, hi in (("limit", 1, MAX_LIMIT), ("offset", 0, 10**9)):
        if (v := get(name)) is not None:
            if v.isdigit() and len(v) <= 12:
                kw[name] = min(max(int(v), lo), hi)  # a huge limit is served as the largest page
            else:
                ignored.append(f"{name}={v}")
    return Filters(**kw, ignored=tuple(ignored))


def apply(rows: list[Row], f: Filters, unit_ids: set[str] | None = None) -> list[Row]:
    """Rows passing the filters (unit_ids: the ids of the filter unit's items, groups resolved)."""
    out = []
    for r in rows:
        if f.doc and r.task.doc != f.doc:
            continue
        if unit_ids is not None and r.id not in unit_ids:
            continue
        if f.status and r.status not in f.status:
            continue
        due = r.task.due
        if f.due_before and (due is None or due >= f.due_before):
            continue
        if f.due_after and (due is None or due <= f.due_after):
            continue
        out.append(r)
    return out


def page(rows: list, f: Filters, default: int = DEFAULT_LIMIT) -> tuple[list, int, int]:
    """(rows of this page, offset, limit)."""
    limit = f.limit or default
    offset = min(f.offset, max(len(rows) - 1, 0))
    return rows[offset:offset + limit], offset, limit


__all__ = ["DEFAULT_LIMIT", "Filters", "MAX_LIMIT", "apply", "page", "parse"]
