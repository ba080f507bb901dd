"""Reading a database setting: a SQLite path (or sqlite:///path) or a postgresql:// URL."""

from __future__ import annotations

from urllib.parse import unquote


def sqlite_path(db: str) -> str | None:
    """The file of a SQLite database setting (a path or sqlite:///path); None for PostgreSQL or :memory:."""
    if "://" in db:
        scheme, rest = db.split("://", 1)
        if not scheme.lower().startswith("sqlite"):
            return None
        path = unquote(rest.split("?", 1)[0][1:])
    else:
        path = db
    return None if not path or path == ":memory:" else path


def redact_url(url: str) -> str:
    """A database URL safe to show: user and password replaced by *** (the last @ ends them: a password may hold @)."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
