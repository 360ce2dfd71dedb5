"""Where a new request goes: home or host branch, then the category's routing rules."""
from __future__ import annotations

from sqlalchemy import select

from portal import toolkit as tk

from .models import CareRoutingRule


def route(member, where: str, category: str, consent_host: bool) -> tuple[object, str]:
    """The unit a request goes to, and why.

    Hometown needs go to the home branch. Host-city needs go to the host branch
    when the member consented to share with it (else to the home branch). Then
    the most specific routing rule of the category (deepest scope containing
    that unit) may send it elsewhere, e.g. unpaid wages to a legal-aid unit.
    """
    if where == "host" and member.host_unit is not None and consent_host:
        unit, routed_by = member.host_unit, "host"
    elif where == "host":
        unit, routed_by = member.home_unit, "no_host" if member.host_unit is None else "no_consent"
    else:
        unit, routed_by = member.home_unit, "home"
    rules = tk.db.session.scalars(select(CareRoutingRule).where(
        CareRoutingRule.category == category, CareRoutingRule.where.in_(("any", where)))).all()
    matching = [r for r in rules if r.target_unit is not None and not r.target_unit.is_closed
                and (r.scope_unit is None or r.scope_unit.contains(unit))]
    if matching:
        best = max(matching, key=lambda r: (r.scope_unit.depth if r.scope_unit else -1, -r.id))
        return best.target_unit, "rule"
    return unit, routed_by
