"""Task tables flattened by PDF extraction: every cell on its own line(s).

    序号 / 工作任务 / 牵头单位 / 责任单位 / 完成时限      (the header, on one line or several)
    1 / 推行企业开办“一网通办”,实现 / 全程网上办理 / 市市场监管局 / 市公安局、市税务局、市 / 人社局 / 2021年6月底前
    2 / ...

A row starts at its number (the next one in sequence). Within a row the first lines are the task's
words; the first line made of unit names starts the unit cells, taken in the header's order; deadline
words end the row. A cell wraps when its line ends with `、` or `,` or with a cut name (`市`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .assign import is_due_words, looks_like_unit, split_names
from .deadlines import find_dates
from .text import Line

_COLS = [
    ("task", r"(?:重点|主要|工作|具体)?(?:任务|措施|工作内容|事项)(?:内容|名称)?|工作任务|改革事项|具体内容"),
    ("lead", r"牵头(?:责任)?(?:单位|部门)"),
    ("responsible", r"责任(?:单位|部门)|承办单位|实施单位"),
    ("cooperating", r"配合(?:单位|部门)|协办单位|参与单位"),
    ("due", r"完成(?:时限|时间|期限)|时间节点|时限要求|进度安排|时间安排"),
]


@dataclass
class Row:
    number: int
    line_index: int
    task: str = ""
    cells: dict = field(default_factory=dict)   # lead/responsible/cooperating -> [names]
    due_words: str = ""


def _header(lines: list[Line], i: int, hi: int):
    """(column kinds in order, index after the header) when a table header starts at line i."""
    if not lines[i].text.startswith("序号"):
        return None
    text, j = "", i
    while j < min(hi, i + 8) and len(text) < 60:
        text += lines[j].text
        j += 1
        cols = sorted((m.start(), kind) for kind, pat in _COLS for m in [re.search(pat, text)] if m)
        kinds = [k for _, k in cols]
        if "due" in kinds and ("lead" in kinds or "responsible" in kinds) and kinds[-1] == "due":
            return [k for k in kinds if k != "task"], j
    return None


def _units_line(t: str) -> bool:
    names = split_names(t.rstrip("、,"))
    if not names:
        return False
    whole = [n for n in names[:-1]] + ([names[-1]] if not re.search(r"[、,]$", t) else [])
    return all(looks_like_unit(n) or re.fullmatch(r"各?[市县区省]|各[^、,]{1,4}\([^)]*\)", n) for n in names) \
        and any(looks_like_unit(n) for n in whole or names)


def _cut(t: str) -> bool:
    """Does a unit cell go on: a trailing 、 or a name cut in two (`市`, `各区县(市)`)?"""
    if re.search(r"[、,和及]$", t):
        return True
    last = split_names(t)[-1] if split_names(t) else t
    return not looks_like_unit(last)


def find_tables(lines: list[Line], lo: int, hi: int) -> list[tuple[int, int, list[Row]]]:
    """Task tables in lines[lo:hi]: (first line, end, rows)."""
    out = []
    i = lo
    while i < hi:
        h = _header(lines, i, hi)
        if not h:
            i += 1
            continue
        unit_cols, j = h
        rows: list[Row] = []
        while j < hi:
            t = lines[j].text
            m = re.match(r"^(\d{1,3})(?![\d.、年月日%])", t)
            expect = rows[-1].number + 1 if rows else 1
            if m and int(m.group(1)) == expect:
                rows.append(Row(expect, j))
                rest = t[m.end():]
                if rest:
                    _feed(rows[-1], rest, unit_cols)
            elif rows:
                if rows[-1].due_words and not is_due_words(rows[-1].due_words + t) and not _units_line(t):
                    break  # the table is over
                _feed(rows[-1], t, unit_cols)
            elif j > h[1] + 2:
                break
            j += 1
        if rows:
            out.append((i, j, rows))
        i = max(j, i + 1)
    return out


def _feed(row: Row, t: str, unit_cols: list[str]):
    state = row.cells.setdefault("_state", ["task", None])  # current cell kind, its last text
    kind, last = state
    if kind != "task" and kind != "due" and last is not None and _cut(last) and not is_due_words(t):
        last += t
        state[1] = last
        row.cells[kind + "_text"] = last
        return
    if kind in ("task",) and not _units_line(t) or kind == "due" and not _units_line(t):
        if kind == "task" and (is_due_words(t) or _dated(t)) and row.task:
            state[0], state[1] = "due", t
            row.due_words += t
            return
        if kind == "task":
            row.task += t
        else:
            row.due_words += t
        return
    if _units_line(t) and not is_due_words(t):
        used = [k for k in unit_cols if k + "_text" in row.cells]
        free = [k for k in unit_cols if k != "due" and k + "_text" not in row.cells]
        if free:
            state[0], state[1] = free[0], t
            row.cells[free[0] + "_text"] = t
            return
        if used:  # more unit lines than unit columns: the last cell wraps
            row.cells[used[-1] + "_text"] += t
        return
    state[0], state[1] = "due", t
    row.due_words += t


def _dated(t: str) -> bool:
    hits = find_dates(t, 2000)
    return bool(hits) and len(t) <= 24 and hits[0][0] == 0


def row_roles(row: Row) -> dict:
    return {k: [n for n in split_names(row.cells.get(k + "_text", "")) if len(n) >= 2]
            for k in ("lead", "responsible", "cooperating")}
