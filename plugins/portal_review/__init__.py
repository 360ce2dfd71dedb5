"""Annual review (民主评议党员): every member rated once a year, wherever they live, on the portal's evidence.

A round per branch and year (study → self-assessment → mutual assessment → grading → report upward →
follow-up); entries for every member, with the year's evidence gathered from whatever plugins are enabled
(``portal_review_evidence``, none imported), a self-assessment written on a phone, anonymous mutual ratings,
the host branch's opinion for members away, grades proposed and decided (the one-third check for excellent,
an improvement plan for basically qualified, handling steps for unqualified — recorded, never automatic),
the results reported upward, and the year in one document (年度纪实) per member.

Hook implementations only; the rules live in ``rounds``, ``grading``, ``results``, ``ratings``,
``selfassess``, ``hostopinion``, ``evidence``, ``alerts`` and ``widgets``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_review import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("The annual review: self-assessment, anonymous mutual assessment, the host's opinion and grades, "
                 "on the year's evidence.")


@tk.hookimpl
def portal_addhooks(pluginmanager):
    from portal_review import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@tk.hookimpl
def portal_blueprints():
    from portal_review.api import bp as api_bp
    from portal_review.manage_views import bp as manage_bp
    from portal_review.views import bp

    return [bp, manage_bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("review.manage", _l("Run the annual review: rounds, grades, plans, the host branch's opinion"),
                      host_visible=True),
        tk.Permission("review.approve", _l("Receive the review results reported upward")),
    ]


@tk.hookimpl
def portal_settings():
    from portal_review.settings import SETTINGS

    return SETTINGS


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items.append(tk.NavItem(_l("My review"), "review.mine", order=46))
    if tk.can("review.manage", account=account) or tk.can("review.approve", account=account):
        items.append(tk.NavItem(_l("Annual review"), "review_manage.rounds", order=47))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    from portal_review import widgets

    return widgets.widgets(account)


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_review import alerts

    return alerts.scan(now)


@tk.hookimpl
def portal_personal_data(member):
    from portal_review import personal

    return personal.personal_data(member)


@tk.hookimpl
def portal_api_paths():
    from portal_review.api import API_PATHS

    return API_PATHS


@tk.hookimpl(trylast=True)  # after every other plugin's demo: the rounds read their evidence
def portal_demo_data(context):
    from portal_review.demo import build

    build(context)


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("review", _l("The annual review")),
    ]
