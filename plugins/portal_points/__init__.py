"""Points: rules with daily caps and a cheat guard, an append-only ledger, leaderboards and reports.

Members earn points for what the other plugins record in the activity stream
(the ``portal_activity_recorded`` hook scores each activity inside the
recording transaction); secretaries award or deduct points with a reason;
boards rank members and units for a day, month, quarter, year or all time.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_points import models  # noqa: F401  (registers the tables)

__version__ = "1.0.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Points rules with daily caps, an append-only ledger, leaderboards and reports.")


@tk.hookimpl
def portal_blueprints():
    from portal_points.api import bp as api_bp
    from portal_points.views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("points.view", _l("See points boards and participation reports of units"), tk.SECRETARY_ROLES,
                      host_visible=True),
        tk.Permission("points.award", _l("Award and deduct points with a reason"), tk.SECRETARY_ROLES),
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
    from portal_points.reports import month_points

    month, hosted = month_points(unit)
    board = leaderboard(unit, "month", limit=5)
    return [tk.Widget(_l("Points this month"), "points/widget_unit.html",
                      {"unit": unit, "month": month, "hosted": hosted, "board": board}, order=40)]


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_points.personal import member_summary

    return member_summary(member, since, until)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_points.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from portal_points.personal import personal_data

    return personal_data(member)


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


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("points", _l("Points"), default_mode="digest"),
    ]
