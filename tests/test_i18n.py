"""Every English message the code shows has its Chinese in the catalogue, with the same placeholders."""

import ast
import re
from pathlib import Path

from taskbot.i18n import both, catalog, tr

PACKAGE = Path(__file__).resolve().parent.parent / "taskbot"
CALLS = {"tr": 1, "both": 0, "cli_tr": 0}  # function name -> position of the msgid argument


def msgids():
    found = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLS:
                pos = CALLS[node.func.id]
                if len(node.args) > pos and isinstance(node.args[pos], ast.Constant) and isinstance(node.args[pos].value, str):
                    found.setdefault(node.args[pos].value, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    zh = catalog("zh")
    ids = msgids()
    assert len(ids) > 80
    from taskbot.bot.texts import COMMANDS
    from taskbot.digest import ROLE_MSG, SECTIONS

    for text in [c.help for c in COMMANDS] + [label for _, label in SECTIONS] + list(ROLE_MSG.values()):
        ids.setdefault(text, "(table)")
    missing = [f"{where}: {msgid!r}" for msgid, where in ids.items() if msgid not in zh and msgid != "zh|en"]
    assert missing == []
    fields = lambda s: sorted(re.findall(r"{(\w*)}", s))  # noqa: E731
    mismatched = [msgid for msgid in ids if msgid in zh and fields(msgid) != fields(zh[msgid])]
    assert mismatched == []


def test_chinese_first_english_second():
    assert tr(None, "Overdue") == tr("zh", "Overdue") == "已逾期"
    assert tr("en", "Overdue") == "Overdue"
    assert tr("fr", "{n} days left", n=3) == "剩余3天"
    assert both("{n} days left", n=3) == "剩余3天\n3 days left"
