"""Translations: English message ids, catalogues in gettext `.po` files read with Babel.

Users see Chinese (zh-CN) first; English is the second language. Add a message by writing its
English text in the code (`tr(lang, "Overdue")`) and its Chinese in
`taskbot/locale/zh_CN/LC_MESSAGES/taskbot.po`; `tests/test_i18n.py` fails on a missing entry.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
_LOCALES = {"zh": "zh_CN"}
_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """msgid -> translated text for a language ('en' is the identity): every .po of the language
    (taskbot.po for the bot, cli.po for the command line and the console)."""
    locale = _LOCALES.get(lang)
    if locale is None:
        return {}
    out: dict[str, str] = {}
    for path in sorted((_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with open(path, "rb") as fh:
            cat = read_po(fh, locale=locale)
        out.update({m.id: m.string for m in cat if m.id and m.string and not m.fuzzy})
    return out


def locale_lang(env=None) -> str:
    """The command line's language from the locale, as gettext reads it: zh for any zh_* locale, else en."""
    env = os.environ if env is None else env
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def cli_tr(msgid: str, **values) -> str:
    """A message of the command line or the console, in the locale's language (English unless zh_*)."""
    return tr(locale_lang(), msgid, **values)


def tr(lang: str | None, msgid: str, **values) -> str:
    """The message in `lang` (Chinese by default), with {placeholders} filled in."""
    text = catalog(lang if lang in LANGS else DEFAULT_LANG).get(msgid, msgid)
    return text.format(**values) if values else text


def both(msgid: str, **values) -> str:
    """Chinese first, English second: for texts shown before a chat has chosen a language."""
    zh, en = tr("zh", msgid, **values), tr("en", msgid, **values)
    return zh if zh == en else f"{zh}\n{en}"
