"""Digests: grouping by urgency, both languages, and splitting under Telegram's limit."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from taskbot.digest import LIMIT, render, utf16_len
from taskbot.planning import Delivery, Reminder

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2018, 9, 28)


def delivery(tid, due, kind="before:7", role="lead", title="编制规划"):
    r = Reminder(datetime.combine(TODAY, time(9), TZ), tid, tid, kind, due, title)
    return Delivery(r, 1, "市城管局", role)


def test_sections_in_order_of_urgency_with_marks_days_left_and_role():
    parts = render([delivery("a-1", date(2018, 10, 30)), delivery("a-2", date(2018, 9, 20), "overdue"),
                    delivery("a-3", TODAY, "due", "responsible"), delivery("a-4", date(2018, 10, 2), role="cooperating"),
                    delivery("a-5", None, "checkin")], TODAY)
    assert len(parts) == 1 and parts[0].task_ids == ("a-2", "a-3", "a-4", "a-1", "a-5")
    assert parts[0].text == "\n".join([
        "📋 督办事项提醒 · 2018-09-28",
        "", "🔴 已逾期 (1)", "🔴 a-2 编制规划 · 2018-09-20 · 逾期8天 · 牵头",
        "", "🟠 今日到期 (1)", "🟠 a-3 编制规划 · 2018-09-28 · 今日到期 · 责任",
        "", "🟡 本周到期 (1)", "🟡 a-4 编制规划 · 2018-10-02 · 剩余4天 · 配合",
        "", "🟢 稍后到期 (1)", "🟢 a-1 编制规划 · 2018-10-30 · 剩余32天 · 牵头",
        "", "⚪ 进展填报 (1)", "⚪ a-5 编制规划 · — · 无时限 · 牵头",
        "", "详情:/task 编号 · 报进展:/progress 编号 内容"])


def test_english_digest():
    text = render([delivery("a-2", date(2018, 9, 20), "overdue")], TODAY, lang="en", catch_up=True)[0].text
    assert text.splitlines()[:5] == ["📋 Task reminders · 2018-09-28",
                                     "(catch-up: reminders missed while the bot was offline)",
                                     "", "🔴 Overdue (1)", "🔴 a-2 编制规划 · 2018-09-20 · 8 days overdue · lead"]


def test_one_line_per_item_the_most_urgent_note():
    parts = render([delivery("a-1", date(2018, 10, 5), "before:7"), delivery("a-1", date(2018, 10, 5), "before:14")], TODAY)
    assert parts[0].text.count("a-1 ") == 1


def test_long_digests_split_at_line_boundaries_under_the_limit_in_utf16_units():
    many = [delivery(f"t-{i:03d}", date(2018, 10, 1 + i % 20), title="建筑垃圾治理" * 8 + "🚧") for i in range(300)]
    parts = render(many, TODAY)
    assert len(parts) > 3
    assert all(utf16_len(p.text) <= LIMIT for p in parts)
    assert sum(len(p.task_ids) for p in parts) == 300
    assert all(p.text.startswith("📋 督办事项提醒 · 2018-09-28") for p in parts)
    lines = [line for p in parts for line in p.text.splitlines()]
    assert sum(line.startswith("🟡 t-") or line.startswith("🟢 t-") for line in lines) == 300


def test_a_single_overlong_line_is_cut_not_dropped():
    parts = render([delivery("a-1", date(2018, 10, 5), title="长" * 5000)], TODAY)
    assert len(parts) == 1 and utf16_len(parts[0].text) <= LIMIT and "…" in parts[0].text
