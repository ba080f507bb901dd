"""Short ASCII ids from document numbers: `郑政文〔2018〕143号` -> `zzw143`."""

from __future__ import annotations

import re

# GB2312 level-1 hanzi are ordered by pinyin: the code where each initial letter begins
_BOUNDS = (45217, 45253, 45761, 46318, 46826, 47010, 47297, 47614, 48119, 49062, 49324, 49896,
           50371, 50614, 50622, 50906, 51387, 51446, 52218, 52698, 52980, 53689, 54481, 55290)
_LETTERS = "abcdefghjklmnopqrstwxyz"


def initial(ch: str) -> str:
    """Pinyin initial of a common hanzi; ASCII letters/digits pass through; else ''."""
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    try:
        code = int.from_bytes(ch.encode("gb2312"), "big")
    except UnicodeEncodeError:
        return ""
    for k in range(len(_LETTERS)):
        if _BOUNDS[k] <= code < _BOUNDS[k + 1]:
            return _LETTERS[k]
    return ""


def doc_prefix(number: str, used: set) -> str:
    """Stable, short, unique (within `used`, which it updates) id prefix for a document."""
    m = re.match(r"^(.*?)[〔\[(【](\d{4})[〕\])】](\d+)号", number)
    if m:
        letters = "".join(initial(c) for c in m.group(1))[:8] or "doc"
        base = f"{letters}{m.group(3)}"
    else:
        base = ("".join(initial(c) for c in number)[:12]) or "doc"
    base = re.sub(r"[^a-z0-9]", "", base)[:20] or "doc"
    cand, n = base, 1
    while cand in used:
        n += 1
        cand = f"{base}{'abcdefghijklmnopqrstuvwxyz'[(n - 2) % 26]}" if n <= 27 else f"{base}x{n}"
    used.add(cand)
    return cand
