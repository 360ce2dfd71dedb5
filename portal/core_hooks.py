"""The core's own hook implementations, registered as the always-on plugin ``core``.

The core uses the same hooks as every plugin, so the plugin interface is
exercised by the core's own features.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.org.models import SECRETARY_ROLES
from portal.plugins import hookimpl
from portal.plugins.types import ActivityVerb, NavItem, Permission, SettingSpec, Widget, XapiVerb


@hookimpl
def portal_permissions():
    return [
        Permission("members.view", _l("See members' profiles"), SECRETARY_ROLES, host_visible=True),
        Permission("members.view_sensitive", _l("See national ID numbers"), SECRETARY_ROLES),
        Permission("members.edit", _l("Edit members and import them"), SECRETARY_ROLES),
        Permission("members.export", _l("Export member lists"), SECRETARY_ROLES),
        Permission("accounts.reset_password", _l("Reset members' passwords"), SECRETARY_ROLES),
        Permission("units.manage", _l("Create, rename, move and close units"), ("organizer", "admin")),
        Permission("roles.manage", _l("Assign roles"), ("organizer", "admin")),
        Permission("units.dashboard", _l("See unit dashboards"), SECRETARY_ROLES, host_visible=True),
        Permission("audit.view", _l("Read the audit log"), ("admin",)),
        Permission("plugins.manage", _l("Enable and disable plugins"), ("admin",)),
        Permission("settings.manage", _l("Change settings"), ("admin",)),
        Permission("accounts.manage", _l("Manage accounts"), ("admin",)),
        Permission("xapi.statements", _l("Read members' learning records (xAPI statements)"), ("organizer", "admin")),
    ]


@hookimpl
def portal_activity_verbs():
    return [ActivityVerb("member.daily_login", _l("Used the portal (first time each day)"), "login")]


@hookimpl
def portal_xapi_verbs():
    from portal.i18n import language_map
    from portal.xapi.statements import describe_daily_login

    return [XapiVerb("member.daily_login", "https://w3id.org/xapi/adl/verbs/logged-in",
                     language_map(_l("logged in")), "http://activitystrea.ms/schema/1.0/application",
                     describe_daily_login)]


@hookimpl
def portal_settings():
    return [
        SettingSpec("site_notice", _l("Notice shown on every member's dashboard"), "text", ""),
        SettingSpec("mobile_after_months", _l("Months away after which a member counts as mobile"), "int", 6, min=1, max=36),
        SettingSpec("badge_issuer_email", _l("Contact e-mail address of the badges' issuer (shown in Open Badges)"),
                    "str", "", help=_l("Open Badges checkers expect the issuer to give one.")),
    ]


@hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    from portal.org.permissions import can, is_admin

    items = [NavItem(_l("Home"), "web.dashboard", order=0)]
    if account.member is not None:
        items.append(NavItem(_l("My badges"), "badges.mine", order=75))
    if can("units.dashboard"):
        items.append(NavItem(_l("My branches"), "org.units", order=80))
    if is_admin(account):
        items.append(NavItem(_l("Admin"), "admin.index", order=95))
    return items


@hookimpl
def portal_dashboard_widgets(account):
    from portal.settings import get_setting

    widgets = []
    notice = get_setting("core", "site_notice")
    if notice:
        widgets.append(Widget(_l("Notice board"), "web/widget_notice.html", {"notice": notice}, order=0))
    if account.member is not None:
        widgets.append(Widget(_l("My profile"), "web/widget_profile.html", {"member": account.member}, order=90))
    return widgets


@hookimpl
def portal_unit_dashboard_widgets(account, unit):
    from portal.org.stats import unit_member_counts

    return [Widget(_l("Members"), "org/widget_counts.html", {"counts": unit_member_counts(unit), "unit": unit}, order=0)]


@hookimpl
def portal_personal_data(member):
    from portal.org.personal import core_sections

    return core_sections(member)


@hookimpl
def portal_notification_kinds():
    from portal.plugins.types import NotificationKind

    return [
        NotificationKind("alert", _l("Reminders of things to do (from the daily check)")),
        NotificationKind("contact", _l("You became a member's contact person")),
        NotificationKind("general", _l("General messages")),
    ]
