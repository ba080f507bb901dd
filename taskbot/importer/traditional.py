"""Traditional Chinese text read as simplified: OpenCC's `t2s` conversion (the `opencc` package,
its dictionaries bundled, offline). A text is traditional when enough of its hanzi change."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _converter():
    try:
        import opencc
    except ImportError:
        return None
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str | None:
    """The text in simplified characters, or None when OpenCC is not installed. OpenCC converts
    within lines, so line breaks and line numbers stay."""
    conv = _converter()
    if conv is None:
        return None
    return "\n".join(conv.convert(line) for line in text.split("\n"))


# characters common in traditional texts that never occur in simplified ones
_TRAD_ONLY = set("於與為們個來對這時會後說國發關區開過還當長實門從種應現經機動問點員邊體學區")
_TRAD_ONLY |= set("單畫壓遠進運產處專業設計劃資務務辦財稅銀證歲縣轄規劃術環園護報導劃組織統總強責負認")


def is_traditional(text: str) -> bool:
    """Does the text use traditional characters (a few percent of its hanzi, at least three)?"""
    han = [c for c in text[:20000] if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return False
    trad = sum(1 for c in han if c in _TRAD_ONLY)
    return trad >= 3 and trad >= 0.02 * len(han)
