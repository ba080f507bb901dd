"""China's working-day calendar: statutory holidays and adjusted workdays, plus local overrides."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _china(year: int):
    return holidays.China(years=year, categories=(holidays.PUBLIC,))


@lru_cache(maxsize=64)
def _adjusted_workdays(year: int) -> frozenset[date]:
    """Weekend days that are working days (调休上班) in `year`, from the holidays library."""
    cal = holidays.China(years=year, categories=(holidays.PUBLIC,))
    return frozenset(getattr(cal, "weekend_workdays", ()) or ())


class WorkCalendar:
    """Answers whether a day is a working day in mainland China, with overrides from settings."""

    def __init__(self, extra_holidays=(), extra_workdays=()):
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self._cache: dict[date, bool] = {}

    def is_workday(self, day: date) -> bool:
        hit = self._cache.get(day)
        if hit is not None:
            return hit
        if day in self.extra_workdays:
            ok = True
        elif day in self.extra_holidays or day in _china(day.year):
            ok = False
        elif day in _adjusted_workdays(day.year):
            ok = True
        else:
            ok = day.weekday() < 5
        self._cache[day] = ok
        return ok

    def previous_workday(self, day: date) -> date:
        """`day` itself when it is a working day, else the working day before it."""
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def next_workday(self, day: date) -> date:
        """`day` itself when it is a working day, else the working day after it."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def first_workday_of_month(self, year: int, month: int) -> date:
        return self.next_workday(date(year, month, 1))
