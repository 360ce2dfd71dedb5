"""Development of new members (发展党员全程纪实): application to full membership, with every time limit watched.

One case per person through the five stages and 25 steps of BRANCH-LIFE.md (d): each step recorded with
its date, actor, notes and documents, and refused while an earlier step or a waiting time is missing
(the refusal names each). Mentors at home and at work; two-place vetting and public notice for people
who work away; the branch assembly's tally checked against the rule; committee approvals watched;
training classes that may be courses of the online school. Secretaries and committees get a pipeline
board, the annual plan, the public-notice log, probation endings, ``.xlsx`` and the per-person record PDF.

Hook implementations only; the rules live in ``rules`` (prerequisites and deadlines), ``cases``
(opening, steps, advancing, closing, transfers, who sees a case), ``mentors``, ``vetting``, ``notices``,
``votes``, ``training``, ``board`` (pipeline, plan, logs, exports), ``alerts`` and ``widgets``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_development import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Developing new members: every step, mentor, vetting, notice and vote of each case, "
                 "with its time limits watched.")


@tk.hookimpl
def portal_blueprints():
    from portal_development.api import bp as api_bp
    from portal_development.board_views import bp as board_bp
    from portal_development.views import bp

    return [bp, board_bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("development.manage", _l("Keep development cases: record steps, vetting, notices and votes"),
                      host_visible=True),
        tk.Permission("development.approve", _l("Approve and file development steps as the committee above a branch")),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [tk.ActivityVerb("development.stage", _l("Moved to a new stage of development"), "branch")]


@tk.hookimpl
def portal_settings():
    from portal_development.settings import SETTINGS

    return SETTINGS


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = [tk.NavItem(_l("My development"), "development.mine", order=44)]
    if tk.can("development.manage", account=account) or tk.can("development.approve", account=account):
        items.append(tk.NavItem(_l("Development"), "development_board.board", order=45))
    return items


@tk.hookimpl(optionalhook=True)
def portal_report_mentors(member):
    from portal_development import mentors

    return mentors.mentor_accounts(member)


@tk.hookimpl
def portal_dashboard_widgets(account):
    from portal_development import widgets

    return widgets.widgets(account)


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_development import alerts

    return alerts.scan(now)


@tk.hookimpl
def portal_personal_data(member):
    from portal_development import personal

    return personal.personal_data(member)


@tk.hookimpl
def portal_api_paths():
    from portal_development.api import API_PATHS

    return API_PATHS


@tk.hookimpl(trylast=True)  # after the courses' demo: a training class is one of its courses
def portal_demo_data(context):
    from portal_development.demo import build

    build(context)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_development.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("development", _l("Joining the Party: the steps of an application")),
    ]
