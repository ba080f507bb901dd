"""Recurring duties (`every`): parsing the rule and iterating its occurrences."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from .diagnostics import show

EVERY_FORMS = ("weekly", "monthly", "monthly:DD", "quarterly", "half-yearly", "yearly:MM-DD")
_RULE = re.compile(r"^(weekly|monthly|quarterly|half-yearly|yearly)(?::(\d{1,2}(?:-\d{1,2})?))?$")


@dataclass(frozen=True, slots=True)
class Every:
    """A recurrence: `freq` with the day it falls on (the period's last day when `day` is 0)."""

    freq: str
    month: int = 0
    day: int = 0

    def __str__(self) -> str:
        if self.freq == "yearly":
            return f"yearly:{self.month:02d}-{self.day:02d}"
        return f"{self.freq}:{self.day}" if self.day else self.freq

    def occurrences(self, start: date, end: date):
        """Dates of this duty in [start, end], in order."""
        if self.freq == "weekly":
            d = start + timedelta(days=(4 - start.weekday()) % 7)  # Fridays
            while d <= end:
                yield d
                d += timedelta(days=7)
            return
        step = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}[self.freq]
        year, month = start.year, start.month
        if self.freq == "yearly":
            month = self.month
            if date(year, month, _clamp(year, month, self.day)) < start:
                year += 1
        elif step > 1:  # period ends: Mar/Jun/Sep/Dec or Jun/Dec
            month = ((month - 1) // step + 1) * step
        while True:
            d = date(year, month, _clamp(year, month, self.day))
            if d > end:
                return
            if d >= start:
                yield d
            month += step
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1


def _clamp(year: int, month: int, day: int) -> int:
    last = calendar.monthrange(year, month)[1]
    return last if day == 0 else min(day, last)


def parse_every(text: str) -> Every:
    """Parse `monthly`, `monthly:25`, `quarterly`, `yearly:06-30`...; ValueError quotes the bad value."""
    m = _RULE.match(text.strip()) if isinstance(text, str) and len(text) <= 64 else None
    shown = show(text)  # the bad value quoted short, however long or deep it is
    if not m:
        raise ValueError(f"cannot parse every {shown}; valid forms: {', '.join(EVERY_FORMS)}")
    freq, arg = m.group(1), m.group(2)
    if freq == "yearly":
        if not arg or "-" not in arg:
            raise ValueError(f"yearly needs a month and day, got {shown}; write e.g. yearly:06-30")
        month, day = (int(x) for x in arg.split("-"))
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2020, month)[1]:
            raise ValueError(f"impossible month-day in every {shown}")
        return Every(freq, month, day)
    if arg is None:
        return Every(freq)
    if freq == "weekly" or "-" in arg or not 1 <= int(arg) <= 31:
        raise ValueError(f"cannot parse every {shown}; valid forms: {', '.join(EVERY_FORMS)}")
    return Every(freq, 0, int(arg))


def rrule(every: Every, until: date | None = None) -> dict:
    """The RRULE of a duty, matching `Every.occurrences` (a day past a month's end means its last day)."""
    if every.freq == "weekly":
        rule = {"FREQ": "WEEKLY", "BYDAY": "FR"}
    else:
        rule = {"FREQ": "YEARLY" if every.freq == "yearly" else "MONTHLY"}
        months = {"quarterly": [3, 6, 9, 12], "half-yearly": [6, 12], "yearly": [every.month]}.get(every.freq)
        if months:
            rule["BYMONTH"] = months
        if every.day == 0:
            rule["BYMONTHDAY"] = -1
        elif every.day <= 28:
            rule["BYMONTHDAY"] = every.day
        else:  # monthly:31 is the 30th in April and the 28th/29th in February
            rule["BYMONTHDAY"] = list(range(28, every.day + 1))
            rule["BYSETPOS"] = -1
    if until is not None:
        rule["UNTIL"] = until
    return rule


def describe_every(every: Every) -> str:
    """The duty in Chinese words, e.g. 每月25日."""
    day = "最后一天" if every.day == 0 else f"{every.day}日"
    if every.freq == "weekly":
        return "每周五"
    if every.freq == "monthly":
        return f"每月{day}"
    if every.freq == "quarterly":
        return "每季度末" if every.day == 0 else f"每季度末月{day}"
    if every.freq == "half-yearly":
        return "每半年末" if every.day == 0 else f"每年6月、12月{day}"
    return f"每年{every.month}月{every.day}日"
