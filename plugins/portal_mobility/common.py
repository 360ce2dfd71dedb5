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


def may_manage(member) -> bool:
    """The home side (not the member themself, not the host): approve, return, review, contacts."""
    return member.home_unit is not None and tk.can("mobility.manage", member.home_unit)


def may_view(member) -> bool:
    """Who may see a member's mobility record and certificates: the member, the home and the host side."""
    return tk.can_see_member(member, "mobility.view")


def may_act_for(member, account) -> bool:
    """The member themself or their home side: correct or withdraw a registration, add the photo, register the return."""
    return member.account_id == account.id or may_manage(member)


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


#: Whole calendar months from one day to another (the toolkit's one rule).
months_between = tk.whole_months


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


def unit_place_code(unit) -> str | None:
    """The unit's place code, or its nearest ancestor's (a branch without a place is where its committee is)."""
    while unit is not None:
        if unit.place_code:
            return unit.place_code
        unit = unit.parent
    return None


def unit_province_code(unit) -> str | None:
    """The province "in the province" compares against: from the unit's (or an ancestor's) place code,
    else from its province text."""
    code = unit_place_code(unit)
    if code is None:
        text = unit_province(unit)
        code = tk.place_from_text(text) if text else None
    return tk.province_code(code)


def lies_within(code: str | None, area: str | None) -> bool:
    """True when the place ``code`` lies in ``area`` (a province, city or county code): 360102 lies in 360100."""
    if not code or not area:
        return False
    significant = area.rstrip("0")
    significant += "0" * (len(significant) % 2)  # whole two-digit levels: 110000 → "11", 360100 → "3601"
    return code.startswith(significant)


def place_text(code: str | None, *fallback: str | None) -> str:
    """The name to show for a place: the code's full name, else the old text kept with the record."""
    return tk.place_name(code) or " ".join(part for part in fallback if part)


def set_current_place(outflow, code: str | None) -> None:
    """The one place where the member of ``outflow`` is now: on the outflow (code) and the member (text).

    Old rows without a code keep the outflow's text on the member.
    """
    outflow.current_place_code = code
    province, city, _county = tk.place_parts(code)
    member = outflow.member
    member.current_province = province or outflow.destination_province
    member.current_city = city or outflow.destination_city
