"""Whose document is it? The government a unit directory belongs to (`郑州市`, from its units'
full names) and the one that issued a document (`国务院`, `广东省`, from its issuer or title).

Names in another government's document are that government's units: `发展改革委` in a State
Council document is the national commission, not the city's `市发展改革委`, however the
directory spells its aliases. The importer keeps them as printed and lists them unresolved.
"""

from __future__ import annotations

import re
from collections import Counter

_PLACE = re.compile(r"^(国务院|中共中央|中央|[\u4e00-\u9fff]{2,7}?(?:自治区|自治州|省|市|县|区|州|盟|旗))")
_NATIONAL = re.compile(r"^(?:国务院|中共中央|中央|国家|国办|国发)")
_PROVINCE_NAMES = re.compile(r"省[\u4e00-\u9fff]{1,9}?[厅局委办]|(?:国家|国务院)[\u4e00-\u9fff]{0,9}?[局委部办]|"
                             r"[\u4e00-\u9fff]{2,9}部(?=[、,;)。按牵负配])")
_CITY_NAMES = re.compile(r"(?<![省县区\u4e00-\u9fff])市[\u4e00-\u9fff]{1,9}?[局委办]")


def directory_place(units) -> str | None:
    """The place most full names of the directory's units start with (`郑州市`), or None."""
    if units is None:
        return None
    places = Counter()
    for u in getattr(units, "units", {}).values():
        full = getattr(u, "full_name", "") or ""
        if full and full != u.name:
            m = _PLACE.match(full)
            if m:
                places[m.group(1)] += 1
    if not places:
        return None
    place, n = places.most_common(1)[0]
    return place if n * 2 >= sum(places.values()) else None


def document_place(issuer: str, title: str, number: str) -> str | None:
    """The issuing government (`国务院`, `广东省`, `郑州市`), from issuer, title or number."""
    for s in (issuer or "", title or ""):
        if _NATIONAL.match(s):
            return "国务院"
        m = _PLACE.match(s)
        if m and not s.startswith("关于"):
            return m.group(1)
    if _NATIONAL.match(number or ""):
        return "国务院"
    return None


def is_foreign(units, issuer: str, title: str, number: str, text: str) -> bool:
    """Is the document another government's than the directory's? With no place known for
    the document, its unit names tell: mostly provincial or national ones."""
    own = directory_place(units)
    if own is None:
        return False
    place = document_place(issuer, title, number)
    if place is not None:
        return place != own
    others = len(_PROVINCE_NAMES.findall(text))
    return others > len(_CITY_NAMES.findall(text)) and others >= 2
