"""Benchmark: the cost of the integrity check (`PRAGMA quick_check`) that `taskbot run` and every CLI command
run when they open the SQLite state, and of a whole CLI command on that database.

A database with --rows delivery-ledger rows (about --rows / 50,000 years of a busy office: 916 tasks, 100
chats) is built once. Ours: Store.open(db, create=False, check=True), best of --repeat in this process.
Baseline: Store.open(db) without the check, same file, same run. Also `taskbot feed-url --all` as a user runs
it (a real subprocess), against the bare interpreter start with the same imports as the baseline.
Target: the check adds at most 0.5 s at --rows (default 500,000), so no command feels it.

    python3 bench/db_open.py [--rows 500000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from taskbot.store import Store, ledger_key  # noqa: E402


def build(path: str, rows: int) -> None:
    store = Store.open(path)
    now = datetime(2019, 1, 1, tzinfo=timezone.utc)
    batch = []
    for i in range(rows):
        item, chat, day = f"t-{i % 916}", 1000 + i % 100, date.fromordinal(736000 + i // 10_000)
        batch.append((ledger_key(item, "due", chat, day), item, "due", chat, day))
        if len(batch) == 20_000:
            store.record_sent(batch, 1, now)
            batch = []
    if batch:
        store.record_sent(batch, 1, now)
    store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        db = os.path.join(work, "state.sqlite3")
        t0 = time.perf_counter()
        build(db, a.rows)
        size = os.path.getsize(db)
        print(f"database: {a.rows:,} ledger rows, {size / 1e6:.1f} MB (built in {time.perf_counter() - t0:.1f} s)")
        plain = best(lambda: Store.open(db, create=False).close(), a.repeat)
        checked = best(lambda: Store.open(db, create=False, check=True).close(), a.repeat)
        print(f"open without check (baseline): {plain * 1000:8.1f} ms")
        print(f"open with quick_check (ours):   {checked * 1000:8.1f} ms  ({checked / plain:.1f}x; the check adds "
              f"{(checked - plain) * 1000:.1f} ms)")
        env = {**os.environ, "PYTHONPATH": ROOT, "LANG": "C.UTF-8", "TASKBOT_HTTP": "127.0.0.1:8080"}
        cli = best(lambda: subprocess.run([sys.executable, "-m", "taskbot", "feed-url", "--all", "--db", db],
                                          cwd=ROOT, env=env, capture_output=True, check=True), a.repeat)
        bare = best(lambda: subprocess.run([sys.executable, "-c", "import taskbot.store, taskbot.registry"],
                                           cwd=ROOT, env=env, check=True), a.repeat)
        print(f"`taskbot feed-url --all` (registry load + open + check): {cli * 1000:8.1f} ms; interpreter with the "
              f"imports alone: {bare * 1000:.1f} ms")
        added = checked - plain
        ok = added <= 0.5
        print(f"target: the check adds at most 500 ms at {a.rows:,} rows: {'met' if ok else 'NOT met'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
