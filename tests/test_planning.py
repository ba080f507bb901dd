"""The planner against hand-worked cases: holiday shifts, month ends, leap day, milestones, duties."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from taskbot.planning import Agenda, plan, reminders, simulate
from taskbot.recurrence import parse_every
from taskbot.registry import Document, Milestone, Policy, Registry, Settings, Task
from taskbot.units import Group, Unit, UnitDirectory

TZ = ZoneInfo("Asia/Shanghai")
DOC = "郑政文〔2018〕143号"


def units():
    return UnitDirectory(
        [Unit("市城管局", "郑州市城市管理局", ("城管局",), "department"),
         Unit("市规划局", "郑州市城乡规划局", (), "department"),
         Unit("中原区", "郑州市中原区", (), "district"),
         Unit("二七区", "郑州市二七区", (), "district")],
        [Group("各区政府", (), ("中原区", "二七区")), Group("市政府有关部门", (), ())])


def registry(*tasks, **settings):
    return Registry(Settings(**settings), {DOC: Document(DOC, "方案", date(2018, 8, 7), "郑州市人民政府")},
                    tuple(tasks), units())


def task(tid="cw-01", **kw):
    kw.setdefault("lead", ("市城管局",))
    return Task(id=tid, doc=DOC, title=kw.pop("title", "编制规划"), **kw)


def at(day, hh=9, mm=0):
    return datetime.combine(day, time(hh, mm), TZ)


def window(reg, first, last, states=None):
    start = at(first, 0) - timedelta(microseconds=1)
    return [(r.at.date(), r.kind, r.item) for r in reminders(reg, states or {}, start, at(last, 23, 59))]


# (due, expected (send day, kind) pairs before the first escalation), worked by hand with the 2018 calendar
CASES = [
    # Friday 2018-11-30: plain weekdays; 30 days before is Wed 10-31
    (date(2018, 11, 30), [(date(2018, 10, 31), "before:30"), (date(2018, 11, 16), "before:14"),
                          (date(2018, 11, 23), "before:7"), (date(2018, 11, 27), "before:3"),
                          (date(2018, 11, 29), "before:1"), (date(2018, 11, 30), "due"),
                          (date(2018, 12, 3), "overdue")]),
    # Mon 2018-10-08, after the National Day week: 10-05 (before:3), 10-07 (before:1) are holidays
    # -> previous working day Sat 09-29/Sun 09-30 (adjusted workdays); 09-24 (before:14) is Mid-Autumn
    (date(2018, 10, 8), [(date(2018, 9, 7), "before:30"), (date(2018, 9, 21), "before:14"),
                         (date(2018, 9, 30), "before:1"), (date(2018, 10, 8), "due"),
                         (date(2018, 10, 9), "overdue")]),
    # Mon 2018-12-31 is a holiday (New Year, adjusted): due and before:1 fall back to Sat 12-29, a workday;
    # the first working day after it is 2019-01-02
    (date(2018, 12, 31), [(date(2018, 11, 30), "before:30"), (date(2018, 12, 17), "before:14"),
                          (date(2018, 12, 24), "before:7"), (date(2018, 12, 28), "before:3"),
                          (date(2018, 12, 29), "due"), (date(2019, 1, 2), "overdue")]),
    # leap day 2020-02-29 is a Saturday: due moves back to Fri 02-28, before:1 too (nearer wins)
    # (01-30 is in the extended 2020 Spring Festival break: back to 01-23)
    (date(2020, 2, 29), [(date(2020, 1, 23), "before:30"), (date(2020, 2, 14), "before:14"),
                         (date(2020, 2, 21), "before:7"), (date(2020, 2, 26), "before:3"),
                         (date(2020, 2, 28), "due"), (date(2020, 3, 2), "overdue")]),
]


@pytest.mark.parametrize("due,expected", CASES, ids=[str(c[0]) for c in CASES])
def test_deadline_reminders_follow_the_working_calendar(due, expected):
    reg = registry(task(due=due))
    got = [(d, k) for d, k, _ in window(reg, due - timedelta(days=45), expected[-1][0]) if k != "escalation"]
    assert got == expected


def test_overdue_repeats_every_seven_days_on_working_days_and_escalates_after_three():
    reg = registry(task(due=date(2018, 9, 20)))
    got = [(d, k) for d, k, _ in window(reg, date(2018, 9, 21), date(2018, 10, 20))]
    assert got == [
        (date(2018, 9, 21), "overdue"),      # first working day after the due date
        (date(2018, 9, 25), "escalation"),   # due+3 = Sun 09-23; 09-24 Mid-Autumn -> Tue 09-25
        (date(2018, 9, 28), "overdue"),
        (date(2018, 10, 8), "escalation"),   # 09-25+7 = 10-02, National Day week -> Mon 10-08
        (date(2018, 10, 8), "overdue"),      # 09-21+14 = 10-05 -> Mon 10-08
        (date(2018, 10, 9), "escalation"),   # 09-25+14: the grid is kept, so no drift
        (date(2018, 10, 12), "overdue"),
        (date(2018, 10, 16), "escalation"),
        (date(2018, 10, 19), "overdue"),
    ]


def test_workdays_only_false_keeps_calendar_days():
    reg = registry(task(due=date(2018, 10, 7), policy=Policy(before_days=(1, 0), workdays_only=False)))
    got = window(reg, date(2018, 10, 1), date(2018, 10, 9))
    assert got[:3] == [(date(2018, 10, 6), "before:1", "cw-01"), (date(2018, 10, 7), "due", "cw-01"),
                       (date(2018, 10, 8), "overdue", "cw-01")]


def test_settings_overrides_add_holidays_and_workdays():
    # Fri 2018-11-30 declared a holiday locally; Sat 2018-11-24 a workday
    reg = registry(task(due=date(2018, 11, 30), policy=Policy(before_days=(6, 0))),
                   holidays=frozenset({date(2018, 11, 30)}), workdays=frozenset({date(2018, 11, 24)}))
    got = [(d, k) for d, k, _ in window(reg, date(2018, 11, 20), date(2018, 11, 30))]
    assert got == [(date(2018, 11, 24), "before:6"), (date(2018, 11, 29), "due")]


def test_milestones_get_reminders_and_their_overdue_stops_at_the_next_phase():
    t = task(due=date(2019, 12, 31), policy=Policy(before_days=(0,)),
             milestones=(Milestone(date(2018, 12, 28), "完成招标"), Milestone(date(2019, 12, 31), "完成迁移")))
    got = window(registry(t), date(2018, 12, 1), date(2019, 3, 1))
    m1 = [(d, k) for d, k, item in got if item == "cw-01#1"]
    assert m1[0] == (date(2018, 12, 28), "due")
    assert [k for _, k in m1[1:]] == ["overdue"] * len(m1[1:]) and len(m1) > 3
    # the last phase equals the task's due: it is the task itself, not a second item
    assert not [1 for _, _, item in got if item == "cw-01#2"]


def test_recurring_duty_reminds_before_each_occurrence():
    t = task(every=parse_every("monthly:25"), policy=Policy())
    got = window(registry(t), date(2018, 9, 1), date(2018, 11, 30))
    # 7 days before (largest before_days <= a quarter of the period) and on the day; 11-25 is Sunday
    assert got == [(date(2018, 9, 18), "recurring", "cw-01@2018-09-25"), (date(2018, 9, 25), "recurring", "cw-01@2018-09-25"),
                   (date(2018, 10, 18), "recurring", "cw-01@2018-10-25"), (date(2018, 10, 25), "recurring", "cw-01@2018-10-25"),
                   (date(2018, 11, 16), "recurring", "cw-01@2018-11-25"), (date(2018, 11, 23), "recurring", "cw-01@2018-11-25")]


def test_yearly_and_quarterly_duties():
    y = task("a-1", every=parse_every("yearly:06-30"))
    q = task("a-2", every=parse_every("quarterly"), policy=Policy(before_days=(0,)))
    got = window(registry(y, q), date(2019, 1, 1), date(2019, 12, 31))
    assert [(d, i) for d, k, i in got if i.startswith("a-2")] == [
        (date(2019, 3, 29), "a-2@2019-03-31"), (date(2019, 6, 28), "a-2@2019-06-30"),
        (date(2019, 9, 30), "a-2@2019-09-30"), (date(2019, 12, 31), "a-2@2019-12-31")]
    assert [(d, i) for d, k, i in got if i.startswith("a-1")] == [
        (date(2019, 5, 31), "a-1@2019-06-30"), (date(2019, 6, 28), "a-1@2019-06-30")]


def test_undated_task_gets_a_monthly_checkin_on_the_first_working_day():
    got = window(registry(task()), date(2018, 9, 1), date(2018, 12, 31))
    assert got == [(date(2018, 9, 3), "checkin", "cw-01"), (date(2018, 10, 8), "checkin", "cw-01"),
                   (date(2018, 11, 1), "checkin", "cw-01"), (date(2018, 12, 3), "checkin", "cw-01")]


def test_done_and_withdrawn_items_get_nothing():
    class State:
        def __init__(self, status, withdrawn=False):
            self.status, self.withdrawn = status, withdrawn

    reg = registry(task("a-1", due=date(2018, 9, 28)), task("a-2", due=date(2018, 9, 28)), task("a-3", due=date(2018, 9, 28)))
    states = {"a-1": State("done"), "a-2": State("open", withdrawn=True)}
    assert {i for _, _, i in window(reg, date(2018, 9, 1), date(2018, 10, 31), states)} == {"a-3"}


def test_recipients_expand_groups_and_carry_roles():
    t = task(due=date(2018, 11, 30), lead=("市城管局",), cooperating=("各区政府",), policy=Policy(before_days=(0,)))
    members = {"市城管局": [1], "中原区": [2], "二七区": [3, 1]}
    out = plan(registry(t, coordinators=(99,)), {}, members, at(date(2018, 11, 29)), at(date(2018, 11, 30)))
    assert sorted((d.chat_id, d.unit, d.role, d.reminder.kind) for d in out) == [
        (1, "市城管局", "lead", "due"), (2, "中原区", "cooperating", "due"), (3, "二七区", "cooperating", "due")]


def test_escalation_goes_to_coordinators():
    reg = registry(task(due=date(2018, 11, 30)))
    out = plan(reg, {}, {}, at(date(2018, 12, 2)), at(date(2018, 12, 3)), coordinators=(99, 98))  # due+3: Mon 12-03
    assert sorted((d.chat_id, d.role, d.reminder.kind) for d in out) == [(98, "coordinator", "escalation"),
                                                                       (99, "coordinator", "escalation")]


def test_simulate_rows_have_the_jsonl_contract():
    rows = simulate(registry(task(due=date(2018, 11, 30), lead=("各区政府",), policy=Policy(before_days=(0,)))),
                    date(2018, 11, 30), date(2018, 11, 30))
    assert rows == [
        {"at": "2018-11-30T09:00:00+08:00", "unit": "中原区", "task": "cw-01", "item": "cw-01", "kind": "due",
         "due": "2018-11-30", "role": "lead", "title": "编制规划"},
        {"at": "2018-11-30T09:00:00+08:00", "unit": "二七区", "task": "cw-01", "item": "cw-01", "kind": "due",
         "due": "2018-11-30", "role": "lead", "title": "编制规划"}]


def test_agenda_pops_what_is_due_in_order_and_matches_the_planner():
    reg = registry(*(task(f"t-{i}", due=date(2018, 9, 1) + timedelta(days=i)) for i in range(40)))
    start = at(date(2018, 8, 20), 0)
    agenda = Agenda(reg, {}, start)
    popped, now = [], start
    while now < at(date(2018, 11, 1)):
        now += timedelta(hours=6)
        popped += agenda.pop_due(now, {})
    expected = list(reminders(reg, {}, start, now))
    assert len(popped) == len(expected) > 200
    assert sorted((r.at, r.item, r.kind) for r in popped) == sorted((r.at, r.item, r.kind) for r in expected)
    assert [r.at for r in popped] == sorted(r.at for r in popped)
