"""Indicator annexes: per-unit lists of yearly targets (`巩义市 / 一、… / 1. 地区生产总值增长8.5%。`).

An annex is read as an indicator annex when at least two unit names stand alone on a line,
each followed by numbered indicators. Every indicator of every unit becomes one `kind: target`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .assign import looks_like_unit
from .text import Line, heading_of

_PLACE_END = re.compile(r"(?:市|县|区|旗|州|盟|管委会|开发区|新区|片区|园区|政府|综合实验区|自贸区)$")
_YEAR = re.compile(r"((?:19|20)\d\d)年")


@dataclass
class Target:
    unit: str
    ref: str
    title: str
    line_index: int
    year: int


def _is_unit_line(text: str, resolve) -> bool:
    if not 2 <= len(text) <= 16 or re.search(r"[,。:;、\d%]", text):
        return False
    if resolve is not None and resolve(text):
        return True
    return bool(_PLACE_END.search(text)) and looks_like_unit(text)


def find_targets(lines: list[Line], lo: int, hi: int, year: int, resolve=None) -> list[Target]:
    """Targets of an annex lines[lo:hi]; [] when it is not an indicator annex."""
    starts = [i for i in range(lo, hi) if _is_unit_line(lines[i].text, resolve)
              and i + 1 < hi and (h := heading_of(lines[i + 1].text)) and h[0] in ("cn", "ar", "pcn")]
    if len(starts) < 2:
        return []
    head = "".join(ln.text for ln in lines[lo:starts[0]])
    m = _YEAR.search(head)
    yr = int(m.group(1)) if m else year
    out: list[Target] = []
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else hi
        unit = lines[s].text
        cat, cur = "", None
        for i in range(s + 1, end):
            h = heading_of(lines[i].text)
            if h and h[0] in ("cn", "pcn"):
                if cur:
                    out.append(cur)
                    cur = None
                cat = h[1] if h[0] == "cn" else f"({h[1]})"
                continue
            if h and h[0] in ("ar", "par") and (cur is None or _closes(cur) or lines[i - 1].width < 16):
                if cur:
                    out.append(cur)
                cur = Target(unit, f"附件{unit}{cat}{h[1]}", h[2], i, yr)
                continue
            if cur is not None:
                cur.title += lines[i].text
        if cur:
            out.append(cur)
    for t in out:
        t.title = t.title.strip().rstrip("。;,")
    return [t for t in out if t.title]


def _closes(t: Target | None) -> bool:
    return t is None or t.title.endswith(("。", ";", ")", "%"))
