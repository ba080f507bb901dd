"""GET /healthz: what a load balancer or an operator asks an instance.

200 with {"role": "leader" | "follower", "db": "ok", "registry": <fingerprint>, "last_tick": ISO | null,
"instance": host:pid, "mode": "polling" | "webhook" | "console"}; 503 with "db": "unreachable" when the
database does not answer within DB_TIMEOUT seconds. Instances reading different registries show
different fingerprints.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

DB_TIMEOUT = 3.0
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


async def health_handler(request: web.Request) -> web.Response:
    from .httputil import FEED_CACHE

    service = request.app[FEED_CACHE].service
    leadership = getattr(service, "leadership", None)
    body = {"role": leadership.role if leadership is not None else "leader",
            "registry": service.registry.fingerprint, "instance": getattr(leadership, "owner", None),
            "mode": getattr(service, "mode", None)}
    try:
        last = await asyncio.wait_for(asyncio.to_thread(service.store.last_tick), DB_TIMEOUT)  # a round trip
    except Exception as exc:  # unreachable, timed out, or refused: the balancer should look elsewhere
        body.update(db="unreachable", error=exc.__class__.__name__, last_tick=None)
        return web.Response(status=503, text=json.dumps(body) + "\n", content_type="application/json",
                            headers=HEADERS)
    tz = service.registry.settings.tz  # in the registry's time zone, as operators read it
    body.update(db="ok", last_tick=last.astimezone(tz).isoformat() if last else None)
    return web.Response(text=json.dumps(body) + "\n", content_type="application/json", headers=HEADERS)


__all__ = ["DB_TIMEOUT", "health_handler"]
