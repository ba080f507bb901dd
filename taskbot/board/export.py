"""Exports of the board's lists: CSV (UTF-8 with BOM, for Excel), JSON (Datasette style) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from .data import STATUS_ZH, DocFigures, Row, UnitFigures

ITEM_COLUMNS = ("编号", "文件", "条目", "事项", "牵头单位", "责任单位", "配合单位", "完成时限", "时限说明", "状态",
                "最新进展", "进展日期", "完成日期", "督办灯")
ITEM_KEYS = ("id", "doc", "ref", "title", "lead", "responsible", "cooperating", "due", "due_text", "status",
             "progress", "progress_at", "done_on", "light")
UNIT_COLUMNS = ("单位", "未完成", "已逾期", "按时完成", "逾期完成", "上次报送进展", "联络员会话数")
UNIT_KEYS = ("unit", "open", "overdue", "done_on_time", "done_late", "last_progress", "chats")
DOC_COLUMNS = ("文件", "标题", "事项数", "已完成", "未完成", "已逾期", "7日内到期", "完成率%")
DOC_KEYS = ("doc", "title", "items", "done", "open", "overdue", "soon", "percent")
WIDTHS = {"编号": 12, "文件": 22, "条目": 10, "事项": 60, "牵头单位": 20, "责任单位": 20, "配合单位": 20,
          "完成时限": 12, "时限说明": 16, "状态": 8, "最新进展": 40, "进展日期": 12, "完成日期": 12, "督办灯": 8,
          "单位": 24, "标题": 50}


def item_values(row: Row, tz) -> list:
    t = row.task
    p = row.progress
    return [t.id, t.doc, t.ref, t.title, "、".join(t.lead), "、".join(t.responsible), "、".join(t.cooperating),
            t.due, t.due_text or "", STATUS_ZH[row.status], p.text if p else "",
            p.at.astimezone(tz).date() if p else None, row.done_on, row.light]


def unit_values(f: UnitFigures) -> list:
    return [f.name, f.open, f.overdue, f.done_on_time, f.done_late, f.last_progress, f.chats]


def doc_values(f: DocFigures) -> list:
    return [f.number, f.title, f.items, f.done, f.open, f.overdue, f.soon, f.percent]


def table(kind: str, data, tz=None) -> tuple[tuple, tuple, list[list]]:
    """(header, json keys, value rows) of a list: 'items' (rows), 'units' or 'documents' (figures)."""
    if kind == "items":
        return ITEM_COLUMNS, ITEM_KEYS, [item_values(r, tz) for r in data]
    if kind == "units":
        return UNIT_COLUMNS, UNIT_KEYS, [unit_values(f) for f in data]
    return DOC_COLUMNS, DOC_KEYS, [doc_values(f) for f in data]


def _text(v) -> str:
    if v is None:
        return ""
    return v.isoformat() if isinstance(v, date) else str(v)


def to_csv(header, rows) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow([_text(v) for v in r])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")  # the BOM makes Excel read UTF-8


def to_json(keys, rows, total: int, extra: dict | None = None) -> bytes:
    data = {"ok": True, "total": total, "columns": list(keys),
            "rows": [{k: (_text(v) if isinstance(v, date) else v) for k, v in zip(keys, r)} for r in rows]}
    data.update(extra or {})
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_xlsx(sheets: list[tuple[str, tuple, list[list]]]) -> bytes:
    """One worksheet per (title, header, rows): frozen bold header, column widths, autofilter.

    Written in openpyxl's write-only mode (streams rows; 100k rows stay within memory).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE3EA")
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.freeze_panes = "A2"
        for i, name in enumerate(header, 1):
            ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(name, max(10, 2 * len(name) + 2))
        cells = []
        for name in header:
            c = WriteOnlyCell(ws, value=name)
            c.font, c.fill, c.alignment = bold, fill, Alignment(vertical="center")
            cells.append(c)
        ws.append(cells)
        for r in rows:
            ws.append(r)
        if rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["DOC_COLUMNS", "ITEM_COLUMNS", "UNIT_COLUMNS", "item_values", "table", "to_csv", "to_json", "to_xlsx"]
