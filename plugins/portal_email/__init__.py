"""E-mail: inbox messages also sent by e-mail, immediately or in a daily digest, as each member chooses.

Hook implementations only; the rules live in ``preferences`` (modes per kind, unsubscribe tokens) and
``sending`` (``portal email send``: the send log, the digest hour, the SMTP server).

No ``portal_delivery_channels`` channel: the cron command is the only sender. Sending inside the
request that made a message would make it wait on the SMTP server (a notice to 300 members, 300
sends), and the send log it needs to go exactly once cannot be written after the commit without a
transaction of its own; a run every minute keeps immediate messages at most a minute late.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_email import models  # noqa: F401  (registers the tables)

__version__ = "1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Inbox messages also by e-mail, at once or in a daily digest, as each member chooses.")


@tk.hookimpl
def portal_blueprints():
    from portal_email.views import bp

    return [bp]


@tk.hookimpl
def portal_settings():
    modes = (("kind", _l("As each kind suggests")), ("immediate", _l("Immediately")),
             ("digest", _l("In the daily digest")), ("off", _l("Not by e-mail")))
    return [
        tk.SettingSpec("smtp_host", _l("SMTP server"), "str", "", help=_l("Empty: no e-mail is sent.")),
        tk.SettingSpec("smtp_port", _l("SMTP port"), "int", 587, min=1, max=65535),
        tk.SettingSpec("smtp_security", _l("Connection security"), "choice", "starttls",
                       choices=(("none", _l("None")), ("starttls", "STARTTLS"), ("ssl", "SSL/TLS"))),
        # The password is no setting (settings are shown in their form and audited): EMAIL_SMTP_PASSWORD in the
        # instance config, or PORTAL_EMAIL_SMTP_PASSWORD in the environment.
        tk.SettingSpec("smtp_username", _l("SMTP user name"), "str", "",
                       help=_l("Empty: no login. The password is PORTAL_EMAIL_SMTP_PASSWORD in the server's environment.")),
        tk.SettingSpec("smtp_timeout", _l("Seconds to wait for the SMTP server"), "int", 10, min=1, max=120),
        tk.SettingSpec("from_address", _l("Sender address"), "str", "portal@localhost"),
        tk.SettingSpec("from_name", _l("Sender name"), "str", ""),
        tk.SettingSpec("digest_hour", _l("Hour of the daily digest (local time)"), "int", 18, min=0, max=23),
        tk.SettingSpec("default_mode", _l("How members who chose nothing receive messages"), "choice", "kind",
                       choices=modes),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = [tk.NavItem(_l("E-mail settings"), "email.preferences", order=95)] if account.email else []
    if tk.can("settings.manage", account=account):  # the send log and the test e-mail
        items.append(tk.NavItem(_l("E-mail sending"), "email.admin", order=96))
    return items


@tk.hookimpl
def portal_cli_commands():
    from portal_email.cli import email_group

    return [email_group]


@tk.hookimpl
def portal_personal_data(member):
    from portal_email.personal import personal_data

    return personal_data(member)
