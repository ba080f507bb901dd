"""Digests: one message per chat per send time, grouped by urgency, split under Telegram's limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .i18n import tr
from .planning import Delivery

LIMIT = 4096
MAX_LINES = 40  # item and section lines of a digest before the rest is summarised (readable on a phone)
MORE_CMD = {"overdue": "/overdue", "today": "/due", "week": "/due", "later": "/tasks", "ongoing": "/tasks"}
MARKS = {"overdue": "🔴", "today": "🟠", "week": "🟡", "later": "🟢", "ongoing": "⚪"}
SECTIONS = (("overdue", "Overdue"), ("today", "Due today"), ("week", "Due this week"),
            ("later", "Later"), ("ongoing", "Progress check-in"))
ROLE_MSG = {"lead": "lead", "responsible": "responsible", "cooperating": "cooperating", "coordinator": "supervision"}


@dataclass(frozen=True)
class DigestPart:
    """One message of a digest: its text and the task ids it lists (for buttons)."""

    text: str
    task_ids: tuple[str, ...]
    lang: str = "zh"


def urgency(due: date | None, today: date) -> str:
    if due is None:
        return "ongoing"
    left = (due - today).days
    return "overdue" if left < 0 else "today" if left == 0 else "week" if left <= 7 else "later"


def days_left(lang: str, due: date | None, today: date) -> str:
    if due is None:
        return tr(lang, "no deadline")
    left = (due - today).days
    if left < 0:
        return tr(lang, "{n} days overdue", n=-left)
    if left == 0:
        return tr(lang, "due today")
    return tr(lang, "{n} days left", n=left)


def _line(lang: str, d: Delivery, today: date) -> str:
    r = d.reminder
    due = r.due.isoformat() if r.due else "—"
    mark = MARKS[urgency(r.due, today)]
    name = r.title if r.item == r.task_id else f"{r.title}"
    parts = [f"{mark} {r.task_id} {name}", due, days_left(lang, r.due, today), tr(lang, ROLE_MSG[d.role])]
    if d.role == "coordinator" and d.unit:
        parts.append(d.unit)
    return " · ".join(parts)


def _dedupe(deliveries: list[Delivery]) -> list[Delivery]:
    """One line per item: the most urgent reminder about it."""
    best: dict[str, Delivery] = {}
    for d in deliveries:
        cur = best.get(d.reminder.item)
        if cur is None or (d.reminder.due or date.max) < (cur.reminder.due or date.max):
            best[d.reminder.item] = d
    return sorted(best.values(), key=lambda d: (d.reminder.due or date.max, d.reminder.task_id, d.reminder.item))


def render(deliveries: list[Delivery], today: date, lang: str = "zh", catch_up: bool = False,
           lead_units: dict[str, str] | None = None, list_checkins: bool = False) -> list[DigestPart]:
    """The digest for one chat: sections of items (🔴 oldest first), check-ins of undated items folded into one
    line (unless `list_checkins`: the chat asked for the list), at most MAX_LINES lines before the rest is summarised with the command that lists it; split into
    parts of at most 4,096 characters at line boundaries."""
    deliveries = _dedupe(deliveries)
    escalation = all(d.role == "coordinator" for d in deliveries)
    title = tr(lang, "Overdue items by unit") if escalation else tr(lang, "Task reminders")
    head = f"📋 {title} · {today.isoformat()}"
    if catch_up:
        head += "\n" + tr(lang, "(catch-up: reminders missed while the bot was offline)")
    sections: list[tuple[str, list[tuple[str, str]], str]] = []  # (title, [(line, task id)], command for more)
    if escalation:
        by_unit: dict[str, list[Delivery]] = {}
        for d in deliveries:
            unit = (lead_units or {}).get(d.reminder.task_id) or tr(lang, "(no unit)")
            by_unit.setdefault(unit, []).append(d)
        for unit in sorted(by_unit):
            sections.append((f"🏢 {unit} ({len(by_unit[unit])})",
                             [(_line(lang, d, today), d.reminder.task_id) for d in by_unit[unit]], "/overdue"))
    else:
        for key, label in SECTIONS:
            group = [d for d in deliveries if urgency(d.reminder.due, today) == key]
            if group:
                sections.append((f"{MARKS[key]} {tr(lang, label)} ({len(group)})",
                                 [(_line(lang, d, today), d.reminder.task_id) for d in group], MORE_CMD[key]))
    lines = _fit(sections, lang, fold_last=not escalation and not list_checkins and any(
        urgency(d.reminder.due, today) == "ongoing" for d in deliveries))
    lines.append(("\n" + tr(lang, "Details: /task ID · progress: /progress ID TEXT"), None))
    return _split(head, lines, lang)


def _fit(sections, lang: str, fold_last: bool) -> list[tuple[str, str | None]]:
    """Section titles and item lines within MAX_LINES; what does not fit is counted with its command.

    The check-ins of undated items (the last section when `fold_last`) are one line; a cut section ends in
    "… N more: /cmd"; sections after the budget keep their title and that line only (escalations: one
    line for all the units left)."""
    out: list[tuple[str, str | None]] = []
    used = 0
    for i, (title, rows, cmd) in enumerate(sections):
        if fold_last and i == len(sections) - 1:
            out.append(("\n" + f"{MARKS['ongoing']} " + tr(lang, "{n} long-term items: please report progress "
                                                             "monthly: {cmd}", n=len(rows), cmd=cmd), None))
            continue
        reserve = 0 if cmd == "/overdue" and title.startswith("🏢") else 2 * (len(sections) - i - 1)
        room = MAX_LINES - used - reserve - 1  # less this section's title
        if room < 1 and title.startswith("🏢"):  # escalation by unit: the rest in one line
            rest = sections[i:]
            out.append(("\n" + tr(lang, "… {n} more items of {units} units: {cmd}", n=sum(len(r) for _, r, _ in rest),
                                  units=len(rest), cmd=cmd), None))
            break
        shown = rows if len(rows) <= room else rows[: max(0, room - 1)]
        out.append(("\n" + title, None))
        out += shown
        if len(shown) < len(rows):
            out.append((tr(lang, "… {n} more: {cmd}", n=len(rows) - len(shown), cmd=cmd), None))
        used += 1 + len(shown) + (len(shown) < len(rows))
    return out


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, room: int) -> str:
    while utf16_len(line) > room:
        line = line[: max(1, len(line) - (utf16_len(line) - room) // 2 - 1)]
    return line


def _split(head: str, lines: list[tuple[str, str | None]], lang: str) -> list[DigestPart]:
    parts, text, ids = [], head, []
    room = LIMIT - utf16_len(head) - 160  # a cut line still fits with its section title and the footer
    for line, task_id in lines:
        if utf16_len(line) > room:
            line = _cut(line, room - 1) + "…"
        if utf16_len(text) + 1 + utf16_len(line) > LIMIT:
            parts.append(DigestPart(text, tuple(dict.fromkeys(ids)), lang))
            text, ids = head + " (…)", []
        text += "\n" + line
        if task_id:
            ids.append(task_id)
    parts.append(DigestPart(text, tuple(dict.fromkeys(ids)), lang))
    return parts
