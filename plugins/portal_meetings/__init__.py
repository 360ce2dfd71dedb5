"""Meetings: 三会一课 and theme days with attendance at home, at the host branch or online; notices with receipts.

A secretary calls a meeting of a unit; the unit's members (and members hosted there) are
expected; they check in by scanning the meeting's rotating code, join online through the
portal, or ask for leave; the secretary keeps the register and the minutes. Each attendance
is one activity (``meeting.attended`` / ``meeting.attended_online``) that counts for the
member's home branch wherever the meeting was. Compliance with the minimum frequencies is
watched per unit and period. Notices go to a unit, a subtree, its members away or a list,
with read receipts and sign-off (签收) escalated to the contact person after the deadline.

Hook implementations only; the rules live in ``meetings`` (calling and the life cycle),
``attendance`` (codes, check-in, leave, the register), ``compliance`` (required vs held,
reminders, the register and minutes book), ``calendar`` (.ics), ``notices`` (sending,
receipts, escalation), ``widgets`` and ``personal``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_meetings import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Meetings and theme days with attendance at home, at the host branch or online; notices with sign-off.")


@tk.hookimpl
def portal_blueprints():
    from portal_meetings.api import bp as api_bp
    from portal_meetings.manage_views import bp as manage_bp
    from portal_meetings.notice_api import bp as notice_api_bp
    from portal_meetings.notice_views import bp as notice_bp
    from portal_meetings.views import bp

    return [bp, manage_bp, api_bp, notice_bp, notice_api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("meetings.manage", _l("Call meetings of the unit, keep their register and minutes")),
        tk.Permission("meetings.notices", _l("Send notices to the unit's members and follow up who signed")),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [
        tk.ActivityVerb("meeting.attended", _l("Attended a meeting"), "meeting"),
        tk.ActivityVerb("meeting.attended_online", _l("Attended a meeting online"), "meeting"),
        tk.ActivityVerb("notice.acknowledged", _l("Signed for a notice"), "meeting"),
    ]


@tk.hookimpl(optionalhook=True)
def portal_standing_verbs():
    """Branch life for the 6-month rule: a meeting attended anywhere, online counts."""
    return {"branch_life": ["meeting.attended", "meeting.attended_online"]}


@tk.hookimpl
def portal_settings():
    from portal_meetings.vocabulary import DEFAULT_FREQUENCIES, FREQUENCY_LABELS, KIND_LABELS

    frequencies = tuple(FREQUENCY_LABELS.items())
    specs = [tk.SettingSpec(f"frequency_{kind}", _l("Minimum frequency: %(kind)s", kind=KIND_LABELS[kind]), "choice",
                            default, choices=frequencies) for kind, default in DEFAULT_FREQUENCIES.items()]
    specs += [
        tk.SettingSpec("branch_unit_kinds", _l("Unit kinds that must hold branch meetings"), "list",
                       ["branch", "general_branch"],
                       help=_l("Group meetings are required of units of the kind 'group'.")),
        tk.SettingSpec("compliance_reminder_days", _l("Remind secretaries this many days before a period ends"),
                       "int", 7, min=0, max=90),
        tk.SettingSpec("checkin_code_seconds", _l("The check-in code changes every this many seconds"),
                       "int", 60, min=15, max=3600),
        tk.SettingSpec("checkin_opens_minutes", _l("Check-in opens this many minutes before the start"),
                       "int", 30, min=0, max=24 * 60),
        tk.SettingSpec("checkin_closes_minutes", _l("Check-in closes this many minutes after the end"),
                       "int", 30, min=0, max=24 * 60),
        tk.SettingSpec("meeting_reminder_hours", _l("Remind expected members this many hours before a meeting (0: never)"),
                       "int", 24, min=0, max=24 * 14),
        tk.SettingSpec("attachment_types", _l("File types accepted as meeting attachments"), "list",
                       ["jpg", "jpeg", "png", "pdf"]),
        tk.SettingSpec("attachment_max_kb", _l("Largest meeting attachment in KB"), "int", 10240, min=10, max=50 * 1024),
    ]
    return specs


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items += [tk.NavItem(_l("Meetings"), "meetings.mine", order=30),
                  tk.NavItem(_l("Notices"), "meetings_notices.mine", order=31)]
    if tk.can("meetings.manage", account=account):
        items.append(tk.NavItem(_l("Meeting register"), "meetings_manage.index", order=32))
    if tk.can("meetings.notices", account=account):
        items.append(tk.NavItem(_l("Sent notices"), "meetings_notices.sent", order=33))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    from portal_meetings import widgets

    return widgets.member_widgets(account)


@tk.hookimpl
def portal_unit_dashboard_widgets(account, unit):
    from portal_meetings import widgets

    return widgets.unit_widgets(account, unit)


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_meetings import compliance, notices

    return compliance.scan(now) + notices.scan(now)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_meetings.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from portal_meetings import personal

    return personal.personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_meetings import personal

    return personal.member_summary(member, since, until)


@tk.hookimpl
def portal_api_paths():
    from portal_meetings.api import API_PATHS
    from portal_meetings.notice_api import API_PATHS as NOTICE_PATHS

    return {**API_PATHS, **NOTICE_PATHS}


@tk.hookimpl
def portal_demo_data(context):
    from portal_meetings.demo import build

    build(context)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_meetings.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("meetings", _l("Meetings and theme days"), urgent=True),
        tk.NotificationKind("notice", _l("Notices to read and sign")),
    ]
