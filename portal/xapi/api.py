"""``GET /api/v1/xapi/statements``: the activity stream as an xAPI StatementResult, for admins and organizers.

Deliberately not paged by ``tk.api_page``: xAPI clients expect its own shape (``{"statements", "more"}``)
and page by following ``more``, which carries an opaque cursor after the last statement given, so a
statement recorded meanwhile neither shifts nor repeats the following pages.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select

from portal.activity.models import Activity
from portal.api.util import api_login_required, openapi_responses
from portal.errors import BadRequest, Forbidden
from portal.extensions import db
from portal.org.models import OrgUnit
from portal.org.permissions import can, is_admin, unit_scope
from portal.timeutil import local_zone
from portal.xapi.statements import XAPI_VERSION, statements_for

bp = Blueprint("xapi_api", __name__, url_prefix="/api/v1")

#: Who reads statements (site admins: everything; organizers: their subtree's members).
PERMISSION = "xapi.statements"
DEFAULT_LIMIT, MAX_LIMIT = 100, 500

API_PATHS = {
    "/api/v1/xapi/statements": {"get": {
        "summary": "The activity stream as xAPI 1.0.3 statements (a StatementResult), oldest first",
        "description": "Site admins read every statement; organizers those naming a home or host branch in a "
                       "subtree they organize. since (exclusive) and until (inclusive) are ISO 8601 times; "
                       "without an offset they are local time. more is the relative URL of the following "
                       "statements, an empty string after the last. The answer carries "
                       "X-Experience-API-Version: 1.0.3.",
        "parameters": [
            {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
            {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                                        "default": DEFAULT_LIMIT}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"},
             "description": "Opaque: taken from a previous answer's more"}],
        "responses": openapi_responses("400", description="A StatementResult", schema={
            "type": "object", "required": ["statements", "more"], "properties": {
                "statements": {"type": "array", "items": {"type": "object"}}, "more": {"type": "string"}}}),
    }},
}


@bp.get("/xapi/statements")
@api_login_required
def statements():
    """One page of statements in the caller's scope, ``more`` continuing after its last one."""
    if not can(PERMISSION):
        raise Forbidden(_("Only site admins and organizers may read the learning records."))
    since, until = _time_arg("since"), _time_arg("until")
    limit, after = _limit_arg(), _cursor_arg()
    query = _scoped(select(Activity))
    if since is not None:
        query = query.where(Activity.created_at > since)
    if until is not None:
        query = query.where(Activity.created_at <= until)
    if after is not None:
        query = query.where(or_(Activity.created_at > after[0], and_(Activity.created_at == after[0],
                                                                     Activity.id > after[1])))
    rows = list(db.session.scalars(query.order_by(Activity.created_at, Activity.id).limit(limit + 1)))
    page = rows[:limit]
    more = _more_url(page[-1]) if len(rows) > limit else ""
    response = jsonify({"statements": statements_for(page), "more": more})
    response.headers["X-Experience-API-Version"] = XAPI_VERSION
    return response


def _scoped(query: Select) -> Select:
    """Only activities naming a home or host branch in a subtree the caller organizes (admins: all)."""
    if is_admin():
        return query
    units = select(OrgUnit.id).where(unit_scope(PERMISSION))
    return query.where(or_(Activity.home_unit_id.in_(units), Activity.host_unit_id.in_(units)))


def _time_arg(name: str) -> datetime | None:
    """``?since=``/``?until=`` as naive UTC (as stored); local time when it has no offset."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))  # a "+" left unescaped in a URL is a space
    except ValueError:
        raise BadRequest(_("%(name)s must be an ISO 8601 time, e.g. 2026-11-30T09:00:00+08:00.", name=name),
                         field=name) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def _limit_arg() -> int:
    raw = request.args.get("limit", "")
    try:
        limit = int(raw) if raw else DEFAULT_LIMIT
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(_("limit must be a whole number from 1 to %(most)s.", most=MAX_LIMIT), field="limit")
    return limit


def _cursor_arg() -> tuple[datetime, int] | None:
    raw = request.args.get("cursor")
    if not raw:
        return None
    try:
        at, activity_id = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
        return datetime.fromisoformat(at), int(activity_id)
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise BadRequest(_("The cursor is not one this API gave; start again without it."), field="cursor") from None


def _more_url(last: Activity) -> str:
    """The relative URL of the statements after ``last``, with the same filters."""
    token = base64.urlsafe_b64encode(json.dumps([last.created_at.isoformat(), last.id]).encode()).decode().rstrip("=")
    args: dict[str, Any] = {**request.args.to_dict(), "cursor": token}
    return url_for("xapi_api.statements", **args)
