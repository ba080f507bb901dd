"""The standing state a digest tells besides what triggered it: every open overdue item of the chat's units.

A weekly overdue repeat falls on one day of the week, so the triggers of a send time name only some of the
overdue items; a digest that lists only those reads as "1 overdue" when there are more. `context` adds the
rest, for display only (they are not deliveries: nothing is recorded for them in the ledger). Pure: today
and the instant are passed in.
"""

from __future__ import annotations

from datetime import date, datetime

from .planning import Delivery, Reminder, recipients
from .registry import Registry


def _open(state) -> bool:
    return state is None or (state.status != "done" and not state.withdrawn)


def dated_items(registry: Registry) -> list[tuple]:
    """Every dated item of the registry, oldest first: (date, until, task id, item, title). `until` is the
    next date of a milestone's task: from then on that later date is what is late, not the milestone."""
    out = []
    for task in registry.tasks:
        if task.due is None:
            continue
        out.append((task.due, None, task.id, task.id, task.title))
        later = [m.due for m in task.milestones] + [task.due]
        for i, m in enumerate(task.milestones, 1):
            nxt = next((d for d in later if d > m.due), None)
            if nxt is not None:
                out.append((m.due, nxt, task.id, f"{task.id}#{i}", m.title))
    out.sort(key=lambda e: (e[0], e[3]))
    return out


def overdue_items(registry: Registry, states, today: date, at: datetime, dated: list | None = None) -> list[Reminder]:
    """Every open item past its date, oldest first, as the planner names items: a task past its due date, a
    milestone past its date while the next date of its task is still ahead. `dated` (`dated_items`, kept by
    the caller per registry) makes the cost that of the items past their date, not of the registry."""
    out = []
    for day, until, task_id, item, title in dated if dated is not None else dated_items(registry):
        if day >= today:
            break
        if (until is None or today < until) and _open(states.get(task_id)):
            out.append(Reminder(at, task_id, item, "overdue", day, title))
    return out


def context(registry: Registry, items: list[Reminder], members: dict, coordinators, chats) -> dict[int, list[Delivery]]:
    """For each chat of `chats`: which of the overdue `items` it should see (liaisons: of their units, in their
    roles; coordinators: all of them, for the digest of overdue items by unit)."""
    chats, coordinators = set(chats), set(coordinators)
    if not chats:
        return {}
    wanted = {u: [c for c in cs if c in chats] for u, cs in members.items()}
    wanted = {u: cs for u, cs in wanted.items() if cs}
    out: dict[int, list[Delivery]] = {}
    for r in items:
        for d in recipients(registry, r, wanted, ()):
            out.setdefault(d.chat_id, []).append(d)
    for c in coordinators & chats:
        out.setdefault(c, []).extend(Delivery(r, c, None, "coordinator") for r in items)
    return out
