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
_PAGE_NO = re.compile(r"^\s*(?:[—\-－–一·•]+\s*\d{1,4}\s*[—\-－–一·•]+|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|"
                      r"\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\x0c\x0b"))
# cells of a row exported from Word or Excel: separated by tabs or by runs of 2+ spaces
_CELL_SEP = re.compile(r"\t|[ \u3000\xa0]{2,}")


@dataclass
class Line:
    no: int          # 1-based line in the source text
    text: str        # spaces removed, punctuation half-width
    indent: bool     # printed with a leading indent (a paragraph start)
    width: int       # printed length, to tell short (paragraph-ending) lines
    cells: tuple = ()  # squeezed cells when the line holds tab/space-separated cells, else ()


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
    raw = text.translate(_INVISIBLE).splitlines()
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
        indent = bool(re.match(r"^[\u3000 ]{2,}|^\u3000|^\t", s)) and (len(s) - len(s.lstrip()) >= 2 or s[0] == "\t")
        out.append(Line(i + 1, t, indent, len(s.strip()), _cells(s)))
    return out


def _cells(s: str) -> tuple:
    """Cells of a tab/space-separated row (a leading tab keeps an empty first cell)."""
    body = s.rstrip(" \u3000\xa0\r\n").lstrip(" \u3000")
    if "\t" not in body and not re.search(r"\S[ \u3000\xa0]{2,}\S", body):
        return ()
    parts = _CELL_SEP.split(body) if "\t" not in body else body.split("\t")
    return tuple(squeeze(p) for p in parts) if len(parts) >= 2 else ()


# ---------------------------------------------------------------- documents

_NUMBER = re.compile(r"^(?P<prefix>[\u4e00-\u9fffA-Za-z]{1,12})[〔\[(【](?P<year>\d{4})[〕\])】]第?(?P<n>\d{1,4})号(?P<rest>.*)$")
_DATE = r"(?:(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日|(?P<cy>[〇零○Ｏ一二三四五六七八九]{4})年(?P<cm>[一二三四五六七八九十]{1,3})月(?P<cd>[一二三四五六七八九十]{1,3})日)"
_DATE_LINE = re.compile(rf"^\(?(?P<who>[^()]{{0,24}}?){_DATE}(?P<after>\)|[^()]{{0,40}}\))?$")
_ISSUER = re.compile(r"(?:人民政府|政府|办公厅|办公室|委员会|管委会|局|厅|部|委|院|中心|领导小组)(?:办公厅|办公室)?$")
_DOC_KIND = re.compile(r"(?:通知|意见|决定|办法|方案|规定|批复|通告|公告|细则|计划|要点|规划|清单|措施|纲要|分工|任务|函|报告|规则|条例)"
                       r"(?:\([^()]*\))?$")


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
    """A line that is a date: `2021年3月5日`, `二〇二一年三月五日`, `(2021年3月5日省政府常务会议通过)`,
    or a signature and its date on one line (`某某市人民政府2021年3月5日`)."""
    m = _DATE_LINE.match(s)
    if not m:
        return None
    who, after = m.group("who"), m.group("after") or ""
    if who and not (_ISSUER.search(who) and not s.startswith("(")):
        return None
    if (after and not s.startswith("(")) or (s.startswith("(") and not after):
        return None
    g = m.group
    try:
        if g("y"):
            return date(int(g("y")), int(g("m")), int(g("d")))
        return date(cn_number(g("cy")), cn_number(g("cm")), cn_number(g("cd")))
    except (TypeError, ValueError):
        return None


def _title_above(lines: list[Line], i: int) -> int | None:
    """Index of a title's first line (`关于…`) within five lines above the number line."""
    return next((j for j in range(i - 1, max(-1, i - 6), -1)
                 if lines[j].text.startswith("关于") or "关于" in lines[j].text[:20]), None)


def _title_below(lines: list[Line], i: int) -> tuple[int, int] | None:
    """(first, after-last) title lines just under a number line (red-head layout: banner, number, title)."""
    k = i + 1
    while k < min(len(lines), i + 3) and parse_date_line(lines[k].text):
        k += 1
    if k >= len(lines) or not ("关于" in lines[k].text[:24] or _DOC_KIND.search(lines[k].text)):
        return None
    e = k
    while e < min(len(lines), k + 4) and not lines[e].text.endswith((":", "。")):
        e += 1
        if _DOC_KIND.search(lines[e - 1].text):
            break
    return k, e


def find_documents(lines: list[Line], name: str | None = None) -> list[Document]:
    """Documents start at their header: issuer, title (`关于…`), number `X〔2018〕N号`, date. A text
    without any header is one document, named by its title line or else by `name` (the file's)."""
    docs: list[Document] = []
    for i, ln in enumerate(lines):
        m = _NUMBER.match(ln.text)
        if not m:
            continue
        rest = m.group("rest").strip()
        issued = parse_date_line(rest) if rest else None
        if rest and issued is None:
            continue
        k = _title_above(lines, i)
        below = None if k is not None else _title_below(lines, i)
        if k is None and below is None:
            continue
        if docs and (below or (k, 0))[0] <= docs[-1].number_line:
            continue
        if below:
            k, stop = below
            body, title_lines = stop, [lines[j].text for j in range(k, stop)]
            start = i - 1 if i > 0 and re.search(r"文件$", lines[i - 1].text) and not (docs and i - 1 <= docs[-1].number_line) else i
        else:
            body, title_lines, start = i + 1, [lines[j].text for j in range(k, i)], k
        while issued is None and body < len(lines) and body <= i + 2 + (len(title_lines) if below else 0):
            d = parse_date_line(lines[body].text)
            if d is None:
                break
            issued, body = d, body + 1
        issuer = ""
        head = title_lines[0]
        if head.startswith("关于") and not below and k > 0 and len(lines[k - 1].text) <= 24 \
                and _ISSUER.search(lines[k - 1].text) and not (docs and k - 1 <= docs[-1].number_line):
            issuer, start = lines[k - 1].text, k - 1
        elif head.startswith("关于") and below and start < i:
            issuer = re.sub(r"文件$", "", lines[start].text)
        elif "关于" in head:
            issuer = head[:head.index("关于")]
        title = (issuer if head.startswith("关于") else "") + "".join(title_lines)
        number = f"{m.group('prefix')}〔{m.group('year')}〕{m.group('n')}号"
        docs.append(Document(number, title, issuer, issued, None, int(m.group("year")), start, body, number_line=i))
    if not docs and lines:
        docs = [_untitled_document(lines, name)]
    for a, b in zip(docs, docs[1:] + [None]):
        a.end = b.start if b else len(lines)
        if a.issued is None or not a.issuer:  # the date printed under the signature, at the end
            for j in range(a.end - 1, a.body - 1, -1):
                d = parse_date_line(lines[j].text)
                if d:
                    a.issued = a.issued or d
                    if not a.issuer and j > a.body and _ISSUER.search(lines[j - 1].text) and len(lines[j - 1].text) <= 24:
                        a.issuer = lines[j - 1].text
                    break
        if a.issued is None:
            a.issued = date(a.year, 1, 1)
        elif abs(a.issued.year - a.year) <= 1 or a.number_line < 0:
            a.year = a.issued.year  # `年底前` is the year the notice was signed
        a.plan_title = _plan_title(a, lines)
    return docs


def _untitled_document(lines: list[Line], name: str | None = None) -> Document:
    """A plan published or pasted without a number: its title is the first line naming a kind of
    document (`…实施方案`, `…任务清单`), maybe wrapped onto a second line, or a first line that reads
    as a title (short, no sentence punctuation, no heading number); without one, `name` names it.
    The number is the title."""
    found = None
    for k in range(min(len(lines), 6)):
        t = lines[k].text
        if _ANNEX.match(t):
            continue
        if heading_of(t) or (lines[k].cells and k and found is None):
            break  # the items start: no title above them
        if not 4 <= len(t) <= 60 or re.search(r"[。;,:]", t) or parse_date_line(t):
            continue
        title, body = t, k + 1
        if not _DOC_KIND.search(t) and body < len(lines) and _DOC_KIND.search(lines[body].text) \
                and len(t + lines[body].text) <= 60 and not re.search(r"[。;,:]", lines[body].text):
            title, body = t + lines[body].text, body + 1
        if _DOC_KIND.search(title):
            found = (k, title, body)
            break
        if found is None and not lines[k].cells:
            found = (k, title, body)  # a title line of no known kind (`…十条`, `…分工表`): kept unless a better one follows
    if found:
        k, title, body = found
    else:
        k, title, body = 0, name or "(无标题)", 0
    issued = None
    if body < len(lines) and lines[body].text.startswith("("):
        issued = parse_date_line(lines[body].text)
        body += 1 if issued else 0
    years = Counter(re.findall(r"((?:19|20)\d\d)年", title)) or Counter(
        re.findall(r"((?:19|20)\d\d)年", "".join(ln.text for ln in lines[:200])))
    year = issued.year if issued else int(years.most_common(1)[0][0]) if years else 2000
    issuer = title.split("关于")[0] if "关于" in title[1:] else ""
    return Document(title, title, issuer, issued, None, year, k, body, number_line=-1)


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
    ("section", re.compile(r"^第([一二三四五六七八九十]{1,3})节")),
    ("article", re.compile(r"^第([一二三四五六七八九十百]+)条")),
    ("cn", re.compile(r"^([一二三四五六七八九十]{1,3})、")),
    ("pcn", re.compile(r"^\(([一二三四五六七八九十]{1,3})\)")),
    ("ord", re.compile(r"^第([一二三四五六七八九十]{1,3})[,、:](?!\d)")),
    ("yao", re.compile(r"^([一二三四五六七八九十]{1,3})要(?![求素点件闻务])")),
    ("ar", re.compile(r"^(\d{1,2})[.、](?!\d)")),
    ("par", re.compile(r"^\((\d{1,2})\)")),
    ("ar)", re.compile(r"^(\d{1,2})\)")),
    ("circ", re.compile(r"^([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])")),
]
_FMT = {"chapter": "第{}章", "section": "第{}节", "article": "第{}条", "cn": "{}", "pcn": "({})", "ar": "{}", "par": "({})", "ord": "第{}", "yao": "{}要",
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
