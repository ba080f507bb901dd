"""The feed server: calendar feeds over HTTP, in the bot's own asyncio loop.

Why aiohttp: it is asyncio-native, so `start_web` adds a site to the loop python-telegram-bot and the
scheduler already run in, with no second server thread and no process manager (Starlette would need
uvicorn, which wants to own the loop or run in a thread of its own). It is mature, actively
maintained, already a dependency of the bot stack, and its AppRunner/TCPSite API starts and stops
cleanly inside `taskbot.app.serve`.

Routes: GET/HEAD /feeds/{token}.ics (`?todo=1` for the VTODO variant) and GET /healthz (taskbot.health).
An unknown, malformed or revoked token answers the same short 404. A feed is rendered once per
(scope, registry fingerprint, store data version, today's date in the registry's time zone, variant)
and the rendered bytes, their gzip form, ETag and Last-Modified are cached; requests are answered
from the cache with 304 when the client's copy is current. Tokens never reach the access log.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import unquote, unquote_plus

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from . import feeds, webguard
from .httputil import (FEED_CACHE, NOT_FOUND, SECURITY_HEADERS, accepts_gzip, etag_matches,  # noqa: F401
                       not_found, token_scope)
from .oncecache import OnceCache
from .feedworker import FeedWorker

log = logging.getLogger("taskbot.web")
access_log = logging.getLogger("taskbot.web.access")

CACHE_ENTRIES = 64
PROCESS_MIN_TASKS = 2000  # registries at least this large render in a worker process; smaller ones in a thread
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")
_FEED_PATH = re.compile(r"(/feeds)/[^?#]*", re.IGNORECASE)  # the rest of the path, however it is spelled
_BOARD_PATH = re.compile(r"(/board)/+(?!_static/)[^/?#]*", re.IGNORECASE)  # the static files carry no token
_TOKENISH = re.compile(r"[A-Za-z0-9_-]{16,}")  # any token-shaped run, on any route
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = ("1", "true", "yes", "on")


def redact(path: str) -> str:
    """A request path safe to log: /feeds/<token>.ics becomes /feeds/***.ics, /board/<token> /board/***.

    The path is percent-decoded first (an encoded token is a token), any casing and extra slashes or dots
    are matched, and any token-shaped run (16+ of A-Z a-z 0-9 _ -) on any route or in the query becomes ***.
    """
    path, sep, query = path.partition("?")
    path = _FEED_PATH.sub(r"\1/***.ics", unquote(path, errors="replace"))
    path = _BOARD_PATH.sub(r"\1/***", path)
    query = unquote_plus(query, errors="replace")
    return _CONTROL.sub("?", _TOKENISH.sub("***", path) + sep + _TOKENISH.sub("***", query))


class RedactingAccessLogger(AbstractAccessLogger):
    """Access log lines like aiohttp's, with feed tokens replaced by ***."""

    def log(self, request, response, time: float) -> None:
        try:
            line = f"{request.method} {redact(request.raw_path)} HTTP/{request.version.major}.{request.version.minor}"
            remote = request.remote or "-"
        except Exception:  # a request that failed to parse
            line, remote = "-", "-"
        self.logger.info('%s "%s" %s %s %.3fs "%s"', remote, line, response.status, response.body_length, time,
                         request.headers.get("User-Agent", "-") if request is not None else "-")


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gz: bytes
    etag: str  # without quotes; the gzip form is etag + "-gz"
    last_modified: datetime | None
    components: int


class FeedCache:
    """Rendered feeds by (scope, registry fingerprint, data version, day, variant); one render at a time per key."""

    def __init__(self, service, size: int = CACHE_ENTRIES):
        self.service = service
        self.size = size
        self.rendered = OnceCache(size)  # Rendered by (scope, registry, data version, day, variant)
        self.previous: dict[tuple, Rendered] = {}  # the last render per (scope, variant), for Last-Modified
        self.renders = 0
        self.memo: dict = {}  # rendered components per task (see feeds.build_feed), shared by all scopes
        self.process_min_tasks = PROCESS_MIN_TASKS
        self.worker: FeedWorker | None = None  # started by the first large render
        self.in_process = 0  # renders the worker process did

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def scope_of(self, row) -> tuple | None:
        """The feeds scope of a token row; None for a scope this server does not know (a board's)."""
        return None if row.scope.startswith("b.") else token_scope(row, self.service.store)

    async def get(self, scope: tuple, todo: bool, version: int | None = None) -> Rendered:
        service = self.service
        registry = service.registry
        today = service.clock.now().astimezone(registry.settings.tz).date()
        version = service.store.data_version() if version is None else version
        key = (scope, registry.fingerprint, version, today, todo)
        return await self.rendered.get(key, lambda: self._render(registry, scope, todo, today))

    def _build(self, registry, scope, todo, today):
        """Everything a render does, in a worker thread: the store's reads, the feed, gzip and the ETag."""
        store = self.service.store
        states = store.task_states()
        progress = feeds.summarize_progress(store.progress())
        withdrawn = store.withdrawn_definitions() if any(s.withdrawn for s in states.values()) else {}
        if len(self.memo) > 4 * len(states) + 256:  # stale states and registries
            self.memo.clear()
        feed = feeds.build_feed(registry, states, progress, scope, today, todo, withdrawn, self.memo)
        return feed, gzip.compress(feed.body, 6, mtime=0), hashlib.sha256(feed.body).hexdigest()[:32]

    async def _render(self, registry, scope, todo, today) -> Rendered:
        self.renders += 1
        # off the event loop, which paces the Telegram sends (bench/storm.py measures the loop's lag): large
        # registries in a worker process (a thread would still take turns with the loop for the GIL)
        out = None
        if len(registry.tasks) >= self.process_min_tasks:
            self.worker = self.worker or FeedWorker(self.service.config)
            if self.worker.usable():
                out = await self.worker.build(asyncio.get_running_loop(), registry.fingerprint, scope, today, todo)
                self.in_process += out is not None
        if out is None:
            feed, gz, etag = await asyncio.to_thread(self._build, registry, scope, todo, today)
            out = (feed.body, gz, etag, feed.last_modified, feed.components)
        body, gz, etag, last, components = out
        prev = self.previous.get((scope, todo))
        if prev is not None and prev.etag == etag:
            last = prev.last_modified
        elif prev is not None and prev.last_modified and (last is None or last <= prev.last_modified):
            # changed without a newer LAST-MODIFIED inside (a membership, a document title): now
            last = max(self.service.clock.now(), prev.last_modified + timedelta(seconds=1))
        rendered = Rendered(body, gz, etag, last.replace(microsecond=0) if last else None, components)
        self.previous[(scope, todo)] = rendered
        log.debug("rendered feed %s%s: %d components, %d bytes", scope[0], " (todo)" if todo else "", components,
                  len(body))
        return rendered





async def feed_handler(request: web.Request) -> web.StreamResponse:
    cache: FeedCache = request.app[FEED_CACHE]
    name = request.match_info.get("name", "")
    token = name[:-4] if name.endswith(".ics") else ""
    if not _TOKEN.fullmatch(token):
        return not_found()
    row, version = cache.service.store.feed_access(token)
    scope = cache.scope_of(row) if row is not None else None
    if scope is None:
        return not_found()
    todo = request.query.get("todo", "").lower() in _TRUE
    rendered = await cache.get(scope, todo, version)
    use_gzip = accepts_gzip(request.headers.get("Accept-Encoding"))
    etag = rendered.etag + ("-gz" if use_gzip else "")
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache", "Vary": "Accept-Encoding",
               **SECURITY_HEADERS}
    if rendered.last_modified is not None:
        headers["Last-Modified"] = _http_date(rendered.last_modified)
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        fresh = etag_matches(inm, rendered.etag)
    else:
        ims = request.if_modified_since
        fresh = ims is not None and rendered.last_modified is not None and rendered.last_modified <= ims
    if fresh:
        return web.Response(status=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=rendered.gz if use_gzip else rendered.body, headers=headers,
                        content_type="text/calendar", charset="utf-8")


def _http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(timezone.utc), usegmt=True)


def make_app(service, routes=()) -> web.Application:
    from .health import health_handler

    app = web.Application()
    app[FEED_CACHE] = cache = FeedCache(service)

    async def close_cache(app):
        cache.close()

    app.on_cleanup.append(close_cache)
    app.router.add_get("/feeds/{name}", feed_handler)  # HEAD is answered too, without the body
    app.router.add_get("/healthz", health_handler)
    for method, path, handler in routes:  # e.g. the Telegram webhook (taskbot.bot.webhook)
        app.router.add_route(method, path, handler)
    from .board import routes as board  # the supervision board: /board/<token>/...

    board.add_routes(app, service)
    return app


async def start_web(service, host: str, port: int, routes=()) -> web.AppRunner:
    """Serve feeds on host:port in the running loop; the caller awaits `runner.cleanup()` to stop."""
    soft, hard = webguard.raise_nofile_limit()
    app = make_app(service, routes)
    guard = webguard.guard_app(app, webguard.connection_limit(soft))
    log.info("feed server: at most %d connections (open-file limit %d, hard %d)", guard.limit, soft, hard)
    runner = web.AppRunner(app, access_log_class=RedactingAccessLogger, access_log=access_log,
                           **webguard.runner_options())
    await runner.setup()
    site = webguard.GuardedSite(runner, guard, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port actually bound (useful with port 0)."""
    return runner.addresses[0][1]


__all__ = ["FEED_CACHE", "FeedCache", "RedactingAccessLogger", "accepts_gzip", "bound_port", "etag_matches", "make_app",
           "redact", "start_web"]
