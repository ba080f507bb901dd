"""The command table (menu and /help, Chinese and English) and small text helpers."""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import tr

LIMIT = 4096  # Telegram's message length


@dataclass(frozen=True)
class Command:
    name: str
    args: str  # argument synopsis in English; translated for /help
    help: str  # English msgid; the Chinese is in taskbot.po
    coordinators: bool = False


COMMANDS = (
    Command("start", "", "Start; with an invite code, join a unit"),
    Command("help", "", "List the commands"),
    Command("join", "CODE", "Join a unit as its liaison with an invite code"),
    Command("leave", "", "Leave this chat's units; no more reminders"),
    Command("tasks", "", "Open items of my units"),
    Command("due", "[DAYS]", "Items due within DAYS days (default 14)"),
    Command("overdue", "", "Overdue items of my units"),
    Command("task", "ID", "One item: document, units, due date, milestones, status, progress"),
    Command("progress", "ID TEXT", "Report progress on an item of your unit"),
    Command("done", "ID [NOTE]", "Mark an item done (coordinators only)", True),
    Command("undo", "ID", "Open a done item again (coordinators only)", True),
    Command("invite", "UNIT", "Create an invite code for a unit (coordinators only)", True),
    Command("feed", "", "My calendar feed URL (webcal:// and http(s)://)"),
    Command("board", "", "My supervision board URL (web pages and Excel exports)"),
    Command("lang", "zh|en", "Language: 中文 (zh) or English (en)"),
    Command("checkins", "list|brief", "Progress check-ins in digests: the list, or one line (brief)"),
    Command("whoami", "", "Who I am: user id, chat, units, role"),
)

# Argument synopses, translated (kept as literal tr() calls so that the catalogue check sees them)
_ARGS = {
    "CODE": lambda lang: tr(lang, "CODE"),
    "[DAYS]": lambda lang: tr(lang, "[DAYS]"),
    "ID": lambda lang: tr(lang, "ID"),
    "ID TEXT": lambda lang: tr(lang, "ID TEXT"),
    "ID [NOTE]": lambda lang: tr(lang, "ID [NOTE]"),
    "UNIT": lambda lang: tr(lang, "UNIT"),
    "zh|en": lambda lang: "zh|en",
    "list|brief": lambda lang: "list|brief",
}


def help_text(lang: str, coordinator: bool, bot: str = "bot") -> str:
    """/help: every command with its arguments and help, in the chat's language."""
    lines = [tr(lang, "Commands:")]
    for c in COMMANDS:
        if c.coordinators and not coordinator:
            continue
        args = f" {_ARGS[c.args](lang)}" if c.args else ""
        lines.append(f"/{c.name}{args} — {tr(lang, c.help)}")
    lines.append("")
    lines.append(tr(lang, "In a group, address commands to the bot: /tasks@{bot}", bot=bot))
    lines.append("中文: /lang zh · English: /lang en")
    return "\n".join(lines)


def menu(lang: str) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands in one language."""
    return [(c.name, tr(lang, c.help)[:256]) for c in COMMANDS]


def clip(text: str, limit: int = LIMIT) -> str:
    """Keep a composed reply within Telegram's limit (what we display, never what we store)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_names(names) -> str:
    return "、".join(names)
