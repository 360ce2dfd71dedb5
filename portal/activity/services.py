"""Recording activities exactly once, and reading a member's last activity."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.activity.models import Activity
from portal.database import utcnow
from portal.extensions import db
from portal.org.models import Member
from portal.plugins.manager import get_manager
from portal.xapi.models import XapiOutbox


def record_activity(member: Member, verb: str, object_type: str, object_id: Any, *,
                    key: str | None = None, extras: dict | None = None,
                    at: datetime | None = None) -> tuple[Activity, bool]:
    """Record that ``member`` did ``verb`` to an object, once.

    Written in the caller's transaction; the ``portal_activity_recorded`` hook
    runs in that same transaction (a SAVEPOINT per plugin). ``key`` is the
    idempotency key (default ``verb:member:object_type:object_id``): recording
    the same key again — a retry, a double tap, a concurrent request — returns
    the existing row. While a learning record store is configured (``XAPI_ENDPOINT``),
    a new activity also gets its row in the xAPI outbox. Returns ``(activity, created)``.
    """
    key = key or f"{verb}:{member.id}:{object_type}:{object_id}"
    activity = Activity(
        idempotency_key=key[:200], actor_id=member.id, verb=verb, object_type=object_type,
        object_id=str(object_id), home_unit_id=member.home_unit_id, host_unit_id=member.host_unit_id,
        created_at=at or utcnow(), extras=extras or {},
    )
    try:
        with db.session.begin_nested():
            db.session.add(activity)
            db.session.flush()
    except IntegrityError:
        existing = db.session.scalar(select(Activity).where(Activity.idempotency_key == activity.idempotency_key))
        if existing is None:  # the conflict was something else: let the caller see it
            raise
        return existing, False
    if current_app.config.get("XAPI_ENDPOINT"):  # pushed to the learning record store later, never lost
        db.session.add(XapiOutbox(activity_id=activity.id))
    if member.last_active_at is None or member.last_active_at < activity.created_at:
        member.last_active_at = activity.created_at
    get_manager().call_each("portal_activity_recorded", activity=activity)  # a SAVEPOINT per plugin
    return activity, True


def last_active(member_id: int) -> datetime | None:
    """When the member last did anything recorded in the stream."""
    return db.session.scalar(select(func.max(Activity.created_at)).where(Activity.actor_id == member_id))
