"""Assignment forms: who leads, who is responsible, who cooperates.

Recognised forms (text already squeezed: no spaces, half-width `(),:;`):
- field blocks      `牵头单位:A 责任单位:B 配合单位:C 完成时限:…`
- brackets          `(A牵头,B、C按职责分工负责)` `(A负责)` `(A牵头会同B负责)` `(各县(市、区)政府负责)`
- clause sentences  `A牵头,B…按照行政职责分工负责` `A牵头,…负责,C配合`
- inline            `由A牵头,会同B…`
- dated sentences   `各县(市、区)政府要于2018年9月底前完成…`
- bare unit lists   `…机制。(市发展改革委、市财政局)` and `责任单位:A(牵头)、B`
When the document says the first-listed unit leads (`排在第一位的为牵头单位`, anywhere in it), the
first name of an unlabelled or 责任单位 list leads; the others are responsible, or cooperating when the
document says so (`其他为配合单位`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .convention import convention_from, first_is_lead_convention  # noqa: F401  (the document's convention)

ROLE_LABELS = {
    "lead": r"牵头单位|牵头部门|牵头责任单位|主办单位|主责单位|牵头领导单位",
    "responsible": r"责任单位|责任部门|承办单位|实施单位|落实单位",
    "cooperating": r"配合单位|配合部门|协办单位|参与单位|协同单位",
    "due": r"完成时限|完成时间|时间节点|时限要求|完成期限|时间要求|办结时限",
}
_LABEL = re.compile("【?(?:" + "|".join(f"(?P<{k}>{v})" for k, v in ROLE_LABELS.items()) + r")(?:】:?|:)")
_UNIT_END = re.compile(r"(?:政府|人民政府|局|委|委员会|办|办公室|办公厅|厅|部|中心|管委会|院|馆|会|所|队|站|处|室|公司|集团|银行|"
                       r"分行|支行|部门|单位|机构|法院|检察院|小组|大学|学校|协会|联合会|总工会|团市委|妇联|科协|残联|社|台|报社|"
                       r"供电公司|片区|新区|开发区|区|县|市|署|组)$")
_ROLE_WORD = re.compile(r"牵头会同|牵头|会同|配合|协助|参与|(?:结合实际|根据实际|因地制宜)落实|负责落实|负责|(?<=[府会局委厅部办])落实")
_FILLER = re.compile(r"^(?:由|请|要|会同|和|及|以及|与|其他|另外)|(?:按照?(?:行政)?职责分工|按职能分工|按各自职责|分别|共同|具体|"
                     r"要|等(?:有关|相关|其他)?(?:部门|单位)|等|参与|按职责|各司其职|"
                     r"结合实际|根据实际|因地制宜)$")
_AGENCY = re.compile(r"(?:局|委|办|厅|中心|院|馆|处|队|室|所|署)$")
_KNOWN_PREFIX = re.compile(r"^(?:市|省|县|区|各|国家|中国|中央|全国|河南|郑州|团|共青团|人民|人行|驻)")
# bodies of the central government in a province (`广东银保监局`, `海关`, `调查总队`): no level carried over
_VERTICAL = re.compile(r"银保监|银监|保监|证监|人民银行|人行|海关|调查总?队|通信管理局|邮政管理局|气象局|税务局|分行|支行|监管局$")
# clause words: a name that holds them is a sentence, not a unit (`职能部门应在规定时限内按程序完成…本部门`)
_CLAUSE_WORDS = re.compile(r"应(?!急)|须|(?<!重)要(?!素)|在规定|时限|程序|完成|会同|负责|牵头|配合|按照|根据|通过|进行|开展|"
                           r"结合实际|落实|上报|报送|本部门|本单位|机制")


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
    what: int = -1       # where the task's own words start (after `A要`, `A负责`), or -1
    tail: str = ""       # words after the assignment that may hold deadline words


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
    m = re.fullmatch(r"(.{2,20})\((.{3,20})\)", name)  # `省市场监管局(省知识产权局)`: a unit with its second name
    if m and _UNIT_END.search(m.group(2)) and "、" not in m.group(2):
        return looks_like_unit(m.group(1)) and looks_like_unit(m.group(2))
    return 2 <= len(name) <= 30 and not _NOT_UNIT.search(name) and not re.search(r"\d|年|月|。|:", name) and "。" not in name and bool(_UNIT_END.search(name)) \
        and not _CLAUSE_WORDS.search(name) \
        and not re.match(r"^(?:对|在|将|把|为|从|以|按|通过|加强|建立|推进|制定|完善|开展|实行|含|包括|包含|不含|除|如|即|例如|其中|涉及)", name)


_MARKER = re.compile(r"^(?:第[一二三四五六七八九十百]+[章条节]|[一二三四五六七八九十]+、|\([一二三四五六七八九十\d]+\)|\d{1,2}\.)")


# `人力资源社会保障部等有关部门和单位`: the unit, and a remainder that names nobody in particular
_ETC = re.compile(r"等(?:其他)?(?:有关|相关)?(?:部门|单位)(?:和|及|、)(?:有关|相关)?(?:部门|单位)$")


def _clean_name(p: str) -> str:
    p = _MARKER.sub("", p.strip(" 。:"))
    if "由" in p[1:]:
        p = p.rsplit("由", 1)[1]
    m = _ETC.search(p)
    if m and looks_like_unit(p[:m.start()]):
        p = p[:m.start()]
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
    # `各市、县(市、区)人民政府` is one group, cut at its 、
    k = 0
    while k + 1 < len(names):
        if re.fullmatch(r"各[省市县区]", names[k]) and re.match(r"[市县区乡镇]", names[k + 1]):
            names[k:k + 2] = [names[k] + "、" + names[k + 1]]
        k += 1
    out = []
    carry = ""
    for n in names:
        if n[0] in "省市县区" and not n.startswith(("市场", "区域", "县域")) and _AGENCY.search(n):
            carry = n[0]
        elif carry and _AGENCY.search(n) and len(n) <= 7 and not _KNOWN_PREFIX.match(n) \
                and not (carry == "省" and _VERTICAL.search(n) and not n.startswith(("通信", "邮政", "气象", "税务"))):
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
        if word != "负责" and r.lead and not pending:  # `A、B按职责分工负责,各市政府结合实际落实`
            r.responsible += names
            continue
        # 负责
        if pending:
            r.cooperating += names
            pending = []
        elif r.lead:
            r.responsible += names
        elif first_is_lead and len(names) > 1:
            r.lead.append(names[0])
            getattr(r, "cooperating" if first_is_lead == "cooperating" else "responsible").extend(names[1:])
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


def field_blocks(text: str, convention=False) -> list[Clause]:
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
                names = [n for n in split_names(value) if len(n) >= 2]
                marked = marked_leads(value)
                roles.lead.extend(n for n in names if n in marked and n not in roles.lead)
                getattr(roles, kind).extend(n for n in names if n not in marked or kind == "lead")
        if end < len(text) and text[end] == ")" and _open_bracket_end(text, block[0].start()) == end:
            end += 1
        if out and due and not roles.any() and out[-1].due_words is None \
                and not text[out[-1].end:block[0].start()].strip(" 。;,\n"):
            out[-1].due_words, out[-1].end = due, end  # `牵头单位:A;配合单位:B。时间节点:…` is one block
        elif roles.any() or due:
            out.append(Clause(block[0].start(), end, apply_convention(roles, convention), due, "fields"))
    return out


def _gap_is_value(text: str, a: re.Match, b: re.Match) -> bool:
    gap = text[a.end():b.start()]
    return "。" not in gap and len(gap) < 200


def _value_end(text: str, lab: re.Match) -> int:
    """A value runs to the end of its field: a full stop, a new 一是-part or heading, the text's end;
    inside brackets `(牵头单位:A;完成时限:…)` to the closing bracket."""
    close = _open_bracket_end(text, lab.start())
    if close is not None:
        return close
    if lab.lastgroup == "due":
        m = re.compile(r"。|\n").search(text, lab.end() + 1)
        return m.start() if m else len(text)
    m = re.compile(r"。|\n(?=[一二三四五六七八九十]+是|\d{1,2}\.(?!\d)|\([一二三四五六七八九十\d]+\)|附\s*件)").search(text, lab.end())
    return m.start() if m else len(text)


def _open_bracket_end(text: str, pos: int) -> int | None:
    """Offset of the `)` closing a bracket open at pos, or None when pos is outside brackets."""
    opened = text.rfind("(", max(0, pos - 200), pos)
    if opened < 0 or ")" in text[opened:pos] or "。" in text[opened:pos]:
        return None
    depth = 1
    for i in range(pos, min(len(text), pos + 300)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


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


def marked_leads(value: str) -> list[str]:
    """Names marked as leading inside a list: `市发改委(牵头)、市财政局` -> [市发改委]."""
    if "牵头" not in value:
        return []
    return [n for p in _top_split(value.replace("\n", ""), "、,;") if re.search(r"\((?:牵头|牵头单位|牵头部门)\)$", p.strip())
            for n in split_names(p)[:1]]


def bracket_clauses(text: str, first_is_lead=False) -> list[Clause]:
    out = []
    for s, e, inner in brackets(text):
        body = inner.replace("\n", "").strip("。; ")
        body, due = split_due_tail(body)
        if due is None and ";" in body:  # `(A、B;每年汛期前)`: deadline words of no known form
            head, _, tail = body.rpartition(";")
            if _loose_due(tail):
                body, due = head, tail
        at_end = re.match(r"[ \t]*(?:[。;]|\n|$)", text[e:e + 2]) or text[:s].rstrip().endswith(("。", ";"))
        names = split_names(body) if at_end and body and len(body) <= 120 else []
        if names and all(looks_like_unit(n) for n in names) and not _CLAUSE_END.search(body):
            # a bare list of units closing an item: `…机制。(市发展改革委、市财政局)`
            roles = apply_convention(Roles(responsible=names), first_is_lead)
            out.append(Clause(s, e, roles, due, "bracket"))
            continue
        if not body or len(body) > 200 or "。" in body or not _CLAUSE_END.search(body):
            continue
        if re.search(r"联系人|电话|以下简称|简称", body):
            continue
        roles = parse_roles(body, first_is_lead)
        if roles.any():
            out.append(Clause(s, e, roles, due, "bracket"))
    return out


_DUE_WORDS = re.compile(r"^(?:(?:19|20)\d\d年|\d{1,2}月|\d{1,2}日|[一二三四1-4]季度|第|[上下]半年|年底|年末|年内|每|起|[—\-~至到]|"
                        r"底|末|前|以前|之前|内|完成|基本完成|试点全程|长期坚持|长期|持续推进|持续开展|常态化推进|常态化|"
                        r"季度|年|月|周|半年)+$")


def is_due_words(s: str) -> bool:
    """Only deadline words: `2023年10月底前完成`, `长期坚持`, `每季度末`."""
    s = s.strip(" 。;,")
    return 2 <= len(s) <= 24 and bool(_DUE_WORDS.match(s))


def split_due_tail(body: str) -> tuple[str, str | None]:
    """`A牵头,B配合;2023年第四季度` -> (`A牵头,B配合`, `2023年第四季度`)."""
    parts = _top_split(body, ";,")
    k = len(parts)
    while k > 1 and is_due_words(parts[k - 1]):
        k -= 1
    if k == len(parts):
        return body, None
    head = ",".join(parts[:k])
    return head, ",".join(parts[k:]).strip(" 。;,")


def _loose_due(s: str) -> bool:
    """Short words that set a time but no known deadline form (`每年汛期前`, `开学前`), naming no unit."""
    s = s.strip(" 。;,")
    return 2 <= len(s) <= 12 and bool(re.search(r"(?:前|底|末|期间|以内|之内)$|^每|季度|汛期|年度", s)) \
        and not any(looks_like_unit(n) for n in split_names(s))


_SENT = re.compile(r"[^。;\n]+[。;]?")


def sentence_clauses(text: str, first_is_lead=False) -> list[Clause]:
    """Whole sentences that only assign: `市数字办牵头,市政府有关部门按照行政职责分工负责。`"""
    out = []
    flat = text
    for m in re.finditer(r"[^。]+。?", flat):
        sent = m.group(0)
        body = sent.replace("\n", "").strip("。; ")
        body, due = split_due_tail(body)
        tail = ""
        if body and not _CLAUSE_END.search(body):  # `A牵头,B配合,建立…`: the roles open the sentence
            parts = _top_split(body, ",;")
            k = 0
            while k < len(parts) and re.search(r"(?:牵头|配合|参与|协助|负责)$|^会同", parts[k]):
                k += 1
            if 0 < k < len(parts):
                body, tail = ",".join(parts[:k]), ",".join(parts[k:])
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
            end = m.end()
            nxt = re.match(r"\n?([^。]{2,24})。", flat[end:])  # `…配合。长期坚持。`
            if due is None and not tail and nxt and is_due_words(nxt.group(1).replace("\n", "")):
                due, end = nxt.group(1).replace("\n", ""), end + nxt.end()
            out.append(Clause(s, end, roles, due, "sentence", tail=tail))
    return out


def apply_convention(roles: Roles, convention) -> Roles:
    """Units listed under one label (`责任单位:A、B`) when the document says the first one leads."""
    if convention and not roles.lead and roles.responsible:
        rest = roles.responsible[1:]
        roles.lead, roles.responsible = roles.responsible[:1], []
        if convention == "cooperating":
            roles.cooperating = rest + [n for n in roles.cooperating if n not in rest]
        else:
            roles.responsible = rest
    return roles
