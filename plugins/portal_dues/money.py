"""Money and months for dues: strict ``Decimal`` parsing, rounding per the setting, ``"2026-11"`` months.

Money is never a float: amounts come in as strings like ``"4000.00"`` and leave as strings with two
decimals. A month is the first day of that month (``date``), written ``"2026-11"``.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from portal.toolkit import gettext as _

from portal import toolkit as tk

CENT = Decimal("0.01")
#: At most 10 digits before the point (what Numeric(12, 2) holds) and two after; no sign, no exponent.
_AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_ROUNDING = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}


def parse_amount(text, field: str = "amount") -> Decimal:
    """``"4000.00"`` → ``Decimal("4000.00")``; anything else (a float, ``"1e3"``, ``"-5"``, ``"12.345"``) → ``tk.Invalid``."""
    value = text.strip() if isinstance(text, str) else None
    if not value or not _AMOUNT.fullmatch(value):
        raise tk.Invalid(_("Please correct the marked fields."),
                         {field: _("Enter an amount in yuan like 40.00 (at most two decimals).")})
    return Decimal(value).quantize(CENT)


def round_yuan(value: Decimal) -> Decimal:
    """``value`` to the fen, rounded as the ``rounding`` setting says (half up, down or up)."""
    mode = _ROUNDING.get(tk.get_setting("dues", "rounding"), ROUND_HALF_UP)
    return Decimal(value).quantize(CENT, rounding=mode)


def money_text(value: Decimal | None) -> str | None:
    """An amount as the API writes it: ``"40.00"`` (None stays None)."""
    return None if value is None else str(Decimal(value).quantize(CENT))


def rate_text(value: Decimal | None) -> str | None:
    """A rate as the API writes it, without trailing zeros: ``"0.01"``, ``"0.005"``."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return text if "." in text else text + ".0"


def parse_month(text, field: str = "months") -> date:
    """``"2026-11"`` → ``date(2026, 11, 1)``; anything else → ``tk.Invalid`` on ``field``."""
    match = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise tk.Invalid(_("Please correct the marked fields."), {field: _("Enter a month like 2026-11.")})
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_key(d: date) -> str:
    """``date(2026, 11, 1)`` (or any day of that month) → ``"2026-11"``."""
    return f"{d.year:04d}-{d.month:02d}"


def month_start(d: date) -> date:
    """The first day of ``d``'s month."""
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s (negative: before)."""
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """How many months ``last`` lies after ``first`` (0 for the same month; negative when before)."""
    return (last.year - first.year) * 12 + last.month - first.month


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``last`` comes before ``first``)."""
    return [add_months(first, n) for n in range(months_between(first, last) + 1)]


def current_month(now: datetime | None = None) -> date:
    """The current month in local time (Asia/Shanghai), as its first day."""
    return month_start(tk.local_today(now))
