"""Locale-aware formatting used by templates (one way to format dates and numbers)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from flask_babel import format_date, format_datetime, format_decimal, get_locale

from portal.timeutil import local_date


def fmt_date(value: date | datetime | None, style: str = "medium") -> str:
    """A date in the user's locale ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)  # the local day, not the UTC one
    return format_date(value, style)


def fmt_datetime(value: datetime | None, style: str = "medium") -> str:
    """A date and time in the user's locale and the portal's time zone ('' for None)."""
    return "" if value is None else format_datetime(_aware(value), style)


def fmt_number(value: Any) -> str:
    """A number with the locale's grouping."""
    return "" if value is None else format_decimal(value)


def _aware(value: datetime) -> datetime:
    # Timestamps are stored as naive UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def html_lang() -> str:
    """The ``lang`` attribute for the page."""
    locale = get_locale()
    if locale is None:
        return "zh-CN"
    return "zh-CN" if locale.language == "zh" else locale.language
