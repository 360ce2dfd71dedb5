"""Putting messages in inboxes and handing them to delivery channels after commit."""
from __future__ import annotations

import logging
from typing import Iterable

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from portal.database import utcnow
from portal.extensions import db
from portal.notify.models import Notification
from portal.plugins.manager import call_list

log = logging.getLogger(__name__)


def notify(account_ids: Iterable[int], title: str, body: str = "", url: str | None = None,
           kind: str = "general") -> list[Notification]:
    """Add a message to each account's inbox (caller commits).

    Plugin channels (``portal_delivery_channels``) receive each message only
    after the transaction commits, so a rolled-back action sends nothing.
    """
    notes = [Notification(account_id=aid, title=str(title)[:200], body=str(body), url=url, kind=kind)
             for aid in dict.fromkeys(a for a in account_ids if a)]
    db.session.add_all(notes)
    pending = db.session.info.setdefault("pending_deliveries", [])
    pending.extend(notes)
    return notes


def unread_count(account_id: int) -> int:
    """Number of unread messages."""
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == account_id, Notification.read_at.is_(None))) or 0


def mark_read(account_id: int, notification_id: int | None = None) -> None:
    """Mark one message (or all) as read (caller commits)."""
    stmt = update(Notification).where(Notification.account_id == account_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    db.session.execute(stmt.values(read_at=utcnow()))


def install_delivery_hooks() -> None:
    """Register the session events that hand messages to channels (once per process)."""
    if not event.contains(Session, "after_commit", _deliver_after_commit):
        event.listen(Session, "after_commit", _deliver_after_commit)
        event.listen(Session, "after_rollback", _drop_after_rollback)


def _deliver_after_commit(session) -> None:
    pending = session.info.pop("pending_deliveries", None)
    if not pending:
        return
    try:
        channels = call_list("portal_delivery_channels")
    except Exception:  # no app context (e.g. a bare script)
        return
    for note in pending:
        for channel in channels:
            try:
                channel.deliver(note)
            except Exception:
                log.exception("delivery channel %s failed", channel.name)


def _drop_after_rollback(session) -> None:
    session.info.pop("pending_deliveries", None)
