"""Pushing the outbox to the configured learning record store (``portal xapi push``, from cron).

A run claims the due rows first (a short transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
write lock on SQLite) by moving their next attempt a lease ahead, so two runs on two machines never
send the same rows at once; a run that dies leaves them to the next run once the lease ends. Should a
statement reach the LRS twice anyway, it carries the same id both times and the LRS keeps one.

Answers: 200/204 sent; 409 (the LRS has that id already) sent; 400/413 for a batch: the batch is
halved until the statements the LRS refuses are found, which are parked with its message (never
retried); a network error, a timeout or any other answer: the rows back off (1 minute, doubling, at
most 6 hours) with the error kept.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.activity.models import Activity
from portal.config import public_url
from portal.database import utcnow, write_intent
from portal.extensions import db
from portal.xapi.models import XapiOutbox
from portal.xapi.statements import XAPI_VERSION, statements_for

#: ``next_attempt_at`` of a parked row: the LRS refused the statement itself, retrying cannot help.
PARKED_AT = datetime(9999, 1, 1)
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
#: How long a run holds the rows it claimed before another run may take them (it died meanwhile).
LEASE = timedelta(minutes=15)
#: Answers meaning "this batch holds a statement the LRS will never take".
REFUSED = (400, 413)


class LrsUnavailable(Exception):
    """The LRS could not be reached or answered something other than a verdict on the statements."""


@dataclass
class PushReport:
    """What one ``push`` did: rows sent, parked and backed off, and the last error met."""

    sent: int = 0
    parked: int = 0
    failed: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class OutboxStatus:
    """The outbox at a glance (``portal xapi status``, the admin page)."""

    pending: int
    sent: int
    parked: int
    last_error: str
    last_sent_at: datetime | None


def is_configured() -> bool:
    """Whether a learning record store is configured (activities are queued only then)."""
    return bool(current_app.config.get("XAPI_ENDPOINT"))


def enqueue_all() -> int:
    """Queue every activity not yet in the outbox (a backfill after connecting an LRS); returns how many."""
    with write_intent():
        queued = select(XapiOutbox.activity_id)
        ids = list(db.session.scalars(select(Activity.id).where(Activity.id.not_in(queued)).order_by(Activity.id)))
        db.session.add_all([XapiOutbox(activity_id=activity_id) for activity_id in ids])
        db.session.commit()
    return len(ids)


def push(limit: int | None = None) -> PushReport:
    """Send the due rows (at most ``limit``) in batches of ``XAPI_BATCH``; stops at the first unreachable LRS.

    Raises ``RuntimeError`` when ``PUBLIC_URL`` is not set (statements need the portal's address).
    """
    public_url()  # no address to name the statements by: refuse before claiming anything
    report = PushReport()
    size = max(1, int(current_app.config.get("XAPI_BATCH") or 50))
    while limit is None or report.sent + report.parked + report.failed < limit:
        want = size if limit is None else min(size, limit - report.sent - report.parked - report.failed)
        rows = _claim(want)
        if not rows:
            break
        try:
            _push_batch(rows, report)
        except LrsUnavailable as error:
            _back_off(rows, str(error), report)
            break
        finally:
            db.session.commit()
    return report


def _claim(count: int) -> list[XapiOutbox]:
    """Take up to ``count`` due rows for this run (their next attempt moves a lease ahead), committed."""
    db.session.commit()  # a read begun earlier must not be the claim's transaction (SQLite: BEGIN IMMEDIATE)
    now = utcnow()
    with write_intent():
        query = (select(XapiOutbox).where(XapiOutbox.sent_at.is_(None), XapiOutbox.next_attempt_at <= now)
                 .order_by(XapiOutbox.id).limit(count).with_for_update(skip_locked=True, of=XapiOutbox))
        rows = list(db.session.scalars(query))
        for row in rows:
            row.next_attempt_at = now + LEASE
        ids = [row.id for row in rows]
        db.session.commit()
    # Reloaded in one query (the commit expired them; touching each would read it alone).
    return list(db.session.scalars(select(XapiOutbox).where(XapiOutbox.id.in_(ids)).order_by(XapiOutbox.id)))


def _push_batch(rows: Sequence[XapiOutbox], report: PushReport) -> None:
    """Send ``rows``; on a refused batch, halve it until the refused statements are parked."""
    activities = db.session.scalars(select(Activity).where(Activity.id.in_([row.activity_id for row in rows])))
    by_id = {activity.id: activity for activity in activities}
    statements = dict(zip([row.id for row in rows], statements_for([by_id[row.activity_id] for row in rows]), strict=True))
    pending = [list(rows)]
    while pending:
        batch = pending.pop()
        status, message = _post([statements[row.id] for row in batch])
        if status not in REFUSED:
            _mark_sent(batch, report)
        elif len(batch) == 1:
            _park(batch[0], f"{status}: {message}", report)
        else:
            half = len(batch) // 2
            pending.extend([batch[half:], batch[:half]])


def _post(statements: list[dict]) -> tuple[int, str]:
    """POST ``statements`` to the LRS; ``(status, message)`` for a verdict, :class:`LrsUnavailable` otherwise."""
    config = current_app.config
    request = urllib.request.Request(
        config["XAPI_ENDPOINT"].rstrip("/") + "/statements", method="POST",
        data=json.dumps(statements, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION,
                 **_authorization(config.get("XAPI_USERNAME"), config.get("XAPI_PASSWORD"))})
    try:
        with urllib.request.urlopen(request, timeout=float(config.get("XAPI_TIMEOUT") or 10.0)) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")[:1000]
        if error.code in REFUSED or error.code == 409:
            return error.code, body
        raise LrsUnavailable(f"HTTP {error.code}: {body}") from None
    except (urllib.error.URLError, OSError) as error:  # refused, unreachable, timed out, reset
        raise LrsUnavailable(f"{type(error).__name__}: {getattr(error, 'reason', error)}") from None


def _authorization(username: str | None, password: str | None) -> dict[str, str]:
    if not username:
        return {}
    token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def _mark_sent(rows: Sequence[XapiOutbox], report: PushReport) -> None:
    now = utcnow()
    for row in rows:
        row.sent_at, row.last_error = now, ""
        row.attempts += 1
    report.sent += len(rows)


def _park(row: XapiOutbox, error: str, report: PushReport) -> None:
    row.attempts += 1
    row.next_attempt_at, row.last_error = PARKED_AT, error[:4000]
    report.parked += 1
    report.last_error = row.last_error


def _back_off(rows: Sequence[XapiOutbox], error: str, report: PushReport) -> None:
    """Retry later: 1 minute after the first failure, doubling, at most 6 hours (rows already decided stay)."""
    now = utcnow()
    for row in rows:
        if row.sent_at is not None or row.next_attempt_at == PARKED_AT:
            continue
        row.attempts += 1
        row.next_attempt_at = now + min(FIRST_BACKOFF * 2 ** min(row.attempts - 1, 20), MAX_BACKOFF)
        row.last_error = error[:4000]
        report.failed += 1
    report.last_error = error


def status() -> OutboxStatus:
    """Counts of pending, sent and parked rows, the latest error and the latest send."""
    counts = db.session.execute(select(
        func.count(XapiOutbox.id).filter(XapiOutbox.sent_at.is_(None), XapiOutbox.next_attempt_at < PARKED_AT),
        func.count(XapiOutbox.sent_at),
        func.count(XapiOutbox.id).filter(XapiOutbox.sent_at.is_(None), XapiOutbox.next_attempt_at >= PARKED_AT),
        func.max(XapiOutbox.sent_at),
    )).one()
    last_error = db.session.scalar(select(XapiOutbox.last_error).where(XapiOutbox.last_error != "")
                                   .order_by(XapiOutbox.id.desc()).limit(1))
    return OutboxStatus(pending=counts[0], sent=counts[1], parked=counts[2], last_error=last_error or "",
                        last_sent_at=counts[3])
