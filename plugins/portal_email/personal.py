"""What the e-mail plugin holds about a member (personal data): the chosen modes and the e-mails sent."""
from __future__ import annotations

from sqlalchemy import select

from portal import toolkit as tk
from portal.toolkit import lazy_gettext as _l
from portal_email import preferences
from portal_email.models import EmailPreference, EmailSend

STATUS_LABELS = {"sending": _l("Being sent"), "sent": _l("Sent"), "failed": _l("Failed, tried again")}


def personal_data(member) -> list[tk.PersonalSection]:
    """The member's stored choices per kind, and the send log of their messages."""
    account_id = member.account_id
    if account_id is None:
        return []
    labels = {kind.kind: kind.label for kind in preferences.kinds()}
    choices = tk.db.session.scalars(select(EmailPreference).where(EmailPreference.account_id == account_id)
                                    .order_by(EmailPreference.kind)).all()
    sends = tk.db.session.scalars(select(EmailSend).where(EmailSend.account_id == account_id)
                                  .order_by(EmailSend.id.desc())).all()
    return [
        tk.PersonalSection("preferences", _l("E-mail settings"), (
            ("kind", _l("Messages"), "choice", labels), ("mode", _l("By e-mail"), "choice", preferences.MODE_LABELS),
        ), [{"kind": row.kind, "mode": row.mode} for row in choices]),
        tk.PersonalSection("sent", _l("E-mails sent"), (
            ("notification_id", _l("Message"), "number"), ("mode", _l("By e-mail"), "choice", preferences.MODE_LABELS),
            ("status", _l("Status"), "choice", STATUS_LABELS), ("sent_at", _l("Sent"), "datetime"),
        ), [{"notification_id": row.notification_id, "mode": row.mode, "status": row.status, "sent_at": row.sent_at}
            for row in sends]),
    ]
