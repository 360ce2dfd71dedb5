"""Local days and the integer keys of the totals periods.

Timestamps are stored as naive UTC; days, months, quarters and years are the
portal's local ones (``TIMEZONE``, Asia/Shanghai by default), so "today" ends at
local midnight. A day is keyed YYYYMMDD; its month, quarter and year keys are
derived from that integer with plain arithmetic, which both SQLite and
PostgreSQL do the same way (used by the recompute command and the benchmark).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

PERIOD_LABEL_KEYS = ("day", "month", "quarter", "year", "all")


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE", "Asia/Shanghai") if has_app_context() else "Asia/Shanghai"
    return _zone(name or "UTC")


def local_date(at: datetime) -> date:
    """The local calendar day of a naive-UTC timestamp."""
    return at.replace(tzinfo=timezone.utc).astimezone(zone()).date()


def local_midnight_utc(day: date) -> datetime:
    """The naive-UTC instant at which local ``day`` begins."""
    return datetime(day.year, day.month, day.day, tzinfo=zone()).astimezone(timezone.utc).replace(tzinfo=None)


def day_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def key_date(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def period_keys(dkey: int) -> dict[str, int]:
    """``{period code: key}`` of the day ``dkey`` (codes as in :data:`models.PERIOD_CODES`)."""
    year, month = dkey // 10000, dkey // 100 % 100
    return {"d": dkey, "m": year * 100 + month, "q": year * 10 + (month - 1) // 3 + 1, "y": year, "a": 0}


def current_key(period: str, now: datetime) -> int:
    """The key of the period (``day`` … ``all``) that contains ``now``."""
    from portal_points.models import PERIOD_CODES

    return period_keys(day_key(local_date(now)))[PERIOD_CODES[period]]


def period_bounds(period: str, now: datetime) -> tuple[date, date]:
    """First and last local day of the period containing ``now`` (``all``: from 2000)."""
    today = local_date(now)
    if period == "day":
        return today, today
    if period == "month":
        start = today.replace(day=1)
    elif period == "quarter":
        start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    elif period == "year":
        start = today.replace(month=1, day=1)
    else:
        return date(2000, 1, 1), today
    return start, today


def last_months(now: datetime, count: int = 12) -> list[int]:
    """Month keys (YYYYMM) of the last ``count`` months, oldest first, ending with the current one."""
    today = local_date(now)
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(year * 100 + month)
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def days_between(start: date, end: date) -> int:
    return (end - start).days


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)
