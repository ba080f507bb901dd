"""Deadline words of Chinese policy documents: `2018年底前`, `上半年`, `10月21日—23日`, `每季度`...

`parse_deadline(text, year)` reads the deadline words of one task (a `完成时限` value, or the
task's own text) into a due date, phases (`milestones`) and a recurrence (`every`).
`find_dates(text, year)` lists every date expression with its position, for callers that
must choose among them. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_CN_DIGIT = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "〇零○Ｏ一二两三四五六七八九十"
_FW_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def cn_number(s: str) -> int | None:
    """'12', '十二', '二十三', '二〇一八' -> int; None when it is not a number."""
    s = s.translate(_FW_DIGITS)
    if s.isdigit():
        return int(s)
    if not s or any(c not in _CN for c in s):
        return None
    if "十" not in s:  # digit by digit: 二〇一八
        return int("".join(str(_CN_DIGIT[c]) for c in s))
    tens, _, ones = s.partition("十")
    t = _CN_DIGIT.get(tens, 1) if tens else 1
    o = _CN_DIGIT.get(ones, 0) if ones else 0
    return t * 10 + o


@dataclass(frozen=True)
class Deadline:
    due: date | None = None
    due_text: str | None = None
    milestones: tuple = ()  # ((date, title), ...), in order
    every: str | None = None


def _last(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


_N = r"[0-9０-９〇零○一二两三四五六七八九十]"
_Y = rf"(?P<y>(?:19|20)\d\d|[二][〇零○][〇零○一二三四五六七八九]{{2}})\s*年(?:度)?"
_M = rf"(?P<m>{_N}{{1,3}})\s*月(?:份)?"
_D = rf"(?P<d>{_N}{{1,3}})\s*[日号]"
_RANGE_END = rf"(?:\s*[—\-－~～至到]+\s*(?:(?P<m2>{_N}{{1,3}})\s*月)?\s*(?:(?P<d2>{_N}{{1,3}})\s*[日号]|(?P<m3>{_N}{{1,3}})\s*月))?"
_TAIL = r"(?P<tail>上旬|中旬|下旬|底|末|中)?\s*(?P<before>前|以前|之前|内|以内)?"
_QUARTER = r"(?:第)?(?P<q>[一二三四1-4])\s*季度"
_HALF = r"(?P<h>上|下)半年"

# one date expression; the alternatives share group names through separate patterns
_PATTERNS = [
    re.compile(rf"(?:{_Y})?\s*(?:{_N}{{1,2}}\s*[—\-－~～至到]+\s*(?={_N}{{1,2}}\s*月))?{_M}\s*(?:{_D})?{_RANGE_END}{_TAIL}"),
    re.compile(rf"(?:{_Y})?\s*(?:{_QUARTER}|{_HALF}|(?P<ye>年底|年末|年内|年中|年度内))\s*(?:末|底)?\s*(?P<before>前|以前|之前|内)?"),
    re.compile(rf"{_Y}(?P<tail>底|末|中|内)?\s*(?P<before>前|以前|之前|内)?"),
    re.compile(r"(?:19|20)\d\d\s*[—\-－~～至到]+\s*(?P<y2>(?:19|20)\d\d)\s*年(?P<tail>底|末)?\s*(?P<before>前|以前|之前)?"),
]
_YEAR_RANGE = re.compile(r"((?:19|20)\d\d)\s*[—\-－~～至到]+\s*((?:19|20)\d\d)\s*年")


def _match_at(text: str, pos: int, year: int):
    """The longest date expression starting at pos: (end, date, words) or None."""
    best = None
    for pat in _PATTERNS:
        m = pat.match(text, pos)
        if not m or m.end() == pos or not m.group(0).strip():
            continue
        d = _to_date(m, year)
        if d is None:
            continue
        end = m.end()
        while end > pos and text[end - 1].isspace():
            end -= 1
        if best is None or end > best[0]:
            best = (end, d, text[pos:end])
    return best


def _to_date(m: re.Match, year: int) -> date | None:
    g = m.groupdict()
    y = cn_number(g["y"]) if g.get("y") else None
    if g.get("y2"):
        y = int(g["y2"])
    yy = y or year
    try:
        if g.get("q"):
            q = cn_number(g["q"])
            return _last(yy, q * 3) if q and 1 <= q <= 4 else None
        if g.get("h"):
            return date(yy, 6, 30) if g["h"] == "上" else date(yy, 12, 31)
        if g.get("ye"):
            return date(yy, 6, 30) if g["ye"] == "年中" else date(yy, 12, 31)
        if g.get("m"):
            month = cn_number(g["m"])
            if g.get("m2") or g.get("m3"):
                month = cn_number(g.get("m2") or g.get("m3"))
            if not month or not 1 <= month <= 12:
                return None
            day = g.get("d2") or g.get("d")
            tail = g.get("tail")
            if day and (g.get("d2") or not tail or tail in ("前",)):
                return date(yy, month, cn_number(day))
            if tail == "上旬":
                return date(yy, month, 10)
            if tail == "中旬":
                return date(yy, month, 20)
            if day:
                return date(yy, month, cn_number(day))
            return _last(yy, month)
        if y:
            if g.get("tail") == "中":
                return date(yy, 6, 30)
            return date(yy, 12, 31)
    except (ValueError, TypeError):
        return None
    return None


_START = re.compile(rf"(?:19|20)\d\d|{_N}{{1,2}}\s*[—\-－~～至到]+\s*{_N}{{1,2}}\s*月|[二][〇零○]|{_N}{{1,3}}\s*月|(?:第)?[一二三四1-4]\s*季度|[上下]半年|年底|年末|年内|年中")


def find_dates(text: str, year: int) -> list[tuple[int, int, date, str]]:
    """Every date expression in text: (start, end, date, words with spaces removed)."""
    out, pos = [], 0
    while True:
        m = _START.search(text, pos)
        if not m:
            return out
        s = m.start()
        if s > 0 and text[s - 1].isdigit():
            pos = m.end()
            continue
        hit = _match_at(text, s, year)
        if hit is None:
            pos = m.end()
            continue
        end, d, words = hit
        # a bare number followed by 年 that is really an amount ("5年") is not matched: years need 19xx/20xx
        out.append((s, end, d, re.sub(r"\s+", "", words)))
        pos = end


_EVERY = [
    # every two months, ten days, two years…: no `every` form; the words are kept as due_text
    (re.compile(r"每(?:隔)?(?:两|二|双|三|四|五|六)个?(?:月|周|星期|年|季度?)|每旬|每十天|隔月|每隔一个?(?:月|周|年)"), ""),
    (re.compile(rf"每年\s*(?P<m>{_N}{{1,3}})\s*月\s*(?:(?P<d>{_N}{{1,3}})\s*[日号]|(?P<end>底|末))"), "yearly"),
    (re.compile(r"每年\s*(?:第)?(?P<q>[一二三四1-4])\s*季度(?:末|底)?"), "yearly-quarter"),
    (re.compile(r"每年\s*(?P<h>上|下)半年(?:末|底)?"), "yearly-half"),
    (re.compile(r"每年\s*(?:年底|年末|底|末)"), "yearly-end"),
    (re.compile(rf"每月\s*(?P<d>{_N}{{1,3}})\s*[日号]"), "monthly-day"),
    (re.compile(r"每(?:个)?月|按月|月度"), "monthly"),
    (re.compile(r"每(?:个)?季度?|按季度?|季度报"), "quarterly"),
    (re.compile(r"每半年|半年一次"), "half-yearly"),
    (re.compile(r"每(?:个)?(?:周|星期)|按周"), "weekly"),
    (re.compile(r"每年(?!\d)|按年度|年度报"), "yearly-end"),
]


def parse_every(text: str) -> tuple[str | None, tuple[int, int] | None]:
    """('monthly', span) for recurring words, ('', span) for recurring words that have no
    `every` form (`每两个月`), else (None, None)."""
    for pat, kind in _EVERY:
        m = pat.search(text)
        if not m:
            continue
        if kind == "yearly-quarter":
            q = cn_number(m.group("q"))
            return f"yearly:{q * 3:02d}-{calendar.monthrange(2021, q * 3)[1]:02d}", m.span()
        if kind == "yearly-half":
            return ("yearly:06-30" if m.group("h") == "上" else "yearly:12-31"), m.span()
        if kind == "yearly":
            month = cn_number(m.group("m"))
            if not month or not 1 <= month <= 12:
                continue
            day = cn_number(m.group("d")) if m.group("d") else calendar.monthrange(2021, month)[1]
            return f"yearly:{month:02d}-{day:02d}", m.span()
        if kind == "monthly-day":
            day = cn_number(m.group("d"))
            return (f"monthly:{day}" if day and 1 <= day <= 31 else "monthly"), m.span()
        if kind == "yearly-end":
            return "yearly:12-31", m.span()
        return kind, m.span()
    return None, None


_OPEN = re.compile(r"试点全程|长期|持续推进|持续开展|持续|常态化|常年|全年|年年|逐年|动态|随时|即时|及时|立即|按要求|按时")
_SEP = re.compile(r"[,，;；。、]")
_LEAD_WORDS = re.compile(r"^[\s,，、:：]*(?:前|以前|之前|底|末|内|以内)?[\s,，、:：]*")


def parse_deadline(text: str, year: int) -> Deadline:
    """Deadline words -> Deadline. `year` is the document's year, used when no year is printed."""
    if not text or not text.strip():
        return Deadline()
    flat = re.sub(r"\s+", "", text)
    every, espan = parse_every(flat)
    hits = find_dates(flat, year)
    if espan:  # the date inside `每年6月底前` is the recurrence, not a due date
        hits = [h for h in hits if h[1] <= espan[0] or h[0] >= espan[1]]
    # `2021年起每年`: a start, not a term
    starts = [h for h in hits if _STARTS_AT.match(flat, h[1])]
    hits = _join_ranges(flat, [h for h in hits if h not in starts])
    if not hits:
        words = flat.strip("。,，;；") or None
        if espan and flat[espan[0]:espan[1]] == "每年" \
                and re.fullmatch(r"(?!年底|年末|底|末)[\u4e00-\u9fff]{1,6}?(?:前|以前|之前|期间)[。;,]?", flat[espan[1]:]):
            return Deadline(None, words, (), None)  # `每年汛期前`: a yearly term of no fixed date
        if espan:
            m = re.compile(r"前|以前|之前|末|底").match(flat, espan[1])
            lo = starts[0][0] if starts and starts[0][0] < espan[0] else espan[0]
            return Deadline(None, flat[lo:m.end() if m else espan[1]], (), every or None)
        m = _OPEN.search(flat)
        return Deadline(None, (m.group(0) if m and len(flat) > 12 else words), (), every)
    # a year that carries on to the next expressions: 2019年1月底前 ... 3月底前
    resolved = []
    ctx = year
    for s, e, d, words in hits:
        if not re.match(r"(?:19|20)\d\d|[二][〇零○]", words) and d.year != ctx and d.year == year:
            try:
                d = d.replace(year=ctx)
            except ValueError:
                d = _last(ctx, d.month)
        ctx = d.year
        resolved.append((s, e, d, words))
    dated = sorted({d for _, _, d, _ in resolved})
    if len(dated) == 1 or len(resolved) == 1:
        s, e, d, words = max(resolved, key=lambda h: h[2])
        words = _with_suffix(flat, s, e)
        return Deadline(d, words, (), every or None)
    milestones = []
    for i, (s, e, d, words) in enumerate(resolved):
        nxt = resolved[i + 1][0] if i + 1 < len(resolved) else len(flat)
        seg = flat[e:nxt]
        seg = _LEAD_WORDS.sub("", seg)
        seg = _SEP.split(seg, maxsplit=1)[0] if len(seg) > 40 else seg.rstrip("。,，;；、")
        seg = seg.rstrip("。,，;；、") or _with_suffix(flat, s, e)
        milestones.append((d, seg))
    # several dates on one task: phases when they differ; merge equal dates
    merged: dict[date, str] = {}
    for d, t in milestones:
        merged[d] = f"{merged[d]};{t}" if d in merged and merged[d] != t else t
    ms = tuple(sorted(merged.items()))
    due = ms[-1][0]
    due_text = "、".join(_with_suffix(flat, s, e) for s, e, _, _ in resolved)
    return Deadline(due, due_text, ms, every or None)


_STARTS_AT = re.compile(r"(?:起|开始|以来)")


def _join_ranges(flat: str, hits: list) -> list:
    """`2021年6月—2022年12月`: two dates joined by a dash are one range, due at its end."""
    out = []
    for h in hits:
        if out and re.fullmatch(r"\s*[—\-－~～至到]+\s*", flat[out[-1][1]:h[0]]):
            s = out[-1][0]
            out[-1] = (s, h[1], h[2], flat[s:h[1]])
        else:
            out.append(h)
    return out


def _with_suffix(flat: str, s: int, e: int) -> str:
    """The date words plus a directly following 完成, as printed (`2018年完成`)."""
    words = flat[s:e]
    if flat.startswith("完成", e) and not re.search(r"前|底|末", words):
        words += "完成"
    return words
