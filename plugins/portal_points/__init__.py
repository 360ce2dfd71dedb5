"""Points: rules with daily caps and a cheat guard, an append-only ledger, leaderboards and reports.

Members earn points for what the other plugins record in the activity stream
(the ``portal_activity_recorded`` hook scores each activity inside the
recording transaction); secretaries award or deduct points with a reason;
boards rank members and units for a day, month, quarter, year or all time.
"""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

from portal import toolkit as tk
from portal_points import models  # noqa: F401  (registers the tables)

__version__ = "1.0.0"

SECRETARIAL = ("secretary", "organizer", "admin")


@tk.hookimpl
def portal_blueprints():
    from portal_points.api import bp as api_bp
    from portal_points.views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("points.view", _l("See points boards and participation reports of units"), SECRETARIAL,
                      host_visible=True),
        tk.Permission("points.award", _l("Award and deduct points with a reason"), SECRETARIAL),
        tk.Permission("points.campaigns", _l("Run points campaigns"), ("organizer", "admin")),
        tk.Permission("points.rules", _l("Configure points rules"), ("admin",)),
    ]


@tk.hookimpl
def portal_activity_recorded(activity):
    from portal_points.services import apply_activity

    apply_activity(activity)


@tk.hookimpl
def portal_settings():
    return [
        tk.SettingSpec("level_thresholds", _l("Points needed for level 2, 3, 4 …"), "list",
                       ["50", "150", "400", "1000", "2000", "4000"],
                       help=_l("Ascending whole numbers separated by commas.")),
        tk.SettingSpec("manual_award_max", _l("Largest manual award or deduction"), "int", 100, min=1, max=10000),
        tk.SettingSpec("leaderboard_size", _l("Members shown on a leaderboard"), "int", 50, min=5, max=200),
        tk.SettingSpec("campaign_badge_places", _l("Campaign places that earn a badge"), "int", 3, min=1, max=20),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items.append(tk.NavItem(_l("Points"), "points.me", order=40))
    elif tk.can("points.view"):
        items.append(tk.NavItem(_l("Points"), "points.leaderboard", order=40))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    member = account.member
    if member is None:
        return []
    from portal_points.services import badges_of, level_for, member_totals

    totals = member_totals(member.id)
    return [tk.Widget(_l("My points"), "points/widget_member.html",
                      {"totals": totals, "level": level_for(totals["all"]), "badges": badges_of(member.id)[:3]},
                      order=20)]


@tk.hookimpl
def portal_unit_dashboard_widgets(account, unit):
    if not tk.can("points.view", unit, account):
        return []
    from portal_points.leaderboard import leaderboard
    from portal_points.reports import unit_monthly

    monthly = unit_monthly(unit)
    board = leaderboard(unit, "month", limit=5)
    return [tk.Widget(_l("Points this month"), "points/widget_unit.html",
                      {"unit": unit, "month": monthly[-1][1], "board": board}, order=40)]


@tk.hookimpl
def portal_member_summary(member, since, until):
    from datetime import date

    from portal_points import periods
    from portal_points.reports import participation
    from portal_points.services import badge_label, badges_of, level_for, member_total

    start = since.date() if hasattr(since, "date") and since is not None else (since or date(2000, 1, 1))
    end = until.date() if hasattr(until, "date") and until is not None else (until or periods.local_date(tk.utcnow()))
    row = participation([member], start, end)[0]
    total = member_total(member.id)
    pairs = [(_("Points in this period"), row.total), (_("Points level"), level_for(total).number)]
    badges = badges_of(member.id)
    if badges:
        pairs.append((_("Badges"), ", ".join(badge_label(b) for b in badges)))
    return pairs


@tk.hookimpl
def portal_personal_data(member):
    from sqlalchemy import select

    from portal_points.models import PointsBadge, PointsEntry
    from portal_points.services import badge_label, entry_reason

    entries = tk.db.session.scalars(select(PointsEntry).where(PointsEntry.member_id == member.id)
                                    .order_by(PointsEntry.id))
    badges = tk.db.session.scalars(select(PointsBadge).where(PointsBadge.member_id == member.id))
    return {
        _("Points"): [{"date": tk.fmt_datetime(e.created_at), "points": e.points, "reason": entry_reason(e)}
                      for e in entries],
        _("Badges"): [{"badge": badge_label(b), "date": tk.fmt_datetime(b.awarded_at)} for b in badges],
    }


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_points.services import finalize_campaigns
    from portal_points.totals import sync_member_units

    finalize_campaigns(now)
    sync_member_units()
    return []


@tk.hookimpl
def portal_cli_commands():
    from portal_points.cli import points_group

    return [points_group]


@tk.hookimpl
def portal_api_paths():
    from portal_points.api import OPENAPI_PATHS

    return OPENAPI_PATHS


@tk.hookimpl
def portal_demo_data(context):
    from portal_points.demo import build_demo

    build_demo(context)
