"""Personal reports (思想汇报) and the suggestion box (意见箱).

A member writes a report for a period from a phone (the draft is kept while writing); it goes to the
home branch, to their mentors (``portal_report_mentors``) and, if they choose, to the host branch.
Readers comment or return it for more; every read by someone else is audited. Reminders come before
a period ends; secretaries see who is overdue by stage. Members send suggestions to the home branch,
the host branch or the committee above, named or truly anonymous.

Hook implementations only; the rules live in ``writing`` (drafts, submitting), ``reading`` (who may
read, comments, returns), ``schedule`` (periods per stage, reminders, the overdue list),
``suggestions``, ``widgets`` and ``personal``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_reports import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Personal reports to the branch, read and commented; the suggestion box, named or anonymous.")


@tk.hookimpl
def portal_addhooks(pluginmanager):
    from portal_reports import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@tk.hookimpl
def portal_blueprints():
    from portal_reports.api import bp as api_bp
    from portal_reports.suggestion_api import bp as suggestion_api_bp
    from portal_reports.suggestion_views import bp as suggestion_bp
    from portal_reports.views import bp

    return [bp, api_bp, suggestion_bp, suggestion_api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("reports.read", _l("Read members' personal reports, comment on them and return them")),
        tk.Permission("reports.suggestions", _l("Answer the suggestions sent to the unit")),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [tk.ActivityVerb("report.submitted", _l("Submitted a personal report"), "reports")]


@tk.hookimpl
def portal_settings():
    from portal_reports.schedule import FREQUENCY_LABELS, STAGE_DEFAULTS

    choices = tuple(FREQUENCY_LABELS.items())
    specs = [tk.SettingSpec(f"frequency_{key}", label, "choice", default, choices=choices)
             for key, (label, default) in STAGE_DEFAULTS.items()]
    specs += [
        tk.SettingSpec("reminder_days", _l("Remind members this many days before a report period ends"), "int", 14,
                       min=0, max=90),
        tk.SettingSpec("suggestion_reply_days", _l("Answer a suggestion within this many days"), "int", 15,
                       min=1, max=365),
        tk.SettingSpec("suggestion_digest", _l("Publish a digest of answered suggestions (without authors)"), "bool",
                       True),
    ]
    return specs


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items += [tk.NavItem(_l("My reports"), "reports.mine", order=36),
                  tk.NavItem(_l("Suggestion box"), "reports_suggestions.new", order=38)]
    if tk.can("reports.read", account=account):
        items.append(tk.NavItem(_l("Members' reports"), "reports.inbox", order=37))
    if tk.can("reports.suggestions", account=account):
        items.append(tk.NavItem(_l("Suggestions received"), "reports_suggestions.received", order=39))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    from portal_reports import widgets

    return widgets.member_widgets(account)


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_reports import schedule, suggestions

    return schedule.scan(now) + suggestions.scan(now)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_reports.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from portal_reports import personal

    return personal.personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_reports import personal

    return personal.member_summary(member, since, until)


@tk.hookimpl
def portal_api_paths():
    from portal_reports.api import API_PATHS
    from portal_reports.suggestion_api import API_PATHS as SUGGESTION_PATHS

    return {**API_PATHS, **SUGGESTION_PATHS}


@tk.hookimpl
def portal_demo_data(context):
    from portal_reports.demo import build

    build(context)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_reports.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("reports", _l("Personal reports")),
        tk.NotificationKind("suggestion", _l("The suggestion box")),
    ]
