"""PDF text cleanup and segmentation: lines -> documents -> numbered sections.

Works on the cleaned line list, each line keeping its 1-based source line number, so every
task can point back at the printed text. Nothing here knows any particular gazette: page
headers are found as lines that repeat next to page numbers, headings by their numbering.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from .deadlines import cn_number

_PUNCT = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "［": "[", "］": "]",
                        "\u3000": " ", "\xa0": " ", "．": "."})
_WS = re.compile(r"\s+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_PAGE_NO = re.compile(r"^\s*(?:[—\-－–一]+\s*\d{1,4}\s*[—\-－–一]+|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d{1,4})\s*$")


@dataclass
class Line:
    no: int          # 1-based line in the source text
    text: str        # spaces removed, punctuation half-width
    indent: bool     # printed with a leading indent (a paragraph start)
    width: int       # printed length, to tell short (paragraph-ending) lines


def squeeze(s: str) -> str:
    """Remove white space except between two ASCII letters/digits (`PPP 模式` -> `PPP模式`)."""
    s = s.translate(_PUNCT)
    if " " not in s and "\t" not in s:
        return s
    parts = _WS.split(s.strip())
    out = parts[0] if parts else ""
    for p in parts[1:]:
        if out and p and _ASCII_WORD.match(out[-1]) and _ASCII_WORD.match(p[0]) and not (out[-1].isdigit() and p[0].isdigit()):
            out += " " + p
        else:
            out += p
    return out


def clean_lines(text: str) -> list[Line]:
    """Drop blank lines, page numbers and running page headers; squeeze the rest."""
    raw = text.splitlines()
    page_idx = [i for i, s in enumerate(raw) if s.strip() and _PAGE_NO.match(s)
                and not re.match(r"^\s*\d{1,4}\s*$", s)]
    counts = Counter(squeeze(s) for s in raw if s.strip())
    near: Counter = Counter()
    for i in page_idx:
        seen: set = set()
        for step in (-1, 1):
            j, n = i + step, 0
            while 0 <= j < len(raw) and n < 3:
                if raw[j].strip():
                    seen.add(squeeze(raw[j]))
                    n += 1
                j += step
        near.update(seen)
    # running headers: repeated lines that stand next to page numbers nearly every time
    headers = {s for s, c in near.items() if counts[s] >= 3 and len(s) >= 6 and c >= 0.8 * counts[s]}
    page_set = set(page_idx)
    out = []
    for i, s in enumerate(raw):
        if not s.strip() or i in page_set:
            continue
        t = squeeze(s)
        if not t or t in headers:
            continue
        indent = bool(re.match(r"^[\u3000 ]{2,}|^\u3000", s)) and len(s) - len(s.lstrip()) >= 2
        out.append(Line(i + 1, t, indent, len(s.strip())))
    return out


# ---------------------------------------------------------------- documents

_NUMBER = re.compile(r"^(?P<prefix>[\u4e00-\u9fff]{1,12})[〔\[(【](?P<year>\d{4})[〕\])】](?P<n>\d{1,4})号(?P<rest>.*)$")
_DATE_ONLY = re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日$")
_CN_DATE_ONLY = re.compile(r"^(?P<y>[〇零○一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,3})月(?P<d>[一二三四五六七八九十]{1,3})日$")
_ISSUER = re.compile(r"(?:人民政府|政府|办公厅|办公室|委员会|管委会|局|厅|部|委|院|中心|领导小组)(?:办公厅|办公室)?$")


@dataclass
class Document:
    number: str
    title: str
    issuer: str
    issued: date | None
    plan_title: str | None
    year: int
    start: int          # index into lines: first line of the header
    body: int           # index of the first body line
    end: int = 0        # index after the last line
    number_line: int = 0


def parse_date_line(s: str) -> date | None:
    m = _DATE_ONLY.match(s) or _CN_DATE_ONLY.match(s)
    if not m:
        return None
    try:
        return date(cn_number(m.group("y")), cn_number(m.group("m")), cn_number(m.group("d")))
    except (TypeError, ValueError):
        return None


def find_documents(lines: list[Line]) -> list[Document]:
    """Documents start at their header: issuer, title (`关于…`), number `X〔2018〕N号`, date."""
    docs: list[Document] = []
    for i, ln in enumerate(lines):
        m = _NUMBER.match(ln.text)
        if not m:
            continue
        rest = m.group("rest").strip()
        issued = parse_date_line(rest) if rest else None
        if rest and issued is None:
            continue
        # a header has title lines just above: `关于…` within four lines
        back = [j for j in range(i - 1, max(-1, i - 6), -1)]
        k = next((j for j in back if lines[j].text.startswith("关于") or "关于" in lines[j].text[:20]), None)
        if k is None:
            continue
        if docs and k <= docs[-1].number_line:
            continue
        body = i + 1
        while issued is None and body < len(lines) and body <= i + 2:
            d = parse_date_line(lines[body].text)
            if d is None:
                break
            issued, body = d, body + 1
        title_lines = [lines[j].text for j in range(k, i)]
        issuer, start = "", k
        head = lines[k].text
        if head.startswith("关于") and k > 0 and len(lines[k - 1].text) <= 24 and _ISSUER.search(lines[k - 1].text) \
                and not (docs and k - 1 <= docs[-1].number_line):
            issuer, start = lines[k - 1].text, k - 1
        elif not head.startswith("关于"):
            issuer = head[:head.index("关于")]
        title = (issuer if head.startswith("关于") else "") + "".join(title_lines)
        number = f"{m.group('prefix')}〔{m.group('year')}〕{m.group('n')}号"
        docs.append(Document(number, title, issuer, issued, None, int(m.group("year")), start, body, number_line=i))
    for a, b in zip(docs, docs[1:] + [None]):
        a.end = b.start if b else len(lines)
        if a.issued is None:  # the date printed under the signature, at the end
            for j in range(a.end - 1, a.body - 1, -1):
                d = parse_date_line(lines[j].text)
                if d:
                    a.issued = d
                    break
        if a.issued is None:
            a.issued = date(a.year, 1, 1)
        elif abs(a.issued.year - a.year) <= 1:
            a.year = a.issued.year  # `年底前` is the year the notice was signed
        a.plan_title = _plan_title(a, lines)
    return docs


def _plan_title(doc: Document, lines: list[Line]) -> str | None:
    m = re.search(r"关于(?:印发|转发|发布|公布)(.+?)的通知$", doc.title)
    if m:
        return m.group(1).strip("《》〈〉")
    head = "".join(ln.text for ln in lines[doc.body:min(doc.end, doc.body + 6)])
    m = re.search(r"(?:现将|将)《(.+?)》(?:印发|转发)", head)
    return m.group(1) if m else None


# ---------------------------------------------------------------- headings

_HEADINGS = [
    ("chapter", re.compile(r"^第([一二三四五六七八九十百]+)章")),
    ("article", re.compile(r"^第([一二三四五六七八九十百]+)条")),
    ("cn", re.compile(r"^([一二三四五六七八九十]{1,3})、")),
    ("pcn", re.compile(r"^\(([一二三四五六七八九十]{1,3})\)")),
    ("ar", re.compile(r"^(\d{1,2})[.、](?!\d)")),
    ("par", re.compile(r"^\((\d{1,2})\)")),
    ("ar)", re.compile(r"^(\d{1,2})\)")),
    ("circ", re.compile(r"^([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])")),
]
_FMT = {"chapter": "第{}章", "article": "第{}条", "cn": "{}", "pcn": "({})", "ar": "{}", "par": "({})",
        "ar)": "{})", "circ": "{}"}
_ENDS = tuple("。;:!?)”」》")


def heading_of(text: str):
    """(style, number-as-printed, rest of the line) for a numbered heading, else None."""
    for style, pat in _HEADINGS:
        m = pat.match(text)
        if m:
            return style, m.group(1), text[m.end():]
    return None


@dataclass
class Section:
    ref: str                     # section path as printed: 二(一)1
    heading: str                 # the heading line's text after the number
    start: int                   # index of its first line
    end: int = 0
    styles: tuple = ()
    annex: bool = False
    lines: list = field(default_factory=list)

    def text(self, lines: list[Line]) -> str:
        return "".join(lines[i].text for i in range(self.start, self.end))


_ANNEX = re.compile(r"^附\s*件\s*\d{0,2}$|^附件\d{0,2}[:.]?$")


def sections(lines: list[Line], lo: int, hi: int, median: int) -> list[Section]:
    """Cut lines[lo:hi] at numbered headings; each section knows its path of numbers."""
    out: list[Section] = []
    stack: list[tuple[str, str]] = []
    annex, annex_ref = False, ""
    cur = Section("", "", lo)
    prev_heading = True
    for i in range(lo, hi):
        t = lines[i].text
        if _ANNEX.match(t):
            annex, stack, annex_ref = True, [], "附件" + re.sub(r"\D", "", t)
            cur.end = i
            out.append(cur)
            cur = Section("附件" + re.sub(r"\D", "", t), t, i, annex=True)
            prev_heading = True
            continue
        h = heading_of(t)
        if h and i > lo:
            p = lines[i - 1]
            n = _num(h[1])
            ok = prev_heading or p.text.endswith(_ENDS) or p.width < median * 0.8 or lines[i].indent \
                or (n == 1 and not stack and lines[i].width < median * 0.6 and not t.endswith(("。", ",")))
            last = next((x for x in reversed(stack) if x[0] == h[0]), None)
            if last is not None and last[2] is not None and n is not None:
                # numbering must go on: `3.` after `2.`; a restart only when a new level opened
                follows = n == last[2] + 1 or (n == 1 and stack[-1][0] != h[0])
                ok = follows or (ok and n == 1)
            if not ok:
                h = None
        if h:
            style, num, rest = h
            if not rest and i + 1 < hi and not heading_of(lines[i + 1].text):
                rest = lines[i + 1].text  # `2.` alone on its line: the heading text is on the next line
            for k, x in enumerate(stack):
                if x[0] == style:
                    del stack[k:]
                    break
            stack.append((style, _FMT[style].format(num), _num(num)))
            cur.end = i
            out.append(cur)
            has_article = any(x[0] == "article" for x in stack)  # articles are numbered through chapters
            ref = annex_ref + "".join(x[1] for x in stack if not (has_article and x[0] == "chapter"))
            cur = Section(ref, rest, i, styles=tuple(x[0] for x in stack), annex=annex)
            prev_heading = not rest or len(rest) < median * 0.8 and not rest.endswith("。")
            continue
        prev_heading = False
    cur.end = hi
    out.append(cur)
    return [s for s in out if s.end > s.start]


_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _num(s: str) -> int | None:
    if s in _CIRCLED:
        return _CIRCLED.index(s) + 1
    return cn_number(s)


def median_width(lines: list[Line]) -> int:
    ws = sorted(ln.width for ln in lines) or [20]
    return ws[len(ws) * 3 // 4]
