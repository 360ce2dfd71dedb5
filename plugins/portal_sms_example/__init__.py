"""An example SMS channel: urgent inbox messages also as text messages, through a provider you wire in.

Bundled plugins start enabled, so this one does nothing until an admin names a provider in its
``provider`` setting: ``log`` (writes what would be sent to a table, shown at /sms-example/log) or
``package.module:factory`` of a real gateway (README.md). Hook implementations only; the channel is
in ``channel``, the provider interface in ``providers``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_sms_example import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("An example channel: urgent messages also by SMS, through a provider you wire in.")


@tk.hookimpl
def portal_blueprints():
    from portal_sms_example.views import bp

    return [bp]


@tk.hookimpl
def portal_settings():
    return [
        tk.SettingSpec("provider", _l("SMS provider"), "str", "",
                       help=_l("Empty: nothing is sent. \"log\": only written to the SMS log. "
                               "Or package.module:factory of a real gateway (see the plugin's README).")),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is not None and tk.can("settings.manage", account=account):
        return [tk.NavItem(_l("SMS log"), "sms_example.log", order=97)]
    return []


@tk.hookimpl
def portal_delivery_channels():
    from portal_sms_example.channel import deliver

    return [tk.DeliveryChannel("sms-example", deliver)]
