"""What the bot shows about tasks: lists (/tasks, /due, /overdue) and one task's detail (/task)."""

from __future__ import annotations

from datetime import date, timedelta

from ..digest import MARKS, days_left, urgency
from ..i18n import tr
from ..registry import Task
from .texts import LIMIT, clip, join_names

LIST_BUDGET = LIMIT - 200  # room for the "and N more" line


def today(service) -> date:
    return service.clock.now().astimezone(service.registry.settings.tz).date()


def task_units(registry, task: Task) -> set[str]:
    """Every unit named on a task, groups expanded."""
    return {u for name, _ in task.roles() for u in registry.units.expand(name)}


def lead_units(registry, task: Task) -> set[str]:
    """The units whose liaisons hear about status changes: lead (or responsible when no lead)."""
    names = task.lead or task.responsible
    return {u for name in names for u in registry.units.expand(name)}


def open_tasks(service, units) -> list[Task]:
    """Open items in the registry; only those naming one of `units` unless `units` is None."""
    states = service.store.task_states()
    wanted = None if units is None else set(units)
    out = []
    for task in service.registry.tasks:
        state = states.get(task.id)
        if state is not None and (state.status == "done" or state.withdrawn):
            continue
        if wanted is None or task_units(service.registry, task) & wanted:
            out.append(task)
    return out


def next_date(task: Task, day: date) -> tuple[date | None, str]:
    """The next deadline of a task from `day` on (a milestone or the due date) and its title."""
    for m in task.milestones:
        if m.due >= day and m.due != task.due:
            return m.due, f"{task.title} · {m.title}"
    return task.due, task.title


def line(lang: str, task: Task, due: date | None, title: str, day: date) -> str:
    when = due.isoformat() if due else (task.due_text or "—")
    return f"{MARKS[urgency(due, day)]} {task.id} {title} · {when} · {days_left(lang, due, day)}"


def listing(lang: str, header: str, lines: list[str], empty: str) -> str:
    """A header and lines, within one message; the rest counted."""
    if not lines:
        return f"{header}\n{empty}"
    text, shown = header, 0
    for ln in lines:
        if len(text) + 1 + len(ln) > LIST_BUDGET:
            break
        text += "\n" + ln
        shown += 1
    if shown < len(lines):
        text += "\n" + tr(lang, "… and {n} more", n=len(lines) - shown)
    return text


def rows_open(service, units, day: date) -> list[tuple[date | None, Task, str]]:
    rows = [(*next_date(t, day), t) for t in open_tasks(service, units)]
    return sorted(((d, t, title) for d, title, t in rows), key=lambda r: (r[0] or date.max, r[1].id))


def render_open(service, lang: str, units) -> str:
    day = today(service)
    lines = [line(lang, t, d, title, day) for d, t, title in rows_open(service, units, day)]
    return listing(lang, tr(lang, "Open items ({n})", n=len(lines)), lines, tr(lang, "No open items."))


def render_due(service, lang: str, units, days: int) -> str:
    day = today(service)
    until = day + timedelta(days=days)
    lines = [line(lang, t, d, title, day) for d, t, title in rows_open(service, units, day)
             if d is not None and day <= d <= until]
    return listing(lang, tr(lang, "Due within {days} days ({n})", days=days, n=len(lines)), lines,
                   tr(lang, "Nothing is due within {days} days.", days=days))


def render_overdue(service, lang: str, units) -> str:
    day = today(service)
    lines = [line(lang, t, t.due, t.title, day) for t in open_tasks(service, units)
             if t.due is not None and t.due < day]
    lines.sort()
    return listing(lang, tr(lang, "Overdue items ({n})", n=len(lines)), lines, tr(lang, "Nothing is overdue."))


def _roles(lang: str, registry, task: Task) -> list[str]:
    out = []
    for label, names in ((tr(lang, "Lead units"), task.lead), (tr(lang, "Responsible units"), task.responsible),
                         (tr(lang, "Cooperating units"), task.cooperating)):
        if names:
            shown = [n if not registry.units.is_group(n) or not registry.units.expand(n)
                     else f"{n}({join_names(registry.units.expand(n))})" for n in names]
            out.append(f"{label}: {join_names(shown)}")
    return out


def _status(lang: str, state, privileged: bool) -> str:
    if state is None or (state.status != "done" and not state.withdrawn):
        return tr(lang, "Status: open")
    if state.withdrawn:
        return tr(lang, "Status: withdrawn from the registry")
    text = tr(lang, "Status: done on {day}", day=state.done_at.date().isoformat() if state.done_at else "?")
    if privileged and state.done_by:
        text += " · " + tr(lang, "by {who}", who=state.done_by)
    if state.note:
        text += "\n" + tr(lang, "Note: {note}", note=state.note)
    return text


def render_task(service, lang: str, task: Task, privileged: bool) -> str:
    """One item in full; `privileged` (a coordinator's private chat) adds who did what."""
    registry, store, day = service.registry, service.store, today(service)
    doc = registry.documents.get(task.doc)
    lines = [f"📄 {task.id} {task.title}", tr(lang, "Document: {number} {title}", number=task.doc,
                                              title=doc.plan_title or doc.title if doc else "")]
    if task.ref:
        lines.append(tr(lang, "Section: {ref}", ref=task.ref))
    if task.detail:
        lines.append(clip(task.detail, 600))
    lines += _roles(lang, registry, task)
    due = task.due.isoformat() if task.due else tr(lang, "no deadline")
    if task.due_text:
        due += f"({task.due_text})"
    lines.append(tr(lang, "Due: {due}", due=due) + f" · {days_left(lang, task.due, day)}")
    if task.every is not None:
        lines.append(tr(lang, "Repeats: {every}", every=str(task.every)))
    if task.milestones:
        lines.append(tr(lang, "Milestones:"))
        lines += [f"  · {m.due.isoformat()} {m.title}" for m in task.milestones]
    lines.append(_status(lang, store.task_state(task.id), privileged))
    progress = store.progress(task.id)
    if progress:
        lines.append(tr(lang, "Progress ({n}):", n=len(progress)))
        lines += [f"  · {p.at.astimezone(registry.settings.tz).date().isoformat()} {p.unit or ''}: {p.text}"
                  for p in progress[-5:]]
    if privileged:
        audit = store.audit_log(task.id, limit=10)
        if audit:
            lines.append(tr(lang, "Audit log:"))
            lines += [f"  · {a.at.astimezone(registry.settings.tz).strftime('%Y-%m-%d %H:%M')} {a.actor} {a.action}"
                      f" {a.before or ''}→{a.after or ''}{' · ' + a.note if a.note else ''}" for a in audit]
    return clip("\n".join(lines))
