"""Connection guarding for the feed server: slow and idle HTTP clients cannot take the bot down.

The feed server shares its process (and so its open-file limit) and its event loop with the Telegram bot
and the scheduler. Without bounds, a slowloris client (thousands of connections that each send half a
request line and wait) fills every file descriptor: the bot can no longer reach Telegram or open SQLite,
and the event loop logs an `accept()` error for every retry. The guard bounds each resource:

- header timeout: a connection must complete a request's headers within HEADER_TIMEOUT seconds of
  connecting (and the next one within that time of the previous response). aiohttp checks this with its
  keep-alive timer, which closes a connection that is still waiting for a request when it fires, however
  slowly bytes trickle in;
- body timeout: a request (reading its body, rendering, answering) is bounded by REQUEST_TIMEOUT
  (408 when exceeded), and a body the handler left unread is drained for at most BODY_TIMEOUT;
- connection cap: at most `limit` connections at once, below the open-file limit (half of what the soft
  limit leaves after one accept burst, at most MAX_CONNECTIONS). When full, a new connection evicts the
  oldest connection that is not in a request (an idle or half-sent one: the attacker's), so a real
  client still gets in; when every connection is busy in a request, the new one is closed at once;
- the soft RLIMIT_NOFILE is raised to the hard limit at start (`raise_nofile_limit`), where allowed;
- `accept()` errors (EMFILE and the like) are logged once per LOG_INTERVAL with a count, not per retry.

`start_web` uses `guard_app` before setup and `GuardedSite` instead of aiohttp's TCPSite.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from aiohttp import web

log = logging.getLogger("taskbot.web.guard")

HEADER_TIMEOUT = 10.0  # seconds to send a complete request line and headers (and keep-alive idle time)
BODY_TIMEOUT = 10.0  # seconds aiohttp drains an unread request body after answering
REQUEST_TIMEOUT = 30.0  # seconds for one request: body, render, answer
MAX_CONNECTIONS = 512  # concurrent connections at most, whatever the file limit
BACKLOG = 32  # the listening socket's backlog: connections the loop may accept in one burst
LOG_INTERVAL = 60.0  # seconds between two log lines about refused connections or accept() errors
_ACCEPT_ERROR = "socket.accept() out of system resource"
GUARD = web.AppKey("connection_guard", object)


def raise_nofile_limit() -> tuple[int, int]:
    """Raise the soft open-file limit to the hard one where the platform allows; returns (soft, hard)."""
    try:
        import resource
    except ImportError:  # not on this platform: nothing to raise, no bound known
        return (0, 0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, want, exc)
    return soft, hard


def connection_limit(soft: int, cap: int = MAX_CONNECTIONS, backlog: int = BACKLOG) -> int:
    """Connections the feed server may hold, below the soft file limit.

    The event loop accepts up to `backlog` connections in one go before the guard sees any of them, and
    the connections it closes free their descriptors a loop turn or two later: four bursts are kept free.
    Of the rest, half is for the feed server and half for the bot (Telegram, SQLite, the registry).
    """
    if soft <= 0:
        return cap
    return max(8, min(cap, (soft - 4 * backlog) // 2))


class Throttled:
    """Counts events and logs at most one line per interval, saying how many happened since the last."""

    def __init__(self, interval: float = LOG_INTERVAL, clock=time.monotonic):
        self.interval, self.clock = interval, clock
        self.last: float | None = None
        self.count = 0
        self.total = 0

    def __call__(self, level: int, message: str, *args) -> bool:
        """Count one event; log it (with the count since the last line) when the interval has passed."""
        self.count += 1
        self.total += 1
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return False
        log.log(level, message + " (%d time(s) since the last such line)", *args, self.count)
        self.last, self.count = now, 0
        return True


class ConnectionGuard:
    """Protocol factory in front of an aiohttp web.Server that caps and tracks its connections."""

    def __init__(self, limit: int, interval: float = LOG_INTERVAL):
        self.limit = limit
        self.server: web.Server | None = None
        self.open: OrderedDict = OrderedDict()  # handler -> transport, oldest first
        self.busy: set = set()  # handlers inside a request
        self.refused = 0
        self.evicted = 0
        self.peak = 0
        self._log_refused = Throttled(interval)
        self._log_accept = Throttled(interval)

    def attach(self, server: web.Server) -> None:
        """Follow the server's connections (its connection_made/lost calls, made by every handler)."""
        self.server = server
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler, transport):
            self.open[handler] = transport
            if len(self.open) > self.limit and not self._evict_idle():
                del self.open[handler]
                self.refused += 1
                self._log_refused(logging.WARNING, "feed server: %d connections, all in a request; refused a new one",
                                  len(self.open))
                transport.abort()
                return
            self.peak = max(self.peak, len(self.open))
            made(handler, transport)

        def connection_lost(handler, exc=None):
            self.open.pop(handler, None)
            self.busy.discard(handler)
            lost(handler, exc)

        server.connection_made, server.connection_lost = connection_made, connection_lost

    def __call__(self):
        assert self.server is not None, "attach() the server first"
        return self.server()

    def _evict_idle(self) -> bool:
        """Close the oldest connection not inside a request; False when there is none."""
        for handler, transport in self.open.items():
            if handler not in self.busy:
                del self.open[handler]
                transport.abort()  # its connection_lost follows in the loop's next turn
                self.evicted += 1
                self._log_refused(logging.WARNING, "feed server: %d connections (the limit); closed the oldest idle "
                                  "or half-sent one", self.limit)
                return True
        return False

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        protocol = request.protocol
        self.busy.add(protocol)
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await handler(request)
        except TimeoutError:
            return web.Response(status=408, text="request timeout\n", content_type="text/plain",
                                headers={"Connection": "close"})
        finally:
            self.busy.discard(protocol)

    def exception_handler(self, previous):
        """A loop exception handler that logs accept() resource errors once per interval, else defers."""

        def handle(loop, context):
            if context.get("message", "").startswith(_ACCEPT_ERROR):
                exc = context.get("exception")
                self._log_accept(logging.ERROR, "feed server: accept() failed: %s", exc)
                return
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        return handle


def guard_app(app: web.Application, limit: int) -> ConnectionGuard:
    """Put a guard on an application before its runner's setup; returns it (also app[GUARD])."""
    guard = ConnectionGuard(limit)
    app.middlewares.append(guard.middleware)
    app[GUARD] = guard
    return guard


def runner_options() -> dict:
    """Keyword arguments for web.AppRunner: the header and body timeouts."""
    return {"keepalive_timeout": HEADER_TIMEOUT, "lingering_time": BODY_TIMEOUT}


class GuardedSite(web.TCPSite):
    """A TCPSite whose connections go through the guard (and whose loop logs accept errors sparingly)."""

    def __init__(self, runner: web.AppRunner, guard: ConnectionGuard, host: str, port: int):
        super().__init__(runner, host, port)
        self.guard = guard
        self._previous_handler = None

    async def start(self) -> None:
        guard = self.guard
        guard.attach(self._runner.server)
        loop = asyncio.get_running_loop()
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(guard.exception_handler(self._previous_handler))
        await web.BaseSite.start(self)  # registers the site with its runner
        self._server = await loop.create_server(guard, self._host, self._port, backlog=BACKLOG,
                                                reuse_address=self._reuse_address, reuse_port=self._reuse_port)
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port

    async def stop(self) -> None:
        asyncio.get_running_loop().set_exception_handler(self._previous_handler)
        await super().stop()


__all__ = ["BODY_TIMEOUT", "ConnectionGuard", "GUARD", "GuardedSite", "HEADER_TIMEOUT", "MAX_CONNECTIONS",
           "REQUEST_TIMEOUT", "Throttled", "connection_limit", "guard_app", "raise_nofile_limit", "runner_options"]
