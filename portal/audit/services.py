"""Writing audit entries.

An entry made while handling a writing request (or outside a request) joins
the caller's transaction, so it stands or falls with the action. A view of
sensitive data on a GET page has no action to join: the page's transaction is
a reader, and turning it into a writer fails on SQLite when another request
wrote since it began ("database is locked"). Such an entry is written in its
own short transaction that takes the write lock up front, retried a few times.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from portal.audit.models import AuditEntry
from portal.database import is_reading_request, utcnow, write_intent
from portal.extensions import db

log = logging.getLogger(__name__)

#: How often a view's own audit transaction is tried before the error reaches the page.
VIEW_AUDIT_TRIES = 5


def audit(action: str, target_type: str | None = None, target_id: Any = None, *,
          unit_id: int | None = None, actor_account_id: int | None = None, **details: Any) -> AuditEntry:
    """Record an administrative action or a view of sensitive data.

    In a writing request (or a CLI command, or once the page's transaction has
    written) the caller commits; on a reading page the entry is committed at
    once in its own transaction.
    """
    if actor_account_id is None and has_request_context() and current_user.is_authenticated:
        actor_account_id = current_user.id
    entry = AuditEntry(
        action=action, target_type=target_type, target_id=None if target_id is None else str(target_id),
        unit_id=unit_id, actor_account_id=actor_account_id,
        ip=request.remote_addr if has_request_context() else None,
        details={k: (v if isinstance(v, (int, float, bool, type(None))) else str(v)) for k, v in details.items()},
    )
    if is_reading_request():
        _write_alone(entry)
    else:
        db.session.add(entry)
    return entry


def _write_alone(entry: AuditEntry) -> None:
    """Commit ``entry`` in a transaction of its own (SQLite: ``BEGIN IMMEDIATE``), retrying a busy database."""
    entry.at = utcnow()
    values = {column.key: getattr(entry, column.key) for column in AuditEntry.__table__.columns if column.key != "id"}
    for attempt in range(1, VIEW_AUDIT_TRIES + 1):
        try:
            with write_intent(), db.engine.begin() as connection:
                entry.id = connection.execute(insert(AuditEntry).values(**values)).inserted_primary_key[0]
            return
        except OperationalError:
            if attempt == VIEW_AUDIT_TRIES:
                raise
            log.warning("audit entry %s: database busy, try %d of %d", entry.action, attempt, VIEW_AUDIT_TRIES)
            time.sleep(0.05 * attempt)

