"""The audit log screen for admins, with filters."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from portal.accounts.models import Account
from portal.audit.models import AuditEntry
from portal.org.permissions import require
from portal.web.pagination import paginate

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def _parse_day(value: str | None):
    try:
        return datetime.strptime(value, "%Y-%m-%d") if value else None
    except ValueError:
        return None


@bp.get("/")
@login_required
def index():
    """Entries newest first; filter by action, actor username, target and date range."""
    require("audit.view")
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    action = (request.args.get("action") or "").strip()
    actor = (request.args.get("actor") or "").strip()
    target = (request.args.get("target_type") or "").strip()
    since, until = _parse_day(request.args.get("since")), _parse_day(request.args.get("until"))
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if actor:
        query = query.where(AuditEntry.actor.has(Account.username == actor))
    if target:
        query = query.where(AuditEntry.target_type == target)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until + timedelta(days=1))
    page = paginate(query, per_page=50)
    return render_template("audit/index.html", page=page, filters=request.args)
