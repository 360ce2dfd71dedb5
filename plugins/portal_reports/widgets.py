"""Dashboard panels: "My report" (the current period: sent or not, and by when) and, for readers, how many
reports wait unread in their units."""
from __future__ import annotations

from datetime import timedelta

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_reports import schedule
from portal_reports.models import Report

db = tk.db


def member_widgets(account: tk.Account) -> list[tk.Widget]:
    """"My report" for a member who writes reports; "Reports to read" for holders of ``reports.read``."""
    widgets = []
    member = account.member
    if member is not None:
        widgets += _my_report(member)
    if tk.can("reports.read", account=account):
        widgets += _to_read(account)
    return widgets


def _my_report(member: tk.Member) -> list[tk.Widget]:
    """The current period, its last day and where its report stands (two queries)."""
    period = schedule.current_period(member, tk.local_today())
    if period is None:
        return []
    status = db.session.scalar(select(Report.status).where(Report.member_id == member.id,
                                                           Report.period == period.key))
    return [tk.Widget(_l("My report"), "reports/widget_member.html",
                      {"period": period.key, "last_day": period.end - timedelta(days=1),
                       "status": status}, order=36)]


def _to_read(account: tk.Account) -> list[tk.Widget]:
    """How many reports sent to the account's units nobody has read yet (one statement).

    Sent from the units, and shared with them as host by members of other units: two disjoint counts, each
    read from its covering index (an OR of them read the whole host index on PostgreSQL, ~230 ms; issue 20).
    """
    units = select(tk.OrgUnit.id).where(tk.unit_scope("reports.read", account))
    unread = Report.status == "submitted"
    home = select(func.count()).where(Report.home_unit_id.in_(units), unread)
    host = select(func.count()).where(Report.host_unit_id.in_(units), Report.share_with_host, unread,
                                      Report.home_unit_id.not_in(units))
    waiting = db.session.scalar(select(home.scalar_subquery() + host.scalar_subquery()))
    return [tk.Widget(_l("Reports to read"), "reports/widget_reader.html", {"waiting": waiting or 0}, order=37)]
