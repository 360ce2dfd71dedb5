"""The portal's one notion of time: local days in the organization's time zone.

The database stores naive UTC (:func:`portal.database.utcnow`). Everything a
person reads as a day — "today", a daily cap, a daily quiz, a form's default
date, an export's date, a PDF's issue date — is the local day in the
``TIMEZONE`` configuration (Asia/Shanghai by default). The API writes every
timestamp in local time with its offset (``2026-11-30T08:00:00+08:00``).

Services that take a ``now=`` parameter (a controllable clock for tests) pass
it through these helpers instead of reading the clock themselves.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from portal.database import utcnow

DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_zone() -> ZoneInfo:
    """The organization's time zone (``TIMEZONE`` config, Asia/Shanghai when unset or outside an app)."""
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return _zone(name or DEFAULT_TIMEZONE)


def to_local(at: datetime) -> datetime:
    """``at`` (naive UTC as stored, or aware) as an aware datetime in the local zone."""
    aware = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at
    return aware.astimezone(local_zone())


def local_now(now: datetime | None = None) -> datetime:
    """The local time now (or at the naive-UTC ``now`` a service was given), aware."""
    return to_local(now if now is not None else utcnow())


def local_today(now: datetime | None = None) -> date:
    """The local calendar day now (or at the naive-UTC ``now``)."""
    return local_now(now).date()


def local_date(at: datetime) -> date:
    """The local calendar day of the naive-UTC timestamp ``at``."""
    return to_local(at).date()


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The naive-UTC instants at which local ``day`` begins and the next day begins (half-open)."""
    zone = local_zone()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return (start.astimezone(timezone.utc).replace(tzinfo=None),
            end.astimezone(timezone.utc).replace(tzinfo=None))


def isoformat(at: datetime | date | None) -> str | None:
    """An API timestamp: local time with its offset (dates stay plain ``YYYY-MM-DD``); None stays None."""
    if at is None:
        return None
    if not isinstance(at, datetime):
        return at.isoformat()
    return to_local(at).isoformat()


def iso_duration(seconds: float) -> str:
    """``seconds`` (whole ones; below zero counts as none) as an ISO 8601 duration: ``PT1H4M30S``, ``PT0S`` (xAPI results)."""
    minutes, rest = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{rest}S"


def _last_day_of_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def months_later(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (earlier when negative), clamped to a shorter month's end.

    31 Jan + 1 → 28 (29) Feb; 29 Feb 2024 + 12 → 28 Feb 2025. The one way to compute "within N months" and
    "after N months" time limits.
    """
    index = day.year * 12 + day.month - 1 + months
    first = date(index // 12, index % 12 + 1, 1)
    return first.replace(day=min(day.day, _last_day_of_month(first).day))


def whole_months(start: date, today: date) -> int:
    """Whole calendar months from ``start`` to ``today`` (15 May → 14 June: 0; → 15 June: 1); 0 when later.

    A month is complete on the same day number, or on the last day of a shorter month.
    """
    if start >= today:
        return 0
    months = (today.year - start.year) * 12 + today.month - start.month
    if today.day < start.day and today != _last_day_of_month(today):
        months -= 1
    return max(months, 0)
