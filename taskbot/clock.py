"""The application's one clock: real time, optionally started at another instant (`--clock`)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall time shifted so that it read `start` when created; it runs forward in real time."""

    def __init__(self, start: datetime | None = None, *, frozen: bool = False):
        if start is not None and start.tzinfo is None:
            raise ValueError(f"the clock needs an aware datetime, got: {start!r}")
        real = self._real()
        self._offset = (start - real) if start is not None else timedelta(0)
        self._frozen = start if frozen else None

    @staticmethod
    def _real() -> datetime:
        return datetime.fromtimestamp(time.time(), timezone.utc)

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return self._real() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward (tests and demos); returns the new time."""
        if self._frozen is not None:
            self._frozen += delta
        else:
            self._offset += delta
        return self.now()

    def to_real(self, at: datetime) -> datetime:
        """The real instant at which this clock will read `at` (for timers)."""
        return at - self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset
