"""The "first listed leads" convention: a document that says the first-listed unit leads
(`排在第一位的为牵头单位`, `列第一位者为牵头单位`, `第一个为牵头单位`), and the lines it governs:
from its sentence to the end of the document; all of it when the sentence speaks of the whole
(`本方案各项任务中…`); the annex it closes for a closing note (`注:…` under a table).
"""

from __future__ import annotations

import re

_CONVENTION = re.compile(r"(?:排|列|位)(?:在|于|居)?(?:第一|首)(?:位|个|家)?(?:的|者)?(?:单位|部门)?(?:为|是|系)牵头|"
                         r"第一(?:个|家|位)?(?:单位|部门)?(?:为|是|系)牵头|首(?:个|位|家)(?:单位|部门)?(?:为|是|系)牵头|"
                         r"排名第一的?(?:单位|部门)?(?:为|是)牵头")
_REST = re.compile(r"(?:其他|其余|其它|其后|排在其后|后面|之后)的?(?:单位|部门)?(?:为|是|系)(?P<kind>配合|协办|参与|责任)")


def first_is_lead_convention(doc_text: str):
    """Does the document say the first-listed unit leads (`排在第一位的为牵头单位`)? False, or the role of
    the other units: "cooperating" when it says so (`其他为配合单位`), else "responsible" (both truthy)."""
    m = _CONVENTION.search(doc_text)
    if not m:
        return False
    rest = _REST.search(doc_text, m.end(), m.end() + 40)
    return "cooperating" if rest and rest.group("kind") in ("配合", "协办", "参与") else "responsible"


_WHOLE = re.compile(r"本(?:通知|方案|意见|措施|计划|要点|文件|办法|细则|清单)|上述|以上")
_ANNEX_LINE = re.compile(r"^附\s*件\s*\d{0,2}[:.]?$")


def convention_from(lines: list[str]):
    """(role of the other units, index of the first line it governs) when the text says the
    first-listed unit leads, else (False, 0). It governs from its sentence to the end of the
    text; a sentence that speaks of the whole text (`本方案各项任务中…`, `上述…`) governs all of
    it (index 0); a note that closes the text or an annex (`注:…`, or no line follows) governs
    the annex it closes (from its `附件` line), or all of the text outside annexes."""
    ends, pos = [], 0
    for t in lines:
        pos += len(t)
        ends.append(pos)
    text = "".join(lines)
    m = _CONVENTION.search(text)
    if not m:
        return False, 0
    kind = first_is_lead_convention(text[m.start():])
    start = max(text.rfind("。", 0, m.start()), text.rfind(";", 0, m.start())) + 1
    i = next(k for k, e in enumerate(ends) if e > m.start())
    start = max(start, ends[i - 1] if i else 0)  # and at its line's start
    stop = text.find("。", m.end())
    stop = ends[i] - 1 if stop < 0 or stop >= ends[i] else stop  # the sentence ends at its full stop or line end
    j = next(k for k, e in enumerate(ends) if e > stop)
    note = re.match(r"\(?注[::]?", text[start:m.start()].lstrip("(")) or text[start:m.start()].startswith(("注", "(注"))
    if note or j >= len(lines) - 1:
        annex = next((k for k in range(i, -1, -1) if _ANNEX_LINE.match(lines[k])), None)
        return kind, annex or 0
    if _WHOLE.search(text[start:m.start()]):
        return kind, 0
    return kind, i
