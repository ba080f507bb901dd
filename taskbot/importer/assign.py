"""Assignment forms: who leads, who is responsible, who cooperates.

Recognised forms (text already squeezed: no spaces, half-width `(),:;`):
- field blocks      `牵头单位:A 责任单位:B 配合单位:C 完成时限:…`
- brackets          `(A牵头,B、C按职责分工负责)` `(A负责)` `(A牵头会同B负责)` `(各县(市、区)政府负责)`
- clause sentences  `A牵头,B…按照行政职责分工负责` `A牵头,…负责,C配合`
- inline            `由A牵头,会同B…`
- dated sentences   `各县(市、区)政府要于2018年9月底前完成…`
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROLE_LABELS = {
    "lead": r"牵头单位|牵头部门|牵头责任单位|主办单位|主责单位|牵头领导单位",
    "responsible": r"责任单位|责任部门|承办单位|实施单位|落实单位",
    "cooperating": r"配合单位|配合部门|协办单位|参与单位|协同单位",
    "due": r"完成时限|完成时间|时间节点|时限要求|完成期限|时间要求|办结时限",
}
_LABEL = re.compile("(?:" + "|".join(f"(?P<{k}>{v})" for k, v in ROLE_LABELS.items()) + r")[:]")
_UNIT_END = re.compile(r"(?:政府|人民政府|局|委|委员会|办|办公室|办公厅|厅|部|中心|管委会|院|馆|会|所|队|站|处|室|公司|集团|银行|"
                       r"分行|支行|部门|单位|机构|法院|检察院|小组|大学|学校|协会|联合会|总工会|团市委|妇联|科协|残联|社|台|报社|"
                       r"供电公司|片区|新区|开发区|区|县|市|署|组)$")
_ROLE_WORD = re.compile(r"牵头会同|牵头|会同|配合|协助|参与|负责")
_FILLER = re.compile(r"^(?:由|请|要|会同|和|及|以及|与|其他|另外)|(?:按照?(?:行政)?职责分工|按职能分工|按各自职责|分别|共同|具体|"
                     r"要|等有关部门|等相关部门|等部门|等单位|等|参与|按职责|各司其职)$")
_AGENCY = re.compile(r"(?:局|委|办|厅|中心|院|馆|处|队|室|所|署)$")
_KNOWN_PREFIX = re.compile(r"^(?:市|省|县|区|各|国家|中国|中央|全国|河南|郑州|团|共青团|人民|驻)")


@dataclass
class Roles:
    lead: list = field(default_factory=list)
    responsible: list = field(default_factory=list)
    cooperating: list = field(default_factory=list)

    def any(self) -> bool:
        return bool(self.lead or self.responsible or self.cooperating)

    def names(self):
        return [*self.lead, *self.responsible, *self.cooperating]


@dataclass
class Clause:
    start: int           # offsets in the item text
    end: int
    roles: Roles
    due_words: str | None = None
    form: str = ""


def _top_split(s: str, seps: str) -> list[str]:
    """Split at separators outside brackets."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "(〔[《":
            depth += 1
        elif ch in ")〕]》":
            depth = max(0, depth - 1)
        if ch in seps and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


_NOT_UNIT = re.compile(r"^(?:各|本|该|其)?(?:牵头|责任|配合|有关|相关|协办|成员)?(?:单位|部门)$|^各(?:牵头|责任|配合)")


def looks_like_unit(name: str) -> bool:
    return 2 <= len(name) <= 30 and not _NOT_UNIT.search(name) and not re.search(r"\d|年|月|。|:", name) and "。" not in name and bool(_UNIT_END.search(name)) \
        and not re.match(r"^(?:对|在|将|把|为|从|以|按|通过|加强|建立|推进|制定|完善|开展|实行)", name)


_MARKER = re.compile(r"^(?:第[一二三四五六七八九十百]+[章条节]|[一二三四五六七八九十]+、|\([一二三四五六七八九十\d]+\)|\d{1,2}\.)")


def _clean_name(p: str) -> str:
    p = _MARKER.sub("", p.strip(" 。:"))
    if "由" in p[1:]:
        p = p.rsplit("由", 1)[1]
    for _ in range(3):
        p = _FILLER.sub("", p)
    return re.sub(r"\((?:牵头|负责|配合|召集|组长单位)\)$", "", p)


def split_names(s: str) -> list[str]:
    """`市发展改革委、财政局,各县(市、区)政府和各开发区管委会` -> names, with 市 carried over."""
    names = []
    for part in _top_split(s.replace("\n", "").replace("〔", "(").replace("〕", ")"), "、,;/"):
        part = _clean_name(part)
        pieces = [part]
        m = re.match(r"^(.+?)(?:和|及|以及|与)(.+)$", part)
        if m and looks_like_unit(m.group(1)) and looks_like_unit(_clean_name(m.group(2))):
            pieces = [m.group(1), m.group(2)]
        for p in pieces:
            p = _clean_name(p)
            if len(p) >= 2:
                names.append(p)
    out = []
    carry = ""
    for n in names:
        if n.startswith("市") and not n.startswith("市场"):
            carry = "市"
        elif carry and _AGENCY.search(n) and len(n) <= 7 and not _KNOWN_PREFIX.match(n):
            n = carry + n
        out.append(n)
    return out


def parse_roles(clause: str, first_is_lead: bool = False) -> Roles:
    """`A牵头,B、C按职责分工负责` -> Roles(lead=[A], responsible=[B, C])."""
    r = Roles()
    text = clause.strip("()。;, ")
    pos, pending = 0, []
    for m in _ROLE_WORD.finditer(text):
        seg = text[pos:m.start()].strip(",;")
        word = m.group(0)
        names = [n for n in split_names(seg) if looks_like_unit(n)] if seg else []
        pos = m.end()
        if word in ("牵头", "牵头会同"):
            r.lead += names
            if word == "牵头会同":
                pending = ["cooperating"]
            continue
        if word == "会同":
            if names:
                r.lead += names if not r.lead else []
            pending = ["cooperating"]
            continue
        if word in ("配合", "协助", "参与"):
            r.cooperating += names
            pending = []
            continue
        # 负责
        if pending:
            r.cooperating += names
            pending = []
        elif r.lead:
            r.responsible += names
        elif first_is_lead and len(names) > 1:
            r.lead.append(names[0])
            r.responsible += names[1:]
        else:
            r.lead += names
    tail = text[pos:].strip(",;")
    if tail and pending:
        r.cooperating += [n for n in split_names(tail) if looks_like_unit(n)]
    for k in ("lead", "responsible", "cooperating"):
        setattr(r, k, list(dict.fromkeys(getattr(r, k))))
    r.responsible = [n for n in r.responsible if n not in r.lead]
    r.cooperating = [n for n in r.cooperating if n not in r.lead and n not in r.responsible]
    return r


def field_blocks(text: str) -> list[Clause]:
    """`牵头单位:…责任单位:…完成时限:…` blocks; each ends a task."""
    labels = list(_LABEL.finditer(text))
    out: list[Clause] = []
    i = 0
    while i < len(labels):
        block = [labels[i]]
        while i + 1 < len(labels) and _gap_is_value(text, block[-1], labels[i + 1]):
            i += 1
            block.append(labels[i])
        i += 1
        roles, due = Roles(), None
        end = block[-1].end()
        for k, lab in enumerate(block):
            stop = block[k + 1].start() if k + 1 < len(block) else _value_end(text, lab)
            value = text[lab.end():stop]
            end = max(end, stop)
            kind = lab.lastgroup
            if kind == "due":
                due = value.strip(" 。;,")
            else:
                getattr(roles, kind).extend(n for n in split_names(value) if len(n) >= 2)
        if roles.any() or due:
            out.append(Clause(block[0].start(), end, roles, due, "fields"))
    return out


def _gap_is_value(text: str, a: re.Match, b: re.Match) -> bool:
    gap = text[a.end():b.start()]
    return "。" not in gap and len(gap) < 200


def _value_end(text: str, lab: re.Match) -> int:
    """A value runs to the end of its field: a full stop, a new 一是-part or heading, the text's end."""
    if lab.lastgroup == "due":
        m = re.compile(r"。|\n").search(text, lab.end() + 1)
        return m.start() if m else len(text)
    m = re.compile(r"。|\n(?=[一二三四五六七八九十]+是|\d{1,2}\.(?!\d)|\([一二三四五六七八九十\d]+\)|附\s*件)").search(text, lab.end())
    return m.start() if m else len(text)


def brackets(text: str) -> list[tuple[int, int, str]]:
    """Top-level bracket groups: (start, end, inner text)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, i + 1, text[start + 1:i]))
    return out


_CLAUSE_END = re.compile(r"(?:牵头|负责|配合|参与|落实|承办|牵头负责|组织实施)$")


def bracket_clauses(text: str, first_is_lead=False) -> list[Clause]:
    out = []
    for s, e, inner in brackets(text):
        body = inner.replace("\n", "").strip("。; ")
        if not body or len(body) > 200 or "。" in body or not _CLAUSE_END.search(body):
            continue
        if re.search(r"联系人|电话|以下简称|简称", body):
            continue
        roles = parse_roles(body, first_is_lead)
        if roles.any():
            out.append(Clause(s, e, roles, None, "bracket"))
    return out


_SENT = re.compile(r"[^。;\n]+[。;]?")


def sentence_clauses(text: str, first_is_lead=False) -> list[Clause]:
    """Whole sentences that only assign: `市数字办牵头,市政府有关部门按照行政职责分工负责。`"""
    out = []
    flat = text
    for m in re.finditer(r"[^。]+。?", flat):
        sent = m.group(0)
        body = sent.replace("\n", "").strip("。; ")
        if not body or len(body) > 160 or not _CLAUSE_END.search(body):
            continue
        head = _ROLE_WORD.split(body, maxsplit=1)[0]
        head = re.sub(r"按照?(?:行政)?职责分工$|分别$", "", head)
        names = split_names(head)
        if not names or not all(looks_like_unit(n) for n in names):
            continue
        roles = parse_roles(body, first_is_lead)
        if roles.any():
            s = m.start() + (len(sent) - len(sent.lstrip("\n")))
            out.append(Clause(s, m.end(), roles, None, "sentence"))
    return out


_LED_BY = re.compile(r"由(?P<a>[^,。;由]{2,40}?)牵头(?:负责)?(?:,?会同(?P<b>[^。;]{2,80}?)(?=,|。|;|$|建立|制定|研究|开展|共同|组织|负责|做好|推进|推动|加强|完善|实施|落实|参与)|,)?")
_DATED = re.compile(r"(?:^|[。;\n])(?P<u>[^。;,由\n]{2,60}?)(?:要|应|应当|须|必须|需|务必)?(?:于|在|到)(?P<d>(?:\d{4}年)?(?:\d{1,2}月)?(?:\d{1,2}日)?(?:底|末)?(?:前|以前|之前))")


def led_by_clauses(text: str) -> list[Clause]:
    out = []
    for m in _LED_BY.finditer(text):
        roles = Roles(lead=[n for n in split_names(m.group("a")) if looks_like_unit(n)])
        if m.group("b"):
            b = m.group("b")
            cut = _trim_to_unit(b)
            roles.cooperating = [n for n in split_names(cut) if looks_like_unit(n)]
        if roles.lead:
            out.append(Clause(m.start(), m.end(), roles, None, "led-by"))
    return out


def _trim_to_unit(s: str) -> str:
    """Longest prefix of s that ends a unit name: `市政务服务中心和相关审批职能部门建立` -> `…部门`."""
    for k in range(len(s), 1, -1):
        if _UNIT_END.search(s[:k]) and looks_like_unit(_top_split(s[:k], "、,和及")[-1]):
            return s[:k]
    return ""


def dated_sentences(text: str, skip: int = 0) -> list[Clause]:
    """`各县(市、区)政府要于2018年9月底前完成…`: the units at the head of a dated sentence lead."""
    out = []
    for m in _DATED.finditer(text, skip):
        names = split_names(m.group("u"))
        if names and all(looks_like_unit(n) for n in names):
            out.append(Clause(m.start("u"), m.end(), Roles(lead=names), m.group("d"), "dated"))
    return out


_DUTY = re.compile(r"(?:^|[。;])\n?(?P<u>[^。;,由]{2,60}?)\n?(?:要|应当|应|须|具体)?负责(?P<what>[^。;]{4,})")


def duty_sentences(text: str, skip: int = 0) -> list[Clause]:
    """`市规划局负责地下空间开发利用的规划管理。`: the units before 负责 lead; what follows is the task."""
    out = []
    for m in _DUTY.finditer(text, skip):
        names = split_names(m.group("u"))
        if names and all(looks_like_unit(n) for n in names):
            end = text.find("。", m.end())
            out.append(Clause(m.start("u"), len(text) if end < 0 else end + 1, Roles(lead=names), None, "duty"))
    return out


_CONVENTION = re.compile(r"(?:排|列)(?:在|于)?(?:第一|首)位?的?(?:单位|部门)?为牵头|第一(?:个|家)?(?:单位|部门)为牵头|"
                         r"排名第一的为牵头|首位(?:单位|部门)?为牵头|列第一位的为牵头")


def first_is_lead_convention(doc_text: str) -> bool:
    """Does the document say the first-listed unit leads (`排在第一位的为牵头单位`)?"""
    return bool(_CONVENTION.search(doc_text))
