"""Putting messages in inboxes and handing them to delivery channels after commit."""
from __future__ import annotations

from typing import ContextManager, Iterable

from flask import current_app, g, has_app_context, has_request_context
from flask_babel import LazyString, force_locale
from sqlalchemy import ColumnElement, ScalarSelect, bindparam, event, func, select, update
from sqlalchemy.orm import Session

from portal.database import utcnow
from portal.extensions import db
from portal.i18n import LazyMessage, translate
from portal.notify.models import Notification
from portal.plugins.manager import call_each, call_list, get_manager
from portal.plugins.types import NotificationKind


def notify(account_ids: Iterable[int], title, body="", url: str | None = None,
           kind: str = "general") -> list[Notification]:
    """Add a message to each account's inbox (caller commits).

    Pass ``title``/``body`` as ``lazy_gettext(...)`` strings and every reader
    sees them in their own language; plain strings are shown as they are.
    Plugin channels (``portal_delivery_channels``) receive each message only
    after the transaction commits, so a rolled-back action sends nothing.
    """
    message = {"title": _portable(title), "body": _portable(body)}
    message = message if any(isinstance(v, dict) for v in message.values()) else None
    notes = [Notification(account_id=aid, title=str(title)[:200], body=str(body), url=url, kind=kind, message=message)
             for aid in dict.fromkeys(a for a in account_ids if a)]
    db.session.add_all(notes)
    _forget_unread()
    pending = db.session.info.setdefault("pending_deliveries", [])
    pending.extend(notes)
    return notes


def _portable(text):
    """A lazy string as ``{"msgid", "params"}`` (nested lazy parameters too); anything else as None.

    A plugin's lazy string (``tk.lazy_gettext``) also keeps its ``domain`` and
    ``context`` so it is translated later from the plugin's own catalog.
    """
    if not isinstance(text, LazyString) or not text._args:
        return None
    params = {key: _portable(value) or (value if isinstance(value, (int, float)) else str(value))
              for key, value in text._kwargs.items()}
    message = {"msgid": text._args[0], "params": params}
    if isinstance(text, LazyMessage):
        message.update(domain=text.domain, context=text.context)
    return message


def localize(message: dict | None, fallback: str) -> str:
    """Translate a stored ``{"msgid", "params"}`` in the current locale, else ``fallback``."""
    if not message:
        return fallback
    params = {key: localize(value, "") if isinstance(value, dict) else value
              for key, value in message.get("params", {}).items()}
    try:
        source = message["msgid"]  # a variable, so the extractor does not take "msgid" for a message
        return translate(message.get("domain"), message.get("context"), source, **params)
    except (KeyError, ValueError, TypeError):
        return fallback


def render_for(note: Notification, locale: str | None) -> tuple[str, str]:
    """Title and body in ``locale`` (for delivery channels sending outside the reader's request)."""
    with reader_locale(locale):
        return note.display_title, note.display_body


def reader_locale(locale: str | None) -> ContextManager[None]:
    """Translate in a reader's language (``Account.locale``; none: the site's ``DEFAULT_LOCALE``) for the
    ``with`` block: text a channel writes to someone outside their own request (an e-mail, an SMS)."""
    from portal.i18n import CATALOG_NAMES, normalize_locale

    code = normalize_locale(locale) or (normalize_locale(current_app.config.get("DEFAULT_LOCALE"))
                                        if has_app_context() else None)
    return force_locale(CATALOG_NAMES.get(code or "", code) or "zh_Hans_CN")


def notification_kinds() -> list[NotificationKind]:
    """Every kind the enabled plugins declare (``portal_notification_kinds``), first declaration wins."""
    kinds: dict[str, NotificationKind] = {}
    for item in call_list("portal_notification_kinds"):
        kinds.setdefault(item.kind, item)
    return list(kinds.values())


def declared_kind(kind: str, kinds: Iterable[NotificationKind] | None = None) -> NotificationKind | None:
    """The declaration ``kind`` falls under: itself, else its longest dotted prefix (``alert`` for
    ``alert.care.overdue``), else None ("Other messages")."""
    by_kind = {item.kind: item for item in (notification_kinds() if kinds is None else kinds)}
    parts = kind.split(".")
    for end in range(len(parts), 0, -1):
        if (found := by_kind.get(".".join(parts[:end]))) is not None:
            return found
    return None


_INBOX = Notification.__table__
#: Built once: the header badge asks on every page (columns, not entities, and no statement to build).
_UNREAD = select(func.count()).select_from(_INBOX).where(_INBOX.c.account_id == bindparam("account"),
                                                        _INBOX.c.read_at.is_(None))
_MESSAGES = select(func.count()).select_from(_INBOX).where(_INBOX.c.account_id == bindparam("account"))


def message_count(account_id: int) -> int:
    """Number of messages in an inbox, read or not (its pages)."""
    return db.session.execute(_MESSAGES, {"account": account_id}).scalar() or 0


def unread_count(account_id: int) -> int:
    """Number of unread messages (once per request: the logged-in account's comes with its own load)."""
    known = _known_unread().get(account_id)
    if known is None:
        known = _known_unread()[account_id] = db.session.execute(_UNREAD, {"account": account_id}).scalar() or 0
    return known


def unread_column(account_id: ColumnElement[int]) -> ScalarSelect[int]:
    """The unread count of the account ``account_id`` names, as a column of another statement."""
    return (select(func.count()).select_from(_INBOX)
            .where(_INBOX.c.account_id == account_id, _INBOX.c.read_at.is_(None)).scalar_subquery())


def remember_unread(account_id: int, count: int) -> None:
    """An unread count read with something else (the logged-in account's load), for this request's pages."""
    _known_unread()[account_id] = count or 0


def _known_unread() -> dict[int, int]:
    """The unread counts read in this request (outside one: a fresh dict, nothing kept)."""
    return g.setdefault("_unread_counts", {}) if has_request_context() else {}


def _forget_unread() -> None:
    """A message added or read: the next count reads the database again."""
    if has_request_context():
        g.pop("_unread_counts", None)


def mark_read(account_id: int, notification_id: int | None = None) -> None:
    """Mark one message (or all) as read (caller commits)."""
    stmt = update(Notification).where(Notification.account_id == account_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    db.session.execute(stmt.values(read_at=utcnow()))
    _forget_unread()


def install_delivery_hooks() -> None:
    """Register the session events that hand messages to channels (once per process)."""
    if not event.contains(Session, "after_commit", _deliver_after_commit):
        event.listen(Session, "before_commit", _resolve_channels)
        event.listen(Session, "after_commit", _deliver_after_commit)
        event.listen(Session, "after_rollback", _drop_after_rollback)


def _resolve_channels(session) -> None:
    """Ask the enabled plugins for their channels while the transaction can still read who is enabled.

    After the commit no SQL may be sent, and the enabled state is read from
    the database; so the channels are looked up here, before the outermost commit.
    """
    if (not session.info.get("pending_deliveries") or session.in_nested_transaction()
            or not has_app_context() or "delivery_channels" in session.info):
        return
    session.info["delivery_channels"] = [(plugin, channel) for plugin, channels in
                                         call_each("portal_delivery_channels") for channel in channels]


def _deliver_after_commit(session) -> None:
    pending = session.info.pop("pending_deliveries", None)
    channels = session.info.pop("delivery_channels", [])
    for note in pending or []:
        for plugin, channel in channels:
            try:
                channel.deliver(note)
            except Exception as exc:  # one channel failing must not stop the others
                get_manager().report_failure(plugin, f"portal_delivery_channels ({channel.name})", exc)


def _drop_after_rollback(session) -> None:
    session.info.pop("pending_deliveries", None)
    session.info.pop("delivery_channels", None)
