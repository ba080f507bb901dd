"""One leader among the instances on a database: only it ticks the scheduler, sends reminders and polls.

With PostgreSQL, PostgreSQL chooses: the leader holds a session-level advisory lock on a connection of
its own (`pg_try_advisory_lock`), which the server releases the moment that session ends (the process
was killed, the network dropped, the backend was terminated). Followers try to take it every
`RETRY` seconds; the leader checks its connection every `BEAT` seconds and steps down at once when the
check fails. A new leader bumps the leader epoch (`taskbot.claims`): every delivery is claimed under
the claimer's epoch, so an old leader that has not noticed yet cannot claim anything more, and before
sending the new leader waits (at most `GRACE`) until the previous leader's sessions are gone, so that
messages the old one had already queued are not sent twice.

With SQLite there is one instance (the pid file's lock, `taskbot.instance`): it leads from the start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import socket
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import claims

log = logging.getLogger("taskbot.leader")

RETRY = 0.5  # seconds between a follower's attempts to take the lock
BEAT = 1.0  # seconds between the leader's checks of its lock connection
BEAT_TIMEOUT = 2.0  # a check that takes longer counts as a lost connection
GRACE = 6.0  # the longest a new leader waits for a previous leader that is still connected to go
APP_PREFIX = "taskbot "  # application_name of every session of an instance: "taskbot <owner>"


def instance_id() -> str:
    """This process among all instances: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def with_app_name(url: str, owner: str) -> str:
    """The PostgreSQL URL with application_name set, so an instance's sessions can be told apart."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "application_name"]
    query.append(("application_name", (APP_PREFIX + owner)[:63]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class Fence:
    """What the dispatcher asks before each send: still leading? and the claims under this leader's epoch."""

    def __init__(self, store, owner: str):
        self.store, self.owner = store, owner
        self.leading = False
        self.epoch = 0

    def claim(self, keys, now):
        if not self.leading:
            return None
        try:
            mine = claims.claim_deliveries(self.store, keys, self.epoch, self.owner, now)
        except Exception as exc:  # the database is unreachable: nothing is sent without a claim
            log.warning("cannot claim deliveries: %s", exc.__class__.__name__)
            return None
        if mine is None and self.leading:
            log.warning("another instance took over (epoch %d is not current): stop sending", self.epoch)
            self.leading = False
        return mine

    def confirm(self, rows, message_id, now) -> None:
        claims.confirm_deliveries(self.store, rows, message_id, now)


class SoleLeadership:
    """SQLite: the only instance leads (the pid file's lock keeps any other out)."""

    kind = "single"

    def __init__(self, store, owner: str | None = None):
        self.owner = owner or instance_id()
        self.fence = Fence(store, self.owner)
        self.store = store

    @property
    def role(self) -> str:
        return "leader" if self.fence.leading else "follower"

    async def run(self, on_elected, on_demoted, stop: asyncio.Event) -> None:
        self.fence.epoch = claims.bump_epoch(self.store)
        self.fence.leading = True
        await on_elected()

    def startup_lock(self):
        return contextlib.nullcontext()

    def close(self) -> None:
        self.fence.leading = False


class PgLeadership:
    """PostgreSQL: an advisory lock held on a dedicated connection chooses the leader."""

    kind = "postgresql"

    def __init__(self, url: str, store, owner: str | None = None, *, retry: float = RETRY, beat: float = BEAT,
                 grace: float = GRACE):
        self.url, self.store = url, store
        self.owner = owner or instance_id()
        self.retry, self.beat, self.grace = retry, beat, grace
        self.fence = Fence(store, self.owner)
        self._conn = None
        self._key = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="taskbot-leader")
        self.elections = 0
        self._elected = False  # whether on_elected ran and on_demoted did not yet

    @property
    def role(self) -> str:
        return "leader" if self.fence.leading else "follower"

    # --- the dedicated connection (used from one worker thread) ----------------------------------------
    def _connect(self):
        import psycopg2

        parts = urlsplit(self.url)
        scheme = parts.scheme.split("+", 1)[0]
        dsn = urlunsplit(("postgresql" if scheme.startswith("postgres") else scheme, parts.netloc, parts.path,
                          parts.query, ""))
        conn = psycopg2.connect(dsn, application_name=(APP_PREFIX + self.owner)[:63], connect_timeout=5,
                                keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=2)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = 5000")
            cur.execute("SELECT current_database(), current_schema()")
            name = "taskbot-leader:%s:%s" % cur.fetchone()
        self._key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def _try_lock(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        with self._conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
            return bool(cur.fetchone()[0])

    def _check(self) -> bool:
        with self._conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                        "AND classid = ((%s::bigint >> 32) & 4294967295)::oid "
                        "AND objid = (%s::bigint & 4294967295)::oid", (self._key, self._key))
            return cur.fetchone() is not None

    def _sessions_of(self, owner: str) -> int:
        with self._conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
                        ((APP_PREFIX + owner)[:63],))
            return int(cur.fetchone()[0])

    async def _call(self, fn, *args, timeout: float = BEAT_TIMEOUT):
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn, *args), timeout)
        except asyncio.TimeoutError:  # a hung connection: abandon it and its thread
            self._pool.shutdown(wait=False)
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="taskbot-leader")
            self._conn = None
            raise

    # --- the loop --------------------------------------------------------------------------------------
    async def run(self, on_elected, on_demoted, stop: asyncio.Event) -> None:
        """Follow until the lock is ours, lead until it is lost, and again, until `stop`."""
        while not stop.is_set():
            try:
                wait = await self._step(on_elected, on_demoted, stop)
            except Exception:  # never let the election die with this instance still serving
                log.exception("leader election step failed; retrying")
                self.fence.leading = False  # (still _elected: the next step steps down properly)
                self._drop()
                wait = self.retry
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except asyncio.TimeoutError:
                pass

    async def _step(self, on_elected, on_demoted, stop) -> float:
        """One attempt to lead (a follower) or one check of the lock (the leader); the seconds to the next."""
        if not self.fence.leading and self._elected:  # fenced off by a newer epoch: give the lock up
            self._elected = False
            self._drop()
            log.warning("leadership lost (a newer leader epoch): stopped sending; following")
            await on_demoted()
            return 3 * self.retry
        if not self.fence.leading:
            try:
                got = await self._call(self._try_lock, timeout=10)
            except Exception as exc:
                log.warning("leader election: database unreachable (%s); retrying", exc.__class__.__name__)
                self._drop()
                got = False
            if got:
                await self._take_over(on_elected, stop)
            return self.retry
        try:
            ok = await self._call(self._check)
        except Exception as exc:
            log.warning("lost the leader's database connection (%s)", exc.__class__.__name__)
            ok = False
        if ok:
            return self.beat
        self.fence.leading = self._elected = False
        self._drop()
        log.warning("leadership lost: stopped sending; following")
        await on_demoted()
        return 3 * self.retry  # let a follower take it rather than racing for it at once

    async def _take_over(self, on_elected, stop) -> None:
        previous = self.store.get_meta("leader_owner")
        epoch = claims.bump_epoch(self.store)
        self.store.set_meta("leader_owner", self.owner)
        t0 = time.monotonic()
        if previous and previous != self.owner:  # a previous leader still connected may still be sending
            deadline = t0 + self.grace
            while time.monotonic() < deadline and not stop.is_set():
                try:
                    if await self._call(self._sessions_of, previous) == 0:
                        break
                except Exception:
                    break
                await asyncio.sleep(0.2)
        self.fence.epoch, self.fence.leading = epoch, True
        self._elected = True
        self.elections += 1
        log.info("leading (epoch %d; waited %.2f s for the previous leader's sessions to end)", epoch,
                 time.monotonic() - t0)
        await on_elected()

    def startup_lock(self):
        return startup_lock(self.url)

    def close(self) -> None:
        self.fence.leading = False
        self._pool.submit(self._drop)
        self._pool.shutdown(wait=True, cancel_futures=False)


@contextlib.contextmanager
def startup_lock(url: str):
    """Serialize migrations and registry syncs of instances starting together (a blocking advisory lock held
    by a session of its own; ending the session releases it)."""
    import psycopg2

    parts = urlsplit(url)
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
    conn = psycopg2.connect(dsn, connect_timeout=10)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext('taskbot-startup'))")
        yield
    finally:
        conn.close()


__all__ = ["BEAT", "Fence", "GRACE", "PgLeadership", "RETRY", "SoleLeadership", "instance_id",
           "startup_lock", "with_app_name"]
