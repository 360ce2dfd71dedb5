"""Locale-aware formatting used by templates (one way to format dates and numbers)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

from babel import Locale, dates
from flask_babel import format_date, format_datetime, format_decimal

from portal.i18n import current_locale
from portal.timeutil import local_date, to_local

#: Babel's named styles; any other ``style`` is a date pattern (``"HH:mm"``).
STYLES = frozenset({"short", "medium", "long", "full"})


def fmt_date(value: date | datetime | None, style: str = "medium") -> str:
    """A date in the user's locale ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)  # the local day, not the UTC one
    locale = current_locale()
    if locale is None:  # outside an app: Babel's default locale
        return format_date(value, style)
    return _date_pattern(style, locale).apply(value, locale)


def fmt_datetime(value: datetime | None, style: str = "medium") -> str:
    """A date and time in the user's locale and the portal's time zone ('' for None)."""
    if value is None:
        return ""
    locale = current_locale()
    if locale is None:
        return format_datetime(_aware(value), style)
    local = to_local(value)
    glue, time_pattern, date_pattern = _datetime_patterns(style, locale)
    if date_pattern is None:  # a custom pattern, applied to the whole datetime as Babel does
        return time_pattern.apply(local, locale)
    day = local.date()
    # As babel.dates.format_time: the time of day, with the day for the zone's name.
    text = glue.replace("{0}", time_pattern.apply(local.timetz(), locale, reference_date=day))
    return text.replace("{1}", date_pattern.apply(day, locale))


# What babel.dates.format_date/format_datetime look up and parse on every call,
# once per (style, locale): list pages format a date or two per row.

@lru_cache(maxsize=64)
def _date_pattern(style: str, locale: Locale) -> dates.DateTimePattern:
    return dates.parse_pattern(dates.get_date_format(style, locale) if style in STYLES else style)


@lru_cache(maxsize=64)
def _datetime_patterns(style: str, locale: Locale) -> tuple[str, dates.DateTimePattern, dates.DateTimePattern | None]:
    """(glue, time pattern, date pattern) as babel.dates.format_datetime combines them; a custom pattern is whole."""
    if style not in STYLES:
        return "{0}", dates.parse_pattern(style), None
    glue = str(dates.get_datetime_format(style, locale)).replace("'", "")
    return (glue, dates.parse_pattern(dates.get_time_format(style, locale)),
            dates.parse_pattern(dates.get_date_format(style, locale)))


def fmt_number(value: Any) -> str:
    """A number with the locale's grouping."""
    return "" if value is None else format_decimal(value)


def _aware(value: datetime) -> datetime:
    # Timestamps are stored as naive UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def html_lang() -> str:
    """The ``lang`` attribute for the page."""
    locale = current_locale()
    if locale is None:
        return "zh-CN"
    return "zh-CN" if locale.language == "zh" else locale.language
