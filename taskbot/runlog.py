"""What the running bot says about its reminders: the start line's next send time, one line after each send
time, and what was pending when it stopped. Pure formatting: the report, the instants and the zone are passed in."""

from __future__ import annotations

from datetime import datetime


def _at(dt: datetime, tz) -> str:
    return dt.astimezone(tz).isoformat(timespec="seconds")


def next_reminders(nxt: datetime | None, now: datetime, tz) -> str:
    """The start line's "next reminders" part; never a time in the past (those go out now, as a catch-up)."""
    if nxt is None:
        return "next reminders at never"
    if nxt <= now:
        return f"next reminders at {_at(now, tz)} (now: due since {_at(nxt, tz)}, missed while the bot was stopped)"
    return f"next reminders at {_at(nxt, tz)}"


def after_send(report, nxt: datetime | None, tz) -> str | None:
    """One log line after a tick that sent or tried to send digests (the logger names taskbot); None after a
    quiet tick."""
    failed = len(report.failed_chats) + len(report.deactivated)
    if not report.chats and not failed:
        return None
    kind = "catch-up " if report.catch_up else ""
    line = (f"{kind}send time {_at(report.at, tz)}: {report.chats - failed} digest(s) sent "
            f"({report.messages} message(s)) to {report.chats} chat(s), {len(report.failed_chats)} failed")
    if report.deactivated:
        line += f", {len(report.deactivated)} chat(s) gone (deactivated)"
    return line + f"; next send time {_at(nxt, tz) if nxt else 'never'}"


def stopped(pending: dict, nxt: datetime | None, tz) -> str:
    """The last line on Ctrl-C: what was still to be sent."""
    if pending:
        chats = len({d.chat_id for d in pending.values()})
        return (f"taskbot: stopped; {len(pending)} reminder(s) to {chats} chat(s) were pending "
                "(sent on the next start: the ledger has not recorded them)")
    return f"taskbot: stopped; nothing pending; next reminders at {_at(nxt, tz) if nxt else 'never'}"
