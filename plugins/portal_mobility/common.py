"""Small helpers every mobility module shares: settings, input cleaning, dates, places.

Every function of the mobility modules that changes something takes ``now`` (naive UTC) so tests can
control the clock, writes in the caller's transaction and leaves the commit to the caller. Rule
violations raise a :class:`tk.ServiceError` (``tk.Invalid`` naming the offending fields, ``tk.Conflict``
for a record in the wrong state, ``tk.Forbidden``) with a translated message.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from portal import toolkit as tk

PLUGIN = "mobility"


def setting(key: str) -> Any:
    return tk.get_setting(PLUGIN, key)


def clean_text(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


def day_of(now: datetime) -> date:
    """The local day (the organization's time zone) of the naive-UTC ``now``."""
    return tk.local_date(now)


def parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def unit_province(unit) -> str | None:
    """The unit's province, or its nearest ancestor's."""
    while unit is not None:
        if unit.province:
            return unit.province
        unit = unit.parent
    return None


def unit_city(unit) -> str | None:
    while unit is not None:
        if unit.city:
            return unit.city
        unit = unit.parent
    return None
