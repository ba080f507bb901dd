"""Table-driven tests of the deadline words (`taskbot.importer.deadlines`)."""

from datetime import date

import pytest

from taskbot.importer.deadlines import Deadline, cn_number, find_dates, parse_deadline

D = date

CASES = [
    # text, year context, due, due_text, every
    ("2018 年 12 月", 2018, D(2018, 12, 31), "2018年12月", None),
    ("2018年8月底前", 2018, D(2018, 8, 31), "2018年8月底前", None),
    ("2018年底前", 2018, D(2018, 12, 31), "2018年底前", None),
    ("2018年完成", 2018, D(2018, 12, 31), "2018年完成", None),
    ("2018年", 2018, D(2018, 12, 31), "2018年", None),
    ("2019年1月1日", 2018, D(2019, 1, 1), "2019年1月1日", None),
    ("上半年", 2018, D(2018, 6, 30), "上半年", None),
    ("下半年", 2019, D(2019, 12, 31), "下半年", None),
    ("2019年上半年", 2018, D(2019, 6, 30), "2019年上半年", None),
    ("一季度", 2018, D(2018, 3, 31), "一季度", None),
    ("第三季度", 2018, D(2018, 9, 30), "第三季度", None),
    ("2019年第二季度前", 2018, D(2019, 6, 30), "2019年第二季度前", None),
    ("10月21日—23日", 2018, D(2018, 10, 23), "10月21日—23日", None),
    ("2018年10月—12月", 2018, D(2018, 12, 31), "2018年10月—12月", None),
    ("2018—2020年", 2018, D(2020, 12, 31), "2018—2020年", None),
    ("9月底前", 2020, D(2020, 9, 30), "9月底前", None),
    ("2019 年 1 月底前", 2018, D(2019, 1, 31), "2019年1月底前", None),
    ("年底前", 2021, D(2021, 12, 31), "年底前", None),
    ("年内", 2018, D(2018, 12, 31), "年内", None),
    ("2018年9月中旬", 2018, D(2018, 9, 20), "2018年9月中旬", None),
    ("二〇一八年十二月底前", 2017, D(2018, 12, 31), "二〇一八年十二月底前", None),
    ("二〇一九年三月十五日以前", 2017, D(2019, 3, 15), "二〇一九年三月十五日以前", None),
    ("2018年8月之前", 2018, D(2018, 8, 31), "2018年8月之前", None),
    ("试点全程", 2018, None, "试点全程", None),
    ("长期", 2018, None, "长期", None),
    ("持续推进", 2018, None, "持续推进", None),
    ("", 2018, None, None, None),
    ("每月", 2018, None, "每月", "monthly"),
    ("每月1日前报市工商局", 2018, None, "每月1日前", "monthly:1"),
    ("每季度", 2018, None, "每季度", "quarterly"),
    ("每半年", 2018, None, "每半年", "half-yearly"),
    ("每年6月底前报送", 2018, None, "每年6月底前", "yearly:06-30"),
    ("每年3月15日前", 2018, None, "每年3月15日前", "yearly:03-15"),
    ("每周", 2018, None, "每周", "weekly"),
    ("2021年起每年", 2021, None, "2021年起每年", "yearly:12-31"),
    ("每季度末", 2021, None, "每季度末", "quarterly"),
    ("每月5日前报送", 2021, None, "每月5日前", "monthly:5"),
    ("2021年6月—2022年12月", 2021, D(2022, 12, 31), "2021年6月—2022年12月", None),
    ("2021年6月—12月", 2021, D(2021, 12, 31), "2021年6月—12月", None),
    ("2021年第三季度", 2021, D(2021, 9, 30), "2021年第三季度", None),
    ("二〇二一年十二月底前", 2021, D(2021, 12, 31), "二〇二一年十二月底前", None),
    # the forms of other governments' documents
    ("2021年底", 2021, D(2021, 12, 31), "2021年底", None),
    ("6月底前", 2021, D(2021, 6, 30), "6月底前", None),
    ("三季度末", 2021, D(2021, 9, 30), "三季度末", None),
    ("第四季度末前", 2021, D(2021, 12, 31), "第四季度末前", None),
    ("2021年—2023年", 2021, D(2023, 12, 31), "2021年—2023年", None),
    ("2021-2023年", 2021, D(2023, 12, 31), "2021-2023年", None),
    ("2021至2023年", 2021, D(2023, 12, 31), "2021至2023年", None),
    ("2021年1—6月", 2021, D(2021, 6, 30), "2021年1—6月", None),
    ("1—3月", 2022, D(2022, 3, 31), "1—3月", None),
    ("2021年12月31日前", 2021, D(2021, 12, 31), "2021年12月31日前", None),
    ("二〇二一年三月五日", 2020, D(2021, 3, 5), "二〇二一年三月五日", None),
    ("逐年推进", 2021, None, "逐年推进", None),
    ("长期坚持", 2021, None, "长期坚持", None),
    ("每年年底前", 2021, None, "每年年底前", "yearly:12-31"),
    ("每年年末", 2021, None, "每年年末", "yearly:12-31"),
    ("每年一季度", 2021, None, "每年一季度", "yearly:03-31"),
    ("每年上半年", 2021, None, "每年上半年", "yearly:06-30"),
    ("每月10日前", 2021, None, "每月10日前", "monthly:10"),
    ("每月底", 2021, None, "每月底", "monthly"),
    ("每半年", 2021, None, "每半年", "half-yearly"),
    # recurring words with no `every` form: kept as words, nothing made up
    ("每双月", 2021, None, "每双月", None),
    ("每两个月", 2021, None, "每两个月", None),
    ("每两个月通报一次", 2021, None, "每两个月", None),
    ("每旬", 2021, None, "每旬", None),
    ("每两年", 2021, None, "每两年", None),
]


@pytest.mark.parametrize("text,year,due,due_text,every", CASES)
def test_deadline_forms(text, year, due, due_text, every):
    d = parse_deadline(text, year)
    assert (d.due, d.due_text, d.every) == (due, due_text, every)
    assert d.milestones == ()


def test_phases_become_milestones():
    d = parse_deadline("2018 年完成招标和建设任务, 2019 年完成 40%的系统迁移, 2020 年完成 80%的系统迁移。", 2018)
    assert d.due == D(2020, 12, 31)
    assert d.milestones == ((D(2018, 12, 31), "完成招标和建设任务"), (D(2019, 12, 31), "完成40%的系统迁移"),
                            (D(2020, 12, 31), "完成80%的系统迁移"))
    assert d.milestones[-1][0] == d.due


def test_year_carries_to_later_phases():
    d = parse_deadline("2019年1月底前完成方案, 3月底前完成验收", 2018)
    assert [m[0] for m in d.milestones] == [D(2019, 1, 31), D(2019, 3, 31)]


def test_deadline_is_frozen_and_pure():
    d = parse_deadline("2018年底前", 2018)
    assert isinstance(d, Deadline)
    with pytest.raises(AttributeError):
        d.due = None  # type: ignore[misc]
    assert parse_deadline("2018年底前", 2018) == d


@pytest.mark.parametrize("s,n", [("12", 12), ("十二", 12), ("二十三", 23), ("十", 10), ("三十一", 31),
                                 ("二〇一八", 2018), ("二〇二〇", 2020), ("x", None)])
def test_cn_number(s, n):
    assert cn_number(s) == n


def test_find_dates_positions():
    text = "2018年8月底前制订方案,2019年完成"
    hits = find_dates(text, 2018)
    assert [(text[s:e], d) for s, e, d, _ in hits] == [("2018年8月底前", D(2018, 8, 31)), ("2019年", D(2019, 12, 31))]
