"""JSON API under ``/api/v1/mobility`` (session or bearer token)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from portal.toolkit import gettext as _

from portal import toolkit as tk

from . import certificates, checkins, common, outflows, statistics
from .models import CheckIn, Outflow

bp = Blueprint("mobility_api", __name__, url_prefix="/api/v1/mobility")
db = tk.db


def _int(value, field: str) -> int:
    """An id from the JSON body; past ``tk.MAX_ID`` it names nothing (0: ``db.session.get`` finds None)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise tk.BadRequest(_("Please correct the marked fields."), {field: _("Send a number.")})
    return int(value) if int(value) <= tk.MAX_ID else 0


@bp.post("/outflows")
@tk.api_login_required
def create_outflow():
    """Register an outflow for the caller (or, for the home side, for ``member_id``)."""
    data = tk.api_json()
    account = tk.current_account()
    if data.get("member_id") not in (None, ""):
        member = db.session.get(tk.Member, _int(data["member_id"], "member_id"))
        if member is None or (member.account_id != account.id and not tk.can("mobility.manage", member.home_unit)):
            abort(404)
    else:
        member = account.member
        if member is None:
            return tk.api_error(403, "forbidden", _("This account has no member profile."))
    outflow = outflows.register_outflow(member, data, by_account=account)
    db.session.commit()
    return jsonify({"id": outflow.id, "status": outflow.status}), 201


@bp.post("/outflows/<int:outflow_id>/approve")
@tk.api_login_required
def approve(outflow_id: int):
    """The home secretary approves; the answer carries the new certificate."""
    outflow = db.session.get(Outflow, outflow_id)
    if outflow is None or not tk.can("mobility.manage", outflow.member.home_unit):
        abort(404)
    data = request.get_json(silent=True) or {}
    certificate = outflows.approve_outflow(outflow, by_account=tk.current_account(),
                                           note=data.get("note") if isinstance(data, dict) else None)
    db.session.commit()
    return jsonify({"id": outflow.id, "status": outflow.status, "certificate": {
        "number": certificate.number, "valid_until": certificate.valid_until.isoformat(),
        "verify_url": certificates.verify_url(certificate)}})


@bp.post("/checkins")
@tk.api_login_required
def create_checkin():
    """The caller checks in at ``host_unit_id``."""
    data = tk.api_json()
    member = tk.current_account().member
    if member is None:
        return tk.api_error(403, "forbidden", _("This account has no member profile."))
    host = db.session.get(tk.OrgUnit, _int(data.get("host_unit_id"), "host_unit_id"))
    checkin = checkins.request_checkin(member, host, by_account=tk.current_account())
    db.session.commit()
    return jsonify({"id": checkin.id, "status": checkin.status, "host_unit_id": checkin.host_unit_id}), 201


@bp.post("/checkins/<int:checkin_id>/confirm")
@tk.api_login_required
def confirm_checkin(checkin_id: int):
    """The host secretary confirms a check-in."""
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or not tk.can("mobility.host", checkin.host_unit):
        abort(404)
    checkins.confirm_checkin(checkin, by_account=tk.current_account())
    db.session.commit()
    return jsonify({"id": checkin.id, "status": checkin.status, "host_unit_id": checkin.host_unit_id,
                    "member_id": checkin.member_id})


@bp.get("/stats")
@tk.api_login_required
def stats():
    """Counts for ``?unit=<id>``'s subtree (members only) by province, age band, education, gender, duration,
    month — and the report ``table`` (outgoing and incoming rows) — as of ``?on=YYYY-MM-DD`` (default today)."""
    raw = request.args.get("unit", "")
    if not raw.isdigit():
        return tk.api_error(400, "bad_request", _("Send ?unit=<id>."), {"unit": _("Send a number.")})
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    if unit is None:
        abort(404)
    tk.require("mobility.stats", unit)
    raw_day = request.args.get("on", "")
    day = common.parse_date(raw_day) if raw_day else None
    if raw_day and day is None:
        return tk.api_error(400, "bad_request", _("Send ?on=YYYY-MM-DD."), {"on": _("Enter a date as YYYY-MM-DD.")})
    return jsonify(statistics.unit_stats(unit, on=min(day, tk.local_today()) if day else None))


_ERR = {"$ref": "#/components/responses/Error"}
_JSON = "application/json"


def _body(schema: dict) -> dict:
    return {"required": True, "content": {_JSON: {"schema": schema}}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


_STATUS = {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}

OPENAPI_PATHS = {
    "/api/v1/mobility/outflows": {"post": {
        "summary": "Register an outflow (外出登记) for the caller, or for member_id (home secretary)",
        "requestBody": _body({"type": "object", "required": ["destination_province", "destination_city", "start_date",
                                                             "reason"],
                              "properties": {"destination_province": {"type": "string"},
                                             "destination_city": {"type": "string"},
                                             "destination_district": {"type": "string"},
                                             "employer": {"type": "string"}, "industry": {"type": "string"},
                                             "start_date": {"type": "string", "format": "date"},
                                             "expected_months": {"type": "integer"}, "reason": {"type": "string"},
                                             "contact_there": {"type": "string"}, "member_id": {"type": "integer"}}}),
        "responses": {"201": _ok("Created", _STATUS), "401": _ERR, "404": _ERR, "409": _ERR, "422": _ERR}}},
    "/api/v1/mobility/outflows/{id}/approve": {"post": {
        "summary": "Approve an outflow and issue the activity certificate (home secretary)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _ok("Approved", {"type": "object", "properties": {
            "id": {"type": "integer"}, "status": {"type": "string"},
            "certificate": {"type": "object", "properties": {"number": {"type": "string"},
                                                             "valid_until": {"type": "string", "format": "date"},
                                                             "verify_url": {"type": "string"}}}}}),
            "401": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/mobility/checkins": {"post": {
        "summary": "Check in at a host branch (报到)",
        "requestBody": _body({"type": "object", "required": ["host_unit_id"],
                              "properties": {"host_unit_id": {"type": "integer"}}}),
        "responses": {"201": _ok("Waiting for the host secretary", _STATUS), "400": _ERR, "401": _ERR, "409": _ERR,
                      "422": _ERR}}},
    "/api/v1/mobility/checkins/{id}/confirm": {"post": {
        "summary": "Confirm a check-in (host secretary)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _ok("Confirmed", _STATUS), "401": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/mobility/stats": {"get": {
        "summary": "Mobility statistics of a unit's subtree",
        "parameters": [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}},
                       {"name": "on", "in": "query", "schema": {"type": "string", "format": "date"}}],
        "responses": {"200": _ok("Counts", {"type": "object", "properties": {
            "on": {"type": "string", "format": "date"}, "others_away": {"type": "integer"},
            "table": {"type": "object"},
            "members": {"type": "integer"}, "outgoing": {"type": "integer"}, "incoming": {"type": "integer"},
            "in_province": {"type": "integer"}, "out_of_province": {"type": "integer"},
            "by_province": _COUNTS, "age_band": _COUNTS, "education": _COUNTS, "gender": _COUNTS,
            "duration": _COUNTS, "trend": {"type": "array", "items": {"type": "object"}}}}),
            "400": _ERR, "401": _ERR, "404": _ERR}}},
}
