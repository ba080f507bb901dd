"""Digests: one message per chat per send time, grouped by urgency, split under Telegram's limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .i18n import tr
from .planning import Delivery

LIMIT = 4096
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
           lead_units: dict[str, str] | None = None) -> list[DigestPart]:
    """The digest for one chat, split into parts of at most 4,096 characters at line boundaries."""
    deliveries = _dedupe(deliveries)
    escalation = all(d.role == "coordinator" for d in deliveries)
    title = tr(lang, "Overdue items by unit") if escalation else tr(lang, "Task reminders")
    head = f"📋 {title} · {today.isoformat()}"
    if catch_up:
        head += "\n" + tr(lang, "(catch-up: reminders missed while the bot was offline)")
    lines: list[tuple[str, str | None]] = []  # (text, task id)
    if escalation:
        by_unit: dict[str, list[Delivery]] = {}
        for d in deliveries:
            unit = (lead_units or {}).get(d.reminder.task_id) or tr(lang, "(no unit)")
            by_unit.setdefault(unit, []).append(d)
        for unit in sorted(by_unit):
            lines.append((f"\n🏢 {unit} ({len(by_unit[unit])})", None))
            lines += [(_line(lang, d, today), d.reminder.task_id) for d in by_unit[unit]]
    else:
        for key, label in SECTIONS:
            group = [d for d in deliveries if urgency(d.reminder.due, today) == key]
            if group:
                lines.append((f"\n{MARKS[key]} {tr(lang, label)} ({len(group)})", None))
                lines += [(_line(lang, d, today), d.reminder.task_id) for d in group]
    lines.append(("\n" + tr(lang, "Details: /task ID · progress: /progress ID TEXT"), None))
    return _split(head, lines, lang)


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
