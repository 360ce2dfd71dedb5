"""The SMS provider interface, the bundled ``log`` provider, and loading the one the setting names."""
from __future__ import annotations

import importlib
from typing import Protocol

from sqlalchemy import insert

from portal import toolkit as tk
from portal.toolkit import lazy_gettext as _l
from portal_sms_example.models import SmsLogEntry

#: What each kind of provider setting means, shown on the SMS log page.
PROVIDER_KINDS = {
    "": _l("No provider is set: no SMS is sent."),
    "log": _l("The \"log\" provider: nothing is sent, urgent messages are written here."),
    "gateway": _l("A gateway named by its factory: urgent messages are sent as SMS."),
}


def provider_kind(spec: str) -> str:
    """The key of :data:`PROVIDER_KINDS` that ``spec`` (the setting) falls under."""
    spec = (spec or "").strip()
    return spec if spec in ("", "log") else "gateway"


class SmsProvider(Protocol):
    """A gateway that sends one text message; raises on failure (the channel records it)."""

    def send(self, phone: str, text: str) -> None:
        """Send ``text`` to ``phone`` (digits, as the portal keeps them)."""


class LogProvider:
    """Sends nothing: writes each message to ``sms_example_log`` (its own transaction) for an admin to read."""

    def send(self, phone: str, text: str) -> None:
        """Keep the message in the log table."""
        with tk.db.engine.begin() as conn:  # the channel runs after the commit: a transaction of its own
            conn.execute(insert(SmsLogEntry).values(phone=phone, text=text[:500], created_at=tk.utcnow()))


def load(spec: str) -> SmsProvider | None:
    """The provider a setting names: ``log``, or ``package.module:factory`` (called with no arguments);
    None for an empty setting. An unknown module or factory raises (shown against the plugin)."""
    spec = (spec or "").strip()
    if not spec:
        return None
    if spec == "log":
        return LogProvider()
    module_name, _, factory = spec.partition(":")
    if not factory:
        raise ValueError(f"SMS provider {spec!r}: write it as package.module:factory")
    return getattr(importlib.import_module(module_name), factory)()
