"""Standing (the 6-month rule, 党章 第九条): months without branch life, dues or assigned work.

For every member the months since the last act of each kind are computed from the activity stream
(plugins declare which verbs count through ``portal_standing_verbs``); approved leave pauses the count.
Six consecutive months of ANY one of them, without good reason, make a case for the branch assembly;
on the way: a reminder at 1 month, a talk at 3 (recorded), a written notice at 5. Nothing is decided
automatically: the assembly's decision and the upper committee's approval are recorded by people.

Hook implementations only; the rules live in ``clock`` (the months and the step), ``steps`` (the
scan that tells each step once, cases), ``records`` (leave, work done, talks) and ``widgets``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_standing import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("The 6-month rule: who has gone without branch life, dues or assigned work, and what comes next.")


@tk.hookimpl
def portal_addhooks(pluginmanager):
    from portal_standing import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@tk.hookimpl(optionalhook=True)
def portal_standing_verbs():
    return {"work": ["work.done"]}


@tk.hookimpl
def portal_blueprints():
    from portal_standing.api import bp as api_bp
    from portal_standing.views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("standing.manage", _l("See members' standing, record leave, work done, talks and case decisions")),
        tk.Permission("standing.approve", _l("Record the upper committee's approval of a case decision")),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [tk.ActivityVerb("work.done", _l("Did work the branch assigned"), "standing")]


@tk.hookimpl
def portal_settings():
    return [
        tk.SettingSpec("reminder_months", _l("Remind the member after this many months without"), "int", 1, min=1, max=12),
        tk.SettingSpec("talk_months", _l("A talk is due after this many months without"), "int", 3, min=1, max=12),
        tk.SettingSpec("notice_months", _l("A written notice after this many months without"), "int", 5, min=1, max=12),
        tk.SettingSpec("counting_from", _l("Count months from this day at the earliest (the day branches began using the portal)"),
                       "str", "", help=_l("A date like 2026-01-01. Empty: from the day each member joined.")),
        tk.SettingSpec("case_months", _l("A case for the branch assembly after this many months without"), "int", 6,
                       min=1, max=24),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items.append(tk.NavItem(_l("My standing"), "standing.me", order=42))
    if tk.can("standing.manage", account=account):
        items.append(tk.NavItem(_l("Standing"), "standing.unit", order=43))
    return items


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_standing import steps

    return steps.scan(now)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_standing.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from portal_standing import personal

    return personal.personal_data(member)


@tk.hookimpl
def portal_api_paths():
    from portal_standing.api import API_PATHS

    return API_PATHS


@tk.hookimpl(trylast=True)  # after the meetings' and dues' demo: their activities are the history it reads
def portal_demo_data(context):
    from portal_standing.demo import build

    build(context)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_standing.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})
