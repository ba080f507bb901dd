"""`taskbot backup FILE`: a consistent copy of the SQLite state while the bot runs (SQLite's online backup API)."""

from __future__ import annotations

import os
import sqlite3

from .i18n import cli_tr
from .dbcheck import DatabaseProblem, preflight
from .dburl import redact_url, sqlite_path


def backup(url: str, dest: str, *, force: bool = False) -> dict:
    """Copy the database at `url` into `dest` in one consistent step; returns pages, bytes and quick_check.

    Readers never block the running bot's writers in WAL mode, so this is safe while it runs. The copy
    is written beside `dest` and renamed into place, so `dest` is either the old file or a whole backup.
    """
    path = sqlite_path(url)
    if path is None:
        raise DatabaseProblem(cli_tr("backup copies a SQLite database; for PostgreSQL use pg_dump (the database is "
                                     "{db})", db=redact_url(url)))
    preflight(url, create=False)
    if os.path.isdir(dest):
        dest = os.path.join(dest, os.path.basename(path))
    if os.path.abspath(dest) == os.path.abspath(path):
        raise DatabaseProblem(cli_tr("the backup {dest} is the database itself; give another file", dest=dest))
    if os.path.exists(dest) and not force:
        raise DatabaseProblem(cli_tr("{dest} exists; give a new file name, or --force to replace it", dest=dest))
    parent = os.path.dirname(dest) or "."
    if not os.path.isdir(parent):
        raise DatabaseProblem(cli_tr("cannot write the backup {dest}: the directory {parent} does not exist",
                                     dest=dest, parent=parent))
    tmp = f"{dest}.part"
    src = sqlite3.connect(path, timeout=30)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)  # one step: a snapshot of the last committed state
            pages = out.execute("PRAGMA page_count").fetchone()[0]
            check = [row[0] for row in out.execute("PRAGMA quick_check(5)")]
            out.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            out.close()
    except sqlite3.Error as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise DatabaseProblem(cli_tr("backup of {path} failed (SQLite: {reason})", path=path, reason=exc)) from None
    finally:
        src.close()
    os.chmod(tmp, 0o600)  # it holds feed tokens and invite codes
    os.replace(tmp, dest)
    return {"dest": dest, "source": path, "pages": pages, "bytes": os.path.getsize(dest), "quick_check": check}
