"""What the HTTP edges share (the feed server, the board, /healthz): headers, the 404 body, conditional GET."""

from __future__ import annotations

from aiohttp import web

NOT_FOUND = "not found\n"  # unknown, malformed and revoked tokens all answer this, the same way
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
FEED_CACHE = web.AppKey("feed_cache", object)


def not_found() -> web.Response:
    """The one 404 of unknown, malformed and revoked tokens (feeds and boards alike)."""
    return web.Response(status=404, text=NOT_FOUND, content_type="text/plain", headers=SECURITY_HEADERS)


def token_scope(row, store, prefix: str = "") -> tuple | None:
    """What a token row opens: ('all', None) | ('unit'|'doc', value) | ('units', names of a chat's units); None
    for a scope without `prefix` (feed tokens have none, board tokens 'b.')."""
    if not row.scope.startswith(prefix):
        return None
    kind = row.scope[len(prefix):]
    if kind == "all":
        return ("all", None)
    if kind in ("unit", "doc"):
        return (kind, row.value or "")
    if kind == "chat":
        return ("units", tuple(store.chat_units(row.chat_id if row.chat_id is not None else int(row.value or 0))))
    return None


def accepts_gzip(header: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (q > 0), explicitly or through *."""
    if not header:
        return False
    found: dict[str, float] = {}
    for part in header.split(","):
        name, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        found[name.lower()] = q
    q = found.get("gzip", found.get("x-gzip", found.get("*", 0.0)))
    return q > 0


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match (weak comparison): either representation of the same bytes matches."""
    if header.strip() == "*":
        return True
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') in (etag, etag + "-gz"):
            return True
    return False
