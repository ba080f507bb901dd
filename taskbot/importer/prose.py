"""Assignments in running prose, where no bracket or field names the units.

- led by        `由A牵头,会同B…` `由A负责…`
- dated         `各县(市、区)政府要于2018年9月底前完成…`
- duty          `市规划局负责地下空间开发利用的规划管理。`
- subject       `市财政局要会同市发展改革委建立…` `市审计局应当…` `县政府督查室每月5日前通报…`

PDF lines break anywhere, also inside `负责`: the patterns run on the text with its line
breaks removed, and offsets are mapped back to the section text.
"""

from __future__ import annotations

import re

from .assign import Clause, Roles, looks_like_unit, split_names
from .assign import _UNIT_END, _top_split  # noqa: F401  (shared vocabulary)


class _Flat:
    """Text without line breaks, and the way back to offsets in the original."""

    def __init__(self, text: str):
        self.pos = [i for i, ch in enumerate(text) if ch != "\n"]
        self.text = "".join(text[i] for i in self.pos)
        self.n = len(text)

    def at(self, k: int) -> int:
        return self.pos[k] if k < len(self.pos) else self.n

    def end(self, k: int) -> int:
        return self.pos[k - 1] + 1 if 0 < k <= len(self.pos) else (0 if k <= 0 else self.n)


_LED_BY = re.compile(r"由(?P<a>[^,。;由]{2,40}?)(?:牵头|(?P<only>负责))(?:负责)?(?:,?会同(?P<b>[^。;]{2,80}?)(?=,|。|;|$|建立|制定|研究|"
                     r"开展|共同|组织|负责|做好|推进|推动|加强|完善|实施|落实|参与)|,)?")
_DATED = re.compile(r"(?:^|[。;])(?P<u>[^。;,由]{2,60}?)(?:要|应|应当|须|必须|需|务必)?(?:于|在|到)(?P<d>(?:\d{4}年)?(?:\d{1,2}月)?"
                    r"(?:\d{1,2}日)?(?:底|末)?(?:前|以前|之前))")
_DUTY = re.compile(r"(?:^|[。;])(?P<u>[^。;,由]{2,60}?)(?:要|应当|应|须|具体)?负责(?P<what>[^。;]{4,})")
_VERBS2 = r"(?:梳理|建立|制定|研究|开展|组织|做好|推进|推动|加强|完善|实施|落实|编制|出台|健全|统筹|抓好|对|共同)"
_VERBS = (r"(?:建立|制定|研究|开展|共同|组织|负责|做好|推进|推动|加强|完善|实施|落实|对|按|进行|编制|每|定期|于|在|"
          r"抓好|健全|统筹|做|开|出台)")
_SUBJECT = re.compile(rf"(?:^|[。;])(?P<u>[^。;,由“”《》]{{2,60}}?)(?:(?:要|应当|应|须|必须|需要|务必|将|牵头(?![负会,;。]))"
                      rf"(?:会同(?P<b>[^。;,]{{2,60}}?)(?={_VERBS}))?|会同(?P<b2>[^。;,]{{2,30}}?)(?={_VERBS2}))"
                      r"(?P<what>[^。;]{4,})")
_SUBJECT_EVERY = re.compile(r"(?:^|[。;]|,(?=[市省县区]))(?P<u>[^。;,由“”《》]{2,60}?)"
                            r"(?P<what>(?:每(?:个|两个|双|隔)?(?:年|半年|季度?|月|周|旬|日|天)|定期)[^。;]{4,})")
# a subject must name a government body: a level prefix, or a body's own word
_GOV = re.compile(r"^(?:市|省|县|区|州|盟|旗|乡|镇|各|全市|全省|全县|全区|自治区|国家|国务院)|(?:部门|机构|政府|管委会)$|"
                  r"^[\u4e00-\u9fff]{2,10}部$")
# local governments named as a whole: `各地要于6月底前…` (kept as printed; only with a term of their own)
_COLLECTIVE = re.compile(r"各地(?:区)?|各省(?:、自治区、直辖市)?|各市、?县(?:\(市、区\))?|各地市")


def _gov_units(s: str) -> list[str]:
    s = re.sub(r"^(?:同时|此外|另外|其中|并|对此|为此)", "", s)
    # `各县(市、区)` `各区` as a subject: their governments
    names = [n + "政府" if re.fullmatch(r"各(?:县|区|市|乡镇)(?:\([市县区、]+\))?", n) else n for n in split_names(s)]
    if names and all(looks_like_unit(n) and _GOV.search(n) for n in names):
        return names
    return []


def _sentence_end(flat: str, k: int) -> int:
    e = flat.find("。", k)
    return len(flat) if e < 0 else e + 1


def led_by_clauses(text: str) -> list[Clause]:
    f = _Flat(text)
    out = []
    for m in _LED_BY.finditer(f.text):
        roles = Roles(lead=[n for n in split_names(m.group("a")) if looks_like_unit(n)])
        if m.group("b"):
            roles.cooperating = [n for n in split_names(_trim_to_unit(m.group("b"))) if looks_like_unit(n)]
        if roles.lead:
            out.append(Clause(f.at(m.start()), f.end(m.end()), roles, None, "led-by", what=f.at(m.end())))
    return out


def _trim_to_unit(s: str) -> str:
    """Longest prefix of s that ends a unit name: `市政务服务中心和相关审批职能部门建立` -> `…部门`."""
    for k in range(len(s), 1, -1):
        if s[k:k + 1] in ("门", "位", "会", "府"):
            continue
        if _UNIT_END.search(s[:k]) and looks_like_unit(_top_split(s[:k], "、,和及")[-1]):
            return s[:k]
    return ""


def dated_sentences(text: str, skip: int = 0) -> list[Clause]:
    """`各县(市、区)政府要于2018年9月底前完成…`: the units at the head of a dated sentence lead."""
    f = _from(_Flat(text), skip)
    out = []
    for m in _DATED.finditer(f.text):
        names = split_names(m.group("u"))
        if _COLLECTIVE.fullmatch(m.group("u")):
            names = [m.group("u")]
        elif not (names and all(looks_like_unit(n) for n in names)):
            names = []
        if names:
            out.append(Clause(f.at(m.start("u")), f.end(m.end()), Roles(lead=names), m.group("d"), "dated",
                              what=f.at(m.end())))
    return out


def duty_sentences(text: str, skip: int = 0) -> list[Clause]:
    """`市规划局负责地下空间开发利用的规划管理。`: the units before 负责 lead; what follows is the task."""
    f = _from(_Flat(text), skip)
    out = []
    for m in _DUTY.finditer(f.text):
        u = re.sub(r"按照?(?:行政)?职责分工$|分别$|共同$", "", m.group("u"))
        names = split_names(u)
        if names and all(looks_like_unit(n) for n in names):
            roles = _more_roles(Roles(lead=names), m.group("what"))
            out.append(Clause(f.at(m.start("u")), f.end(_sentence_end(f.text, m.end())), roles, None,
                              "duty", what=f.at(m.start("what"))))
    return out


def subject_sentences(text: str, skip: int = 0) -> list[Clause]:
    """`市财政局要会同市发展改革委建立…`, `市审计局应当…`, `县政府督查室每月5日前通报…`."""
    f = _from(_Flat(text), skip)
    out = []
    for pat in (_SUBJECT, _SUBJECT_EVERY):
        for m in pat.finditer(f.text):
            names = _gov_units(m.group("u"))
            if not names:  # a heading run into its first sentence: `(二)…动态调整机制职能部门应当…`
                g = _GENERIC_TAIL.search(m.group("u"))
                names = [g.group(0)] if g and _MARKED.match(m.group("u")) else []
            if not names:
                continue
            roles = Roles(lead=names)
            b = m.groupdict().get("b") or m.groupdict().get("b2")
            key = "b" if m.groupdict().get("b") else "b2"
            if b:
                roles.cooperating = [n for n in split_names(_trim_to_unit(b)) if looks_like_unit(n)]
                if not roles.cooperating and re.fullmatch(r"(?:相关|有关|其他有关)(?:部门|单位)", b):
                    roles.cooperating = [b]  # an open group, as the registry records it
            what = m.start("what")
            if b and not roles.cooperating:
                what = m.start(key) - 2
            roles = _more_roles(roles, m.group("what"))
            out.append(Clause(f.at(m.start("u")), f.end(_sentence_end(f.text, m.end())), roles, None, "subject",
                              what=f.at(what)))
    out.sort(key=lambda c: c.start)
    keep: list[Clause] = []
    for c in out:
        if not any(k.start <= c.start < k.end for k in keep):
            keep.append(c)
    return keep


_MORE_SUBJECT = re.compile(r"[,;](?P<u>[^,;。“”《》]{2,30}?)(?:要|应当|应|须|负责|(?=保障|做好|提供|给予|督促|指导))"
                           rf"(?:会同(?P<b>[^,;。]{{2,30}}?)(?={_VERBS2}))?")
_HELPS = re.compile(r"(?:加强|做好|积极|主动|密切)?(?:横向|协调)?(?:配合|协助|协同|支持配合)")
_MORE_COOP = re.compile(r"[,;](?P<u>[^,;。“”《》]{2,40}?)(?:配合|协助|参与)(?:做好|开展|实施|落实|推进|$|[,;。])")


def _more_roles(roles: Roles, rest: str) -> Roles:
    """More units in the rest of the sentence: `…,民政部要会同有关部门加强指导` (another lead and
    its partners), `…,市市场监管局配合做好登记注册服务` (cooperating)."""
    for m in _MORE_SUBJECT.finditer(rest):
        names = _gov_units(m.group("u"))
        if names and _HELPS.match(rest, m.end()):  # `…,市级相关审批职能部门要加强横向配合`
            roles.cooperating += [n for n in names if n not in roles.cooperating and n not in roles.lead]
            continue
        roles.lead += [n for n in names if n not in roles.lead]
        if names and m.group("b"):
            b = m.group("b")
            more = [n for n in split_names(_trim_to_unit(b)) if looks_like_unit(n)]
            if not more and re.fullmatch(r"(?:相关|有关|其他有关)(?:部门|单位)", b):
                more = [b]
            roles.cooperating += [n for n in more if n not in roles.cooperating and n not in roles.lead]
    for m in _MORE_COOP.finditer(rest):
        names = split_names(m.group("u"))
        if names and all(looks_like_unit(n) for n in names):
            roles.cooperating += [n for n in names if n not in roles.cooperating and n not in roles.lead]
    return roles


_GENERIC_TAIL = re.compile(r"(?:各|相关|有关)?(?:职能|主管|行政主管|审批)部门$")
_MARKED = re.compile(r"^(?:\([一二三四五六七八九十\d]{1,3}\)|[一二三四五六七八九十]{1,3}、|\d{1,2}[.、])")


def _from(f: _Flat, skip: int) -> _Flat:
    """f cut at the original offset skip (a heading line's end): `^` matches there."""
    k = next((k for k, p in enumerate(f.pos) if p >= skip), len(f.pos))
    if k == 0:
        return f
    g = _Flat.__new__(_Flat)
    g.pos, g.text, g.n = f.pos[k:], f.text[k:], f.n
    return g
