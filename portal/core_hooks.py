"""The core's own hook implementations, registered as the always-on plugin ``core``.

The core uses the same hooks as every plugin, so the plugin interface is
exercised by the core's own features.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.org.models import SECRETARY_ROLES
from portal.plugins import hookimpl
from portal.plugins.types import ActivityVerb, NavItem, Permission, SettingSpec, Widget


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
    ]


@hookimpl
def portal_activity_verbs():
    return [ActivityVerb("member.daily_login", _l("Used the portal (first time each day)"), "login")]


@hookimpl
def portal_settings():
    return [
        SettingSpec("site_notice", _l("Notice shown on every member's dashboard"), "text", ""),
        SettingSpec("mobile_after_months", _l("Months away after which a member counts as mobile"), "int", 6, min=1, max=36),
    ]


@hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    from portal.org.permissions import can, is_admin

    items = [NavItem(_l("Home"), "web.dashboard", order=0)]
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
