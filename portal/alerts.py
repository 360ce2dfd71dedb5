"""Turning plugins' alerts into inbox messages (``portal alerts scan``)."""
from __future__ import annotations

from datetime import datetime

from portal.database import utcnow, write_intent
from portal.extensions import db
from portal.notify.services import notify
from portal.org.models import OrgUnit
from portal.org.services import secretaries_of
from portal.plugins.manager import call_list


def scan(now: datetime | None = None) -> int:
    """Run ``portal_alerts_scan`` on every enabled plugin and notify; returns how many alerts."""
    now = now or utcnow()
    with write_intent():
        alerts = call_list("portal_alerts_scan", now=now)
        for alert in alerts:
            recipients = list(alert.account_ids)
            if not recipients and alert.unit_id:
                recipients = secretaries_of(db.session.get(OrgUnit, alert.unit_id))
            notify(recipients, alert.message, url=alert.url or None, kind=f"alert.{alert.kind}")
        db.session.commit()
    return len(alerts)
