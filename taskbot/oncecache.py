"""An LRU cache of computed values where concurrent requests for one key share one computation.

The feed server and the board both render expensive things on demand: the first request for a key
computes it, requests for the same key meanwhile await that same computation, and a failure reaches
every waiter without being logged as unretrieved.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, Awaitable, Callable


class OnceCache:
    """At most `size` values by key, least recently used dropped first; one computation per key at a time."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[Any, Any] = OrderedDict()
        self.pending: dict[Any, asyncio.Future] = {}

    def clear(self) -> None:
        self.entries.clear()

    async def get(self, key, compute: Callable[[], Awaitable[Any]]):
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit
        if key in self.pending:
            return await asyncio.shield(self.pending[key])
        future = asyncio.get_running_loop().create_future()
        self.pending[key] = future
        try:
            value = await compute()
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
            future.set_result(value)
            return value
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked as retrieved: waiters get it, nobody else is warned
            raise
        finally:
            del self.pending[key]
