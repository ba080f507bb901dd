"""The board over HTTP: /board/<token>/... on the feed server's aiohttp app (`add_routes(app, service)`).

A token is a row of the feed-token table with a board scope (b.all, b.unit, b.doc, b.chat); an unknown,
malformed, revoked or feed-only token answers the feeds' 404. Pages are rendered from a Snapshot built once
per (registry, data version, day) and cached as bytes per (scope, path, query, language); pages that show
the delivery ledger also key on the last tick. Every answer carries a Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import os
import re
import time
from pathlib import Path

from aiohttp import web

from ..oncecache import OnceCache
from ..httputil import SECURITY_HEADERS, accepts_gzip, etag_matches, not_found, token_scope
from .data import Snapshot
from .pages import NotFound, Output, Page, Request

log = logging.getLogger("taskbot.board")

BOARD = web.AppKey("board", object)
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": CSP, "X-Frame-Options": "DENY"}
PAGE_ENTRIES = 256
STATIC = Path(__file__).parent / "static"
DEFAULT_SOURCE = "data/gazette-zhengzhou-2018-08.txt"
MAX_PATH = 400
GZIP_MIN = 4096  # bytes: larger answers are also kept gzipped
LEDGER_TTL = 1.0  # seconds a page showing the delivery ledger may lag behind a new delivery


class Reader:
    """What pages read from the store and the source text beyond the snapshot."""

    def __init__(self, service):
        self.service = service
        self._source: tuple[str, float, list[str]] | None = None

    def progress(self, task_id):
        return self.service.store.progress(task_id)

    def audit_log(self, task_id):
        return self.service.store.audit_log(task_id, limit=200)

    def deliveries(self, **kw):
        return self.service.store.deliveries(**kw)

    def source_path(self) -> str | None:
        configured = self.service.registry.settings.reports.source
        base = os.path.dirname(os.path.abspath(self.service.config.registry or "tasks.yaml"))
        for p in ([configured] if configured else [DEFAULT_SOURCE]):
            path = p if os.path.isabs(p) else os.path.join(base, p)
            if os.path.exists(path):
                return path
        return None

    def source_lines(self) -> list[str] | None:
        path = self.source_path()
        if path is None:
            return None
        mtime = os.stat(path).st_mtime
        if self._source is None or self._source[:2] != (path, mtime):
            with open(path, encoding="utf-8", errors="replace") as fh:
                self._source = (path, mtime, fh.read().splitlines())
        return self._source[2]


class Board:
    def __init__(self, service):
        self.service = service
        self.reader = Reader(service)
        self.snapshots = OnceCache(2)  # Snapshot by (registry, data version, day)
        self.pages = OnceCache(PAGE_ENTRIES)  # (Output, ETag, gzip) by request, registry, data version, day
        self.renders = 0
        self._stamp: tuple[float, str | None] = (-LEDGER_TTL, None)

    def ledger_stamp(self) -> str | None:
        """The last tick (deliveries are recorded by ticks), read at most once a second: pages showing the ledger
        are re-rendered within a second of a delivery without a second query on every request."""
        now = time.monotonic()
        if now - self._stamp[0] >= LEDGER_TTL:
            self._stamp = (now, self.service.store.get_meta("last_tick"))
        return self._stamp[1]

    def scope_of(self, row) -> tuple[tuple, str] | None:
        """(snapshot scope, label) of a token row; None for a token that is not a board's."""
        scope = token_scope(row, self.service.store, "b.")
        if scope is None:
            return None
        kind, value = scope
        if kind == "all":
            return scope, "全部事项"
        return scope, ("、".join(value) or "—") if kind == "units" else value

    async def snapshot(self, version: int) -> Snapshot:
        service = self.service
        registry = service.registry
        today = service.clock.now().astimezone(registry.settings.tz).date()
        key = (registry.fingerprint, version, today)

        async def build() -> Snapshot:
            store = service.store
            states = store.task_states()
            progress = store.progress()
            members = store.members()
            withdrawn = store.withdrawn_definitions() if any(s.withdrawn for s in states.values()) else {}
            return await asyncio.to_thread(lambda: Snapshot(registry, states, progress, members, today,
                                                            withdrawn))

        return await self.snapshots.get(key, build)

    async def page(self, req: Request, version: int) -> tuple[Output, str, bytes | None]:
        registry = self.service.registry
        today = self.service.clock.now().astimezone(registry.settings.tz).date()
        ledger = self.ledger_stamp() if req.path.startswith(("unit/", "item/")) else None
        key = (req.scope, req.root, req.path, tuple(sorted(req.query.items())), req.lang, registry.fingerprint,
               version, today, ledger)
        return await self.pages.get(key, lambda: self._render(req, version))

    async def _render(self, req: Request, version: int) -> tuple[Output, str, bytes | None]:
        snap = await self.snapshot(version)
        page = Page(snap, req, self.reader, self.service.clock.now())
        # large pages and exports render in a thread; unit and item pages read the store, so they stay in the loop
        heavy = req.path.endswith(".xlsx") or (len(page.rows) > 5000 and not req.path.startswith(("unit/", "item/")))
        out = await asyncio.to_thread(page.build) if heavy else page.build()
        self.renders += 1
        gz = None
        if len(out.body) >= GZIP_MIN and not out.content_type.startswith("application/vnd"):  # xlsx is a zip already
            gz = (await asyncio.to_thread(gzip.compress, out.body, 6, mtime=0) if heavy
                  else gzip.compress(out.body, 6, mtime=0))
        return out, hashlib.sha256(out.body).hexdigest()[:32], gz


def language(request: web.Request) -> str:
    """?lang=en|zh, else the first of Accept-Language that is Chinese or English (Chinese by default)."""
    lang = request.query.get("lang", "").lower()
    if lang in ("zh", "en"):
        return lang
    best, best_q = "zh", -1.0
    for part in request.headers.get("Accept-Language", "").split(",")[:20]:
        name, _, params = part.strip().partition(";")
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        code = name.strip().lower()[:2]
        if code in ("zh", "en") and q > best_q:
            best, best_q = code, q
    return best


async def board_handler(request: web.Request) -> web.StreamResponse:
    board: Board = request.app[BOARD]
    token = request.match_info["token"]
    if not TOKEN.fullmatch(token):
        return not_found()
    row, version = board.service.store.feed_access(token)
    scoped = board.scope_of(row) if row is not None else None
    if scoped is None:
        return not_found()
    path = request.match_info.get("path", "")
    if len(path) > MAX_PATH:
        return not_found()
    query = {k: v for k, v in request.query.items() if k != "lang"}
    req = Request(scoped[0], scoped[1], path, query, language(request), f"/board/{token}/", "/board/_static/")
    try:
        out, etag, gz = await board.page(req, version)
    except NotFound:
        return not_found()
    use_gzip = gz is not None and accepts_gzip(request.headers.get("Accept-Encoding"))
    headers = {**HEADERS, "ETag": f'"{etag}{"-gz" if use_gzip else ""}"', "Cache-Control": "private, no-cache",
               "Vary": "Accept-Language, Accept-Encoding"}
    if out.filename:
        from urllib.parse import quote

        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(out.filename)}"
    inm = request.headers.get("If-None-Match")
    if inm is not None and etag_matches(inm, etag):
        return web.Response(status=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    charset = None if out.content_type.startswith("application/vnd") else "utf-8"
    return web.Response(body=gz if use_gzip else out.body, content_type=out.content_type, charset=charset,
                        headers=headers)


async def root_redirect(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    if not TOKEN.fullmatch(token):
        return not_found()
    raise web.HTTPFound(f"/board/{token}/", headers=HEADERS)


_CSS: bytes | None = None


async def static_handler(request: web.Request) -> web.StreamResponse:
    global _CSS
    if request.match_info["name"] != "board.css":
        return not_found()
    if _CSS is None:
        _CSS = (STATIC / "board.css").read_bytes()
    return web.Response(body=_CSS, content_type="text/css", charset="utf-8",
                        headers={**HEADERS, "Cache-Control": "public, max-age=86400"})


def add_routes(app: web.Application, service) -> Board:
    """Mount the board on the feed server's app."""
    board = app[BOARD] = Board(service)
    app.router.add_get("/board/_static/{name}", static_handler)
    app.router.add_get("/board/{token}", root_redirect)
    app.router.add_get("/board/{token}/{path:.*}", board_handler)
    return board


__all__ = ["BOARD", "Board", "CSP", "add_routes", "language"]
