"""Opening the state database: one clear line naming the file and the fix instead of a driver traceback.

`preflight` looks at a SQLite file before the driver does (a directory, a missing file where only
`taskbot run` may create one, an empty or foreign file); `explain` turns a driver error into a
sentence; `quick_check` runs SQLite's `PRAGMA quick_check` at start.
"""

from __future__ import annotations

import os
import sqlite3

from .dburl import redact_url as redact
from .dburl import sqlite_path
from .i18n import cli_tr

SQLITE_HEADER = b"SQLite format 3\x00"
GUIDE = "docs/operations.md"


class DatabaseProblem(ValueError):
    """The database cannot be used; the message names it and says what to do."""


def _what_to_do(path: str) -> str:
    return cli_tr("restore it from a backup (see {guide}, Backups), or move it away (mv {path} {path}.broken) "
                  "and start `taskbot run` to begin with a fresh one", guide=GUIDE, path=path)


def preflight(url: str, create: bool) -> None:
    """Refuse a SQLite setting that cannot be a taskbot database, before SQLite creates or misreads it."""
    path = sqlite_path(url)
    if path is None:
        return
    if os.path.isdir(path):
        raise DatabaseProblem(cli_tr("the database {path} is a directory, not a file; give a file path such as "
                                     "{example}", path=path, example=os.path.join(path, "taskbot.sqlite3")))
    if not os.path.exists(path):
        if not create:
            raise DatabaseProblem(cli_tr("no database at {path}; `taskbot run` (or `taskbot init`) creates it, or "
                                         "point to the existing one with --db, TASKBOT_DB or db in taskbot.toml",
                                         path=path))
        parent = os.path.dirname(path)
        if parent and os.path.exists(parent) and not os.path.isdir(parent):
            raise DatabaseProblem(cli_tr("cannot create the database {path}: {parent} is not a directory",
                                         path=path, parent=parent))
        return
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseProblem(cli_tr("cannot read the database {path}: {reason}", path=path,
                                     reason=exc.strerror or exc)) from None
    if size == 0:
        raise DatabaseProblem(cli_tr("the database {path} is empty (0 bytes): it was truncated or never written",
                                     path=path) + "; " + _what_to_do(path))
    if head != SQLITE_HEADER:
        raise DatabaseProblem(cli_tr("{path} is not a SQLite database (it does not start with the SQLite header)",
                                     path=path) + "; " + _what_to_do(path))


def damaged(url: str, findings: list[str]) -> str:
    """quick_check found problems: name the file and the fix."""
    path = sqlite_path(url) or redact(url)
    shown = "; ".join(" ".join(f.split()) for f in findings[:3])
    return cli_tr("the database {path} is damaged ({reason})", path=path, reason="quick_check: " + shown) + "; " \
        + _what_to_do(path)


def explain(exc: Exception, url: str) -> str:
    """A driver error while opening or using the database, as one sentence with the fix."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    path = sqlite_path(url)
    if path is None:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        return cli_tr("cannot use the PostgreSQL database {url}: {reason}; check that the server runs and accepts "
                      "connections, and the URL in --db, TASKBOT_DB or taskbot.toml", url=redact(url),
                      reason=first.strip())
    low = text.lower()
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return cli_tr("the database {path} is damaged ({reason})", path=path, reason="SQLite: " + text) + "; " \
            + _what_to_do(path)
    if "unable to open" in low:
        return cli_tr("cannot open the database {path} (SQLite: {reason}); check that its directory exists and is "
                      "writable by this user", path=path, reason=text)
    if "readonly" in low or "read-only" in low:
        return cli_tr("the database {path} is read-only for this user (SQLite: {reason}); fix its permissions",
                      path=path, reason=text)
    return cli_tr("the database {path} failed (SQLite: {reason})", path=path, reason=text)


def quick_check(db, limit: int = 5) -> list[str]:
    """SQLite's `PRAGMA quick_check`: ['ok'] for a sound file, else its first findings."""
    cursor = db.execute_sql(f"PRAGMA quick_check({int(limit)})")
    return [str(row[0]) for row in cursor.fetchall()]


DRIVER_ERRORS: tuple = (sqlite3.Error,)
try:  # peewee wraps the drivers' errors in its own classes
    from peewee import PeeweeException

    DRIVER_ERRORS += (PeeweeException,)
except ImportError:  # pragma: no cover
    pass
try:
    import psycopg2

    DRIVER_ERRORS += (psycopg2.Error,)
except ImportError:  # pragma: no cover
    pass
