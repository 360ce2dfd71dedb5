"""Writing audit entries."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from portal.audit.models import AuditEntry
from portal.extensions import db


def audit(action: str, target_type: str | None = None, target_id: Any = None, *,
          unit_id: int | None = None, actor_account_id: int | None = None, **details: Any) -> AuditEntry:
    """Record an administrative action or a view of sensitive data (caller commits)."""
    if actor_account_id is None and has_request_context() and current_user.is_authenticated:
        actor_account_id = current_user.id
    entry = AuditEntry(
        action=action, target_type=target_type, target_id=None if target_id is None else str(target_id),
        unit_id=unit_id, actor_account_id=actor_account_id,
        ip=request.remote_addr if has_request_context() else None,
        details={k: (v if isinstance(v, (int, float, bool, type(None))) else str(v)) for k, v in details.items()},
    )
    db.session.add(entry)
    return entry
