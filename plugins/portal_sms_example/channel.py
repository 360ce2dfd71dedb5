"""The delivery channel: urgent inbox messages also as a text message to the reader's phone."""
from __future__ import annotations

from sqlalchemy import select

from portal import toolkit as tk
from portal_sms_example import providers

PLUGIN = "sms_example"
#: A text message's length the gateways take in one part (Chinese: 70 characters).
MAX_LENGTH = 70


def deliver(note: tk.Notification) -> None:
    """Send ``note`` as SMS when a provider is set, its kind is urgent and the reader has a phone.

    Runs after the commit that made the message (:class:`tk.Deliver`): the settings and the declared
    kinds come from the app context's cache, filled while the channels were asked for before the commit;
    the reader's phone and language are read on a connection of its own.
    """
    provider = providers.load(tk.get_setting(PLUGIN, "provider") or "")
    if provider is None or not is_urgent(note.kind):
        return
    with tk.db.engine.connect() as conn:
        row = conn.execute(select(tk.Account.phone, tk.Account.locale).where(tk.Account.id == note.account_id)).first()
    if row is None or not row.phone:
        return
    title, _body = tk.render_notification(note, row.locale)
    provider.send(row.phone, title[:MAX_LENGTH])


def is_urgent(kind: str) -> bool:
    """Is a message of ``kind`` worth a text message (its declaration says ``urgent``)?"""
    declared = tk.declared_kind(kind)
    return declared is not None and declared.urgent
