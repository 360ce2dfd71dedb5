"""Dashboard panels: a member's next meetings; a unit's meetings held against the minimum this quarter."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_meetings import compliance, meetings

#: How many upcoming meetings the member's panel lists.
UPCOMING_SHOWN = 3


def member_widgets(account: tk.Account) -> list[tk.Widget]:
    """"Upcoming meetings" (the next three, at home and at the host branch); nothing without a member profile."""
    member = account.member
    if member is None:
        return []
    upcoming = meetings.upcoming_for_member(member, now=tk.utcnow(), limit=UPCOMING_SHOWN)
    rows = [(meeting, meeting.unit.contains(member.home_unit)) for meeting in upcoming]
    return [tk.Widget(_l("Upcoming meetings"), "meetings/widget_member.html", {"meetings": rows}, order=30)]


def unit_widgets(account: tk.Account, unit: tk.OrgUnit) -> list[tk.Widget]:
    """For those who manage the unit's meetings: each required kind, held vs required this quarter."""
    if not tk.can("meetings.manage", unit, account):
        return []
    period = compliance.current_period("quarter", today=tk.local_today())
    rows = compliance.unit_compliance(unit, period)
    if not rows:
        return []  # a unit that need not hold meetings (a committee above the branches)
    return [tk.Widget(_l("Meetings this quarter"), "meetings/widget_unit.html",
                      {"unit": unit, "period": period, "rows": rows}, order=30)]
