"""Feeds re-render only what changed: per-item components are reused across days unless a date of the item
passed (it turned overdue) or its state changed (issue 11)."""

from datetime import date, timedelta
from pathlib import Path

from taskbot.feeds import build_feed
from taskbot.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent


def test_a_new_day_re_renders_only_the_items_whose_dates_passed():
    registry = load_registry(str(ROOT / "tasks.yaml"), str(ROOT / "data" / "units.yaml"))
    dates = {t.id: [d for d in (t.due, *(m.due for m in t.milestones)) if d] for t in registry.tasks}
    day = min(d for ds in dates.values() for d in ds if d > date(2018, 9, 1))
    turned = {tid for tid, ds in dates.items() if day in ds}  # overdue from the next day on
    assert turned
    memo: dict = {}
    for variant in (False, True):
        build_feed(registry, {}, {}, ("all", None), day, variant, memo=memo)
        before = len(memo)
        again = build_feed(registry, {}, {}, ("all", None), day + timedelta(days=1), variant, memo=memo)
        assert len(memo) - before == len(turned)  # the others came from the memo
        assert again.body == build_feed(registry, {}, {}, ("all", None), day + timedelta(days=1), variant).body
        assert again.body != build_feed(registry, {}, {}, ("all", None), day, variant).body


def test_a_large_registry_renders_in_the_worker_process_with_the_same_bytes_as_in_a_thread(tmp_path):
    import asyncio
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from taskbot.clock import Clock
    from taskbot.config import Config
    from taskbot.service import Service
    from taskbot.store import Store
    from taskbot.web import FeedCache

    cfg = Config(registry=str(ROOT / "tasks.yaml"), units=str(ROOT / "data" / "units.yaml"),
                 db=str(tmp_path / "state.sqlite3"))
    store = Store.open(cfg.db)
    clock = Clock(datetime(2018, 9, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), frozen=True)
    service = Service(cfg, clock, store, load_registry(cfg.registry, cfg.units))
    store.add_progress("cw-05", "市城管局", 1, "已完成摸底", clock.now())

    async def render(min_tasks):
        cache = FeedCache(service)
        cache.process_min_tasks = min_tasks
        try:
            return await cache.get(("unit", "市城管局"), False), cache.in_process
        finally:
            cache.close()

    in_process, by_worker = asyncio.run(render(0))
    in_thread, by_thread = asyncio.run(render(10**9))
    assert (by_worker, by_thread) == (1, 0)
    assert in_process.body == in_thread.body and in_process.etag == in_thread.etag
    assert "已完成摸底".encode() in in_process.body
    store.close()
