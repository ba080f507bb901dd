"""Bodies of `taskbot board-url`, `board-revoke`, `report`, `done` and `undo` (registered in taskbot/cli.py).

They reuse taskbot.commands' helpers (`_load`, `_store`, `_now`, `_err`) for the registry, the store, the
clock and error output, so configuration is read in one place.
"""

from __future__ import annotations

import getpass
import os
from datetime import date

from .. import commands as base
from ..diagnostics import did_you_mean
from ..store import BOARD_SCOPES


def cmd_board_url(args) -> int:
    """Create a supervision-board URL."""
    registry = base._load(args)
    if registry is None:
        return 1
    chosen = base.url_scope(args, registry, "board-url")
    if chosen is None:
        return 1
    scope, value = "b." + chosen[0], chosen[1]
    store, cfg = base._store(args)
    token = store.create_feed_token(scope, value, now=base._now(cfg))
    print(f"board for {'all items' if scope == 'b.all' else value}; keep the URL private: anyone with it can read the board")
    print(f"{cfg.base_url}/board/{token}/")
    return 0


def token_of(text: str) -> str:
    """The token in a board URL (or the token itself)."""
    text = text.strip()
    if "/board/" in text:
        text = text.split("/board/", 1)[1]
    return text.split("/", 1)[0].split("?", 1)[0]


def cmd_board_revoke(args) -> int:
    """Revoke a supervision-board token."""
    token = token_of(args.token)
    store, cfg = base._store(args)
    row = store.feed_token(token) if token else None
    if row is None or row.scope not in BOARD_SCOPES or not store.revoke_feed_token(token, now=base._now(cfg)):
        return base._err(f"board-revoke: no active board token {token!r}")
    print(f"revoked {token}")
    return 0


def cmd_report(args) -> int:
    """Write the weekly supervision report (督查通报)."""
    from . import report

    output = args.output
    if output is not None and not output.lower().endswith(report.FORMATS):
        return base._err(f"report: -o must name a .xlsx or .html file, got {output!r}")
    registry = base._load(args)
    if registry is None:
        return 1
    store, cfg = base._store(args)
    tz = registry.settings.tz
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            return base._err(f"report: --date must be a date YYYY-MM-DD, got {args.date!r}")
    else:
        day = base._now(cfg).astimezone(tz).date()
    output = output or f"督查通报-{day.isoformat()}.xlsx"
    rep = report.build(registry, store.task_states(), store.progress(), store.members(), day)
    try:
        report.write(output, rep, tz)
    except OSError as exc:
        return base._err(f"report: cannot write {output}: {exc.strerror or exc}")
    t = rep["totals"]
    print(f"report as of {day}: {t['items']} items, {t['done']} done, {t['overdue']} overdue; "
          f"{len(rep['newly'])} newly overdue, {len(rep['done'])} done this week")
    print(output)
    return 0


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _set_status(args, status: str, name: str) -> int:
    from ..service import MAX_NOTE

    registry = base._load(args)
    if registry is None:
        return 1
    tid = (args.id or "").strip().lower()
    task = registry.by_id.get(tid)
    if task is None:
        return base._err(f"{name}: unknown task {args.id!r}{did_you_mean(tid, list(registry.by_id))}")
    note = getattr(args, "note", None)
    if note and len(note) > MAX_NOTE:
        return base._err(f"{name}: the note has {len(note)} characters; the limit is {MAX_NOTE}")
    store, cfg = base._store(args)
    now = base._now(cfg)
    store.sync_registry(registry, now)
    before = store.task_state(task.id)
    after = store.set_status(task.id, status, f"cli:{_who()}", note, now)
    if before is not None and after.sequence == before.sequence:
        print(f"{name}: {task.id} already {'done' if status == 'done' else 'open'}; nothing changed")
        return 0
    print(f"{task.id} {'marked done' if status == 'done' else 'open again'} by cli:{_who()}: {task.title}")
    return 0


def cmd_done(args) -> int:
    """Mark an item done from the shell."""
    return _set_status(args, "done", "done")


def cmd_undo(args) -> int:
    """Open a done item again from the shell."""
    return _set_status(args, "open", "undo")


__all__ = ["cmd_board_revoke", "cmd_board_url", "cmd_done", "cmd_report", "cmd_undo", "token_of"]
