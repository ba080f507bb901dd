"""Digests: grouping by urgency, both languages, and splitting under Telegram's limit."""

from datetime import date, datetime, time, timedelta
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
    assert len(parts) == 1 and parts[0].task_ids == ("a-2", "a-3", "a-4", "a-1")
    assert parts[0].text == "\n".join([
        "📋 督办事项提醒 · 2018-09-28",
        "", "🔴 已逾期 (1)", "🔴 a-2 编制规划 · 2018-09-20 · 逾期8天 · 牵头",
        "", "🟠 今日到期 (1)", "🟠 a-3 编制规划 · 2018-09-28 · 今日到期 · 责任",
        "", "🟡 本周到期 (1)", "🟡 a-4 编制规划 · 2018-10-02 · 剩余4天 · 配合",
        "", "🟢 稍后到期 (1)", "🟢 a-1 编制规划 · 2018-10-30 · 剩余32天 · 牵头",
        "", "⚪ 1 项长期任务请按月报进展: /tasks",
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
    many = [delivery(f"t-{i:03d}", date(2018, 10, 1 + i % 20), title="建筑垃圾治理" * 60 + "🚧") for i in range(300)]
    parts = render(many, TODAY)
    assert len(parts) > 3
    assert all(utf16_len(p.text) <= LIMIT for p in parts)
    assert sum(len(p.task_ids) for p in parts) == 36  # MAX_LINES: 2 section titles, 36 items, 2 "more" lines
    assert all(p.text.startswith("📋 督办事项提醒 · 2018-09-28") for p in parts)
    lines = [line for p in parts for line in p.text.splitlines()]
    assert sum(line.startswith("🟡 t-") or line.startswith("🟢 t-") for line in lines) == 36
    assert [line for line in lines if line.startswith("…")] == ["… 另有 39 项: /due", "… 另有 225 项: /tasks"]


def test_a_single_overlong_line_is_cut_not_dropped():
    parts = render([delivery("a-1", date(2018, 10, 5), title="长" * 5000)], TODAY)
    assert len(parts) == 1 and utf16_len(parts[0].text) <= LIMIT and "…" in parts[0].text


def test_check_ins_fold_into_one_line_and_long_digests_end_in_the_command_that_lists_the_rest():
    overdue = [delivery(f"o-{i:02d}", date(2018, 8, 1) + timedelta(days=i), "overdue") for i in range(45)]
    soon = [delivery("s-1", date(2018, 10, 1))]
    checkins = [delivery(f"c-{i:02d}", None, "checkin") for i in range(82)]
    zh = render(overdue + soon + checkins, TODAY)[0].text.splitlines()
    assert zh[:4] == ["📋 督办事项提醒 · 2018-09-28", "", "🔴 已逾期 (45)", "🔴 o-00 编制规划 · 2018-08-01 · 逾期58天 · 牵头"]
    assert zh[36:] == ["🔴 o-33 编制规划 · 2018-09-03 · 逾期25天 · 牵头", "… 另有 11 项: /overdue",
                       "", "🟡 本周到期 (1)", "🟡 s-1 编制规划 · 2018-10-01 · 剩余3天 · 牵头", "", "⚪ 82 项长期任务请按月报进展: /tasks",
                       "", "详情:/task 编号 · 报进展:/progress 编号 内容"]
    en = render(overdue[:2] + checkins, TODAY, lang="en")[0].text.splitlines()
    assert en == ["📋 Task reminders · 2018-09-28", "", "🔴 Overdue (2)",
                  "🔴 o-00 编制规划 · 2018-08-01 · 58 days overdue · lead",
                  "🔴 o-01 编制规划 · 2018-08-02 · 57 days overdue · lead",
                  "", "⚪ 82 long-term items: please report progress monthly: /tasks",
                  "", "Details: /task ID · progress: /progress ID TEXT"]


def test_escalation_digest_by_unit_summarises_units_beyond_the_budget():
    ds = [delivery(f"e-{i:02d}", date(2018, 8, 1), "escalation", role="coordinator") for i in range(50)]
    leads = {f"e-{i:02d}": f"单位{i // 10}" for i in range(50)}
    zh = render(ds, TODAY, lead_units=leads)[0].text.splitlines()
    assert zh[:4] == ["📋 逾期事项(按单位) · 2018-09-28", "", "🏢 单位0 (10)", "🔴 e-00 编制规划 · 2018-08-01 · 逾期58天 · 督办 · 市城管局"]
    assert zh[-11:] == ["🏢 单位3 (10)"] + [f"🔴 e-3{i} 编制规划 · 2018-08-01 · 逾期58天 · 督办 · 市城管局" for i in range(5)] + [
        "… 另有 5 项: /overdue", "", "… 另有 1 个单位的 10 项: /overdue", "", "详情:/task 编号 · 报进展:/progress 编号 内容"]
    assert sum(1 for line in zh if line) <= 45
    en = render(ds, TODAY, lang="en", lead_units=leads)[0].text.splitlines()
    assert en[-3] == "… 10 more items of 1 units: /overdue"
