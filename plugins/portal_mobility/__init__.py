"""Mobility: outflow and check-in, the activity certificate, moves, return, transfers, lost contact, statistics.

Hook implementations only; the rules live in one module per sub-feature (``outflows.py``, ``certificates.py``,
``checkins.py``, ``moves.py``, ``returns.py``, ``transfers.py``, ``contacts.py``, ``queries.py``, ``statistics.py``).
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk

from . import models  # noqa: F401  (registers the tables)

__version__ = "1.0.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Outflow and check-in, activity certificates, moves, returns, transfers, lost contact and statistics.")


@tk.hookimpl
def portal_blueprints():
    from .api import bp as api_bp
    from .views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("mobility.view", _l("See mobile members' whereabouts, certificates and check-ins"), tk.SECRETARY_ROLES,
                      host_visible=True),
        tk.Permission("mobility.manage", _l("Approve outflows, record returns, review certificates, keep the contact log"),
                      tk.SECRETARY_ROLES),
        tk.Permission("mobility.host", _l("Confirm check-ins and register arrivals at a host branch"), tk.SECRETARY_ROLES),
        tk.Permission("mobility.stats", _l("See and export mobility statistics"), tk.SECRETARY_ROLES),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [
        tk.ActivityVerb("mobility.registered", _l("Registered an outflow"), "mobility"),
        tk.ActivityVerb("mobility.checked_in", _l("Checked in at a host branch"), "mobility"),
        tk.ActivityVerb("mobility.moved", _l("Reported a change of place or employer"), "mobility"),
        tk.ActivityVerb("mobility.returned", _l("Came back home"), "mobility"),
        tk.ActivityVerb("contact.logged", _l("Was in contact with the home branch"), "mobility"),
    ]


@tk.hookimpl
def portal_activity_recorded(activity):
    """Any new activity of a member flagged as lost contact means they are back in touch."""
    member = activity.actor
    if member is not None and member.lost_contact:
        from .contacts import clear_cases

        member.lost_contact = False
        clear_cases(member, activity.created_at)


@tk.hookimpl
def portal_settings():
    return [
        tk.SettingSpec("certificate_valid_days", _l("Days an activity certificate is valid (reviewed yearly)"), "int",
                       365, min=30, max=1100),
        tk.SettingSpec("move_report_days", _l("Days within which a change of place or employer must be reported"),
                       "int", 15, min=1, max=365),
        tk.SettingSpec("confirm_every_days", _l("Days between prompts asking away members to confirm their details"),
                       "int", 90, min=7, max=730),
        tk.SettingSpec("lost_contact_days", _l("Days without activity or logged contact before a member counts as lost contact"),
                       "int", 90, min=7, max=730),
        tk.SettingSpec("lost_contact_escalate_days", _l("Further days before a lost-contact case is escalated to the parent unit"),
                       "int", 30, min=1, max=365),
        tk.SettingSpec("transfer_after_months", _l("Months at one place after which a membership transfer is suggested"),
                       "int", 6, min=1, max=60),
        tk.SettingSpec("review_window_days", _l("Days before expiry from which an activity certificate can be renewed"),
                       "int", 60, min=0, max=365),
        tk.SettingSpec("transfer_letter_valid_days", _l("Days a letter of introduction is valid"), "int", 30,
                       min=7, max=180),
        tk.SettingSpec("duration_bands", _l("Time-away bands of the statistics table: month boundaries, e.g. 6,12,24"),
                       "str", "6,12,24"),
        tk.SettingSpec("photo_max_kb", _l("Largest member photo accepted (KB)"), "int", 2048, min=50, max=10240),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items.append(tk.NavItem(_l("Mobility"), "mobility.index", order=40))
    if tk.can("mobility.view", account=account) or tk.can("mobility.host", account=account):
        items.append(tk.NavItem(_l("Mobile members"), "mobility.units", order=82))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    member = account.member
    if member is None:
        return []
    from .checkins import pending_checkin
    from .moves import confirmation_due
    from .outflows import open_outflow_and_certificate

    now = tk.utcnow()
    outflow, certificate = open_outflow_and_certificate(member)
    # Only what the widget shows for this member's situation is loaded.
    approved = outflow is not None and outflow.status == "approved"
    context = {
        "member": member, "outflow": outflow,
        "certificate": certificate,
        "checkin": pending_checkin(member) if approved and member.host_unit_id is None else None,
        "confirm_due": approved and confirmation_due(member, now, outflow=outflow),
        "today": tk.local_date(now),
    }
    return [tk.Widget(_l("My mobility"), "mobility/widget_member.html", context, order=30)]


@tk.hookimpl
def portal_unit_dashboard_widgets(account, unit):
    if not (tk.can("mobility.view", unit, account=account) or tk.can("mobility.host", unit, account=account)):
        return []
    from .queries import unit_widget_counts

    counts = unit_widget_counts(unit)
    return [tk.Widget(_l("Mobile members"), "mobility/widget_unit.html", {"unit": unit, "counts": counts}, order=20)]


@tk.hookimpl
def portal_alerts_scan(now):
    from .contacts import scan_lost_contact
    from .moves import scan_prompts

    return scan_lost_contact(now) + scan_prompts(now)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_mobility.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from .personal import personal_data

    return personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from .personal import member_summary

    return member_summary(member, since, until)


@tk.hookimpl
def portal_api_paths():
    from .api import OPENAPI_PATHS

    return OPENAPI_PATHS


@tk.hookimpl
def portal_demo_data(context):
    from .demo import build

    build(context)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_mobility.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("mobility", _l("Moving, check-in, returns and transfers")),
    ]
