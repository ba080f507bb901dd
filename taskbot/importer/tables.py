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

from .assign import is_due_words, looks_like_unit, marked_leads, split_names
from .deadlines import find_dates
from .text import Line

_COLS = [
    ("task", r"(?:重点|主要|工作|具体|改革)?(?:任务|措施|工作内容|事项)(?:内容|名称)?|工作任务|改革事项|具体内容|"
             r"^(?:重点|主要|具体)?工作$|^工作事项$"),
    ("lead", r"牵头(?:责任)?(?:单位|部门)|主要责任(?:单位|部门)|主责(?:单位|部门)"),
    ("responsible", r"责任(?:单位|部门)|承办单位|实施单位"),
    ("cooperating", r"(?:配合|协办|参与|协同|协助)(?:单位|部门)"),
    ("due", r"完成(?:时限|时间|期限)|时间(?:节点|要求|安排|进度)|时限要求|进度安排|截止(?:时间|日期)|办结时限|时限"),
]


@dataclass
class Row:
    number: int | str
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
        kinds = _cell_header(lines[i])
        if kinds:
            j, rows = _cell_rows(lines, i + 1, hi, kinds)
            if rows:
                out.append((i, j, rows))
                i = j
                continue
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
    out = {k: [n for n in split_names(row.cells.get(k + "_text", "")) if len(n) >= 2]
           for k in ("lead", "responsible", "cooperating")}
    for k in ("responsible", "cooperating"):  # `市发改委(牵头)、市财政局`
        marked = marked_leads(row.cells.get(k + "_text", ""))
        out["lead"] += [n for n in marked if n not in out["lead"]]
        out[k] = [n for n in out[k] if n not in marked]
    return out


# ---------------------------------------------------------------- tables exported from Word or Excel
# One row a line, cells separated by tabs or runs of spaces (`Line.cells`). A row starts at its number;
# a line that does not finish its row (fewer cells) goes on in the next line, from the cell it stopped
# in; a line opening with an empty cell lines up with the columns. An empty lead, responsible or deadline
# cell of a row is a cell merged with the row above (Word and Excel print its text only once); an empty
# cooperating cell is just empty (many tasks have no cooperating units).

_NO = re.compile(r"^(?:序号|编号|序|No\.?)$")
_ROW_NO = re.compile(r"^\(?(\d{1,4})\)?[.、]?$")
_CATEGORY = re.compile(r"^([一二三四五六七八九十]{1,3})[、.]|^\(([一二三四五六七八九十]{1,3})\)")
_OPEN_WORDS = re.compile(r"^(?:长期|持续|常态|逐年|每|按|定期|及时|年内|年底|年末|上半年|下半年)")


def _cell_header(line: Line) -> list | None:
    """Column kinds of a header row (`序号\t重点任务\t牵头单位\t责任单位\t完成时限`), else None."""
    if len(line.cells) < 3:
        return None
    kinds = []
    for c in line.cells:
        k = "no" if _NO.match(c) else next((kind for kind, pat in _COLS if len(c) <= 12 and re.search(pat, c)), None)
        kinds.append(k)
    if "task" in kinds and ("lead" in kinds or "responsible" in kinds or "cooperating" in kinds):
        return kinds
    return None


def _due_like(c: str) -> bool:
    return bool(c) and (is_due_words(c) or _dated(c) or bool(_OPEN_WORDS.match(c)) and len(c) <= 16)


def _cell_rows(lines: list[Line], j: int, hi: int, kinds: list) -> tuple[int, list[Row]]:
    n = len(kinds)
    rows: list[Row] = []
    texts: list[list[str]] = []          # per row, per column: the text
    explicit: list[list[bool]] = []      # per row, per column: was the cell there (possibly empty)
    last_col, cat = n - 1, ""
    while j < hi:
        ln = lines[j]
        cells = list(ln.cells)
        if not cells:
            cm = _CATEGORY.match(ln.text)
            if rows and last_col < n - 1 and not cm:
                texts[-1][last_col] += ln.text   # a cell's text broken onto its own line
                j += 1
                continue
            open_cell = next((c for c, k in enumerate(kinds) if k in ("lead", "responsible", "cooperating")
                              and re.search(r"[、,]$", texts[-1][c])), None) if rows else None
            if open_cell is not None and not cm and _units_line(ln.text):
                texts[-1][open_cell] += ln.text  # a units cell wrapped onto its own line, under its column
                j += 1
                continue
            if cm and j + 1 < hi and len(lines[j + 1].cells) >= 2:
                cat = cm.group(1) or cm.group(2)  # a category row: `一、优化政务服务`
                j += 1
                continue
            break
        m = _ROW_NO.match(cells[0]) if "no" in kinds else None
        cm = _CATEGORY.match(cells[0] + "、") if not m and "no" in kinds else None
        if cm and sum(1 for c in cells if c) <= 2:
            cat = cm.group(1) or cm.group(2)  # a category row in cells: `一\t优化政务服务`
            last_col = n - 1
            j += 1
            continue
        starts = bool(m) if "no" in kinds else bool(cells[0]) and last_col >= n - 1
        if starts:
            rows.append(Row(f"{cat}{int(m.group(1))}" if m else len(rows) + 1, j))
            texts.append([""] * n)
            explicit.append([False] * n)
            placed = _place(cells, kinds)
            for col, c in placed:
                texts[-1][col] += c
                explicit[-1][col] = True
            last_col = placed[-1][0] if placed else 0
        elif rows and (cells[0] == "" or last_col < n - 1):
            first = 0 if cells[0] == "" else last_col
            for k, c in enumerate(cells):
                col = min(n - 1, first + k)
                if c:
                    texts[-1][col] += c
                last_col = col
        else:
            break
        j += 1
    for r, (row, tx, ex) in enumerate(zip(rows, texts, explicit)):
        for col, kind in enumerate(kinds):
            if kind in ("lead", "responsible", "due") and not tx[col] and ex[col] and r > 0:
                tx[col] = texts[r - 1][col]       # merged with the cell above
        row.task = ";".join(tx[c] for c, k in enumerate(kinds) if k == "task" and tx[c])
        row.due_words = "".join(tx[c] for c, k in enumerate(kinds) if k == "due")
        for c, k in enumerate(kinds):
            if k in ("lead", "responsible", "cooperating"):
                row.cells[k + "_text"] = row.cells.get(k + "_text", "") + ("、" if k + "_text" in row.cells else "") + tx[c]
    return j, rows


def _place(cells: list[str], kinds: list) -> list[tuple[int, str]]:
    """(column, text) of a row's cells: by position; a deadline that came early (empty cells lost
    between runs of spaces) moves to the deadline column."""
    n = len(kinds)
    out = [(k, c) for k, c in enumerate(cells[:n])]
    if len(cells) > n:  # more cells than columns: the extra ones belong to the last column
        out[-1] = (n - 1, out[-1][1] + "".join(cells[n:]))
    if len(cells) < n and "due" in kinds and out:
        col, c = out[-1]
        due_col = kinds.index("due")
        if kinds[col] != "due" and due_col > col and _due_like(c):
            out[-1] = (due_col, c)
    return out
