"""Turning plugins' alerts into inbox messages (``portal alerts scan``), or previewing them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.accounts.models import Account
from portal.database import utcnow, write_intent
from portal.extensions import db
from portal.notify.services import notify
from portal.org.models import OrgUnit
from portal.org.services import responsible_accounts
from portal.plugins.manager import call_list
from portal.plugins.types import Alert


@dataclass(frozen=True)
class Delivery:
    """An alert and who is told: the unit they answer for (None when the alert named them) and their accounts."""

    alert: Alert
    unit: OrgUnit | None
    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class PreviewLine:
    """One message a scan would send, as plain text: for the operator's preview."""

    unit: str
    kind: str
    recipients: tuple[str, ...]
    message: str


def raise_alerts(now: datetime) -> list[Delivery]:
    """Run ``portal_alerts_scan`` on every enabled plugin and find who is told of each alert (nothing is sent)."""
    return resolve(call_list("portal_alerts_scan", now=now))


def resolve(alerts: list[Alert]) -> list[Delivery]:
    """Who is told of each alert: the accounts it names, or the people the one rule finds for its unit.

    The rule is :func:`responsible_accounts` with the alert's permission.
    """
    resolved: dict[tuple[int, str], tuple[OrgUnit | None, list[int]]] = {}
    deliveries = []
    for alert in alerts:
        if alert.account_ids:
            deliveries.append(Delivery(alert, None, tuple(dict.fromkeys(alert.account_ids))))
            continue
        if alert.unit_id is None:
            continue  # nobody to tell and nowhere to look: a plugin bug, not worth stopping the scan
        key = (alert.unit_id, alert.permission)
        if key not in resolved:  # one lookup per unit and permission, however many members are flagged
            resolved[key] = responsible_accounts(db.session.get(OrgUnit, alert.unit_id), alert.permission)
        unit, accounts = resolved[key]
        deliveries.append(Delivery(alert, unit, tuple(accounts)))
    return deliveries


def deliver(alerts: list[Alert]) -> int:
    """Put ``alerts`` in the inboxes of the people :func:`resolve` finds (caller commits); returns how many."""
    deliveries = resolve(alerts)
    for delivery in deliveries:
        alert = delivery.alert
        notify(delivery.account_ids, alert.message, url=alert.url or None, kind=f"alert.{alert.kind}")
    return len(deliveries)


def scan(now: datetime | None = None) -> int:
    """Raise every plugin's alerts, put them in the inboxes and commit; returns how many alerts."""
    now = now or utcnow()
    with write_intent():
        raised = deliver(call_list("portal_alerts_scan", now=now))
        db.session.commit()
    return raised


def preview(now: datetime) -> list[PreviewLine]:
    """What a scan at ``now`` would send, alerts and the plugins' own notices; writes nothing.

    The plugins' scans change state as they go (flags, escalation markers), so
    they run in a transaction that is rolled back: nothing is kept, nothing is
    delivered (channels deliver only after a commit).
    """
    try:
        deliveries = raise_alerts(now)
        lines = [PreviewLine(d.unit.name if d.unit else "", d.alert.kind, _usernames(d.account_ids),
                             str(d.alert.message)) for d in deliveries]
        # notices plugins sent themselves during their scan (e.g. a request closed automatically)
        for note in db.session.info.get("pending_deliveries", []):
            lines.append(PreviewLine("", note.kind, _usernames([note.account_id]), note.title))
        return lines
    finally:
        db.session.rollback()


def _usernames(account_ids) -> tuple[str, ...]:
    ids = list(account_ids)
    names = dict(db.session.execute(select(Account.id, Account.username).where(Account.id.in_(ids))).all()) if ids else {}
    return tuple(names.get(aid, f"#{aid}") for aid in ids)
