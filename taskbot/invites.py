"""Invite codes' bounds: how many uses and how long a code may live, and reading a lifetime such as `7d`.

Shared by the command line (`taskbot invite`) and the bot (`/invite`): every number a user types is
bounded here, with a message that says the range.
"""

from __future__ import annotations

import re
from datetime import timedelta

MAX_LIFETIME_DAYS = 365  # an invite code lives at most a year
MAX_USES = 1000
_DURATION = re.compile(r"([0-9]{1,12})([dhm])")


class DurationError(ValueError):
    """A bad lifetime: `msgid` and `values` give the message in any language; str() is the English."""

    def __init__(self, msgid: str, **values):
        super().__init__(msgid.format(**values))
        self.msgid, self.values = msgid, values


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m` into a timedelta (at most MAX_LIFETIME_DAYS); ValueError quotes the bad value."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    m = _DURATION.fullmatch(text) if len(text) <= 40 else None
    shown = repr(text) if len(text) <= 40 else repr(text[:40] + "…")
    if not m or int(m.group(1)) <= 0:
        raise DurationError("expires must be a positive number with d, h or m, got: {value}", value=shown)
    lifetime = timedelta(**{units[m.group(2)]: int(m.group(1))})
    if lifetime > timedelta(days=MAX_LIFETIME_DAYS):
        raise DurationError("expires must be at most {days}d ({hours}h, {minutes}m), got: {value}",
                            days=MAX_LIFETIME_DAYS, hours=MAX_LIFETIME_DAYS * 24,
                            minutes=MAX_LIFETIME_DAYS * 24 * 60, value=shown)
    return lifetime
