"""Dues (党费): the amount by the rules, payment at home or at the host branch, arrears that count down.

Each member has a dues profile (category, monthly base, the rate from the tier table, the monthly
amount, valid from); reductions and exemptions go member → branch → upper committee. Secretaries
record payments (cash, transfer, at the host branch, on the member's behalf) or confirm what a
member reported with a receipt photo; a payment covers named months, each paid once, never more
than the back-payment limit at once. Every paid month is one activity (``dues.paid``). Consecutive
unpaid months count down to a reminder, a talk, a written notice and a case. Branches get the
monthly list, the quarterly remittance, the annual disclosure and a verifiable receipt per payment.

Hook implementations only; the rules live in ``profiles`` (rates, amounts, reductions),
``payments`` (recording, confirming, receipts), ``arrears`` (the countdown), ``branch_reports``
(lists, remittance, disclosure), ``providers`` (online payment through provider plugins).
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_dues import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Dues by the rules, paid at home or at the host branch, with arrears that count down.")


@tk.hookimpl
def portal_addhooks(pluginmanager):
    from portal_dues import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@tk.hookimpl
def portal_blueprints():
    from portal_dues.api import bp as api_bp
    from portal_dues.manage_views import bp as manage_bp
    from portal_dues.views import bp

    return [bp, manage_bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("dues.manage", _l("Set members' dues, record and confirm payments, keep the branch's dues books")),
        tk.Permission("dues.collect_hosted", _l("Record dues paid at the host branch by members hosted here"),
                      host_visible=True),
        tk.Permission("dues.approve_reduction", _l("Approve dues reductions and exemptions as the upper committee")),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [tk.ActivityVerb("dues.paid", _l("Paid a month's dues"), "dues")]


@tk.hookimpl(optionalhook=True)
def portal_standing_verbs():
    """Dues for the 6-month rule: a month's dues paid (a back payment counts when it is made)."""
    return {"dues": ["dues.paid"]}


@tk.hookimpl
def portal_settings():
    from portal_dues.vocabulary import ROUNDING_LABELS

    return [
        tk.SettingSpec("salaried_tiers", _l("Rates for salaried members (upper bound of the base: rate; last line has no bound)"),
                       "str", "3000:0.005; 5000:0.01; 10000:0.015; *:0.02",
                       help=_l("Upper bounds are inclusive; rates are fractions (0.005 = 0.5%).")),
        tk.SettingSpec("retired_tiers", _l("Rates for retired members (upper bound of the pension: rate)"),
                       "str", "5000:0.005; *:0.01"),
        tk.SettingSpec("farmer_min", _l("Smallest monthly amount for farmers (yuan)"), "str", "0.20"),
        tk.SettingSpec("farmer_max", _l("Largest monthly amount for farmers (yuan)"), "str", "1.00"),
        tk.SettingSpec("farmer_default", _l("Default monthly amount for farmers (yuan)"), "str", "0.50"),
        tk.SettingSpec("student_amount", _l("Monthly amount for students, the unemployed and members on relief (yuan)"),
                       "str", "0.20"),
        tk.SettingSpec("deduct_insurance", _l("Deduct the member's social insurance and housing fund from the base"),
                       "bool", True),
        tk.SettingSpec("rounding", _l("Rounding of the monthly amount"), "choice", "half_up",
                       choices=tuple(ROUNDING_LABELS.items())),
        tk.SettingSpec("back_payment_months", _l("Most months one payment may cover back"), "int", 6, min=1, max=24),
        tk.SettingSpec("quarterly_allowed", _l("Members may pay a quarter at once"), "bool", True),
        tk.SettingSpec("large_extra_payment", _l("A voluntary extra payment from this amount is flagged (yuan)"),
                       "str", "1000.00"),
        tk.SettingSpec("arrears_reminder_months", _l("Remind the member after this many unpaid months"), "int", 1, min=1, max=12),
        tk.SettingSpec("arrears_talk_months", _l("A talk is due after this many unpaid months"), "int", 3, min=1, max=12),
        tk.SettingSpec("arrears_notice_months", _l("A written notice after this many unpaid months"), "int", 5, min=1, max=12),
        tk.SettingSpec("arrears_case_months", _l("A case after this many unpaid months"), "int", 6, min=1, max=24),
        tk.SettingSpec("proof_types", _l("File types accepted as payment receipts"), "list", ["jpg", "jpeg", "png", "pdf"]),
        tk.SettingSpec("proof_max_kb", _l("Largest payment receipt in KB"), "int", 5120, min=10, max=50 * 1024),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items.append(tk.NavItem(_l("My dues"), "dues.mine", order=34))
    if tk.can("dues.manage", account=account):
        items.append(tk.NavItem(_l("Dues book"), "dues_manage.index", order=35))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    from portal_dues import widgets

    return widgets.member_widgets(account)


@tk.hookimpl
def portal_unit_dashboard_widgets(account, unit):
    from portal_dues import widgets

    return widgets.unit_widgets(account, unit)


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_dues import arrears

    return arrears.scan(now)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_dues.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from portal_dues import personal

    return personal.personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_dues import personal

    return personal.member_summary(member, since, until)


@tk.hookimpl
def portal_api_paths():
    from portal_dues.api import API_PATHS

    return API_PATHS


@tk.hookimpl
def portal_demo_data(context):
    from portal_dues.demo import build

    build(context)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_dues.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("dues", _l("Party dues")),
    ]
