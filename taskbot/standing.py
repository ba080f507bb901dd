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


def overdue_items(registry: Registry, states, today: date, at: datetime) -> list[Reminder]:
    """Every open item past its date, as the planner names items: a task past its due date, a milestone past
    its date while the next date of its task is still ahead (then that next date is what is late)."""
    out = []
    for task in registry.tasks:
        if task.due is None or not _open(states.get(task.id)):
            continue
        if task.due < today:
            out.append(Reminder(at, task.id, task.id, "overdue", task.due, task.title))
            continue
        later = [m.due for m in task.milestones] + [task.due]
        for i, m in enumerate(task.milestones, 1):
            nxt = next((d for d in later if d > m.due), None)
            if m.due < today and nxt is not None and today < nxt:
                out.append(Reminder(at, task.id, f"{task.id}#{i}", "overdue", m.due, m.title))
    return out


def context(registry: Registry, states, today: date, at: datetime, members: dict, coordinators,
            chats) -> dict[int, list[Delivery]]:
    """For each chat of `chats`: the open overdue items it should see (liaisons: of their units, in their
    roles; coordinators: all of them, for the digest of overdue items by unit)."""
    chats, coordinators = set(chats), set(coordinators)
    if not chats:
        return {}
    items = overdue_items(registry, states, today, at)
    wanted = {u: [c for c in cs if c in chats] for u, cs in members.items()}
    wanted = {u: cs for u, cs in wanted.items() if cs}
    out: dict[int, list[Delivery]] = {}
    for r in items:
        for d in recipients(registry, r, wanted, ()):
            out.setdefault(d.chat_id, []).append(d)
    for c in coordinators & chats:
        out.setdefault(c, []).extend(Delivery(r, c, None, "coordinator") for r in items)
    return out
