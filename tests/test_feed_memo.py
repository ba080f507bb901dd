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
