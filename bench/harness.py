"""Shared helpers of the bench scripts: the whole application (app.serve) in-process against the Bot API
emulator, a free local port, and the small registry of the reliability scripts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

TOKEN = "123456:TEST"

# the unit directory of the reliability scripts (downtime, security)
UNITS = """\
units:
  - {name: 市城管局, full_name: 郑州市城市管理局, aliases: [城管局], kind: department}
  - {name: 中原区, full_name: 郑州市中原区, kind: district}
  - {name: 二七区, full_name: 郑州市二七区, kind: district}
groups:
  - {name: 各区政府, members: [中原区, 二七区]}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def running_app(cfg, registry, timeout: float = 30.0):
    """Run taskbot.app.serve(cfg, registry) in this loop until the block ends; yields the Service."""
    from taskbot.app import serve

    stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(cfg, registry, stop, lambda svc: ready.done() or ready.set_result(svc)))
    done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        stop.set()
        raise RuntimeError(f"serve() did not become ready: {task.exception() if task.done() else 'timeout'}")
    try:
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout)


def stop_processes(*procs) -> None:
    """SIGTERM each process still running; SIGKILL it after 10 s."""
    import signal
    import subprocess

    for p in procs:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def write(path: str, text: str) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path
