"""Feed renders of large registries in a worker process, so that they never hold the event loop's GIL.

The event loop paces the Telegram sends; a cold render of a 10k-task feed takes seconds of pure Python,
which in a thread still takes turns with the loop for the GIL. The worker is one spawned process that
loads the same registry files (checked by fingerprint: a registry that differs from the service's one is
not rendered there), opens its own connection to the store, reads the task state, renders with its own
per-item memo (`feeds.build_feed`), compresses and hashes, and hands back the bytes. A render it cannot do
(another registry on disk, a store it cannot open) answers None and the caller renders in a thread.

The process is spawned (never forked from the running loop's threads), so, as with any multiprocessing
code, the program's main module must keep its work under `if __name__ == "__main__":` (bot.py, the
`taskbot` script and `python -m taskbot` do); otherwise the worker fails to start and renders fall back
to the thread.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import hashlib
import logging
import multiprocessing

log = logging.getLogger("taskbot.feedworker")

_worker: dict = {}  # in the worker process: paths, registry, store, memo


def _init(registry_path: str, units_path: str, db: str) -> None:
    _worker.update(paths=(registry_path, units_path), db=db, registry=None, store=None, memo={})


def _registry(fingerprint: str):
    from .registry import load_registry

    registry = _worker["registry"]
    if registry is None or registry.fingerprint != fingerprint:
        registry = load_registry(*_worker["paths"])
        _worker.update(registry=registry, memo={})
    return registry if registry.fingerprint == fingerprint else None


def build(fingerprint: str, scope: tuple, today, todo: bool):
    """In the worker: (body, gzip body, etag, last modified, components), or None when it cannot render."""
    from . import feeds
    from .store import Store

    try:
        registry = _registry(fingerprint)
        if registry is None:
            return None
        if _worker["store"] is None:
            _worker["store"] = Store.open(_worker["db"])
        store = _worker["store"]
        states = store.task_states()
        progress = feeds.summarize_progress(store.progress())
        withdrawn = store.withdrawn_definitions() if any(s.withdrawn for s in states.values()) else {}
    except Exception as exc:  # noqa: BLE001 - the caller renders in a thread instead
        log.warning("feed worker cannot render: %s", exc)
        return None
    memo = _worker["memo"]
    if len(memo) > 4 * len(states) + 256:
        memo.clear()
    feed = feeds.build_feed(registry, states, progress, scope, today, todo, withdrawn, memo)
    return (feed.body, gzip.compress(feed.body, 6, mtime=0), hashlib.sha256(feed.body).hexdigest()[:32],
            feed.last_modified, feed.components)


class FeedWorker:
    """One spawned process rendering feeds of the service's registry (see the module's docstring)."""

    def __init__(self, config):
        self._args = (config.registry, config.units, config.db)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def usable(self) -> bool:
        return self._args[2] not in ("", ":memory:")

    async def build(self, loop, fingerprint: str, scope: tuple, today, todo: bool):
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_init, initargs=self._args)
        try:
            return await loop.run_in_executor(self._pool, build, fingerprint, scope, today, todo)
        except concurrent.futures.process.BrokenProcessPool:
            log.warning("feed worker died; the next render starts a new one")
            self._pool = None
            return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
