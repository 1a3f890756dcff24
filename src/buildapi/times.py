"""The one range every time parameter must lie in: epoch seconds, dates, days and the values
derived from them (the end of a day, a window's default start). Values in it fit datetime and
the 32-bit time columns, so no parameter can overflow either into a 500."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

from buildapi.errors import BadInput

MIN_EPOCH = 0
MAX_EPOCH = 2**31 - 1  # the time columns are 32-bit integers
RANGE = "epoch 0 to 2147483647 (1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z)"
# Days whose midnight is in range in some zone; checking them first keeps date arithmetic from
# overflowing (9999-12-31 + 1 day), and the epoch check then decides for the zone at hand.
_FIRST_DAY = datetime.date(1969, 12, 31)
_LAST_DAY = datetime.date(2038, 1, 19)
# A day in text: YYYY-MM-DD in ASCII digits (not the other forms date.fromisoformat takes).
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Epoch seconds in text: ASCII digits, maybe a fraction (no sign, exponent, spaces or `_`).
EPOCH = re.compile(r"[0-9]+(\.[0-9]+)?")


def checked_epoch(value: float, name: str, given: object = None) -> float:
    """`value` when in the range; otherwise a 400 naming `name`, the range and what was given."""
    if not MIN_EPOCH <= value <= MAX_EPOCH:  # NaN is refused too: it compares false
        shown = value if given is None else given
        raise BadInput(f"{name} must be within {RANGE}, not {shown!r}")
    return value


def parse_epoch(text: str, name: str, forms: str = "epoch seconds") -> float:
    """Epoch seconds from text (int when integral); `forms` says what `name` may be otherwise."""
    if not EPOCH.fullmatch(text):
        raise BadInput(f"{name} must be {forms}, not {text!r}")
    value = float(text)
    checked_epoch(value, name, text)
    return int(value) if value.is_integer() else value


def parse_day(text: str, name: str) -> datetime.date:
    """A YYYY-MM-DD day; a 400 naming `name` otherwise."""
    if not DATE.fullmatch(text):
        raise BadInput(f"{name} must be YYYY-MM-DD, not {text!r}")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{name} must be YYYY-MM-DD: {text!r} is not a valid date") from None


def midnight(day: datetime.date, zone: ZoneInfo, name: str, *, days_later: int = 0) -> int:
    """Epoch seconds of midnight in `zone`, `days_later` days after `day`, checked."""
    if not _FIRST_DAY <= day <= _LAST_DAY:
        raise BadInput(f"{name} must be within {RANGE}, not {day.isoformat()!r}")
    later = day + datetime.timedelta(days=days_later)
    moment = datetime.datetime.combine(later, datetime.time(), zone).timestamp()
    return int(checked_epoch(moment, name, day.isoformat()))
