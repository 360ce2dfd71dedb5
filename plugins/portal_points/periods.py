"""Local days and the integer keys of the totals periods.

Timestamps are stored as naive UTC; days, months, quarters and years are the
portal's local ones (:func:`tk.local_date`, Asia/Shanghai by default), so
"today" ends at local midnight. A day is keyed YYYYMMDD; its month, quarter and year keys are
derived from that integer with plain arithmetic, which both SQLite and
PostgreSQL do the same way (used by the recompute command and the benchmark).
"""
from __future__ import annotations

from datetime import date, datetime

from portal import toolkit as tk

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

    return period_keys(day_key(tk.local_date(now)))[PERIOD_CODES[period]]


def period_bounds(period: str, now: datetime) -> tuple[date, date]:
    """First and last local day of the period containing ``now`` (``all``: from 2000)."""
    today = tk.local_date(now)
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
    today = tk.local_date(now)
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(year * 100 + month)
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def month_label(key: int) -> str:
    """``202603`` → ``3`` (January shows the year too: ``2026-1``)."""
    year, month = divmod(key, 100)
    return f"{year}-{month}" if month == 1 else str(month)
