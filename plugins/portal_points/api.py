"""JSON API: ``/api/v1/points/me`` and ``/api/v1/points/leaderboard``."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_points import leaderboard as boards
from portal_points.models import PERIODS, PointsCampaign
from portal_points.services import (
    all_rules, badge_label, badges_of, can_view_campaign, describe_version, entry_reason, history_query, level_for,
    member_totals, reversed_ids, rules_in_force, verb_registry, visible_campaigns,
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
        "hide_from_public_boards": member.hide_from_public_boards,
    })


@bp.post("/privacy")
@tk.api_login_required
def privacy():
    """``{"hide": true|false}``: hide (or show) the caller's name on boards outside their own branch."""
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("This account has no member profile."))
    hide = tk.api_json().get("hide")
    if not isinstance(hide, bool):
        raise tk.Invalid(_("Send hide as true or false."), field="hide")
    boards.set_hidden_from_public_boards(member, hide)
    tk.db.session.commit()
    return jsonify({"hide_from_public_boards": member.hide_from_public_boards})


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


def _rule_json(rule, version, registry: dict) -> dict:
    return {"verb": rule.verb, "label": str(registry.get(rule.verb, {}).get("label", rule.verb)),
            "points": version.points if version else None,
            "conditions": [str(text) for text in describe_version(version)]}


@bp.get("/rules")
@tk.api_login_required
def rules():
    """How points are earned: every rule in force with its conditions in words (the web's rules page)."""
    rows = rules_in_force()
    tk.db.session.commit()  # the default rules, made at the first look
    registry = verb_registry()
    return jsonify({"rules": [_rule_json(rule, version, registry) for rule, version in rows]})


def _campaign_json(campaign) -> dict:
    return {"id": campaign.id, "name": campaign.name, "description": campaign.description,
            "starts_on": campaign.starts_on.isoformat(), "ends_on": campaign.ends_on.isoformat(),
            "owner_unit": {"id": campaign.owner_unit.id, "name": campaign.owner_unit.name},
            "finalized_at": tk.isoformat(campaign.finalized_at)}


@bp.get("/campaigns")
@tk.api_login_required
def campaigns():
    """Campaigns the caller takes part in or runs, newest first, paged."""
    account = tk.current_account()
    ids = [c.id for c in visible_campaigns(account.member, account)]
    query = (select(PointsCampaign).where(PointsCampaign.id.in_(ids))
             .order_by(PointsCampaign.starts_on.desc(), PointsCampaign.id.desc()))
    return jsonify(tk.api_page(query, _campaign_json, key="campaigns"))


@bp.get("/campaigns/<int:campaign_id>")
@tk.api_login_required
def campaign(campaign_id: int):
    """A campaign with its board (names hidden beyond the members' own branches) and its rules."""
    account = tk.current_account()
    item = tk.db.session.get(PointsCampaign, campaign_id) if campaign_id <= tk.MAX_ID else None
    if item is None or not can_view_campaign(item, account.member, account):
        raise tk.NotFound(_("Not found."))
    registry = verb_registry()
    board = boards.campaign_board(item, viewer_member=account.member)
    return jsonify({**_campaign_json(item), "entries": [row.as_json() for row in board],
                    "rules": [_rule_json(rule, rule.current, registry) for rule in all_rules(item)
                              if rule.current and rule.current.enabled]})


_ERROR = {"$ref": "#/components/responses/Error"}
_CAMPAIGN = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "starts_on": {"type": "string", "format": "date"}, "ends_on": {"type": "string", "format": "date"},
    "owner_unit": {"$ref": "#/components/schemas/UnitRef"},
    "finalized_at": {"type": "string", "format": "date-time", "nullable": True}}}
_RULE = {"type": "object", "properties": {
    "verb": {"type": "string"}, "label": {"type": "string"}, "points": {"type": "integer", "nullable": True},
    "conditions": {"type": "array", "items": {"type": "string"}}}}
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
                    "at": {"type": "string", "format": "date-time"}, "reversed": {"type": "boolean"}}}},
                "hide_from_public_boards": {"type": "boolean"}}}}}},
            "401": _ERROR, "404": _ERROR}}},
    "/api/v1/points/rules": {"get": {
        "summary": "How points are earned: the rules in force with their conditions in words",
        "responses": tk.openapi_responses(schema={"type": "object", "properties": {
            "rules": {"type": "array", "items": _RULE}}})}},
    "/api/v1/points/campaigns": {"get": {
        "summary": "Campaigns the caller takes part in or runs, newest first, paged",
        "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
        "responses": tk.openapi_responses("400", schema={"type": "object", "properties": {
            "campaigns": {"type": "array", "items": _CAMPAIGN}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}, "total": {"type": "integer"},
            "next": {"type": "string", "nullable": True}}})}},
    "/api/v1/points/campaigns/{id}": {"get": {
        "summary": "A campaign with its board and rules (404 unless the caller takes part in or runs it)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": tk.openapi_responses(schema={"allOf": [_CAMPAIGN, {"type": "object", "properties": {
            "entries": {"type": "array", "items": {"type": "object"}}, "rules": {"type": "array", "items": _RULE}}}]})}},
    "/api/v1/points/privacy": {"post": {
        "summary": "Hide (or show) the caller's name on boards outside their own branch",
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["hide"],
                                             "properties": {"hide": {"type": "boolean"}}}),
        "responses": tk.openapi_responses("403", "422", description="Saved", schema={
            "type": "object", "properties": {"hide_from_public_boards": {"type": "boolean"}}})}},
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
