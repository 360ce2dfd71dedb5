"""JSON API: ``/api/v1/points/me`` and ``/api/v1/points/leaderboard``."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_points import leaderboard as boards
from portal_points.models import PERIODS
from portal_points.services import (
    badge_label, badges_of, entry_reason, history_query, level_for, member_totals, reversed_ids,
)

bp = Blueprint("points_api", __name__, url_prefix="/api/v1/points")


def _history(member_id: int, limit: int = 20) -> list[dict]:
    entries = list(tk.db.session.scalars(history_query(member_id).limit(limit)))
    undone = reversed_ids(e.id for e in entries)
    return [{"id": e.id, "points": e.points, "kind": e.kind, "category": e.category, "reason": entry_reason(e),
             "at": tk.isoformat(e.created_at), "reversed": e.id in undone} for e in entries]


@bp.get("/me")
@tk.api_login_required
def me():
    """The current member's points today, this month, in total, their level and recent history."""
    member = tk.current_account().member
    if member is None:
        return tk.api_error(404, "not_found", _("This account has no member profile."))
    totals = member_totals(member.id)
    level = level_for(totals["all"])
    return jsonify({
        "total": totals["all"], "today": totals["day"], "month": totals["month"],
        "level": {"number": level.number, "next_at": level.next_at, "to_next": level.to_next,
                  "progress": level.progress},
        "badges": [{"kind": b.kind, "label": badge_label(b), "at": tk.isoformat(b.awarded_at)}
                   for b in badges_of(member.id)],
        "history": _history(member.id),
    })


@bp.get("/leaderboard")
@tk.api_login_required
def leaderboard():
    """Top members under a unit for a period, and the caller's own rank."""
    account = tk.current_account()
    member = account.member
    period = request.args.get("period", "month")
    if period not in PERIODS:
        return tk.api_error(400, "bad_request", _("period must be one of day, month, quarter, year, all."))
    raw = request.args.get("unit")
    if raw:
        try:
            unit_id = int(raw)
        except ValueError:
            return tk.api_error(400, "bad_request", _("unit must be a unit id."))
        unit = tk.db.session.get(tk.OrgUnit, unit_id) if 0 < unit_id <= tk.MAX_ID else None
    else:
        units = boards.board_units_for(member, account)
        unit = member.home_unit if member is not None else (units[0] if units else None)
    if unit is None or not boards.can_view_board(unit, member, account):
        return tk.api_error(404, "not_found", _("Not found."))
    size = int(tk.get_setting("points", "leaderboard_size") or 50)
    board = boards.leaderboard(unit, period, viewer_member=member, limit=size)
    return jsonify({
        "unit": {"id": unit.id, "name": unit.name}, "period": period,
        "entries": [row.as_json() for row in board.rows],
        "me": board.me.as_json() if board.me else None,
    })


_ERROR = {"$ref": "#/components/responses/Error"}
OPENAPI_PATHS = {
    "/api/v1/points/me": {"get": {
        "summary": "The current member's points: total, today, this month, level, badges, recent history",
        "responses": {"200": {"description": "Points", "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "total": {"type": "integer"}, "today": {"type": "integer"}, "month": {"type": "integer"},
                "level": {"type": "object", "properties": {
                    "number": {"type": "integer"}, "next_at": {"type": "integer", "nullable": True},
                    "to_next": {"type": "integer", "nullable": True}, "progress": {"type": "integer"}}},
                "badges": {"type": "array", "items": {"type": "object"}},
                "history": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "points": {"type": "integer"}, "kind": {"type": "string"},
                    "category": {"type": "string"}, "reason": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"}, "reversed": {"type": "boolean"}}}}}}}}},
            "401": _ERROR, "404": _ERROR}}},
    "/api/v1/points/leaderboard": {"get": {
        "summary": "Top members under a unit for a period, and the caller's rank",
        "parameters": [
            {"name": "unit", "in": "query", "schema": {"type": "integer"},
             "description": "Unit id (default: the caller's home branch)"},
            {"name": "period", "in": "query", "schema": {"type": "string", "enum": list(PERIODS), "default": "month"}},
        ],
        "responses": {"200": {"description": "The board", "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "unit": {"$ref": "#/components/schemas/UnitRef"}, "period": {"type": "string"},
                "entries": {"type": "array", "items": {"type": "object", "properties": {
                    "rank": {"type": "integer"}, "points": {"type": "integer"},
                    "member": {"type": "object", "nullable": True,
                               "description": "null when the member keeps their name private on this board"},
                    "hosted": {"type": "boolean",
                               "description": "on this board because the member is hosted under the unit "
                                              "(their home branch is elsewhere)"}}}},
                "me": {"type": "object", "nullable": True}}}}}},
            "400": _ERROR, "401": _ERROR, "404": _ERROR}}},
}
