"""Dashboard panels: "My dues" (this month paid or not, months in arrears); a unit's month at a glance."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_dues import branch_reports, money, statement


def member_widgets(account: tk.Account) -> list[tk.Widget]:
    """"My dues": this month's status and the months in arrears; nothing without a member profile."""
    member = account.member
    if member is None:
        return []
    month, months_unpaid = statement.glance(member, now=tk.utcnow())
    return [tk.Widget(_l("My dues"), "dues/widget_member.html", {"month": month, "months_unpaid": months_unpaid},
                      order=34)]


def unit_widgets(account: tk.Account, unit: tk.OrgUnit) -> list[tk.Widget]:
    """For those who keep the unit's dues book: how many members with dues set have paid this month (one statement).

    Who is behind, and by how much, is on the arrears page the panel links to (that count needs every
    member's schedule: too much for a dashboard).
    """
    if not tk.can("dues.manage", unit, account):
        return []
    month = money.current_month(tk.utcnow())
    counts = branch_reports.month_counts(unit, month)
    return [tk.Widget(_l("Dues this month"), "dues/widget_unit.html", {
        "unit": unit, "month": money.month_key(month), "due": counts["with_profile"], "paid": counts["paid"],
    }, order=35)]
