"""Care: members ask their branches for help (关怀帮扶) and post micro-wishes (微心愿).

Requests are routed by where the need is (hometown → home branch, host city →
host branch with the member's consent) and by admins' category rules, worked
through a workflow with SLA targets and escalation, and seen only by the people
involved. Hook implementations only; the rules live in one module per sub-feature (``filing``, ``routing``,
``workflow``, ``sla``, ``access``, ``attachments``, ``microwishes``, ``figures``).
"""
from __future__ import annotations


from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_care import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Members ask their branches for help and post micro-wishes.")


@tk.hookimpl
def portal_blueprints():
    from portal_care.api import bp as api_bp
    from portal_care.views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("care.manage", _l("Handle care requests routed to the unit and approve micro-wishes"), tk.SECRETARY_ROLES),
        tk.Permission("care.file_for", _l("File care requests on a member's behalf"), tk.SECRETARY_ROLES, host_visible=True),
        tk.Permission("care.admin", _l("Edit care categories and routing rules"), ("admin",)),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [
        tk.ActivityVerb("care.requested", _l("Asked for help (care request)"), "care"),
        tk.ActivityVerb("care.resolved", _l("Resolved a care request as handler"), "care"),
        tk.ActivityVerb("wish.fulfilled", _l("Fulfilled a micro-wish"), "care"),
    ]


@tk.hookimpl(optionalhook=True)
def portal_standing_verbs():
    """Fulfilling a micro-wish is work for others that the branch counts as assigned work (6-month rule)."""
    return {"work": ["wish.fulfilled"]}


@tk.hookimpl
def portal_settings():
    from portal_care.sla import SLA_DEFAULTS
    from portal_care.vocabulary import URGENCIES

    specs = []
    for urgency, (respond, resolve) in SLA_DEFAULTS.items():
        label = URGENCIES[urgency]
        specs.append(tk.SettingSpec(f"sla_response_hours_{urgency}",
                                    _l("First response target in hours: %(urgency)s", urgency=label), "int", respond,
                                    min=1, max=24 * 60))
        specs.append(tk.SettingSpec(f"sla_resolution_hours_{urgency}",
                                    _l("Resolution target in hours: %(urgency)s", urgency=label), "int", resolve,
                                    min=1, max=24 * 365))
    specs += [
        tk.SettingSpec("attachment_types", _l("File types accepted as attachments"), "list",
                       ["jpg", "jpeg", "png", "webp", "pdf"],
                       help=_l("Only types the portal recognises by their content: jpg, jpeg, png, gif, webp, pdf.")),
        tk.SettingSpec("attachment_max_kb", _l("Largest attachment in KB"), "int", 5120, min=10, max=50 * 1024),
        tk.SettingSpec("attachment_max_count", _l("Attachments per request at most"), "int", 5, min=0, max=50),
        tk.SettingSpec("auto_close_days", _l("Close resolved requests the member did not answer after this many days (0: never)"),
                       "int", 14, min=0, max=365),
    ]
    return specs


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = [tk.NavItem(_l("Care"), "care.index", order=40)]
    if tk.can("care.manage", account=account):
        items.append(tk.NavItem(_l("Care cases"), "care.queue", order=41))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    from sqlalchemy import select

    from portal_care import microwishes
    from portal_care.models import CareRequest
    from portal_care.views import TEMPLATE_NAMES

    member = account.member
    if member is None:
        return []
    recent = tk.db.session.scalars(select(CareRequest).where(CareRequest.member_id == member.id)
                                   .order_by(CareRequest.created_at.desc()).limit(5)).all()
    wishes = len(microwishes.open_wishes_for(member, limit=20))
    return [tk.Widget(_l("My care requests"), "care/widget_member.html",
                      {"requests": recent, "wishes": wishes, "s": TEMPLATE_NAMES}, order=40)]


@tk.hookimpl
def portal_unit_dashboard_widgets(account, unit):
    from portal_care import figures

    if not tk.can("care.manage", unit, account):
        return []
    return [tk.Widget(_l("Care requests"), "care/widget_unit.html",
                      {"counts": figures.unit_counts(unit, now=tk.utcnow()), "unit": unit}, order=40)]


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_care import sla

    return sla.scan(now)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_care.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from portal_care import personal

    return personal.personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_care import personal

    return personal.member_summary(member, since, until)


@tk.hookimpl
def portal_api_paths():
    from portal_care.api import API_PATHS

    return API_PATHS


@tk.hookimpl
def portal_demo_data(context):
    from portal_care.demo import build

    build(context)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_care.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("care", _l("Care requests and micro-wishes"), urgent=True),
    ]
