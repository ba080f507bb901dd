"""Plan goals and targets without a named unit, and dated targets broken down by unit.

- run-in goal paragraphs  `———人口总量。…2020年全市总人口在1050万人以上…2030年…` inside a
                          目标 section: one goal per paragraph, due at the end of its last year
- indicator tables        `类别 名称指标 单位 2020 年 设置依据` then `(1) 环境空气质量优良天数占比 % 62.5`:
                          one goal per numbered row, or one for an unnumbered table, due at the
                          end of the last year column
- unit breakdowns         `2018年,计划新建、改扩建学校71所(其中中原区6所、二七区3所、…)`:
                          one target per unit and year
- duty holders            `(一) 市政务服务中心职责` over numbered items: each item is that unit's task
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from .assign import looks_like_unit, split_names
from .text import Line, heading_of

_ENDS = ("。", ";", "!", "?")
# `加强健康环境建设。` `———人口总量。` at a line start, more text after it on the line
_RUN_IN = re.compile(r"^(?:[—\-]{2,})?(?P<h>[^,。;:、“”《》()\d%]{2,16})。(?=.)")
# a year that sets a term: at a clause start or after 到/至/力争…, not a range's start, not `年均`
_TERM_YEAR = re.compile(r"(?:^|[。;,:])(?:到|至|力争到|争取到|力争|争取|计划到)?((?:19|20)\d\d)年(?:末|底)?(?:前|以前)?(?![年度以的起]|来)")


@dataclass
class Item:
    line_index: int      # index into lines
    title: str
    detail: str
    year: int
    unit: str | None = None
    end: int = 0         # index after its last line


def term_years(flat: str, year: int) -> list[int]:
    """Years in flat text that set a term (`到2020年,…` `。2030年全市总人口…`), not earlier than year."""
    return [int(m.group(1)) for m in _TERM_YEAR.finditer(flat) if int(m.group(1)) >= year]


def run_in_goals(lines: list[Line], lo: int, hi: int, width: int, year: int) -> list[Item]:
    """Paragraphs of a 目标 section that open with a run-in heading and set dated targets."""
    out: list[Item] = []
    cur: list | None = None  # [start index, heading, texts]

    def close():
        if cur:
            flat = "".join(cur[2])
            years = term_years(flat[len(cur[1]):], year)
            if years:
                out.append(Item(cur[0], cur[1].strip("—-"), flat, max(years), end=cur[0] + len(cur[2])))

    for i in range(lo, hi):
        t = lines[i].text
        m = _RUN_IN.match(t)
        starts = m and (i == lo or lines[i - 1].text.endswith(_ENDS) or lines[i].indent) and not heading_of(t)
        if starts:
            close()
            cur = [i, t[:m.end() - 1], [t]]
            continue
        if cur is None:
            continue
        if heading_of(t) or (lines[i - 1].text.endswith(_ENDS) and lines[i - 1].width < width * 0.8):
            close()
            cur = None
            continue
        cur[2].append(t)
    close()
    return out


_HEAD_YEAR = re.compile(r"((?:19|20)\d\d)年")
_CAPTION = re.compile(r"^(?:表|专栏|附表)\s*\d{0,2}|指标|目标")


def _indicator_header(t: str, year: int) -> int | None:
    """The last year column of an indicator table's header line (`类别名称指标单位2020年设置依据`)."""
    if len(t) > 48 or re.search(r"[,。;:]", t) or not re.search(r"指标|名称", t):
        return None
    years = [int(y) for y in _HEAD_YEAR.findall(t)]
    if not years or max(years) < year or "单位" not in t and len(years) < 2:
        return None
    return max(years)


def indicator_tables(lines: list[Line], lo: int, hi: int, year: int) -> list[tuple[int, int, list[Item]]]:
    """(first, end, goals) of each indicator table in lines[lo:hi]: a header with year columns,
    rows of indicators; numbered rows are a goal each, an unnumbered table is one goal."""
    out = []
    i = lo
    while i < hi:
        y = _indicator_header(lines[i].text, year)
        if y is None:
            i += 1
            continue
        first = i
        while first > lo and first > i - 3 and len(lines[first - 1].text) <= 24 \
                and _CAPTION.search(lines[first - 1].text) and not lines[first - 1].text.endswith(_ENDS):
            first -= 1
        rows: list[Item] = []
        j = i + 1
        while j < hi and j < i + 120:
            t = lines[j].text
            h = heading_of(t)
            if (h and h[0] not in ("par", "ar")) or re.search(r"[。,;:]", t) or re.match(r"^第.{1,3}[章节条]", t) \
                    or _indicator_header(t, year) or re.match(r"^(?:表|专栏|附表)\d", t):
                break  # the table ends at prose, a heading, or the next table
            if h:
                rows.append(Item(j, h[2], h[2], y))
            elif rows and len(t) > 0 and not _category(t):
                rows[-1].detail += t
            j += 1
        if j - i < 2:
            i += 1
            continue
        if len(rows) >= 2:
            items = rows
        else:
            cap = "".join(lines[k].text for k in range(first, i)) or lines[i].text
            items = [Item(first, cap[:60], "".join(lines[k].text for k in range(first, j)), y)]
        for it in items:
            it.end = j
        out.append((first, j, items))
        i = j
    return out


def _category(t: str) -> bool:
    """A category cell alone on a line (`健康` `环境`), not a wrapped row."""
    return len(t) <= 4 and not re.search(r"\d|[%‰/]", t)


_PLACE_END = re.compile(r"(?:市|县|区|旗|州|盟|镇|乡|管委会|开发区|新区|片区|园区|实验区|示范区)$")
_MEASURE = r"(?:所|个|家|座|条|项|处|人|户|辆|套|张|台|公里|千米|米|平方米|亩|公顷|万[元人户]?|亿元)"
_BREAKDOWN = re.compile(rf"(?P<what>[^。;,()]{{2,40}}?)(?P<total>\d+(?:\.\d+)?)(?P<mw>{_MEASURE})\(其中(?P<list>[^()。;]+)\)")
_SHARE = re.compile(r"(?P<u>[^、,,]{2,20}?)(?P<n>\d+(?:\.\d+)?)(?P<mw>[^\d、,,]{1,3})(?=[、,,]|$)")


def breakdown_targets(lines: list[Line], lo: int, hi: int, year: int) -> list[Item]:
    """`2018年,计划新建、改扩建学校71所(其中中原区6所、二七区3所…)`: a target per unit and year,
    at the line where the unit is named."""
    starts, parts, pos = [], [], 0
    for i in range(lo, hi):
        starts.append(pos)
        parts.append(lines[i].text)
        pos += len(lines[i].text)
    flat = "".join(parts)
    out: list[Item] = []
    for m in _BREAKDOWN.finditer(flat):
        s = max(flat.rfind("。", 0, m.start()), flat.rfind(";", 0, m.start())) + 1
        head, what = flat[s:m.start("what")], m.group("what")
        ym = re.search(r"(?<![\d—\-~至])((?:19|20)\d\d)年(?:内|度)?[,:]$", head)
        if ym is None:
            ym = re.match(r"^((?:19|20)\d\d)年(?:内|度)?[,:]?", what)
            what = what[ym.end():] if ym else what
        if ym is None or int(ym.group(1)) < year:
            continue
        y = int(ym.group(1))
        what = re.sub(r"^(?:计划|预计|拟|共|全市|全年|共计)+", "", what)
        shares = list(_SHARE.finditer(m.group("list")))
        if len(shares) < 2 or not all(sh.group("mw") == m.group("mw") for sh in shares):
            continue
        if not all(_PLACE_END.search(sh.group("u")) and looks_like_unit(sh.group("u")) for sh in shares):
            continue
        for sh in shares:
            at = m.start("list") + sh.start()
            k = bisect_right(starts, at) - 1
            out.append(Item(lo + k, f"{y}年{what}{sh.group('n')}{sh.group('mw')}", m.group(0), y, sh.group("u")))
    return out


_DUTY_HEAD = re.compile(r"^(?P<u>[^,。;:]{2,40}?)(?:的)?(?:主要|监督|工作|管理)?职责(?:分工)?[。]?$")
_GOV = re.compile(r"^(?:市|省|县|区|各|全市|全省)")


def duty_holder(heading: str) -> list[str]:
    """Names of a `X职责` / `X的监督职责` heading (its items are X's duties), else []."""
    m = _DUTY_HEAD.match(heading.strip())
    if not m or "职责" in m.group("u") or re.search(r"按照?|分工|主要$", m.group("u")):
        return []
    names = split_names(m.group("u"))
    if names and all(not n.startswith(("其", "本", "该")) and looks_like_unit(n) or (_GOV.match(n) and len(n) <= 12) for n in names):
        return names
    return []
