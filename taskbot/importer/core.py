"""The import pipeline: cleaned lines -> documents -> sections -> tasks, goals and targets."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from . import assign, goals, prose
from .deadlines import Deadline, find_dates, parse_deadline, parse_every
from .ids import doc_prefix
from .places import is_foreign
from .tables import find_tables, row_roles
from .targets import find_targets
from .text import Document, Line, Section, clean_lines, find_documents, heading_of, median_width, sections

_TITLE_MAX = 60


@dataclass
class ImportResult:
    documents: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    unresolved: dict = field(default_factory=dict)

    def summary(self) -> str:
        kinds = Counter(t["kind"] for t in self.tasks)
        dated = sum(1 for t in self.tasks if t["due"] is not None)
        lines = [f"documents: {len(self.documents)}",
                 f"tasks: {len(self.tasks)} (" + ", ".join(f"{k} {kinds.get(k, 0)}" for k in ("task", "goal", "target")) + ")",
                 f"dated: {dated}",
                 f"with milestones: {sum(1 for t in self.tasks if t['milestones'])}",
                 f"recurring: {sum(1 for t in self.tasks if t['every'])}",
                 f"unresolved names: {len(self.unresolved)}"
                 + (f" ({sum(self.unresolved.values())} mentions)" if self.unresolved else "")]
        if not self.tasks:
            lines.append("no assigned items found")
        return "\n".join(lines)


class _Text:
    """A section's lines joined with newlines, and the way back from offsets to lines."""

    def __init__(self, lines: list[Line], lo: int, hi: int):
        self.starts, parts, pos = [], [], 0
        for i in range(lo, hi):
            self.starts.append((pos, i))
            parts.append(lines[i].text)
            pos += len(lines[i].text) + 1
        self.text = "\n".join(parts)
        self.lines = lines

    def line_at(self, offset: int) -> int:
        """Source line number of a text offset (skipping leading blanks/newlines)."""
        while offset < len(self.text) and self.text[offset] in "\n ,;。":
            offset += 1
        idx = self.starts[0][1]
        for start, i in self.starts:
            if start > offset:
                break
            idx = i
        return self.lines[idx].no


def _flat(s: str) -> str:
    return s.replace("\n", "")


def _title(seg: str, heading: str | None) -> str:
    src = heading if heading else seg
    src = _flat(src).strip(" ,;。")
    src = re.sub(r"^[一二三四五六七八九十]+是[,:]?", "", src)
    t = re.split(r"[。;]", src, maxsplit=1)[0]
    if len(t) > _TITLE_MAX:
        cut = t.rfind(",", 0, _TITLE_MAX)
        t = t[:cut] if cut > 10 else t[:_TITLE_MAX]
    return t.strip(" ,:")


_NOT_DEADLINE_AFTER = re.compile(r"^(?:的|以来|起|开始|至今|同期|比|相比|第|版|修订|度?第|号|颁布|印发|发布|出台|提出|以后)")
_DEADLINE_AFTER = re.compile(r"^(?:[前底末内]|以前|之前|完成|基本完成|全面完成|建成|实现|达到|,|:)")


def free_deadline(text: str, year: int) -> Deadline:
    """Deadline words inside a task's own text: dates that set a term, not dates mentioned."""
    flat = _flat(text)
    masked = list(flat)
    keep, kept_end = 0, None
    quoted = [(m.start(), m.end()) for m in re.finditer(r"《[^》]*》|\([^()]*(?:号|年\))[^()]*\)|“[^”]*”", flat)]
    for s, e, d, words in find_dates(flat, year):
        after, before = flat[e:e + 4], flat[max(0, s - 3):s]
        inside = any(a <= s < b for a, b in quoted)
        range_end = kept_end is not None and re.fullmatch(r"[—\-－~～至到]+", flat[kept_end:s]) is not None
        ok = (not inside and d.year >= year and not _NOT_DEADLINE_AFTER.match(after)
              and (re.search(r"[前底末内]$|以前$|之前$", words) or _DEADLINE_AFTER.match(after) or range_end
                   or re.search(r"(?:到|于|至|在|截至|力争|争取)$", before)
                   or s == 0 or flat[s - 1] in "。;,:"))
        kept_end = e if ok else None
        if ok:
            keep += 1
        else:
            for k in range(s, e):
                masked[k] = "□"
    if not keep:
        m = re.search(r"试点全程|(?<![中短])长期坚持|(?<![中短])长期(?![贷债限性])|持续推进|逐年推进|常态化", flat)
        every, span = parse_every(flat)
        if span:
            m = re.compile(r"以前|之前|前|末|底").match(flat, span[1])
            return Deadline(None, flat[span[0]:m.end() if m else span[1]], (), every or None)
        return Deadline(None, m.group(0) if m else None, (), None)
    return parse_deadline("".join(masked), year)


def _deadline_of(clause: assign.Clause, seg: str, year: int) -> Deadline:
    if clause.tail:
        seg = seg + "。" + clause.tail
    if clause.due_words:
        d = parse_deadline(clause.due_words, year)
        if d.due or d.every or d.due_text:
            inner = free_deadline(seg, year)
            if d.due and not d.milestones and inner.milestones and inner.due == d.due:
                return Deadline(d.due, d.due_text, inner.milestones, d.every or inner.every)
            return Deadline(d.due, d.due_text, d.milestones, d.every or inner.every)
    return free_deadline(seg, year)


def _clauses(text: str, first_is_lead: bool, skip: int = 0) -> list[assign.Clause]:
    found = assign.field_blocks(text, first_is_lead)
    if found:
        return found
    found = assign.bracket_clauses(text, first_is_lead)
    taken = [(c.start, c.end) for c in found]
    for c in assign.sentence_clauses(text, first_is_lead):
        if not any(a <= c.start < b or c.start <= a < c.end for a, b in taken):
            found.append(c)
    if found:
        return sorted(found, key=lambda c: c.start)
    found = prose.led_by_clauses(text)
    if found:
        return found
    found = prose.dated_sentences(text, skip)
    for more in (prose.duty_sentences(text, skip), prose.subject_sentences(text, skip)):
        taken = [(c.start, c.end) for c in found]
        for c in more:
            if not any(a <= c.start < b or c.start <= a < c.end for a, b in taken):
                found.append(c)
    return sorted(found, key=lambda c: c.start)


class _Builder:
    def __init__(self, units):
        self.units = units
        self.foreign = False  # the document is another government's: its names are kept as printed
        self.unresolved: Counter = Counter()
        self.tasks: list[dict] = []

    def names(self, names: list[str]) -> list[str]:
        """Names read as the directory's units; kept as printed (and listed unresolved) without a
        directory, in another government's document, or when the directory does not know them."""
        out = []
        for n in names:
            canon = n
            if self.units is None or self.foreign:
                self.unresolved[n] += 1
            else:
                canon = self.units.resolve(n)
                if canon is None:  # 市 carried over from the list's first name, or left out
                    canon = self.units.resolve(n[1:] if n.startswith("市") else "市" + n)
                if canon is None:
                    self.unresolved[n] += 1
                    canon = n
            if canon not in out:
                out.append(canon)
        return out

    def add(self, doc: Document, ref: str, title: str, detail: str | None, roles: assign.Roles | None,
            dl: Deadline, kind: str, line: int):
        lead = self.names(roles.lead) if roles else []
        resp = [n for n in self.names(roles.responsible) if n not in lead] if roles else []
        coop = [n for n in self.names(roles.cooperating) if n not in lead and n not in resp] if roles else []
        if kind == "task" and not (lead or resp or coop):
            return
        ms = [{"due": d, "title": t} for d, t in dl.milestones]
        self.tasks.append({
            "id": None, "doc": doc.number, "ref": ref or None, "title": title or "(无标题)",
            "detail": detail or None, "lead": lead, "responsible": resp, "cooperating": coop,
            "due": dl.due, "due_text": dl.due_text, "milestones": ms, "every": dl.every,
            "kind": kind, "source_line": line})


def _section_tasks(b: _Builder, doc: Document, sec: Section, lines: list[Line], first_is_lead: bool, width: int,
                   holder: list | None = None):
    tx = _Text(lines, sec.start, sec.end)
    text = tx.text
    heading_end = len(lines[sec.start].text) if sec.heading else 0
    clauses = _clauses(text, first_is_lead, heading_end if lines[sec.start].width < width * 0.8 else 0)
    if not clauses and holder and text.strip():
        seg = _strip_marker(text)
        b.add(doc, sec.ref, _title(seg, None), _flat(seg).strip(" ,;") or None, assign.Roles(lead=list(holder)),
              free_deadline(seg, doc.year), "task", tx.line_at(0))
        return
    if not clauses:
        if "目标" in sec.heading or "目标" in _flat(text)[:12]:
            _goals(b, doc, sec, tx, width)
        return
    pos = 0
    for c in clauses:
        own = c.form in _PROSE and c.start > heading_end and (text.rfind("。", heading_end, c.start) > heading_end
                                                              or (len(clauses) > 1 and text[heading_end] == "\n"))
        if c.form in _PROSE and (len(clauses) > 1 or own):  # the unit's own sentence: its terms, its line
            s = max(text.rfind("。", 0, c.start) + 1, pos, heading_end if c.start > heading_end else 0)
            e = text.find("。", c.end)
            seg_lo, seg_hi, detail = s, (len(text) if e < 0 else e + 1), None
        elif c.form in _PROSE:
            seg_lo, seg_hi = 0, len(text)
        else:
            seg_lo, seg_hi = pos, c.start
        seg = text[seg_lo:seg_hi]
        if not seg.strip() and c.form == "fields":
            seg = text[:c.start]
        use_heading = bool(seg_lo <= heading_end and sec.heading)
        heading = _heading_title(sec, lines, width) if use_heading and "article" not in sec.styles[-1:] else None
        if heading is None and use_heading and c.what >= 0 and "article" not in sec.styles[-1:]:
            first = re.split(r"[。;]", _strip_marker(seg), maxsplit=1)[0]
            heading = first if 2 <= len(first) <= 20 and not re.search(r"[,、:]", first) and c.start > len(first) else None
        title = _title(_strip_marker(seg), heading)
        if c.what >= 0 and (len(clauses) > 1 or heading is None):
            title = _title(text[c.what:max(c.end, seg_hi)], None) or title
        ref = sec.ref
        m = re.match(r"^[\n,;。]*([一二三四五六七八九十]+是)", seg)
        if m and not use_heading:
            ref += m.group(1)
        detail = _flat(seg).strip(" ,;") or None
        if detail == title:
            detail = None
        dl = _deadline_of(c, seg, doc.year)
        b.add(doc, ref, title, detail, c.roles, dl, "task", tx.line_at(seg_lo if seg.strip() else c.start))
        pos = max(pos, c.end)


_PROSE = ("led-by", "dated", "duty", "subject")


def _strip_marker(seg: str) -> str:
    src = _flat(seg).lstrip(",;。")
    h = heading_of(src)
    return h[2] if h else src


def _heading_title(sec: Section, lines: list[Line], width: int) -> str | None:
    """A heading's words: its line (and a short wrapped rest), when it has no sentence of its own."""
    i = sec.start + 1 if len(lines[sec.start].text) <= 4 else sec.start
    first = lines[i].text if i > sec.start else sec.heading
    if re.search(r"[。;,、]", first) or first.count("《") > first.count("》") or first.count("“") > first.count("”"):
        return None
    if lines[i].width >= width * 0.8:  # a full line: a heading only when no short sentence runs on
        rest = "".join(ln.text for ln in lines[i:min(sec.end, i + 4)])
        rest = rest[len(lines[i].text) - len(first):] if i == sec.start else rest
        stop = rest.find("。")
        if 0 <= stop <= width * 1.8:
            return None
    title = first
    if lines[i].width >= width * 0.8 and i + 1 < sec.end and lines[i + 1].width < width * 0.8 \
            and not re.search(r"[。;,]", lines[i + 1].text):
        title += lines[i + 1].text
    return title


_GOAL_START = re.compile(r"^(?:到|至|力争到|力争|争取到|争取)?(?:(?:19|20)\d\d)年")


def _goals(b: _Builder, doc: Document, sec: Section, tx: _Text, width: int):
    text = tx.text
    start = len(tx.lines[sec.start].text) if sec.heading else 0
    paras = goals.run_in_goals(tx.lines, sec.start + (1 if sec.heading else 0), sec.end, width, doc.year)
    for g in paras:
        b.add(doc, sec.ref, g.title, g.detail, None, parse_deadline(f"{g.year}年底", g.year), "goal",
              tx.lines[g.line_index].no)
    for m in re.finditer(r"[^。]+。?", text[start:]):
        if any(tx.lines[g.line_index].no <= tx.line_at(start + m.start()) < tx.lines[g.end - 1].no + 1 for g in paras):
            continue
        sent = m.group(0)
        flat = _flat(sent).strip(" ,;")
        if not _GOAL_START.match(flat):
            continue
        dl = free_deadline(flat[:flat.find("年") + 3], doc.year)
        if dl.due is None:
            continue
        title = _title(re.sub(r"^(?:到|至|力争到|力争|争取到|争取)?(?:19|20)\d\d年(?:底|末)?(?:前|以前|之前)?[,]?", "", flat), None)
        b.add(doc, sec.ref, title or flat[:_TITLE_MAX], flat, None, Deadline(dl.due, dl.due_text), "goal",
              tx.line_at(start + m.start()))


def import_text(text: str, units=None, progress=None, name: str | None = None):
    """Read gazette-style text into documents and tasks (see docs/registry.md). `name` (the file's
    name without its extension) names a document that prints neither a number nor a title."""
    lines = clean_lines(text)
    total = len(text.splitlines()) or 1
    width = median_width(lines)
    docs = find_documents(lines, name)
    b = _Builder(units)
    result = ImportResult()
    used_prefixes: set = set()
    resolve = units.resolve if units is not None else None
    for d in docs:
        b.foreign = is_foreign(units, d.issuer, d.title, d.number,
                               "".join(ln.text for ln in lines[d.body:min(d.end, d.body + 400)]))
        convention, since = assign.convention_from([ln.text for ln in lines[d.body:d.end]])
        since += d.body  # the convention governs lines[since:]
        before = len(b.tasks)
        secs = sections(lines, d.body, d.end, width)
        annex_ranges = []
        for k, s in enumerate(secs):
            if _is_annex_start(s):
                hi = next((x.start for x in secs[k + 1:] if _is_annex_start(x)), d.end)
                targets = find_targets(lines, s.start, hi, d.year, resolve)
                if targets:
                    annex_ranges.append((s.start, hi))
                    for t in targets:
                        b.add(d, t.ref, t.title, None, assign.Roles(lead=[t.unit]),
                              parse_deadline(f"{t.year}年底", t.year), "target", lines[t.line_index].no)
        for lo, hi, items in goals.indicator_tables(lines, d.body, d.end, d.year):
            annex_ranges.append((lo, hi))
            ref = next((s.ref for s in secs if s.start <= lo < s.end), "")
            for g in items:
                b.add(d, ref, g.title, g.detail if g.detail != g.title else None, None,
                      parse_deadline(f"{g.year}年底", g.year), "goal", lines[g.line_index].no)
        for g in goals.breakdown_targets(lines, d.body, d.end, d.year):
            ref = next((s.ref for s in secs if s.start <= g.line_index < s.end), "")
            b.add(d, ref, g.title, g.detail, assign.Roles(lead=[g.unit]), parse_deadline(f"{g.year}年底", g.year),
                  "target", lines[g.line_index].no)
        for lo, hi, rows in find_tables(lines, d.body, d.end):
            annex_ranges.append((lo, hi))
            ref = next((s.ref for s in secs if s.start <= lo < s.end), "")
            for row in rows:
                roles = assign.apply_convention(assign.Roles(**row_roles(row)), convention if lo >= since else False)
                text = _flat(row.task).strip(" ,;。")
                b.add(d, f"{ref}/{row.number}" if ref else str(row.number), _title(text, None), text or None, roles,
                      parse_deadline(row.due_words, d.year), "task", lines[row.line_index].no)
        holder = None  # (ref, names) of a `X职责` heading: its numbered items are X's duties
        for s in secs:
            names = goals.duty_holder(_flat(s.text(lines)) if s.end - s.start <= 3 else s.heading)
            if names:
                holder = (s.ref, names)
            elif holder and not (s.ref.startswith(holder[0]) and s.ref != holder[0]):
                holder = None
            for part in _clip(s, annex_ranges):
                _section_tasks(b, d, part, lines, convention if part.start >= since else False, width,
                               holder[1] if holder and not names else None)
        prefix = doc_prefix(d.number, used_prefixes)
        new = b.tasks[before:]
        new.sort(key=lambda t: (t["source_line"]))
        b.tasks[before:] = new
        width_n = max(2, len(str(len(new))))
        for n, t in enumerate(new, 1):
            t["id"] = f"{prefix}-{n:0{width_n}d}"
        result.documents.append({"number": d.number, "title": d.title, "plan_title": d.plan_title,
                                 "issued": d.issued, "issuer": d.issuer or _issuer_from(d.title)})
        if d.number_line < 0:
            result.documents[-1]["headerless"] = True
        if progress:
            progress(lines[d.end - 1].no if d.end else total, total)
    result.tasks = b.tasks
    result.unresolved = dict(sorted(b.unresolved.items(), key=lambda kv: (-kv[1], kv[0])))
    if progress:
        progress(total, total)
    return result


def _clip(s: Section, ranges: list) -> list[Section]:
    """The parts of a section outside tables and indicator annexes."""
    parts = [(s.start, s.end)]
    for lo, hi in ranges:
        parts = [p for a, e in parts for p in ((a, min(e, lo)), (max(a, hi), e)) if p[0] < p[1]]
    return [Section(s.ref, s.heading if a == s.start else "", a, e, s.styles, s.annex) for a, e in parts]


def _is_annex_start(s: Section) -> bool:
    return s.annex and s.ref.startswith("附件") and s.heading.startswith("附")


def _issuer_from(title: str) -> str:
    return title.split("关于")[0] if "关于" in title else "(未知)"
